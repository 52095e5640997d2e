"""What travels between a rescore run and its workers: a :class:`Task` out, a :class:`Result` back.

Both are pickled for worker processes and Dask workers, so they hold plain values: Records
read in the parent travel as :func:`pack_record` tuples.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..comment import Comment
from ..dumps import Record
from ..policy import Policy

__all__ = ["Task", "Result", "pack_record", "unpack_record"]


@attrs.frozen
class Task:
    """One chunk of work: ``kind`` is ``"raw"`` (JSONL bytes), ``"wxr"`` (WXR comments as read) or ``"records"``."""

    kind: str
    base_position: int  # position of the first record in the chunk
    base_line: int  # line of the first byte of a raw chunk
    payload: Any
    expected: int  # records in a raw chunk, as the reader counts them
    source: str
    out_format: str
    only_changed: bool
    spec: tuple[Any, ...]
    policy: Policy  # the action for verdicts that come without one, as a Guard would decide it


@attrs.frozen
class Result:
    """What a chunk gave: encoded output rows, rejects (JSON-ready dicts) and counts."""

    data: bytes
    rejects: list[dict[str, Any]]
    records: int
    spam: int
    changed: int
    written: int
    actions: dict[str, int]


def pack_record(record: Record) -> tuple[Any, ...]:
    """A Record as plain picklable values (its comment as a field dict)."""
    fields = attrs.asdict(record.comment, recurse=False)
    fields["extra"] = dict(fields["extra"])
    return (record.position, record.line, record.id, record.status, record.label, record.source, fields)


def unpack_record(item: Record | tuple[Any, ...]) -> Record:
    """A Record from :func:`pack_record`'s values (a Record is returned as it is)."""
    if isinstance(item, Record):
        return item
    position, line, ident, status, label, source, fields = item
    return Record(position=position, line=line, comment=Comment(**fields), id=ident, status=status,
                  label=label, source=source)
