"""The feedback store's schema versions: which tables make a store, and the migrations between versions.

Both backends keep the same tables and number their schema the same way (SQLite in ``PRAGMA
user_version``, PostgreSQL in a ``schema_version`` row of the store's settings table) and run
the same migrations, written once in the store's SQL (see ``_backend.py``).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..comment import Comment
from ..errors import FeedbackStoreError, InvalidCommentError
from ._backend import Transaction

if TYPE_CHECKING:
    from ._store import FeedbackStore

log = logging.getLogger("spamguard.feedback")

SCHEMA_VERSION = 3
"""The schema version this code writes (SQLite: ``PRAGMA user_version``; PostgreSQL: the settings table).

3: the tables of 2, with every address outside the text and the author's name replaced by a stand-in."""

_TABLE_COLUMNS = {
    1: {"id", "created", "is_spam", "comment"},
    2: {"id", "created_at", "label", "source", "comment", "author_email", "user_ip", "verdict"},
}


def check_schema(
    location: str, kind: str, version: int, tables: Mapping[str, set[str]],
    feedback_table: str = "feedback", settings_table: str = "settings",
) -> None:
    """Raise FeedbackStoreError unless the tables are those of a feedback store of a version this code reads.

    ``tables`` are those that matter: every table of an SQLite file, the store's own two in PostgreSQL
    (where the database holds other applications' tables too).
    """
    feedback = tables.get(feedback_table)
    if version > SCHEMA_VERSION and (feedback is not None or not set(tables) - {settings_table}):
        raise FeedbackStoreError(
            f"{location} has feedback schema version {version}, newer than this spamguard "
            f"understands ({SCHEMA_VERSION}); upgrade spamguard to open it"
        )
    if version == 0 and not tables:
        return  # a new, empty database: it becomes a store
    expected = _TABLE_COLUMNS[min(max(version, 1), 2)]
    if version == 0 or version > SCHEMA_VERSION or feedback is None or not expected <= feedback:
        others = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        if kind == "sqlite":
            raise FeedbackStoreError(
                f"{location} is an SQLite database but not a feedback store (its tables: {others or 'none'}); "
                "give the path of the feedback store"
            )
        raise FeedbackStoreError(
            f"{location} has tables named like a feedback store's ({others}) that are not one; drop them, or "
            "keep the store in another schema (add ?options=-csearch_path%3Dspamguard to the URL)"
        )


def migrate(store: FeedbackStore, tx: Transaction, version: int) -> None:
    """Bring a store of schema ``version`` (0 < version < :data:`SCHEMA_VERSION`) to the current one."""
    for step in range(version, SCHEMA_VERSION):
        log.info("migrating feedback store %s from schema %d to %d", store.location, step, step + 1)
        _MIGRATIONS[step](store, tx)


def _migrate_1_to_2(store: FeedbackStore, tx: Transaction) -> None:
    """v1 (spamguard 0.0 drafts): ``feedback(id, created TEXT, is_spam INTEGER, comment TEXT)``
    with the raw email and IP inside the JSON. v2 adds ``source`` and ``verdict``, stores
    Unix times, and moves email/IP into their own (pseudonymised) columns."""
    old = tx.execute("SELECT id, created, is_spam, comment FROM {feedback} ORDER BY id")
    tx.execute("ALTER TABLE {feedback} RENAME TO {feedback}_v1")
    for index in ("created_at", "author_email", "user_ip"):
        tx.execute(f"DROP INDEX IF EXISTS {{feedback}}_{index}")
    tx.create_schema()
    for row_id, created, is_spam, text in old:
        created_at = _dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=_dt.timezone.utc)
        fields = json.loads(text)
        try:
            data, email, ip = store._comment_row(Comment.from_mapping(fields))
        except InvalidCommentError as exc:  # keep the row; just move the personal data out
            log.warning("feedback row %s: %s; migrated as stored", row_id, exc)
            raw_email = fields.pop("author_email", None) or fields.pop("comment_author_email", None)
            email = store._personal(raw_email, "email")
            ip = store._personal(fields.pop("user_ip", None), "ip")
            data = json.dumps(fields, ensure_ascii=False, sort_keys=True)
        tx.execute(
            "INSERT INTO {feedback} (id, created_at, label, source, comment, author_email, user_ip, verdict)"
            " VALUES (?, ?, ?, 'moderator', ?, ?, ?, NULL)",
            (row_id, created_at.timestamp(), "spam" if is_spam else "ham", data, email, ip),
        )
    tx.execute("DROP TABLE {feedback}_v1")


def _migrate_2_to_3(store: FeedbackStore, tx: Transaction) -> None:
    """v2 kept addresses outside the author_email/user_ip columns in clear (forwarded-address headers,
    a ``mailto:`` referrer...). v3 replaces them by stand-ins in every pseudonymised row; rows kept
    as given (``pseudonymise=False``: their columns hold the raw address) stay as they are."""
    if not store.pseudonymise:
        return
    rows = tx.execute(
        "SELECT id, comment FROM {feedback} WHERE (author_email IS NULL OR author_email LIKE 'h1:%')"
        " AND (user_ip IS NULL OR user_ip LIKE 'h1:%')"
    )
    for row_id, text in rows:
        clean = json.dumps(store._scrubbed(json.loads(text)), ensure_ascii=False, sort_keys=True)
        if clean != text:
            tx.execute("UPDATE {feedback} SET comment = ? WHERE id = ?", (clean, row_id))


_MIGRATIONS: Mapping[int, Callable[[FeedbackStore, Transaction], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
}
