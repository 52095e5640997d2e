"""spamguard: keep comment spam off web sites.

An Akismet-compatible client and a local scikit-learn model behind one
:class:`Classifier` interface.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .akismet import AkismetClient, akismet_configured
from .classifier import AsyncClassifier, Classifier
from .comment import Comment
from .errors import (
    BackendConnectionError,
    BackendResponseError,
    BackendTimeoutError,
    BackendUnavailableError,
    CheckpointError,
    ConfigurationError,
    FeedbackBusyError,
    FeedbackStoreError,
    InvalidCommentError,
    InvalidKeyError,
    InvalidNoticeSettingError,
    InvalidOptionError,
    InvalidRequestError,
    KeyStoreError,
    ModelIntegrityError,
    OutputError,
    SpamGuardError,
    TooManyRejectsError,
    UnsafeXMLError,
)
from .feedback import FeedbackStore
from .guard import Guard
from .local import LocalModel
from .policy import HONEYPOT_REASON, Policy
from .verdict import Action, Source, Verdict

if TYPE_CHECKING:
    from .akismet import AsyncAkismetClient as AsyncAkismetClient  # the explicit re-export form: typed, not in __all__

try:
    __version__ = version("spamguard")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    """``spamguard.AsyncAkismetClient``: imported (with httpx) on first use, so ``import spamguard``
    works without the ``async`` extra."""
    if name == "AsyncAkismetClient":
        from . import akismet

        value = akismet.AsyncAkismetClient
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# AsyncAkismetClient is public too, but left out of __all__: it needs the optional httpx, and
# `from spamguard import *` must work without it.
__all__ = [
    "Action",
    "AkismetClient",
    "AsyncClassifier",
    "BackendConnectionError",
    "BackendResponseError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "CheckpointError",
    "Classifier",
    "Comment",
    "ConfigurationError",
    "FeedbackBusyError",
    "FeedbackStore",
    "FeedbackStoreError",
    "Guard",
    "InvalidCommentError",
    "InvalidKeyError",
    "InvalidNoticeSettingError",
    "InvalidOptionError",
    "InvalidRequestError",
    "KeyStoreError",
    "LocalModel",
    "ModelIntegrityError",
    "OutputError",
    "HONEYPOT_REASON",
    "Policy",
    "Source",
    "SpamGuardError",
    "TooManyRejectsError",
    "UnsafeXMLError",
    "Verdict",
    "__version__",
    "akismet_configured",
]
