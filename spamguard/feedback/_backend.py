"""What the feedback store asks of a database: one interface, two implementations.

:class:`~spamguard.FeedbackStore` holds the logic once (pseudonymisation, rows, schema
versions and migrations, export); a backend holds the connections and the SQL dialect:
``_sqlite.py`` (a file, the standard library's ``sqlite3``) and ``_postgres.py`` (a server,
``psycopg`` 3 and its pool). :func:`open_backend` picks one from a path or a URL.

The store writes its SQL once, with ``?`` placeholders and three names in braces that each
backend fills in (:meth:`Backend.sql`): ``{feedback}`` and ``{settings}``, the two tables, and
``{comment_has}``, "the ``comment`` column contains the ``?`` parameter" (``instr`` in SQLite,
``strpos`` in PostgreSQL).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from .. import _settings
from ..errors import FeedbackStoreError

Row = tuple[Any, ...]
Params = Sequence[Any]

_SCHEME = re.compile(r"\A([A-Za-z][A-Za-z0-9+.-]*)://")


class Transaction(Protocol):
    """The one write transaction in which a store is checked, created and migrated; other writers wait."""

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one statement (the store's SQL, see :meth:`Backend.sql`); its rows, if any."""
        ...

    def version(self) -> int:
        """The schema version written by :meth:`set_version` (0: none yet)."""
        ...

    def set_version(self, version: int) -> None:
        """Record the schema version (SQLite: ``PRAGMA user_version``; PostgreSQL: a row of the settings table)."""
        ...

    def tables(self) -> dict[str, set[str]]:
        """The tables that matter for deciding whether this is a feedback store, with their columns."""
        ...

    def create_schema(self) -> None:
        """Create the tables and indexes of the current schema version."""
        ...


class Backend(Protocol):
    """A database that holds a feedback store: connections, dialect, and the clean-up after deletes."""

    kind: str
    """``"sqlite"`` or ``"postgresql"``."""
    location: str
    """Where the store is, fit for messages and reprs: a path, or the URL without its password."""
    path: Path | None
    """The SQLite file; None for a server."""
    feedback_table: str
    """The physical name of the feedback table (``feedback``; ``spamguard_feedback`` in PostgreSQL)."""
    settings_table: str
    """The physical name of the settings table (``settings``; ``spamguard_feedback_settings`` in PostgreSQL)."""
    shared: bool
    """True when the database is expected to hold other applications' tables too (a server)."""

    def sql(self, text: str) -> str:
        """The store's SQL (``?`` placeholders, ``{feedback}``, ``{settings}``, ``{comment_has}``) in this dialect."""
        ...

    def setup(self) -> AbstractContextManager[Transaction]:
        """The exclusive transaction that checks, creates and migrates the schema; committed on success."""
        ...

    def schema_version(self) -> int:
        """The schema version the store is at (what :meth:`Transaction.set_version` wrote)."""
        ...

    def read(self, sql: str, params: Params = ()) -> list[Row]:
        """The rows of one query."""
        ...

    def write(self, sql: str, params: Params = ()) -> int:
        """Run one statement in its own write transaction; the number of rows it changed."""
        ...

    def insert(self, sql: str, params: Params) -> int:
        """Run one ``INSERT`` of one row into the feedback table; the new row's id."""
        ...

    def busy(self, exc: BaseException) -> str | None:
        """What ``exc`` says when it means "a lock was not granted within the timeout"; None for anything else."""
        ...

    def scrub(self, *, wait: bool) -> str | None:
        """After deleting or rewriting rows: remove what the database still keeps of the old rows, so far as
        it can; what stood in the way (a reader), or None when done. ``wait``: up to the store's timeout."""
        ...

    def close(self) -> None:
        """Close the connections this process opened."""
        ...


def scheme(location: str) -> str | None:
    """The URL scheme of ``location`` (lower case), or None for a path."""
    match = _SCHEME.match(location)
    return match.group(1).lower() if match else None


def is_store_url(location: str | Path) -> bool:
    """True when ``location`` names a store by URL (``postgresql://``, ``sqlite:///``) rather than a path."""
    return isinstance(location, str) and scheme(location) is not None


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative/file`` or ``sqlite:////absolute/file`` URL (SQLAlchemy's spelling)."""
    rest = url[len("sqlite://"):]
    if not rest.startswith("/") or rest == "/":
        raise FeedbackStoreError(
            f"{url!r} is not an SQLite store URL; write sqlite:///relative/file.sqlite3 or "
            "sqlite:////absolute/file.sqlite3 (or just the path)"
        )
    return Path(rest[1:]).expanduser()


def open_backend(location: str | Path, *, timeout: float, create: bool) -> Backend:
    """The backend for a path, a ``sqlite:///`` URL or a ``postgresql://`` URL."""
    if isinstance(location, str) and (kind := scheme(location)) is not None:
        if kind in _settings.POSTGRES_SCHEMES:
            try:  # psycopg is an extra: imported only for a PostgreSQL store
                from ._postgres import PostgresBackend
            except ImportError as exc:
                raise FeedbackStoreError(
                    _settings.postgres_unavailable("a PostgreSQL feedback store", location, exc)
                ) from None
            return PostgresBackend(location, timeout=timeout)
        if kind == "sqlite":
            location = sqlite_path(location)
        else:
            raise FeedbackStoreError(
                f"{_settings.masked_url(location)} is not a feedback store location: give a file path, "
                "a sqlite:/// URL or a postgresql:// URL"
            )
    from ._sqlite import SqliteBackend

    return SqliteBackend(Path(location).expanduser(), timeout=timeout, create=create)
