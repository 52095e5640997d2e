"""``spamguard serve``'s store in PostgreSQL: keys, usage, rate limits and failed key attempts, shared.

``spamguard serve --store postgresql://...`` (and ``spamguard keys ... --store``): every server
pointed at one database accepts the same keys, adds to the same usage counts and draws on the
same rate limits, so several of them can stand behind a load balancer. psycopg 3 and its pool
(``spamguard/_pg.py``, shared with the feedback store; the ``spamguard[postgres]`` extra).

Tables, in the connection's current schema (the first of its ``search_path``; give the store
a schema of its own with ``?options=-csearch_path%3Dspamguard``):

- ``spamguard_server_settings``: the schema version, the keys' generation (a number raised in
  the same transaction as every change to the keys, which each server reads once a second: a
  key added or revoked anywhere is seen everywhere within about a second), and a random secret
  for the client addresses below.
- ``spamguard_server_keys``: one row a key (its id, its scrypt hash, never the key; its sites,
  creation time, monthly limit, revoked flag).
- ``spamguard_server_usage``: calls per key, month and site. Each server adds what it counted
  once a second (``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``, rows in key order
  so that two servers never deadlock), and at shutdown: totals are exact.
- ``spamguard_server_rate``: a token bucket per key (tokens, when last refilled), on the
  database's clock. A server does not ask it on every request: it takes a **lease** of tokens
  (about 0.1 s of the key's rate, at least 1) in one atomic statement, spends them from memory,
  and takes the next lease when they run out or after a second, giving back in the same
  statement what it did not spend. One thread at a time takes a server's lease for a key (the
  others wait for that round trip), so a server holds at most one lease per key. What this
  guarantees: tokens leave the bucket only in that statement, so over any stretch of time *t*
  all the servers together admit at most ``burst + rate * t`` requests of a key, plus the
  leases they held when it began: at most ``burst + rate * (t + 0.1 s * servers)``. They may
  admit a little less while a server sits on a lease (until its next lease for that key). The
  hot path costs a lookup in memory; one request in a lease (1 in 5 at the default 50 a
  second) pays a round trip. A key refused is refused from memory until a token is due.
- ``spamguard_server_key_failures``: failed key attempts, one row each, by a keyed hash of the
  client address (HMAC-SHA256 with the secret above; the address itself is not stored). A
  request with a key the server has not verified asks it (once), as it is about to pay a slow
  hash anyway; an address over its limit is then refused from memory until its wait is over.
  Rows older than the window are deleted as servers go.

While the database does not answer, a running server keeps the keys it has, keeps its usage
counts in memory and writes them once it answers again, and counts rate limits and failed
attempts in its own memory (each server then allows the full rate on its own; so does a request
that waited a quarter of a second for another thread's lease); it asks again a second later. The
first failure and the recovery are logged. The password in the URL never appears in a repr, a log
line or an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg

from .._pg import Database
from ..errors import KeyStoreError
from ._keys import ApiKey, check_hash
from ._limits import KeyFailures, RateLimiter
from ._usage import UPSERT, UsageStore

__all__ = ["PostgresKeys", "PostgresUsage", "ServerDatabase", "SharedKeyFailures", "SharedRateLimiter",
           "SCHEMA_VERSION", "TABLES"]

_log = logging.getLogger("spamguard.server")

SCHEMA_VERSION = 1
"""The version of the tables this code writes (a row of the settings table)."""

SETTINGS = "spamguard_server_settings"
KEYS = "spamguard_server_keys"
USAGE = "spamguard_server_usage"
RATE = "spamguard_server_rate"
FAILURES = "spamguard_server_key_failures"
TABLES = (SETTINGS, KEYS, USAGE, RATE, FAILURES)

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {SETTINGS} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"""CREATE TABLE IF NOT EXISTS {KEYS} (
        seq           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,  -- the order keys were added in
        id            TEXT PRIMARY KEY,
        hash          TEXT NOT NULL,                               -- scrypt$N$r$p$SALT$HASH, never the key
        sites         TEXT[] NOT NULL,
        created       TEXT NOT NULL,
        revoked       BOOLEAN NOT NULL DEFAULT false,
        monthly_limit BIGINT
    )""",
    f"""CREATE TABLE IF NOT EXISTS {USAGE} (
        key_id TEXT NOT NULL,
        month TEXT NOT NULL,
        site TEXT NOT NULL,
        api_calls BIGINT NOT NULL DEFAULT 0,
        spam BIGINT NOT NULL DEFAULT 0,
        ham BIGINT NOT NULL DEFAULT 0,
        missed_spam BIGINT NOT NULL DEFAULT 0,
        false_positives BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, month, site)
    )""",
    f"""CREATE TABLE IF NOT EXISTS {RATE} (
        key_id  TEXT PRIMARY KEY,
        tokens  DOUBLE PRECISION NOT NULL,   -- left in the bucket at updated
        updated DOUBLE PRECISION NOT NULL,   -- Unix time on the database's clock
        granted DOUBLE PRECISION NOT NULL    -- what the last lease took
    )""",
    f"""CREATE TABLE IF NOT EXISTS {FAILURES} (
        address TEXT NOT NULL,               -- HMAC-SHA256 of the client address with the store's secret
        at      DOUBLE PRECISION NOT NULL    -- Unix time on the database's clock
    )""",
    f"CREATE INDEX IF NOT EXISTS {FAILURES}_address_at ON {FAILURES} (address, at)",
    f"CREATE INDEX IF NOT EXISTS {FAILURES}_at ON {FAILURES} (at)",
)

_NOW = "extract(epoch FROM statement_timestamp())"
_NAMES = {"usage": USAGE, "site_has": "strpos(lower(site), lower(?)) > 0"}


def _sql(text: str) -> str:
    """The usage store's SQL (``?``, ``{usage}``, ``{site_has}``) as psycopg reads it."""
    return text.format(**_NAMES).replace("%", "%%").replace("?", "%s")


class ServerDatabase:
    """One server store's database as this process uses it: the pool, the tables (checked and created on
    opening), the secret; and psycopg's errors as :class:`~spamguard.KeyStoreError` naming the store."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.db = Database(url, timeout=timeout, what="server store", error=KeyStoreError, name="spamguard-server")
        self.location = self.db.location
        self.timeout = timeout
        self.secret = self._open()

    def _open(self) -> bytes:
        """Check the tables (refusing tables of that name that are not a store's, or a newer version), create what
        is missing, and read the secret: one transaction under an advisory lock."""
        with self.db.setup(KEYS) as (conn, schema):
            present = {name for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name = ANY(%s)",
                (schema, list(TABLES)),
            )}
            version = 0
            if SETTINGS in present:
                row = conn.execute(f"SELECT value FROM {SETTINGS} WHERE key = 'schema_version'").fetchone()  # noqa: S608
                version = int(row[0]) if row is not None and str(row[0]).isdigit() else -1
            if version > SCHEMA_VERSION:
                raise KeyStoreError(
                    f"{self.location} holds a server store of version {version}, newer than this spamguard "
                    f"understands ({SCHEMA_VERSION}); upgrade spamguard to use it"
                )
            if version < 0 or (present and version == 0):
                raise KeyStoreError(
                    f"{self.location} has tables named like a server store's ({', '.join(sorted(present))}) that are "
                    "not one; drop them, or keep the store in another schema (add ?options=-csearch_path%3Dspamguard "
                    "to the URL)"
                )
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA:
                    conn.execute(statement)
                # (migrations from older versions go here, once there are any)
                conn.execute(
                    f"INSERT INTO {SETTINGS} (key, value) VALUES ('schema_version', %s), ('keys_generation', '0'), "  # noqa: S608
                    "('secret', %s) ON CONFLICT (key) DO NOTHING",
                    (str(SCHEMA_VERSION), secrets.token_hex(32)),
                )
                conn.execute(f"UPDATE {SETTINGS} SET value = %s WHERE key = 'schema_version'",  # noqa: S608
                             (str(SCHEMA_VERSION),))
            row = conn.execute(f"SELECT value FROM {SETTINGS} WHERE key = 'secret'").fetchone()  # noqa: S608
        if row is None:
            raise KeyStoreError(f"{self.location}: the server store has no secret row in {SETTINGS}; it is damaged")
        return bytes.fromhex(str(row[0]))

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise KeyStoreError(f"the server store {self.location} failed: {self.db.redact(exc)}") from None

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one statement, in autocommit."""
        with self._errors(), self.db.connection() as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description is not None else []

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection inside one transaction (committed when the block ends without an error)."""
        with self._errors(), self.db.connection() as conn, conn.transaction():
            yield conn

    def close(self) -> None:
        self.db.close()


# --- keys -------------------------------------------------------------------------------------


class PostgresKeys:
    """The keys of a :class:`~spamguard.server.KeyStore` in PostgreSQL (see the module docstring)."""

    shared = True

    def __init__(self, url: str, *, timeout: float) -> None:
        self.path: Path | None = None
        self.store = ServerDatabase(url, timeout=timeout)
        self.location = self.store.location

    def stamp(self) -> int:
        rows = self.store.rows(f"SELECT value FROM {SETTINGS} WHERE key = 'keys_generation'")  # noqa: S608
        return int(rows[0][0]) if rows else 0

    def read(self) -> list[ApiKey]:
        keys = []
        for key_id, key_hash, sites, created, revoked, limit in self.store.rows(
            f"SELECT id, hash, sites, created, revoked, monthly_limit FROM {KEYS} ORDER BY seq"  # noqa: S608
        ):
            try:
                keys.append(ApiKey(id=key_id, key_hash=check_hash(key_hash), sites=tuple(sites), created=created,
                                   revoked=revoked, limit=limit))
            except ValueError as exc:
                raise KeyStoreError(f"{self.location}: the key {key_id!r} in {KEYS} is malformed ({exc})") from None
        return keys

    def add(self, entry: ApiKey) -> bool:
        with self.store.transaction() as conn:
            added = conn.execute(
                f"INSERT INTO {KEYS} (id, hash, sites, created, revoked, monthly_limit) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
                (entry.id, entry.key_hash, list(entry.sites), entry.created, entry.revoked, entry.limit),
            ).fetchone()
            if added is None:  # pragma: no cover - 1 in 4 billion
                return False
            self._changed(conn)
        return True

    def revoke(self, key_id: str) -> ApiKey | None:
        with self.store.transaction() as conn:
            row = conn.execute(
                f"UPDATE {KEYS} SET revoked = true WHERE id = %s "  # noqa: S608
                "RETURNING id, hash, sites, created, revoked, monthly_limit", (key_id,),
            ).fetchone()
            if row is None:
                return None
            self._changed(conn)
        return ApiKey(id=row[0], key_hash=row[1], sites=tuple(row[2]), created=row[3], revoked=row[4], limit=row[5])

    @staticmethod
    def _changed(conn: psycopg.Connection[Any]) -> None:
        """Raise the keys' generation, in the transaction of the change: every server reloads within a second."""
        conn.execute(f"UPDATE {SETTINGS} SET value = (value::bigint + 1)::text WHERE key = 'keys_generation'")  # noqa: S608

    def open_usage(self) -> UsageStore:
        return UsageStore.over(PostgresUsage(self.store, owner=False))

    def rate_limiter(self, rate: float, burst: float | None) -> SharedRateLimiter:
        return SharedRateLimiter(self.store, rate, burst)

    def key_failures(self, limit: int) -> SharedKeyFailures:
        return SharedKeyFailures(self.store, limit)

    def close(self) -> None:
        self.store.close()


# --- usage ------------------------------------------------------------------------------------


class PostgresUsage:
    """Usage counts in the store's table (the :class:`~spamguard.server.UsageStore` backend)."""

    shared = True

    def __init__(self, store: ServerDatabase, *, owner: bool) -> None:
        self.store = store
        self.location = store.location
        self._owner = owner  # a key store's usage shares its pool, which the key store closes

    @classmethod
    def open(cls, url: str, *, timeout: float) -> PostgresUsage:
        return cls(ServerDatabase(url, timeout=timeout), owner=True)

    def add(self, rows: Sequence[tuple[Any, ...]]) -> None:
        with self.store.transaction() as conn, conn.cursor() as cursor:
            cursor.executemany(_sql(UPSERT), rows)

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.store.rows(_sql(sql), tuple(params))

    def close(self) -> None:
        if self._owner:
            self.store.close()


# --- limits -----------------------------------------------------------------------------------


class _Fallback:
    """Logs once when the database stops answering a limit, and once when it answers again."""

    def __init__(self, what: str, location: str) -> None:
        self.what = what
        self.location = location
        self.failing = False

    def failed(self, exc: Exception) -> None:
        if not self.failing:
            _log.error("%s: %s; counting in this process until it answers again", self.what, exc)
        self.failing = True

    def ok(self) -> None:
        if self.failing:
            _log.warning("%s: %s answers again; shared again", self.what, self.location)
        self.failing = False


LEASE_SECONDS = 0.1
"""A lease of tokens is about this much of a key's rate (at least one token)."""
LEASE_LIFE = 1.0
"""Seconds a server spends from a lease; what is left then goes back to the bucket with the next lease."""
_DOWN_FOR = 1.0  # seconds a server limits on its own after the database failed to answer, before asking again
_WAIT_FOR_LEASE = 0.25  # seconds a request waits for another thread's lease before it is limited in the process

# The tokens in the bucket now: what was left, refilled at the rate since (the database's clock), plus what the
# server gives back from its last lease, at most burst.
_AVAILABLE = ("least(%(burst)s::float8, r.tokens + greatest(0, excluded.updated - r.updated) * %(rate)s::float8"
              " + %(back)s::float8)")
_GRANT = f"least(%(want)s::float8, floor({_AVAILABLE}))"
_LEASE = (
    f"INSERT INTO {RATE} AS r (key_id, tokens, updated, granted) "  # noqa: S608 - names are constants
    f"VALUES (%(key)s, %(burst)s::float8 - %(first)s::float8, {_NOW}, %(first)s::float8) "
    f"ON CONFLICT (key_id) DO UPDATE SET granted = {_GRANT}, tokens = {_AVAILABLE} - {_GRANT}, "
    "updated = greatest(r.updated, excluded.updated) "
    "RETURNING granted, tokens"
)
"""Give back what is left of a lease and take up to ``want`` whole tokens from a key's bucket (a new bucket starts
full), in one atomic statement."""


class SharedRateLimiter:
    """A token bucket per key in PostgreSQL, spent from leases held in memory (see the module docstring).

    Each server holds at most one lease per key, and one thread at a time takes it (the others
    wait for that one round trip). Every server on the store must be given the same ``rate``
    and ``burst``.
    """

    def __init__(self, store: ServerDatabase, rate: float, burst: float | None = None) -> None:
        self._local = RateLimiter(rate, burst)  # checks rate and burst; counts while the database does not answer
        self.rate = self._local.rate
        self.burst = self._local.burst
        self.lease = max(1, min(math.floor(self.burst), math.ceil(self.rate * LEASE_SECONDS)))
        """Tokens a server takes at a time."""
        self.leases_taken = 0
        """Round trips made for leases so far (for operators and tests)."""
        self._store = store
        self._lock = threading.Lock()
        self._leases: dict[str, tuple[float, float, float]] = {}  # key -> (tokens, spend before, refused until)
        self._taking: dict[str, threading.Event] = {}  # key -> set when the lease being taken is in
        self._down_until = 0.0
        self._fallback = _Fallback("rate limits", store.location)

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        while True:
            now = time.monotonic()
            with self._lock:
                tokens, good_until, refused_until = self._leases.get(key, (0.0, 0.0, 0.0))
                if refused_until > now:
                    return refused_until - now
                if tokens >= 1.0 and good_until > now:
                    self._leases[key] = (tokens - 1.0, good_until, 0.0)
                    return 0.0
                if now < self._down_until:
                    break
                taking = self._taking.get(key)
                if taking is None:  # this thread takes the next lease
                    taking = self._taking[key] = threading.Event()
                    self._leases[key] = (0.0, 0.0, 0.0)
                    return self._take(key, math.floor(tokens), taking)
            if not taking.wait(_WAIT_FOR_LEASE):  # another thread is taking it: one round trip, as a rule
                break  # the database is slow to answer: this request is limited here
        return self._local.acquire(key)

    def _take(self, key: str, back: int, taking: threading.Event) -> float:
        """Take a lease (giving back ``back`` tokens left from the last): 0.0 and the lease spent by one, or the
        wait until a token is due. Called holding the lock; releases it for the round trip."""
        self._lock.release()
        try:
            self.leases_taken += 1
            try:
                (granted, left), = self._store.rows(_LEASE, {
                    "key": key, "want": self.lease, "first": min(self.lease, math.floor(self.burst)),
                    "burst": self.burst, "rate": self.rate, "back": back,
                })
            except KeyStoreError as exc:
                self._fallback.failed(exc)
                self._down_until = time.monotonic() + _DOWN_FOR
                return self._local.acquire(key)
            self._fallback.ok()
        finally:
            self._lock.acquire()
            del self._taking[key]
            taking.set()
        now = time.monotonic()
        if granted >= 1.0:
            self._leases[key] = (float(granted) - 1.0, now + LEASE_LIFE, 0.0)
            if len(self._leases) > 10_000:
                self._prune(now)
            return 0.0
        wait = max(0.0, 1.0 - float(left)) / self.rate
        self._leases[key] = (0.0, 0.0, now + wait)
        return wait

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, good_until, refused_until) in self._leases.items()
                    if good_until <= now and refused_until <= now and k not in self._taking]:
            del self._leases[key]


_PURGE_EVERY = 60.0  # seconds between deletions of failed attempts older than the window, per server


class SharedKeyFailures:
    """Failed key attempts per client address, counted in PostgreSQL (see the module docstring)."""

    def __init__(self, store: ServerDatabase, limit: int = 10, window: float = 60.0) -> None:
        self._local = KeyFailures(limit, window)  # checks limit and window; counts while the database does not answer
        self.limit = self._local.limit
        self.window = self._local.window
        self._store = store
        self._lock = threading.Lock()
        self._blocked: dict[str, float] = {}  # address -> until when (monotonic) it is known to be refused
        self._purged = 0.0
        self._down_until = 0.0
        self._fallback = _Fallback("failed key attempts", store.location)

    def _tag(self, address: str) -> str:
        return hmac.new(self._store.secret, address.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def wait(self, address: str) -> float:
        """Seconds until ``address`` may try a key again (0.0 when it may now)."""
        now = time.monotonic()
        with self._lock:
            until = self._blocked.get(address)
            if until is not None:
                if until > now:
                    return until - now
                del self._blocked[address]
        if now < self._down_until:
            return self._local.wait(address)
        try:
            rows = self._store.rows(
                f"SELECT at + %(window)s - {_NOW} FROM {FAILURES} WHERE address = %(address)s "  # noqa: S608
                f"AND at > {_NOW} - %(window)s ORDER BY at DESC OFFSET %(skip)s LIMIT 1",
                {"address": self._tag(address), "window": self.window, "skip": self.limit - 1},
            )
        except KeyStoreError as exc:
            self._fallback.failed(exc)
            self._down_until = time.monotonic() + _DOWN_FOR
            return self._local.wait(address)
        self._fallback.ok()
        if not rows or rows[0][0] <= 0:
            return 0.0
        wait = float(rows[0][0])
        with self._lock:
            if len(self._blocked) > 100_000:
                self._blocked.clear()
            self._blocked[address] = time.monotonic() + wait
        return wait

    def failed(self, address: str) -> bool:
        """Count one failed attempt; True when this one used up the address's allowance (worth a log line)."""
        if time.monotonic() < self._down_until:
            return self._local.failed(address)
        purge = time.monotonic() - self._purged >= _PURGE_EVERY
        try:
            with self._store.transaction() as conn:
                (before,), = conn.execute(
                    f"SELECT count(*) FROM {FAILURES} WHERE address = %(address)s AND at > {_NOW} - %(window)s",  # noqa: S608
                    {"address": self._tag(address), "window": self.window},
                ).fetchall()
                conn.execute(f"INSERT INTO {FAILURES} (address, at) VALUES (%s, {_NOW})",  # noqa: S608
                             (self._tag(address),))
                if purge:
                    conn.execute(f"DELETE FROM {FAILURES} WHERE at <= {_NOW} - %s", (self.window,))  # noqa: S608
        except KeyStoreError as exc:
            self._fallback.failed(exc)
            self._down_until = time.monotonic() + _DOWN_FOR
            return self._local.failed(address)
        self._fallback.ok()
        if purge:
            self._purged = time.monotonic()
        return int(before) + 1 == self.limit
