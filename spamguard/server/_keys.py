"""The server's API keys: a JSON keys file holding a hash of each key, its sites and state.

A key is random lowercase hex: 12 characters (48 bits) by default, because the WordPress
plugin accepts no other length, or up to 64 (``spamguard keys add --length``). Hex keeps the
key intact through clients that strip anything but ``[0-9a-f]`` from what the user pastes.

48 bits are few enough that a fast hash of the key could be reversed by trying every key
(2**48 SHA-256s are hours on one GPU), so the file keeps a slow, salted hash:
``scrypt$N$r$p$SALT$HASH`` (:func:`hashlib.scrypt`, N=2**14, r=8, p=1, a 16-byte salt of
its own per key: tens of milliseconds per try, and a stolen file's keys must be attacked one
by one). Keys made before (32 characters, 128 bits) keep their SHA-256 (``sha256$HEX``),
which their length makes safe; files of the first format (``spamguard-keys/1``) are read as
they are and written in the current one on the next change.

A salted hash cannot be looked up, so a key the process has not seen is checked against the
keys in the file one by one, under a lock (one slow hash at a time, so guessing cannot
take more than one core). A key once verified is remembered (by an HMAC with a secret of the
process, never the key itself) and costs a dictionary look-up from then on; a key that
failed is remembered as unknown for a minute. Guessing through the service is what the
server's limit on failed key attempts per client address is for.

Where the keys are kept is the store's backend, chosen by location: a JSON keys file
(``_keys_file.py``, the default) or a PostgreSQL database (``_postgres.py``, for a
``postgresql://`` URL), which also decides where usage is counted and whether rate limits and
failed key attempts are shared between servers. A running server asks its backend at most
once a second whether the keys changed and reloads them, so ``spamguard keys revoke`` takes
effect without a restart.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import attrs

from .. import _settings
from ..errors import KeyStoreError

if TYPE_CHECKING:
    from ._limits import FailureLimit, Limiter
    from ._usage import UsageStore

__all__ = ["ApiKey", "KeyStore", "normalize_site", "DEFAULT_KEY_LENGTH", "MIN_KEY_LENGTH", "MAX_KEY_LENGTH"]

_log = logging.getLogger("spamguard.server")

_RELOAD_EVERY = 1.0  # seconds between checks for changed keys

DEFAULT_KEY_LENGTH = 12
"""Hex characters in a new key: 48 bits, the length the WordPress Akismet plugin requires."""
MIN_KEY_LENGTH = 12
MAX_KEY_LENGTH = 64

# scrypt's cost: N=2**14, r=8, p=1 (16 MiB, tens of milliseconds): the "interactive" setting of
# scrypt's author. Stored with each hash, so it can be raised for new keys without breaking old ones.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_UNKNOWN_FOR = 60.0  # seconds a key that failed is known to be unknown
_CACHE_SIZE = 10_000  # keys remembered as verified, and as unknown


def hash_key(key: str) -> str:
    """The slow, salted hash stored for a new key: ``scrypt$N$r$p$SALT$HASH`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(key, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def _scrypt(key: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(_bytes(key), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32)


def _sha256(key: str) -> str:
    return hashlib.sha256(_bytes(key)).hexdigest()


def _bytes(key: str) -> bytes:
    return key.encode("utf-8", "surrogatepass")  # whatever a client sent, never an encoding error


def matches(key: str, stored: str) -> bool:
    """True when ``key`` is the key whose hash is ``stored`` (either kind), compared in constant time."""
    kind, _, rest = stored.partition("$")
    if kind == "sha256":
        return hmac.compare_digest(_sha256(key), rest)
    if kind == "scrypt":
        n, r, p, salt, digest = rest.split("$")
        return hmac.compare_digest(_scrypt(key, bytes.fromhex(salt), int(n), int(r), int(p)).hex(), digest)
    raise ValueError(f"unknown key hash kind {kind!r}")


def check_hash(stored: str) -> str:
    """A stored hash as read from the file, or ValueError saying what is wrong with it."""
    kind, _, rest = stored.partition("$")
    if kind == "sha256" and len(rest) == 64 and is_hex(rest):
        return stored.lower()
    if kind == "scrypt":
        parts = rest.split("$")
        if len(parts) == 5 and all(p.isdigit() and len(p) < 10 for p in parts[:3]) and is_hex(parts[3]) \
                and len(parts[4]) == 64 and is_hex(parts[4]) and _sane_cost(*(int(p) for p in parts[:3])):
            return stored.lower()
    raise ValueError('"hash" must be "scrypt$N$r$p$SALT$HASH" or "sha256$HEX" (as `spamguard keys add` writes)')


def _sane_cost(n: int, r: int, p: int) -> bool:
    """scrypt parameters this process can compute: N a power of two, its memory within the limit, p small."""
    return n > 1 and n & (n - 1) == 0 and r >= 1 and 1 <= p <= 16 and 2 * 128 * n * r <= _SCRYPT_MAXMEM


def is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdefABCDEF" for c in text)


def new_key(length: int = DEFAULT_KEY_LENGTH) -> str:
    """A new random key of ``length`` lowercase hex characters (4 bits each)."""
    if not MIN_KEY_LENGTH <= length <= MAX_KEY_LENGTH:
        raise ValueError(f"a key has {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters, not {length!r}")
    return secrets.token_hex((length + 1) // 2)[:length]


def normalize_site(url: str) -> str:
    """A site URL reduced to what identifies the site: lower-case host, port, path without a final ``/``.

    The scheme is dropped (the same blog over http and https is one site) and so is any
    query or fragment. Raises :class:`ValueError` for anything that is not an http(s) URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a full http:// or https:// site URL")
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} has a port that is not a number") from None
    default_port = 443 if parts.scheme.lower() == "https" else 80
    if port is not None and port != default_port:
        host = f"{host}:{port}"
    return host + parts.path.rstrip("/")


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class ApiKey:
    """One API key as the keys file holds it (never the key itself, only a hash of it)."""

    id: str
    key_hash: str = attrs.field(repr=False)
    """``scrypt$N$r$p$SALT$HASH`` (keys made since 12-character keys) or ``sha256$HEX`` (older 32-character keys)."""
    sites: tuple[str, ...] = attrs.field(converter=_str_tuple)
    created: str
    revoked: bool = False
    limit: int | None = None
    """Calls a month reported by usage-limit (``None``: no limit)."""

    def allows(self, blog: str) -> bool:
        """True when ``blog`` (a site URL) is one of this key's sites."""
        try:
            wanted = normalize_site(blog)
        except ValueError:
            return False
        return any(_same_site(site, wanted) for site in self.sites)

    def to_json(self) -> dict[str, Any]:
        """The key's entry in a keys file."""
        return {
            "id": self.id,
            "hash": self.key_hash,
            "sites": list(self.sites),
            "created": self.created,
            "revoked": self.revoked,
            "limit": self.limit,
        }


def _same_site(site: str, normalized: str) -> bool:
    try:
        return normalize_site(site) == normalized
    except ValueError:
        return False


class KeysBackend(Protocol):
    """Where a :class:`KeyStore` keeps its keys, and what goes with them (see the module docstring)."""

    location: str
    """Where the keys are, fit for messages: the file's path, or the URL with its password masked."""
    path: Path | None
    """The keys file; None for a database."""
    shared: bool
    """True when usage, rate limits and failed key attempts are shared by every server using this store."""

    def stamp(self) -> Hashable | None:
        """Something that changes whenever the keys do (cheap to ask once a second); KeyStoreError if unreadable."""
        ...

    def read(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first; KeyStoreError if they cannot be read."""
        ...

    def add(self, entry: ApiKey) -> bool:
        """Store a new key; False when its id is taken (nothing stored)."""
        ...

    def revoke(self, key_id: str) -> ApiKey | None:
        """Mark a key revoked; the changed entry, or None when there is no key with that id."""
        ...

    def open_usage(self) -> UsageStore:
        """Where the calls made with these keys are counted."""
        ...

    def rate_limiter(self, rate: float, burst: float | None) -> Limiter:
        """The per-key rate limit (``rate`` a second, bursts of ``burst``) of a server using these keys."""
        ...

    def key_failures(self, limit: int) -> FailureLimit:
        """The limit of ``limit`` failed key attempts a minute per client address of a server using these keys."""
        ...

    def close(self) -> None:
        """Close the connections this process opened (the next use opens them again)."""
        ...


def open_keys(location: str | os.PathLike[str], *, timeout: float) -> KeysBackend:
    """The backend for a keys file path or a ``postgresql://`` URL."""
    if isinstance(location, str) and "://" in location:
        if _settings.is_postgres_url(location):
            try:  # psycopg is an extra: imported only for a PostgreSQL store
                from ._postgres import PostgresKeys
            except ImportError as exc:
                raise KeyStoreError(_settings.postgres_unavailable("a PostgreSQL store", location, exc)) from None
            return PostgresKeys(location, timeout=timeout)
        raise KeyStoreError(
            f"{_settings.masked_url(location)} is not a place for keys: give a keys file's path or a "
            "postgresql:// URL"
        )
    from ._keys_file import KeysFile

    return KeysFile(Path(location))


class KeyStore:
    """The API keys the server accepts: in a JSON file, or in PostgreSQL (see the module docstring).

    ``KeyStore(path)`` opens a keys file (a missing file is an empty store, created on the first
    :meth:`add`); ``KeyStore("postgresql://user:password@host/db")`` keeps the keys in that
    database (its tables are created on first use; needs ``spamguard[postgres]``), where every
    server pointed at it shares them, and shares usage counts and limits too. :meth:`authenticate`
    is what the server calls on every request; it is thread-safe and picks up keys another process
    added or revoked within a second. ``timeout`` is how long to wait for the database.
    """

    def __init__(self, location: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
        self._backend = open_keys(location, timeout=timeout)
        self.path: Path | None = self._backend.path
        """The keys file; None for a PostgreSQL store (see :attr:`location`)."""
        self.location: str = self._backend.location
        """Where the keys are, fit for messages: the file's path, or the URL with its password masked."""
        self.shared: bool = self._backend.shared
        """True when usage, rate limits and failed key attempts are shared by every server on this store."""
        self._lock = threading.Lock()
        self._slow_lock = threading.Lock()  # one slow hash at a time
        self._keys: list[ApiKey] = []
        self._by_id: dict[str, ApiKey] = {}
        self._by_sha256: dict[str, ApiKey] = {}
        self._stamp: Hashable | None = None
        self._checked = 0.0
        self._failing: str | None = None  # the last problem logged while reloading
        self._secret = secrets.token_bytes(32)  # for the caches' tags; lives and dies with the process
        self._verified: OrderedDict[bytes, tuple[str, str]] = OrderedDict()  # tag -> (id, key_hash)
        self._unknown: OrderedDict[bytes, float] = OrderedDict()  # tag -> when it stops being known unknown
        self.slow_checks = 0
        """Keys compared with the file by their slow hash so far (one per key in the file at most, for each
        key the process has not seen): what a flood of new or wrong keys costs, for operators and tests."""
        try:
            self._load()
        except BaseException:
            self._backend.close()
            raise

    def __repr__(self) -> str:
        return f"KeyStore({self.location!r}, keys={len(self._keys)})"

    @property
    def usage_path(self) -> Path | None:
        """The SQLite file beside the keys file where per-key monthly usage is counted (None for PostgreSQL)."""
        return self.path.with_name(self.path.name + ".usage.sqlite") if self.path is not None else None

    def open_usage(self) -> UsageStore:
        """The usage counts that go with these keys: the SQLite file beside the keys file, or the database's table."""
        return self._backend.open_usage()

    def rate_limiter(self, rate: float, burst: float | None = None) -> Limiter:
        """A per-key rate limit for a server using these keys: counted in this process for a keys file,
        shared by every server for PostgreSQL. ValueError for a rate or burst that is not positive."""
        return self._backend.rate_limiter(rate, burst)

    def key_failures(self, limit: int) -> FailureLimit:
        """A limit of ``limit`` failed key attempts a minute per client address, for a server using these keys:
        counted in this process for a keys file, shared by every server for PostgreSQL."""
        return self._backend.key_failures(limit)

    def close(self) -> None:
        """Close the connections this store opened in this process (a keys file keeps none open)."""
        self._backend.close()

    # --- reading --------------------------------------------------------------------

    def entries(self) -> list[ApiKey]:
        """Every key in the store, revoked ones included, oldest first."""
        self._maybe_reload()
        return list(self._keys)

    def get(self, key_id: str) -> ApiKey:
        """The key with this id; :class:`~spamguard.KeyStoreError` when there is none."""
        for key in self.entries():
            if key.id == key_id:
                return key
        raise self._no_such_key(key_id, self._keys)

    def _no_such_key(self, key_id: str, keys: list[ApiKey]) -> KeyStoreError:
        known = ", ".join(k.id for k in keys) or "none"
        return KeyStoreError(f"{self.location}: there is no key with id {key_id!r} (ids: {known})")

    def authenticate(self, key: str) -> ApiKey | None:
        """The entry for this API key, or ``None`` when the store does not hold it.

        Fast for a key seen before (verified or unknown); otherwise one slow hash per key in
        the store at most, one caller at a time.
        """
        found, known = self._cached(key)
        if known:
            return found
        tag = self._tag(key)
        with self._slow_lock:
            found, known = self._cached(key)  # another thread may have just checked the same key
            if known:
                return found
            with self._lock:
                candidates = list(self._keys)
            found = None
            for entry in candidates:
                if entry.key_hash.startswith("scrypt$"):
                    self.slow_checks += 1
                if _matches_entry(key, entry):
                    found = entry
                    break
            with self._lock:
                if found is None:
                    self._remember(self._unknown, tag, time.monotonic() + _UNKNOWN_FOR)
                else:
                    self._remember(self._verified, tag, (found.id, found.key_hash))
        return found

    def cached(self, key: str) -> ApiKey | None:
        """The entry for a key already verified in this process, without any slow hash (else None)."""
        found, _ = self._cached(key)
        return found

    def _cached(self, key: str) -> tuple[ApiKey | None, bool]:
        """(entry, True) for a key verified before; (None, True) for one known to be unknown; else (None, False)."""
        self._maybe_reload()
        tag = self._tag(key)
        with self._lock:
            seen = self._verified.get(tag)
            if seen is not None:
                entry = self._by_id.get(seen[0])
                if entry is not None and entry.key_hash == seen[1]:
                    return entry, True
                del self._verified[tag]  # the key was removed from the store, or its hash changed
            until = self._unknown.get(tag)
            if until is not None:
                if until > time.monotonic():
                    return None, True
                del self._unknown[tag]
            sha = self._by_sha256.get(_sha256(key)) if self._by_sha256 else None
            if sha is not None:  # a key of the first format: its fast hash is its check
                self._remember(self._verified, tag, (sha.id, sha.key_hash))
                return sha, True
        return None, False

    def _tag(self, key: str) -> bytes:
        return hmac.new(self._secret, key.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    @staticmethod
    def _remember(cache: OrderedDict[bytes, Any], tag: bytes, value: Any) -> None:
        cache[tag] = value
        cache.move_to_end(tag)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)

    def _maybe_reload(self) -> None:
        """Reload the keys when the backend says they changed: asked at most once a second, by one thread while
        the others go on with the keys they have (a database slow to answer holds up one request, not all)."""
        now = time.monotonic()
        if now - self._checked < _RELOAD_EVERY:
            return
        with self._lock:
            if now - self._checked < _RELOAD_EVERY:
                return
            self._checked = now
            known = self._stamp
        # A running server keeps the keys it has rather than refusing everyone; the operator sees
        # each problem once (once per change of a broken file, once per outage of a database).
        try:
            stamp = self._backend.stamp()
            if stamp == known:
                self._failing = None
                return
        except KeyStoreError as exc:
            if self._failing != str(exc):
                self._failing = str(exc)
                _log.error("%s; still using the keys loaded before", exc)
            return
        try:
            keys = self._backend.read()
        except KeyStoreError as exc:
            with self._lock:
                self._stamp = stamp  # not read again until it changes
            _log.error("%s; still using the keys loaded before", exc)
            return
        with self._lock:
            self._install(keys, stamp)
        self._failing = None

    def _load(self) -> None:
        stamp = self._backend.stamp()
        keys = self._backend.read() if stamp is not None else []
        with self._lock:
            self._checked = time.monotonic()
            self._install(keys, stamp)

    def _install(self, keys: list[ApiKey], stamp: Hashable | None) -> None:
        self._keys = keys
        self._by_id = {k.id: k for k in keys}
        self._by_sha256 = {k.key_hash.partition("$")[2]: k for k in keys if k.key_hash.startswith("sha256$")}
        self._unknown.clear()  # a key added since may be one that failed before
        self._stamp = stamp

    # --- changing -------------------------------------------------------------------

    def add(
        self, sites: Iterable[str], *, limit: int | None = None, length: int = DEFAULT_KEY_LENGTH,
    ) -> tuple[str, ApiKey]:
        """Create a key of ``length`` hex characters for these site URLs; returns ``(key, entry)``.

        Show the key once: only its hash is kept. The default length, 12, is the one the
        WordPress plugin accepts; longer keys (up to 64) suit clients that take any key.
        """
        site_list = [s.strip() for s in sites]
        if not site_list:
            raise KeyStoreError("a key needs at least one site URL (--site https://blog.example)")
        for site in site_list:
            try:
                normalize_site(site)
            except ValueError as exc:
                raise KeyStoreError(f"site {exc}") from None
        if limit is not None and limit < 0:
            raise KeyStoreError(f"the monthly limit must be 0 or more calls, got {limit!r}")
        if isinstance(length, bool) or not isinstance(length, int) or not MIN_KEY_LENGTH <= length <= MAX_KEY_LENGTH:
            raise KeyStoreError(
                f"a key has {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters (12 for WordPress), got {length!r}"
            )
        key = new_key(length)
        key_hash = hash_key(key)  # slow on purpose: before taking any lock
        created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        while True:
            entry = ApiKey(id="k_" + secrets.token_hex(4), key_hash=key_hash, sites=tuple(site_list),
                           created=created, limit=limit)
            if self._backend.add(entry):
                break
        self._load()
        return key, entry

    def revoke(self, key_id: str) -> ApiKey:
        """Mark a key revoked (kept in the store so its usage history still has a name)."""
        entry = self._backend.revoke(key_id)
        if entry is None:
            raise self._no_such_key(key_id, self._backend.read())
        self._load()
        return entry


def _matches_entry(key: str, entry: ApiKey) -> bool:
    try:
        return matches(key, entry.key_hash)
    except (ValueError, MemoryError) as exc:  # pragma: no cover - check_hash refused such entries on reading
        _log.error("key %s: cannot check its hash: %s", entry.id, exc)
        return False
