"""The two things a dump reader yields: a readable :class:`Record` or a :class:`Reject`."""

from __future__ import annotations

import attrs

from ..comment import Comment


@attrs.frozen(kw_only=True)
class Record:
    """One comment read from a dump.

    ``position`` counts records from 1 in input order (rejects included), ``line`` is the
    line where the record starts in its file, ``id`` is the dump's own id when it has one,
    ``label`` is ``True`` for spam, ``False`` for ham and ``None`` when the dump does not
    say, and ``status`` is the moderation status the dump recorded (WXR: ``approved``,
    ``hold``, ``spam``, ``trash``), if any.
    """

    position: int
    line: int
    comment: Comment
    id: str | None = None
    label: bool | None = None
    status: str | None = None
    source: str | None = None


@attrs.frozen(kw_only=True)
class Reject:
    """A record a reader could not use: where it was (``source`` file, ``line``) and why."""

    position: int
    line: int
    reason: str
    raw: str = ""
    source: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.source else f"line {self.line}"
        return f"{where}: {self.reason}"
