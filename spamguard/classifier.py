"""The :class:`Classifier` protocol that every backend and the Guard satisfy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from .comment import Comment
from .verdict import Verdict

__all__ = ["Classifier"]


@runtime_checkable
class Classifier(Protocol):
    """Anything that can judge comments and learn from corrections."""

    def check(self, comment: Comment) -> Verdict:
        """Judge one comment."""
        ...

    def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        """Judge many comments; the verdicts come back in input order."""
        ...

    def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report a comment that is spam (a missed spam when ``verdict`` said ham)."""
        ...

    def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report a comment that is not spam (a false positive when ``verdict`` said spam)."""
        ...
