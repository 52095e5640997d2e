"""Reading WordPress export files (WXR): the comments inside the posts, with their status.

A WXR file is the RSS-based XML that *Tools > Export* in WordPress writes. Each ``<item>``
(a post or page) carries its ``<link>`` and, for every comment on it, a ``<wp:comment>``
element with ``wp:comment_id``, ``wp:comment_author``, ``wp:comment_author_email``,
``wp:comment_author_url``, ``wp:comment_author_IP``, ``wp:comment_date_gmt``,
``wp:comment_content``, ``wp:comment_approved`` (``1``, ``0``, ``spam`` or ``trash``),
``wp:comment_type`` and ``wp:comment_parent``.

:func:`read_wxr` parses the file as a stream (memory stays flat however large it is) with
``defusedxml``'s protections: a file that declares entities (the "billion laughs" attack)
or refers to external ones (XXE) is refused with :class:`~spamguard.UnsafeXMLError`, never
expanded or fetched. A ``<wp:comment>`` that is not a usable comment (no content, a bad
address, bytes that are not UTF-8) becomes a :class:`~spamguard.dumps.Reject` with its line
number and the reason, and reading goes on.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import re
from collections.abc import Iterator
from typing import IO, Any

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from ..comment import Comment
from ..errors import SpamGuardError, UnsafeXMLError
from ._open import open_binary, source_name
from ._read import DumpFormatError
from ._records import Record, Reject

__all__ = ["read_wxr", "iter_raw_comments", "build_record", "WXR_STATUSES"]

WXR_STATUSES = {"1": "approved", "0": "hold", "spam": "spam", "trash": "trash", "post-trashed": "trash"}
"""``wp:comment_approved`` values and the status names spamguard gives them."""

_WP_NS = "http://wordpress.org/export/"
_BLOCK = 1 << 16
_SNIPPET = 200
_BAD = "\ufffd"
# Characters XML 1.0 does not allow; old WordPress databases hold some. They become U+FFFD so
# the comment that holds one is rejected instead of the whole file failing to parse.
_CONTROL = {c: _BAD for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]}
_NOT_FILE_ENCODINGS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})
"""Codecs Python has that no file is written in (they raise or run slowly on ordinary bytes)."""
_ENCODING_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_FIELDS = {
    "comment_id": "id",
    "comment_author": "author",
    "comment_author_email": "author_email",
    "comment_author_url": "author_url",
    "comment_author_IP": "user_ip",
    "comment_date_gmt": "date",
    "comment_content": "content",
    "comment_approved": "approved",
    "comment_type": "type",
    "comment_parent": "parent",
}


def read_wxr(path_or_file: Any, *, source: str | None = None) -> Iterator[Record | Reject]:
    """Yield the comments of a WordPress export in order: a Record for each usable one, a Reject otherwise.

    ``path_or_file`` is a path, ``"-"`` (standard input) or a binary file; gzip is undone.
    Each Record has the comment (the post's link as ``permalink``), ``id`` (the WordPress
    comment id), ``status`` (``approved``, ``hold``, ``spam`` or ``trash``) and ``label``
    (``True`` for spam, ``False`` for approved, ``None`` otherwise). Raises
    :class:`~spamguard.UnsafeXMLError` for entity declarations and external references and
    :class:`~spamguard.dumps.DumpFormatError` for XML that is not well-formed (after yielding
    everything before the fault).
    """
    name = source if source is not None else source_name(path_or_file)
    stream, head = open_binary(path_or_file)
    try:
        for item in _parse(stream, head, name):
            yield build_record(*item)
    finally:
        stream.close()


RawComment = tuple[int, int, dict[str, str], "str | None", str]
"""A ``<wp:comment>`` as read, before it is checked: position, line, fields, post link, source."""


def iter_raw_comments(path_or_file: Any, *, source: str | None = None) -> Iterator[RawComment]:
    """The comments of a WordPress export as plain values; :func:`build_record` makes each a Record or Reject.

    The batch engine parses the XML in one process and builds (and validates) the comments in
    its workers; this is the first half.
    """
    name = source if source is not None else source_name(path_or_file)
    stream, head = open_binary(path_or_file)
    try:
        yield from _parse(stream, head, name)
    finally:
        stream.close()


def _parse(stream: IO[bytes], head: bytes, source: str) -> Iterator[RawComment]:
    target = _Target(source)
    parser = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    target.expat = parser.parser
    decoder = _decoder(head, source)
    first = True
    while True:
        block = stream.read(_BLOCK)
        final = not block
        try:
            # Decoded here, whatever the encoding: expat reads text handed over as str as UTF-8, whatever
            # the file declares, and bytes it cannot decode become U+FFFD (the comment holding one is rejected).
            text = decoder.decode(block, final)
            if first and text:
                text = text.removeprefix("\ufeff")
                first = False
            if text:
                parser.feed(text.translate(_CONTROL))
            if final:
                parser.close()
        except DefusedXmlException as exc:
            yield from target.take()
            raise UnsafeXMLError(_unsafe_message(exc, source, parser.parser.CurrentLineNumber)) from None
        except ParseError as exc:
            yield from target.take()
            line, column = getattr(exc, "position", (parser.parser.CurrentLineNumber, 0))
            reason = str(exc).split(":", 1)[0]
            raise DumpFormatError(
                f"{source}:{line}:{column + 1}: the WordPress export is not well-formed XML ({reason}); "
                "the comments after this point could not be read. Export the site again, or repair the "
                "file at that place."
            ) from None
        yield from target.take()
        if final:
            if not target.seen_rss:
                raise DumpFormatError(
                    f"{source}: no WordPress export found: the file has no <rss> element "
                    "(is it a WXR file from Tools > Export?)"
                )
            return


def _decoder(head: bytes, source: str) -> codecs.IncrementalDecoder:
    """The decoder for the encoding the XML declaration names (UTF-8 without one)."""
    declared = _ENCODING_DECL.match(head.lstrip(b"\xef\xbb\xbf"))
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        info = codecs.lookup(encoding)
        b"<".decode(info.name, "replace")  # LookupError for codecs that do not turn bytes into text (hex, rot13)
    except (LookupError, UnicodeError):
        info = None
    if info is None or info.name in _NOT_FILE_ENCODINGS:
        raise DumpFormatError(
            f"{source}:1: the XML declaration names the encoding {encoding!r}, which is not a text encoding "
            "spamguard knows; WordPress writes UTF-8: correct the declaration, or export the site again"
        )
    return info.incrementaldecoder("replace")


def _unsafe_message(exc: DefusedXmlException, source: str, line: int) -> str:
    if isinstance(exc, EntitiesForbidden):
        what = f"declares the entity {exc.name!r}"
    elif isinstance(exc, ExternalReferenceForbidden):
        what = f"refers to an external resource ({exc.sysid!r})"
    elif isinstance(exc, DTDForbidden):
        what = f"declares a document type ({exc.name!r})"
    else:  # pragma: no cover - defusedxml's other errors are not raised by this parser
        what = str(exc)
    return (
        f"{source}:{line}: refused: the XML {what}. Entity declarations and external references are not "
        "read (they can expand without bound or read other files); WordPress exports never contain them."
    )


class _Target:
    """Parser target that keeps only the comment being read (and the post's link), never a tree."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.expat: Any = None
        self.seen_rss = False
        self._stack: list[str] = []
        self._out: list[RawComment] = []
        self._position = 0
        self._in_item = False
        self._link: str | None = None
        self._link_buf: list[str] | None = None
        self._comment: dict[str, str] | None = None
        self._comment_depth = 0
        self._comment_line = 0
        self._field: str | None = None
        self._buf: list[str] = []

    def take(self) -> list[RawComment]:
        out, self._out = self._out, []
        return out

    # --- parser callbacks ----------------------------------------------------------

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        ns, local = _split(tag)
        depth = len(self._stack)
        parent = self._stack[-1] if self._stack else ""
        self._stack.append(tag)
        if depth == 0 and local == "rss":
            self.seen_rss = True
        if self._comment is not None:
            if depth == self._comment_depth + 1 and ns.startswith(_WP_NS) and local in _FIELDS:
                self._field = _FIELDS[local]
                self._buf = []
            return
        if tag == "item":
            self._in_item = True
            self._link = None
        elif tag == "link" and parent == "item":
            self._link_buf = []
        elif local == "comment" and ns.startswith(_WP_NS):
            self._position += 1
            self._comment = {}
            self._comment_depth = depth
            self._comment_line = self.expat.CurrentLineNumber
            if parent != "item":
                self._comment["_outside"] = parent

    def data(self, text: str) -> None:
        if self._field is not None:
            self._buf.append(text)
        elif self._link_buf is not None:
            self._link_buf.append(text)

    def end(self, tag: str) -> None:
        self._stack.pop()
        depth = len(self._stack)
        if self._comment is not None:
            if self._field is not None and depth == self._comment_depth + 1:
                self._comment[self._field] = "".join(self._buf)
                self._field = None
                self._buf = []
            elif depth == self._comment_depth:
                self._out.append((self._position, self._comment_line, self._comment, self._link, self.source))
                self._comment = None
            return
        if self._link_buf is not None and tag == "link":
            self._link = "".join(self._link_buf).strip() or None
            self._link_buf = None
        elif tag == "item":
            self._in_item = False
            self._link = None

    def close(self) -> None:
        return None


def build_record(position: int, line: int, fields: dict[str, str], link: str | None, source: str) -> Record | Reject:
    """The Record for one ``<wp:comment>`` read by :func:`iter_raw_comments`, or a Reject saying why not."""
    try:
        if "_outside" in fields:
            raise _NotAComment(f"<wp:comment> inside <{_split(fields['_outside'])[1]}>, not inside a post <item>")
        if any(_BAD in value for value in fields.values()):
            bad = next(k for k, v in fields.items() if _BAD in v)
            raise _NotAComment(f"invalid UTF-8 or a character XML does not allow in {_wire(bad)}")
        content = fields.get("content", "")
        if not content.strip():
            raise _NotAComment("no content (wp:comment_content is missing or empty)")
        approved = fields.get("approved", "").strip()
        status = WXR_STATUSES.get(approved, approved.lower() or None)
        url = fields.get("author_url", "").strip()
        if url and "://" not in url:
            url = "http://" + url  # WordPress itself shows scheme-less author URLs as http://
        comment = Comment(
            content=content,
            author=fields.get("author", "").strip() or None,
            author_email=fields.get("author_email", "").strip() or None,
            author_url=url or None,
            user_ip=fields.get("user_ip", "").strip() or None,
            permalink=link if link and link.startswith(("http://", "https://")) else None,
            type=fields.get("type", "").strip() or "comment",
            date=_gmt(fields.get("date", "")),
            parent=_parent(fields.get("parent", "")),
        )
    except (_NotAComment, SpamGuardError) as exc:
        return Reject(position=position, line=line, reason=str(exc), raw=_snippet(fields), source=source)
    label = {"spam": True, "approved": False}.get(status or "")
    return Record(
        position=position, line=line, comment=comment, id=fields.get("id", "").strip() or None,
        label=label, status=status, source=source,
    )


class _NotAComment(Exception):
    pass


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _wire(field: str) -> str:
    for wire, short in _FIELDS.items():
        if short == field:
            return f"wp:{wire}"
    return field


def _gmt(text: str) -> _dt.datetime | None:
    text = text.strip()
    if not text or text.startswith("0000"):
        return None
    try:
        value = _dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None  # a date is a hint for the classifier, not a reason to drop the comment
    return value.replace(tzinfo=_dt.timezone.utc)


def _parent(text: str) -> str | None:
    text = text.strip()
    return None if text in ("", "0") else text


def _snippet(fields: dict[str, str]) -> str:
    parts = [f"{_wire(k)}={v!r}" for k, v in fields.items() if not k.startswith("_")]
    text = " ".join(parts)
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."
