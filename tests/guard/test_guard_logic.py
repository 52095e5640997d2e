"""Guard logic that does not depend on a network: modes, combination, shadow counts, reports.

The network behaviour (timeouts, outages, the circuit against a real server, invalid keys,
many threads) is tested against the loopback Akismet server in test_guard.py. Tests taking
``guards`` run for the blocking Guard and for its asyncio path (``acheck``/``areport_*`` with the
same doubles, awaited: ``AsyncDouble``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _guards import FLAVORS, Guards

from spamguard import (
    Action,
    AsyncClassifier,
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


class AsyncDouble:
    """A :class:`Double` awaited: the asyncio remote a Guard's ``aremote`` takes."""

    def __init__(self, double: Double) -> None:
        self.double = double
        self.submitted = double.submitted

    async def check(self, comment: Comment) -> Verdict:
        await asyncio.sleep(0)  # a real await point, as a network call has
        return self.double.check(comment)

    async def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        return [await self.check(c) for c in comments]

    async def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        self.double.submit_spam(comment, verdict)

    async def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        self.double.submit_ham(comment, verdict)


def as_remote(double: Double) -> Callable[[str], Any]:
    """The double as the remote of a flavor: itself for the blocking Guard, awaited for the async path."""
    return lambda flavor: double if flavor == "sync" else AsyncDouble(double)


@pytest.fixture(params=FLAVORS)
def guards(request: pytest.FixtureRequest) -> Iterator[Guards]:
    made = Guards(request.param)
    try:
        yield made
    finally:
        made.close()


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


def test_remote_first_uses_remote_and_falls_back(guards: Guards) -> None:
    """remote-first answers from the remote; when it fails the local verdict carries the reason."""
    assert guards(as_remote(keyword_remote()), keyword_local()).check(C_PILLS).source == "akismet"
    guard = guards(as_remote(failing(BackendUnavailableError("HTTP 503"))), keyword_local())
    verdict = guard.check(C_CASINO)
    assert (verdict.source, verdict.spam, verdict.fallback_reason, verdict.action) == (
        "local", True, "unavailable", Action.SPAM)
    timeout = guards(as_remote(failing(BackendTimeoutError("read timed out"))), keyword_local())
    assert timeout.check(C_HAM).fallback_reason == "timeout"
    assert guard.stats()["fallbacks"] == {"unavailable": 1}


def test_no_backend_answers_holds_the_comment(guards: Guards) -> None:
    """Without a local model, a remote failure holds the comment rather than failing the request."""
    verdict = guards(as_remote(failing(BackendUnavailableError("refused"))), None).check(C_HAM)
    assert (verdict.spam, verdict.action, verdict.source, verdict.fallback_reason) == (
        False, Action.HOLD, "guard", "unavailable")


def test_unexpected_remote_error_falls_back(guards: Guards, caplog: pytest.LogCaptureFixture) -> None:
    """A bug in the remote (any exception) is logged and the local model answers."""
    verdict = guards(as_remote(failing(RuntimeError("boom"))), keyword_local()).check(C_HAM)
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
def test_both_mode_combines(guards: Guards, text: str, spam: bool, source_spam: tuple[str, ...]) -> None:
    """both: spam if either says spam; score and reasons from local; guid from the remote."""
    verdict = guards(as_remote(keyword_remote()), keyword_local(), mode="both").check(Comment(content=text))
    assert (verdict.spam, verdict.source, verdict.guid) == (spam, "akismet+local", "g-1")
    assert verdict.score == (0.9 if "casino" in text else 0.1)
    assert verdict.reasons == (*source_spam, "'casino'")


def test_both_mode_discard_only_from_remote(guards: Guards) -> None:
    """A very sure local score does not discard in both mode; the remote's tip does."""
    sure_local = keyword_local(score_spam=0.999)
    guard = guards(as_remote(keyword_remote()), sure_local, mode="both")
    assert guard.check(C_CASINO).action == Action.SPAM
    tipping = Double("akismet", lambda c: Verdict(spam=True, discard=True, source="akismet"))
    assert guards(as_remote(tipping), sure_local, mode="both").check(C_HAM).action == Action.DISCARD
    assert guards(None, sure_local).check(C_CASINO).action == Action.DISCARD


def test_shadow_remote_primary_counts_disagreements(guards: Guards, caplog: pytest.LogCaptureFixture) -> None:
    """shadow: the remote decides, the local model is asked too and disagreements are counted."""
    caplog.set_level(logging.INFO, logger="spamguard")
    guard = guards(as_remote(keyword_remote()), keyword_local(), mode="shadow")
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


def test_async_shadow_local_primary_asks_remote_in_background() -> None:
    """The same for acheck: the local model decides at once, the awaited remote is compared when it
    answers, and aclose() stops a shadow still waiting (freeing the circuit's probe slot)."""

    class SlowRemote(AsyncDouble):
        async def check(self, comment: Comment) -> Verdict:
            await asyncio.sleep(0.2 if "casino" not in comment.content else 60)
            return Verdict(spam=True, source="akismet")

    async def run() -> tuple[Verdict, float, dict[str, int], Guard]:
        guard = Guard(local=keyword_local(), aremote=SlowRemote(keyword_remote()), mode="shadow",
                      shadow_primary="local")
        started = time.perf_counter()
        verdict = await guard.acheck(C_HAM)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.4)
        shadow = guard.stats()["shadow"]
        await guard.acheck(C_CASINO)  # its shadow would take a minute
        await guard.aclose()
        return verdict, elapsed, shadow, guard

    verdict, elapsed, shadow, guard = asyncio.run(run())
    assert elapsed < 0.15 and (verdict.source, verdict.spam) == ("local", False)
    assert shadow == {"compared": 1, "disagreements": 1, "local-ham-akismet-spam": 1}
    assert guard.stats()["shadow"]["compared"] == 1 and guard.breaker.allow()


def test_strict_mode_raises_on_invalid_key(guards: Guards) -> None:
    """strict=True turns a rejected key into InvalidKeyError instead of a fallback."""
    rejecting = failing(InvalidKeyError("the API key is not valid"))
    assert guards(as_remote(rejecting), keyword_local()).check(C_HAM).fallback_reason == "invalid-key"
    with pytest.raises(InvalidKeyError):
        guards(as_remote(rejecting), keyword_local(), strict=True).check(C_HAM)


def test_report_sends_and_records(guards: Guards, tmp_path: Path) -> None:
    """report_spam/ham send the original verdict to the remote and store the label."""
    remote = keyword_remote()
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    guard = guards(as_remote(remote), keyword_local(), feedback=store)
    verdict = guard.check(C_CASINO)
    guard.report_spam(C_CASINO, verdict)
    guard.report_ham(C_HAM)
    assert remote.submitted == [("spam", C_CASINO.content, verdict), ("ham", C_HAM.content, None)]
    assert [(r.comment.content, r.label) for r in store.records()] == [(C_CASINO.content, True),
                                                                      (C_HAM.content, False)]


def test_report_without_a_store_says_once_that_nothing_is_recorded(guards: Guards,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """No feedback store chosen: reports still go to the remote, and the first one warns that nothing is kept
    (the README's quick start promised a local record); feedback=False is a choice and stays quiet."""
    remote = keyword_remote()
    guard = guards(as_remote(remote), keyword_local())
    with caplog.at_level(logging.WARNING, logger="spamguard"):
        guard.report_ham(C_HAM)
        guard.report_spam(C_PILLS)
        guards(as_remote(keyword_remote()), keyword_local(), feedback=False).report_ham(C_HAM)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["moderators' reports are not recorded: this Guard has no feedback store (set "
                        "SPAMGUARD_FEEDBACK_DB, or pass feedback=FeedbackStore(path); feedback=False hides this)"]
    assert [kind for kind, _, _ in remote.submitted] == ["ham", "spam"]


def test_report_survives_remote_failure(guards: Guards, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A remote that fails on submit-spam is logged; the label is still stored. One that rejects its
    configuration is logged as an ERROR, or raises in strict mode."""

    class BrokenSubmit(Double):
        def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
            raise BackendUnavailableError("connection refused")

        def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
            raise InvalidKeyError("the API key is not valid")

    store = FeedbackStore(tmp_path / "fb.sqlite3")
    broken = BrokenSubmit("akismet", keyword_remote().decide)
    guard = guards(as_remote(broken), keyword_local(), feedback=store)
    guard.report_spam(C_PILLS)
    name = "BrokenSubmit" if guards.flavor == "sync" else "AsyncDouble"
    assert f"submit-spam to {name} failed: connection refused" in caplog.text
    guard.report_ham(C_HAM)
    assert "submit-ham not sent: the remote rejects its configuration" in caplog.text
    assert len(store) == 2
    with pytest.raises(InvalidKeyError):
        guards(as_remote(broken), keyword_local(), strict=True).report_ham(C_HAM)


def test_acheck_with_a_blocking_remote_runs_off_the_event_loop() -> None:
    """With only a blocking remote, acheck gives the same verdict as check, from a worker thread."""
    threads: list[threading.Thread] = []

    def decide(c: Comment) -> Verdict:
        threads.append(threading.current_thread())
        return Verdict(spam="pills" in c.content, source="akismet")

    guard = Guard(Double("akismet", decide), keyword_local())
    verdicts = asyncio.run(_gather(guard))
    assert [v.spam for v in verdicts] == [False, True]
    assert len(threads) == 2 and threading.main_thread() not in threads
    guard.close()


async def _gather(guard: Guard) -> list[Verdict]:
    return list(await asyncio.gather(guard.acheck(C_HAM), guard.acheck(C_PILLS)))


def test_acheck_with_an_async_remote_stays_on_the_event_loop() -> None:
    """With an aremote, acheck awaits it on the event loop's thread, the local model inline too;
    report calls go the same way, the label is stored."""
    seen: list[threading.Thread] = []

    def decide(c: Comment) -> Verdict:
        seen.append(threading.current_thread())
        return Verdict(spam="pills" in c.content, source="akismet")

    remote = Double("akismet", decide)
    guard = Guard(local=keyword_local(), aremote=AsyncDouble(remote), mode="both")
    assert guard.mode == "both" and guard.backend == "akismet" and guard.remote is None
    verdicts = asyncio.run(_gather(guard))
    assert [(v.spam, v.source) for v in verdicts] == [(False, "akismet+local"), (True, "akismet+local")]
    assert seen == [threading.main_thread()] * 2
    assert isinstance(AsyncDouble(remote), AsyncClassifier)


def test_blocking_calls_on_an_async_only_guard_say_what_to_do() -> None:
    """A Guard with only an aremote cannot check() or report_*() from blocking code: the error names
    the awaited method to use."""
    guard = Guard(local=keyword_local(), aremote=AsyncDouble(keyword_remote()))
    assert guard.mode == "remote-first"
    with pytest.raises(ConfigurationError, match=r"await guard.acheck\(...\)` instead of check\(\)"):
        guard.check(C_HAM)
    with pytest.raises(ConfigurationError, match=r"await guard.areport_spam\(...\)"):
        guard.report_spam(C_HAM)
    with pytest.raises(TypeError, match="takes a Comment"):
        asyncio.run(guard.acheck("text"))  # type: ignore[arg-type]


def test_a_cancelled_acheck_frees_the_probe() -> None:
    """A caller that goes away while its acheck is the half-open probe (a client disconnecting) does not
    leave the circuit waiting for a probe that never reports: the next caller probes."""

    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    class Hanging(AsyncDouble):
        async def check(self, comment: Comment) -> Verdict:
            await asyncio.sleep(60)
            raise AssertionError("not reached")

    async def run() -> tuple[str, bool]:
        clock = Clock()
        guard = Guard(local=keyword_local(), aremote=Hanging(keyword_remote()), failure_threshold=1, cooldown=10,
                      latency_budget=None, clock=clock)
        guard.breaker.failure("test")
        clock.now = 10  # half-open: the next call is the probe
        probe = asyncio.ensure_future(guard.acheck(C_HAM))
        await asyncio.sleep(0.05)
        state = guard.breaker.state
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
        return state, guard.breaker.allow()

    assert asyncio.run(run()) == ("half-open", True)


def test_async_budget_cuts_a_slow_remote_short() -> None:
    """The latency budget bounds acheck as it bounds check: a remote still thinking when it runs out is
    cancelled and the local model answers with reason timeout, in time."""

    class Slow(AsyncDouble):
        async def check(self, comment: Comment) -> Verdict:
            await asyncio.sleep(5)
            raise AssertionError("not reached")

    async def run() -> tuple[Verdict, float]:
        guard = Guard(local=keyword_local(), aremote=Slow(keyword_remote()), latency_budget=0.3)
        started = time.perf_counter()
        verdict = await guard.acheck(C_CASINO)
        return verdict, time.perf_counter() - started

    verdict, elapsed = asyncio.run(run())
    assert (verdict.source, verdict.spam, verdict.fallback_reason) == ("local", True, "timeout")
    assert 0.2 <= elapsed < 0.3 + 0.5  # the budget, and scheduling noise on a busy machine


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


def test_remote_verdicts_recorded_when_the_store_asks(guards: Guards, tmp_path: Path) -> None:
    """With record_remote_verdicts=True the Guard keeps the remote's verdicts as labels."""
    store = FeedbackStore(tmp_path / "fb.sqlite3", record_remote_verdicts=True)
    guard = guards(as_remote(keyword_remote()), keyword_local(), feedback=store)
    for c in (C_HAM, C_PILLS):
        guard.check(c)
    assert [(r.comment.content, r.label) for r in store.records(sources=["remote"])] == [
        (C_HAM.content, False), (C_PILLS.content, True)]


class CountingLocal(Double):
    """A local double that counts its check_many calls (the batches it was given)."""

    def __init__(self, broken_batches: bool = False) -> None:
        super().__init__("local", keyword_local().decide)
        self.batches: list[int] = []
        self.broken_batches = broken_batches

    def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        comments = list(comments)
        self.batches.append(len(comments))
        if self.broken_batches:
            raise RuntimeError("batch scoring is broken")
        return [self.check(c) for c in comments]


def test_async_local_checks_of_one_turn_share_one_model_call() -> None:
    """acheck judges the comments waiting in one turn of the event loop in one check_many call, and
    each caller gets its own verdict; a lone check is a batch of one."""
    local = CountingLocal()
    guard = Guard(local=local)
    texts = [f"comment {i} about the casino" if i % 3 == 0 else f"comment {i}" for i in range(50)]

    async def run() -> tuple[list[Verdict], Verdict]:
        burst = await asyncio.gather(*(guard.acheck(Comment(content=t)) for t in texts))
        return list(burst), await guard.acheck(C_CASINO)

    burst, lone = asyncio.run(run())
    assert [(v.spam, v.action) for v in burst] == [
        (i % 3 == 0, Action.SPAM if i % 3 == 0 else Action.APPROVE) for i in range(50)]
    assert (lone.spam, lone.source) == (True, "local")
    assert local.batches == [50, 1]
    assert guard.stats()["checks"] == 51


def test_async_local_batch_that_fails_is_judged_one_by_one(caplog: pytest.LogCaptureFixture) -> None:
    """A local model whose batch call fails is asked comment by comment; the failure is logged."""
    local = CountingLocal(broken_batches=True)
    guard = Guard(local=local)

    async def run() -> list[Verdict]:
        return list(await asyncio.gather(guard.acheck(C_HAM), guard.acheck(C_CASINO)))

    assert [(v.spam, v.source) for v in asyncio.run(run())] == [(False, "local"), (True, "local")]
    assert local.batches == [2]
    assert "the local model failed on a batch of 2; judging them one by one" in caplog.text


def test_async_cancelled_local_check_leaves_the_others_alone() -> None:
    """A caller that goes away while waiting for the local batch does not disturb the rest of it."""
    local = CountingLocal()
    guard = Guard(local=local)

    async def run() -> list[bool]:
        tasks = [asyncio.ensure_future(guard.acheck(c)) for c in (C_HAM, C_CASINO, C_PILLS)]
        await asyncio.sleep(0)  # all three are waiting for the batch
        tasks[1].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return [isinstance(d, Verdict) and d.spam for d in done]

    assert asyncio.run(run()) == [False, False, False]
    assert local.batches == [2]
