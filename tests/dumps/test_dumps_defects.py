"""The reader defects of issue 14, each pinned: bad input is a reject or one DumpFormatError naming the file."""

from __future__ import annotations

import csv
import gc
import gzip
import io
import warnings

import pytest
from wxr_samples import HEAD, TAIL, comment_xml, item_xml

from spamguard.dumps import DumpFormatError, Record, Reject, read_dump, read_records
from spamguard.dumps.wxr import read_wxr

DEEP = '{"content": ' + "[" * 100_000 + "]" * 100_000 + "}"
LONG_NUMBER = '{"content": "x", "id": ' + "9" * 5000 + "}"
LONE_SURROGATE = '{"content": "x", "id": "\\ud800"}'


def kinds(items):
    return [(type(i).__name__, i.position, i.line) for i in items]


@pytest.mark.parametrize("read", [read_dump, read_records], ids=["read_dump", "read_records"])
def test_unreadable_json_values_are_one_reject_each(tmp_path, read):
    """Nesting 100,000 deep, a 5,000-digit integer and an escaped lone surrogate are rejects; reading goes on."""
    path = tmp_path / "hostile.jsonl"
    lines = ['{"content": "first"}', DEEP, LONG_NUMBER, LONE_SURROGATE, '{"content": "last"}']
    path.write_text("\n".join(lines) + "\n")
    items = list(read(path))
    assert kinds(items) == [("Record", 1, 1), ("Reject", 2, 2), ("Reject", 3, 3), ("Reject", 4, 4), ("Record", 5, 5)]
    assert [i.reason for i in items if isinstance(i, Reject)] == [
        "unreadable JSON: nested too deeply",
        "unreadable JSON: a number with too many digits",
        "field 'id' holds a lone surrogate (a \\ud800-\\udfff escape), which is not text",
    ]


def test_a_surrogate_pair_is_one_character_not_a_lone_surrogate(tmp_path):
    """An escaped surrogate pair is an ordinary character outside the BMP: the record is read."""
    path = tmp_path / "emoji.jsonl"
    path.write_text('{"content": "nice \\ud83d\\ude00", "id": "\\ud83d\\ude00", "x": "\\u00e9"}\n')
    (record,) = list(read_dump(path))
    assert (record.comment.content, record.id) == ("nice \U0001F600", "\U0001F600")


def test_a_lone_surrogate_in_a_nested_extra_field_is_named(tmp_path):
    """The reject names the field that holds the lone surrogate, nested or not."""
    path = tmp_path / "nested.jsonl"
    path.write_text('{"content": "x", "meta": {"tags": ["ok", "\\uDC00"]}}\n')
    (reject,) = list(read_dump(path))
    assert reject.reason == "field 'meta.tags' holds a lone surrogate (a \\ud800-\\udfff escape), which is not text"


def gzip_bytes(n=3000):
    return gzip.compress(b"".join(b'{"content": "comment number %d is here"}\n' % i for i in range(n)), mtime=0)


def damaged(kind):
    data = gzip_bytes()
    if kind == "truncated":
        return data[: len(data) // 2]
    if kind == "flipped bit":
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x10
        return bytes(flipped)
    return data + b"trailing junk, not gzip"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("truncated", r"the gzip data ends early \(the file is truncated\) after [\d,]+ bytes of uncompressed data"),
        ("flipped bit", r"the gzip data is damaged \(.*\) after [\d,]+ bytes of uncompressed data"),
        ("trailing junk", r"bytes that are not gzip data follow the compressed data "
                          r"after 127,890 bytes of uncompressed data"),
    ],
)
def test_damaged_gzip_is_a_dump_format_error_naming_the_file_and_the_place(tmp_path, kind, message):
    """A truncated .gz, a flipped bit and junk after the data end in one DumpFormatError, not EOFError or zlib.error."""
    path = tmp_path / "comments.jsonl.gz"
    path.write_bytes(damaged(kind))
    read = []
    with pytest.raises(DumpFormatError, match=f"^{path}: {message}; the records after that point could not be read"):
        read.extend(read_dump(path))
    assert all(isinstance(item, Record) for item in read)  # what came before the damage was read
    with pytest.raises(DumpFormatError, match=message):
        list(read_records(path))


def test_reading_a_gzip_file_closes_it(tmp_path):
    """Closing the gzip stream closes the file under it: no ResourceWarning for an unclosed file."""
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"content": "hello there"}\n'))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert [r.comment.content for r in read_dump(path)] == ["hello there"]
        assert [r.comment.content for r in read_records(path)] == ["hello there"]
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_gzip_stream_the_caller_gave_is_left_open(tmp_path):
    """A binary stream the caller passed is read through gzip and left open for the caller to close."""
    stream = io.BytesIO(gzip.compress(b'{"content": "from a stream"}\n'))
    assert [r.comment.content for r in read_dump(stream)] == ["from a stream"]
    assert not stream.closed


def test_an_unknown_xml_encoding_is_a_dump_format_error(tmp_path):
    """encoding="bogus-enc" in the XML declaration: one DumpFormatError naming the file, not a LookupError."""
    path = tmp_path / "export.xml"
    path.write_text('<?xml version="1.0" encoding="bogus-enc"?>\n<rss><channel></channel></rss>\n')
    with pytest.raises(DumpFormatError, match=f"^{path}:1: the XML declaration names the encoding 'bogus-enc', "
                                              "which is not a text encoding spamguard knows"):
        list(read_dump(path))


@pytest.mark.parametrize("encoding", ["hex", "rot13", "punycode", "undefined"])
def test_codecs_that_are_not_file_encodings_are_refused_too(tmp_path, encoding):
    """Python codecs no file is written in (bytes-to-bytes, or slow on ordinary bytes) are refused the same way."""
    path = tmp_path / "export.xml"
    path.write_text(f'<?xml version="1.0" encoding="{encoding}"?>\n<rss></rss>\n')
    with pytest.raises(DumpFormatError, match=f"names the encoding '{encoding}'"):
        list(read_wxr(path))


def test_a_declared_single_byte_encoding_is_decoded(tmp_path):
    """A WXR file declared ISO-8859-1 is read in that encoding."""
    path = tmp_path / "latin.xml"
    text = (HEAD + item_xml("https://blog.example/p/", comment_xml(1, "caf\xe9 au lait")) + TAIL).replace(
        'encoding="UTF-8"', 'encoding="ISO-8859-1"')
    path.write_bytes(text.encode("iso-8859-1"))
    assert [r.comment.content for r in read_wxr(path)] == ["caf\xe9 au lait"]


@pytest.mark.parametrize("read", [read_dump, read_records], ids=["read_dump", "read_records"])
def test_a_directory_or_a_missing_file_is_a_dump_format_error(tmp_path, read):
    """A directory or a path that does not exist: one DumpFormatError naming it."""
    with pytest.raises(DumpFormatError, match=f"cannot read '{tmp_path}': it is a directory"):
        list(read(tmp_path))
    with pytest.raises(DumpFormatError, match=f"cannot open '{tmp_path / 'nope.jsonl'}': No such file"):
        list(read(tmp_path / "nope.jsonl"))


def test_a_csv_field_over_the_limit_is_one_reject_and_invents_nothing(tmp_path):
    """A 170 KB quoted content holding CSV-looking lines: one reject for its lines; the next real record is read."""
    inner = "".join(f'{i},"fake record {i}"\r\n' for i in range(8000))
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["id", "content"], ["1", "first real record"], ["2", inner],
                                  ["3", "the real next record"]])
    path = tmp_path / "big.csv"
    path.write_text(buffer.getvalue(), newline="")
    items = list(read_dump(path))
    assert kinds(items) == [("Record", 1, 2), ("Reject", 2, 3), ("Record", 3, 8004)]
    assert items[1].reason == (
        f"broken CSV (lines 3-8003): a field is longer than the {csv.field_size_limit():,} characters csv reads")
    assert items[1].raw.startswith('2,"0,""fake record 0""')
    assert (items[2].id, items[2].comment.content) == ("3", "the real next record")


def test_an_unquoted_field_over_the_limit_on_one_line_is_one_reject(tmp_path):
    """A single over-long line without quotes is one reject for that line; the next line is read."""
    path = tmp_path / "long.csv"
    path.write_text("content,label\n" + "x" * 200_000 + ",spam\nshort one,ham\n")
    items = list(read_records(path))
    assert kinds(items) == [("Reject", 1, 2), ("Record", 2, 3)]
    assert items[0].reason.startswith("broken CSV (line 2): a field is longer than")


def test_an_unclosed_quote_swallows_the_rest_of_the_file_into_one_reject(tmp_path):
    """A quote that never closes runs to the end of the file, as csv reads it: one reject, nothing invented."""
    path = tmp_path / "open.csv"
    path.write_text('content,label\nfine,ham\n"never closed,spam\n' + "a,b\n" * 40_000)
    assert kinds(read_records(path)) == [("Record", 1, 2), ("Reject", 2, 3)]


@pytest.mark.parametrize("ends", [b"\r", b"\r\n", b"\n"], ids=["CR", "CRLF", "LF"])
def test_jsonl_line_ends_cr_crlf_and_lf_read_alike(tmp_path, ends):
    """Bare CR line ends (old Mac files) read like LF and CRLF: every record, on its own line."""
    path = tmp_path / "c.jsonl"
    path.write_bytes(ends.join([b'{"content": "one"}', b'{"content": "two"}', b"", b'{"content": "three"}', b""]))
    assert [(r.position, r.line, r.comment.content) for r in read_dump(path)] == [
        (1, 1, "one"), (2, 2, "two"), (3, 4, "three")]


def test_a_bom_before_jsonl_in_a_file_named_anything_is_still_jsonl(tmp_path):
    """read_dump tells JSONL behind a UTF-8 BOM as read_records does (found by the fuzz tests)."""
    path = tmp_path / "export.data"
    path.write_bytes(b'\xef\xbb\xbf{"content": "hello there"}\n')
    assert [r.comment.content for r in read_dump(path)] == [r.comment.content for r in read_records(path)] == [
        "hello there"]
    path.write_bytes(b"\xef\xbb\xbf")
    assert list(read_dump(path)) == list(read_records(path)) == []


@pytest.mark.parametrize("start", [b"\xef", b"\xef\xbb"], ids=["EF", "EF BB"])
def test_the_start_of_a_bom_that_never_ends_is_invalid_utf8_not_nothing(tmp_path, start):
    """b'\\xef' (or b'\\xef\\xbb') alone at the start: a reject for invalid UTF-8, not silently dropped (fuzz tests)."""
    path = tmp_path / "c.jsonl"
    path.write_bytes(start + b'{"content": "x"}\n')
    assert [(type(i).__name__, i.position) for i in read_records(path, "jsonl")] == [("Reject", 1)]
    path.write_bytes(start)
    assert [i.reason for i in read_records(path, "lines")] == ["invalid UTF-8"]
