"""Reading dumps: JSONL, CSV (YouTube layout and content/label), TSV, lines; gzip; bad rows as Rejects."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from spamguard.dumps import DumpFormatError, Record, Reject, detect_format, read_records


def write(tmp_path, name, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


YOUTUBE = (
    "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
    'a1,Julius NM,2013-11-07T06:20:48,"Huh, anyway check out this channel: kobyoshi02",1\n'
    'a2,Bob,,"I love this song,\nit has ""quotes"" and commas",0\n'
)


def test_youtube_csv_is_read_as_it_is(tmp_path):
    """The YouTube layout maps to id, author, date (UTC), content and label; quoted newlines stay in one record."""
    path = write(tmp_path, "Youtube01.csv", YOUTUBE)
    records = list(read_records(path))
    assert [type(r) for r in records] == [Record, Record]
    first, second = records
    assert (first.id, first.label, first.line, first.position) == ("a1", True, 2, 1)
    assert first.comment.author == "Julius NM"
    assert first.comment.date.isoformat() == "2013-11-07T06:20:48+00:00"
    assert first.comment.content == "Huh, anyway check out this channel: kobyoshi02"
    assert (second.line, second.label, second.comment.date) == (3, False, None)
    assert second.comment.content == 'I love this song,\nit has "quotes" and commas'
    assert first.source == str(path)


def test_content_label_csv_takes_other_fields_by_name(tmp_path):
    """A CSV with content/label columns takes further comment fields (author_url, ...) from their columns."""
    path = write(tmp_path, "d.csv", "label,content,author_url\nspam,buy now,http://x.example\nham,nice,\n")
    records = list(read_records(path))
    assert [(r.label, r.comment.content, r.comment.author_url) for r in records] == [
        (True, "buy now", "http://x.example"),
        (False, "nice", None),
    ]


def test_csv_column_names_match_whatever_their_case(tmp_path):
    """Text/Label/Author columns in any case map to the comment's fields; unknown columns go to extra."""
    path = write(tmp_path, "d.csv", "Text,Label,Comment_Author,X-Site\nbuy now,SPAM,Ann,blog1\n")
    [record] = list(read_records(path))
    assert (record.comment.content, record.label, record.comment.author) == ("buy now", True, "Ann")
    assert dict(record.comment.extra) == {"X-Site": "blog1"}


def test_tsv_sms_layout(tmp_path):
    """label<TAB>text lines; tabs inside the text stay in it."""
    path = write(tmp_path, "sms.tsv", "ham\tOk lar...\nspam\tFree entry\tnow\n")
    records = list(read_records(path))
    assert [(r.label, r.comment.content, r.line) for r in records] == [
        (False, "Ok lar...", 1), (True, "Free entry\tnow", 2)
    ]


def test_jsonl_with_akismet_or_short_names_and_is_spam(tmp_path):
    """JSONL accepts comment_content or content, label or is_spam, and keeps id and status."""
    lines = [
        {"comment_content": "hello", "comment_author": "Ann", "label": "ham", "id": 7},
        {"content": "buy", "is_spam": True, "status": "spam"},
        {"content": "no label here"},
    ]
    path = write(tmp_path, "d.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    records = list(read_records(path))
    assert [(r.label, r.id, r.status, r.comment.content) for r in records] == [
        (False, "7", None, "hello"), (True, None, "spam", "buy"), (None, None, None, "no label here")
    ]
    assert records[0].comment.author == "Ann"


def test_bad_rows_become_rejects_with_line_and_reason(tmp_path):
    """Unknown label, no content, broken JSON and invalid UTF-8 are rejected; reading goes on."""
    data = (
        b'{"content": "ok", "label": "spam"}\n'
        b'{"content": "x", "label": "maybe"}\n'
        b'{"content": "", "label": "ham"}\n'
        b'{"content": "broken\n'
        b'{"content": "caf\xe9", "label": "ham"}\n'
        b'{"content": "last", "label": "ham"}\n'
    )
    path = write(tmp_path, "bad.jsonl", data)
    items = list(read_records(path))
    assert [type(i).__name__ for i in items] == ["Record", "Reject", "Reject", "Reject", "Reject", "Record"]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [r.line for r in rejects] == [2, 3, 4, 5]
    assert "unknown label 'maybe'" in rejects[0].reason
    assert rejects[1].reason == "no content"
    assert rejects[2].reason.startswith("broken JSON")
    assert rejects[3].reason == "invalid UTF-8"
    assert str(rejects[0]) == f"{path}:2: {rejects[0].reason}"
    assert [i.position for i in items] == [1, 2, 3, 4, 5, 6]


def test_csv_bad_rows_report_the_line_where_the_row_starts(tmp_path):
    """In a CSV with multi-line fields the reject's line is where its row starts."""
    path = write(tmp_path, "y.csv", YOUTUBE + 'a3,C,,"two\nlines",7\na4,D,,,1\n')
    rejects = [i for i in read_records(path) if isinstance(i, Reject)]
    assert [(r.line, r.reason) for r in rejects] == [
        (5, "unknown label '7' (expected spam or ham, 1 or 0, true or false)"),
        (7, "no content"),
    ]


def test_gzip_is_transparent_and_format_detected_inside(tmp_path):
    """A gzip file (whatever its name) is recognised by its magic bytes."""
    path = write(tmp_path, "sms.data", gzip.compress(b"spam\tWIN now\nham\thi\n"))
    assert detect_format(path) == "tsv"
    assert [r.label for r in read_records(path)] == [True, False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"content": "x"}\n', "jsonl"),
        ("ham\thello\n", "tsv"),
        ("content,label\nx,spam\n", "csv"),
        (YOUTUBE, "csv"),
    ],
)
def test_detect_format_from_content(tmp_path, text, expected):
    """The format comes from the first line, not the file name."""
    assert detect_format(write(tmp_path, "data.bin", text)) == expected


def test_undetectable_format_says_how_to_force_it(tmp_path):
    """Content that matches no format raises DumpFormatError naming the file and format=."""
    path = write(tmp_path, "notes.md", "just some prose, nothing else\n")
    with pytest.raises(DumpFormatError, match="notes.md.*format="):
        list(read_records(path))


def test_forced_format_wins_over_detection(tmp_path):
    """format= forces a reader: here a JSON-looking line read as plain lines."""
    path = write(tmp_path, "spam-lines.txt", '{"content": "x"}\n\nsecond\n')
    records = list(read_records(path, format="lines"))
    assert [(r.comment.content, r.label, r.line) for r in records] == [
        ('{"content": "x"}', True, 1), ("second", True, 3)
    ]


def test_lines_take_the_label_from_the_file_name(tmp_path):
    """tg-spam style .txt files: spam in the name means spam, ham means ham."""
    ham = write(tmp_path, "ham-samples.txt", "Привет всем\n\nкак дела\n")
    assert [(r.label, r.comment.content) for r in read_records(ham)] == [(False, "Привет всем"), (False, "как дела")]


def test_file_objects_binary_and_text_and_stdin(tmp_path, monkeypatch):
    """Binary and text file objects are read and left open; '-' reads standard input."""
    binary = io.BytesIO(gzip.compress(b"ham\thi\n"))
    assert [r.comment.content for r in read_records(binary, source="upload")] == ["hi"]
    assert not binary.closed
    text = io.StringIO("spam\tbuy\n")
    assert [r.source for r in read_records(text, source="s")] == ["s"]
    assert not text.closed

    class FakeStdin:
        buffer = io.BytesIO(b'{"content": "from stdin", "label": "ham"}\n')

    monkeypatch.setattr("sys.stdin", FakeStdin)
    records = list(read_records("-"))
    assert [(r.comment.content, r.source) for r in records] == [("from stdin", "<stdin>")]


def test_reading_is_lazy(tmp_path):
    """The reader is a generator: the first record arrives before the rest are read."""
    path = write(tmp_path, "big.tsv", "ham\thello\n" * 10 + "spam\tnot\xff\n")
    reader = read_records(path)
    first = next(reader)
    assert isinstance(first, Record) and first.line == 1
    reader.close()


def test_unknown_format_name_is_refused(tmp_path):
    """format= must be one of the known formats."""
    with pytest.raises(DumpFormatError, match="unknown dump format 'xml'"):
        next(read_records(write(tmp_path, "a.tsv", "ham\tx\n"), format="xml"))


def test_missing_file_is_a_clear_error(tmp_path):
    """A path that does not exist raises DumpFormatError naming it."""
    with pytest.raises(DumpFormatError, match="cannot open .*nope.jsonl"):
        next(read_records(tmp_path / "nope.jsonl"))
