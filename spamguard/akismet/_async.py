"""The Akismet client over ``httpx.AsyncClient``: :class:`AsyncAkismetClient` (``pip install 'spamguard[async]'``).

The same protocol (``protocol``), calls (``_calls``), retries and errors (``_retry``) and
configuration (:class:`~spamguard.akismet.AkismetConfig`) as :class:`~spamguard.AkismetClient`;
only the I/O differs: pooled ``httpx.AsyncClient`` connections, ``await`` instead of blocking,
``asyncio.sleep`` between attempts.

**The pool.** httpcore 1.0's connection pool does work quadratic in its number of connections
on every request, and more again for each request waiting in it (encode/httpcore#1035): a
burst of 200 calls over one 100-connection pool cost 5-8 ms of CPU a call, against about
1.5 ms over small pools. So ``pool_size`` connections are spread over ``httpx.AsyncClient`` clients
of :data:`SHARD_SIZE` connections each (:class:`_Connections`), and a call takes a free
connection before it reaches httpx: no request ever queues inside httpcore.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, TypeVar

import httpx

from ..comment import Comment
from ..errors import ConfigurationError
from ..verdict import Verdict
from . import _calls, protocol
from ._config import DEFAULT_BACKOFF, DEFAULT_BASE_URL, DEFAULT_RETRIES, DEFAULT_TIMEOUT, AkismetConfig
from ._retry import Attempts, Failure
from .protocol import KeySites, UsageLimit, mask_key, scrub_key

__all__ = ["AsyncAkismetClient"]

T = TypeVar("T")

DEFAULT_POOL_SIZE = 100
"""Connections one async client keeps open at most (httpx's own default), so calls in flight at once."""
SHARD_SIZE = 10
"""Connections per ``httpx.AsyncClient`` inside one async client (see the module docstring)."""


class _KeyFilter(logging.Filter):
    """Masks the keys of every async client in httpx's and httpcore's own log records.

    httpcore logs each answer's headers at DEBUG, so a service that echoes the key back (in
    ``X-akismet-debug-help``, say) would put it in the application's logs; requests' urllib3
    logs no headers, so only this transport needs it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self._lock = threading.Lock()

    def add(self, key: str) -> None:
        with self._lock:
            self.keys.add(key)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = text
        for key in tuple(self.keys):
            clean = scrub_key(clean, key)
        if clean != text:
            record.msg, record.args = clean, None
        return True


_KEYS = _KeyFilter()
# A filter on a logger sees only the records logged on that very logger, so each one is named.
for _name in ("httpx", "httpcore.connection", "httpcore.connection_pool", "httpcore.http11", "httpcore.http2",
              "httpcore.proxy", "httpcore.socks"):
    logging.getLogger(_name).addFilter(_KEYS)


def _failure(exc: httpx.HTTPError) -> Failure:
    """What an ``httpx`` exception means, in ``_retry``'s terms (as ``_client`` does for ``requests``)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return Failure.CONNECT_TIMEOUT
    if isinstance(exc, httpx.PoolTimeout):
        return Failure.POOL_TIMEOUT
    if isinstance(exc, httpx.TimeoutException):  # read or write
        return Failure.READ_TIMEOUT
    # refused, reset, closed before the answer, DNS, TLS, proxy (requests calls these ConnectionError)
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)):
        return Failure.CONNECT
    if isinstance(exc, (httpx.DecodingError, httpx.TooManyRedirects)):
        return Failure.BROKEN_ANSWER
    return Failure.REQUEST_FAILED


def _timeout(config: AkismetConfig) -> httpx.Timeout:
    connect, read = config.timeout
    # Waiting for a free pooled connection is bounded like connecting; sending like reading.
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


class _Connections:
    """``size`` connection slots over one or more ``httpx.AsyncClient`` clients; a call holds one slot.

    The slots are a FIFO queue of client indexes, one entry per connection, so a client never
    has more calls in flight than connections and callers are served in arrival order.
    """

    def __init__(self, clients: list[tuple[httpx.AsyncClient, int]], *, owned: bool) -> None:
        self.clients = [client for client, _ in clients]
        self.owned = owned
        self.size = sum(n for _, n in clients)
        self._free: asyncio.Queue[int] = asyncio.Queue()
        for index, (_, n) in enumerate(clients):
            for _ in range(n):
                self._free.put_nowait(index)

    @classmethod
    def made(cls, size: int, timeout: httpx.Timeout) -> _Connections:
        """``size`` connections in clients of :data:`SHARD_SIZE` (the last may be smaller)."""
        shards = []
        tls = httpx.create_ssl_context()  # one for all (50 ms to make; SSL_CERT_FILE/_DIR honoured)
        for start in range(0, size, SHARD_SIZE):
            n = min(SHARD_SIZE, size - start)
            limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
            shards.append((httpx.AsyncClient(limits=limits, timeout=timeout, verify=tls), n))
        return cls(shards, owned=True)

    @contextlib.asynccontextmanager
    async def slot(self, wait: float) -> AsyncIterator[httpx.AsyncClient]:
        """A client with a free connection, held for the block; ``httpx.PoolTimeout`` after ``wait`` seconds."""
        if not self._free.empty():  # the usual case, without wait_for's task
            index = self._free.get_nowait()
        else:
            try:
                index = await asyncio.wait_for(self._free.get(), wait)
            except asyncio.TimeoutError:
                raise httpx.PoolTimeout(f"all {self.size} connections stayed busy for {wait:g} s") from None
        try:
            yield self.clients[index]
        finally:
            self._free.put_nowait(index)

    async def aclose(self) -> None:
        if self.owned:
            for client in self.clients:
                await client.aclose()


class AsyncAkismetClient:
    """An asyncio client of Akismet, or of any service speaking its protocol, on ``httpx``.

    Everything :class:`~spamguard.AkismetClient` does, awaited: :meth:`verify_key`,
    :meth:`comment_check` (:meth:`check`), :meth:`check_many`, :meth:`submit_spam`,
    :meth:`submit_ham`, :meth:`usage_limit`, :meth:`key_sites`, with the same arguments, the
    same :class:`~spamguard.akismet.AkismetConfig` (:meth:`from_config`, :meth:`from_env`), the
    same errors, retries, backoff and timeouts, and the key masked in reprs, logs and errors.
    Needs ``pip install 'spamguard[async]'`` (httpx).

    ``pool_size`` is how many calls may be in flight at once, each on its own connection (more
    wait their turn, up to the connect timeout); the connections are pooled, and proxies come
    from the usual environment variables. ``http_client`` lets you pass your own
    ``httpx.AsyncClient`` instead (proxies, certificates, event hooks; this client's timeouts
    still apply per request); give it at least ``pool_size`` connections.
    Close it with ``async with AsyncAkismetClient(...) as client:`` or ``await client.aclose()``
    (a client you passed in stays open). Use it from one event loop: its pooled connections
    belong to the loop that opened them::

        async with AsyncAkismetClient(KEY, "https://blog.example/") as client:
            verdict = await client.check(comment)
    """

    def __init__(
        self,
        api_key: str,
        blog: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        user_agent: str | None = None,
        is_test: bool = False,
        http_client: httpx.AsyncClient | None = None,
        backoff: float = DEFAULT_BACKOFF,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        config = AkismetConfig(
            api_key=api_key,
            blog=blog,
            base_url=base_url,
            timeout=timeout,  # the converter takes seconds or a pair
            retries=retries,
            backoff=backoff,
            user_agent=user_agent,
            is_test=is_test,
        )
        self._connect(config, http_client, pool_size)

    def _connect(self, config: AkismetConfig, http_client: httpx.AsyncClient | None, pool_size: int) -> None:
        if not isinstance(pool_size, int) or isinstance(pool_size, bool) or pool_size < 1:
            raise ConfigurationError(f"pool_size must be a whole number >= 1, got {pool_size!r}")
        self.config = config
        _KEYS.add(config.api_key)
        if http_client is None:
            self._connections = _Connections.made(pool_size, _timeout(config))
        else:
            self._connections = _Connections([(http_client, pool_size)], owned=False)
        self._pool_size = pool_size

    @classmethod
    def from_config(
        cls, config: AkismetConfig, *, http_client: httpx.AsyncClient | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> AsyncAkismetClient:
        """A client for an :class:`~spamguard.akismet.AkismetConfig` you already have (``http_client``
        and ``pool_size`` as in the constructor)."""
        if not isinstance(config, AkismetConfig):
            raise TypeError(f"from_config() takes an AkismetConfig, got {type(config).__name__}")
        client = cls.__new__(cls)
        client._connect(config, http_client, pool_size)
        return client

    @classmethod
    def from_env(cls, **overrides: Any) -> AsyncAkismetClient:
        """A client configured from ``SPAMGUARD_*`` environment variables, as
        :meth:`AkismetClient.from_env <spamguard.AkismetClient.from_env>`; keyword arguments
        override them, ``http_client`` and ``pool_size`` go to the client."""
        options = {name: overrides.pop(name) for name in ("http_client", "pool_size") if name in overrides}
        return cls.from_config(AkismetConfig.from_env(**overrides), **options)

    def __repr__(self) -> str:
        c = self.config
        return f"AsyncAkismetClient(api_key={mask_key(c.api_key)!r}, blog={c.blog!r}, base_url={c.base_url!r})"

    # --- lifecycle ----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the pooled connections (not those of an ``http_client`` you passed in)."""
        await self._connections.aclose()

    async def __aenter__(self) -> AsyncAkismetClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- the API ------------------------------------------------------------------------

    async def verify_key(self) -> bool:
        """True when the service accepts the key for ``blog``; False when it says ``invalid``."""
        return await self._send(_calls.verify_key(self.config))

    async def comment_check(self, comment: Comment) -> Verdict:
        """Ask whether ``comment`` is spam; the :class:`~spamguard.Verdict` has ``source="akismet"``."""
        return await self._send(_calls.comment_check(self.config, comment))

    check = comment_check

    async def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        """Check comments concurrently (at most ``pool_size`` at a time); verdicts in input order.

        The first failure is raised once every started check has finished.
        """
        if isinstance(comments, (str, Comment)):
            raise TypeError("check_many() takes an iterable of Comment objects; use check() for one comment")
        limit = asyncio.Semaphore(self._pool_size)

        async def one(comment: Comment) -> Verdict:
            async with limit:
                return await self.comment_check(comment)

        results = await asyncio.gather(*(one(c) for c in comments), return_exceptions=True)
        verdicts: list[Verdict] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            verdicts.append(result)
        return verdicts

    async def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report spam Akismet missed (or confirm spam); send the original ``verdict`` when you have it."""
        await self._send(_calls.submit(self.config, protocol.SUBMIT_SPAM, comment, verdict))

    async def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report a comment wrongly held as spam (a false positive); send the original ``verdict``."""
        await self._send(_calls.submit(self.config, protocol.SUBMIT_HAM, comment, verdict))

    async def usage_limit(self) -> UsageLimit:
        """This month's API calls against the key's plan limit (``/1.2/usage-limit``)."""
        return await self._send(_calls.usage_limit(self.config))

    async def key_sites(
        self,
        month: str | None = None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        order: str | None = None,
        filter: str | None = None,  # noqa: A002 - Akismet's parameter name
    ) -> KeySites:
        """The sites using the key and their activity (``/1.2/key-sites``); ``month`` is ``YYYY-MM``."""
        return await self._send(_calls.key_sites(self.config, month, limit=limit, offset=offset, order=order,
                                                 filter=filter))

    async def _send(self, call: _calls.Call[T]) -> T:
        return call.read(*await self._request(call.endpoint, call.fields))

    async def _request(
        self, endpoint: str, fields: Mapping[str, str | list[str]]
    ) -> tuple[int, Mapping[str, str], str]:
        """POST ``fields`` to ``endpoint``; (status, headers, body) of a non-5xx answer.

        ``_retry.Attempts`` decides what is retried and which error a failure becomes; this
        method only sends and sleeps.
        """
        c = self.config
        url = c.url(endpoint)
        headers = {"User-Agent": c.user_agent_header()}
        timeout = _timeout(c)
        attempts = Attempts(c, endpoint)
        for attempt in attempts.numbers():
            started = time.monotonic()
            pause: float | None
            try:
                async with self._connections.slot(wait=c.timeout[0]) as http:
                    response = await http.post(url, data=fields, headers=headers, timeout=timeout)
                    body = response.text
            except httpx.HTTPError as exc:
                pause = attempts.after_failure(attempt, _failure(exc), exc)
            else:
                pause = attempts.after_answer(attempt, response.status_code, time.monotonic() - started)
                if pause is None:
                    return response.status_code, response.headers, body
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises
