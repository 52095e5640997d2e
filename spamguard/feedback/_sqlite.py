"""The SQLite backend of the feedback store: one file, the standard library's ``sqlite3``.

Several web worker processes and their threads may write to one file at once: WAL journal, a
busy timeout, one connection per thread (and a fresh set after a fork) and short
``BEGIN IMMEDIATE`` write transactions. The schema version is ``PRAGMA user_version``. Erased
rows are overwritten (``secure_delete``) and the write-ahead log is checkpointed and truncated
(:meth:`SqliteBackend.scrub`). A file that is not a feedback store is refused before anything
is written to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import FeedbackStoreError
from ._backend import Params, Row
from ._schema import check_schema

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id           INTEGER PRIMARY KEY,
    created_at   REAL NOT NULL,                                -- Unix time (UTC) it was recorded
    label        TEXT NOT NULL CHECK (label IN ('spam', 'ham')),
    source       TEXT NOT NULL,                                -- 'moderator', 'remote', ...
    comment      TEXT NOT NULL,                                -- JSON, short names, no email/IP
    author_email TEXT,                                         -- 'h1:' + HMAC hex, or as given
    user_ip      TEXT,                                         -- 'h1:' + HMAC hex, or as given
    verdict      TEXT                                          -- JSON of the verdict, if any
);
CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at);
CREATE INDEX IF NOT EXISTS feedback_author_email ON feedback (author_email);
CREATE INDEX IF NOT EXISTS feedback_user_ip ON feedback (user_ip);
"""

_NAMES = {"feedback": "feedback", "settings": "settings", "comment_has": "instr(comment, ?) > 0"}


class SqliteBackend:
    """A feedback store in one SQLite file (see the module docstring)."""

    kind = "sqlite"
    feedback_table = "feedback"
    settings_table = "settings"
    shared = False

    def __init__(self, path: Path, *, timeout: float, create: bool) -> None:
        self.path: Path | None = path
        self.location = str(path)
        self.timeout = timeout
        self._file = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._sql: dict[str, str] = {}
        if str(path) != ":memory:":
            _check_store_file(path, create=create)

    # --- connections --------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:  # forked: never use the parent's connections
            self._local = threading.local()
            self._connections = []
            self._pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._file, timeout=self.timeout, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            self._enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA secure_delete = ON")  # erased rows are overwritten, not left in free pages
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Switching a new file to WAL takes an exclusive lock and does not wait on the busy
        # handler, so two processes creating the store at once retry here.
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        """Close every connection this backend opened (in this process)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(sqlite3.ProgrammingError):  # made in another thread; closes with it
                conn.close()
        self._local = threading.local()

    # --- statements ---------------------------------------------------------------------

    def sql(self, text: str) -> str:
        """The store's SQL as SQLite reads it: the names filled in, ``?`` placeholders kept."""
        found = self._sql.get(text)
        if found is None:
            found = self._sql[text] = text.format(**_NAMES)
        return found

    @contextlib.contextmanager
    def setup(self) -> Iterator[_Setup]:
        """``BEGIN IMMEDIATE`` (other writers wait), committed when the block ends; sqlite3's errors as sentences."""
        try:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Setup(self, conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise store_error(self._file, exc) from None

    def schema_version(self) -> int:
        return int(self._conn().execute("PRAGMA user_version").fetchone()[0])

    def read(self, sql: str, params: Params = ()) -> list[Row]:
        return self._conn().execute(self.sql(sql), tuple(params)).fetchall()

    def _write(self, sql: str, params: Params) -> sqlite3.Cursor:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(self.sql(sql), tuple(params))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return cur

    def write(self, sql: str, params: Params = ()) -> int:
        return int(self._write(sql, params).rowcount)

    def insert(self, sql: str, params: Params) -> int:
        return int(self._write(sql, params).lastrowid or 0)

    def busy(self, exc: BaseException) -> str | None:
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
            return f"another connection kept it locked for writing for {self.timeout:g} s ({exc})"
        return None

    def scrub(self, *, wait: bool) -> str | None:
        """Copy the WAL into the database file and truncate it (deleted rows are already overwritten by
        ``secure_delete``); what stood in the way, or None when done. SQLite always waits its busy timeout."""
        try:
            busy, _, _ = self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError as exc:
            why = f"the write-ahead log could not be checkpointed: {exc}"
        else:
            if not busy:
                return None
            why = f"the write-ahead log {self._file}-wal could not be checkpointed within {self.timeout:g} s"
        return f"their text is still on disk ({why}): a reader holds the database"


class _Setup:
    """The ``BEGIN IMMEDIATE`` transaction of :meth:`SqliteBackend.setup`."""

    def __init__(self, backend: SqliteBackend, conn: sqlite3.Connection) -> None:
        self._backend = backend
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        return self._conn.execute(self._backend.sql(sql), tuple(params)).fetchall()

    def version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def set_version(self, version: int) -> None:
        self._conn.execute(f"PRAGMA user_version = {int(version)}")

    def tables(self) -> dict[str, set[str]]:
        return _tables(self._conn)

    def create_schema(self) -> None:
        # Not executescript(): it would commit the open transaction first.
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._conn.execute(statement)


def _check_store_file(path: Path, *, create: bool) -> None:
    """Refuse, before anything is written, a path that is not (and cannot become) a feedback store."""
    if path.is_dir():
        raise FeedbackStoreError(f"{path} is a directory, not a feedback store file; give the store file's path")
    if not create and not path.exists():
        raise FeedbackStoreError(f"there is no feedback store at {path}; give the location of an existing store")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FeedbackStoreError(
            f"cannot create the folder of the feedback store {path}: {exc.strerror or exc}"
        ) from None
    if not path.exists() or path.stat().st_size == 0:
        return
    # A read-only look first: opening someone else's database must not switch it to WAL or add tables.
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = _tables(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise store_error(path, exc) from None
    check_schema(str(path), "sqlite", version, tables)


def _tables(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """The tables of a database and their columns."""
    names = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: {row[1] for row in conn.execute(f"PRAGMA table_info({json.dumps(name)})")} for name in names}


def store_error(path: Path, exc: sqlite3.DatabaseError) -> FeedbackStoreError:
    """A sentence about what sqlite3 could not do with the store file."""
    text = str(exc)
    if "not a database" in text:
        return FeedbackStoreError(f"{path} is not a feedback store (not an SQLite database file)")
    if "readonly" in text or "read-only" in text:
        return FeedbackStoreError(
            f"{path} is read-only here; the feedback store writes to it and to its folder (the -wal and -shm files)"
        )
    if "unable to open" in text:
        return FeedbackStoreError(f"cannot open the feedback store {path}: check that it and its folder are readable "
                                  "and writable")
    if "locked" in text or "busy" in text:
        return FeedbackStoreError(f"the feedback store {path} stayed locked by another connection: {text}")
    return FeedbackStoreError(f"cannot use {path} as a feedback store: {text}")
