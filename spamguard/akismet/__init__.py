"""The Akismet clients: :class:`AkismetClient` speaks the Akismet protocol over ``requests``,
:class:`AsyncAkismetClient` over ``httpx`` for asyncio (``pip install 'spamguard[async]'``).

Three parts, as in every well-kept service client:

* :class:`AkismetConfig`: how to reach the service (key, site, base URL, timeouts, retries);
* :mod:`spamguard.akismet.protocol`: the protocol itself as names and pure functions (what
  each call sends, what each answer means), written once and shared with the
  Akismet-compatible server (:mod:`spamguard.server`) and the test server
  (:mod:`spamguard.testing`);
* :class:`AkismetClient`: the transport, a pooled ``requests`` session; or
  :class:`AsyncAkismetClient`, a pooled ``httpx.AsyncClient``, imported on first use so that
  ``import spamguard`` never needs httpx.

The answers of the account calls are :class:`UsageLimit` and :class:`KeySites` (rows of
:class:`SiteActivity`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from ._async import AsyncAkismetClient as AsyncAkismetClient  # the explicit re-export form: typed, not in __all__

# AsyncAkismetClient is public too, but left out of __all__: it needs the optional httpx, and
# `from spamguard.akismet import *` must work without it.
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


def __getattr__(name: str) -> Any:
    """Import :class:`AsyncAkismetClient` (and httpx) on first use."""
    if name == "AsyncAkismetClient":
        try:
            module = importlib.import_module("._async", __name__)
        except ImportError as exc:
            if exc.name != "httpx":
                raise
            raise ImportError(
                "AsyncAkismetClient needs httpx, which is not installed: pip install 'spamguard[async]'",
                name="httpx",
            ) from exc
        value = module.AsyncAkismetClient
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
