"""The server's API keys: a JSON keys file holding each key's SHA-256, its sites and state.

A key is 128 random bits written as 32 lowercase hex characters. Only its SHA-256 is
stored: a fast hash is enough because the key is random and long (nobody can guess their
way back from the hash in any useful time), unlike a password, which needs a slow salted
hash because people choose guessable ones. Hex keeps the key intact through clients that
strip anything but ``[0-9a-f]`` from what the user pastes.

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

__all__ = ["ApiKey", "KeyStore", "normalize_site"]

_log = logging.getLogger("spamguard.server")

_FORMAT = "spamguard-keys/1"
_RELOAD_EVERY = 1.0  # seconds between checks for a changed keys file


def hash_key(key: str) -> str:
    """The SHA-256 of an API key, as stored in the keys file (hex)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


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
    """One API key as the keys file holds it (never the key itself, only its SHA-256)."""

    id: str
    sha256: str = attrs.field(repr=False)
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
            "sha256": self.sha256,
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
        self._by_hash: dict[str, ApiKey] = {}
        self._keys: list[ApiKey] = []
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
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
        """The entry for this API key, or ``None`` when the file does not hold it."""
        self._maybe_reload()
        digest = hash_key(key)
        found = self._by_hash.get(digest)
        # The dict lookup already found it; compare again in constant time for good measure.
        if found is not None and hmac.compare_digest(found.sha256, digest):
            return found
        return None

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
        self._by_hash = {k.sha256: k for k in keys}
        self._stamp = stamp

    def _read(self) -> list[ApiKey]:
        try:
            st = self.path.stat()
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KeyStoreError(f"cannot read the keys file {self.path}: {exc.strerror}") from exc
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
        if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("keys"), list):
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

    def add(self, sites: Iterable[str], *, limit: int | None = None) -> tuple[str, ApiKey]:
        """Create a key for these site URLs; returns ``(key, entry)``. Show the key once: only its hash is kept."""
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
        key = secrets.token_hex(16)
        with self._locked_file() as keys:
            taken = {k.id for k in keys}
            key_id = "k_" + secrets.token_hex(4)
            while key_id in taken:  # pragma: no cover - 1 in 4 billion
                key_id = "k_" + secrets.token_hex(4)
            entry = ApiKey(
                id=key_id,
                sha256=hash_key(key),
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            keys = self._read()
            yield keys
            self._write(keys)
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
    digest = entry["sha256"]
    if not isinstance(digest, str) or len(digest) != 64:
        raise ValueError('"sha256" must be 64 hex characters')
    limit = entry.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise ValueError('"limit" must be a whole number or null')
    return ApiKey(
        id=str(entry["id"]),
        sha256=digest.lower(),
        sites=tuple(str(s) for s in sites),
        created=str(entry.get("created", "")),
        revoked=bool(entry.get("revoked", False)),
        limit=limit,
    )
