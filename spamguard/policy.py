"""The moderation :class:`Policy`: which :class:`~spamguard.Action` a verdict leads to.

The one place where a verdict becomes an action, for every way in: the
:class:`~spamguard.Guard` applies it to each check, ``spamguard rescore`` to each record and
``spamguard serve`` to each comment-check (spam or discard means ``true``). The honeypot rule
is here too, and only here: a comment whose hidden field came back filled is never approved.
"""

from __future__ import annotations

from typing import Any

import attrs

from . import _settings
from .comment import Comment
from .errors import ConfigurationError
from .verdict import Action, Source, Verdict

__all__ = ["Policy", "HONEYPOT_REASON", "DEFAULT_DISCARD_THRESHOLD", "DEFAULT_HOLD_THRESHOLD"]

HONEYPOT_REASON = "the hidden honeypot field was filled in"
"""The reason a verdict gives for a filled honeypot (the Policy adds it; the local model names it)."""
DEFAULT_DISCARD_THRESHOLD = 0.98
"""The local model's spam score from which spam is discarded, unless configured."""
DEFAULT_HOLD_THRESHOLD = 0.35
"""The local model's score from which a ham is held for a person, unless configured."""


def _threshold(instance: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"Policy.{attribute.name} must be between 0 and 1 or None, got {value!r}")


@attrs.frozen(kw_only=True)
class Policy:
    """Turns a verdict into a moderation action; frozen, so one policy can serve every thread.

    In order, for a **spam** verdict:

    * ``DISCARD`` when the remote service sent its discard tip (``verdict.discard``), or when
      the local model decided alone (``source`` is ``Source.LOCAL``, ``"local"``; fallbacks
      included) with a score at or above ``discard_threshold``;
    * ``SPAM`` otherwise.

    For a **ham** verdict:

    * ``HOLD`` when no classifier could answer (``source`` is ``Source.GUARD``, ``"guard"``);
    * ``HOLD`` when it is provisional (``recheck_after`` set) and ``hold_provisional``;
    * ``HOLD`` when it has a score at or above ``hold_threshold`` (the band just below the
      model's spam threshold, where it is unsure);
    * ``HOLD`` when a fallback decided (``fallback_reason`` set) and ``hold_fallback_hams``;
    * ``APPROVE`` otherwise.

    Whatever the verdict, a comment whose hidden honeypot field came back filled (a bot: people
    never see the field) is ``SPAM`` when ``honeypot_is_spam`` (the default) and the rules
    above would approve or hold it; a ``DISCARD`` stays a ``DISCARD``.

    ``None`` switches a threshold off. :meth:`from_env` reads ``SPAMGUARD_DISCARD_THRESHOLD``,
    ``SPAMGUARD_HOLD_THRESHOLD`` (``off`` to switch off) and ``SPAMGUARD_HOLD_FALLBACK_HAMS``.
    """

    discard_threshold: float | None = attrs.field(default=DEFAULT_DISCARD_THRESHOLD, validator=_threshold)
    hold_threshold: float | None = attrs.field(default=DEFAULT_HOLD_THRESHOLD, validator=_threshold)
    hold_provisional: bool = True
    hold_fallback_hams: bool = False
    honeypot_is_spam: bool = True

    def __attrs_post_init__(self) -> None:
        if (
            self.discard_threshold is not None
            and self.hold_threshold is not None
            and self.hold_threshold > self.discard_threshold
        ):
            raise ValueError(
                f"Policy.hold_threshold ({self.hold_threshold}) must not be above "
                f"discard_threshold ({self.discard_threshold})"
            )

    def decide(self, verdict: Verdict, comment: Comment | None = None) -> Action:
        """The action for ``verdict`` on ``comment`` (see the class docstring for the rules).

        Give the comment whenever you have it: the honeypot rule needs it.
        """
        action = self._decide_verdict(verdict)
        if self._honeypot_overrides(action, comment):
            return Action.SPAM
        return action

    def _honeypot_overrides(self, action: Action, comment: Comment | None) -> bool:
        return (
            self.honeypot_is_spam
            and comment is not None
            and comment.honeypot_filled
            and action in (Action.APPROVE, Action.HOLD)
        )

    def _decide_verdict(self, verdict: Verdict) -> Action:
        score = verdict.score
        if verdict.spam:
            if verdict.discard:
                return Action.DISCARD
            if (
                self.discard_threshold is not None
                and score is not None
                and verdict.source == Source.LOCAL
                and score >= self.discard_threshold
            ):
                return Action.DISCARD
            return Action.SPAM
        if verdict.source == Source.GUARD:
            return Action.HOLD
        if self.hold_provisional and verdict.recheck_after is not None:
            return Action.HOLD
        if self.hold_threshold is not None and score is not None and score >= self.hold_threshold:
            return Action.HOLD
        if self.hold_fallback_hams and verdict.fallback_reason is not None:
            return Action.HOLD
        return Action.APPROVE

    def apply(self, verdict: Verdict, comment: Comment | None = None) -> Verdict:
        """``verdict`` with its ``action`` set by :meth:`decide`.

        When a filled honeypot overrides the verdict, it is also marked spam and the reason says why.
        """
        action = self._decide_verdict(verdict)
        if self._honeypot_overrides(action, comment):
            reasons = verdict.reasons if HONEYPOT_REASON in verdict.reasons else (*verdict.reasons, HONEYPOT_REASON)
            return attrs.evolve(verdict, spam=True, action=Action.SPAM, reasons=reasons)
        return attrs.evolve(verdict, action=action)

    @classmethod
    def from_env(cls, **overrides: Any) -> Policy:
        """A policy from ``SPAMGUARD_*`` environment variables; keyword arguments win."""
        settings = _settings.policy()
        settings.update(overrides)
        try:
            return cls(**settings)
        except ValueError as exc:
            raise ConfigurationError(f"{exc} (check the SPAMGUARD_* settings)") from exc

