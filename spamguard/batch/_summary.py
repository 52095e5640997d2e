"""What a rescore run counts: :class:`Progress` (saved in its checkpoint) and the :class:`Summary` it returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._chunks import Meta
from ._task import Result

__all__ = ["Counts", "Progress", "Summary"]


@attrs.define(kw_only=True)
class Counts:
    """Records judged (``records``), judged spam, changed, written and rejected so far, and actions taken."""

    records: int = 0
    spam: int = 0
    changed: int = 0
    written: int = 0
    rejects: int = 0
    actions: dict[str, int] = attrs.Factory(dict)

    @property
    def handled(self) -> int:
        """Records judged or rejected."""
        return self.records + self.rejects

    def add(self, result: Result) -> None:
        """Count what a chunk gave (its rejects are counted with the reader's, by the run)."""
        self.records += result.records
        self.spam += result.spam
        self.changed += result.changed
        self.written += result.written
        for action, n in result.actions.items():
            self.actions[action] = self.actions.get(action, 0) + n


@attrs.define(kw_only=True)
class Progress:
    """How far a run has got in its input, and what it counted on the way; a checkpoint records it.

    ``position`` is the last input record fully handled, ``line`` its line, and ``offset`` the
    input bytes consumed (raw JSONL only; None for the other formats, which resume by position).
    """

    counts: Counts = attrs.Factory(Counts)
    position: int = 0
    line: int = 0
    offset: int | None = 0

    def passed(self, meta: Meta, *, raw: bool) -> None:
        """The run has handled everything up to the end of the chunk ``meta`` describes."""
        self.position, self.line = meta.end_position, meta.end_line
        self.offset = meta.end_offset if raw else None

    def to_state(self) -> dict[str, Any]:
        """The progress as the checkpoint's JSON keys (``counts``, ``position``, ``line``, ``offset``)."""
        return {"counts": attrs.asdict(self.counts), "position": self.position, "line": self.line,
                "offset": self.offset}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take up the progress a checkpoint recorded (what :meth:`to_state` gave)."""
        self.counts = Counts(**state["counts"])
        self.position, self.line, self.offset = state["position"], state["line"], state["offset"]


def _copy(actions: Mapping[str, int]) -> dict[str, int]:
    return dict(actions)


@attrs.frozen(kw_only=True)
class Summary:
    """What a :func:`rescore` run did (counts include the runs it resumed).

    ``records`` were judged, ``spam`` of them judged spam, ``changed`` of them differ from the
    status the dump recorded, ``rejects`` could not be read or judged, ``written`` output
    records were written (fewer than ``records`` with ``only_changed``). ``elapsed`` is this
    run's time in seconds and ``rate`` its records (judged and rejected) per second.
    """

    records: int
    spam: int
    changed: int
    rejects: int
    written: int
    elapsed: float
    rate: float
    actions: Mapping[str, int] = attrs.field(factory=dict, converter=_copy)
    resumed_from: int = 0
    output: str | None = None
    rejects_file: str | None = None

    @property
    def ham(self) -> int:
        """Records judged not spam."""
        return self.records - self.spam

    @property
    def spam_rate(self) -> float:
        """The share of judged records that are spam (0 when none were judged)."""
        return self.spam / self.records if self.records else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the summary, ``ham`` and ``spam_rate`` included."""
        data = attrs.asdict(self)
        data["ham"] = self.ham
        data["spam_rate"] = round(self.spam_rate, 6)
        data["elapsed"] = round(self.elapsed, 3)
        data["rate"] = round(self.rate, 1)
        return data

    def __str__(self) -> str:
        text = (
            f"rescored {self.records:,} records: {self.spam:,} spam ({100 * self.spam_rate:.1f}%), "
            f"{self.changed:,} changed, {self.rejects:,} rejected; {self.written:,} written"
        )
        if self.output:
            text += f" to {self.output}"
        text += f" in {self.elapsed:.1f} s ({self.rate:,.0f} records/s)"
        if self.resumed_from:
            text += f"; resumed after record {self.resumed_from:,}"
        return text
