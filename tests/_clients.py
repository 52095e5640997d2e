"""Both Akismet clients behind one face, so a test written once runs against each transport.

``Clients("requests")`` makes :class:`~spamguard.AkismetClient`\\ s; ``Clients("httpx")`` makes
:class:`~spamguard.AsyncAkismetClient`\\ s wrapped in :class:`Blocking`, which runs each awaited
method to completion on one event loop kept for the test. The tests that share this cannot
drift apart: the same lines check both.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Coroutine
from typing import Any, TypeVar

from spamguard import AkismetClient
from spamguard.akismet import AkismetConfig

TRANSPORTS = ("requests", "httpx")
T = TypeVar("T")


class Loop:
    """One event loop for a test: ``run(coro)`` drives a coroutine to its end on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


class Blocking:
    """An :class:`~spamguard.AsyncAkismetClient` called like the blocking client: every coroutine
    method runs to completion on ``loop``; other attributes (``config``) pass through."""

    def __init__(self, client: Any, loop: Loop) -> None:
        self.client = client
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.client, name)
        if inspect.iscoroutinefunction(value):

            @functools.wraps(value)
            def blocking(*args: Any, **kwargs: Any) -> Any:
                return self._loop.run(value(*args, **kwargs))

            return blocking
        return value

    def __repr__(self) -> str:
        return repr(self.client)

    def close(self) -> None:
        self._loop.run(self.client.aclose())

    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Clients:
    """Makes clients of one transport with the blocking client's signatures; closes them at :meth:`close`."""

    def __init__(self, transport: str) -> None:
        assert transport in TRANSPORTS
        self.transport = transport
        self.loop = Loop()
        self._made: list[Any] = []

    @property
    def cls(self) -> Any:
        """The client class of this transport."""
        if self.transport == "requests":
            return AkismetClient
        from spamguard import AsyncAkismetClient

        return AsyncAkismetClient

    def _keep(self, client: Any) -> Any:
        wrapped = client if self.transport == "requests" else Blocking(client, self.loop)
        self._made.append(wrapped)
        return wrapped

    def __call__(self, api_key: str, blog: str, **options: Any) -> Any:
        return self._keep(self.cls(api_key, blog, **options))

    def from_env(self, **overrides: Any) -> Any:
        return self._keep(self.cls.from_env(**overrides))

    def from_config(self, config: AkismetConfig, **options: Any) -> Any:
        return self._keep(self.cls.from_config(config, **options))

    def close(self) -> None:
        for client in self._made:
            client.close()
        self.loop.close()
