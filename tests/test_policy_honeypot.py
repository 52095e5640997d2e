"""The Guard's policy: a comment with a filled honeypot is never published, whoever judged it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spamguard import HONEYPOT_REASON, Action, AkismetClient, Comment, Guard, Policy
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
