"""``spamguard feedback ...`` run as a real subprocess against a real store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spamguard import Comment, FeedbackStore


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SPAMGUARD_FEEDBACK_DB", None)
    full_env.pop("SPAMGUARD_FEEDBACK_RETENTION_DAYS", None)
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "spamguard", *args], capture_output=True, text=True, env=full_env, timeout=60
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "fb.sqlite3"
    clock_now = [1_700_000_000.0]
    store = FeedbackStore(path, clock=lambda: clock_now[0])
    store.record(Comment(content="old spam", author_email="a@example.org", user_ip="192.0.2.1"), True)
    clock_now[0] = __import__("time").time()
    store.record(Comment(content="new ham", author_email="b@example.org"), False)
    store.record(Comment(content="new spam", author_email="a@example.org"), True)
    store.close()
    return path


def test_stats_json(db: Path) -> None:
    """stats --json prints one object with the counts."""
    result = _run("feedback", "stats", "--json", "--db", str(db))
    assert (result.returncode, result.stderr) == (0, "")
    stats = json.loads(result.stdout)
    assert (stats["total"], stats["spam"], stats["ham"]) == (3, 2, 1)


def test_purge_older_than(db: Path) -> None:
    """purge --older-than 90d deletes the old row and prints the count on stdout."""
    result = _run("feedback", "purge", "--older-than", "90d", "--db", str(db))
    assert (result.returncode, result.stdout) == (0, "1\n")
    assert "purged 1 row(s)" in result.stderr
    assert len(FeedbackStore(db)) == 2


def test_purge_needs_an_age(db: Path) -> None:
    """purge with no age and no retention setting is a usage error; a bad age too."""
    assert _run("feedback", "purge", "--db", str(db)).returncode == 2
    bad = _run("feedback", "purge", "--older-than", "ninety", "--db", str(db))
    assert bad.returncode == 2
    assert "not an age" in bad.stderr


def test_erase_email(db: Path) -> None:
    """erase --email removes that person's rows even though they were pseudonymised."""
    result = _run("feedback", "erase", "--email", "A@example.org", "--db", str(db))
    assert (result.returncode, result.stdout) == (0, "2\n")
    assert [r.comment.content for r in FeedbackStore(db).records()] == ["new ham"]


def test_export_to_file(db: Path, tmp_path: Path) -> None:
    """export -o FILE writes one JSON object a line with a spam/ham label."""
    out = tmp_path / "out.jsonl"
    result = _run("feedback", "export", "-o", str(out), "--db", str(db))
    assert (result.returncode, result.stdout) == (0, "")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = [("old spam", "spam"), ("new ham", "ham"), ("new spam", "spam")]
    assert [(r["content"], r["label"]) for r in rows] == expected


def test_missing_store_is_an_error(tmp_path: Path) -> None:
    """A --db that does not exist is reported (exit 1) and not created."""
    missing = tmp_path / "nope.sqlite3"
    result = _run("feedback", "stats", "--db", str(missing))
    assert result.returncode == 1
    assert "no feedback store" in result.stderr
    assert not missing.exists()


def test_help_has_examples() -> None:
    """Every feedback action has help with an example."""
    for action in ("purge", "erase", "export", "stats"):
        result = _run("feedback", action, "-h")
        assert result.returncode == 0
        assert f"spamguard feedback {action}" in result.stdout
