"""A small reader of ``.po`` files and writer of ``.mo`` bytes, for source checkouts.

Wheels carry ``.mo`` files compiled by Babel at build time (see ``_build.py`` and
``setup.py``). A checkout used without building (``PYTHONPATH=.``, or an editable install
whose build step did not run) has only the ``.po`` sources; :func:`compile_po` turns one into
``.mo`` bytes in memory so the runtime still goes through :class:`gettext.GNUTranslations`.
It understands what gettext catalogs use: header, comments, ``#, fuzzy`` (skipped),
``msgctxt``, ``msgid_plural`` with ``msgstr[N]``, and continued strings.
"""

from __future__ import annotations

import ast
import struct

__all__ = ["PoSyntaxError", "parse_po", "compile_po"]

# (msgctxt or None, msgid, msgid_plural or None) -> msgstr forms
Entry = tuple[tuple[str | None, str, str | None], list[str]]


class PoSyntaxError(ValueError):
    """Raised when a ``.po`` file cannot be read; names the file and line."""


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise PoSyntaxError(f"{where}: expected a quoted string, got {text!r}")
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError) as exc:
        raise PoSyntaxError(f"{where}: bad string {text!r}: {exc}") from None
    if not isinstance(value, str):  # pragma: no cover - a quoted literal is always a str
        raise PoSyntaxError(f"{where}: bad string {text!r}")
    return value


def parse_po(text: str, name: str = "<po>") -> list[Entry]:
    """The translated entries of a ``.po`` file (header included, fuzzy and empty ones left out)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    fuzzy = False
    current: str | None = None

    def flush() -> None:
        nonlocal fuzzy
        if "msgid" in fields:
            forms = [fields[k] for k in sorted(fields, key=_form_index) if k.startswith("msgstr")]
            is_header = fields["msgid"] == "" and "msgctxt" not in fields
            if forms and any(forms) and (not fuzzy or is_header):
                key = (fields.get("msgctxt"), fields["msgid"], fields.get("msgid_plural"))
                entries.append((key, forms))
        fields.clear()
        fuzzy = False

    for number, raw in enumerate(text.splitlines(), start=1):
        where = f"{name}:{number}"
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if current is not None and current.startswith("msgstr"):
                flush()
                current = None
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        if line.startswith('"'):
            if current is None:
                raise PoSyntaxError(f"{where}: a string with no keyword before it")
            fields[current] += _unquote(line, where)
            continue
        keyword, _, rest = line.partition(" ")
        base = keyword.split("[", 1)[0]
        if base not in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            raise PoSyntaxError(f"{where}: unknown keyword {keyword!r}")
        if base in ("msgctxt", "msgid") and current is not None and current.startswith("msgstr"):
            flush()
        if keyword in fields:
            raise PoSyntaxError(f"{where}: {keyword} given twice in one entry")
        fields[keyword] = _unquote(rest, where)
        current = keyword
    flush()
    return entries


def _form_index(key: str) -> int:
    return int(key[7:-1]) if key.startswith("msgstr[") else 0


def compile_po(text: str, name: str = "<po>") -> bytes:
    """The ``.mo`` bytes (GNU format, little-endian) of a ``.po`` file's text."""
    messages: dict[bytes, bytes] = {}
    for (context, msgid, plural), forms in parse_po(text, name):
        original = msgid if plural is None else f"{msgid}\0{plural}"
        if context is not None:
            original = f"{context}\x04{original}"
        messages[original.encode("utf-8")] = "\0".join(forms).encode("utf-8")
    keys = sorted(messages)
    count = len(keys)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8
    original_table: list[int] = []
    translation_table: list[int] = []
    data = bytearray()
    for key in keys:
        original_table += [len(key), data_at + len(data)]
        data += key + b"\0"
    for key in keys:
        value = messages[key]
        translation_table += [len(value), data_at + len(data)]
        data += value + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, data_at)
    tables = struct.pack(f"<{4 * count}I", *original_table, *translation_table)
    return header + tables + bytes(data)
