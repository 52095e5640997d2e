"""Verdict and Action: the values every backend hands back."""

import json

import attrs
import pytest

from spamguard import Action, Verdict


def test_verdict_is_immutable():
    """A verdict cannot be changed after it is made; evolve makes a changed copy."""
    verdict = Verdict(spam=True, score=0.9, source="local")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        verdict.spam = False  # type: ignore[misc]
    assert attrs.evolve(verdict, action=Action.SPAM).action is Action.SPAM


@pytest.mark.parametrize("score", [-0.1, 1.5])
def test_verdict_refuses_a_score_outside_zero_and_one(score):
    """A score is a probability, so values outside [0, 1] are a bug in the backend."""
    with pytest.raises(ValueError, match="between 0 and 1"):
        Verdict(spam=True, score=score)


def test_verdict_to_dict_is_json_ready():
    """to_dict gives plain values that json.dumps accepts, enums as their names."""
    verdict = Verdict(
        spam=False,
        score=None,
        action=Action.HOLD,
        source="akismet",
        reasons=["provisional"],
        recheck_after=120,
        guid="abc",
        alerts={"code": "10005", "msg": "key in use elsewhere"},
    )
    data = verdict.to_dict()
    assert json.loads(json.dumps(data)) == {
        "spam": False,
        "score": None,
        "discard": False,
        "action": "hold",
        "source": "akismet",
        "reasons": ["provisional"],
        "recheck_after": 120,
        "guid": "abc",
        "alerts": {"code": "10005", "msg": "key in use elsewhere"},
        "fallback_reason": None,
    }
    assert verdict.provisional


def test_verdicts_with_equal_alerts_are_equal_and_hashable():
    """Alerts are compared by content, and a verdict can be used in a set."""
    one = Verdict(spam=True, alerts={"code": "1"})
    two = Verdict(spam=True, alerts={"code": "1"})
    assert one == two
    assert len({one, two}) == 1


def test_action_values_are_stable_strings():
    """Action values are what the CLI and dumps write, so they must not change."""
    assert [a.value for a in Action] == ["approve", "hold", "spam", "discard"]
    assert str(Action.DISCARD) == "discard"


def test_sources_are_the_documented_plain_strings() -> None:
    """Source names who decided with the strings Verdict.source has always held, as plain str (JSON as is)."""
    from spamguard import Source

    assert (Source.AKISMET, Source.LOCAL, Source.GUARD) == ("akismet", "local", "guard")
    verdict = Verdict(spam=True, source=Source.LOCAL)
    assert type(verdict.source) is str and json.loads(json.dumps(verdict.to_dict()))["source"] == "local"
