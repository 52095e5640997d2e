"""Reading an Akismet request: the form body in its charset, and typed parameters.

Akismet's bodies are ``application/x-www-form-urlencoded`` in the charset the Content-Type
names (the WordPress plugin sends ``charset=<blog charset>``); without one, ``blog_charset``
decides, else UTF-8. Percent-escapes are first decoded to Latin-1 (a lossless byte view) and
re-decoded once the charset is known. A charset must be a text encoding Python knows, and
not one of the codecs that are no charset of web forms (punycode, idna, the escape codecs,
``undefined``): those are refused with ``invalid`` before anything is decoded.
"""

from __future__ import annotations

import codecs
import re
from typing import Any
from urllib.parse import parse_qsl

from ._limits import read_body

__all__ = ["Invalid", "parse_form", "single", "whole", "is_true"]

_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})
_CONTEXT_NAME = re.compile(r"^comment_context(\[\d*\])?$")
_MAX_FIELDS = 1000
# Codecs Python has that no form is written in: some raise on anything (undefined), some take
# time quadratic in the text (punycode), some turn text into other text (the escape codecs).
_NOT_CHARSETS = frozenset({"punycode", "idna", "undefined", "unicode-escape", "raw-unicode-escape"})


class Invalid(Exception):
    """The request gets ``invalid`` with this debug help."""

    def __init__(self, debug_help: str) -> None:
        self.debug_help = debug_help
        super().__init__(debug_help)


def parse_form(environ: dict[str, Any], max_body_bytes: int) -> dict[str, str | list[str]]:
    """The query string and form body as one dict; ``comment_context[]`` (however spelled) as a list.

    Raises :class:`Invalid` for a body that is not form-encoded or not in its charset, and
    :class:`BodyTooLarge` beyond ``max_body_bytes``.
    """
    charset: str | None = None
    body = ""
    if environ.get("REQUEST_METHOD") == "POST":
        mime, charset = _content_type(environ.get("CONTENT_TYPE") or "")
        raw = read_body(environ, max_body_bytes)
        if raw and mime not in ("", "application/x-www-form-urlencoded"):
            raise Invalid(
                f"Send the parameters form-encoded (Content-Type: application/x-www-form-urlencoded), not {mime}."
            )
        body = raw.decode("latin-1")  # lossless: decoded properly below, once the charset is known
    try:
        pairs = parse_qsl(
            environ.get("QUERY_STRING") or "", keep_blank_values=True, encoding="latin-1",
            max_num_fields=_MAX_FIELDS,
        )
        pairs += parse_qsl(body, keep_blank_values=True, encoding="latin-1", max_num_fields=_MAX_FIELDS)
    except ValueError:
        raise Invalid(f"Too many parameters: at most {_MAX_FIELDS} are accepted.") from None
    if charset is None:
        given = [v for k, v in pairs if k == "blog_charset"]
        charset = given[-1].strip() if given and given[-1].strip() else "utf-8"
    charset = _check_charset(charset)
    params: dict[str, str | list[str]] = {}
    context: list[str] = []
    for raw_name, raw_value in pairs:
        name = _decode(raw_name, charset, "a parameter name")
        value = _decode(raw_value, charset, f"the parameter {name!r}")
        if _CONTEXT_NAME.match(name):
            context.append(value)
        else:
            params[name] = value
    if context:
        params["comment_context[]"] = context
    return params


def _content_type(value: str) -> tuple[str, str | None]:
    mime, _, rest = value.partition(";")
    charset = None
    for part in rest.split(";"):
        name, _, val = part.partition("=")
        if name.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip('"')
    return mime.strip().lower(), charset


def _check_charset(charset: str) -> str:
    """The name of a text codec for ``charset``; :class:`Invalid` for anything else."""
    shown = charset[:40]
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):  # ValueError: a name with NUL in it
        raise Invalid(f"Unknown charset {shown!r}: send UTF-8, or name a charset Python knows.") from None
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        raise Invalid(f"{shown!r} is not a charset forms are written in: send UTF-8.")
    return info.name


def _decode(text: str, charset: str, what: str) -> str:
    try:
        return text.encode("latin-1").decode(charset)
    except LookupError:  # pragma: no cover - _check_charset looked it up
        raise Invalid(f"Unknown charset {charset!r}: send UTF-8, or name a charset Python knows.") from None
    except UnicodeError:
        raise Invalid(f"{what[0].upper()}{what[1:]} is not valid {charset} text.") from None


def single(params: dict[str, str | list[str]], name: str) -> str | None:
    """One parameter's value (the last, if it was sent several times), or None."""
    value = params.get(name)
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def whole(params: dict[str, str | list[str]], name: str, default: int, low: int, high: int) -> int:
    """A whole-number parameter within [low, high]; ``default`` when absent; else :class:`Invalid`."""
    raw = single(params, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be a whole number from {low} to {high}, got {raw!r}.") from None
    if not low <= value <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}, got {raw!r}.")
    return value


def is_true(value: str | list[str] | None) -> bool:
    """A flag such as ``is_test``: set unless absent, empty, ``0``, ``false``, ``no`` or ``off``."""
    if value is None:
        return False
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip().lower() not in _FALSE_WORDS


