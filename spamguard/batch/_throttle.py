"""A rate limit for remote calls: :class:`Throttled` spaces a classifier's calls, across threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from ..classifier import Classifier
from ..comment import Comment
from ..verdict import Verdict

__all__ = ["Throttled"]


class Throttled:
    """A classifier wrapper that spaces calls to at most ``rate`` a second, across threads."""

    def __init__(self, inner: Classifier, rate: float) -> None:
        self.inner = inner
        self._interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def _wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            time.sleep(slot - now)

    def check(self, comment: Comment) -> Verdict:
        """Wait for a free slot, then judge the comment."""
        self._wait()
        return self.inner.check(comment)

    def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        """Judge comments one at a time, each in its own slot."""
        return [self.check(c) for c in comments]

    def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        self.inner.submit_spam(comment, verdict)

    def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        self.inner.submit_ham(comment, verdict)
