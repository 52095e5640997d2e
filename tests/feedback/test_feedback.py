"""The feedback store: recording, concurrency, migration, personal data, export.

Every behaviour runs on both backends (the ``feedback_at`` fixture: an SQLite file, or a fresh
PostgreSQL schema when SPAMGUARD_TEST_POSTGRES_URL names a server); what is about SQLite files
(WAL bytes, file permissions, other files) is tested on SQLite, with its PostgreSQL counterpart
beside it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from _feedback_backends import hold_a_read, hold_the_write_lock, is_postgres, stored
from _postgres import connect, fresh_schema, vacuum_count

from spamguard import Comment, ConfigurationError, FeedbackBusyError, FeedbackStore, FeedbackStoreError, Verdict
from spamguard.dumps import read_records
from spamguard.feedback import SCHEMA_VERSION, default_feedback_path, default_feedback_store

Where = Callable[..., str]

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


def test_record_and_count(feedback_at: Where) -> None:
    """Recorded comments are counted by label and source."""
    store = FeedbackStore(feedback_at())
    store.record(_comment(1), True)
    store.record(_comment(2), False, source="moderator", verdict=Verdict(spam=True, score=0.9, source="local"))
    store.record(_comment(3), False, source="import")
    assert len(store) == 3
    assert store.counts() == {"total": 3, "spam": 1, "ham": 2, "source:import": 1, "source:moderator": 2}
    assert store.schema_version == SCHEMA_VERSION
    assert [r.id for r in store.records()] == ["1", "2", "3"]


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


def test_the_default_store_may_be_a_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPAMGUARD_FEEDBACK_DB=postgresql://... is where FeedbackStore() goes; the SQLite default path is then the
    data folder's, and the store's repr, location and stats never show the password."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with fresh_schema() as url:
        monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", url)
        assert (default_feedback_store(), default_feedback_path()) == (url, tmp_path / "xdg/spamguard/feedback.sqlite3")
        store = FeedbackStore()
        password = url.split("@")[0].rsplit(":", 1)[1]
        shown = [repr(store), store.location, json.dumps(store.stats())]
        assert (store.backend, store.path) == ("postgresql", None)
        assert all(password not in text and ":***@" in text for text in shown), shown
        store.close()


def test_pseudonymised_personal_data_not_in_file(feedback_at: Where) -> None:
    """With pseudonymisation on (the default) the raw email and IP never reach the file (SQLite: its bytes and its
    WAL's; PostgreSQL: every text column of every table, read back with SQL)."""
    path = feedback_at()
    store = FeedbackStore(path)
    store.record(_comment(1, extra={"HTTP_X_FORWARDED_FOR": IP, "HTTP_ACCEPT": "text/html"}), True)
    store.close()
    raw = stored(path)
    for secret_text in (EMAIL, EMAIL.lower(), IP):
        assert secret_text.encode() not in raw
    assert b"comment number 1" in raw
    exported = io.StringIO()
    FeedbackStore(path).export_jsonl(exported)
    row = json.loads(exported.getvalue())
    assert row["author_email"].endswith("@pseudonymised.invalid")
    assert "user_ip" not in row
    assert row["extra"] == {"HTTP_ACCEPT": "text/html"}


def test_not_pseudonymised_when_configured(feedback_at: Where) -> None:
    """pseudonymise=False keeps the email (lower-cased) and IP as given."""
    store = FeedbackStore(feedback_at(), pseudonymise=False)
    store.record(_comment(1), True)
    (record,) = store.records()
    assert (record.comment.author_email, record.comment.user_ip) == (EMAIL.lower(), IP)
    store.close()
    assert IP.encode() in stored(feedback_at())


def test_erase_by_email_and_ip(feedback_at: Where) -> None:
    """erase() finds pseudonymised rows by the address itself (any case) and by IP."""
    store = FeedbackStore(feedback_at())
    store.record(_comment(1), True)
    store.record(_comment(2), False)
    store.record(_comment(3, author_email="bob@example.net", user_ip="203.0.113.9"), False)
    store.record(_comment(4, author_email=None, user_ip="203.0.113.9"), False)
    assert store.erase(email="alice.person@EXAMPLE.org") == 2
    assert store.erase(ip="203.0.113.9") == 2
    assert len(store) == 0
    with pytest.raises(ValueError, match="email= or ip="):
        store.erase()


def test_erase_matches_rows_kept_as_given(feedback_at: Where) -> None:
    """A store switched between modes still erases both kinds of row."""
    path = feedback_at()
    FeedbackStore(path, pseudonymise=False).record(_comment(1), True)
    FeedbackStore(path).record(_comment(2), True)
    assert FeedbackStore(path).erase(email=EMAIL) == 2


def test_external_secret_must_stay_the_same(feedback_at: Where) -> None:
    """A store written with one secret refuses another, and one without, with a clear error."""
    path = feedback_at()
    FeedbackStore(path, secret="s3cret-one").record(_comment(1), True)
    assert FeedbackStore(path, secret="s3cret-one").erase(email=EMAIL) == 1
    with pytest.raises(ConfigurationError, match="not the one"):
        FeedbackStore(path, secret="another")
    with pytest.raises(ConfigurationError, match="SPAMGUARD_FEEDBACK_SECRET"):
        FeedbackStore(path)


def test_purge_older_than_and_retention(feedback_at: Where) -> None:
    """purge() drops rows older than the age given, or than retention_days."""
    clock = Clock()
    store = FeedbackStore(feedback_at(), clock=clock, retention_days=30)
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
        FeedbackStore(feedback_at("other")).purge()


def test_record_verdict_only_when_enabled(feedback_at: Where) -> None:
    """Remote verdicts are kept only with record_remote_verdicts=True, and never provisional hams."""
    off = FeedbackStore(feedback_at("a"))
    assert off.record_verdict(_comment(1), Verdict(spam=True, source="akismet")) is None
    on = FeedbackStore(feedback_at("b"), record_remote_verdicts=True)
    on.record_verdict(_comment(1), Verdict(spam=True, source="akismet"))
    on.record_verdict(_comment(2), Verdict(spam=False, source="akismet", recheck_after=3600))
    assert (len(off), on.counts()["source:remote"]) == (0, 1)
    assert [r.label for r in on.records(sources=["remote"])] == [True]


def test_export_round_trip_through_read_records(feedback_at: Where, tmp_path: Path) -> None:
    """export_jsonl() writes the training JSONL that spamguard.dumps.read_records reads back."""
    store = FeedbackStore(feedback_at(), pseudonymise=False)
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


def test_threads_share_one_store(feedback_at: Where) -> None:
    """Eight threads recording through one store lose nothing."""
    store = FeedbackStore(feedback_at())

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


def test_two_processes_write_at_once(feedback_at: Where) -> None:
    """Two processes recording into the same store at the same time lose no row."""
    path = feedback_at()
    FeedbackStore(path).close()  # both processes then open an existing store
    assert _write_from_two_processes(path, 150) == [0, 0]
    counts = FeedbackStore(path).counts()
    assert (counts["total"], counts["source:worker-1"], counts["source:worker-2"]) == (300, 150, 150)


def test_two_processes_create_a_new_store_at_once(feedback_at: Where, feedback_backend: str, tmp_path: Path) -> None:
    """Two processes racing to create the store both succeed and write everything."""
    path = str(tmp_path / "new" / "fb.sqlite3") if feedback_backend == "sqlite" else feedback_at()
    assert _write_from_two_processes(path, 20) == [0, 0]
    assert len(FeedbackStore(path)) == 40


_V1_ROWS = [
    (1, "2024-01-02T03:04:05Z", 1, json.dumps({"comment_content": "buy pills", "comment_author_email": EMAIL,
                                                "user_ip": IP})),
    (2, "2024-01-03T00:00:00+00:00", 0, json.dumps({"content": "thanks, helpful"})),
]


def _make_version_1(location: str) -> None:
    """A schema-1 store (spamguard 0.0 drafts) with two rows, the raw email and IP inside the JSON."""
    if is_postgres(location):
        with connect(location) as conn, conn.transaction():
            conn.execute("CREATE TABLE spamguard_feedback (id BIGINT PRIMARY KEY, created TEXT NOT NULL,"
                         " is_spam INTEGER NOT NULL, comment TEXT NOT NULL)")
            conn.execute("CREATE TABLE spamguard_feedback_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT INTO spamguard_feedback_settings VALUES ('schema_version', '1')")
            for row in _V1_ROWS:
                conn.execute("INSERT INTO spamguard_feedback VALUES (%s, %s, %s, %s)", row)
        return
    with sqlite3.connect(location) as conn:
        conn.executescript("CREATE TABLE feedback (id INTEGER PRIMARY KEY, created TEXT NOT NULL,"
                           " is_spam INTEGER NOT NULL, comment TEXT NOT NULL); PRAGMA user_version = 1;")
        conn.executemany("INSERT INTO feedback VALUES (?, ?, ?, ?)", _V1_ROWS)
    conn.close()


def test_migrates_a_version_1_store(feedback_at: Where) -> None:
    """A schema-1 store (raw email/IP inside the JSON) is migrated: rows kept with their ids, personal data
    hashed, and the next row gets the next id."""
    path = feedback_at()
    _make_version_1(path)
    assert IP.encode() in stored(path)
    store = FeedbackStore(path)
    assert store.schema_version == SCHEMA_VERSION
    records = list(store.records())
    assert [(r.id, r.comment.content, r.label) for r in records] == [("1", "buy pills", True),
                                                                     ("2", "thanks, helpful", False)]
    assert store.stats()["oldest"] == "2024-01-02T03:04:05+00:00"
    assert store.record(_comment(3), False) == 3
    assert store.erase(email=EMAIL) == 2
    store.close()
    assert IP.encode() not in stored(path)


def test_refuses_a_newer_schema(feedback_at: Where) -> None:
    """A store from a newer spamguard is refused with advice, not damaged."""
    path = feedback_at()
    if is_postgres(path):
        with connect(path) as conn:
            conn.execute("CREATE TABLE spamguard_feedback_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT INTO spamguard_feedback_settings VALUES ('schema_version', %s)",
                         (str(SCHEMA_VERSION + 1),))
    else:
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
    assert MARK.encode() in stored(str(path))
    assert store.erase(email=EMAIL) == 2
    assert MARK.encode() not in stored(str(path))
    assert Path(f"{path}-wal").stat().st_size == 0
    assert [r.comment.content for r in store.records()] == ["kept"]


def test_erase_on_postgresql_deletes_the_rows_and_vacuums_the_table() -> None:
    """PostgreSQL's counterpart: there is no WAL file to scrub, so erase() deletes the rows and runs VACUUM on the
    table (the dead row versions are pruned); no text column of any table holds the erased text any more."""
    with fresh_schema() as url:
        store = FeedbackStore(url)
        store.record(_comment(1, content=f"{MARK} one"), True)
        store.record(_comment(2, content=f"{MARK} two"), True)
        store.record(_comment(3, author_email="bob@example.net", content="kept"), False)
        before = vacuum_count(url)
        assert MARK.encode() in stored(url)
        assert store.erase(email=EMAIL) == 2
        assert MARK.encode() not in stored(url) and b"kept" in stored(url)
        assert vacuum_count(url) == before + 1
        assert [r.comment.content for r in store.records()] == ["kept"]
        store.close()


def test_erase_while_a_reader_holds_the_database_says_so_and_a_retry_finishes(feedback_at: Where) -> None:
    """A second connection in a read transaction keeps the old rows alive (SQLite: old pages in the WAL;
    PostgreSQL: a snapshot older than the delete, so VACUUM may not prune): erase() deletes the rows, waits its
    timeout, then raises FeedbackBusyError saying why; once the reader is done, erasing again finishes the job."""
    path = feedback_at()
    store = FeedbackStore(path, timeout=0.3)
    store.record(_comment(1, content=f"{MARK} one"), True)
    store.record(_comment(2, content=f"{MARK} two"), True)
    with hold_a_read(path), pytest.raises(FeedbackBusyError, match="a reader holds the database; retry") as info:
        store.erase(email=EMAIL)
    assert info.value.erased == 2 and store.location in str(info.value)
    assert len(store) == 0
    if not is_postgres(path):
        assert MARK.encode() in stored(path)  # what the error is about: the text is still on disk
    vacuums = None if not is_postgres(path) else vacuum_count(path)
    assert store.erase(email=EMAIL) == 0
    assert MARK.encode() not in stored(path)
    if vacuums is not None:
        assert vacuum_count(path) == vacuums + 1  # the retry's VACUUM did run


def test_erase_while_a_writer_holds_the_lock_erases_nothing_and_says_so(feedback_at: Where) -> None:
    """Another connection holding the rows locked for writing past the timeout: FeedbackBusyError, nothing
    deleted."""
    path = feedback_at()
    store = FeedbackStore(path, timeout=0.2)
    store.record(_comment(1), True)
    with hold_the_write_lock(path), pytest.raises(FeedbackBusyError, match="nothing was erased") as info:
        store.erase(email=EMAIL)
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


# --- PostgreSQL: other tables, URLs, passwords -------------------------------------------------------------


def test_postgresql_tables_named_like_the_store_that_are_not_one_are_refused_and_left_alone() -> None:
    """A spamguard_feedback table that is not a store's: FeedbackStoreError naming the URL (password masked) and
    the table; the table keeps its row and columns, and no settings table is added."""
    with fresh_schema() as url:
        with connect(url) as conn:
            conn.execute("CREATE TABLE spamguard_feedback (id INTEGER PRIMARY KEY, body TEXT)")
            conn.execute("INSERT INTO spamguard_feedback VALUES (1, 'theirs')")
        with pytest.raises(FeedbackStoreError, match=re.escape(
                "has tables named like a feedback store's (spamguard_feedback) that are not one")) as info:
            FeedbackStore(url)
        assert ":***@" in str(info.value)
        with connect(url) as conn:
            assert conn.execute("SELECT * FROM spamguard_feedback").fetchall() == [(1, "theirs")]
            assert conn.execute("SELECT table_name FROM information_schema.tables"
                                " WHERE table_schema = current_schema()").fetchall() == [("spamguard_feedback",)]


def test_a_postgresql_store_lives_beside_other_applications_tables() -> None:
    """The web application's own tables in the same schema are neither a problem nor touched."""
    with fresh_schema() as url:
        with connect(url) as conn:
            conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)")
            conn.execute("INSERT INTO posts VALUES (1, 'hello')")
        store = FeedbackStore(url)
        store.record(_comment(1), True)
        store.close()
        with connect(url) as conn:
            assert conn.execute("SELECT * FROM posts").fetchall() == [(1, "hello")]
            tables = conn.execute("SELECT table_name FROM information_schema.tables"
                                  " WHERE table_schema = current_schema() ORDER BY 1").fetchall()
        assert tables == [("posts",), ("spamguard_feedback",), ("spamguard_feedback_settings",)]


def test_create_false_refuses_a_place_with_no_store_and_makes_nothing(feedback_at: Where) -> None:
    """create=False (what the feedback commands use): no store there is a FeedbackStoreError, and nothing is
    created (no file; no table)."""
    path = feedback_at()
    with pytest.raises(FeedbackStoreError, match="there is no feedback store at"):
        FeedbackStore(path, create=False)
    if is_postgres(path):
        assert stored_tables(path) == []
    else:
        assert not Path(path).exists()
    FeedbackStore(path).close()
    assert FeedbackStore(path, create=False).schema_version == SCHEMA_VERSION


def stored_tables(url: str) -> list[tuple[str]]:
    with connect(url) as conn:
        return list(conn.execute("SELECT table_name FROM information_schema.tables"
                                 " WHERE table_schema = current_schema()"))


def test_sqlite_urls_name_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlite:///relative and sqlite:////absolute (SQLAlchemy's spelling) are files; sqlite:// alone is refused."""
    monkeypatch.chdir(tmp_path)
    assert FeedbackStore("sqlite:///rel.sqlite3").path == Path("rel.sqlite3")
    assert FeedbackStore(f"sqlite:///{tmp_path}/abs.sqlite3").path == tmp_path / "abs.sqlite3"
    assert (tmp_path / "rel.sqlite3").is_file() and (tmp_path / "abs.sqlite3").is_file()
    with pytest.raises(FeedbackStoreError, match="is not an SQLite store URL"):
        FeedbackStore("sqlite://")


def test_an_unknown_url_scheme_is_refused_without_its_password() -> None:
    """A URL of a database the store cannot use: FeedbackStoreError naming it, password masked."""
    with pytest.raises(FeedbackStoreError) as info:
        FeedbackStore("mysql://blog:hunter2@db.example/blog")
    assert str(info.value) == ("mysql://blog:***@db.example/blog is not a feedback store location: give a file path, "
                               "a sqlite:/// URL or a postgresql:// URL")


def test_postgresql_errors_never_show_the_password() -> None:
    """A wrong password, a closed port, a parameter libpq does not know: one sentence each, naming the store
    with its password masked, and the password nowhere (as written or percent-decoded)."""
    with fresh_schema() as url:
        head, _, tail = url.partition("@")
        user = head.rsplit(":", 1)[0]
        secret = "s3cr%40t-Pw"  # percent-encoded '@': the decoded form must not show either
        closed = f"postgresql://{user.split('//')[1]}:{secret}@127.0.0.1:1/db"
        cases = {
            f"{user}:{secret}@{tail}": "password authentication failed",
            closed: "Connection refused",
            f"{user}:{secret}@{tail}&nonsense=1": 'invalid URI query parameter: "nonsense"',
        }
        for bad, why in cases.items():
            with pytest.raises(FeedbackStoreError) as info:
                FeedbackStore(bad, timeout=2)
            text = str(info.value)
            assert why in text and ":***@" in text and "\n" not in text, text
            assert "s3cr" not in text and "s3cr@t" not in text, text


def test_without_psycopg_a_postgresql_store_says_what_to_install() -> None:
    """With psycopg missing, a postgresql:// store is a FeedbackStoreError naming the extra (in a real process
    where psycopg cannot be imported)."""
    script = (
        "import sys\n"
        "sys.modules['psycopg'] = None  # as if it were not installed\n"
        "from spamguard import FeedbackStore, FeedbackStoreError\n"
        "try:\n"
        "    FeedbackStore('postgresql://blog:hunter2@127.0.0.1:1/blog')\n"
        "except FeedbackStoreError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.startswith("a PostgreSQL feedback store (postgresql://blog:***@127.0.0.1:1/blog) needs "
                                  "psycopg 3 and its pool")
    assert "pip install 'spamguard[postgres]'" in done.stdout and "hunter2" not in done.stdout


def test_a_forked_child_uses_connections_of_its_own(feedback_at: Where) -> None:
    """A store opened before a fork (a pre-forking web server) works in the child and, after the child is gone,
    still in the parent: neither uses nor closes the other's connections."""
    store = FeedbackStore(feedback_at())
    store.record(_comment(1), True)
    child = multiprocessing.get_context("fork").Process(target=_record_twice, args=(store,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    store.record(_comment(4), False)
    assert store.counts()["total"] == 4
    store.close()


def _record_twice(store: FeedbackStore) -> None:
    store.record(_comment(2), True)
    store.record(_comment(3), True)
    store.close()
