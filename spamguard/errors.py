"""One exception tree for everything spamguard raises, rooted at :class:`SpamGuardError`."""

from __future__ import annotations

__all__ = [
    "SpamGuardError",
    "InvalidCommentError",
    "ConfigurationError",
    "InvalidKeyError",
    "InvalidRequestError",
    "BackendUnavailableError",
    "BackendTimeoutError",
    "BackendConnectionError",
    "BackendResponseError",
    "KeyStoreError",
    "FeedbackStoreError",
    "FeedbackBusyError",
    "ModelIntegrityError",
    "InvalidNoticeSettingError",
    "UnsafeXMLError",
    "TooManyRejectsError",
    "CheckpointError",
    "InvalidOptionError",
    "OutputError",
]


class SpamGuardError(Exception):
    """Base class of every error spamguard raises; catch it to catch them all."""


class InvalidCommentError(SpamGuardError, ValueError):
    """Raised when a comment field holds a value spamguard cannot accept."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ConfigurationError(SpamGuardError):
    """Raised when spamguard is set up wrongly: a missing key, a bad URL, a bad setting."""


class InvalidKeyError(ConfigurationError):
    """Raised when the spam service says the API key (or the key/site pair) is not valid."""


class InvalidRequestError(SpamGuardError):
    """Raised when the spam service answers ``invalid`` for a reason other than the key."""

    def __init__(self, message: str, debug_help: str | None = None) -> None:
        self.debug_help = debug_help
        super().__init__(message)


class BackendUnavailableError(SpamGuardError):
    """Raised when a backend cannot give an answer; its subclasses say why (catch this one for all of them)."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        self.cause = cause
        super().__init__(message)


class BackendTimeoutError(BackendUnavailableError):
    """Raised when a backend did not connect or answer within its timeout."""


class BackendConnectionError(BackendUnavailableError):
    """Raised when a backend could not be reached: connection refused or reset, DNS, TLS, proxy."""


class BackendResponseError(BackendUnavailableError):
    """Raised when a backend answered, but not with a protocol answer: HTTP 5xx or another error status, or garbage."""


class KeyStoreError(ConfigurationError):
    """Raised when the server's keys file cannot be read or written, or has no such key."""


class FeedbackStoreError(ConfigurationError):
    """Raised when a file cannot serve as the feedback store: not one, a newer schema, another secret, unwritable."""


class FeedbackBusyError(SpamGuardError):
    """Raised when an erasure could not finish because another connection holds the feedback store; retry it."""

    def __init__(self, message: str, erased: int = 0) -> None:
        self.erased = erased
        super().__init__(message)


class InvalidNoticeSettingError(SpamGuardError, ValueError):
    """Raised when a data-processing notice is asked for with a bad setting (an unsafe URL, say)."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}")


class ModelIntegrityError(SpamGuardError):
    """Raised when a model file does not match its manifest (or has none), so it is not loaded."""


class UnsafeXMLError(SpamGuardError, ValueError):
    """Raised when an XML dump declares entities or refers to external ones; they are refused, never expanded."""


class TooManyRejectsError(SpamGuardError):
    """Raised when a batch run rejects more records than its ``max_rejects`` allows."""


class CheckpointError(SpamGuardError):
    """Raised when a batch run cannot resume: a missing, unreadable or mismatched checkpoint."""


class InvalidOptionError(SpamGuardError, ValueError):
    """Raised when a function is given an option it cannot use (an unknown backend, a bad count): a usage error."""


class OutputError(SpamGuardError, OSError):
    """Raised when a batch run cannot write its output, rejects file or checkpoint: no such directory, a full disk."""
