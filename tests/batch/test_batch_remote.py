"""Re-scoring against an Akismet-compatible service (a real loopback FakeAkismet server)."""

from __future__ import annotations

import json
import os

import pytest

from spamguard import AkismetClient, BackendUnavailableError
from spamguard.batch import rescore
from spamguard.testing import FakeAkismet


@pytest.fixture
def server(monkeypatch):
    with FakeAkismet(valid_keys={"test-key"}) as fake:
        monkeypatch.setenv("SPAMGUARD_AKISMET_KEY", "test-key")
        monkeypatch.setenv("SPAMGUARD_BLOG_URL", "https://blog.example/")
        monkeypatch.setenv("SPAMGUARD_AKISMET_URL", fake.url)
        yield fake


def make_jsonl(path, n):
    with open(path, "w") as f:
        for i in range(1, n + 1):
            text = "cheap viagra" if i % 5 == 0 else f"a kind word, number {i}"
            f.write(json.dumps({"id": i, "comment_content": text, "user_ip": "203.0.113.7"}) + "\n")
    return path


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_akismet_backend_judges_every_record_in_order(server, tmp_path):
    """backend='akismet': one call per comment, 16 in flight, verdicts in input order."""
    src = make_jsonl(tmp_path / "in.jsonl", 40)
    summary = rescore(src, tmp_path / "out.jsonl", backend="akismet", progress=False)
    got = rows(tmp_path / "out.jsonl")
    assert [r["position"] for r in got] == list(range(1, 41))
    assert [r["position"] for r in got if r["spam"]] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert {r["source"] for r in got} == {"akismet"}
    assert (summary.records, summary.spam) == (40, 8)
    assert sum(1 for path, _ in server.requests if path.endswith("/comment-check")) == 40


class GoesDown:
    """An Akismet client that takes the service down when it is asked about its ``after``-th comment."""

    def __init__(self, server, after: int) -> None:
        self.inner = AkismetClient.from_env()  # .inner: the run sees a remote classifier and uses threads
        self.server, self.after, self.asked = server, after, 0

    def check(self, comment):
        self.asked += 1
        if self.asked == self.after:
            self.server.mode = "down"
        return self.inner.check(comment)

    def check_many(self, comments):
        return [self.check(c) for c in comments]

    def submit_spam(self, comment, verdict=None):
        pass

    def submit_ham(self, comment, verdict=None):
        pass


def test_service_down_stops_the_run_and_resume_finishes_it(server, tmp_path):
    """When the service goes down mid-run the run stops with its progress saved; --resume later finishes it."""
    src = make_jsonl(tmp_path / "in.jsonl", 30)
    rescore(src, tmp_path / "clean.jsonl", backend="akismet", progress=False)
    out = tmp_path / "out.jsonl"
    with pytest.raises(BackendUnavailableError, match="could not connect"):
        rescore(src, out, classifier=GoesDown(server, after=10), workers=1, progress=False)
    with open(f"{out}.checkpoint", encoding="utf-8") as f:
        assert json.load(f)["position"] == 9
    assert not out.exists()
    server.mode = "ok"
    rescore(src, out, classifier=GoesDown(server, after=0), workers=1, progress=False, resume=True)
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()


def test_service_down_from_the_start_leaves_nothing_behind(server, tmp_path):
    """Down before any record is judged: the run fails naming the service, and no file is left to block the next."""
    src = make_jsonl(tmp_path / "in.jsonl", 30)
    server.mode = "down"
    with pytest.raises(BackendUnavailableError, match="could not connect"):
        rescore(src, tmp_path / "out.jsonl", backend="akismet", progress=False, rejects=tmp_path / "rejects.jsonl")
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]


def test_auto_backend_falls_back_to_the_local_model_when_the_service_is_down(server, tmp_path):
    """backend='auto' runs a Guard: with the service down every record is still judged, by the local model."""
    src = make_jsonl(tmp_path / "in.jsonl", 12)
    server.mode = "down"
    summary = rescore(src, tmp_path / "out.jsonl", backend="auto", progress=False)
    got = rows(tmp_path / "out.jsonl")
    assert [r["position"] for r in got] == list(range(1, 13))
    assert {r["source"] for r in got} == {"local"}
    assert all(r["action"] in ("approve", "hold", "spam", "discard") for r in got)
    assert summary.records == 12


def test_auto_backend_uses_the_service_when_it_answers(server, tmp_path):
    """backend='auto' with the service up: Akismet's verdicts, with the Guard's actions."""
    src = make_jsonl(tmp_path / "in.jsonl", 10)
    rescore(src, tmp_path / "out.jsonl", backend="auto", progress=False)
    got = rows(tmp_path / "out.jsonl")
    assert {r["source"] for r in got} == {"akismet"}
    assert [(r["position"], r["action"]) for r in got if r["spam"]] == [(5, "spam"), (10, "spam")]
