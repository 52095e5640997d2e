"""The :class:`Comment`: one visitor comment, validated once, immutable afterwards.

Field names are Akismet's parameters with short names (``content`` for
``comment_content`` and so on); :meth:`Comment.from_mapping` takes either spelling and
:meth:`Comment.to_akismet` gives the form fields Akismet expects.

The longest ``content`` accepted is, from the narrowest setting to the widest:
``Comment.from_mapping(..., max_content_chars=N)`` for that call; inside a
:func:`comment_limits` block, that block's limit (per thread and per asyncio task, so one
request's setting never leaks into another's); otherwise the process-wide limit,
``SPAMGUARD_MAX_CONTENT_CHARS`` or :data:`DEFAULT_MAX_CONTENT_CHARS`, which the settings
module reads once, when the first comment is checked, and keeps: a comment that was valid in
a process stays valid in it.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import ipaddress
import re
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from . import _settings
from ._settings import is_http_url
from .errors import InvalidCommentError

__all__ = ["Comment", "comment_limits", "DEFAULT_MAX_CONTENT_CHARS", "FIELD_NAMES", "MAX_FIELD_CHARS"]

DEFAULT_MAX_CONTENT_CHARS = 65_536
"""Longest ``content`` accepted unless configured (WordPress stores at most 65,525)."""
MAX_FIELD_CHARS = 8_192
"""Longest value accepted in any other field (names, URLs, user agents, extra parameters)."""
MAX_EXTRA_FIELDS = 256
"""Most extra parameters one comment may carry."""


_max_content: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "spamguard_max_content_chars", default=None
)


@contextlib.contextmanager
def comment_limits(*, max_content_chars: int) -> Iterator[None]:
    """Accept comments up to ``max_content_chars`` characters inside the ``with`` block.

    Outside any block the limit is the process-wide one: ``SPAMGUARD_MAX_CONTENT_CHARS``
    from the environment, read once per process when the first comment is checked (set it
    before that), else :data:`DEFAULT_MAX_CONTENT_CHARS`. The block's setting is per thread
    and per asyncio task; blocks nest, the innermost wins.
    """
    if max_content_chars <= 0:
        raise ValueError(f"max_content_chars must be positive, got {max_content_chars!r}")
    token = _max_content.set(max_content_chars)
    try:
        yield
    finally:
        _max_content.reset(token)


def _current_max_content() -> int:
    """The limit in force: the innermost ``comment_limits`` block's, else the process-wide one."""
    value = _max_content.get()
    return value if value is not None else _settings.process_max_content_chars(DEFAULT_MAX_CONTENT_CHARS)


# --- validators -------------------------------------------------------------------------

# Shortcuts that only ever accept what the full checks accept (anything else takes the full check):
# an IPv4 dotted quad without leading zeros, and an http(s) URL whose host is plain printable ASCII
# (no brackets, blanks or control characters), which urlsplit reads as scheme http(s) with that netloc.
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_PLAIN_HTTP_URL = re.compile(r"https?://[\x21\x22\x24-\x2e\x30-\x3e\x40-\x5a\x5c\x5e-\x7e]+(?=[/?#]|\Z)")


def _text(name: str, value: Any, limit: int) -> None:
    if not isinstance(value, str):
        raise InvalidCommentError(name, f"must be text (str), got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidCommentError(
            name, f"is {len(value):,} characters long; the limit is {limit:,}"
        )


def _content_validator(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    limit = _current_max_content()
    if isinstance(value, bytes):
        raise InvalidCommentError(
            "content", "must be text (str), got bytes: decode it first (for example value.decode('utf-8'))"
        )
    _text("content", value, limit)


def _optional_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _text(attribute.name, value, MAX_FIELD_CHARS)


def _ip_validator(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    _text("user_ip", value, 64)
    if _IPV4.fullmatch(value) is not None:
        return  # a dotted quad: accepted by ip_address too, found without it
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise InvalidCommentError(
            "user_ip", f"{value!r} is not an IPv4 or IPv6 address"
        ) from None


def _url_validator(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    _text(attribute.name, value, MAX_FIELD_CHARS)
    if _PLAIN_HTTP_URL.match(value) is not None:
        return
    if not is_http_url(value):
        raise InvalidCommentError(
            attribute.name, f"{value!r} is not an http(s) URL; only http:// and https:// are accepted"
        )


def _date_validator(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, _dt.datetime):
        raise InvalidCommentError(attribute.name, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidCommentError(
            attribute.name,
            f"{value.isoformat()!r} has no time zone; give a timezone-aware datetime "
            "(for example with tzinfo=datetime.timezone.utc)",
        )
    try:
        value.astimezone(_dt.timezone.utc)
    except OverflowError:
        raise InvalidCommentError(
            attribute.name, f"{value.isoformat()!r} is out of range once converted to UTC"
        ) from None


def _context_validator(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for item in value:
        _text("context", item, MAX_FIELD_CHARS)


def _extra_validator(instance: Any, attribute: attrs.Attribute[Any], value: Mapping[str, Any]) -> None:
    if len(value) > MAX_EXTRA_FIELDS:
        raise InvalidCommentError(
            "extra", f"has {len(value)} parameters; the limit is {MAX_EXTRA_FIELDS}"
        )
    for key, item in value.items():
        _text("extra", key, 256)
        if not key:
            raise InvalidCommentError("extra", "has an empty parameter name")
        if key in _RESERVED:
            raise InvalidCommentError(
                "extra", f"key {key!r} is a comment field; pass it as that field, not in extra"
            )
        _text(f"extra[{key!r}]", item, MAX_FIELD_CHARS)


# --- converters -------------------------------------------------------------------------


def _to_context(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    return (value,)  # the validator names the wrong type


def _to_extra(value: Any) -> Mapping[str, str]:
    if value is None:
        return types.MappingProxyType({})
    if not isinstance(value, Mapping):
        raise InvalidCommentError("extra", f"must be a mapping of names to text, got {type(value).__name__}")
    return types.MappingProxyType(dict(value))


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


def _to_type(value: Any) -> Any:
    return "comment" if value is None or value == "" else value


def _to_parent(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # the validator rejects it
    if isinstance(value, int):
        return str(value)
    return _empty_to_none(value)


def _mapping_eq(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    return dict(a) == dict(b)


@attrs.frozen(kw_only=True, repr=False)
class Comment:
    """One comment to judge, with the data Akismet's comment-check takes.

    Every value is checked when the comment is made and a bad one raises
    :class:`~spamguard.InvalidCommentError` naming the field. Only ``content`` is required;
    the more you give, the better both backends judge. Akismet itself needs ``user_ip``.
    """

    content: str = attrs.field(validator=_content_validator)
    author: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    author_email: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    author_url: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_url_validator)
    user_ip: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_ip_validator)
    user_agent: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    referrer: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_url_validator)
    permalink: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_url_validator)
    type: str = attrs.field(default="comment", converter=_to_type, validator=_optional_text)
    date: _dt.datetime | None = attrs.field(default=None, validator=_date_validator)
    post_modified: _dt.datetime | None = attrs.field(default=None, validator=_date_validator)
    parent: str | None = attrs.field(default=None, converter=_to_parent, validator=_optional_text)
    lang: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    charset: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    user_role: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    recheck_reason: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    honeypot_field_name: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    honeypot_value: str | None = attrs.field(default=None, converter=_empty_to_none, validator=_optional_text)
    context: tuple[str, ...] = attrs.field(default=(), converter=_to_context, validator=_context_validator)
    extra: Mapping[str, str] = attrs.field(
        factory=dict, converter=_to_extra, validator=_extra_validator,
        eq=attrs.cmp_using(eq=_mapping_eq), hash=False, repr=lambda m: repr(dict(m)),
    )

    def __attrs_post_init__(self) -> None:
        if self.honeypot_value is not None and self.honeypot_field_name is None:
            raise InvalidCommentError(
                "honeypot_value", "is set but honeypot_field_name is not; name the hidden field too"
            )
        if self.honeypot_field_name is not None and self.honeypot_field_name in _RESERVED:
            raise InvalidCommentError(
                "honeypot_field_name",
                f"{self.honeypot_field_name!r} is an Akismet parameter; choose another field name",
            )
        if self.honeypot_field_name is not None and self.honeypot_field_name in self.extra:
            raise InvalidCommentError(
                "honeypot_field_name",
                f"{self.honeypot_field_name!r} is also a key of extra; the honeypot value is sent under "
                "that name, so choose another field name",
            )

    @property
    def honeypot_filled(self) -> bool:
        """True when the hidden honeypot field came back with something in it (a bot)."""
        return bool(self.honeypot_value and self.honeypot_value.strip())

    # --- conversion ---------------------------------------------------------------------

    def to_akismet(self) -> dict[str, str | list[str]]:
        """The comment as Akismet form fields (without ``api_key``, ``blog`` or ``is_test``).

        ``comment_context[]`` is a list (sent repeated), dates are ISO 8601 in UTC and the
        honeypot value is sent under the honeypot field's own name.
        """
        fields: dict[str, str | list[str]] = {}
        for short, wire in _SHORT_TO_WIRE.items():
            value = getattr(self, short)
            if value is None:
                continue
            if isinstance(value, _dt.datetime):
                value = _format_date(value)
            fields[wire] = value
        if self.context:
            fields["comment_context[]"] = list(self.context)
        if self.honeypot_field_name is not None:
            fields["honeypot_field_name"] = self.honeypot_field_name
            fields[self.honeypot_field_name] = self.honeypot_value or ""
        for key, item in self.extra.items():
            fields.setdefault(key, item)
        return fields

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, max_content_chars: int | None = None
    ) -> Comment:
        """Build a comment from a dict with Akismet names or short names (or both).

        Keys that are neither go to ``extra``; ``api_key``, ``blog`` and ``is_test`` are
        request parameters, not comment data, and are dropped. Dates may be ISO 8601 text.
        """
        if type(data) is not dict and not isinstance(data, Mapping):
            raise InvalidCommentError("comment", f"must be a mapping of fields, got {type(data).__name__}")
        extra: dict[str, Any] = {}
        given_extra = data.get("extra")
        if given_extra is not None:
            if not isinstance(given_extra, Mapping):
                raise InvalidCommentError("extra", f"must be a mapping, got {type(given_extra).__name__}")
            extra.update(given_extra)
        # Short names only (each its own short name, so no doubles) need no look-up.
        kwargs = dict(data) if data.keys() <= _SHORT_NAMES else _by_short_name(data, extra)
        for name in ("date", "post_modified"):
            if isinstance(kwargs.get(name), str):
                kwargs[name] = _parse_date(name, kwargs[name])
        if "content" not in kwargs:
            raise InvalidCommentError("content", "is missing (give 'content' or 'comment_content')")
        if "type" in kwargs and kwargs["type"] in (None, ""):
            del kwargs["type"]
        if extra:
            kwargs["extra"] = extra
        if cls is Comment and (max_content_chars is None or max_content_chars > 0):
            built = _build_checked(
                kwargs, max_content_chars if max_content_chars is not None else _current_max_content()
            )
            if built is not None:
                return built
        try:
            if max_content_chars is not None:
                with comment_limits(max_content_chars=max_content_chars):
                    return cls(**kwargs)
            return cls(**kwargs)
        except TypeError as exc:  # a wrong type attrs caught before our validators
            raise InvalidCommentError("comment", str(exc)) from exc

    def __repr__(self) -> str:
        shown = []
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if field.name != "content" and value == field.default:
                continue
            if field.name == "extra":
                if not value:
                    continue
                value = dict(value)
            if field.name == "content" and len(value) > 60:
                value = value[:57] + "..."
            shown.append(f"{field.name}={value!r}")
        return f"Comment({', '.join(shown)})"

    def replace(self, **changes: Any) -> Comment:
        """A copy with some fields changed (validated again)."""
        return attrs.evolve(self, **changes)


# --- names ------------------------------------------------------------------------------

_SHORT_TO_WIRE = {
    "content": "comment_content",
    "author": "comment_author",
    "author_email": "comment_author_email",
    "author_url": "comment_author_url",
    "user_ip": "user_ip",
    "user_agent": "user_agent",
    "referrer": "referrer",
    "permalink": "permalink",
    "type": "comment_type",
    "date": "comment_date_gmt",
    "post_modified": "comment_post_modified_gmt",
    "parent": "comment_parent",
    "lang": "blog_lang",
    "charset": "blog_charset",
    "user_role": "user_role",
    "recheck_reason": "recheck_reason",
}
_WIRE_TO_SHORT = {wire: short for short, wire in _SHORT_TO_WIRE.items()}
_WIRE_TO_SHORT.update(
    {
        "comment_context[]": "context",
        "comment_context": "context",
        "honeypot_field_name": "honeypot_field_name",
        "referer": "referrer",
    }
)
_SHORT_NAMES = frozenset(a.name for a in attrs.fields(Comment)) - {"extra"}
FIELD_NAMES = frozenset(_WIRE_TO_SHORT) | _SHORT_NAMES | {"api_key", "blog", "is_test", "key"}
"""Every key :meth:`Comment.from_mapping` reads as something other than an extra parameter: the short
names, Akismet's names (and ``referer``, ``comment_context``), and the request parameters it drops."""
_REQUEST_ONLY = frozenset({"api_key", "key", "blog", "is_test", "comment_check_response"})
_RESERVED = FIELD_NAMES | {"extra", "comment_check_response"}
# from_mapping's one look-up: a key's short name, "" for keys it skips, missing for extra parameters.
_KEY_TO_SHORT = {**{name: name for name in _SHORT_NAMES}, **_WIRE_TO_SHORT, **dict.fromkeys(_REQUEST_ONLY, ""),
                 "extra": ""}


# --- building a comment without the attrs __init__ ------------------------------------------------
#
# Comment(**kwargs) runs a converter and a validator a field (about 40 calls). from_mapping,
# which batch runs call once a record, first tries _build_checked: one pass over the given fields,
# each through a quick check of its own that accepts only what the constructor accepts, gives the
# value the constructor would store, and otherwise answers _DEFER. Whenever a value is not plainly
# valid (wrong type, too long, a check failing) the whole build gives None and from_mapping calls
# Comment(**kwargs), so errors, and which error comes first, are exactly those of the constructor.
# tests/test_comment.py compares the two, and checks the slot layout the build relies on.

_DEFER: Any = object()
"""What a quick check answers when only the constructor can judge the value."""
_EMPTY_EXTRA: Mapping[str, str] = types.MappingProxyType({})


def _quick_text(value: Any, max_content: int) -> Any:
    if type(value) is not str or len(value) > MAX_FIELD_CHARS:
        return _DEFER
    return value or None


def _quick_url(value: Any, max_content: int) -> Any:
    if type(value) is not str or len(value) > MAX_FIELD_CHARS or (value and _PLAIN_HTTP_URL.match(value) is None):
        return _DEFER
    return value or None


def _quick_content(value: Any, max_content: int) -> Any:
    return value if type(value) is str and len(value) <= max_content else _DEFER


def _quick_ip(value: Any, max_content: int) -> Any:
    if type(value) is not str:
        return _DEFER
    if value and _IPV4.fullmatch(value) is None:
        if len(value) > 64:
            return _DEFER
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return _DEFER
    return value or None


def _quick_type(value: Any, max_content: int) -> Any:
    if type(value) is not str or len(value) > MAX_FIELD_CHARS:
        return _DEFER
    return value or "comment"


def _quick_date(value: Any, max_content: int) -> Any:
    if type(value) is not _dt.datetime or value.utcoffset() is None:
        return _DEFER  # text dates are parsed by from_mapping before this
    try:
        value.astimezone(_dt.timezone.utc)
    except OverflowError:
        return _DEFER
    return value


def _quick_parent(value: Any, max_content: int) -> Any:
    if type(value) is int and -(10**100) < value < 10**100:
        return str(value)
    return _quick_text(value, max_content)


def _quick_context(value: Any, max_content: int) -> Any:
    if type(value) is str:
        return (value,) if len(value) <= MAX_FIELD_CHARS else _DEFER
    if type(value) is not tuple and type(value) is not list:
        return _DEFER
    for item in value:
        if type(item) is not str or len(item) > MAX_FIELD_CHARS:
            return _DEFER
    return tuple(value)


def _quick_extra(value: Any, max_content: int) -> Any:
    if type(value) is not dict:
        return _DEFER
    if not value:
        return _EMPTY_EXTRA
    extra = types.MappingProxyType(dict(value))
    try:
        _extra_validator(None, None, extra)  # type: ignore[arg-type]
    except InvalidCommentError:
        return _DEFER
    return extra


# Each field's quick check, in field order; a field given as None takes its default (as the converters do).
_QUICK: dict[str, Any] = {
    "content": _quick_content, "author": _quick_text, "author_email": _quick_text, "author_url": _quick_url,
    "user_ip": _quick_ip, "user_agent": _quick_text, "referrer": _quick_url, "permalink": _quick_url,
    "type": _quick_type, "date": _quick_date, "post_modified": _quick_date, "parent": _quick_parent,
    "lang": _quick_text, "charset": _quick_text, "user_role": _quick_text, "recheck_reason": _quick_text,
    "honeypot_field_name": _quick_text, "honeypot_value": _quick_text, "context": _quick_context,
    "extra": _quick_extra,
}
_DEFAULTS: dict[str, Any] = {
    name: "comment" if name == "type" else () if name == "context" else _EMPTY_EXTRA if name == "extra" else None
    for name in _QUICK
}
_new_object = object.__new__


def _slot_setters() -> list[Any] | None:
    """The setters of Comment's slots in field order, when attrs laid the class out as the quick build
    expects: one plain slot a field (plus ``__weakref__``) and nothing else to set. Otherwise None, and
    from_mapping always takes the constructor (slower, never wrong); a test fails loudly in that case."""
    names = [a.name for a in attrs.fields(Comment)]
    if names != list(_QUICK) or Comment.__mro__ != (Comment, object):
        return None
    if set(getattr(Comment, "__slots__", ())) - {"__weakref__"} != set(names):
        return None
    slots = [Comment.__dict__.get(name) for name in names]
    if not all(isinstance(slot, types.MemberDescriptorType) for slot in slots):
        return None
    return [slot.__set__ for slot in slots]  # type: ignore[union-attr]


_SETTERS = _slot_setters()


def _build_checked(kwargs: dict[str, Any], max_content: int) -> Comment | None:
    """The Comment that ``Comment(**kwargs)`` makes, or None when that call is needed to judge it."""
    if "content" not in kwargs or _SETTERS is None:
        return None
    values = _DEFAULTS.copy()  # in field order, as _SETTERS
    quick_check, defer = _QUICK.get, _DEFER  # local names: this loop runs for every field of every record
    for name, value in kwargs.items():
        quick = quick_check(name)
        if quick is None:
            return None  # a name Comment does not take: its TypeError
        if value is None:
            if name == "content":
                return None
            continue  # None gives the field's default (None, "comment", (), no extra)
        value = quick(value, max_content)
        if value is defer:
            return None
        values[name] = value
    comment: Comment = _new_object(Comment)
    for setter, value in zip(_SETTERS, values.values(), strict=True):
        setter(comment, value)
    comment.__attrs_post_init__()  # every field is valid, so its errors are the constructor's too
    return comment


def _by_short_name(data: Mapping[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The comment fields of ``data`` under their short names; other keys go to ``extra`` as text."""
    honeypot_name = data.get("honeypot_field_name") or None
    kwargs: dict[str, Any] = {}
    lookup = _KEY_TO_SHORT  # a local name: this loop runs for every key of every record of a dump
    for key, value in data.items():
        short = lookup.get(key)
        if short is None:
            if honeypot_name is None or key != honeypot_name:
                extra[key] = _scalar_text(key, value)
                continue
            short = "honeypot_value"
        elif not short:
            continue  # "extra" (read already) or a request parameter
        if short in kwargs and kwargs[short] != value:
            raise InvalidCommentError(
                short, f"is given twice with different values ({kwargs[short]!r} and {value!r})"
            )
        kwargs[short] = value
    return kwargs


def _scalar_text(key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise InvalidCommentError(
        f"extra[{key!r}]", f"must be text or a number, got {type(value).__name__}"
    )


def _format_date(value: _dt.datetime) -> str:
    text = value.astimezone(_dt.timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def _parse_date(name: str, text: str) -> _dt.datetime | None:
    raw = text.strip()
    if not raw:
        return None
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = _dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidCommentError(name, f"{text!r} is not an ISO 8601 date and time") from None
    return value
