"""What a feedback row may keep of personal data: the rules, the same for every backend.

:func:`scrubbed` takes a comment as :func:`comment_to_dict` gives it and returns it with no IP
or e-mail address outside the comment text and the author's name: identifying headers dropped,
every other string scanned (``spamguard._addresses``) and its addresses replaced by a stand-in
the caller makes from its keyed hash. The key and the hashing live in the store.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from typing import Any

import attrs

from .. import _addresses
from .._addresses import PSEUDONYM_DOMAIN
from .._settings import is_http_url
from ..comment import MAX_FIELD_CHARS, Comment

PSEUDONYM_PREFIX = "h1:"
"""What starts a keyed hash in the ``author_email`` and ``user_ip`` columns (``h1:`` + HMAC-SHA256 hex)."""

StandIn = Callable[[str, str], str]
"""``(kind, address) -> stand-in``: what replaces an ``"email"`` or ``"ip"`` address inside a kept string."""

# Headers whose only job is to carry the visitor's address, identity or credentials: dropped whole
# from ``extra`` when pseudonymising (every other value is scanned for addresses instead).
_IDENTIFYING_HEADERS = frozenset(
    {
        "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_USER", "HTTP_FROM",
        "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED", "HTTP_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP",
        "HTTP_CLIENT_IP", "HTTP_X_CLIENT_IP", "HTTP_X_CLUSTER_CLIENT_IP", "HTTP_FASTLY_CLIENT_IP",
        "HTTP_X_ORIGINAL_FORWARDED_FOR", "HTTP_CF_CONNECTING_IP", "HTTP_CF_CONNECTING_IPV6", "HTTP_TRUE_CLIENT_IP",
        "HTTP_X_PROXYUSER_IP", "HTTP_X_ORIGINATING_IP", "HTTP_X_REMOTE_ADDR", "HTTP_X_REMOTE_IP",
        "HTTP_WL_PROXY_CLIENT_IP", "HTTP_PROXY_CLIENT_IP", "HTTP_X_ENVOY_EXTERNAL_ADDRESS", "HTTP_X_AZURE_CLIENTIP",
        "HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION",
    }
)
_NOT_HTTP_HEADERS = frozenset({"REMOTE_ADDR", "REMOTE_HOST", "REMOTE_USER"})
# Comment fields kept as written (what the model learns from) or that are not text.
_UNSCANNED = frozenset({"content", "author", "date", "post_modified",
                        "comment_content", "comment_author", "comment_date_gmt", "comment_post_modified_gmt"})
_URL_FIELDS = frozenset({"author_url", "referrer", "permalink"})
_MAX_EXTRA_KEY = 256


def comment_to_dict(comment: Comment) -> dict[str, Any]:
    """A comment as a JSON-ready dict of its set fields by short name (dates in ISO 8601)."""
    data: dict[str, Any] = {}
    for field in attrs.fields(Comment):
        value = getattr(comment, field.name)
        if value is None or (field.name in ("context", "extra") and not value):
            continue
        if isinstance(value, _dt.datetime):
            value = value.isoformat()
        elif field.name == "extra":
            value = dict(value)
        elif field.name == "context":
            value = list(value)
        data[field.name] = value
    return data


def stand_in_for(pseudonym: str, kind: str) -> str:
    """An address-shaped stand-in made of the first 16 hex digits of a pseudonym."""
    digest = pseudonym[len(PSEUDONYM_PREFIX):len(PSEUDONYM_PREFIX) + 16]
    return f"{digest}@{PSEUDONYM_DOMAIN}" if kind == "email" else f"ip-{digest}.{PSEUDONYM_DOMAIN}"


def scrubbed(data: dict[str, Any], stand_in: StandIn, author_email: str | None = None) -> dict[str, Any]:
    """``data`` (a comment as :func:`comment_to_dict` gives it) with no address outside the text and the author.

    Identifying headers are dropped; every other string is scanned and its addresses replaced
    by ``stand_in``; a value that no longer fits its field (too long, no longer an http URL) is
    dropped. ``author_email`` as given is replaced wherever it appears, even where it is not
    shaped like an address the scan finds.
    """
    given = author_email.strip() if author_email and "@" in author_email else None
    given_pattern = re.compile(re.escape(given), re.IGNORECASE) if given else None

    def scrub(value: str) -> str:
        if given_pattern is not None and given is not None:
            value = given_pattern.sub(lambda _: stand_in("email", given), value)
        return _addresses.replace_addresses(value, stand_in)

    def fits(value: Any) -> bool:
        return not isinstance(value, str) or len(value) <= MAX_FIELD_CHARS

    out: dict[str, Any] = {}
    for name, value in data.items():
        if name in _UNSCANNED:
            out[name] = value
        elif name == "extra" and isinstance(value, dict):
            extra = {}
            for key, item in value.items():
                if _header_key(key) in _IDENTIFYING_HEADERS:
                    continue
                key, item = scrub(key), _deep(item, scrub)
                if len(key) <= _MAX_EXTRA_KEY and fits(item):
                    extra[key] = item
            if extra:
                out[name] = extra
        elif isinstance(value, list):  # context
            items = [item for item in (_deep(v, scrub) for v in value) if fits(item)]
            if items:
                out[name] = items
        else:
            value = _deep(value, scrub)
            if fits(value) and (name not in _URL_FIELDS or is_http_url(value)):
                out[name] = value
    honeypot = out.get("honeypot_field_name")
    if honeypot is None:
        out.pop("honeypot_value", None)
    elif honeypot in out.get("extra", {}):
        del out["extra"][honeypot]
    return out


def _deep(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` with ``scrub`` applied to every string in it (lists and mappings of an old row included)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_deep(item, scrub) for item in value]
    if isinstance(value, dict):
        return {scrub(str(key)): _deep(item, scrub) for key, item in value.items()}
    return value


def _header_key(name: str) -> str:
    """A header's WSGI name: ``X-Client-IP`` and ``HTTP_X_CLIENT_IP`` are both ``HTTP_X_CLIENT_IP``."""
    key = name.strip().upper().replace("-", "_")
    return key if key.startswith("HTTP_") or key in _NOT_HTTP_HEADERS else f"HTTP_{key}"
