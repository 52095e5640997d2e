"""The reader defects of issue 14, each pinned: bad input is a reject or one DumpFormatError naming the file."""

from __future__ import annotations

import pytest

from spamguard.dumps import Reject, read_dump, read_records

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
