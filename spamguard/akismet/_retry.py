"""When an Akismet call is tried again, how long it waits, and which error a failure becomes; no I/O.

Both clients (:class:`~spamguard.AkismetClient` over ``requests`` in ``_client``,
:class:`~spamguard.AsyncAkismetClient` over ``httpx`` in ``_async``) keep only their I/O: they
send a call (``_calls``), name what went wrong as a :class:`Failure`, and ask
:class:`Attempts` what to do next:

* **the retries**: connection errors (a connect timeout among them) and 5xx answers are tried
  again ``retries`` times after :meth:`AkismetConfig.retry_delay
  <spamguard.akismet.AkismetConfig.retry_delay>`; a read timeout is not (the service may be
  working on it), nor is a broken answer, nor ``invalid``;
* **the errors**: which :class:`~spamguard.BackendUnavailableError` a failure becomes
  (timeout, connection or response), its text, and its cause, all with the key masked, even
  where the transport's own exception quotes the URL or the request body.
"""

from __future__ import annotations

import enum
import logging
from typing import NoReturn
from urllib.parse import quote_plus

import attrs

from ..errors import BackendConnectionError, BackendResponseError, BackendTimeoutError, BackendUnavailableError
from ._config import AkismetConfig
from .protocol import scrub_key

__all__ = ["Attempts", "Failure"]

log = logging.getLogger("spamguard.akismet")


class Failure(enum.Enum):
    """What went wrong with one attempt, as a transport names it from its own exception."""

    CONNECT = "could not connect"
    """No connection, or it broke before an answer came (refused, reset, DNS, TLS, proxy): retried."""
    CONNECT_TIMEOUT = "connect timed out"
    """Connecting took longer than the connect timeout: retried."""
    READ_TIMEOUT = "read timed out"
    """Connected, but no answer within the read timeout: not retried (the service may be working on it)."""
    POOL_TIMEOUT = "pool timed out"
    """Every pooled connection stayed busy for the connect timeout (a client's own limit): not retried."""
    BROKEN_ANSWER = "broken answer"
    """An answer came but could not be read (bad encoding, endless redirects): not retried."""
    REQUEST_FAILED = "request failed"
    """Any other failure of the transport: not retried."""


_RETRIED = (Failure.CONNECT, Failure.CONNECT_TIMEOUT)


def _sanitized(exc: BaseException, key: str) -> BaseException:
    """The exception itself, or a copy of the same type whose message has the key masked."""
    text = str(exc)
    if key not in text and quote_plus(key) not in text and quote_plus(key, safe="") not in text:
        return exc
    clean = scrub_key(text, key)
    try:
        copy = type(exc)(clean)
    except Exception:  # an exception type with an unusual constructor
        copy = RuntimeError(f"{type(exc).__name__}: {clean}")
    return copy


@attrs.frozen
class Attempts:
    """The attempts of one call to ``endpoint``: ``config.retries + 1`` at most.

    A transport loops over :meth:`numbers` and, after each attempt, asks :meth:`after_failure`
    or :meth:`after_answer` what to do: sleep the seconds returned and try again, keep the
    answer (``None``), or let the :class:`~spamguard.BackendUnavailableError` raised go up.
    """

    config: AkismetConfig
    endpoint: str

    @property
    def total(self) -> int:
        """How many attempts the call may make."""
        return self.config.retries + 1

    def numbers(self) -> range:
        """The attempt numbers, from 1."""
        return range(1, self.total + 1)

    def after_failure(self, attempt: int, failure: Failure, exc: BaseException) -> float:
        """Seconds to wait before trying again after a failed attempt; raises the call's error when
        the failure is not retried or this was the last attempt."""
        c = self.config
        if failure in _RETRIED and attempt < self.total:
            return self._pause(attempt, f"{failure.value} ({type(exc).__name__})")
        if failure is Failure.CONNECT_TIMEOUT:
            self._fail(BackendTimeoutError, f"connect timed out to {c.base_url} after {attempt} attempt(s)", exc)
        if failure is Failure.CONNECT:
            self._fail(BackendConnectionError, f"could not connect to {c.base_url} after {attempt} attempt(s)", exc)
        if failure is Failure.READ_TIMEOUT:
            self._fail(BackendTimeoutError, f"no answer from {c.base_url} within {c.timeout[1]:g} s", exc)
        if failure is Failure.POOL_TIMEOUT:
            self._fail(BackendTimeoutError,
                       f"no free connection to {c.base_url} within {c.timeout[0]:g} s (all pooled connections busy)",
                       exc)
        if failure is Failure.BROKEN_ANSWER:
            self._fail(BackendResponseError, f"{c.base_url} sent a broken answer ({type(exc).__name__})", exc)
        self._fail(BackendConnectionError, f"the request to {c.base_url} failed ({type(exc).__name__})", exc)

    def after_answer(self, attempt: int, status: int, elapsed: float) -> float | None:
        """``None`` when the answer stands (the protocol reads it, 4xx included); seconds to wait
        before trying a 5xx again; raises :class:`~spamguard.BackendResponseError` after the last."""
        log.debug("akismet %s -> HTTP %s in %.0f ms (attempt %d)", self.endpoint, status, 1000 * elapsed, attempt)
        if status < 500:
            return None
        if attempt < self.total:
            return self._pause(attempt, f"HTTP {status}")
        raise BackendResponseError(
            f"Akismet {self.endpoint} failed: {self.config.base_url} answered HTTP {status} after {attempt} attempt(s)"
        )

    def _pause(self, attempt: int, why: str) -> float:
        delay = self.config.retry_delay(attempt)
        log.info("akismet %s: %s; retrying in %.2f s", self.endpoint, why, delay)
        return delay

    def _fail(self, failed: type[BackendUnavailableError], message: str, exc: BaseException) -> NoReturn:
        """Raise ``failed`` for a transport failure, with the key masked in its text and in its cause."""
        key = self.config.api_key
        cause = _sanitized(exc, key)
        text = scrub_key(f"Akismet {self.endpoint} failed: {message}", key)
        log.info("%s", text)  # the exception carries it; callers decide how loud to be
        raise failed(text, cause=cause) from cause
