"""Per-key monthly usage: what usage-limit, key-sites and get-stats report.

Counts are added up in memory and written to a small SQLite file at most once a second (and
before every read and at close), so counting costs a dict update per request, not a write.
Writes add to what is stored (``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``),
so several server processes can share one file. A process killed outright loses at most
the last second of counts.
"""

from __future__ import annotations

import datetime as _dt
import os
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

from ..akismet.protocol import KEY_SITES_COLUMNS

__all__ = ["UsageStore", "COLUMNS", "current_month"]

COLUMNS = KEY_SITES_COLUMNS
"""The counters kept per key, month and site: those key-sites reports, in its order."""

_SCHEMA = """
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

# Column names come from the COLUMNS constant; values are bound parameters.
_UPSERT = (
    f"INSERT INTO usage (key_id, month, site, {', '.join(COLUMNS)}) "  # noqa: S608
    f"VALUES (?, ?, ?, {', '.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT (key_id, month, site) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in COLUMNS)
)


def current_month(now: _dt.datetime | None = None) -> str:
    """The month usage is counted in, ``YYYY-MM`` in UTC."""
    return (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m")


class UsageStore:
    """Monthly call counts per key and site, in SQLite (``path=None``: in memory, this process only)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, flush_every: float = 1.0) -> None:
        self.path = Path(path) if path is not None else None
        self.flush_every = flush_every
        self._pending: Counter[tuple[str, str, str, str]] = Counter()
        self._pending_lock = threading.Lock()
        self._db_lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._recent: dict[str, tuple[str, float, int]] = {}  # key id -> (month, when read, calls)
        self._db = sqlite3.connect(
            str(self.path) if self.path is not None else ":memory:",
            check_same_thread=False,
            timeout=10.0,
            isolation_level=None,
        )
        with self._db_lock:
            if self.path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        if self.path is not None:
            os.chmod(self.path, 0o600)

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
            due = time.monotonic() - self._last_flush >= self.flush_every
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the counts gathered in memory to the file."""
        with self._pending_lock:
            pending, self._pending = self._pending, Counter()
            self._last_flush = time.monotonic()
        if not pending:
            return
        rows: dict[tuple[str, str, str], dict[str, int]] = {}
        for (key_id, month, site, column), n in pending.items():
            rows.setdefault((key_id, month, site), dict.fromkeys(COLUMNS, 0))[column] += n
        with self._db_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(_UPSERT, [(*k, *(v[c] for c in COLUMNS)) for k, v in rows.items()])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def month_calls(self, key_id: str, month: str | None = None) -> int:
        """API calls made with a key in a month (this month by default), over all its sites."""
        self.flush()
        with self._db_lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(api_calls), 0) FROM usage WHERE key_id = ? AND month = ?",
                (key_id, month or current_month()),
            ).fetchone()
        return int(row[0])

    def month_calls_recent(self, key_id: str, *, max_age: float = 5.0) -> int:
        """:meth:`month_calls` for this month as read from the file at most ``max_age`` seconds ago,
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
        with self._db_lock:
            cursor = self._db.execute(
                f"SELECT month, site, {', '.join(COLUMNS)} FROM usage WHERE {where} "  # noqa: S608
                "ORDER BY month, site", args,
            )
            return [dict(zip(("month", "site", *COLUMNS), r, strict=True)) for r in cursor.fetchall()]

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
            where += " AND instr(lower(site), lower(?)) > 0"
            args.append(site_filter)
        direction = "ASC" if order == "site" else "DESC"
        with self._db_lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM usage WHERE {where}", args).fetchone()[0]  # noqa: S608
            cursor = self._db.execute(
                f"SELECT site, {', '.join(COLUMNS)} FROM usage WHERE {where} "  # noqa: S608
                f"ORDER BY {order} {direction}, site ASC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            )
            rows = [dict(zip(("site", *COLUMNS), r, strict=True)) for r in cursor.fetchall()]
        return rows, int(total)

    def close(self) -> None:
        """Write what is pending and close the file."""
        self.flush()
        with self._db_lock:
            self._db.close()
