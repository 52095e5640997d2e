"""spamguard: keep comment spam off web sites.

An Akismet-compatible client and a local scikit-learn model behind one
:class:`Classifier` interface.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from .akismet import AkismetClient, akismet_configured
from .classifier import Classifier
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
    SpamGuardError,
    TooManyRejectsError,
    UnsafeXMLError,
)
from .feedback import FeedbackStore
from .guard import Guard
from .local import LocalModel
from .policy import HONEYPOT_REASON, Policy
from .verdict import Action, Source, Verdict

try:
    __version__ = version("spamguard")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Action",
    "AkismetClient",
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
