""":class:`FeedbackStore`: the logic of the feedback store, once, over either backend (see the package docstring)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .. import _addresses, _settings
from ..comment import Comment
from ..errors import FeedbackBusyError, FeedbackStoreError, InvalidCommentError
from ..verdict import Verdict
from ._backend import Backend, Transaction, is_store_url, open_backend
from ._personal import PSEUDONYM_PREFIX, comment_to_dict, scrubbed, stand_in_for
from ._schema import SCHEMA_VERSION, check_schema, migrate

if TYPE_CHECKING:  # spamguard.dumps reads WXR with defusedxml: only records() needs it, so only it imports it
    from ..dumps import Record

log = logging.getLogger("spamguard.feedback")

_SOURCES_REMOTE = "remote"
_KEY_ID_MESSAGE = b"spamguard feedback key id"
_PAGE = 500  # rows read at a time by records() and export_jsonl(): no read stays open between pages
_normalise = _addresses.normalise


def default_feedback_path() -> Path:
    """Where the SQLite store lives unless told: ``SPAMGUARD_FEEDBACK_DB`` when it is a path, else the data folder.

    The data folder is ``$XDG_DATA_HOME/spamguard`` (``~/.local/share/spamguard`` when
    ``XDG_DATA_HOME`` is unset; ``%LOCALAPPDATA%\\spamguard`` on Windows). When
    ``SPAMGUARD_FEEDBACK_DB`` is a URL, :func:`default_feedback_store` is where the store is.
    """
    env = _settings.feedback_db()
    if env is not None and not is_store_url(env):
        return Path(env).expanduser()
    return _settings.data_home() / "spamguard" / "feedback.sqlite3"


def default_feedback_store() -> str | Path:
    """Where the store is unless told: ``SPAMGUARD_FEEDBACK_DB`` (a path or a URL), else the per-user SQLite file."""
    env = _settings.feedback_db()
    if env is not None and is_store_url(env):
        return env
    return default_feedback_path()


class FeedbackStore:
    """Labelled comments from moderators (and optionally remote verdicts), kept for retraining.

    ``path`` is where: a file path or ``sqlite:///`` URL (an SQLite file; its folder is created),
    or a ``postgresql://user:password@host/db`` URL (a PostgreSQL database; needs the
    ``spamguard[postgres]`` extra). Default: :func:`default_feedback_store`. Safe to share
    between threads, and between processes (and hosts, with PostgreSQL) that open the same
    store. ``record_remote_verdicts`` makes :meth:`record_verdict`
    keep the remote service's verdicts too, so the local model can learn what the remote
    decides on this site.
    ``timeout`` is how long to wait for a lock or a connection; ``create=False`` refuses
    (:class:`~spamguard.FeedbackStoreError`) a location that holds no store yet instead of
    making one. See the package docstring for what is kept of personal data and how the
    pseudonymisation key is chosen.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        pseudonymise: bool = True,
        secret: str | bytes | None = None,
        retention_days: float | None = None,
        record_remote_verdicts: bool = False,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        create: bool = True,
    ) -> None:
        location = default_feedback_store() if path is None else path if isinstance(path, str) else Path(path)
        self.pseudonymise = pseudonymise
        self.retention_days = retention_days if retention_days is not None else _settings.feedback_retention_days()
        if self.retention_days is not None and self.retention_days <= 0:
            raise ValueError(f"retention_days must be positive, got {self.retention_days!r}")
        self.record_remote_verdicts = record_remote_verdicts
        self.timeout = timeout
        self._clock = clock
        if secret is None:
            secret = _settings.feedback_secret()
        self._db: Backend = open_backend(location, timeout=timeout, create=create)
        self.path: Path | None = self._db.path
        """The SQLite file; None for a PostgreSQL store (see :attr:`location`)."""
        self.location: str = self._db.location
        """Where the store is, fit for messages: the file's path, or the URL with its password masked."""
        self.backend: str = self._db.kind
        """``"sqlite"`` or ``"postgresql"``."""
        self._key = b""
        try:
            self._open(secret.encode() if isinstance(secret, str) else secret, create=create)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"FeedbackStore({self.location!r}, pseudonymise={self.pseudonymise})"

    def close(self) -> None:
        """Close every connection this store opened (in this process)."""
        self._db.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema and key -----------------------------------------------------------------

    def _open(self, secret: bytes | None, *, create: bool) -> None:
        with self._db.setup() as tx:
            version = tx.version()
            check_schema(self.location, self._db.kind, version, tx.tables(), self._db.feedback_table,
                         self._db.settings_table)
            if version == 0:
                if not create:
                    raise FeedbackStoreError(
                        f"there is no feedback store at {self.location}; give the location of an existing store"
                    )
                tx.create_schema()
            else:
                tx.execute("CREATE TABLE IF NOT EXISTS {settings} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._key = self._resolve_key(tx, secret)
            if 0 < version < SCHEMA_VERSION:
                migrate(self, tx, version)
            if version != SCHEMA_VERSION:
                tx.set_version(SCHEMA_VERSION)
        if 0 < version < SCHEMA_VERSION:  # what the rows held before the migration leaves the disk
            problem = self._db.scrub(wait=True)
            if problem is not None:
                log.warning("migrated %s, but %s", self.location, problem)

    def _resolve_key(self, tx: Transaction, secret: bytes | None) -> bytes:
        settings: dict[str, str] = dict(tx.execute("SELECT key, value FROM {settings}"))
        stored_id = settings.get("key_id")
        if secret is not None:
            key_id = _key_id(secret)
            if stored_id is not None and stored_id != key_id:
                raise FeedbackStoreError(
                    f"the pseudonymisation secret (SPAMGUARD_FEEDBACK_SECRET, or secret= in Python) is not the one "
                    f"{self.location} was written with; use that secret, or a new store"
                )
            if stored_id is None:
                tx.execute("INSERT INTO {settings} (key, value) VALUES ('key_id', ?)", (key_id,))
            return secret
        if "secret" in settings:
            return bytes.fromhex(settings["secret"])
        if stored_id is not None:
            raise FeedbackStoreError(
                f"{self.location} was pseudonymised with an external secret; set SPAMGUARD_FEEDBACK_SECRET "
                "(or pass secret= in Python) to open it"
            )
        key = secrets.token_bytes(32)
        tx.execute("INSERT INTO {settings} (key, value) VALUES ('secret', ?)", (key.hex(),))
        tx.execute("INSERT INTO {settings} (key, value) VALUES ('key_id', ?)", (_key_id(key),))
        return key

    @property
    def schema_version(self) -> int:
        """The schema version of the store (after migration: :data:`SCHEMA_VERSION`)."""
        return self._db.schema_version()

    # --- personal data ------------------------------------------------------------------

    def pseudonym(self, value: str, kind: str) -> str:
        """The keyed hash this store keeps for an ``"email"`` or ``"ip"`` value."""
        normal = _normalise(value, kind)
        digest = hmac.new(self._key, f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest

    def _personal(self, value: str | None, kind: str) -> str | None:
        if value is None:
            return None
        return self.pseudonym(value, kind) if self.pseudonymise else _normalise(value, kind)

    def _stand_in(self, kind: str, address: str) -> str:
        """What replaces an address inside a stored string: the start of its pseudonym, in an address's shape."""
        return stand_in_for(self.pseudonym(address, kind), kind)

    def _scrubbed(self, data: dict[str, Any], author_email: str | None = None) -> dict[str, Any]:
        """``data`` with no address outside the text and the author (see ``_personal.scrubbed``)."""
        return scrubbed(data, self._stand_in, author_email)

    def _comment_row(self, comment: Comment) -> tuple[str, str | None, str | None]:
        data = comment_to_dict(comment)
        data.pop("author_email", None)
        data.pop("user_ip", None)
        if self.pseudonymise:
            data = self._scrubbed(data, comment.author_email)
        return (
            json.dumps(data, ensure_ascii=False, sort_keys=True),
            self._personal(comment.author_email, "email"),
            self._personal(comment.user_ip, "ip"),
        )

    # --- writing ------------------------------------------------------------------------

    def record(
        self, comment: Comment, spam: bool, *, source: str = "moderator", verdict: Verdict | None = None
    ) -> int:
        """Keep one labelled comment; returns its row id.

        ``spam`` is the label (a moderator's decision); ``source`` says who gave it and
        ``verdict`` what the classifier had said (kept to measure how often it was wrong).
        """
        if not isinstance(comment, Comment):
            raise TypeError(f"record() takes a Comment, got {type(comment).__name__}")
        text, email, ip = self._comment_row(comment)
        verdict_json = json.dumps(verdict.to_dict(), ensure_ascii=False) if verdict is not None else None
        return self._db.insert(
            "INSERT INTO {feedback} (created_at, label, source, comment, author_email, user_ip, verdict)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self._clock(), "spam" if spam else "ham", source, text, email, ip, verdict_json),
        )

    def record_verdict(self, comment: Comment, verdict: Verdict) -> int | None:
        """Keep a remote service's verdict as a label (``source="remote"``).

        Does nothing and returns ``None`` unless the store was made with
        ``record_remote_verdicts=True``. Provisional hams (``recheck_after``) are not kept.
        """
        if not self.record_remote_verdicts or verdict.provisional:
            return None
        return self.record(comment, verdict.spam, source=_SOURCES_REMOTE, verdict=verdict)

    def purge(self, older_than: _dt.timedelta | None = None) -> int:
        """Delete rows recorded more than ``older_than`` ago; returns how many went.

        Without an argument the store's ``retention_days`` is used; with neither, a
        ``ValueError`` says to give one.
        """
        if older_than is None:
            if self.retention_days is None:
                raise ValueError(
                    "purge() needs an age: pass older_than=timedelta(days=N) or set retention_days "
                    "(SPAMGUARD_FEEDBACK_RETENTION_DAYS)"
                )
            older_than = _dt.timedelta(days=self.retention_days)
        if older_than < _dt.timedelta(0):
            raise ValueError(f"older_than must not be negative, got {older_than!r}")
        cutoff = self._clock() - older_than.total_seconds()
        deleted = self._db.write("DELETE FROM {feedback} WHERE created_at < ?", (cutoff,))
        if deleted:
            problem = self._db.scrub(wait=False)
            if problem is not None:  # purging is housekeeping: the next purge or erase finishes it
                log.warning("purged %d row(s) from %s, but %s", deleted, self.location, problem)
        return deleted

    def erase(self, email: str | None = None, ip: str | None = None) -> int:
        """Delete every row about an email address and/or IP address (an erasure request).

        A row is about the address when it is the comment's ``author_email`` or ``user_ip``, or
        when the address appears anywhere else in it (a referrer, a header): pseudonymised rows
        are found by hashing the given value the same way, rows kept as given by their
        ``author_email`` and ``user_ip``. Returns how many rows went.

        Then what the database keeps of deleted rows goes too. SQLite: the rows are overwritten
        (``secure_delete``) and the write-ahead log is checkpointed and truncated, so their text
        is gone from the file and the log. PostgreSQL: once no transaction older than the delete
        is left, the table is vacuumed, so the deleted row versions are pruned (the package
        docstring says what PostgreSQL still keeps on disk). Another connection in the middle of
        a read can keep the old rows alive (an open read transaction); erase() waits for it up to
        the store's ``timeout`` and then raises :class:`~spamguard.FeedbackBusyError`: the rows
        are deleted but not yet gone, and calling erase() again once the reader finishes
        completes the job (it is safe to repeat).
        """
        if email is None and ip is None:
            raise ValueError("erase() needs email= or ip= (or both)")
        clauses: list[str] = []
        params: list[str] = []
        for value, kind, column in ((email, "email", "author_email"), (ip, "ip", "user_ip")):
            if value is None:
                continue
            if not value.strip():
                raise ValueError(f"erase(): {kind} must not be empty")
            clauses.append(column + " IN (?, ?) OR {comment_has}")
            params += [self.pseudonym(value, kind), _normalise(value, kind), self._stand_in(kind, value)]
        try:
            # The clauses are this method's own text; the addresses go in as parameters.
            deleted = self._db.write("DELETE FROM {feedback} WHERE " + " OR ".join(clauses), params)  # noqa: S608
        except Exception as exc:
            why = self._db.busy(exc)
            if why is None:
                raise
            raise FeedbackBusyError(
                f"nothing was erased from {self.location}: {why}; retry when it finishes", erased=0
            ) from None
        problem = self._db.scrub(wait=True)
        if problem is not None:
            raise FeedbackBusyError(
                f"erased {deleted} row(s) from {self.location}, but {problem}; retry the erasure when it "
                "finishes (repeating it is safe)",
                erased=deleted,
            )
        return deleted

    # --- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._db.read("SELECT count(*) FROM {feedback}")[0][0])

    def __bool__(self) -> bool:
        return True  # a store is a store even when empty (``if store:`` must not mean "has rows")

    def counts(self) -> dict[str, int]:
        """Row counts: ``total``, ``spam``, ``ham`` and one ``source:NAME`` entry per source."""
        result = {"total": 0, "spam": 0, "ham": 0}
        for label, n in self._db.read("SELECT label, count(*) FROM {feedback} GROUP BY label ORDER BY label"):
            result[label] = int(n)
            result["total"] += int(n)
        for source, n in self._db.read("SELECT source, count(*) FROM {feedback} GROUP BY source ORDER BY source"):
            result[f"source:{source}"] = int(n)
        return result

    def stats(self) -> dict[str, Any]:
        """What ``spamguard feedback stats`` prints: where, counts, dates, schema and settings.

        The store is named by ``path`` (SQLite) or ``url`` (PostgreSQL, password masked).

        """
        (oldest, newest, pseudonymised), = self._db.read(
            "SELECT min(created_at), max(created_at),"
            " count(CASE WHEN author_email LIKE 'h1:%' OR user_ip LIKE 'h1:%' THEN 1 END) FROM {feedback}"
        )
        where = {"path": str(self.path)} if self.path is not None else {"url": self.location}
        return {
            **where,
            "backend": self.backend,
            "schema_version": self.schema_version,
            **self.counts(),
            "rows_with_pseudonyms": int(pseudonymised),
            "oldest": _iso(oldest),
            "newest": _iso(newest),
            "pseudonymise": self.pseudonymise,
            "retention_days": self.retention_days,
        }

    def _rows(self, sources: Iterable[str] | None) -> Iterator[tuple[Any, ...]]:
        """The rows in id order, a page at a time (no read transaction stays open while the caller works)."""
        sql = "SELECT id, label, source, comment, author_email, user_ip FROM {feedback} WHERE id > ?"
        chosen: tuple[str, ...] = ()
        if sources is not None:
            chosen = tuple(sources)
            if not chosen:
                return
            sql += " AND source IN (" + ", ".join("?" * len(chosen)) + ")"
        sql += f" ORDER BY id LIMIT {_PAGE}"
        last = -(2**63)
        while True:
            page = self._db.read(sql, (last, *chosen))
            yield from page
            if len(page) < _PAGE:
                return
            last = page[-1][0]

    def _row_dict(self, row: tuple[Any, ...]) -> dict[str, Any]:
        _id, label, _source, text, email, ip = row
        data: dict[str, Any] = json.loads(text)
        if self.pseudonymise:  # rows kept as given, or written by an older spamguard, leave no address either
            data = self._scrubbed(data)
        if email is not None:
            # A pseudonym still says "an address was given" (a signal the model may use).
            if email.startswith(PSEUDONYM_PREFIX):
                data["author_email"] = stand_in_for(email, "email")
            else:
                data["author_email"] = self._stand_in("email", email) if self.pseudonymise else email
        if ip is not None and not ip.startswith(PSEUDONYM_PREFIX) and not self.pseudonymise:
            data["user_ip"] = ip
        data["label"] = label
        return data

    def records(self, *, sources: Iterable[str] | None = None) -> Iterator[Record]:
        """The labelled comments as :class:`~spamguard.dumps.Record` objects, oldest first.

        ``sources`` limits them (``["moderator"]``). Pseudonymised emails come back as
        ``<hash>@pseudonymised.invalid`` and pseudonymised IPs are left out; a pseudonymising
        store gives every row that way, and replaces any other address as it does when storing. A row that no
        longer makes a valid comment (a lowered content limit) is skipped with a warning.
        """
        from ..dumps import Record

        for position, row in enumerate(self._rows(sources), start=1):
            data = self._row_dict(row)
            label = data.pop("label") == "spam"
            try:
                comment = Comment.from_mapping(data)
            except InvalidCommentError as exc:
                log.warning("%s: feedback row %s skipped: %s", self.location, row[0], exc)
                continue
            yield Record(
                position=position, line=position, comment=comment, id=str(row[0]), label=label,
                source=self.location,
            )

    def export_jsonl(self, fp: IO[str], *, sources: Iterable[str] | None = None) -> int:
        """Write the labelled comments to ``fp`` as JSONL (the training format); returns the count.

        One object a line: the comment's fields by short name and ``label`` (``spam`` or
        ``ham``), readable by :func:`spamguard.dumps.read_records` and ``spamguard train``.
        """
        n = 0
        for row in self._rows(sources):
            fp.write(json.dumps(self._row_dict(row), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
        return n


def _key_id(key: bytes) -> str:
    return hmac.new(key, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds")
