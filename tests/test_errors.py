"""The exception tree: one root, every error exported, each saying in one line when it is raised."""

from __future__ import annotations

import pytest

import spamguard
from spamguard import errors


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_is_public_and_documented(name: str) -> None:
    """Each error is importable from spamguard, derives from SpamGuardError and has a one-line docstring."""
    error = getattr(errors, name)
    assert getattr(spamguard, name) is error and name in spamguard.__all__
    assert issubclass(error, spamguard.SpamGuardError)
    doc = error.__doc__ or ""
    assert doc.strip() and "\n" not in doc.strip()


def test_backend_failures_say_what_failed() -> None:
    """Timeouts, connection failures and bad answers are all BackendUnavailableError, told apart by type."""
    kinds = (spamguard.BackendTimeoutError, spamguard.BackendConnectionError, spamguard.BackendResponseError)
    assert all(issubclass(kind, spamguard.BackendUnavailableError) for kind in kinds)
    assert not any(issubclass(a, b) for a in kinds for b in kinds if a is not b)
    error = spamguard.BackendTimeoutError("no answer within 2 s", cause=TimeoutError())
    assert isinstance(error.cause, TimeoutError) and str(error) == "no answer within 2 s"
