"""Request limits: the body size, a per-key token bucket, and failed key attempts per client address.

The two counted limits have an interface each (:class:`Limiter`, :class:`FailureLimit`) and two
implementations: here, counted in this process's memory (the keys file's store); in
``_postgres.py``, shared by every server on one PostgreSQL store.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["BodyTooLarge", "FailureLimit", "Limiter", "RateLimiter", "KeyFailures", "read_body", "retry_after"]


class Limiter(Protocol):
    """A per-key rate limit."""

    rate: float
    burst: float

    def acquire(self, key: str) -> float:
        """Take one request's allowance for ``key``: 0.0 when allowed, else the seconds until one is free."""
        ...


class FailureLimit(Protocol):
    """At most ``limit`` failed key attempts per client address in any ``window`` seconds."""

    limit: int
    window: float

    def wait(self, address: str) -> float:
        """Seconds until ``address`` may try a key again (0.0 when it may now)."""
        ...

    def failed(self, address: str) -> bool:
        """Count one failed attempt; True when this one used up the address's allowance (worth a log line)."""
        ...


def retry_after(wait: float) -> int:
    """A wait in seconds as a ``Retry-After`` value (whole seconds, at least 1)."""
    return max(1, math.ceil(wait))


class BodyTooLarge(Exception):
    """The request body is longer than the server accepts (answered with 413)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the request body is larger than {limit:,} bytes")


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes before and while reading it."""
    raw_length = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(raw_length) if raw_length.strip() else None
    except ValueError:
        length = None
    if length is not None and length < 0:
        length = None
    if length is not None and length > limit:
        raise BodyTooLarge(limit)
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""  # PEP 3333: without a length the stream must not be read past the end
    wanted = length if length is not None else limit + 1
    chunks = []
    got = 0
    while got < wanted:
        chunk = stream.read(min(65536, wanted - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
        if got > limit:
            raise BodyTooLarge(limit)
    return b"".join(chunks)


class RateLimiter:
    """A token bucket per key: ``rate`` requests a second on average, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive (requests per second), got {rate!r}")
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, 2 * self.rate)
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1 request, got {burst!r}")
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > 10_000:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled (idle keys), so open mode cannot grow this without bound."""
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]


class KeyFailures:
    """Failed key attempts per client address: at most ``limit`` in any ``window`` seconds.

    What keeps a 12-character key (48 bits) from being guessed through the service: at the
    default 10 a minute, one address needs millions of years to try a useful share of the keys.
    :meth:`wait` says how long an address must wait before its next attempt (0.0: it may try
    now); :meth:`failed` counts one failure. Addresses are forgotten once their window is empty;
    at most ``max_addresses`` are tracked (the oldest dropped first).
    """

    def __init__(self, limit: int = 10, window: float = 60.0, *, max_addresses: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1 failed attempt, got {limit!r}")
        if window <= 0:
            raise ValueError(f"window must be positive (seconds), got {window!r}")
        self.limit = limit
        self.window = float(window)
        self.max_addresses = max_addresses
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, address: str) -> float:
        """Seconds until ``address`` may try a key again (0.0 when it may now)."""
        now = self._clock()
        with self._lock:
            times = self._failures.get(address)
            if times is None:
                return 0.0
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self._failures[address]
                return 0.0
            if len(times) < self.limit:
                return 0.0
            return times[0] + self.window - now

    def failed(self, address: str) -> bool:
        """Count one failed attempt; True when this one used up the address's allowance (worth a log line)."""
        now = self._clock()
        with self._lock:
            times = self._failures.get(address)
            if times is None:
                times = self._failures[address] = deque()
                while len(self._failures) > self.max_addresses:
                    self._failures.popitem(last=False)
            self._failures.move_to_end(address)
            while times and times[0] <= now - self.window:
                times.popleft()
            times.append(now)
            while len(times) > self.limit:
                times.popleft()
            return len(times) == self.limit
