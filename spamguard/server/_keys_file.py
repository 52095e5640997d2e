"""The server's store in files: keys in a JSON file, usage in SQLite beside it, limits in each process.

The default store (``spamguard serve --keys-file FILE``). The keys file is rewritten whole and
atomically (a temporary file with mode 0600 in the same folder, then :func:`os.replace`), under
an advisory lock so two ``spamguard keys`` runs do not lose each other's changes; a running
server notices a changed file by its modification time, size and inode. Calls are counted in
``FILE.usage.sqlite`` beside it (several processes on one host may share that file). Rate
limits and failed key attempts are counted in each process's memory: two servers behind a
load balancer each allow the full rate (the PostgreSQL store shares them).

Files of the first format (``spamguard-keys/1``: a ``sha256`` field instead of ``hash``) are
read as they are and written in the current one on the next change.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from ..errors import KeyStoreError
from ._keys import ApiKey, check_hash, is_hex
from ._limits import KeyFailures, RateLimiter
from ._usage import UsageStore

try:  # POSIX advisory locks; elsewhere the file is still replaced atomically
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["KeysFile"]

_log = logging.getLogger("spamguard.server")

_FORMAT = "spamguard-keys/2"
_OLD_FORMATS = ("spamguard-keys/1",)  # entries with a "sha256" field instead of "hash"


class KeysFile:
    """The keys of a :class:`~spamguard.server.KeyStore` in a JSON file (see the module docstring)."""

    shared = False

    def __init__(self, path: Path) -> None:
        self.path: Path | None = path
        self._path = path
        self.location = str(path)

    # --- reading --------------------------------------------------------------------

    def stamp(self) -> tuple[int, int, int] | None:
        """The file's modification time, size and inode (None: no file yet): they change when the keys do."""
        try:
            st = self._path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyStoreError(f"cannot read the keys file {self._path}: {exc.strerror}") from exc
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def read(self) -> list[ApiKey]:
        """Every key in the file (none when there is no file yet); KeyStoreError for a file that is not one."""
        try:
            st = self._path.stat()
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KeyStoreError(f"cannot read the keys file {self._path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise KeyStoreError(
                f"{self._path}: not a spamguard keys file (it is not UTF-8 text: byte {exc.start} is "
                f"{exc.object[exc.start:exc.start + 1]!r}); give the JSON file `spamguard keys add` writes"
            ) from None
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            _log.warning(
                "the keys file %s can be read by other users (mode %o); run: chmod 600 %s",
                self._path, stat.S_IMODE(st.st_mode), self._path,
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KeyStoreError(
                f"{self._path}:{exc.lineno}: the keys file is not valid JSON ({exc.msg})"
            ) from None
        if not isinstance(data, dict) or data.get("format") not in (_FORMAT, *_OLD_FORMATS) \
                or not isinstance(data.get("keys"), list):
            raise KeyStoreError(
                f"{self._path}: not a spamguard keys file (expected a JSON object with "
                f'"format": "{_FORMAT}" and a "keys" list); create one with `spamguard keys add`'
            )
        keys = []
        for n, entry in enumerate(data["keys"]):
            try:
                keys.append(_key_from_json(entry))
            except (KeyError, TypeError, ValueError) as exc:
                raise KeyStoreError(f"{self._path}: key entry #{n + 1} is malformed ({exc})") from None
        return keys

    # --- changing -------------------------------------------------------------------

    def add(self, entry: ApiKey) -> bool:
        """Add a key; False (and nothing written) when its id is taken."""
        try:
            with self._locked_file() as keys:
                if any(k.id == entry.id for k in keys):  # pragma: no cover - 1 in 4 billion
                    raise _Unchanged
                keys.append(entry)
        except _Unchanged:  # pragma: no cover
            return False
        return True

    def revoke(self, key_id: str) -> ApiKey | None:
        """Mark a key revoked; its entry, or None when there is no such id (nothing written)."""
        found: list[ApiKey] = []
        try:
            with self._locked_file() as keys:
                for n, key in enumerate(keys):
                    if key.id == key_id:
                        keys[n] = attrs.evolve(key, revoked=True)
                        found.append(keys[n])
                        break
                else:
                    raise _Unchanged
        except _Unchanged:
            return None
        return found[0]

    @contextlib.contextmanager
    def _locked_file(self) -> Iterator[list[ApiKey]]:
        """Read, let the caller change, and atomically rewrite the file, under a lock (nothing is written
        when the caller raises)."""
        folder = self._path.parent
        if not folder.is_dir():  # never made silently: a typo in the path should not become a new tree
            what = "is not a folder" if folder.exists() else "does not exist"
            raise KeyStoreError(f"cannot write the keys file {self._path}: {folder} {what}; create it first "
                                f"(mkdir -p {folder})")
        lock_path = self._path.with_name(self._path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyStoreError(f"cannot write the keys file {self._path}: {lock_path}: {exc.strerror}") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            keys = self.read()
            yield keys
            try:
                self._write(keys)
            except OSError as exc:
                raise KeyStoreError(f"cannot write the keys file {self._path}: {exc.strerror}") from None
        finally:
            os.close(fd)  # closing releases the lock

    def _write(self, keys: list[ApiKey]) -> None:
        data = {"format": _FORMAT, "keys": [k.to_json() for k in keys]}
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=f".{self._path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    # --- what goes with the keys ----------------------------------------------------

    @property
    def usage_path(self) -> Path:
        """The SQLite file beside the keys file where per-key monthly usage is counted."""
        return self._path.with_name(self._path.name + ".usage.sqlite")

    def open_usage(self) -> UsageStore:
        return UsageStore(self.usage_path)

    def rate_limiter(self, rate: float, burst: float | None) -> RateLimiter:
        return RateLimiter(rate, burst)

    def key_failures(self, limit: int) -> KeyFailures:
        return KeyFailures(limit)

    def close(self) -> None:
        """Nothing stays open between calls."""


class _Unchanged(Exception):
    """Leave the file as it is."""


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
        key_hash = check_hash(key_hash)
    else:  # the first format
        digest = entry["sha256"]
        if not isinstance(digest, str) or len(digest) != 64 or not is_hex(digest):
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
