"""``spamguard feedback ...`` run as a real subprocess against a real store: an SQLite file, or a PostgreSQL schema
(``--store postgresql://...``; skipped without a test server, see tests/_postgres.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from _postgres import fresh_schema

from spamguard import Comment, FeedbackStore, cli


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SPAMGUARD_FEEDBACK_DB", None)
    full_env.pop("SPAMGUARD_FEEDBACK_RETENTION_DAYS", None)
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "spamguard", *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def _three_rows(path: str | Path) -> None:
    clock_now = [1_700_000_000.0]
    store = FeedbackStore(path, clock=lambda: clock_now[0])
    store.record(Comment(content="old spam", author_email="a@example.org", user_ip="192.0.2.1"), True)
    clock_now[0] = __import__("time").time()
    store.record(Comment(content="new ham", author_email="b@example.org"), False)
    store.record(Comment(content="new spam", author_email="a@example.org"), True)
    store.close()


@pytest.fixture
def db(feedback_at: Callable[..., str]) -> str:
    """A store with three rows (one old) on each backend: a file path or a postgresql:// URL."""
    path = feedback_at()
    _three_rows(path)
    return path


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    """The same store, as an SQLite file."""
    path = tmp_path / "fb.sqlite3"
    _three_rows(path)
    return path


def test_stats_json(db: str) -> None:
    """stats --json prints one object with the counts and where the store is (--db is --store's other name)."""
    result = _run("feedback", "stats", "--json", "--db", db)
    assert (result.returncode, result.stderr) == (0, "")
    stats = json.loads(result.stdout)
    assert (stats["total"], stats["spam"], stats["ham"]) == (3, 2, 1)
    assert stats.get("path", stats.get("url")) == FeedbackStore(db).location


def test_a_store_url_password_is_never_printed(tmp_path: Path) -> None:
    """Every action on a postgresql:// store names it with its password masked, on stdout and stderr."""
    with fresh_schema() as db:
        _three_rows(db)
        _check_no_password_printed(db, tmp_path)


def _check_no_password_printed(db: str, tmp_path: Path) -> None:
    password = db.split("@")[0].rsplit(":", 1)[1]
    runs = [_run("feedback", "stats", "--store", db), _run("feedback", "stats", "--json", "--store", db),
            _run("feedback", "export", "-o", str(tmp_path / "x.jsonl"), "--store", db),
            _run("feedback", "purge", "--older-than", "1000d", "--store", db),
            _run("feedback", "erase", "--ip", "192.0.2.1", "--store", db)]
    assert [r.returncode for r in runs] == [0] * 5
    assert "url: postgresql://spamguard:***@" in runs[0].stdout
    for result in runs:
        assert password not in result.stdout + result.stderr


def test_purge_older_than(db: str) -> None:
    """purge --older-than 90d deletes the old row and prints the count on stdout."""
    result = _run("feedback", "purge", "--older-than", "90d", "--store", db)
    assert (result.returncode, result.stdout) == (0, "1\n")
    assert "purged 1 row(s)" in result.stderr
    assert len(FeedbackStore(db)) == 2


def test_purge_needs_an_age(db: str) -> None:
    """purge with no age and no retention setting is a usage error; a bad age too."""
    assert _run("feedback", "purge", "--store", db).returncode == 2
    bad = _run("feedback", "purge", "--older-than", "ninety", "--store", db)
    assert bad.returncode == 2
    assert "not an age" in bad.stderr


def test_erase_email(db: str) -> None:
    """erase --email removes that person's rows even though they were pseudonymised."""
    result = _run("feedback", "erase", "--email", "A@example.org", "--store", db)
    assert (result.returncode, result.stdout) == (0, "2\n")
    assert [r.comment.content for r in FeedbackStore(db).records()] == ["new ham"]


def test_export_to_file(db: str, tmp_path: Path) -> None:
    """export -o FILE writes one JSON object a line with a spam/ham label."""
    out = tmp_path / "out.jsonl"
    result = _run("feedback", "export", "-o", str(out), "--store", db)
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


def test_a_postgresql_schema_with_no_store_is_an_error_and_gets_none() -> None:
    """--store naming a database (schema) with no store in it: exit 1, one line, and no table is created there."""
    from _postgres import connect

    with fresh_schema() as url:
        result = _run("feedback", "stats", "--store", url)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr.startswith("spamguard: error: there is no feedback store at postgresql://")
        assert result.stderr.count("\n") == 1 and ":***@" in result.stderr
        with connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM information_schema.tables"
                                " WHERE table_schema = current_schema()").fetchone() == (0,)


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
    db: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing or bad option is a usage error (exit 2) with the action's usage; the store is untouched."""
    monkeypatch.delenv("SPAMGUARD_FEEDBACK_RETENTION_DAYS", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main(["feedback", *argv, "--store", db])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith(f"usage: spamguard feedback {argv[0]} ") and message in err
    assert len(FeedbackStore(db)) == 3


def test_export_to_a_folder_that_does_not_exist(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """-o in a missing folder: one line naming the file and the option, exit 1."""
    target = tmp_path / "missing" / "out.jsonl"
    code = cli.main(["feedback", "export", "-o", str(target), "--store", db])
    assert code == 1
    assert capsys.readouterr().err == (f"spamguard: error: cannot write {target} (--output): "
                                       "No such file or directory\n")


def test_erase_waits_for_a_reader_then_wipes(sqlite_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A reader holding the store for a moment: erase waits for it, then the erased text is gone from the file
    and its WAL (the library test covers a reader that outlasts the wait)."""
    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in (sqlite_db, Path(f"{sqlite_db}-wal")) if p.exists())

    assert b"old spam" in on_disk()
    reader = sqlite3.connect(sqlite_db, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM feedback").fetchone()
    release = threading.Timer(0.5, lambda: reader.execute("COMMIT"))
    release.start()
    try:
        code = cli.main(["feedback", "erase", "--email", "a@example.org", "--db", str(sqlite_db)])
    finally:
        release.join()
        reader.close()
    assert (code, capsys.readouterr().out) == (0, "2\n")
    assert b"old spam" not in on_disk() and b"new spam" not in on_disk() and b"new ham" in on_disk()


def test_train_learns_from_a_postgresql_store_and_keeps_no_password(tmp_path: Path) -> None:
    """spamguard train --feedback postgresql://... reads the store; the model's manifest names it with the
    password masked, and no file written holds the password."""
    with fresh_schema() as url:
        store = FeedbackStore(url)
        for i in range(30):
            store.record(Comment(content=f"Free crypto airdrop {i}, message our telegram admin now"), True)
            store.record(Comment(content=f"The diagram in section {i} made the recursion click for me"), False)
        store.close()
        out = tmp_path / "model" / "site.joblib"
        result = _run("train", "--feedback", url, "-o", str(out), "--cv", "0", "--force", "--json")
    assert result.returncode == 0, result.stderr
    password = url.split("@")[0].rsplit(":", 1)[1]
    assert password not in result.stdout + result.stderr
    written = {p.name: p.read_bytes() for p in out.parent.iterdir()}
    assert written and all(password.encode() not in data for data in written.values())
    assert b'"feedback": "postgresql://spamguard:***@' in b"".join(written.values())
