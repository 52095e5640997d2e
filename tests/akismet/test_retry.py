"""The retry and error decisions both Akismet transports share (spamguard.akismet._retry), with no network.

The clients' tests check the same decisions over real HTTP for the failures a loopback server can
produce; here every failure kind is covered, those a loopback server cannot produce included.
"""

from __future__ import annotations

import logging

import pytest

from spamguard import BackendConnectionError, BackendResponseError, BackendTimeoutError
from spamguard.akismet import AkismetConfig
from spamguard.akismet._retry import Attempts, Failure

KEY = "sk-retry-0123456789abcdef"
CONFIG = AkismetConfig(api_key=KEY, blog="https://blog.example/", base_url="http://127.0.0.1:9",
                       timeout=(1.5, 4.0), retries=2, backoff=0.1)

# kind -> (retried before the last attempt, the error it ends as, words of the message)
OUTCOMES = {
    Failure.CONNECT: (True, BackendConnectionError, "could not connect to http://127.0.0.1:9 after 3 attempt(s)"),
    Failure.CONNECT_TIMEOUT: (True, BackendTimeoutError, "connect timed out to http://127.0.0.1:9 after 3 attempt(s)"),
    Failure.READ_TIMEOUT: (False, BackendTimeoutError, "no answer from http://127.0.0.1:9 within 4 s"),
    Failure.POOL_TIMEOUT: (False, BackendTimeoutError,
                           "no free connection to http://127.0.0.1:9 within 1.5 s (all pooled connections busy)"),
    Failure.BROKEN_ANSWER: (False, BackendResponseError, "http://127.0.0.1:9 sent a broken answer (OSError)"),
    Failure.REQUEST_FAILED: (False, BackendConnectionError, "the request to http://127.0.0.1:9 failed (OSError)"),
}


def test_every_failure_kind_is_decided() -> None:
    """The table above covers every Failure kind."""
    assert set(OUTCOMES) == set(Failure)


@pytest.mark.parametrize("failure", list(Failure), ids=lambda f: f.name)
def test_failure_retried_or_raised(failure: Failure) -> None:
    """A retried failure gives a jittered, doubling pause until the last attempt, then its error;
    the others raise at once. The error's cause is the transport's exception, key masked."""
    retried, error, message = OUTCOMES[failure]
    attempts = Attempts(CONFIG, "comment-check")
    exc = OSError(f"POST with api_key={KEY} failed")
    if retried:
        pauses = [attempts.after_failure(n, failure, exc) for n in (1, 2)]
        assert 0.05 <= pauses[0] <= 0.1 and 0.1 <= pauses[1] <= 0.2
        last = 3
    else:
        last = 1
    with pytest.raises(error) as info:
        attempts.after_failure(last, failure, exc)
    assert type(info.value) is error
    assert str(info.value) == f"Akismet comment-check failed: {message}"
    assert str(info.value.cause) == "POST with api_key=***cdef failed" and info.value.__cause__ is info.value.cause


def test_answers_stand_below_500_and_5xx_are_retried() -> None:
    """2xx-4xx answers go to the protocol; a 5xx is retried, and after the last attempt is a BackendResponseError."""
    attempts = Attempts(AkismetConfig(api_key=KEY, blog="https://blog.example/", retries=1), "verify-key")
    assert [attempts.after_answer(1, status, 0.01) for status in (200, 403, 404)] == [None, None, None]
    assert attempts.after_answer(1, 503, 0.01) is not None
    with pytest.raises(BackendResponseError, match="answered HTTP 503 after 2 attempt"):
        attempts.after_answer(2, 503, 0.01)


def test_retries_are_logged_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    """Each retry is logged at INFO with the reason, and the final error too, never with the key."""
    caplog.set_level(logging.DEBUG, logger="spamguard")
    attempts = Attempts(CONFIG, "submit-ham")
    exc = ConnectionResetError(f"reset while sending key={KEY}")
    attempts.after_failure(1, Failure.CONNECT, exc)
    with pytest.raises(BackendConnectionError):
        attempts.after_failure(3, Failure.CONNECT, exc)
    assert "akismet submit-ham: could not connect (ConnectionResetError); retrying in" in caplog.text
    assert KEY not in caplog.text


def test_an_exception_that_cannot_be_copied_is_still_masked() -> None:
    """A transport exception whose constructor wants more than a message becomes a RuntimeError naming it."""

    class Picky(Exception):
        def __init__(self, message: str, code: int) -> None:
            super().__init__(message)
            self.code = code

    with pytest.raises(BackendConnectionError) as info:
        Attempts(CONFIG, "verify-key").after_failure(1, Failure.REQUEST_FAILED, Picky(f"key {KEY}", 7))
    assert str(info.value.cause) == "Picky: key ***cdef"
