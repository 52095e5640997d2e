"""The Guard against real parts: AkismetClient talking HTTP to FakeAkismet on 127.0.0.1, and the
shipped LocalModel. Outages, the latency budget, the circuit breaker, invalid keys, threads.

Every test that takes ``guards`` runs twice: the blocking Guard (``check`` with an AkismetClient,
from threads) and its asyncio path (``acheck`` awaiting an AsyncAkismetClient, from tasks), the
same lines checking both (see ``tests/_guards.py``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _guards import FLAVORS, Guards, hammer

from spamguard import (
    Action,
    AkismetClient,
    AsyncAkismetClient,
    Comment,
    FeedbackStore,
    Guard,
    InvalidKeyError,
    LocalModel,
)
from spamguard.testing import FakeAkismet

KEY = "guard-test-key-0123456789"
BLOG = "https://blog.example/"
SLACK = 0.25  # seconds of scheduling noise allowed over a budget on a busy 2-core machine

HAM = Comment(content="Thanks for the write-up, the second example finally made it click for me.",
              author="Dana", user_ip="203.0.113.7", user_agent="Mozilla/5.0")
SPAM = Comment(content="Buy viagra now http://pills.example http://pills.example/2 http://cheap.example",
               author="best pills", user_ip="198.51.100.9")


class Clock:
    """A monotonic clock the test moves by hand (for the circuit's cool-down)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def local() -> LocalModel:
    return LocalModel.load()


@pytest.fixture
def server() -> Iterator[FakeAkismet]:
    with FakeAkismet(valid_keys={KEY}) as fake:
        yield fake


def client(server: FakeAkismet, key: str = KEY, timeout: float = 10.0) -> AkismetClient:
    # A long client timeout, so only the Guard's budget can cut a slow call short.
    return AkismetClient(key, BLOG, base_url=server.url, timeout=timeout, retries=0)


def remote(server: FakeAkismet, key: str = KEY, timeout: float = 10.0) -> Callable[[str], Any]:
    """The remote for a flavor: an AkismetClient, or the AsyncAkismetClient with the same settings."""

    def make(flavor: str) -> Any:
        cls = AkismetClient if flavor == "sync" else AsyncAkismetClient
        return cls(key, BLOG, base_url=server.url, timeout=timeout, retries=0)

    return make


@pytest.fixture(params=FLAVORS)
def guards(request: pytest.FixtureRequest) -> Iterator[Guards]:
    """Makes Guards of the flavor under test: blocking (check, threads) or asyncio (acheck, tasks)."""
    made = Guards(request.param)
    try:
        yield made
    finally:
        made.close()


def timed_check(guard: Any, comment: Comment) -> tuple[float, object]:
    started = time.perf_counter()
    verdict = guard.check(comment)
    return time.perf_counter() - started, verdict


def comment_checks(server: FakeAkismet) -> int:
    return sum(1 for path, _ in server.requests if path.endswith("/comment-check"))


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("slow", "timeout"), ("down", "unavailable"), ("error", "unavailable"), ("garbage", "unavailable")],
)
def test_outage_mid_run_falls_back_within_budget(
    server: FakeAkismet, local: LocalModel, guards: Guards, mode: str, reason: str
) -> None:
    """When the remote breaks mid-run every check still answers within the budget, from the local model."""
    budget = 0.4
    guard = guards(remote(server), local, latency_budget=budget, failure_threshold=3, cooldown=60)
    before = [guard.check(c) for c in (HAM, SPAM)]
    assert [(v.source, v.spam, v.fallback_reason) for v in before] == [("akismet", False, None),
                                                                       ("akismet", True, None)]
    server.mode = mode
    server.delay = 5.0 if mode == "slow" else 0.0
    results = [timed_check(guard, c) for c in (HAM, SPAM) * 3]
    for elapsed, _ in results:
        assert elapsed <= budget + SLACK
    verdicts = [v for _, v in results]
    assert [v.source for v in verdicts] == ["local"] * 6  # type: ignore[attr-defined]
    assert [v.fallback_reason for v in verdicts] == [reason] * 3 + ["circuit-open"] * 3  # type: ignore[attr-defined]
    assert [v.spam for v in verdicts] == [local.check(c).spam for c in (HAM, SPAM) * 3]  # type: ignore[attr-defined]
    # once the circuit is open a check costs about what the local model costs
    assert max(elapsed for elapsed, _ in results[3:]) < 0.1


def test_circuit_opens_after_n_failures_and_closes_after_probe(
    server: FakeAkismet, local: LocalModel, guards: Guards
) -> None:
    """N failures open the circuit (no more calls); after the cool-down one probe closes it again."""
    clock = Clock()
    guard = guards(remote(server), local, failure_threshold=3, cooldown=30, clock=clock)
    server.mode = "down"
    assert [guard.check(HAM).fallback_reason for _ in range(3)] == ["unavailable"] * 3
    assert guard.breaker.state == "open"
    calls = comment_checks(server)
    assert [guard.check(HAM).fallback_reason for _ in range(5)] == ["circuit-open"] * 5
    assert comment_checks(server) == calls  # the open circuit makes no calls

    clock.now += 30  # cool-down over, remote still down: the probe fails and re-opens it
    assert guard.check(HAM).fallback_reason == "unavailable"
    assert guard.breaker.state == "open"
    assert guard.check(HAM).fallback_reason == "circuit-open"

    server.mode = "ok"
    clock.now += 29
    assert guard.check(SPAM).fallback_reason == "circuit-open"
    clock.now += 1
    probe = guard.check(SPAM)
    assert (probe.source, probe.spam, probe.fallback_reason) == ("akismet", True, None)
    assert guard.breaker.state == "closed"
    assert guard.check(HAM).source == "akismet"
    assert guard.stats()["circuit_opened"] == 2


def test_half_open_sends_exactly_one_probe(server: FakeAkismet, local: LocalModel, guards: Guards) -> None:
    """After the cool-down, 16 callers checking at once send one probe; the rest use the local model."""
    clock = Clock()
    guard = guards(remote(server), local, failure_threshold=2, cooldown=10, clock=clock)
    server.mode = "down"
    guard.check(HAM)
    guard.check(HAM)
    assert guard.breaker.state == "open"
    server.mode = "ok"
    server.delay = 0.5  # the probe is still in flight while the other threads arrive
    clock.now += 10
    before = comment_checks(server)
    results = hammer(guard, [HAM], rounds=1)
    reasons = sorted(str(r[0][2]) for r in results)
    assert reasons == ["None"] + ["circuit-open"] * 15
    assert comment_checks(server) - before == 1
    assert guard.breaker.state == "closed"


def test_invalid_key_logged_once_not_raised(
    server: FakeAkismet, local: LocalModel, guards: Guards, caplog: pytest.LogCaptureFixture
) -> None:
    """A rejected key: local verdicts with reason invalid-key, one loud ERROR, no key in any log line."""
    wrong_key = "wrong-key-abcdef-123456"
    guard = guards(remote(server, key=wrong_key), local, failure_threshold=100)
    with caplog.at_level(logging.DEBUG):
        verdicts = [guard.check(c) for c in (HAM, SPAM, HAM, SPAM)]
    assert [(v.source, v.fallback_reason) for v in verdicts] == [("local", "invalid-key")] * 4
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "REJECTS ITS CONFIGURATION" in errors[0].getMessage()
    assert wrong_key not in caplog.text


def test_invalid_key_logged_once_across_threads(
    server: FakeAkismet, local: LocalModel, guards: Guards, caplog: pytest.LogCaptureFixture
) -> None:
    """16 callers hitting a rejected key at once still produce a single ERROR line."""
    guard = guards(remote(server, key="wrong-key-abcdef-123456"), local, failure_threshold=1000)
    with caplog.at_level(logging.ERROR, logger="spamguard"):
        results = hammer(guard, [HAM, SPAM], rounds=2)
    assert results == [[("local", local.check(c).spam, "invalid-key") for c in (HAM, SPAM)] * 2] * 16
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1


def test_invalid_key_strict_raises(server: FakeAkismet, local: LocalModel, guards: Guards) -> None:
    """strict=True: a rejected key raises InvalidKeyError, whose text does not hold the key."""
    guard = guards(remote(server, key="wrong-key-abcdef-123456"), local, strict=True)
    with pytest.raises(InvalidKeyError) as info:
        guard.check(HAM)
    assert "wrong-key-abcdef-123456" not in str(info.value)


def test_sixteen_threads_check_at_once(server: FakeAkismet, local: LocalModel, guards: Guards) -> None:
    """16 threads (or tasks) sharing one Guard all get the right verdicts, with the remote up and then down."""
    comments = [HAM, SPAM, HAM.replace(content="akismet-discard now"), SPAM.replace(author="Sam")]
    expected_remote = [("akismet", False, None), ("akismet", True, None), ("akismet", True, None),
                       ("akismet", True, None)]
    guard = guards(remote(server), local, latency_budget=2.0, max_remote_calls=8)
    for per_thread in hammer(guard, comments, rounds=3):
        assert per_thread == expected_remote * 3
    assert guard.stats()["remote_answers"] == 16 * 3 * 4

    server.mode = "down"
    expected_local = [local.check(c).spam for c in comments]
    for per_thread in hammer(guard, comments, rounds=2):
        assert [(src, spam) for src, spam, _ in per_thread] == [("local", s) for s in expected_local] * 2
        assert {reason for _, _, reason in per_thread} <= {"unavailable", "circuit-open"}
    assert guard.breaker.state == "open"


def test_policy_actions_from_remote(server: FakeAkismet, local: LocalModel, guards: Guards) -> None:
    """The remote's discard tip discards, a provisional ham is held, plain ham approved."""
    guard = guards(remote(server), local)
    assert guard.check(HAM.replace(content="akismet-discard")).action == Action.DISCARD
    assert guard.check(HAM.replace(content="ok, akismet-recheck later")).action == Action.HOLD
    assert guard.check(HAM).action == Action.APPROVE


def test_both_mode_with_real_parts(server: FakeAkismet, local: LocalModel, guards: Guards) -> None:
    """both: the remote's spam wins over a local ham, and the score comes from the local model."""
    guard = guards(remote(server), local, mode="both")
    text = "I really liked this post about viagra regulation in the EU, thanks for the sources."
    verdict = guard.check(HAM.replace(content=text))
    assert (verdict.spam, verdict.source, verdict.score) == (True, "akismet+local", local.check(
        HAM.replace(content=text)).score)
    assert "akismet says spam" in verdict.reasons


def test_report_spam_sends_original_verdict_and_records(
    server: FakeAkismet, local: LocalModel, guards: Guards, tmp_path: Path
) -> None:
    """report_spam posts submit-spam with the original verdict and stores the label; a remote
    that is down on report is logged, and the label is still stored."""
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    guard = guards(remote(server), local, feedback=store)
    verdict = guard.check(HAM)
    guard.report_spam(HAM, verdict)
    submits = [fields for path, fields in server.requests if path.endswith("/submit-spam")]
    assert len(submits) == 1
    assert (submits[0]["comment_content"], submits[0]["comment_check_response"]) == (HAM.content, "false")
    server.mode = "down"
    guard.report_ham(SPAM)
    assert [(r.comment.content, r.label) for r in store.records()] == [(HAM.content, True), (SPAM.content, False)]


def test_from_env(server: FakeAkismet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """from_env: remote-first with a key (timeout inside the budget), local-only without; feedback from env."""
    for name in ("SPAMGUARD_AKISMET_KEY", "PYTHON_AKISMET_API_KEY", "SPAMGUARD_GUARD_MODE",
                 "SPAMGUARD_LATENCY_BUDGET", "SPAMGUARD_AKISMET_TIMEOUT", "SPAMGUARD_FEEDBACK_DB"):
        monkeypatch.delenv(name, raising=False)
    without = Guard.from_env()
    assert (without.mode, without.remote, without.feedback) == ("local-only", None, None)
    monkeypatch.setenv("SPAMGUARD_AKISMET_KEY", KEY)
    monkeypatch.setenv("SPAMGUARD_BLOG_URL", BLOG)
    monkeypatch.setenv("SPAMGUARD_AKISMET_URL", server.url)
    monkeypatch.setenv("SPAMGUARD_LATENCY_BUDGET", "0.5")
    monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(tmp_path / "fb.sqlite3"))
    guard = Guard.from_env()
    assert (guard.mode, guard.latency_budget, guard.backend) == ("remote-first", 0.5, "akismet")
    assert isinstance(guard.remote, AkismetClient)
    assert guard.remote.config.timeout[1] <= 0.5
    assert guard.remote.config.retries == 0
    assert guard.feedback is not None and guard.feedback.path == tmp_path / "fb.sqlite3"
    assert guard.check(SPAM).source == "akismet"
    assert KEY not in repr(guard)
    guard.close()


def test_from_env_asynchronous(server: FakeAkismet, monkeypatch: pytest.MonkeyPatch) -> None:
    """from_env(asynchronous=True): an AsyncAkismetClient for acheck besides the AkismetClient for check,
    both inside the budget without retries; aclose() closes the async one it made."""
    for name in ("SPAMGUARD_GUARD_MODE", "SPAMGUARD_AKISMET_TIMEOUT", "SPAMGUARD_FEEDBACK_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPAMGUARD_AKISMET_KEY", KEY)
    monkeypatch.setenv("SPAMGUARD_BLOG_URL", BLOG)
    monkeypatch.setenv("SPAMGUARD_AKISMET_URL", server.url)
    monkeypatch.setenv("SPAMGUARD_LATENCY_BUDGET", "0.5")

    async def run() -> None:
        async with Guard.from_env(asynchronous=True) as guard:
            assert isinstance(guard.aremote, AsyncAkismetClient) and isinstance(guard.remote, AkismetClient)
            assert guard.aremote.config == guard.remote.config
            assert guard.aremote.config.timeout[1] <= 0.5 and guard.aremote.config.retries == 0
            assert (guard.mode, guard.backend) == ("remote-first", "akismet")
            assert "aremote=AsyncAkismetClient" in repr(guard) and KEY not in repr(guard)
            assert (await guard.acheck(SPAM)).source == "akismet"
            assert (await asyncio.to_thread(guard.check, HAM)).source == "akismet"
            aremote = guard.aremote
        with pytest.raises(RuntimeError, match="closed"):
            await aremote.check(HAM)

    asyncio.run(run())
    assert comment_checks(server) == 2


def test_from_env_asynchronous_without_a_key(monkeypatch: pytest.MonkeyPatch, local: LocalModel) -> None:
    """Without a key, from_env(asynchronous=True) is local-only, and acheck judges on the event loop."""
    for name in ("SPAMGUARD_AKISMET_KEY", "PYTHON_AKISMET_API_KEY", "SPAMGUARD_GUARD_MODE", "SPAMGUARD_FEEDBACK_DB"):
        monkeypatch.delenv(name, raising=False)

    async def run() -> tuple[Guard, list[Any]]:
        async with Guard.from_env(asynchronous=True) as guard:
            return guard, [await guard.acheck(c) for c in (HAM, SPAM)]

    guard, verdicts = asyncio.run(run())
    assert (guard.mode, guard.remote, guard.aremote) == ("local-only", None, None)
    assert [(v.source, v.spam) for v in verdicts] == [("local", local.check(c).spam) for c in (HAM, SPAM)]


def test_from_env_asynchronous_without_a_key_needs_no_httpx() -> None:
    """Without a key, from_env(asynchronous=True) works where httpx is not installed (nothing to send)."""
    import os
    import subprocess
    import sys

    script = ("import asyncio, sys\n"
              "sys.modules['httpx'] = None  # as if it were not installed\n"
              "from spamguard import Comment, Guard\n"
              "guard = Guard.from_env(asynchronous=True)\n"
              "print(asyncio.run(guard.acheck(Comment(content='Thanks, very helpful.'))).source)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPAMGUARD_", "PYTHON_AKISMET_"))}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,  # noqa: S603
                          timeout=120, check=True)
    assert done.stdout.strip() == "local"


def test_async_burst_on_the_shipped_model_matches_check(local: LocalModel) -> None:
    """200 acheck calls at once (one shared local model call) give exactly the verdicts check gives."""
    texts = [HAM.content, SPAM.content, "Check out my channel http://bit.ly/x", "Danke, sehr hilfreich!"]
    batch = [HAM.replace(content=f"{texts[i % 4]} ({i})", author=f"visitor {i}") for i in range(200)]
    guard = Guard(local=local)

    async def run() -> list[Any]:
        return list(await asyncio.gather(*(guard.acheck(c) for c in batch)))

    assert asyncio.run(run()) == [guard.check(c) for c in batch]
