"""Doing the same thing to a feedback store on either backend, for the tests that run on both.

``stored`` is what an attacker with the database could read: the SQLite file and its WAL as bytes,
or every text column of every table of the PostgreSQL schema (read with SQL). ``hold_a_read``
and ``hold_the_write_lock`` are another connection in the middle of a read, or holding the rows
locked for writing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from _postgres import all_text, connect


def is_postgres(location: str) -> bool:
    return location.startswith("postgresql://")


def stored(location: str) -> bytes:
    """Everything the store keeps, as readable bytes: the SQLite file and its WAL, or PostgreSQL's text columns."""
    if is_postgres(location):
        return all_text(location).encode()
    return b"".join(p.read_bytes() for p in (Path(location), Path(f"{location}-wal")) if p.exists())


@contextlib.contextmanager
def hold_a_read(location: str) -> Iterator[None]:
    """Another connection that has read the feedback table and keeps its snapshot until the block ends."""
    if is_postgres(location):
        conn = connect(location, autocommit=False)
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.execute("SELECT count(*) FROM spamguard_feedback").fetchone()
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
        return
    reader = sqlite3.connect(location, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM feedback").fetchone()
    try:
        yield
    finally:
        reader.execute("COMMIT")
        reader.close()


@contextlib.contextmanager
def hold_the_write_lock(location: str) -> Iterator[None]:
    """Another connection holding the feedback rows locked for writing until the block ends."""
    if is_postgres(location):
        conn = connect(location, autocommit=False)
        conn.execute("SELECT id FROM spamguard_feedback FOR UPDATE").fetchall()
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
        return
    writer = sqlite3.connect(location, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        writer.execute("ROLLBACK")
        writer.close()
