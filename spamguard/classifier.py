"""The :class:`Classifier` protocol that every backend and the Guard satisfy, and its asyncio twin
:class:`AsyncClassifier` (:class:`~spamguard.AsyncAkismetClient`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from .comment import Comment
from .verdict import Verdict

__all__ = ["AsyncClassifier", "Classifier"]


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


@runtime_checkable
class AsyncClassifier(Protocol):
    """:class:`Classifier` for asyncio code: the same methods, awaited (a Guard's ``aremote``)."""

    async def check(self, comment: Comment) -> Verdict:
        """Judge one comment."""
        ...

    async def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        """Judge many comments; the verdicts come back in input order."""
        ...

    async def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report a comment that is spam."""
        ...

    async def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report a comment that is not spam."""
        ...
