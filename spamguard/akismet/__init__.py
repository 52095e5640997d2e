"""The Akismet client: :class:`AkismetClient` speaks the Akismet protocol over ``requests``.

Three parts, as in every well-kept service client:

* :class:`AkismetConfig`: how to reach the service (key, site, base URL, timeouts, retries);
* :mod:`spamguard.akismet.protocol`: the protocol itself as names and pure functions (what
  each call sends, what each answer means), written once and shared with the
  Akismet-compatible server (:mod:`spamguard.server`) and the test server
  (:mod:`spamguard.testing`);
* :class:`AkismetClient`: the transport, a pooled ``requests`` session.

The answers of the account calls are :class:`UsageLimit` and :class:`KeySites` (rows of
:class:`SiteActivity`).
"""

from __future__ import annotations

from . import protocol
from ._client import AkismetClient
from ._config import (
    DEFAULT_BACKOFF,
    DEFAULT_BASE_URL,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    AkismetConfig,
    akismet_configured,
)
from .protocol import KeySites, SiteActivity, UsageLimit, mask_key

__all__ = [
    "AkismetClient",
    "AkismetConfig",
    "DEFAULT_BACKOFF",
    "DEFAULT_BASE_URL",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "KeySites",
    "SiteActivity",
    "UsageLimit",
    "akismet_configured",
    "mask_key",
    "protocol",
]
