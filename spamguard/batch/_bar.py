"""The progress bar of a rescore run: a tqdm bar on stderr with bytes read, records handled and their rate."""

from __future__ import annotations

import gzip
import os
import sys
import time
from typing import IO

from ._chunks import Meta

__all__ = ["ProgressBar"]


class ProgressBar:
    """Bytes of the input read (a bar, when the size is known), records handled, records a second."""

    def __init__(self, stream: IO[bytes], *, input_path: str | None, raw: bool, earlier: int) -> None:
        from tqdm import tqdm  # only when a bar is shown

        total = os.path.getsize(input_path) if input_path else None
        self._fd = _fileno(stream)
        # Plain JSONL: the bytes handled so far are known exactly; otherwise the file position
        # (a little ahead of the work: chunks in flight) stands in for it.
        self._exact = raw and not isinstance(stream, gzip.GzipFile)
        self._earlier = earlier  # records handled by the runs this one resumes
        self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="rescore",
                         file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
        self._started = time.monotonic()

    @staticmethod
    def wanted(asked: bool | None) -> bool:
        """Show a bar when asked to, or (``None``) when stderr is a terminal."""
        return sys.stderr.isatty() if asked is None else asked

    def update(self, meta: Meta, handled: int) -> None:
        """The run has handled the chunk ``meta`` describes, and ``handled`` records in all."""
        done = None
        if self._exact and meta.end_offset is not None:
            done = meta.end_offset
        elif self._fd is not None:
            try:
                done = os.lseek(self._fd, 0, os.SEEK_CUR)
            except OSError:
                done = None
        if done is not None:
            self._bar.update(max(0, done - self._bar.n))
        seconds = max(time.monotonic() - self._started, 1e-9)
        self._bar.set_postfix_str(f"{handled:,} records, {(handled - self._earlier) / seconds:,.0f}/s", refresh=False)

    def close(self) -> None:
        """Close the bar."""
        self._bar.close()


def _fileno(stream: IO[bytes]) -> int | None:
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None
