"""The Guard's blocking and asyncio paths behind one face, so an outage test written once checks both.

``"sync"``: the Guard itself, called with ``check`` / ``report_*`` (and from threads).
``"async"``: :class:`AsyncFace`, whose ``check`` / ``report_*`` run ``acheck`` / ``areport_*`` to
completion on one event loop kept for the test, and whose :func:`hammer` runs tasks instead of
threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from _clients import Loop

from spamguard import Comment, Guard, Verdict

FLAVORS = ("sync", "async")

Result = tuple[str, bool, "str | None"]


class AsyncFace:
    """A Guard used through its asyncio methods, called like the blocking Guard (other attributes pass through)."""

    def __init__(self, guard: Guard, loop: Loop) -> None:
        self.guard = guard
        self.loop = loop

    def check(self, comment: Comment) -> Verdict:
        return self.loop.run(self.guard.acheck(comment))

    def report_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        self.loop.run(self.guard.areport_spam(comment, verdict))

    def report_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        self.loop.run(self.guard.areport_ham(comment, verdict))

    def close(self) -> None:
        self.loop.run(self.guard.aclose())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.guard, name)


def hammer(guard: Any, comments: list[Comment], rounds: int, workers: int = 16) -> list[list[Result]]:
    """``workers`` callers at once, each checking ``comments`` ``rounds`` times: threads for a Guard,
    tasks on the face's loop for an :class:`AsyncFace`; each caller's (source, spam, fallback_reason)."""
    results: list[list[Result]] = [[] for _ in range(workers)]

    def note(i: int, v: Verdict) -> None:
        results[i].append((v.source, v.spam, v.fallback_reason))

    if isinstance(guard, AsyncFace):

        async def task(i: int) -> None:
            for _ in range(rounds):
                for c in comments:
                    note(i, await guard.guard.acheck(c))

        async def all_at_once() -> None:
            await asyncio.gather(*(task(i) for i in range(workers)))

        guard.loop.run(all_at_once())
        return results

    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(rounds):
                for c in comments:
                    note(i, guard.check(c))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return results


class Guards:
    """Makes Guards of one flavor (closing them at :meth:`close`): ``guards(remote_factory, local, **options)``."""

    def __init__(self, flavor: str) -> None:
        assert flavor in FLAVORS
        self.flavor = flavor
        self.loop = Loop()
        self._made: list[Any] = []
        self._remotes: list[Any] = []

    def __call__(self, remote: Callable[[str], Any] | None, local: Any, **options: Any) -> Any:
        """``remote(flavor)`` makes the remote for this flavor (a blocking or an async client)."""
        made = remote(self.flavor) if remote is not None else None
        if made is not None:
            self._remotes.append(made)
        if self.flavor == "sync":
            face: Any = Guard(made, local, **options)
        else:
            face = AsyncFace(Guard(local=local, aremote=made, **options), self.loop)
        self._made.append(face)
        return face

    def close(self) -> None:
        for face in self._made:
            face.close()
        for remote in self._remotes:
            if hasattr(remote, "aclose"):
                self.loop.run(remote.aclose())
            elif hasattr(remote, "close"):
                remote.close()
        self.loop.close()
