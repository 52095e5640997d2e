"""The Akismet API's calls, with no I/O: what each method sends, and which protocol function reads the answer.

Shared by both clients (``_client`` over ``requests``, ``_async`` over ``httpx``): a transport
POSTs a :class:`Call`'s ``fields`` to its ``endpoint`` (through ``_retry``'s attempts) and
hands the answer to ``call.read``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

import attrs

from ..comment import Comment
from ..verdict import Verdict
from . import protocol
from ._config import AkismetConfig
from .protocol import KeySites, UsageLimit

__all__ = ["Call", "comment_check", "key_sites", "submit", "usage_limit", "verify_key"]

T = TypeVar("T")


@attrs.frozen
class Call(Generic[T]):
    """One API call: POST ``fields`` to ``endpoint``; ``read(status, headers, body)`` is its result."""

    endpoint: str
    fields: Mapping[str, str | list[str]]
    read: Callable[[int, Mapping[str, str], str], T]


def verify_key(config: AkismetConfig) -> Call[bool]:
    """verify-key: True when the key is valid for the site."""
    return Call(protocol.VERIFY_KEY, protocol.verify_key_fields(config),
                lambda status, headers, body: protocol.parse_verify(status, headers, body, config))


def comment_check(config: AkismetConfig, comment: Comment) -> Call[Verdict]:
    """comment-check (raises :class:`~spamguard.InvalidCommentError` before anything is sent when
    the comment has no ``user_ip``)."""
    return Call(protocol.COMMENT_CHECK, protocol.comment_fields(comment, config),
                lambda status, headers, body: protocol.parse_check(status, headers, body, config))


def submit(config: AkismetConfig, endpoint: str, comment: Comment, verdict: Verdict | None) -> Call[None]:
    """submit-spam or submit-ham, with the original verdict when known."""
    return Call(endpoint, protocol.submit_fields(comment, config, verdict),
                lambda status, headers, body: protocol.parse_submit(endpoint, status, headers, body, config))


def usage_limit(config: AkismetConfig) -> Call[UsageLimit]:
    """usage-limit."""
    return Call(protocol.USAGE_LIMIT, protocol.usage_limit_fields(config),
                lambda status, headers, body: protocol.parse_usage_limit(status, headers, body, config))


def key_sites(
    config: AkismetConfig, month: str | None, *, limit: int | None, offset: int | None, order: str | None,
    filter: str | None,  # noqa: A002 - Akismet's parameter name
) -> Call[KeySites]:
    """key-sites (JSON)."""
    fields = protocol.key_sites_fields(config, month, limit=limit, offset=offset, order=order, filter=filter)
    return Call(protocol.KEY_SITES, fields,
                lambda status, headers, body: protocol.parse_key_sites(status, headers, body, config))
