"""PostgreSQL connections for the stores that can live in a database server: psycopg 3 and its pool.

Used by the feedback store (``feedback/_postgres.py``) and by ``spamguard serve``'s store of keys,
usage and limits (``server/_postgres.py``), so that both open, pool, fork, time out and hide
passwords the same way. Imported only for a ``postgresql://`` location: psycopg is the
``spamguard[postgres]`` extra.

:class:`Database` is one URL in one process: a pool of connections in autocommit (made on
first use, made again after a fork: the parent's connections stay the parent's, psycopg never
closes them from a child), each with ``lock_timeout`` set to the store's timeout;
:meth:`Database.setup` is the one transaction on a connection of its own, under an advisory
lock, in which a store checks, creates and migrates its tables (PostgreSQL's DDL is
transactional, so two processes opening a new store at once do not race). The URL's password
never leaves this module: :attr:`Database.location` masks it (:func:`spamguard._settings.masked_url`),
and every message taken from psycopg has it replaced by ``***`` (:meth:`Database.redact`).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from . import _settings
from .errors import SpamGuardError

__all__ = ["Database", "POOL_MIN", "POOL_MAX"]

POOL_MIN, POOL_MAX = 1, 10


class Database:
    """One PostgreSQL URL as this process uses it: its pool, its setup transaction, its errors as sentences.

    ``what`` names the store in messages (``"feedback store"``); ``error`` is the exception a
    failure becomes (a :class:`~spamguard.SpamGuardError` taking one message); ``name`` is the
    pool's name in psycopg's logs.
    """

    def __init__(self, url: str, *, timeout: float, what: str, error: type[SpamGuardError], name: str) -> None:
        self.location = _settings.masked_url(url)
        """The URL with its password shown as ``***``: fit for reprs, logs and errors."""
        self.timeout = timeout
        self.what = what
        self.error = error
        self._name = name
        self._passwords = _password_forms(url)
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise error(f"{self.location} is not a PostgreSQL URL: {self.redact(exc)}") from None
        if params.get("password"):
            self._passwords.add(str(params["password"]))
        self._url = url
        self._kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in params:
            self._kwargs["connect_timeout"] = max(2, math.ceil(timeout))
        if "application_name" not in params:
            self._kwargs["application_name"] = "spamguard"
        self._pool: ConnectionPool[Any] | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def redact(self, exc: BaseException | str) -> str:
        """psycopg's message on one line, with the password masked."""
        text = " ".join(str(exc).split())
        for secret in sorted(self._passwords, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    # --- connections --------------------------------------------------------------------

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(self.timeout * 1000)}ms",))

    def _pool_here(self) -> ConnectionPool[Any]:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                # After a fork the parent's pool is left alone: its connections are the parent's.
                self._pid = os.getpid()
                self._pool = ConnectionPool(
                    self._url, min_size=POOL_MIN, max_size=POOL_MAX, timeout=self.timeout, open=False,
                    kwargs=self._kwargs, configure=self._configure, name=self._name,
                )
                self._pool.open(wait=False)
            return self._pool

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection (autocommit); losing the server becomes :attr:`error` naming the store.

        An error the server answered with (a lock timeout, a constraint) is psycopg's own: the caller decides.
        """
        try:
            with self._pool_here().connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            if exc.sqlstate is not None:  # the server answered (a lock timeout, say): the caller decides
                raise
            raise self.error(
                f"the {self.what} {self.location} did not answer within {self.timeout:g} s: {self.redact(exc)}"
            ) from None

    def close(self) -> None:
        """Close the pool of this process (a forked child leaves its parent's alone); the next use opens another."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()

    @contextlib.contextmanager
    def setup(self, lock: str) -> Iterator[tuple[psycopg.Connection[Any], str]]:
        """One transaction on a connection of its own, holding the advisory lock named ``lock`` (within the
        connection's current schema); yields the connection and that schema. psycopg's errors become sentences."""
        try:
            conn = psycopg.connect(self._url, **self._kwargs)
        except psycopg.Error as exc:
            raise self.error(f"cannot connect to the {self.what} {self.location}: {self.redact(exc)}") from None
        with conn:
            try:
                with conn.transaction():
                    conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(self.timeout * 1000)}ms",))
                    schema = conn.execute("SELECT current_schema()").fetchone()
                    if schema is None or schema[0] is None:
                        raise self.error(
                            f"{self.location}: the connection has no schema to keep the {self.what} in (none of "
                            "its search_path exists); create one, or name one with ?options=-csearch_path%3DNAME"
                        )
                    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{schema[0]}.{lock}",))
                    yield conn, schema[0]
            except psycopg.Error as exc:
                raise self.error(f"cannot use {self.location} as a {self.what}: {self.redact(exc)}") from None


def _password_forms(url: str) -> set[str]:
    """The password of a URL as written and percent-decoded (both are masked in messages)."""
    try:
        raw = urlsplit(url).password
    except ValueError:
        raw = None
    return {form for form in (raw, unquote(raw) if raw else None) if form}
