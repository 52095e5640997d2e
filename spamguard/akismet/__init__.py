"""The Akismet client: :class:`AkismetClient` speaks the Akismet protocol over ``requests``.

A package so that the protocol (what is sent and what comes back) can be shared with the
Akismet-compatible server and ``spamguard.testing`` rather than written again there.
"""

from __future__ import annotations

from ._client import (
    BLOG_ENV,
    DEFAULT_BACKOFF,
    DEFAULT_BASE_URL,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    KEY_ENV,
    THANKS,
    TIMEOUT_ENV,
    URL_ENV,
    AkismetClient,
    AkismetConfig,
    KeySites,
    SiteActivity,
    UsageLimit,
    akismet_configured,
    comment_fields,
    mask_key,
    parse_check,
    parse_key_sites,
    parse_submit,
    parse_usage_limit,
    parse_verify,
    raise_for_invalid,
)

__all__ = [
    "AkismetClient",
    "AkismetConfig",
    "BLOG_ENV",
    "DEFAULT_BACKOFF",
    "DEFAULT_BASE_URL",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "KEY_ENV",
    "KeySites",
    "SiteActivity",
    "THANKS",
    "TIMEOUT_ENV",
    "URL_ENV",
    "UsageLimit",
    "akismet_configured",
    "comment_fields",
    "mask_key",
    "parse_check",
    "parse_key_sites",
    "parse_submit",
    "parse_usage_limit",
    "parse_verify",
    "raise_for_invalid",
]
