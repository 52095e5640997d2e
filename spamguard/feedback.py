"""The feedback store: moderators' spam/ham decisions kept in SQLite, for retraining.

A :class:`FeedbackStore` is one SQLite file (standard library ``sqlite3``) that several web
worker processes and their threads may write to at once: WAL journal, a busy timeout, one
connection per thread and short ``BEGIN IMMEDIATE`` write transactions. The schema carries a
version (``PRAGMA user_version``) and older files are migrated when opened. A file that is not
a feedback store (another application's database, a binary file, a directory) is refused with
:class:`~spamguard.FeedbackStoreError` and left untouched.

Personal data. Unless ``pseudonymise=False``, no IP or e-mail address is kept in clear: a
comment's ``author_email`` and ``user_ip`` are stored as keyed hashes (HMAC-SHA256); headers
in ``extra`` whose only job is to carry an address or credentials (``X-Forwarded-For``,
``X-Client-IP``, ``Forwarded``, cookies...) are dropped; and every other string kept (the URLs,
the user agent, the remaining headers and their names, the honeypot...) is scanned for IPv4,
IPv6 and e-mail addresses (``mailto:``, ``?email=``, ``%40``...), each replaced by a stand-in
made from the same keyed hash: ``<16 hex>@pseudonymised.invalid`` or
``ip-<16 hex>.pseudonymised.invalid``. A field that no longer fits its limits once replaced is
dropped. The comment text and the author's name are kept as written: they are what the model
learns from. Exports (:meth:`FeedbackStore.export_jsonl`, :meth:`FeedbackStore.records`) of a
pseudonymising store apply the same rules to every row, including rows written by an older
spamguard or with ``pseudonymise=False``.

The key comes from ``secret=``, else ``SPAMGUARD_FEEDBACK_SECRET``, else a random key the store
makes once and keeps in its own ``settings`` table. The trade-off: a key kept in the file needs
no setup and still lets ``erase(email=...)`` find a person's rows, but whoever holds the file
holds the key and could test guesses (the IPv4 space is small); a key kept outside (the
environment variable, a secrets manager) means the file alone reveals nothing, but the key
must stay the same for the life of the file or erasure stops matching old rows (the store
refuses to open with a different key). :meth:`FeedbackStore.erase` deletes a person's rows,
overwrites them (SQLite's ``secure_delete``) and checkpoints the write-ahead log, or raises
:class:`~spamguard.FeedbackBusyError` when a reader keeps the text on disk.
``retention_days`` (or ``SPAMGUARD_FEEDBACK_RETENTION_DAYS``) is the age beyond which
:meth:`FeedbackStore.purge` deletes rows when called without an age; run it from cron
(``spamguard feedback purge``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from . import _addresses, _settings
from ._addresses import PSEUDONYM_DOMAIN
from ._settings import is_http_url
from .comment import MAX_FIELD_CHARS, Comment
from .errors import FeedbackBusyError, FeedbackStoreError, InvalidCommentError
from .verdict import Verdict

if TYPE_CHECKING:  # spamguard.dumps reads WXR with defusedxml: only records() needs it, so only it imports it
    from .dumps import Record

__all__ = ["FeedbackStore", "default_feedback_path", "SCHEMA_VERSION"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
"""The schema version this code writes (``PRAGMA user_version``).

3: the tables of 2, with every address outside the text and the author's name replaced by a stand-in."""

_SOURCES_REMOTE = "remote"
_PSEUDONYM_PREFIX = "h1:"
_KEY_ID_MESSAGE = b"spamguard feedback key id"
# Headers whose only job is to carry the visitor's address, identity or credentials: dropped whole
# from ``extra`` when pseudonymising (every other value is scanned for addresses instead).
_IDENTIFYING_HEADERS = frozenset(
    {
        "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_USER", "HTTP_FROM",
        "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED", "HTTP_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP",
        "HTTP_CLIENT_IP", "HTTP_X_CLIENT_IP", "HTTP_X_CLUSTER_CLIENT_IP", "HTTP_FASTLY_CLIENT_IP",
        "HTTP_X_ORIGINAL_FORWARDED_FOR", "HTTP_CF_CONNECTING_IP", "HTTP_CF_CONNECTING_IPV6", "HTTP_TRUE_CLIENT_IP",
        "HTTP_X_PROXYUSER_IP", "HTTP_X_ORIGINATING_IP", "HTTP_X_REMOTE_ADDR", "HTTP_X_REMOTE_IP",
        "HTTP_WL_PROXY_CLIENT_IP", "HTTP_PROXY_CLIENT_IP", "HTTP_X_ENVOY_EXTERNAL_ADDRESS", "HTTP_X_AZURE_CLIENTIP",
        "HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION",
    }
)
_NOT_HTTP_HEADERS = frozenset({"REMOTE_ADDR", "REMOTE_HOST", "REMOTE_USER"})
# Comment fields kept as written (what the model learns from) or that are not text.
_UNSCANNED = frozenset({"content", "author", "date", "post_modified",
                        "comment_content", "comment_author", "comment_date_gmt", "comment_post_modified_gmt"})
_URL_FIELDS = frozenset({"author_url", "referrer", "permalink"})
_MAX_EXTRA_KEY = 256
_TABLE_COLUMNS = {
    1: {"id", "created", "is_spam", "comment"},
    2: {"id", "created_at", "label", "source", "comment", "author_email", "user_ip", "verdict"},
}

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


def default_feedback_path() -> Path:
    """Where the store lives unless told: ``SPAMGUARD_FEEDBACK_DB``, else the user's data folder.

    The data folder is ``$XDG_DATA_HOME/spamguard`` (``~/.local/share/spamguard`` when
    ``XDG_DATA_HOME`` is unset; ``%LOCALAPPDATA%\\spamguard`` on Windows).
    """
    env = _settings.feedback_db()
    if env is not None:
        return Path(env).expanduser()
    return _settings.data_home() / "spamguard" / "feedback.sqlite3"


class FeedbackStore:
    """Labelled comments from moderators (and optionally remote verdicts), kept for retraining.

    ``path`` defaults to :func:`default_feedback_path`; the folder is created. Safe to share
    between threads, and between processes that open the same file. ``record_remote_verdicts``
    makes :meth:`record_verdict` keep the remote service's verdicts too, so the local model
    can learn what the remote decides on this site. See the module docstring for what is kept
    of personal data and how the pseudonymisation key is chosen.
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
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_feedback_path()
        self.pseudonymise = pseudonymise
        self.retention_days = retention_days if retention_days is not None else _settings.feedback_retention_days()
        if self.retention_days is not None and self.retention_days <= 0:
            raise ValueError(f"retention_days must be positive, got {self.retention_days!r}")
        self.record_remote_verdicts = record_remote_verdicts
        self.timeout = timeout
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        if secret is None:
            secret = _settings.feedback_secret()
        if str(self.path) != ":memory:":
            _check_store_file(self.path)
        self._key = b""
        try:
            self._open(secret.encode() if isinstance(secret, str) else secret)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise _store_error(self.path, exc) from None

    def __repr__(self) -> str:
        return f"FeedbackStore({str(self.path)!r}, pseudonymise={self.pseudonymise})"

    # --- connections --------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:  # forked: never use the parent's connections
            self._local = threading.local()
            self._connections = []
            self._pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
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

    def _write(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(sql, tuple(params))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return cur

    def close(self) -> None:
        """Close every connection this store opened (in this process)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(sqlite3.ProgrammingError):  # made in another thread; closes with it
                conn.close()
        self._local = threading.local()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema and key -----------------------------------------------------------------

    def _open(self, secret: bytes | None) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            _check_schema(self.path, version, _tables(conn))
            if version == 0:
                _create_schema(conn)
            else:
                conn.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._key = self._resolve_key(conn, secret)
            if 0 < version < SCHEMA_VERSION:
                for step in range(version, SCHEMA_VERSION):
                    log.info("migrating feedback store %s from schema %d to %d", self.path, step, step + 1)
                    _MIGRATIONS[step](self, conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if 0 < version < SCHEMA_VERSION:  # the rows as they were before the migration leave the WAL
            problem = self._checkpoint()
            if problem is not None:
                log.warning("migrated %s; %s (a reader holds the database)", self.path, problem)

    def _resolve_key(self, conn: sqlite3.Connection, secret: bytes | None) -> bytes:
        settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
        stored_id = settings.get("key_id")
        if secret is not None:
            key_id = _key_id(secret)
            if stored_id is not None and stored_id != key_id:
                raise FeedbackStoreError(
                    f"the pseudonymisation secret (SPAMGUARD_FEEDBACK_SECRET, or secret= in Python) is not the one "
                    f"{self.path} was written with; use that secret, or a new store file"
                )
            if stored_id is None:
                conn.execute("INSERT INTO settings (key, value) VALUES ('key_id', ?)", (key_id,))
            return secret
        if "secret" in settings:
            return bytes.fromhex(settings["secret"])
        if stored_id is not None:
            raise FeedbackStoreError(
                f"{self.path} was pseudonymised with an external secret; set SPAMGUARD_FEEDBACK_SECRET "
                "(or pass secret= in Python) to open it"
            )
        key = secrets.token_bytes(32)
        conn.execute("INSERT INTO settings (key, value) VALUES ('secret', ?)", (key.hex(),))
        conn.execute("INSERT INTO settings (key, value) VALUES ('key_id', ?)", (_key_id(key),))
        return key

    @property
    def schema_version(self) -> int:
        """The schema version of the file (after migration: :data:`SCHEMA_VERSION`)."""
        return int(self._conn().execute("PRAGMA user_version").fetchone()[0])

    # --- personal data ------------------------------------------------------------------

    def pseudonym(self, value: str, kind: str) -> str:
        """The keyed hash this store keeps for an ``"email"`` or ``"ip"`` value."""
        normal = _normalise(value, kind)
        digest = hmac.new(self._key, f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()
        return _PSEUDONYM_PREFIX + digest

    def _personal(self, value: str | None, kind: str) -> str | None:
        if value is None:
            return None
        return self.pseudonym(value, kind) if self.pseudonymise else _normalise(value, kind)

    def _stand_in(self, kind: str, address: str) -> str:
        """What replaces an address inside a stored string: the start of its pseudonym, in an address's shape."""
        return _stand_in_for(self.pseudonym(address, kind), kind)

    def _scrubbed(self, data: dict[str, Any], author_email: str | None = None) -> dict[str, Any]:
        """``data`` (a comment as :func:`comment_to_dict` gives it) with no address outside the text and the author.

        Identifying headers are dropped; every other string is scanned and its addresses replaced
        by stand-ins; a value that no longer fits its field (too long, no longer an http URL) is
        dropped. ``author_email`` as given is replaced wherever it appears, even where it is not
        shaped like an address the scan finds.
        """
        given = author_email.strip() if author_email and "@" in author_email else None
        given_pattern = re.compile(re.escape(given), re.IGNORECASE) if given else None

        def scrub(value: str) -> str:
            if given_pattern is not None and given is not None:
                value = given_pattern.sub(lambda _: self._stand_in("email", given), value)
            return _addresses.replace_addresses(value, self._stand_in)

        def fits(value: Any) -> bool:
            return not isinstance(value, str) or len(value) <= MAX_FIELD_CHARS

        out: dict[str, Any] = {}
        for name, value in data.items():
            if name in _UNSCANNED:
                out[name] = value
            elif name == "extra" and isinstance(value, dict):
                extra = {}
                for key, item in value.items():
                    if _header_key(key) in _IDENTIFYING_HEADERS:
                        continue
                    key, item = scrub(key), _deep(item, scrub)
                    if len(key) <= _MAX_EXTRA_KEY and fits(item):
                        extra[key] = item
                if extra:
                    out[name] = extra
            elif isinstance(value, list):  # context
                items = [item for item in (_deep(v, scrub) for v in value) if fits(item)]
                if items:
                    out[name] = items
            else:
                value = _deep(value, scrub)
                if fits(value) and (name not in _URL_FIELDS or is_http_url(value)):
                    out[name] = value
        honeypot = out.get("honeypot_field_name")
        if honeypot is None:
            out.pop("honeypot_value", None)
        elif honeypot in out.get("extra", {}):
            del out["extra"][honeypot]
        return out

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
        cur = self._write(
            "INSERT INTO feedback (created_at, label, source, comment, author_email, user_ip, verdict)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self._clock(), "spam" if spam else "ham", source, text, email, ip, verdict_json),
        )
        return int(cur.lastrowid or 0)

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
        deleted = self._write("DELETE FROM feedback WHERE created_at < ?", (cutoff,)).rowcount
        if deleted:
            problem = self._checkpoint()
            if problem is not None:  # purging is housekeeping: the next checkpoint finishes it
                log.warning("purged %d row(s) from %s; %s (a reader holds the database)", deleted, self.path, problem)
        return int(deleted)

    def erase(self, email: str | None = None, ip: str | None = None) -> int:
        """Delete every row about an email address and/or IP address (an erasure request).

        A row is about the address when it is the comment's ``author_email`` or ``user_ip``, or
        when the address appears anywhere else in it (a referrer, a header): pseudonymised rows
        are found by hashing the given value the same way, rows kept as given by their
        ``author_email`` and ``user_ip``. Returns how many rows went.

        When it returns, the text of those rows is gone from the database file and from its
        write-ahead log: the rows are overwritten (``secure_delete``) and the log is checkpointed
        and truncated. A checkpoint cannot finish while another connection reads the database
        (an open read transaction keeps the old pages); erase() waits for it up to the store's
        ``timeout`` and then raises :class:`~spamguard.FeedbackBusyError`: the rows are deleted
        but their text is still on disk, and calling erase() again once the reader finishes
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
            clauses.append(f"{column} IN (?, ?) OR instr(comment, ?) > 0")
            params += [self.pseudonym(value, kind), _normalise(value, kind), self._stand_in(kind, value)]
        try:
            deleted = int(self._write(f"DELETE FROM feedback WHERE {' OR '.join(clauses)}", params).rowcount)  # noqa: S608
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise FeedbackBusyError(
                f"nothing was erased from {self.path}: another connection kept it locked for writing for "
                f"{self.timeout:g} s ({exc}); retry when it finishes",
                erased=0,
            ) from None
        problem = self._checkpoint()
        if problem is not None:
            raise FeedbackBusyError(
                f"erased {deleted} row(s) from {self.path}, but their text is still on disk ({problem}): "
                f"a reader holds the database; retry the erasure when it finishes (repeating it is safe)",
                erased=deleted,
            )
        return deleted

    def _checkpoint(self) -> str | None:
        """Copy the WAL into the database file and truncate it; what stood in the way, or None when done."""
        try:
            busy, _, _ = self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError as exc:
            return f"the write-ahead log could not be checkpointed: {exc}"
        if busy:
            return f"the write-ahead log {self.path}-wal could not be checkpointed within {self.timeout:g} s"
        return None

    # --- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM feedback").fetchone()[0])

    def __bool__(self) -> bool:
        return True  # a store is a store even when empty (``if store:`` must not mean "has rows")

    def counts(self) -> dict[str, int]:
        """Row counts: ``total``, ``spam``, ``ham`` and one ``source:NAME`` entry per source."""
        conn = self._conn()
        result = {"total": 0, "spam": 0, "ham": 0}
        for label, n in conn.execute("SELECT label, count(*) FROM feedback GROUP BY label"):
            result[label] = n
            result["total"] += n
        for source, n in conn.execute("SELECT source, count(*) FROM feedback GROUP BY source ORDER BY source"):
            result[f"source:{source}"] = n
        return result

    def stats(self) -> dict[str, Any]:
        """What ``spamguard feedback stats`` prints: counts, dates, schema and settings."""
        conn = self._conn()
        oldest, newest = conn.execute("SELECT min(created_at), max(created_at) FROM feedback").fetchone()
        pseudonymised = conn.execute(
            "SELECT count(*) FROM feedback WHERE author_email LIKE 'h1:%' OR user_ip LIKE 'h1:%'"
        ).fetchone()[0]
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            **self.counts(),
            "rows_with_pseudonyms": pseudonymised,
            "oldest": _iso(oldest),
            "newest": _iso(newest),
            "pseudonymise": self.pseudonymise,
            "retention_days": self.retention_days,
        }

    def _rows(self, sources: Iterable[str] | None) -> Iterator[tuple[Any, ...]]:
        sql = "SELECT id, label, source, comment, author_email, user_ip FROM feedback"
        params: tuple[str, ...] = ()
        if sources is not None:
            params = tuple(sources)
            sql += f" WHERE source IN ({', '.join('?' * len(params))})"
        sql += " ORDER BY id"
        yield from self._conn().execute(sql, params)

    def _row_dict(self, row: tuple[Any, ...]) -> dict[str, Any]:
        _id, label, _source, text, email, ip = row
        data: dict[str, Any] = json.loads(text)
        if self.pseudonymise:  # rows kept as given, or written by an older spamguard, leave no address either
            data = self._scrubbed(data)
        if email is not None:
            # A pseudonym still says "an address was given" (a signal the model may use).
            if email.startswith(_PSEUDONYM_PREFIX):
                data["author_email"] = _stand_in_for(email, "email")
            else:
                data["author_email"] = self._stand_in("email", email) if self.pseudonymise else email
        if ip is not None and not ip.startswith(_PSEUDONYM_PREFIX) and not self.pseudonymise:
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
        from .dumps import Record

        for position, row in enumerate(self._rows(sources), start=1):
            data = self._row_dict(row)
            label = data.pop("label") == "spam"
            try:
                comment = Comment.from_mapping(data)
            except InvalidCommentError as exc:
                log.warning("%s: feedback row %s skipped: %s", self.path, row[0], exc)
                continue
            yield Record(
                position=position, line=position, comment=comment, id=str(row[0]), label=label,
                source=str(self.path),
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


# --- helpers ----------------------------------------------------------------------------


def comment_to_dict(comment: Comment) -> dict[str, Any]:
    """A comment as a JSON-ready dict of its set fields by short name (dates in ISO 8601)."""
    data: dict[str, Any] = {}
    for field in attrs.fields(Comment):
        value = getattr(comment, field.name)
        if value is None or (field.name in ("context", "extra") and not value):
            continue
        if isinstance(value, _dt.datetime):
            value = value.isoformat()
        elif field.name == "extra":
            value = dict(value)
        elif field.name == "context":
            value = list(value)
        data[field.name] = value
    return data


_normalise = _addresses.normalise


def _stand_in_for(pseudonym: str, kind: str) -> str:
    """An address-shaped stand-in made of the first 16 hex digits of a pseudonym."""
    digest = pseudonym[len(_PSEUDONYM_PREFIX):len(_PSEUDONYM_PREFIX) + 16]
    return f"{digest}@{PSEUDONYM_DOMAIN}" if kind == "email" else f"ip-{digest}.{PSEUDONYM_DOMAIN}"


def _deep(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` with ``scrub`` applied to every string in it (lists and mappings of an old row included)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_deep(item, scrub) for item in value]
    if isinstance(value, dict):
        return {scrub(str(key)): _deep(item, scrub) for key, item in value.items()}
    return value


def _header_key(name: str) -> str:
    """A header's WSGI name: ``X-Client-IP`` and ``HTTP_X_CLIENT_IP`` are both ``HTTP_X_CLIENT_IP``."""
    key = name.strip().upper().replace("-", "_")
    return key if key.startswith("HTTP_") or key in _NOT_HTTP_HEADERS else f"HTTP_{key}"


def _check_store_file(path: Path) -> None:
    """Refuse, before anything is written, a path that is not (and cannot become) a feedback store."""
    if path.is_dir():
        raise FeedbackStoreError(f"{path} is a directory, not a feedback store file; give the store file's path")
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
        raise _store_error(path, exc) from None
    _check_schema(path, version, tables)


def _tables(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """The tables of a database and their columns."""
    names = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: {row[1] for row in conn.execute(f"PRAGMA table_info({json.dumps(name)})")} for name in names}


def _check_schema(path: Path, version: int, tables: Mapping[str, set[str]]) -> None:
    """Raise FeedbackStoreError unless the tables are those of a feedback store of a version this code reads."""
    feedback = tables.get("feedback")
    if version > SCHEMA_VERSION and (feedback is not None or not tables):
        raise FeedbackStoreError(
            f"{path} has feedback schema version {version}, newer than this spamguard "
            f"understands ({SCHEMA_VERSION}); upgrade spamguard to open it"
        )
    if version == 0 and not tables:
        return  # a new, empty database: it becomes a store
    expected = _TABLE_COLUMNS[min(max(version, 1), 2)]
    if version == 0 or version > SCHEMA_VERSION or feedback is None or not expected <= feedback:
        others = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise FeedbackStoreError(
            f"{path} is an SQLite database but not a feedback store (its tables: {others or 'none'}); "
            "give the path of the feedback store"
        )


def _store_error(path: Path, exc: sqlite3.DatabaseError) -> FeedbackStoreError:
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


def _key_id(key: bytes) -> str:
    return hmac.new(key, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds")


def _create_schema(conn: sqlite3.Connection) -> None:
    # Not executescript(): it would commit the caller's open transaction first.
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migrate_1_to_2(store: FeedbackStore, conn: sqlite3.Connection) -> None:
    """v1 (spamguard 0.0 drafts): ``feedback(id, created TEXT, is_spam INTEGER, comment TEXT)``
    with the raw email and IP inside the JSON. v2 adds ``source`` and ``verdict``, stores
    Unix times, and moves email/IP into their own (pseudonymised) columns."""
    old = conn.execute("SELECT id, created, is_spam, comment FROM feedback ORDER BY id").fetchall()
    conn.execute("ALTER TABLE feedback RENAME TO feedback_v1")
    for index in ("feedback_created_at", "feedback_author_email", "feedback_user_ip"):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    _create_schema(conn)
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
        conn.execute(
            "INSERT INTO feedback (id, created_at, label, source, comment, author_email, user_ip, verdict)"
            " VALUES (?, ?, ?, 'moderator', ?, ?, ?, NULL)",
            (row_id, created_at.timestamp(), "spam" if is_spam else "ham", data, email, ip),
        )
    conn.execute("DROP TABLE feedback_v1")


def _migrate_2_to_3(store: FeedbackStore, conn: sqlite3.Connection) -> None:
    """v2 kept addresses outside the author_email/user_ip columns in clear (forwarded-address headers,
    a ``mailto:`` referrer...). v3 replaces them by stand-ins in every pseudonymised row; rows kept
    as given (``pseudonymise=False``: their columns hold the raw address) stay as they are."""
    if not store.pseudonymise:
        return
    rows = conn.execute(
        "SELECT id, comment FROM feedback WHERE (author_email IS NULL OR author_email LIKE 'h1:%')"
        " AND (user_ip IS NULL OR user_ip LIKE 'h1:%')"
    ).fetchall()
    for row_id, text in rows:
        clean = json.dumps(store._scrubbed(json.loads(text)), ensure_ascii=False, sort_keys=True)
        if clean != text:
            conn.execute("UPDATE feedback SET comment = ? WHERE id = ?", (clean, row_id))


_MIGRATIONS: Mapping[int, Callable[[FeedbackStore, sqlite3.Connection], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
}
