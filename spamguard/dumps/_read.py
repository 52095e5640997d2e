"""Reading labelled (or unlabelled) comment dumps: JSONL, CSV, TSV and plain lines.

:func:`read_records` streams a file record by record and yields a :class:`Record` for every
comment it could read and a :class:`Reject` (with line and reason) for every one it could
not. Gzip is transparent (recognised by its magic bytes) and the format is detected from
the content unless forced.

Formats:

``jsonl``
    One JSON object a line, with Akismet or short field names (``comment_content`` or
    ``content``, ...), a ``label`` of ``spam``/``ham`` (or ``is_spam`` true/false) and an
    optional ``id`` and ``status``.
``csv``
    A header line, then rows. The YouTube Spam Collection layout
    (``COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS``) is read as it is; otherwise a ``content``
    (or ``comment_content``/``text``) column and an optional ``label`` column, plus any
    other comment fields by name.
``tsv``
    ``label<TAB>text`` a line, as in the SMS Spam Collection.
``lines``
    One comment a non-empty line (the tg-spam sample files). The label comes from the file
    name: a name containing ``spam`` is spam, one containing ``ham`` (and not ``spam``) is
    ham, anything else is unlabelled. Never detected from content except for ``.txt`` files.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from .._spelling import option
from ..comment import FIELD_NAMES as _FIELD_NAMES
from ..comment import Comment
from ..errors import SpamGuardError
from ._open import DumpFormatError, open_binary
from ._records import Record, Reject

__all__ = ["FORMATS", "DumpFormatError", "detect_format", "read_records"]

FORMATS = ("jsonl", "csv", "tsv", "lines")
"""The formats :func:`read_records` reads."""

_BAD_UTF8 = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SPAM_WORDS = frozenset({"spam", "1", "true", "yes"})
_HAM_WORDS = frozenset({"ham", "0", "false", "no"})
_QUICK_LABELS = {"spam": True, "ham": False}
_loads = json.loads
_LABEL_KEYS = ("label", "is_spam", "class", "spam")
_CONTENT_COLUMNS = ("content", "comment_content", "text", "message", "body")
_YOUTUBE_HEADER = ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"]


PathOrFile = str | os.PathLike[str] | IO[bytes] | IO[str]


def detect_format(path_or_file: PathOrFile, *, sample: str | None = None) -> str:
    """Tell the format of a dump (``jsonl``, ``csv``, ``tsv`` or ``lines``) from its content.

    ``path_or_file`` may be a path (gzip or not) or a file object; for a file object pass
    the first lines as ``sample`` or the object must be seekable. Raises
    :class:`DumpFormatError` when the content matches none of the formats.
    """
    name = _name_of(path_or_file)
    if sample is None:
        with _open_text(path_or_file) as stream:
            sample = "".join(_first_lines(stream, 5))
            if not isinstance(path_or_file, (str, os.PathLike)) and hasattr(path_or_file, "seek"):
                path_or_file.seek(0)
    return _detect(sample, name)


def read_records(
    path_or_file: PathOrFile, format: str | None = None, *, source: str | None = None
) -> Iterator[Record | Reject]:
    """Yield the comments of a dump in order: a Record for each readable one, a Reject otherwise.

    ``path_or_file`` is a path, ``"-"`` (standard input) or a file object (bytes or text);
    gzip is recognised by its magic bytes. ``format`` forces one of :data:`FORMATS`; by
    default it is detected from the content. ``source`` names the input in Records and
    Rejects (default: the path). The file is read lazily, one record at a time.
    """
    if format is not None and format not in FORMATS:
        raise DumpFormatError(f"unknown dump format {format!r}; use one of {', '.join(FORMATS)}")
    name = _name_of(path_or_file)
    source = source if source is not None else name
    with _open_text(path_or_file) as stream:
        head = _first_lines(stream, 5)
        fmt = format or _detect("".join(head), name)
        lines = _chain(head, stream)
        if fmt == "jsonl":
            yield from _read_jsonl(lines, source)
        elif fmt == "tsv":
            yield from _read_tsv(lines, source)
        elif fmt == "lines":
            yield from _read_lines(lines, source, _label_from_name(name))
        else:
            yield from _read_csv(lines, source)


# --- opening ----------------------------------------------------------------------------


class _open_text:
    """Context manager: a text stream over a path or file; gzip and a BOM handled, bad UTF-8 kept as surrogates.

    Streams it opened itself are closed on exit; a caller's file object is left open.
    """

    def __init__(self, path_or_file: PathOrFile) -> None:
        self._target = path_or_file
        self._text: io.TextIOWrapper | None = None

    def __enter__(self) -> IO[str]:
        target = self._target
        if isinstance(target, io.TextIOBase):
            return target  # type: ignore[return-value]
        stream, _ = open_binary(target)  # a caller's stream is wrapped: closing ours leaves it open
        # utf-8, not utf-8-sig: that decoder drops a lone b"\xef" or b"\xef\xbb" at the start of a stream (a
        # BOM's beginning, never finished) without a word; _first_lines takes a whole BOM off instead.
        self._text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
        return self._text

    def __exit__(self, *exc: object) -> None:
        if self._text is not None:
            self._text.close()


def _name_of(path_or_file: Any) -> str:
    if isinstance(path_or_file, (str, os.PathLike)):
        name = os.fspath(path_or_file)
        return "<stdin>" if name == "-" else name
    name = getattr(path_or_file, "name", None)
    return name if isinstance(name, str) else "<stream>"


def _first_lines(stream: IO[str], count: int) -> list[str]:
    """The first ``count`` lines of a stream read from its start, a byte order mark taken off the first."""
    lines = []
    for line in stream:
        lines.append(line)
        if len(lines) >= count:
            break
    if lines:
        lines[0] = lines[0].removeprefix("\ufeff")
    return lines


def _chain(head: list[str], stream: IO[str]) -> Iterator[str]:
    yield from head
    yield from stream


# --- detection --------------------------------------------------------------------------


def _detect(sample: str, name: str) -> str:
    first = next((line for line in sample.splitlines() if line.strip()), "")
    base = name.lower().removesuffix(".gz")
    if first.lstrip().startswith("{"):
        return "jsonl"
    if "\t" in first and first.split("\t", 1)[0].strip().lower() in _SPAM_WORDS | _HAM_WORDS:
        return "tsv"
    try:
        header = next(csv.reader([first]))
    except csv.Error:
        header = []
    columns = {h.strip().lower() for h in header}
    if header == _YOUTUBE_HEADER or columns & set(_CONTENT_COLUMNS):
        return "csv"
    if base.endswith(".txt"):
        return "lines"
    if not first:
        return "jsonl"  # empty: any reader yields nothing
    raise DumpFormatError(
        f"cannot tell the format of {name}: the first line is neither a JSON object, a label<TAB>text "
        f"line nor a CSV header with a content column; give the format, e.g. {option('format', 'csv')} "
        f"(one of {', '.join(FORMATS)})"
    )


def _label_from_name(name: str) -> bool | None:
    base = os.path.basename(name).lower()
    if "spam" in base:
        return True
    if "ham" in base:
        return False
    return None


# --- labels and comments ----------------------------------------------------------------


class _RowError(Exception):
    pass


def _parse_label(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "":
            return None
        if word in _SPAM_WORDS:
            return True
        if word in _HAM_WORDS:
            return False
    raise _RowError(f"unknown label {value!r} (expected spam or ham, 1 or 0, true or false)")


def _check_text(raw: str) -> None:
    if _BAD_UTF8.search(raw):
        raise _RowError("invalid UTF-8")


def _comment(fields: Mapping[str, Any]) -> Comment:
    content = fields["content"] if "content" in fields else fields.get("comment_content")
    if content is None or (isinstance(content, str) and (not content or content.isspace())):
        raise _RowError("no content")
    try:
        return Comment.from_mapping(fields)
    except SpamGuardError as exc:
        raise _RowError(str(exc)) from None


# --- readers ----------------------------------------------------------------------------


def _read_jsonl(lines: Iterator[str], source: str) -> Iterator[Record | Reject]:
    position = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        position += 1
        yield jsonl_item(line.rstrip("\r\n"), position, number, source)


def jsonl_item(raw: str, position: int, number: int, source: str | None) -> Record | Reject:
    """One JSONL line (without its line end) as a Record, or a Reject saying what is wrong with it."""
    try:
        if not raw.isascii():
            _check_text(raw)
        try:
            data = _loads(raw)
        except json.JSONDecodeError as exc:
            raise _RowError(f"broken JSON: {exc.msg} at column {exc.colno}") from None
        except ValueError as exc:  # Python refuses integers of more than 4,300 digits (int_max_str_digits)
            what = "a number with too many digits" if "digits" in str(exc) else str(exc)
            raise _RowError(f"unreadable JSON: {what}") from None
        if type(data) is not dict:
            raise _RowError(f"expected a JSON object, got {type(data).__name__}")
        if "\\u" in raw and _ESCAPED_SURROGATE.search(raw):
            _check_surrogates(data)
        label = None
        for key in _LABEL_KEYS:
            if key in data:
                value = data.pop(key)
                label = _QUICK_LABELS.get(value) if type(value) is str else None
                if label is None:
                    label = _parse_label(value)
                break
        ident = data.pop("id", None)
        status = data.pop("status", None)
        comment = _comment(data)
    except _RowError as exc:
        return Reject(position=position, line=number, reason=str(exc), raw=_safe(raw), source=source)
    except RecursionError:  # json.loads (or a message quoting the value) on arrays or objects nested too deep
        return Reject(position=position, line=number, reason="unreadable JSON: nested too deeply", raw=_safe(raw),
                      source=source)
    return Record(
        position=position, line=number, comment=comment, label=label, source=source,
        id=None if ident is None else str(ident), status=None if status is None else str(status),
    )


def _check_surrogates(data: dict[str, Any]) -> None:
    """Refuse a record whose JSON escapes a lone surrogate (``"\\ud800"``): that is not text, and cannot be written."""
    stack: list[tuple[str, Any]] = list(data.items())
    while stack:
        key, value = stack.pop()
        if _SURROGATE.search(key) or (isinstance(value, str) and _SURROGATE.search(value)):
            shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
            raise _RowError(f"field {shown!r} holds a lone surrogate (a \\ud800-\\udfff escape), which is not text")
        if isinstance(value, dict):
            stack.extend((f"{key}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((key, v) for v in value)


def _read_tsv(lines: Iterator[str], source: str) -> Iterator[Record | Reject]:
    def parse(raw: str) -> tuple[Comment, bool | None]:
        if "\t" not in raw:
            raise _RowError("no tab: expected label<TAB>text")
        label_text, text = raw.split("\t", 1)
        label = _parse_label(label_text)  # before the content: a row wrong in both reports its label
        return _comment({"content": text}), label

    return _read_text_rows(lines, source, parse)


def _read_lines(lines: Iterator[str], source: str, label: bool | None) -> Iterator[Record | Reject]:
    return _read_text_rows(lines, source, lambda raw: (_comment({"content": raw}), label))


def _read_text_rows(
    lines: Iterator[str], source: str, parse: Callable[[str], tuple[Comment, bool | None]],
) -> Iterator[Record | Reject]:
    """One record a non-blank line, from ``parse(line)``; a line it refuses (``_RowError``) is a Reject."""
    position = 0
    for number, line in enumerate(lines, start=1):
        raw = line.rstrip("\r\n")
        if not raw.strip():
            continue
        position += 1
        try:
            _check_text(raw)
            comment, label = parse(raw)
        except _RowError as exc:
            yield Reject(position=position, line=number, reason=str(exc), raw=_safe(raw), source=source)
            continue
        yield Record(position=position, line=number, comment=comment, label=label, source=source)


def _read_csv(lines: Iterator[str], source: str) -> Iterator[Record | Reject]:
    feed = _CsvLines(lines)
    reader = csv.reader(feed)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise DumpFormatError(f"{source}:1: cannot read the CSV header: {exc}") from None
    youtube = header == _YOUTUBE_HEADER
    names = _csv_names(header, source)
    position = 0
    while True:
        feed.next_record()
        start = feed.count + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # csv stops inside the record (a field over csv.field_size_limit(), say) and would read the
            # rest of it as new records: skip to where the record really ends, and reject it whole.
            raw, end = feed.skip_record()
            position += 1
            yield Reject(position=position, line=start, reason=_csv_error(exc, start, end), raw=_safe(raw),
                         source=source)
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        position += 1
        raw = ",".join(row)
        try:
            _check_text(raw)
            comment, ident, label, status = _csv_row(row, names, youtube)
        except _RowError as exc:
            yield Reject(position=position, line=start, reason=str(exc), raw=_safe(raw), source=source)
            continue
        yield Record(position=position, line=start, comment=comment, id=ident, label=label,
                     status=status, source=source)


def _csv_error(exc: csv.Error, start: int, end: int) -> str:
    where = f"line {start}" if end == start else f"lines {start}-{end}"
    if "field limit" in str(exc):
        return f"broken CSV ({where}): a field is longer than the {csv.field_size_limit():,} characters csv reads"
    return f"broken CSV ({where}): {exc}"


class _CsvLines:
    """The lines a :func:`csv.reader` reads: counted, and those of the record being read kept.

    When csv fails inside a record, :meth:`skip_record` reads on to where the record really
    ends by CSV's quoting rules, so the rest of it is not taken for new records.
    """

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._back: list[str] = []  # lines csv took past a record's end, to read again
        self._kept: list[str] = []
        self.count = 0

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        line = self._back.pop() if self._back else next(self._lines)
        self.count += 1
        self._kept.append(line)
        return line

    def next_record(self) -> None:
        """The next line csv takes starts a new record."""
        self._kept.clear()

    def skip_record(self) -> tuple[str, int]:
        """Read to the end of the record csv failed in: returns its start (for the reject) and its last line."""
        kept, self._kept = self._kept, []
        if not kept:
            return "", self.count
        quoted = False
        for i, line in enumerate(kept):
            quoted = _csv_still_quoted(line, quoted)
            if not quoted:
                rest = kept[i + 1:]
                self._back.extend(reversed(rest))
                self.count -= len(rest)
                return "".join(kept[: i + 1])[:_SNIPPET_CHARS], self.count
        head = "".join(kept)[:_SNIPPET_CHARS]
        for line in self._lines:  # the rest of a long record is read but not kept
            self.count += 1
            quoted = _csv_still_quoted(line, quoted)
            if not quoted:
                break
        return head, self.count


def _csv_still_quoted(line: str, quoted: bool) -> bool:
    """True when a CSV record is still inside a quoted field after ``line`` (csv's default dialect, non-strict).

    A quote opens a quoted field only at the start of a field; inside one, ``""`` is a quote;
    anywhere else a quote is an ordinary character. ``quoted`` is the state at the line's start.
    """
    at_field_start = not quoted
    i, n = 0, len(line)
    while i < n:
        if quoted:
            j = line.find('"', i)
            if j < 0:
                return True
            if line.startswith('"', j + 1):
                i = j + 2
                continue
            quoted, at_field_start, i = False, False, j + 1
        elif at_field_start and line[i] == '"':
            quoted, i = True, i + 1
        else:
            j = line.find(",", i)
            if j < 0:
                return False
            at_field_start, i = True, j + 1
    return quoted


def _csv_names(header: list[str], source: str) -> list[str]:
    """The field name of each column: the content column becomes ``content``, comment fields match in any case."""
    if header == _YOUTUBE_HEADER:
        return ["id", "author", "date", "content", "label"]
    names = [h.strip() for h in header]
    lowered = [n.lower() for n in names]
    if not set(lowered) & set(_CONTENT_COLUMNS):
        raise DumpFormatError(
            f"{source}:1: the CSV header {header!r} has no content column (one of {', '.join(_CONTENT_COLUMNS)})"
        )
    content_name = next(n for n in _CONTENT_COLUMNS if n in lowered)
    # Other columns (extra parameters) keep their names.
    return [
        "content" if low == content_name else low if low in _FIELD_NAMES or low in _LABEL_KEYS else orig
        for orig, low in zip(names, lowered, strict=True)
    ]


def _csv_row(
    row: list[str], names: list[str], youtube: bool
) -> tuple[Comment, str | None, bool | None, str | None]:
    """A CSV row's comment, id, label and status; raises _RowError saying what is wrong with it."""
    if len(row) != len(names):
        raise _RowError(f"has {len(row)} fields; the header has {len(names)}")
    fields: dict[str, Any] = {}
    label = None
    ident = status = None
    for name, value in zip(names, row, strict=True):
        key = name.lower()
        if key in _LABEL_KEYS:
            label = _parse_label(value)
        elif key in ("id", "comment_id"):
            ident = value or None
        elif key == "status":
            status = value or None
        elif value != "":
            fields[name] = value
    if youtube and fields.get("date"):
        fields["date"] = _naive_utc(fields["date"])
    return _comment(fields), ident, label, status


def _naive_utc(text: str) -> _dt.datetime | str:
    """YouTube dates carry no zone; they are UTC."""
    try:
        value = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text  # Comment.from_mapping names the bad date
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


_SNIPPET_CHARS = 2000
"""Rejects keep at most this much of the raw record."""


def _safe(raw: str) -> str:
    """The raw text with undecodable bytes shown as U+FFFD, shortened for messages."""
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if len(text) <= _SNIPPET_CHARS else text[:_SNIPPET_CHARS] + "..."

