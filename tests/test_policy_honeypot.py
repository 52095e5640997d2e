"""The policy's honeypot rule: a comment with a filled honeypot is never published, whoever judged it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from spamguard import HONEYPOT_REASON, Action, AkismetClient, Comment, Guard, LocalModel, Policy, Source
from spamguard.batch import rescore
from spamguard.testing import FakeAkismet


@pytest.fixture
def guard() -> Iterator[Guard]:
    """A Guard asking a FakeAkismet, which ignores honeypots (so the override shows)."""
    with FakeAkismet(valid_keys={"test-key"}) as server:
        client = AkismetClient("test-key", "https://blog.example/", base_url=server.url)
        with Guard(remote=client, mode="remote-first", latency_budget=None) as g:
            yield g


def comment(honeypot: str | None, **fields: str) -> Comment:
    return Comment(
        content="Lovely photos, thanks", user_ip="198.51.100.20",
        honeypot_field_name="spamguard_hp", honeypot_value=honeypot, **fields,
    )


def test_a_filled_honeypot_turns_an_approval_into_spam(guard: Guard) -> None:
    """Akismet approved it, but a bot filled the hidden field: it goes to spam, saying why."""
    verdict = guard.check(comment("http://bot.example"))

    assert (verdict.spam, verdict.action, verdict.source) == (True, Action.SPAM, "akismet")
    assert verdict.reasons[-1] == HONEYPOT_REASON


@pytest.mark.parametrize("honeypot", [None, "", "   "])
def test_an_empty_honeypot_changes_nothing(guard: Guard, honeypot: str | None) -> None:
    """An empty (or whitespace) honeypot is a person: the Guard's verdict stands."""
    verdict = guard.check(comment(honeypot))

    assert (verdict.spam, verdict.action, verdict.reasons) == (False, Action.APPROVE, ())


def test_spam_and_discard_stay_as_they_are(guard: Guard) -> None:
    """A verdict that already keeps the comment out is not softened or changed."""
    spam = guard.check(comment("x", author="akismet-guaranteed-spam"))
    discard = guard.check(Comment(
        content="akismet-discard", user_ip="198.51.100.20", honeypot_field_name="hp", honeypot_value="x",
    ))

    assert (spam.action, discard.action) == (Action.SPAM, Action.DISCARD)
    assert HONEYPOT_REASON not in spam.reasons


def test_the_override_can_be_switched_off() -> None:
    """Policy(honeypot_is_spam=False) leaves the verdict to the classifiers (Akismet ignores it here)."""
    with FakeAkismet(valid_keys={"test-key"}) as server:
        client = AkismetClient("test-key", "https://blog.example/", base_url=server.url)
        policy = Policy(honeypot_is_spam=False)
        with Guard(remote=client, mode="remote-first", latency_budget=None, policy=policy) as g:
            verdict = g.check(comment("http://bot.example"))
    assert (verdict.spam, verdict.action) == (False, Action.APPROVE)


# --- one rule, everywhere a verdict becomes an action ---------------------------------------------

BOT = Comment(content="I love this song", user_ip="198.51.100.20", user_agent="Mozilla/5.0",
              honeypot_field_name="website2", honeypot_value="http://bot.example")


def test_the_local_model_leaves_the_decision_to_the_policy() -> None:
    """The model scores the honeypot as one signal among others; the Guard's policy makes it spam, saying why once."""
    model = LocalModel.load()
    judged = model.check(BOT)
    assert (judged.spam, judged.action) == (False, None)  # the words are harmless: the model alone says ham
    with Guard(local=model) as guard:
        verdict = guard.check(BOT)
    assert (verdict.spam, verdict.action, verdict.source) == (True, Action.SPAM, Source.LOCAL)
    assert verdict.reasons.count(HONEYPOT_REASON) == 1


def test_a_suspicious_local_verdict_names_the_honeypot_once() -> None:
    """When the model itself names the honeypot among its reasons, the policy does not add it again."""
    suspicious = Comment(content="hello", user_ip="203.0.113.11", honeypot_field_name="website", honeypot_value="x")
    with Guard(local=LocalModel.load()) as guard:
        verdict = guard.check(suspicious)
    assert verdict.action in (Action.SPAM, Action.DISCARD)
    assert verdict.reasons.count(HONEYPOT_REASON) == 1


def test_rescore_never_approves_a_filled_honeypot(tmp_path: Path) -> None:
    """spamguard rescore gives a filled honeypot the policy's action too, whatever the model said."""
    dump = tmp_path / "dump.jsonl"
    rows = [{"id": "bot", **BOT.to_akismet(), "honeypot_field_name": "website2"},
            {"id": "person", "comment_content": "I love this song", "user_ip": "198.51.100.21"}]
    dump.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    rescore(dump, tmp_path / "out.jsonl", executor="serial", progress=False)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(row["id"], row["action"]) for row in out] == [("bot", "spam"), ("person", "approve")]
