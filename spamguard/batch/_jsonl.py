"""Raw JSONL chunks: counting their records in the parent, reading them on a worker.

The parent cuts JSONL input into chunks of raw lines without parsing them
(:func:`is_record_line` counts the records), so reading is spread over the workers too;
:func:`parse_raw` reads a chunk there exactly as :func:`~spamguard.dumps.read_records` would
read the whole file: the same positions, lines, Records and Rejects.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import attrs

from ..dumps import Record, Reject, jsonl_item, read_records
from ._task import Task

__all__ = ["is_record_line", "parse_raw"]


def parse_raw(task: Task) -> tuple[list[Record | Reject], int, int]:
    """The Records and Rejects of a raw JSONL chunk, as :func:`~spamguard.dumps.read_records` reads them.

    Returns them with what to add to their positions and lines to place them in the whole input
    (zero when they are placed already).
    """
    payload: bytes = task.payload
    # The common case, read here in one pass: no carriage returns but in CRLF line ends, so lines
    # end where the parent counted them (at b"\n") and where read_records would end them.
    if payload.count(b"\r") == payload.count(b"\r\n"):
        text = payload.decode("utf-8", "surrogateescape")
        if task.base_line == 1:
            text = text.removeprefix("\ufeff")  # what read_records' utf-8-sig takes off a file's start
        out: list[Record | Reject] = []
        position, source = task.base_position, task.source
        for number, line in enumerate(text.split("\n"), start=task.base_line):
            if not line or line.isspace():
                continue
            out.append(jsonl_item(line.rstrip("\r\n"), position, number, source))
            position += 1
        if len(out) == task.expected:
            return out, 0, 0
    items = list(read_records(io.BytesIO(task.payload), format="jsonl", source=task.source))
    if len(items) != task.expected:
        # The reader split lines differently (a bare carriage return inside a line, say): read
        # line by line so positions still match what the parent counted.
        return _parse_lines(task, read_records), 0, 0
    return items, task.base_position - 1, task.base_line - 1


def _parse_lines(task: Task, read: Callable[..., Iterable[Record | Reject]]) -> list[Record | Reject]:
    out: list[Record | Reject] = []
    position = task.base_position
    for offset, line in enumerate(task.payload.split(b"\n")):
        if not is_record_line(line, first=task.base_line == 1 and offset == 0):
            continue
        number = task.base_line + offset
        got = list(read(io.BytesIO(line), format="jsonl", source=task.source))
        if len(got) == 1:
            out.append(_shift(got[0], position - 1, number - 1))
        else:
            out.append(Reject(position=position, line=number, source=task.source,
                              reason="a carriage return or blank-looking character splits this line",
                              raw=line[:200].decode("utf-8", "replace")))
        position += 1
    return out


def is_record_line(line: bytes, *, first: bool = False) -> bool:
    """True when the JSONL reader counts this line as a record (anything but white space)."""
    if first:
        line = line.removeprefix(b"\xef\xbb\xbf")
    if line.isascii():
        return bool(line.strip())
    return bool(line.decode("utf-8", "surrogateescape").strip())


def _shift(item: Record | Reject, positions: int, lines: int) -> Record | Reject:
    if not positions and not lines:
        return item
    return attrs.evolve(item, position=item.position + positions, line=item.line + lines)
