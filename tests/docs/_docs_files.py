"""The sample files the ``files`` directive puts in a block's folder."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from _docblocks import REPO

# --- sample files -------------------------------------------------------------------------------------


def _make_dump(path: Path, n: int, *, seed: int = 0, fmt: str | None = None) -> None:
    argv = [sys.executable, str(REPO / "benchmarks" / "make_dump.py"), str(n), "-o", str(path), "--seed", str(seed)]
    subprocess.run([*argv, *(["--format", fmt] if fmt else [])], check=True, capture_output=True, timeout=60)  # noqa: S603


def fill_feedback(location: str, scratch: Path) -> None:
    """Forty moderators' decisions (synthetic comments, half spam) in the store at ``location``."""
    from spamguard import FeedbackStore
    from spamguard.dumps import read_records

    dump = scratch / "feedback-source.jsonl"
    _make_dump(dump, 40, seed=2)
    store = FeedbackStore(location)
    try:
        for record in read_records(dump):
            store.record(record.comment, bool(record.label))
    finally:
        store.close()


SAMPLE_FILES: dict[str, Callable[[Path], None]] = {
    "comments.jsonl": lambda p: _make_dump(p, 40),
    "export.xml": lambda p: _make_dump(p, 40, fmt="wxr"),
    "export.xml.gz": lambda p: _make_dump(p, 40, fmt="wxr"),
    "big.jsonl.gz": lambda p: _make_dump(p, 1200),  # three chunks: one alone would be judged in the parent
    "held-out.jsonl": lambda p: _make_dump(p, 60, seed=1),
    "site-comments.jsonl": lambda p: _make_dump(p, 200, seed=2),
    "feedback.sqlite3": lambda p: fill_feedback(str(p), p.parent.parent / "scratch"),
}
"""The files ``files NAME`` puts in the folder: synthetic dumps from benchmarks/make_dump.py
(labelled; WXR for .xml), and a feedback store of forty moderators' decisions."""

