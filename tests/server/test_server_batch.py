"""Concurrent comment-checks share model calls, and each still gets its own verdict."""

from __future__ import annotations

import threading
import time

import pytest

from spamguard import Comment, Verdict
from spamguard.server._batch import CheckBatcher


class SlowModel:
    """Takes 50 ms a call, however many comments: the fixed cost batching saves."""

    def __init__(self):
        self.calls = []

    def check_many(self, comments):
        self.calls.append(len(comments))
        time.sleep(0.05)
        if any(c.content == "boom" for c in comments):
            raise RuntimeError("bad comment in the batch")
        return [Verdict(spam=c.content.startswith("spam"), score=0.5, source="local") for c in comments]

    def check(self, comment):
        return self.check_many([comment])[0]


def run_concurrently(batcher, texts):
    results = {}

    def one(text):
        try:
            results[text] = batcher(Comment(content=text))
        except Exception as exc:  # noqa: BLE001 - the test looks at what each caller got
            results[text] = exc

    threads = [threading.Thread(target=one, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_concurrent_checks_are_judged_together_and_answered_individually():
    """24 callers at once need far fewer than 24 model calls, and each gets the verdict for its comment."""
    model = SlowModel()
    batcher = CheckBatcher(model.check_many, model.check, max_batch=32)
    texts = [f"spam {i}" if i % 2 else f"ham {i}" for i in range(24)]
    results = run_concurrently(batcher, texts)
    assert {t: v.spam for t, v in results.items()} == {t: t.startswith("spam") for t in texts}
    assert sum(model.calls) == 24
    assert len(model.calls) <= 12  # typically 2: the first alone, the other 23 together


def test_batches_respect_max_batch():
    """No model call gets more than max_batch comments."""
    model = SlowModel()
    batcher = CheckBatcher(model.check_many, model.check, max_batch=4)
    run_concurrently(batcher, [f"ham {i}" for i in range(20)])
    assert max(model.calls) <= 4 and sum(model.calls) >= 20


def test_one_failing_comment_fails_only_its_own_request():
    """When a batch fails, its comments are judged one by one, so only the bad one gets the error."""
    model = SlowModel()
    batcher = CheckBatcher(model.check_many, model.check, max_batch=32)
    results = run_concurrently(batcher, ["boom", *[f"ham {i}" for i in range(7)]])
    assert isinstance(results.pop("boom"), RuntimeError)
    assert all(isinstance(v, Verdict) and not v.spam for v in results.values())


def test_a_lone_check_does_not_wait():
    """With nothing else in flight the comment is judged at once, in one call."""
    model = SlowModel()
    batcher = CheckBatcher(model.check_many, model.check)
    assert batcher(Comment(content="spam!")).spam is True
    assert model.calls == [1]


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError, match="max_batch"):
        CheckBatcher(SlowModel().check_many, SlowModel().check, max_batch=0)
