"""The checkpoint beside a batch run's output: how far the input has been read and the output written.

A checkpoint is a small JSON file written atomically (a temporary file, fsync, rename, fsync
of the directory). The run writes it only after the output and rejects it covers are flushed
and fsynced, so after a crash the output on disk holds at least everything the checkpoint
claims; resuming cuts the output back to the recorded size and reads on from the recorded
input position.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from typing import Any

from ..errors import CheckpointError

__all__ = ["VERSION", "input_identity", "load", "save", "remove", "fsync_dir"]

VERSION = 2
"""2: the input is identified by the SHA-256 of all its bytes (1 hashed only its first 64 KB)."""
_BLOCK = 1 << 20


def input_identity(path: str) -> dict[str, Any]:
    """What identifies an input file across runs: its absolute path, its size and the SHA-256 of all its bytes.

    The whole file, not a sample: an edit anywhere (a record changed in place, the size kept)
    must stop a resume, and a sample misses what falls between its pieces. It costs one read
    of the input at the start of a run to a file, about 1.5 s for 1 GB, where re-scoring that
    gigabyte takes minutes.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        while block := f.read(_BLOCK):
            digest.update(block)
    return {"path": os.path.abspath(path), "size": size, "sha256": digest.hexdigest()}


def load(path: str) -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None when there is none."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"cannot read the checkpoint {path!r} ({exc}); delete it and its .partial output to start over"
        ) from exc
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise CheckpointError(
            f"{path!r} is not a checkpoint this version of spamguard writes; delete it and its .partial "
            "output to start over"
        )
    return data


def save(path: str, state: dict[str, Any]) -> None:
    """Write the checkpoint atomically and durably."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"version": VERSION, **state}, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path)


def remove(path: str) -> None:
    """Delete the checkpoint (and a temporary one left by a crash), if there."""
    for name in (path, path + ".tmp"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    fsync_dir(path)


def fsync_dir(path: str) -> None:
    """Make a rename or unlink in ``path``'s directory durable (a no-op where it cannot be done)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def mismatch(saved: dict[str, Any], now: dict[str, Any]) -> tuple[str, Any, Any] | None:
    """The first key whose value differs between a checkpoint and this run, with both values, or None."""
    for key in sorted(set(saved) | set(now)):
        if saved.get(key) != now.get(key):
            return key, saved.get(key), now.get(key)
    return None
