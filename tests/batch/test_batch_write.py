"""Writing output rows: JSONL lines are exactly what json.dumps gives, CSV rows keep every field."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spamguard.batch._write import OUTPUT_FIELDS, writer_for

texts = st.text(max_size=30)
rows = st.fixed_dictionaries({
    "position": st.integers(1, 10**12),
    "id": st.none() | texts,
    "spam": st.booleans(),
    "score": st.none() | st.floats(0, 1) | st.sampled_from([0.0, 1.0, 1e-7, 0.1234565, math.nan, math.inf]),
    "action": st.sampled_from(["approve", "hold", "spam", "discard"]) | texts,
    "source": st.sampled_from(["local", "akismet"]) | texts,
    "reasons": st.lists(texts, max_size=4),
    "old_status": st.none() | st.sampled_from(["approved", "hold", "spam", "trash"]) | texts,
    "changed": st.none() | st.booleans(),
})
odd_values = st.integers() | st.booleans() | st.tuples(texts) | st.lists(st.integers(), min_size=1, max_size=2) \
    | st.lists(st.none() | st.booleans() | texts, min_size=1, max_size=2) | st.floats(0, 1).map(str)


@settings(max_examples=300, deadline=None)
@given(rows)
def test_jsonl_lines_are_what_json_dumps_gives(row: dict[str, Any]) -> None:
    """Any usual output row, with any Unicode in its text: the line json.dumps(ensure_ascii=False) gives."""
    data = writer_for("jsonl").encode([row, row])
    line = json.dumps(row, ensure_ascii=False) + "\n"
    assert data == (line + line).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(rows, st.sampled_from(OUTPUT_FIELDS), odd_values, st.booleans())
def test_unusual_rows_are_written_as_json_dumps_writes_them(row: dict[str, Any], field: str, value: Any,
                                                            reorder: bool) -> None:
    """A value of another type, or the fields in another order, still gives json.dumps' line."""
    row = {**row, field: value}
    if reorder:
        row = dict(reversed(list(row.items())))
    assert writer_for("jsonl").encode([row]) == (json.dumps(row, ensure_ascii=False) + "\n").encode()


def test_csv_rows_join_reasons_and_spell_booleans() -> None:
    """CSV: a header, then one row a record with reasons joined by '; ' and true/false/empty cells."""
    row = {"position": 3, "id": "c3", "spam": True, "score": 0.5, "action": "spam", "source": "local",
           "reasons": ["2 links", "the word 'casino'"], "old_status": None, "changed": False}
    writer = writer_for("csv")
    assert writer.header() + writer.encode([row]) == (
        b"position,id,spam,score,action,source,reasons,old_status,changed\r\n"
        b"3,c3,true,0.5,spam,local,2 links; the word 'casino',,false\r\n"
    )
