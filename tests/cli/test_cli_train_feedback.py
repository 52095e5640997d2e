"""``spamguard train --feedback``: retrain from the feedback store, compare, refuse a worse model.

Real subprocesses, real model files, real SQLite; small synthetic data so the fits are quick.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from spamguard import Comment, FeedbackStore, LocalModel
from spamguard.local import train

# This site's spam: knitting-shop adverts, in words no spam lexicon holds, so a model that never saw
# them lets them through and only the site's feedback can teach them.
SITE_SPAM = ["Our yarn store stocks the softest merino wool for your next sweater", "Knitting needles and "
             "alpaca yarn in forty colours at the wool corner shop", "Hand dyed sock yarn, visit the wool corner shop"]
SITE_HAM = ["The diagram in section two made the recursion click for me", "Could you add an example with "
            "async generators?", "I tried this on Python 3.12 and the benchmark numbers look similar"]
BASE_SPAM = ["Check out my channel for more videos", "Subscribe to my channel please", "Visit my page for free "
             "gift cards"]
BASE_HAM = ["Great song, I listen to it every day", "This video brings back memories", "Love the chorus"]


def _variants(texts: list[str], n: int, rng: random.Random) -> list[str]:
    words = ["really", "today", "friends", "now", "again", "here", "please", "wow", "honestly", "indeed"]
    return [f"{rng.choice(texts)} {rng.choice(words)} {rng.choice(words)} {i}" for i in range(n)]


def _jsonl(path: Path, spam: list[str], ham: list[str]) -> Path:
    with path.open("w", encoding="utf-8") as fp:
        for label, texts in (("spam", spam), ("ham", ham)):
            for text in texts:
                fp.write(json.dumps({"content": text, "label": label}) + "\n")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMGUARD_")}
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "spamguard", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    rng = random.Random(7)
    base = _jsonl(tmp_path / "base.jsonl", _variants(BASE_SPAM, 60, rng), _variants(BASE_HAM, 60, rng))
    current = tmp_path / "current.joblib"
    made = _run("train", str(base), "-o", str(current), "--cv", "0")
    assert made.returncode == 0, made.stderr
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    for text in _variants(SITE_SPAM, 40, rng):
        store.record(Comment(content=text), True)
    for text in _variants(SITE_HAM, 40, rng):
        store.record(Comment(content=text), False)
    store.close()
    return {"base": base, "current": current, "db": store.path, "dir": tmp_path}


@pytest.mark.slow
def test_retrain_improves_on_site_feedback_and_writes(setup: dict[str, Path]) -> None:
    """A model that never saw the site's spam is beaten by one retrained with the feedback; it is written."""
    out = setup["dir"] / "new.joblib"
    result = _run("train", "--feedback", str(setup["db"]), str(setup["base"]), "--model", str(setup["current"]),
                  "-o", str(out), "--json", "--cv", "0")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["written"], summary["worse"], summary["feedback_held_out"]) == (True, False, 20)
    assert summary["after"]["f1"] > summary["before"]["f1"]
    assert out.exists()
    model = LocalModel.load(out)
    assert model.check(Comment(content="Merino wool and alpaca yarn at the wool corner shop")).spam


@pytest.mark.slow
def test_refuses_a_worse_model_unless_forced(setup: dict[str, Path]) -> None:
    """When the base data teaches the opposite of the feedback, the new model is refused; --force writes it."""
    rng = random.Random(3)
    # base data that calls the site's spam ham and the other way round, many times over
    flipped = _jsonl(setup["dir"] / "flipped.jsonl", _variants(SITE_HAM, 150, rng), _variants(SITE_SPAM, 150, rng))
    good = setup["dir"] / "good.joblib"
    good_model, _ = train(FeedbackStore(setup["db"]).records(), cv=0)  # knows the site's spam
    good_model.save(good)
    out = setup["dir"] / "worse.joblib"
    args = ["train", "--feedback", str(setup["db"]), str(flipped), "--model", str(good), "-o", str(out),
            "--feedback-weight", "1", "--cv", "0"]
    refused = _run(*args)
    assert refused.returncode == 1
    assert "not written: the new model is worse" in refused.stderr
    assert "current model on held-out feedback" in refused.stdout
    assert not out.exists()
    forced = _run(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert out.exists()


@pytest.mark.slow
def test_feedback_alone_adapts_the_shipped_model(setup: dict[str, Path]) -> None:
    """--feedback DB --base-model default needs no base data: the shipped model is adapted to the feedback."""
    out = setup["dir"] / "site.joblib"
    result = _run("train", "--feedback", str(setup["db"]), "--base-model", "default", "--model", str(setup["current"]),
                  "-o", str(out), "--json", "--cv", "3")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["written"], summary["base_rows"], summary["base_model"], summary["refused"]) == (
        True, 0, "default", None)
    assert summary["after"]["f1"] > summary["before"]["f1"]
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["base_model"] == {"model": "default"}
    assert LocalModel.load(out).check(Comment(content="Merino wool and alpaca yarn at the wool corner shop")).spam


def test_base_model_with_data_and_feedback_is_a_usage_error(setup: dict[str, Path]) -> None:
    """Adapting a base model learns from the feedback alone: DATA with it is refused (exit 2)."""
    result = _run("train", "--feedback", str(setup["db"]), str(setup["base"]), "--base-model", "default",
                  "-o", str(setup["dir"] / "x.joblib"))
    assert result.returncode == 2
    assert "leave out DATA" in result.stderr


def test_train_without_data_or_feedback_is_a_usage_error() -> None:
    """`spamguard train -o X` with neither DATA nor --feedback exits 2."""
    result = _run("train", "-o", "never.joblib")
    assert result.returncode == 2
    assert "DATA" in result.stderr


def test_missing_feedback_store(tmp_path: Path) -> None:
    """--feedback naming a file that does not exist fails with a clear message."""
    result = _run("train", "--feedback", str(tmp_path / "nope.sqlite3"), "-o", str(tmp_path / "m.joblib"))
    assert result.returncode == 1
    assert "no feedback store" in result.stderr
