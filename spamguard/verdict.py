"""What a classifier decided about a comment (:class:`Verdict`) and what to do with it (:class:`Action`)."""

from __future__ import annotations

import enum
import types
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

__all__ = ["Action", "Source", "Verdict"]


class Action(str, enum.Enum):
    """The moderation action a verdict leads to."""

    APPROVE = "approve"
    """Publish the comment."""
    HOLD = "hold"
    """Put the comment in the moderation queue for a person to look at."""
    SPAM = "spam"
    """Keep the comment in the spam folder."""
    DISCARD = "discard"
    """Blatant spam: drop it without storing it."""

    def __str__(self) -> str:
        return self.value


class Source:
    """The names of who decided a verdict, as :attr:`Verdict.source` holds them (plain strings).

    A remote service's verdict says :data:`AKISMET`, the local model's :data:`LOCAL`; when no
    classifier could answer, the :class:`~spamguard.Guard`'s own verdict says :data:`GUARD`.
    ``both`` mode joins two with ``+`` (``"akismet+local"``). Other classifiers may name
    themselves as they like.
    """

    AKISMET: Final = "akismet"
    """An Akismet-compatible remote service (:class:`~spamguard.AkismetClient`)."""
    LOCAL: Final = "local"
    """The local model (:class:`~spamguard.LocalModel`), alone or as a fallback."""
    GUARD: Final = "guard"
    """The Guard itself: no classifier could answer, so it held the comment."""


_NO_ALERTS: Mapping[str, str] = types.MappingProxyType({})


def _freeze_mapping(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return types.MappingProxyType(dict(value)) if value else _NO_ALERTS  # one read-only empty view for all


def _to_tuple(value: Iterable[str]) -> tuple[str, ...]:
    """``tuple`` as a typed converter (mypy cannot type the bare builtin's generic)."""
    return tuple(value)


def _check_score(instance: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"Verdict.score must be between 0 and 1 or None, got {value!r}")


@attrs.frozen(kw_only=True)
class Verdict:
    """The answer of a classifier for one comment.

    ``spam`` is the decision; ``score`` the probability of spam where the source gives one
    (Akismet gives none). ``action`` is filled in by a :class:`~spamguard.Policy`.
    ``source`` names who decided (a :class:`Source` name: ``"akismet"``, ``"local"``, ...).
    ``reasons`` are short phrases a moderator understands. ``recheck_after`` (seconds) marks a provisional ham,
    ``guid`` is the service's id for the check, ``alerts`` carries account alerts
    (``{"code": ..., "msg": ...}``) and ``fallback_reason`` says why a fallback decided.
    """

    spam: bool = attrs.field(converter=bool)
    score: float | None = attrs.field(default=None, validator=_check_score)
    discard: bool = attrs.field(default=False, converter=bool)
    action: Action | None = None
    source: str = "unknown"
    reasons: tuple[str, ...] = attrs.field(default=(), converter=_to_tuple)
    recheck_after: int | None = None
    guid: str | None = None
    alerts: Mapping[str, str] = attrs.field(
        factory=dict, converter=_freeze_mapping, eq=attrs.cmp_using(eq=lambda a, b: dict(a) == dict(b)), hash=False
    )
    fallback_reason: str | None = None

    @property
    def provisional(self) -> bool:
        """True for a ham the service may still revise (it sent ``recheck_after``)."""
        return not self.spam and self.recheck_after is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the verdict (enums as their values)."""
        data = attrs.asdict(self, recurse=False)
        data["action"] = self.action.value if self.action is not None else None
        data["reasons"] = list(self.reasons)
        data["alerts"] = dict(self.alerts)
        return data
