"""The SQLite feedback store: recording, concurrency, migration, personal data, export."""

from __future__ import annotations

import datetime as dt
import io
import json
import multiprocessing
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from spamguard import Comment, ConfigurationError, FeedbackBusyError, FeedbackStore, FeedbackStoreError, Verdict
from spamguard.dumps import read_records
from spamguard.feedback import SCHEMA_VERSION, default_feedback_path

EMAIL = "Alice.Person@Example.org"
IP = "198.51.100.23"


def _comment(i: int = 0, **kw: object) -> Comment:
    fields: dict[str, object] = {
        "content": f"comment number {i}: nice post",
        "author": f"author {i}",
        "author_email": EMAIL,
        "user_ip": IP,
        "permalink": "https://blog.example/p/1",
    }
    fields.update(kw)
    return Comment(**fields)  # type: ignore[arg-type]


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _file_bytes(path: Path) -> bytes:
    data = b""
    for p in (path, Path(f"{path}-wal")):
        if p.exists():
            data += p.read_bytes()
    return data


def test_record_and_count(tmp_path: Path) -> None:
    """Recorded comments are counted by label and source."""
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.record(_comment(1), True)
    store.record(_comment(2), False, source="moderator", verdict=Verdict(spam=True, score=0.9, source="local"))
    store.record(_comment(3), False, source="import")
    assert len(store) == 3
    assert store.counts() == {"total": 3, "spam": 1, "ham": 2, "source:import": 1, "source:moderator": 2}
    assert store.schema_version == SCHEMA_VERSION


def test_wal_mode_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default path follows SPAMGUARD_FEEDBACK_DB, else XDG_DATA_HOME; the file is in WAL mode."""
    monkeypatch.delenv("SPAMGUARD_FEEDBACK_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_feedback_path() == tmp_path / "xdg" / "spamguard" / "feedback.sqlite3"
    monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(tmp_path / "env.db"))
    store = FeedbackStore()
    assert store.path == tmp_path / "env.db"
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_pseudonymised_personal_data_not_in_file(tmp_path: Path) -> None:
    """With pseudonymisation on (the default) the raw email and IP never reach the file."""
    path = tmp_path / "fb.sqlite3"
    store = FeedbackStore(path)
    store.record(_comment(1, extra={"HTTP_X_FORWARDED_FOR": IP, "HTTP_ACCEPT": "text/html"}), True)
    store.close()
    raw = _file_bytes(path)
    for secret_text in (EMAIL, EMAIL.lower(), IP):
        assert secret_text.encode() not in raw
    assert b"comment number 1" in raw
    exported = io.StringIO()
    FeedbackStore(path).export_jsonl(exported)
    row = json.loads(exported.getvalue())
    assert row["author_email"].endswith("@pseudonymised.invalid")
    assert "user_ip" not in row
    assert row["extra"] == {"HTTP_ACCEPT": "text/html"}


def test_not_pseudonymised_when_configured(tmp_path: Path) -> None:
    """pseudonymise=False keeps the email (lower-cased) and IP as given."""
    store = FeedbackStore(tmp_path / "fb.sqlite3", pseudonymise=False)
    store.record(_comment(1), True)
    (record,) = store.records()
    assert (record.comment.author_email, record.comment.user_ip) == (EMAIL.lower(), IP)
    store.close()
    assert IP.encode() in _file_bytes(tmp_path / "fb.sqlite3")


def test_erase_by_email_and_ip(tmp_path: Path) -> None:
    """erase() finds pseudonymised rows by the address itself (any case) and by IP."""
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.record(_comment(1), True)
    store.record(_comment(2), False)
    store.record(_comment(3, author_email="bob@example.net", user_ip="203.0.113.9"), False)
    store.record(_comment(4, author_email=None, user_ip="203.0.113.9"), False)
    assert store.erase(email="alice.person@EXAMPLE.org") == 2
    assert store.erase(ip="203.0.113.9") == 2
    assert len(store) == 0
    with pytest.raises(ValueError, match="email= or ip="):
        store.erase()


def test_erase_matches_rows_kept_as_given(tmp_path: Path) -> None:
    """A store switched between modes still erases both kinds of row."""
    path = tmp_path / "fb.sqlite3"
    FeedbackStore(path, pseudonymise=False).record(_comment(1), True)
    FeedbackStore(path).record(_comment(2), True)
    assert FeedbackStore(path).erase(email=EMAIL) == 2


def test_external_secret_must_stay_the_same(tmp_path: Path) -> None:
    """A store written with one secret refuses another, and one without, with a clear error."""
    path = tmp_path / "fb.sqlite3"
    FeedbackStore(path, secret="s3cret-one").record(_comment(1), True)
    assert FeedbackStore(path, secret="s3cret-one").erase(email=EMAIL) == 1
    with pytest.raises(ConfigurationError, match="not the one"):
        FeedbackStore(path, secret="another")
    with pytest.raises(ConfigurationError, match="SPAMGUARD_FEEDBACK_SECRET"):
        FeedbackStore(path)


def test_purge_older_than_and_retention(tmp_path: Path) -> None:
    """purge() drops rows older than the age given, or than retention_days."""
    clock = Clock()
    store = FeedbackStore(tmp_path / "fb.sqlite3", clock=clock, retention_days=30)
    store.record(_comment(1), True)  # 100 days old at the end
    clock.now += 60 * 86400
    store.record(_comment(2), True)  # 40 days old
    clock.now += 30 * 86400
    store.record(_comment(3), True)  # 10 days old
    clock.now += 10 * 86400
    assert store.purge(dt.timedelta(days=90)) == 1
    assert store.purge() == 1
    assert [r.comment.content for r in store.records()] == ["comment number 3: nice post"]
    with pytest.raises(ValueError, match="needs an age"):
        FeedbackStore(tmp_path / "other.sqlite3").purge()


def test_record_verdict_only_when_enabled(tmp_path: Path) -> None:
    """Remote verdicts are kept only with record_remote_verdicts=True, and never provisional hams."""
    off = FeedbackStore(tmp_path / "a.sqlite3")
    assert off.record_verdict(_comment(1), Verdict(spam=True, source="akismet")) is None
    on = FeedbackStore(tmp_path / "b.sqlite3", record_remote_verdicts=True)
    on.record_verdict(_comment(1), Verdict(spam=True, source="akismet"))
    on.record_verdict(_comment(2), Verdict(spam=False, source="akismet", recheck_after=3600))
    assert (len(off), on.counts()["source:remote"]) == (0, 1)
    assert [r.label for r in on.records(sources=["remote"])] == [True]


def test_export_round_trip_through_read_records(tmp_path: Path) -> None:
    """export_jsonl() writes the training JSONL that spamguard.dumps.read_records reads back."""
    store = FeedbackStore(tmp_path / "fb.sqlite3", pseudonymise=False)
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    originals = [
        _comment(1, date=when, author_url="https://spam.example"),
        _comment(2, content="Привет, отличный пост"),
    ]
    store.record(originals[0], True)
    store.record(originals[1], False)
    out = tmp_path / "feedback.jsonl"
    with out.open("w", encoding="utf-8") as fp:
        assert store.export_jsonl(fp) == 2
    back = list(read_records(out))
    assert [(r.comment, r.label) for r in back] == [(originals[0].replace(author_email=EMAIL.lower()), True),
                                                    (originals[1].replace(author_email=EMAIL.lower()), False)]
    assert [(r.comment, r.label) for r in store.records()] == [(r.comment, r.label) for r in back]


def test_threads_share_one_store(tmp_path: Path) -> None:
    """Eight threads recording through one store lose nothing."""
    store = FeedbackStore(tmp_path / "fb.sqlite3")

    def work(t: int) -> None:
        for i in range(25):
            store.record(_comment(t * 100 + i), i % 2 == 0)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.counts()["total"] == 200


def _write_many(path: str, worker: int, n: int) -> None:
    store = FeedbackStore(path)
    for i in range(n):
        store.record(_comment(worker * 10_000 + i), i % 3 == 0, source=f"worker-{worker}")
    store.close()


def _write_from_two_processes(path: str, rows: int) -> list[int | None]:
    """Workers 1 and 2 each record ``rows`` comments into ``path`` at the same time; their exit codes."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(path, w, rows)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    return [p.exitcode for p in procs]


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    """Two processes recording into the same file at the same time lose no row."""
    path = str(tmp_path / "fb.sqlite3")
    FeedbackStore(path).close()  # both processes then open an existing store
    assert _write_from_two_processes(path, 150) == [0, 0]
    counts = FeedbackStore(path).counts()
    assert (counts["total"], counts["source:worker-1"], counts["source:worker-2"]) == (300, 150, 150)


def test_two_processes_create_a_new_store_at_once(tmp_path: Path) -> None:
    """Two processes racing to create the file both succeed and write everything."""
    path = str(tmp_path / "new" / "fb.sqlite3")
    assert _write_from_two_processes(path, 20) == [0, 0]
    assert len(FeedbackStore(path)) == 40


_V1_SCHEMA = """
CREATE TABLE feedback (id INTEGER PRIMARY KEY, created TEXT NOT NULL, is_spam INTEGER NOT NULL, comment TEXT NOT NULL);
PRAGMA user_version = 1;
"""


def test_migrates_a_version_1_file(tmp_path: Path) -> None:
    """A schema-1 file (raw email/IP inside the JSON) is migrated: rows kept, personal data hashed."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_V1_SCHEMA)
        conn.execute(
            "INSERT INTO feedback (created, is_spam, comment) VALUES (?, 1, ?)",
            ("2024-01-02T03:04:05Z", json.dumps({"comment_content": "buy pills", "comment_author_email": EMAIL,
                                                  "user_ip": IP})),
        )
        conn.execute(
            "INSERT INTO feedback (created, is_spam, comment) VALUES (?, 0, ?)",
            ("2024-01-03T00:00:00+00:00", json.dumps({"content": "thanks, helpful"})),
        )
    conn.close()
    store = FeedbackStore(path)
    assert store.schema_version == SCHEMA_VERSION
    records = list(store.records())
    assert [(r.comment.content, r.label) for r in records] == [("buy pills", True), ("thanks, helpful", False)]
    assert store.stats()["oldest"] == "2024-01-02T03:04:05+00:00"
    assert store.erase(email=EMAIL) == 1
    store.close()
    assert IP.encode() not in _file_bytes(path)


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    """A file from a newer spamguard is refused with advice, not damaged."""
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ConfigurationError, match="upgrade spamguard"):
        FeedbackStore(path)


# --- erasure leaves nothing on disk -----------------------------------------------------------------------

MARK = "ERASE-ME-4f1c"


def test_erase_wipes_the_text_from_the_file_and_its_wal(tmp_path: Path) -> None:
    """Rows already checkpointed into the file and rows still in the WAL: after erase() neither file holds
    their text (secure_delete overwrites, the WAL is checkpointed and truncated)."""
    path = tmp_path / "fb.sqlite3"
    store = FeedbackStore(path)
    assert store._db._conn().execute("PRAGMA secure_delete").fetchone()[0] == 1
    store.record(_comment(1, content=f"{MARK} in the file"), True)
    store.close()  # the last connection's close checkpoints: the row is in the database file
    store = FeedbackStore(path)
    store.record(_comment(2, content=f"{MARK} in the log"), True)
    store.record(_comment(3, author_email="bob@example.net", content="kept"), False)
    assert MARK.encode() in _file_bytes(path)
    assert store.erase(email=EMAIL) == 2
    assert MARK.encode() not in _file_bytes(path)
    assert Path(f"{path}-wal").stat().st_size == 0
    assert [r.comment.content for r in store.records()] == ["kept"]


def test_erase_while_a_reader_holds_the_database_says_so_and_a_retry_finishes(tmp_path: Path) -> None:
    """A second connection in a read transaction keeps old pages in the WAL: erase() deletes the rows, waits
    its timeout, then raises FeedbackBusyError saying why; once the reader is done, erasing again wipes them."""
    path = tmp_path / "fb.sqlite3"
    store = FeedbackStore(path, timeout=0.3)
    store.record(_comment(1, content=f"{MARK} one"), True)
    store.record(_comment(2, content=f"{MARK} two"), True)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM feedback").fetchone() == (2,)
    with pytest.raises(FeedbackBusyError, match="a reader holds the database; retry") as info:
        store.erase(email=EMAIL)
    assert info.value.erased == 2 and str(path) in str(info.value)
    assert MARK.encode() in _file_bytes(path)  # what the error is about: the text is still on disk
    assert len(store) == 0
    reader.execute("COMMIT")
    reader.close()
    assert store.erase(email=EMAIL) == 0
    assert MARK.encode() not in _file_bytes(path)


def test_erase_while_a_writer_holds_the_lock_erases_nothing_and_says_so(tmp_path: Path) -> None:
    """Another connection holding the write lock past the timeout: FeedbackBusyError, nothing deleted."""
    path = tmp_path / "fb.sqlite3"
    store = FeedbackStore(path, timeout=0.2)
    store.record(_comment(1), True)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    with pytest.raises(FeedbackBusyError, match="nothing was erased") as info:
        store.erase(email=EMAIL)
    writer.execute("ROLLBACK")
    writer.close()
    assert info.value.erased == 0 and len(store) == 1


# --- files that are not a feedback store ----------------------------------------------------------------


def _someone_elses_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)")
        conn.execute("INSERT INTO posts (title) VALUES ('hello')")
    conn.close()


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.mkdir(), "is a directory, not a feedback store file"),
    (lambda p: p.write_bytes(bytes(range(256)) * 64), "is not a feedback store (not an SQLite database file)"),
    (_someone_elses_database, "is an SQLite database but not a feedback store (its tables: posts)"),
    (lambda p: sqlite3.connect(p).executescript(
        "CREATE TABLE feedback (id INTEGER PRIMARY KEY, body TEXT); PRAGMA user_version = 2;"),
     "is an SQLite database but not a feedback store (its tables: feedback)"),
    (lambda p: sqlite3.connect(p).executescript(
        "CREATE TABLE feedback (id INTEGER PRIMARY KEY); PRAGMA user_version = 9;"),
     "has feedback schema version 9, newer than this spamguard understands (3); upgrade spamguard"),
], ids=["directory", "binary", "another-apps-database", "another-feedback-table", "newer-schema"])
def test_a_file_that_is_not_a_feedback_store_is_refused_and_left_alone(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    """FeedbackStoreError (a ConfigurationError) names the file and what it is; the file is not changed:
    no tables added, no switch to WAL, no -wal file."""
    path = tmp_path / "store.sqlite3"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(FeedbackStoreError, match=re.escape(message)) as info:
        FeedbackStore(path)
    assert str(path) in str(info.value) and isinstance(info.value, ConfigurationError)
    assert (path.read_bytes() if path.is_file() else None) == before
    assert not Path(f"{path}-wal").exists()


def test_a_read_only_store_file_is_refused_with_a_sentence(tmp_path: Path) -> None:
    """A store the process may not write to: FeedbackStoreError saying so, not sqlite3's exception."""
    path = tmp_path / "fb.sqlite3"
    FeedbackStore(path).close()
    path.chmod(0o400)
    try:
        if os.access(path, os.W_OK):
            pytest.skip("running as a user who may write to read-only files (root)")
        with pytest.raises(FeedbackStoreError, match="read-only"):
            FeedbackStore(path)
    finally:
        path.chmod(0o600)


def test_a_store_whose_folder_cannot_be_made_is_refused_with_a_sentence(tmp_path: Path) -> None:
    """A path under a regular file: FeedbackStoreError naming it, not an OSError traceback."""
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FeedbackStoreError, match="cannot create the folder of the feedback store .*a-file"):
        FeedbackStore(tmp_path / "a-file" / "fb.sqlite3")
