"""Hostile comment dumps for the fuzz tests of the readers and of rescore: strategies, settings, checks.

Every strategy here draws a :class:`Dump`: bytes, the file name they are written under, and the
format to force (None: detected). Some are random bytes; most are built like real dumps (valid
records, CSV rows, WXR comments) with hostile values: huge, deeply nested, 5,000-digit
numbers, lone surrogates, NULs, odd line ends, bad encodings, truncated or damaged gzip.

In CI each fuzz test runs a fixed number of examples, the same ones every time (derandomized),
so CI is stable and a failure reproduces. ``SPAMGUARD_FUZZ_EXAMPLES=N`` runs N new random
examples a test instead (see CONTRIBUTING.md).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from wxr_samples import HEAD, TAIL, comment_xml, item_xml

from spamguard import UnsafeXMLError
from spamguard.dumps import DumpFormatError, Record, Reject, read_dump

FUZZ_EXAMPLES = int(os.environ.get("SPAMGUARD_FUZZ_EXAMPLES") or 0)
"""Examples a fuzz test runs when set (new random ones each run); unset: each test's fixed CI count."""

DOCUMENTED_ERRORS = (DumpFormatError, UnsafeXMLError)
"""What a caller of read_dump (and of rescore, for its input) may have to catch; anything else is a bug."""

TIME_LIMIT = 20.0
"""Seconds one example may take before it counts as a hang (far above what any takes: well under 1 s)."""


def fuzz_settings(ci_examples: int) -> settings:
    """Settings for a fuzz test: ``ci_examples`` fixed examples, or SPAMGUARD_FUZZ_EXAMPLES random ones."""
    slow_is_fine = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                    HealthCheck.function_scoped_fixture]
    if FUZZ_EXAMPLES:
        return settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=slow_is_fine)
    return settings(max_examples=ci_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=slow_is_fine)


class Hang(BaseException):
    """An example ran past :data:`TIME_LIMIT` (a BaseException, so no ``except Exception`` swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float = TIME_LIMIT) -> Iterator[None]:
    """Raise :class:`Hang` in the block after ``seconds`` (POSIX, main thread; elsewhere no limit)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no end after {seconds:.0f} s: a hang")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@attrs.frozen
class Dump:
    """A dump to read: its bytes, the file name to give it, and the format to force (None: detected)."""

    data: bytes
    name: str
    format: str | None = None
    plain: bytes | None = None  # for a .gz dump: the bytes before compression

    @property
    def text_bytes(self) -> bytes:
        """The bytes the readers see once gzip is undone."""
        return self.plain if self.plain is not None else self.data

    def write(self, directory: Any) -> Any:
        path = directory / self.name
        path.write_bytes(self.data)
        return path


# --- values ------------------------------------------------------------------------------------

ODD = ["\x00", "\r", "\n", "\r\n", "\t", "\ufeff", "\u2028", "\x85", "\x0b", "\x0c", "\x1c", "\x1f", '"', "'",
       ",", "\\", "<", ">", "&", "]]>", "<![CDATA[", "\ud800", "\udfff", "\udc80", "\ufffd", "\U0001F600", "é",
       "http://x.example/", " ", "\u00a0", "&#0;", "&#xD800;", "\\u0000", "\\ud800"]
"""Characters and snippets readers, CSV, XML and JSON treat specially."""

text = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(ODD) | st.text(max_size=4), max_size=12).map("".join),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
)
"""Short hostile text, lone surrogates included."""

huge = st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=8),
                 st.sampled_from([10_000, 66_000, 140_000]))
"""Text past the content limit (65,536) or csv's field limit (131,072)."""

hostile_text = st.one_of(text, text, text, huge)

RAW_JSON = ["[" * 100_000 + "]" * 100_000, "[" * 900 + "]" * 900, '{"a":' * 2000 + "1" + "}" * 2000,
            "9" * 4300, "9" * 4301, "-" + "9" * 5000, "1e999", "-1e999", "NaN", "Infinity", "-0", "0.1e-400",
            '"\\ud800"', '"\\udfff\\ud800"', '"\\ud83d\\ude00"', '"\\u0000"', "true", "null", "[]", "{}",
            '"' + "x" * 70_000 + '"']
"""JSON values (as text) that break naive readers: deep nesting, 5,000-digit numbers, lone surrogates."""

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["content", "comment_content", "author", "author_email", "author_url", "user_ip", "user_agent", "referrer",
          "permalink", "type", "date", "post_modified", "comment_date_gmt", "parent", "lang", "charset", "user_role",
          "recheck_reason", "context", "comment_context[]", "honeypot_field_name", "honeypot_value", "extra", "id",
          "label", "is_spam", "class", "spam", "status", "api_key", "blog", "is_test"]
"""Field names a JSONL record may carry (Akismet's, short ones, labels); other keys become extra parameters."""


@st.composite
def json_line(draw: Callable[..., Any]) -> str:
    """One JSONL line: a record (often valid) with hostile values, a raw hostile value, or garbage."""
    kind = draw(st.sampled_from(["record", "record", "record", "raw", "garbage"]))
    if kind == "garbage":
        return draw(text)
    fields = draw(st.dictionaries(st.sampled_from(FIELDS) | text, json_value, max_size=5))
    if draw(st.booleans()):
        fields["content"] = draw(hostile_text)
    if kind == "raw":
        head = json.dumps(fields, ensure_ascii=draw(st.booleans()))[:-1]
        key = json.dumps(draw(st.sampled_from(["content", "id", "extra", "x"])))
        return f"{head}{', ' if fields else ''}{key}: {draw(st.sampled_from(RAW_JSON))}}}"
    return json.dumps(fields, ensure_ascii=draw(st.booleans()))


line_end = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "\n\n", " \n", "\x85", "\u2028", "\x1c\n"])


@st.composite
def lines_of(draw: Callable[..., Any], line: st.SearchStrategy[str]) -> str:
    """Lines joined by odd line ends (one kind a file, sometimes mixed)."""
    items = draw(st.lists(line, max_size=8))
    if draw(st.booleans()):
        end = draw(line_end)
        return end.join(items) + draw(st.sampled_from(["", end]))
    return "".join(item + draw(line_end) for item in items)


def encode(draw: Callable[..., Any], body: str) -> bytes:
    """Text as bytes: UTF-8 (lone surrogates as CESU bytes), sometimes Latin-1 or UTF-16, a BOM, a mutation."""
    how = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    if how == "latin-1":
        data = body.encode("latin-1", "replace")
    elif how == "utf-16":
        data = body.encode("utf-16", "surrogatepass")
    else:
        data = body.encode(how, "surrogatepass")
    return draw(mutated(data))


@st.composite
def mutated(draw: Callable[..., Any], data: bytes) -> bytes:
    """``data`` unchanged (mostly), or with bytes flipped, inserted, deleted or cut off."""
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
        elif op == "insert":
            odd_bytes = st.sampled_from([b"\xed\xa0\x80", b"\xc0\x80", b"\xff", b"\xef\xbb\xbf", b"\x00", b"\r", b'"',
                                         b"\x1f\x8b"])
            data = data[:at] + draw(st.binary(min_size=1, max_size=8) | odd_bytes) + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 16)):]
        else:
            data = data[:at]
    return data


# --- dumps ---------------------------------------------------------------------------------------


@st.composite
def jsonl_dumps(draw: Callable[..., Any]) -> Dump:
    body = draw(lines_of(json_line()))
    return Dump(encode(draw, body), draw(st.sampled_from(["c.jsonl", "c.ndjson", "c.data"])),
                draw(st.sampled_from([None, None, "jsonl"])))


CSV_HEADERS = [["content", "label"], ["id", "content", "label", "status"], ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT",
               "CLASS"], ["text"], ["comment_content", "author", "user_ip", "date", "extra"], ["Content", "LABEL"]]


@st.composite
def csv_dumps(draw: Callable[..., Any]) -> Dump:
    header = draw(st.sampled_from(CSV_HEADERS) | st.lists(text, min_size=1, max_size=4))
    width = len(header)
    rows = draw(st.lists(st.lists(hostile_text, min_size=max(width - 1, 0), max_size=width + 1), max_size=6))
    buffer = io.StringIO(newline="")
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    writer = csv.writer(buffer, quoting=quoting, lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])))
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    body = buffer.getvalue()
    if draw(st.integers(0, 4)) == 0:  # an unbalanced quote somewhere
        at = draw(st.integers(0, len(body)))
        body = body[:at] + '"' + body[at:]
    return Dump(encode(draw, body), draw(st.sampled_from(["c.csv", "c.data"])), draw(st.sampled_from([None, "csv"])))


label = st.sampled_from(["spam", "ham", "1", "0", "yes", "no", "true", "maybe", "", "SPAM", " ham "])


@st.composite
def tsv_dumps(draw: Callable[..., Any]) -> Dump:
    line = st.builds(lambda lab, sep, t: f"{lab}{sep}{t}", label, st.sampled_from(["\t", "\t", " ", "\t\t"]),
                     hostile_text)
    return Dump(encode(draw, draw(lines_of(line))), draw(st.sampled_from(["c.tsv", "c.tab", "c.data"])),
                draw(st.sampled_from([None, "tsv"])))


@st.composite
def lines_dumps(draw: Callable[..., Any]) -> Dump:
    return Dump(encode(draw, draw(lines_of(hostile_text))), draw(st.sampled_from(["spam.txt", "ham.txt", "x.txt"])),
                draw(st.sampled_from([None, "lines"])))


ENCODINGS = ["UTF-8", "utf-8", "ISO-8859-1", "windows-1252", "utf-16", "shift_jis", "ascii", "bogus-enc", "hex",
             "punycode", "idna", "undefined", "utf-8-sig", "latin-1"]


@st.composite
def wxr_dumps(draw: Callable[..., Any]) -> Dump:
    """A WordPress export: posts with hostile comments, maybe a declared encoding, a DOCTYPE, damage."""
    def a_comment(cid: int) -> str:
        fields = draw(st.dictionaries(st.sampled_from(["comment_author", "comment_author_email", "comment_author_url",
                                                       "comment_author_IP", "comment_date_gmt", "comment_type",
                                                       "comment_parent"]), text, max_size=4))
        return comment_xml(cid, draw(hostile_text), draw(st.sampled_from(["1", "0", "spam", "trash", "", "x"])),
                           **fields)

    items = [item_xml(draw(st.sampled_from(["https://b.example/p/", "", "javascript:x", "<bad>"])),
                      *[a_comment(i) for i in range(draw(st.integers(0, 3)))]) for _ in range(draw(st.integers(0, 3)))]
    encoding = draw(st.sampled_from(ENCODINGS))
    head = HEAD.replace('encoding="UTF-8"', f'encoding="{encoding}"')
    if draw(st.integers(0, 5)) == 0:
        head = head.replace("<rss", draw(st.sampled_from([
            '<!DOCTYPE rss [<!ENTITY a "aaaa">]>\n<rss', '<!DOCTYPE rss SYSTEM "http://x.example/d.dtd">\n<rss',
            "<!DOCTYPE rss>\n<rss"])), 1)
    body = head + "".join(items) + draw(st.sampled_from([TAIL, TAIL, "", "</channel>", TAIL + "junk"]))
    try:
        data = body.encode(encoding, "replace")
    except (LookupError, UnicodeError):
        data = body.encode("utf-8", "surrogatepass")
    return Dump(draw(mutated(data)), draw(st.sampled_from(["export.xml", "export.wxr", "export.data"])),
                draw(st.sampled_from([None, None, "wxr"])))


@st.composite
def random_dumps(draw: Callable[..., Any]) -> Dump:
    """Any bytes at all, under any name, any format forced or none."""
    return Dump(draw(st.binary(max_size=400)), draw(st.sampled_from(["x.jsonl", "x.csv", "x.tsv", "x.txt", "x.xml",
                                                                      "x.data"])),
                draw(st.sampled_from([None, "jsonl", "csv", "tsv", "lines", "wxr"])))


def gzipped(dumps: st.SearchStrategy[Dump]) -> st.SearchStrategy[Dump]:
    """The same dumps gzip-compressed: whole, or cut, or with a flipped bit or junk after them."""
    @st.composite
    def build(draw: Callable[..., Any]) -> Dump:
        dump = draw(dumps)
        data = gzip.compress(dump.data, mtime=0)
        damage = draw(st.sampled_from(["none", "none", "cut", "flip", "junk"]))
        if damage == "cut":
            data = data[: draw(st.integers(2, max(len(data) - 1, 2)))]
        elif damage == "flip":
            at = draw(st.integers(10, max(len(data) - 1, 10)))
            data = data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:] if at < len(data) else data
        elif damage == "junk":
            data += draw(st.binary(min_size=1, max_size=20))
        return Dump(data, dump.name + ".gz", dump.format, plain=dump.data)

    return build()


plain_dumps = st.one_of(jsonl_dumps(), csv_dumps(), tsv_dumps(), lines_dumps(), wxr_dumps(), random_dumps())
any_dump = st.one_of(plain_dumps, plain_dumps, gzipped(plain_dumps))


# --- reading and checking ------------------------------------------------------------------------


def read_everything(path: Any, format: str | None) -> tuple[list[Record | Reject], BaseException | None]:
    """Everything read_dump yields, and the documented error it ended with (None if it ended well).

    Any other exception, or a hang, escapes: that is a bug the fuzz test reports.
    """
    items: list[Record | Reject] = []
    with time_limit():
        try:
            for item in read_dump(path, format):
                items.append(item)
        except DOCUMENTED_ERRORS as exc:
            return items, exc
    return items, None


def count_lines(data: bytes) -> int:
    """Lines as the text readers count them (\\n, \\r\\n and \\r end one), at least 1."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1


def check_items(items: list[Record | Reject], data: bytes, format_read: str) -> None:
    """What any reader's output must be: positions 1, 2, 3, ...; lines in order; nothing invented; all writable."""
    assert [item.position for item in items] == list(range(1, len(items) + 1))
    lines = [item.line for item in items]
    assert lines == sorted(lines) and all(line >= 1 for line in lines)
    if format_read != "wxr":
        assert len(items) <= count_lines(data) and (not lines or lines[-1] <= count_lines(data))
        if len(lines) > 1:
            assert all(a < b for a, b in zip(lines, lines[1:], strict=False)), "two records on one line"
    for item in items:
        if isinstance(item, Record):
            assert item.comment.content.strip(), "a record without content"
            fields = attrs.asdict(item.comment, recurse=False)
            for value in [item.id, item.status, *fields.values(), *dict(fields["extra"]).values()]:
                if isinstance(value, str):
                    value.encode("utf-8")  # no lone surrogate: the record can be written
        else:
            assert item.reason and isinstance(item.reason, str)
            item.reason.encode("utf-8")
            item.raw.encode("utf-8")
