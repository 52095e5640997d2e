"""Per-key monthly usage: what usage-limit, key-sites and get-stats report.

Counts are added up in memory and written at most once a second, by a thread of their own
(and before every read, and at close), so counting costs a dict update per request, never a
write. Writes add to what is stored (``INSERT ... ON CONFLICT DO UPDATE SET n = n +
excluded.n``, in one transaction), so any number of server processes can share the counts
and none is lost: in a small SQLite file (``KEYS.usage.sqlite`` beside a keys file: the
processes of one host), or in PostgreSQL (``_postgres.py``: every host using the database).
A write that fails is kept in memory and tried again a second later. A process killed
outright loses at most the last second of counts.

The SQL is written once, with ``?`` placeholders and two names in braces that each backend
fills in: ``{usage}``, the table, and ``{site_has}``, "the ``site`` column contains the ``?``
parameter, whatever the case".
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from .. import _settings
from ..akismet.protocol import KEY_SITES_COLUMNS

__all__ = ["UsageStore", "UsageBackend", "COLUMNS", "UPSERT", "current_month"]

_log = logging.getLogger("spamguard.server")

COLUMNS = KEY_SITES_COLUMNS
"""The counters kept per key, month and site: those key-sites reports, in its order."""

# Column names come from the COLUMNS constant; values are bound parameters.
UPSERT = (
    f"INSERT INTO {{usage}} (key_id, month, site, {', '.join(COLUMNS)}) "  # noqa: S608
    f"VALUES (?, ?, ?, {', '.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT (key_id, month, site) DO UPDATE SET "
    + ", ".join(f"{c} = {{usage}}.{c} + excluded.{c}" for c in COLUMNS)
)
"""Add one row of counts to what is stored (the store's SQL, see the module docstring)."""

Row = tuple[Any, ...]


class UsageBackend(Protocol):
    """Where a :class:`UsageStore` keeps its counts."""

    location: str
    """Where, fit for messages: the file's path, ``:memory:``, or the URL with its password masked."""
    shared: bool
    """True when other processes may write to it too (anything but memory): counts are then written once a second."""

    def add(self, rows: Sequence[Row]) -> None:
        """Run :data:`UPSERT` for every row, in one transaction."""
        ...

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """The rows of one query in the store's SQL."""
        ...

    def close(self) -> None:
        """Close the connections this process opened."""
        ...


def current_month(now: _dt.datetime | None = None) -> str:
    """The month usage is counted in, ``YYYY-MM`` in UTC."""
    return (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m")


class UsageStore:
    """Monthly call counts per key and site: an SQLite file (``path=None``: in memory, this process only), or a
    ``postgresql://`` URL (needs ``spamguard[postgres]``), where every server using the database shares them."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, flush_every: float = 1.0, timeout: float = 10.0,
    ) -> None:
        if _settings.is_postgres_url(path):
            from ._postgres import PostgresUsage  # psycopg is an extra: imported only for a PostgreSQL store

            backend: UsageBackend = PostgresUsage.open(path, timeout=timeout)
        else:
            backend = SqliteUsage(Path(path) if path is not None else None, timeout=timeout)
        self._start(backend, flush_every)

    @classmethod
    def over(cls, backend: UsageBackend, *, flush_every: float = 1.0) -> UsageStore:
        """A usage store over a backend already open (a key store's database)."""
        store = cls.__new__(cls)
        store._start(backend, flush_every)
        return store

    def _start(self, backend: UsageBackend, flush_every: float) -> None:
        self._backend = backend
        self.location = backend.location
        """Where the counts are, fit for messages."""
        self.flush_every = flush_every
        self._pending: Counter[tuple[str, str, str, str]] = Counter()
        self._pending_lock = threading.Lock()
        self._recent: dict[str, tuple[str, float, int]] = {}  # key id -> (month, when read, calls)
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        self._failing = False

    def __repr__(self) -> str:
        return f"UsageStore({self.location!r})"

    def count(self, key_id: str, site: str, **counts: int) -> None:
        """Add to this month's counters for a key and site (``api_calls=1, spam=1``, ...)."""
        month = current_month()
        with self._pending_lock:
            for column, n in counts.items():
                if column not in COLUMNS:
                    raise ValueError(f"unknown usage counter {column!r}; known: {', '.join(COLUMNS)}")
                self._pending[(key_id, month, site, column)] += n
            seen = self._recent.get(key_id)
            if seen is not None and seen[0] == month and counts.get("api_calls"):
                self._recent[key_id] = (month, seen[1], seen[2] + counts["api_calls"])
            if self._flusher is None and self._backend.shared and not self._stop.is_set():
                self._flusher = threading.Thread(
                    target=_flush_every, args=(weakref.ref(self), self._stop, self.flush_every),
                    name="spamguard-usage", daemon=True,
                )
                self._flusher.start()

    def flush(self) -> None:
        """Write the counts gathered in memory to the store (kept in memory if the write fails)."""
        with self._pending_lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return
        rows: dict[tuple[str, str, str], dict[str, int]] = {}
        for (key_id, month, site, column), n in pending.items():
            rows.setdefault((key_id, month, site), dict.fromkeys(COLUMNS, 0))[column] += n
        try:
            self._backend.add([(*k, *(v[c] for c in COLUMNS)) for k, v in rows.items()])
        except BaseException:
            with self._pending_lock:
                self._pending.update(pending)
            raise

    def _flush_in_background(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # the next second tries again; the operator hears once per outage
            if not self._failing:
                _log.error("cannot write usage counts to %s (kept, tried again every second): %s", self.location, exc)
            self._failing = True
        else:
            if self._failing:
                _log.warning("usage counts are written to %s again", self.location)
            self._failing = False

    def month_calls(self, key_id: str, month: str | None = None) -> int:
        """API calls made with a key in a month (this month by default), over all its sites."""
        self.flush()
        rows = self._backend.read(
            "SELECT COALESCE(SUM(api_calls), 0) FROM {usage} WHERE key_id = ? AND month = ?",
            (key_id, month or current_month()),
        )
        return int(rows[0][0])

    def month_calls_recent(self, key_id: str, *, max_age: float = 5.0) -> int:
        """:meth:`month_calls` for this month as read from the store at most ``max_age`` seconds ago,
        plus what this process counted since: cheap enough to ask on every request."""
        month = current_month()
        now = time.monotonic()
        with self._pending_lock:
            seen = self._recent.get(key_id)
            if seen is not None and seen[0] == month and now - seen[1] < max_age:
                return seen[2]
        calls = self.month_calls(key_id, month)
        with self._pending_lock:
            if len(self._recent) > 10_000:
                self._recent.clear()
            self._recent[key_id] = (month, now, calls)
        return calls

    def history(self, key_id: str, since: str | None = None) -> list[dict[str, int | str]]:
        """Every (month, site) row of a key, from month ``since`` (``YYYY-MM``) on, oldest first."""
        self.flush()
        where, args = "key_id = ?", [key_id]
        if since is not None:
            where += " AND month >= ?"
            args.append(since)
        rows = self._backend.read(
            f"SELECT month, site, {', '.join(COLUMNS)} FROM {{usage}} WHERE {where} "  # noqa: S608
            "ORDER BY month, site", args,
        )
        return [dict(zip(("month", "site", *COLUMNS), r, strict=True)) for r in rows]

    def sites(
        self,
        key_id: str,
        month: str,
        *,
        site_filter: str | None = None,
        order: str = "api_calls",
        limit: int = 500,
        offset: int = 0,
    ) -> tuple[list[dict[str, int | str]], int]:
        """One row per site a key was used from in a month, busiest first; and how many there are in all."""
        if order not in ("site", *COLUMNS):
            raise ValueError(f"cannot order by {order!r}; use site or one of {', '.join(COLUMNS)}")
        self.flush()
        where = "key_id = ? AND month = ?"
        args: list[object] = [key_id, month]
        if site_filter:
            where += " AND {site_has}"
            args.append(site_filter)
        direction = "ASC" if order == "site" else "DESC"
        total = self._backend.read(f"SELECT COUNT(*) FROM {{usage}} WHERE {where}", args)[0][0]  # noqa: S608
        found = self._backend.read(
            f"SELECT site, {', '.join(COLUMNS)} FROM {{usage}} WHERE {where} "  # noqa: S608
            f"ORDER BY {order} {direction}, site ASC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        rows = [dict(zip(("site", *COLUMNS), r, strict=True)) for r in found]
        return rows, int(total)

    def close(self) -> None:
        """Write what is pending and close the store (its connections in this process)."""
        self._stop.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=self.flush_every + 5)
        try:
            self.flush()
        finally:
            self._backend.close()


def _flush_every(ref: weakref.ReferenceType[UsageStore], stop: threading.Event, seconds: float) -> None:
    """The flusher thread: every ``seconds`` until the store is closed (or forgotten), write what is pending."""
    while not stop.wait(seconds):
        store = ref()
        if store is None:
            return
        store._flush_in_background()
        del store


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    key_id TEXT NOT NULL,
    month TEXT NOT NULL,
    site TEXT NOT NULL,
    api_calls INTEGER NOT NULL DEFAULT 0,
    spam INTEGER NOT NULL DEFAULT 0,
    ham INTEGER NOT NULL DEFAULT 0,
    missed_spam INTEGER NOT NULL DEFAULT 0,
    false_positives INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, month, site)
)
"""
_SQLITE_NAMES = {"usage": "usage", "site_has": "instr(lower(site), lower(?)) > 0"}


class SqliteUsage:
    """Usage counts in an SQLite file (WAL, shared by the processes of one host), or in memory (``path=None``)."""

    def __init__(self, path: Path | None, *, timeout: float = 10.0) -> None:
        self.location = str(path) if path is not None else ":memory:"
        self.shared = path is not None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.location, check_same_thread=False, timeout=timeout, isolation_level=None)
        with self._lock:
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SQLITE_SCHEMA)
        if path is not None:
            os.chmod(path, 0o600)

    def add(self, rows: Sequence[Row]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(UPSERT.format(**_SQLITE_NAMES), rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return self._db.execute(sql.format(**_SQLITE_NAMES), params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
