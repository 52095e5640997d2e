"""Guard logic that does not depend on a network: modes, combination, shadow counts, reports.

The network behaviour (timeouts, outages, the circuit against a real server, invalid keys,
many threads) is tested against the loopback Akismet server in test_guard.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from spamguard import (
    Action,
    BackendTimeoutError,
    BackendUnavailableError,
    Classifier,
    Comment,
    ConfigurationError,
    FeedbackStore,
    Guard,
    InvalidKeyError,
    Verdict,
)


class Double:
    """A classifier double: answers with ``decide(comment)`` and remembers submissions."""

    def __init__(self, source: str, decide: Callable[[Comment], Verdict]) -> None:
        self.source = source
        self.decide = decide
        self.submitted: list[tuple[str, str, Verdict | None]] = []

    def check(self, comment: Comment) -> Verdict:
        return self.decide(comment)

    def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        return [self.check(c) for c in comments]

    def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        self.submitted.append(("spam", comment.content, verdict))

    def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        self.submitted.append(("ham", comment.content, verdict))


def keyword_remote(word: str = "pills") -> Double:
    return Double("akismet", lambda c: Verdict(spam=word in c.content, source="akismet", guid="g-1"))


def keyword_local(word: str = "casino", score_spam: float = 0.9, score_ham: float = 0.1) -> Double:
    def decide(c: Comment) -> Verdict:
        spam = word in c.content
        return Verdict(spam=spam, score=score_spam if spam else score_ham, source="local", reasons=(f"'{word}'",))
    return Double("local", decide)


def failing(exc: Exception) -> Double:
    def decide(c: Comment) -> Verdict:
        raise exc
    return Double("akismet", decide)


C_HAM = Comment(content="thanks, very helpful")
C_PILLS = Comment(content="cheap pills here")
C_CASINO = Comment(content="best casino online")


def test_guard_is_a_classifier(tmp_path: Path) -> None:
    """A Guard satisfies the Classifier protocol, and an empty feedback store still counts as given."""
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    guard = Guard(keyword_remote(), keyword_local(), feedback=store)
    assert isinstance(guard, Classifier)
    assert guard.feedback is store


def test_auto_mode_and_requirements() -> None:
    """auto picks remote-first with a remote, local-only without; modes name what they miss."""
    assert Guard(keyword_remote(), keyword_local()).mode == "remote-first"
    assert Guard(local=keyword_local()).mode == "local-only"
    with pytest.raises(ConfigurationError, match="needs a remote"):
        Guard(local=keyword_local(), mode="both")
    with pytest.raises(ConfigurationError, match="needs a local"):
        Guard(keyword_remote(), mode="shadow")
    with pytest.raises(ConfigurationError, match="not one of"):
        Guard(local=keyword_local(), mode="fastest")


def test_local_only_applies_policy_in_batch() -> None:
    """local-only check_many scores in one batch and sets actions in input order."""
    guard = Guard(local=keyword_local())
    verdicts = guard.check_many([C_HAM, C_CASINO])
    assert [(v.spam, v.action, v.source) for v in verdicts] == [(False, Action.APPROVE, "local"),
                                                                (True, Action.SPAM, "local")]
    assert guard.stats()["checks"] == 2


def test_remote_first_uses_remote_and_falls_back() -> None:
    """remote-first answers from the remote; when it fails the local verdict carries the reason."""
    assert Guard(keyword_remote(), keyword_local()).check(C_PILLS).source == "akismet"
    guard = Guard(failing(BackendUnavailableError("HTTP 503")), keyword_local())
    verdict = guard.check(C_CASINO)
    assert (verdict.source, verdict.spam, verdict.fallback_reason, verdict.action) == (
        "local", True, "unavailable", Action.SPAM)
    timeout = Guard(failing(BackendTimeoutError("read timed out")), keyword_local())
    assert timeout.check(C_HAM).fallback_reason == "timeout"
    assert guard.stats()["fallbacks"] == {"unavailable": 1}


def test_no_backend_answers_holds_the_comment() -> None:
    """Without a local model, a remote failure holds the comment rather than failing the request."""
    verdict = Guard(failing(BackendUnavailableError("refused"))).check(C_HAM)
    assert (verdict.spam, verdict.action, verdict.source, verdict.fallback_reason) == (
        False, Action.HOLD, "guard", "unavailable")


def test_unexpected_remote_error_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    """A bug in the remote (any exception) is logged and the local model answers."""
    verdict = Guard(failing(RuntimeError("boom")), keyword_local()).check(C_HAM)
    assert verdict.fallback_reason == "remote-error"
    assert "unexpected error" in caplog.text


@pytest.mark.parametrize(
    ("text", "spam", "source_spam"),
    [
        ("thanks, very helpful", False, ()),
        ("cheap pills here", True, ("akismet says spam",)),
        ("best casino online", True, ()),
    ],
)
def test_both_mode_combines(text: str, spam: bool, source_spam: tuple[str, ...]) -> None:
    """both: spam if either says spam; score and reasons from local; guid from the remote."""
    verdict = Guard(keyword_remote(), keyword_local(), mode="both").check(Comment(content=text))
    assert (verdict.spam, verdict.source, verdict.guid) == (spam, "akismet+local", "g-1")
    assert verdict.score == (0.9 if "casino" in text else 0.1)
    assert verdict.reasons == (*source_spam, "'casino'")


def test_both_mode_discard_only_from_remote() -> None:
    """A very sure local score does not discard in both mode; the remote's tip does."""
    sure_local = keyword_local(score_spam=0.999)
    guard = Guard(keyword_remote(), sure_local, mode="both")
    assert guard.check(C_CASINO).action == Action.SPAM
    tipping = Double("akismet", lambda c: Verdict(spam=True, discard=True, source="akismet"))
    assert Guard(tipping, sure_local, mode="both").check(C_HAM).action == Action.DISCARD
    assert Guard(local=sure_local).check(C_CASINO).action == Action.DISCARD


def test_shadow_remote_primary_counts_disagreements(caplog: pytest.LogCaptureFixture) -> None:
    """shadow: the remote decides, the local model is asked too and disagreements are counted."""
    caplog.set_level(logging.INFO, logger="spamguard")
    guard = Guard(keyword_remote(), keyword_local(), mode="shadow")
    verdicts = [guard.check(c) for c in (C_HAM, C_PILLS, C_CASINO, C_PILLS)]
    assert [v.source for v in verdicts] == ["akismet"] * 4
    assert [v.spam for v in verdicts] == [False, True, False, True]
    assert guard.stats()["shadow"] == {
        "compared": 4, "disagreements": 3, "akismet-spam-local-ham": 2, "akismet-ham-local-spam": 1,
    }
    assert "shadow disagreement: akismet says ham, local says spam" in caplog.text


def test_shadow_local_primary_asks_remote_in_background() -> None:
    """shadow_primary='local': the local model decides at once; the remote result is compared later."""
    slow_remote = Double("akismet", lambda c: (time.sleep(0.2), Verdict(spam=True, source="akismet"))[1])
    guard = Guard(slow_remote, keyword_local(), mode="shadow", shadow_primary="local")
    started = time.perf_counter()
    verdict = guard.check(C_HAM)
    assert time.perf_counter() - started < 0.15
    assert (verdict.source, verdict.spam) == ("local", False)
    deadline = time.monotonic() + 5
    while guard.stats()["shadow"].get("compared", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert guard.stats()["shadow"] == {"compared": 1, "disagreements": 1, "local-ham-akismet-spam": 1}
    guard.close()


def test_strict_mode_raises_on_invalid_key() -> None:
    """strict=True turns a rejected key into InvalidKeyError instead of a fallback."""
    rejecting = failing(InvalidKeyError("the API key is not valid"))
    assert Guard(rejecting, keyword_local()).check(C_HAM).fallback_reason == "invalid-key"
    with pytest.raises(InvalidKeyError):
        Guard(rejecting, keyword_local(), strict=True).check(C_HAM)


def test_report_sends_and_records(tmp_path: Path) -> None:
    """report_spam/ham send the original verdict to the remote and store the label."""
    remote = keyword_remote()
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    guard = Guard(remote, keyword_local(), feedback=store)
    verdict = guard.check(C_CASINO)
    guard.report_spam(C_CASINO, verdict)
    guard.report_ham(C_HAM)
    assert remote.submitted == [("spam", C_CASINO.content, verdict), ("ham", C_HAM.content, None)]
    assert [(r.comment.content, r.label) for r in store.records()] == [(C_CASINO.content, True),
                                                                      (C_HAM.content, False)]


def test_report_survives_remote_failure(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A remote that fails on submit-spam is logged; the label is still stored."""

    class BrokenSubmit(Double):
        def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
            raise BackendUnavailableError("connection refused")

    store = FeedbackStore(tmp_path / "fb.sqlite3")
    guard = Guard(BrokenSubmit("akismet", keyword_remote().decide), keyword_local(), feedback=store)
    guard.report_spam(C_PILLS)
    assert "submit-spam to BrokenSubmit failed: connection refused" in caplog.text
    assert len(store) == 1


def test_acheck_runs_off_the_event_loop() -> None:
    """acheck gives the same verdict as check, from a worker thread."""
    guard = Guard(keyword_remote(), keyword_local())
    verdicts = asyncio.run(_gather(guard))
    assert [v.spam for v in verdicts] == [False, True]


async def _gather(guard: Guard) -> list[Verdict]:
    return list(await asyncio.gather(guard.acheck(C_HAM), guard.acheck(C_PILLS)))


def test_notice_names_the_backend_in_use() -> None:
    """notice(): the Akismet disclosure when comment data goes to the remote, the local one otherwise."""
    from spamguard.notice import disclosure

    remote_guard = Guard(keyword_remote(), keyword_local(), mode="shadow", shadow_primary="local")
    local_guard = Guard(keyword_remote(), keyword_local(), mode="local-only")
    assert remote_guard.notice("de", fmt="text") == disclosure("de", service="akismet", fmt="text")
    assert local_guard.notice("fr") == disclosure("fr", service="local")
    assert local_guard.notice("fr") != disclosure("fr", service="akismet")


@pytest.mark.parametrize(("base_url", "service"), [
    ("https://rest.akismet.com", "akismet"),
    ("http://127.0.0.1:8080", "local"),
    ("https://spam.example.net", "spam.example.net"),
])
def test_notice_names_a_self_hosted_remote_honestly(base_url: str, service: str) -> None:
    """A Guard whose Akismet client points at a self-hosted service does not claim Akismet: on the site's
    own machine the data stays local; elsewhere the notice names the host and links nowhere."""
    from spamguard import AkismetClient
    from spamguard.notice import Service, disclosure

    remote = AkismetClient(api_key="abcdef123456", blog="https://blog.example", base_url=base_url)
    guard = Guard(remote, keyword_local())
    try:
        expected = Service(service) if "." in service else service
        assert guard.notice("de") == disclosure("de", service=expected)
        assert guard.notice("de", service="local") == disclosure("de", service="local")
        if service == "spam.example.net":
            assert "Akismet" not in guard.notice("en") and "href" not in guard.notice("en")
    finally:
        guard.close()
        remote.close()


def test_remote_verdicts_recorded_when_the_store_asks(tmp_path: Path) -> None:
    """With record_remote_verdicts=True the Guard keeps the remote's verdicts as labels."""
    store = FeedbackStore(tmp_path / "fb.sqlite3", record_remote_verdicts=True)
    guard = Guard(keyword_remote(), keyword_local(), feedback=store)
    guard.check_many([C_HAM, C_PILLS])
    assert [(r.comment.content, r.label) for r in store.records(sources=["remote"])] == [
        (C_HAM.content, False), (C_PILLS.content, True)]
