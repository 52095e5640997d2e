"""``spamguard feedback ...`` run as a real subprocess against a real store file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from spamguard import Comment, FeedbackStore, cli


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


# --- files that are not a feedback store, and other mistakes ------------------------------------------------

ACTIONS = [["stats"], ["purge", "--older-than", "1d"], ["export"], ["erase", "--email", "a@example.org"]]


def _make_bad(kind: str, path: Path) -> str:
    """A file of the given kind at ``path``; what the error must say about it."""
    if kind == "directory":
        path.mkdir()
        return f"{path} is a directory, not a feedback store file"
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 40)
        return f"{path} is not a feedback store (not an SQLite database file)"
    if kind == "another-database":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT)")
        conn.close()
        return f"{path} is an SQLite database but not a feedback store (its tables: comments)"
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE feedback (id INTEGER PRIMARY KEY); PRAGMA user_version = 99;")
    conn.close()
    return f"{path} has feedback schema version 99, newer than this spamguard understands"


@pytest.mark.parametrize("kind", ["directory", "binary", "another-database", "newer-schema"])
@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a[0])
def test_a_db_that_is_not_a_store_is_one_line_and_exit_1(
    tmp_path: Path, kind: str, action: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every feedback action given a directory, a binary file, another application's SQLite database or a newer
    store: one line on stderr naming the file, exit 1, nothing on stdout, the file unchanged."""
    path = tmp_path / "store.sqlite3"
    message = _make_bad(kind, path)
    before = path.read_bytes() if path.is_file() else None
    code = cli.main(["feedback", *action, "--db", str(path)])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.startswith(f"spamguard: error: {message}") and err.count("\n") == 1
    assert (path.read_bytes() if path.is_file() else None) == before


def test_a_binary_db_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    """The same through the installed command: exit 1, one line, no traceback."""
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20)
    result = _run("feedback", "stats", "--db", str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"spamguard: error: {path} is not a feedback store (not an SQLite database file)\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["erase", "--ip", "not-an-ip"], "argument --ip: 'not-an-ip' is not an IPv4 or IPv6 address"),
    (["erase", "--email", "  "], "argument --email: the address is empty"),
    (["erase"], "give --email ADDRESS or --ip ADDRESS (or both)"),
    (["purge"], "give --older-than AGE (or set SPAMGUARD_FEEDBACK_RETENTION_DAYS)"),
])
def test_usage_mistakes_name_the_option(
    db: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing or bad option is a usage error (exit 2) with the action's usage; the store is untouched."""
    monkeypatch.delenv("SPAMGUARD_FEEDBACK_RETENTION_DAYS", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main(["feedback", *argv, "--db", str(db)])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith(f"usage: spamguard feedback {argv[0]} ") and message in err
    assert len(FeedbackStore(db)) == 3


def test_export_to_a_folder_that_does_not_exist(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """-o in a missing folder: one line naming the file and the option, exit 1."""
    target = tmp_path / "missing" / "out.jsonl"
    code = cli.main(["feedback", "export", "-o", str(target), "--db", str(db)])
    assert code == 1
    assert capsys.readouterr().err == (f"spamguard: error: cannot write {target} (--output): "
                                       "No such file or directory\n")


def test_erase_waits_for_a_reader_then_wipes(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A reader holding the store for a moment: erase waits for it, then the erased text is gone from the file
    and its WAL (the library test covers a reader that outlasts the wait)."""
    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())

    assert b"old spam" in on_disk()
    reader = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM feedback").fetchone()
    release = threading.Timer(0.5, lambda: reader.execute("COMMIT"))
    release.start()
    try:
        code = cli.main(["feedback", "erase", "--email", "a@example.org", "--db", str(db)])
    finally:
        release.join()
        reader.close()
    assert (code, capsys.readouterr().out) == (0, "2\n")
    assert b"old spam" not in on_disk() and b"new spam" not in on_disk() and b"new ham" in on_disk()
