"""The one test of "an absolute http(s) URL" that comments, settings and requests share."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_http_url(value: str) -> bool:
    """True for an absolute ``http://`` or ``https://`` URL with a host.

    Text that ``urlsplit`` cannot read at all (``http://[not-an-ipv6``) is simply not one,
    so callers raise their own error naming the field instead of a bare ``ValueError``.
    """
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
