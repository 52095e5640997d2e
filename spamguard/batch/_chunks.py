"""Cutting a batch run's input into chunks of work (:class:`Chunker`), a bounded number at a time.

Each chunk is a :class:`~spamguard.batch._task.Task` for a worker and a :class:`Meta` the
parent keeps: where the chunk ends in the input (position, line, byte offset), so the
checkpoint can say how far the run got once the chunk's output is on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import attrs

from ..dumps import Record, Reject, iter_raw_comments, read_dump
from ..errors import CheckpointError
from ..policy import Policy
from ._jsonl import count_lines, is_record_line
from ._task import Task, pack_record

__all__ = ["Chunker", "Meta", "repack", "skip_bytes"]

MAX_CHUNK_BYTES = 4 << 20
"""A raw JSONL chunk ends here even if it holds fewer records than the chunk size."""


@attrs.define
class Meta:
    """What the parent remembers about a chunk in flight: where it ends, and the reader's rejects in it."""

    end_position: int
    end_line: int
    end_offset: int | None
    reader_rejects: list[dict[str, Any]]
    size: int


@attrs.define(kw_only=True)
class Chunker:
    """Makes the chunks of one run; ``packing`` turns Records into plain values for other processes."""

    size: int
    source: str
    out_format: str
    only_changed: bool
    spec: tuple[Any, ...]
    policy: Policy
    packing: bool = False

    def _task(self, kind: str, payload: Any, count: int, position: int = 0, line: int = 0) -> Task:
        return Task(kind, position, line, payload, count, self.source, self.out_format, self.only_changed,
                    self.spec, self.policy)

    def raw(self, stream: IO[bytes], *, offset: int, line: int, position: int) -> Iterator[tuple[Task | None, Meta]]:
        """JSONL as raw lines: the workers parse them. Starts after ``line``/``position`` at byte ``offset``."""
        lines: list[bytes] = []
        nbytes = count = 0
        line_no = line
        first_line = line_no == 0
        base_line, base_position = line_no + 1, position + 1
        for text in stream:
            lines.append(text)
            nbytes += len(text)
            cr = text.find(b"\r")
            if cr < 0 or (cr == len(text) - 2 and text[-1] == 10):  # no carriage return but in a CRLF line end
                line_no += 1
                if is_record_line(text, first=first_line):
                    count += 1
            else:
                more_lines, more_records = count_lines(text, first=first_line)
                line_no += more_lines
                count += more_records
            first_line = False
            if count >= self.size or nbytes >= MAX_CHUNK_BYTES:
                offset += nbytes
                task = self._task("raw", b"".join(lines), count, base_position, base_line)
                yield task, Meta(base_position + count - 1, line_no, offset, [], count)
                base_position += count
                base_line = line_no + 1
                lines, nbytes, count = [], 0, 0
        if lines:
            offset += nbytes
            task = self._task("raw", b"".join(lines), count, base_position, base_line)
            yield task, Meta(base_position + count - 1, line_no, offset, [], count)

    def wxr(self, stream: IO[bytes], *, after: int) -> Iterator[tuple[Task | None, Meta]]:
        """WXR: the XML is parsed here; each comment is checked and built on a worker."""
        batch: list[Any] = []
        for item in iter_raw_comments(stream, source=self.source):
            if item[0] <= after:
                continue
            batch.append(item)
            if len(batch) >= self.size:
                yield self._task("wxr", batch, len(batch)), Meta(item[0], item[1], None, [], len(batch))
                batch = []
        if batch:
            yield self._task("wxr", batch, len(batch)), Meta(batch[-1][0], batch[-1][1], None, [], len(batch))

    def records(self, stream: IO[bytes], fmt: str, *, after: int, line: int) -> Iterator[tuple[Task | None, Meta]]:
        """CSV, TSV and lines: read here; the reader's rejects ride along in the Meta."""
        batch: list[Any] = []
        rejects: list[dict[str, Any]] = []
        last_position, last_line = after, line
        for item in read_dump(stream, fmt, source=self.source):
            if item.position <= after:
                continue
            last_position, last_line = item.position, item.line
            if isinstance(item, Reject):
                rejects.append({"position": item.position, "line": item.line, "reason": item.reason,
                                "raw": item.raw, "source": item.source})
            else:
                batch.append(pack_record(item) if self.packing else item)
            if len(batch) + len(rejects) >= self.size:
                yield self._records(batch), Meta(last_position, last_line, None, rejects, len(batch))
                batch, rejects = [], []
        if batch or rejects:
            yield self._records(batch), Meta(last_position, last_line, None, rejects, len(batch))

    def _records(self, batch: list[Any]) -> Task | None:
        return self._task("records", batch, len(batch)) if batch else None


def repack(task: Task | None) -> Task | None:
    """A records task made before the executor was chosen, with its Records as plain values."""
    if task is None or task.kind != "records":
        return task
    payload = [pack_record(r) if isinstance(r, Record) else r for r in task.payload]
    return attrs.evolve(task, payload=payload)


def skip_bytes(stream: IO[bytes], count: int) -> None:
    """Move a stream ``count`` bytes on (seek where it can, read and drop otherwise)."""
    try:
        stream.seek(count)
        return
    except (OSError, ValueError):
        pass
    left = count
    while left > 0:
        data = stream.read(min(left, 1 << 20))
        if not data:
            raise CheckpointError("cannot resume: the input ends before the checkpoint's position")
        left -= len(data)
