"""Raw JSONL chunks: counting their lines and records in the parent, reading them on a worker.

The parent cuts JSONL input into chunks of raw lines without parsing them
(:func:`count_lines` and :func:`is_record_line` count the lines and records), so reading is
spread over the workers too; :func:`parse_raw` reads a chunk there exactly as
:func:`~spamguard.dumps.read_records` reads the whole file: the same positions, lines,
Records and Rejects. Lines end as they do for that reader: at ``\\n``, ``\\r\\n`` or a bare ``\\r``.
"""

from __future__ import annotations

from ..dumps import Record, Reject, jsonl_item
from ._task import Task

__all__ = ["is_record_line", "count_lines", "parse_raw"]

_BLANK = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
"""The ASCII characters str.strip() takes off (bytes.strip() keeps the last four), so blank means the same."""


def parse_raw(task: Task) -> list[Record | Reject]:
    """The Records and Rejects of a raw JSONL chunk, placed in the whole input as :func:`read_records` places them."""
    text = task.payload.decode("utf-8", "surrogateescape")
    if task.base_line == 1:
        text = text.removeprefix("\ufeff")  # what read_records' utf-8-sig takes off a file's start
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[Record | Reject] = []
    position, source = task.base_position, task.source
    for number, line in enumerate(text.split("\n"), start=task.base_line):
        if not line or line.isspace():
            continue
        out.append(jsonl_item(line, position, number, source))
        position += 1
    if len(out) != task.expected:  # pragma: no cover - the parent counts lines and records as this does
        raise RuntimeError(
            f"internal error: a chunk starting at line {task.base_line} holds {len(out)} records, "
            f"but {task.expected} were counted"
        )
    return out


def is_record_line(line: bytes, *, first: bool = False) -> bool:
    """True when the JSONL reader counts this line as a record (anything but white space)."""
    if first:
        line = line.removeprefix(b"\xef\xbb\xbf")
    if line.isascii():
        return bool(line.strip(_BLANK))
    return bool(line.decode("utf-8", "surrogateescape").strip())


def count_lines(text: bytes, *, first: bool = False) -> tuple[int, int]:
    """The lines and records in ``text``, one line of input up to ``\\n`` that holds bare carriage returns.

    Each bare ``\\r`` ends a line too, as it does for :func:`~spamguard.dumps.read_records`.
    """
    pieces = text.splitlines()  # at \n, \r\n and \r, as the reader's text stream does
    records = sum(is_record_line(piece, first=first and i == 0) for i, piece in enumerate(pieces))
    return len(pieces), records
