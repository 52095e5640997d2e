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

The file is rewritten whole and atomically (a temporary file with mode 0600 in the same
folder, then :func:`os.replace`), under an advisory lock so two ``spamguard keys`` runs do
not lose each other's changes. A running server notices a changed file (checked at most
once a second) and reloads it, so ``spamguard keys revoke`` takes effect without a restart.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from ..errors import KeyStoreError

try:  # POSIX advisory locks; elsewhere the file is still replaced atomically
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["ApiKey", "KeyStore", "normalize_site", "DEFAULT_KEY_LENGTH", "MIN_KEY_LENGTH", "MAX_KEY_LENGTH"]

_log = logging.getLogger("spamguard.server")

_FORMAT = "spamguard-keys/2"
_OLD_FORMATS = ("spamguard-keys/1",)  # entries with a "sha256" field instead of "hash"
_RELOAD_EVERY = 1.0  # seconds between checks for a changed keys file

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


def _check_hash(stored: str) -> str:
    """A stored hash as read from the file, or ValueError saying what is wrong with it."""
    kind, _, rest = stored.partition("$")
    if kind == "sha256" and len(rest) == 64 and _is_hex(rest):
        return stored.lower()
    if kind == "scrypt":
        parts = rest.split("$")
        if len(parts) == 5 and all(p.isdigit() and len(p) < 10 for p in parts[:3]) and _is_hex(parts[3]) \
                and len(parts[4]) == 64 and _is_hex(parts[4]) and _sane_cost(*(int(p) for p in parts[:3])):
            return stored.lower()
    raise ValueError('"hash" must be "scrypt$N$r$p$SALT$HASH" or "sha256$HEX" (as `spamguard keys add` writes)')


def _sane_cost(n: int, r: int, p: int) -> bool:
    """scrypt parameters this process can compute: N a power of two, its memory within the limit, p small."""
    return n > 1 and n & (n - 1) == 0 and r >= 1 and 1 <= p <= 16 and 2 * 128 * n * r <= _SCRYPT_MAXMEM


def _is_hex(text: str) -> bool:
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
        """The key's entry in the keys file."""
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


class KeyStore:
    """The API keys the server accepts, kept in a JSON file (see the module docstring).

    ``KeyStore(path)`` opens the file (a missing file is an empty store, created on the first
    :meth:`add`). :meth:`authenticate` is what the server calls on every request; it is
    thread-safe and reloads the file when another process changed it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._slow_lock = threading.Lock()  # one slow hash at a time
        self._keys: list[ApiKey] = []
        self._by_id: dict[str, ApiKey] = {}
        self._by_sha256: dict[str, ApiKey] = {}
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._secret = secrets.token_bytes(32)  # for the caches' tags; lives and dies with the process
        self._verified: OrderedDict[bytes, tuple[str, str]] = OrderedDict()  # tag -> (id, key_hash)
        self._unknown: OrderedDict[bytes, float] = OrderedDict()  # tag -> when it stops being known unknown
        self.slow_checks = 0
        """Keys compared with the file by their slow hash so far (one per key in the file at most, for each
        key the process has not seen): what a flood of new or wrong keys costs, for operators and tests."""
        self._load()

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r}, keys={len(self._keys)})"

    @property
    def usage_path(self) -> Path:
        """The SQLite file beside the keys file where per-key monthly usage is counted."""
        return self.path.with_name(self.path.name + ".usage.sqlite")

    # --- reading --------------------------------------------------------------------

    def entries(self) -> list[ApiKey]:
        """Every key in the file, revoked ones included, oldest first."""
        self._maybe_reload()
        return list(self._keys)

    def get(self, key_id: str) -> ApiKey:
        """The key with this id; :class:`~spamguard.KeyStoreError` when there is none."""
        for key in self.entries():
            if key.id == key_id:
                return key
        known = ", ".join(k.id for k in self._keys) or "none"
        raise KeyStoreError(f"{self.path}: there is no key with id {key_id!r} (ids: {known})")

    def authenticate(self, key: str) -> ApiKey | None:
        """The entry for this API key, or ``None`` when the file does not hold it.

        Fast for a key seen before (verified or unknown); otherwise one slow hash per key in
        the file at most, one caller at a time.
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
                del self._verified[tag]  # the key was removed from the file, or its hash changed
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
        now = time.monotonic()
        if now - self._checked < _RELOAD_EVERY:
            return
        with self._lock:
            if now - self._checked < _RELOAD_EVERY:
                return
            self._checked = now
            try:
                stamp = self._file_stamp()
                if stamp != self._stamp:
                    self._load_locked()
            except KeyStoreError as exc:
                # A running server keeps the keys it has rather than refusing everyone; the
                # operator sees this once per change of the file.
                _log.error("%s; still using the keys loaded before", exc)
                with contextlib.suppress(KeyStoreError):
                    self._stamp = self._file_stamp()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyStoreError(f"cannot read the keys file {self.path}: {exc.strerror}") from exc
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _load(self) -> None:
        with self._lock:
            self._checked = time.monotonic()
            self._load_locked()

    def _load_locked(self) -> None:
        stamp = self._file_stamp()
        keys = self._read() if stamp is not None else []
        self._keys = keys
        self._by_id = {k.id: k for k in keys}
        self._by_sha256 = {k.key_hash.partition("$")[2]: k for k in keys if k.key_hash.startswith("sha256$")}
        self._unknown.clear()  # a key added since may be one that failed before
        self._stamp = stamp

    def _read(self) -> list[ApiKey]:
        try:
            st = self.path.stat()
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KeyStoreError(f"cannot read the keys file {self.path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise KeyStoreError(
                f"{self.path}: not a spamguard keys file (it is not UTF-8 text: byte {exc.start} is "
                f"{exc.object[exc.start:exc.start + 1]!r}); give the JSON file `spamguard keys add` writes"
            ) from None
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            _log.warning(
                "the keys file %s can be read by other users (mode %o); run: chmod 600 %s",
                self.path, stat.S_IMODE(st.st_mode), self.path,
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KeyStoreError(
                f"{self.path}:{exc.lineno}: the keys file is not valid JSON ({exc.msg})"
            ) from None
        if not isinstance(data, dict) or data.get("format") not in (_FORMAT, *_OLD_FORMATS) \
                or not isinstance(data.get("keys"), list):
            raise KeyStoreError(
                f"{self.path}: not a spamguard keys file (expected a JSON object with "
                f'"format": "{_FORMAT}" and a "keys" list); create one with `spamguard keys add`'
            )
        keys = []
        for n, entry in enumerate(data["keys"]):
            try:
                keys.append(_key_from_json(entry))
            except (KeyError, TypeError, ValueError) as exc:
                raise KeyStoreError(f"{self.path}: key entry #{n + 1} is malformed ({exc})") from None
        return keys

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
        key_hash = hash_key(key)  # slow on purpose: before taking the file's lock
        with self._locked_file() as keys:
            taken = {k.id for k in keys}
            key_id = "k_" + secrets.token_hex(4)
            while key_id in taken:  # pragma: no cover - 1 in 4 billion
                key_id = "k_" + secrets.token_hex(4)
            entry = ApiKey(
                id=key_id,
                key_hash=key_hash,
                sites=tuple(site_list),
                created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                limit=limit,
            )
            keys.append(entry)
        return key, entry

    def revoke(self, key_id: str) -> ApiKey:
        """Mark a key revoked (kept in the file so its usage history still has a name)."""
        with self._locked_file() as keys:
            for n, key in enumerate(keys):
                if key.id == key_id:
                    keys[n] = attrs.evolve(key, revoked=True)
                    return keys[n]
            known = ", ".join(k.id for k in keys) or "none"
            raise KeyStoreError(f"{self.path}: there is no key with id {key_id!r} (ids: {known})")

    @contextlib.contextmanager
    def _locked_file(self) -> Iterator[list[ApiKey]]:
        """Read, let the caller change, and atomically rewrite the file, under a lock."""
        folder = self.path.parent
        if not folder.is_dir():  # never made silently: a typo in the path should not become a new tree
            what = "is not a folder" if folder.exists() else "does not exist"
            raise KeyStoreError(f"cannot write the keys file {self.path}: {folder} {what}; create it first "
                                f"(mkdir -p {folder})")
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyStoreError(f"cannot write the keys file {self.path}: {lock_path}: {exc.strerror}") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            keys = self._read()
            yield keys
            try:
                self._write(keys)
            except OSError as exc:
                raise KeyStoreError(f"cannot write the keys file {self.path}: {exc.strerror}") from None
        finally:
            os.close(fd)  # closing releases the lock
        self._load()

    def _write(self, keys: list[ApiKey]) -> None:
        data = {"format": _FORMAT, "keys": [k.to_json() for k in keys]}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _key_from_json(entry: Any) -> ApiKey:
    if not isinstance(entry, dict):
        raise TypeError("expected an object")
    sites = entry["sites"]
    if not isinstance(sites, list) or not all(isinstance(s, str) for s in sites):
        raise ValueError('"sites" must be a list of URLs')
    if "hash" in entry:
        key_hash = entry["hash"]
        if not isinstance(key_hash, str):
            raise ValueError('"hash" must be text')
        key_hash = _check_hash(key_hash)
    else:  # the first format
        digest = entry["sha256"]
        if not isinstance(digest, str) or len(digest) != 64 or not _is_hex(digest):
            raise ValueError('"sha256" must be 64 hex characters')
        key_hash = "sha256$" + digest.lower()
    limit = entry.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise ValueError('"limit" must be a whole number or null')
    return ApiKey(
        id=str(entry["id"]),
        key_hash=key_hash,
        sites=tuple(str(s) for s in sites),
        created=str(entry.get("created", "")),
        revoked=bool(entry.get("revoked", False)),
        limit=limit,
    )


def _matches_entry(key: str, entry: ApiKey) -> bool:
    try:
        return matches(key, entry.key_hash)
    except (ValueError, MemoryError) as exc:  # pragma: no cover - _check_hash refused such entries on reading
        _log.error("key %s: cannot check its hash: %s", entry.id, exc)
        return False
