"""The Policy: verdict -> moderation action."""

from __future__ import annotations

import pytest

from spamguard import Action, ConfigurationError, Policy, Verdict

POLICY = Policy(discard_threshold=0.98, hold_threshold=0.35)


@pytest.mark.parametrize(
    ("verdict", "action"),
    [
        (Verdict(spam=True, source="akismet"), Action.SPAM),
        (Verdict(spam=True, discard=True, source="akismet"), Action.DISCARD),
        (Verdict(spam=False, source="akismet"), Action.APPROVE),
        (Verdict(spam=False, source="akismet", recheck_after=3600), Action.HOLD),
        (Verdict(spam=True, score=0.99, source="local"), Action.DISCARD),
        (Verdict(spam=True, score=0.98, source="local", fallback_reason="timeout"), Action.DISCARD),
        (Verdict(spam=True, score=0.97, source="local"), Action.SPAM),
        (Verdict(spam=True, score=0.99, source="akismet+local"), Action.SPAM),  # combined: only the remote discards
        (Verdict(spam=True, score=0.5, discard=True, source="akismet+local"), Action.DISCARD),
        (Verdict(spam=False, score=0.40, source="local"), Action.HOLD),
        (Verdict(spam=False, score=0.35, source="local"), Action.HOLD),
        (Verdict(spam=False, score=0.34, source="local"), Action.APPROVE),
        (Verdict(spam=False, score=0.1, source="local", fallback_reason="timeout"), Action.APPROVE),
        (Verdict(spam=False, source="guard", fallback_reason="unavailable"), Action.HOLD),  # nobody answered
    ],
)
def test_default_policy_table(verdict: Verdict, action: Action) -> None:
    """Each kind of verdict leads to the documented action."""
    assert POLICY.decide(verdict) == action
    assert POLICY.apply(verdict) == Verdict(**{**_fields(verdict), "action": action})


def _fields(v: Verdict) -> dict[str, object]:
    return {k: getattr(v, k) for k in ("spam", "score", "discard", "action", "source", "reasons", "recheck_after",
                                       "guid", "alerts", "fallback_reason")}


def test_switches() -> None:
    """Thresholds switch off with None; provisional and fallback holds are settings."""
    relaxed = Policy(discard_threshold=None, hold_threshold=None, hold_provisional=False)
    assert relaxed.decide(Verdict(spam=True, score=1.0, source="local")) == Action.SPAM
    assert relaxed.decide(Verdict(spam=False, score=0.49, source="local")) == Action.APPROVE
    assert relaxed.decide(Verdict(spam=False, recheck_after=60, source="akismet")) == Action.APPROVE
    cautious = Policy(hold_fallback_hams=True)
    assert cautious.decide(Verdict(spam=False, score=0.01, source="local", fallback_reason="timeout")) == Action.HOLD


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"discard_threshold": 1.5}, "discard_threshold must be between 0 and 1"),
        ({"hold_threshold": -0.1}, "hold_threshold must be between 0 and 1"),
        ({"hold_threshold": 0.9, "discard_threshold": 0.8}, "must not be above"),
    ],
)
def test_bad_settings(kwargs: dict[str, float], message: str) -> None:
    """Out-of-range thresholds are refused with the setting's name."""
    with pytest.raises(ValueError, match=message):
        Policy(**kwargs)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """SPAMGUARD_* variables set the thresholds; arguments win; bad values are named."""
    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "0.9")
    monkeypatch.setenv("SPAMGUARD_HOLD_THRESHOLD", "off")
    monkeypatch.setenv("SPAMGUARD_HOLD_FALLBACK_HAMS", "yes")
    assert Policy.from_env() == Policy(discard_threshold=0.9, hold_threshold=None, hold_fallback_hams=True)
    assert Policy.from_env(discard_threshold=0.95).discard_threshold == 0.95
    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "high")
    with pytest.raises(ConfigurationError, match="SPAMGUARD_DISCARD_THRESHOLD"):
        Policy.from_env()
