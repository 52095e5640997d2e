"""Checking a comment from a web form: the Guard's verdict, with the honeypot enforced."""

from __future__ import annotations

from typing import Any

import attrs

from ..comment import Comment
from ..verdict import Action, Verdict

__all__ = ["HONEYPOT_REASON", "check_comment"]

HONEYPOT_REASON = "the hidden honeypot field was filled in"


def check_comment(guard: Any, comment: Comment) -> Verdict:
    """``guard.check(comment)``, except that a filled honeypot is never published.

    People never see the honeypot field, so a value in it means a bot. Akismet and the local
    model weigh it as a strong signal; this makes it decisive: a verdict that would approve
    or hold such a comment becomes ``SPAM`` (a ``DISCARD`` stays a ``DISCARD``).
    ``guard`` is a :class:`~spamguard.Guard` (or anything whose ``check`` sets ``action``).
    """
    verdict: Verdict = guard.check(comment)
    if not comment.honeypot_filled or verdict.action in (Action.SPAM, Action.DISCARD):
        return verdict
    reasons = verdict.reasons if HONEYPOT_REASON in verdict.reasons else (*verdict.reasons, HONEYPOT_REASON)
    return attrs.evolve(verdict, spam=True, action=Action.SPAM, reasons=reasons)
