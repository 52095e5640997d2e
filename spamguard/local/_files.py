"""Model files: a joblib pickle and a JSON manifest beside it that vouches for it.

A pickle is code: loading one runs whatever it says. So the manifest records the SHA-256 of
the model file and :func:`read_model` checks it *before* unpickling; a mismatch raises
:class:`~spamguard.ModelIntegrityError`. Only load model files you trust, with manifests
you trust.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import joblib
import sklearn

from ..errors import ModelIntegrityError

__all__ = ["FORMAT_VERSION", "manifest_path", "read_model", "write_model", "sha256_file"]

FORMAT_VERSION = 1
"""The manifest layout version this spamguard writes and reads."""


def manifest_path(model_path: str | os.PathLike[str]) -> Path:
    """Where the manifest of a model file lives: beside it, ``.json`` instead of ``.joblib``."""
    return Path(model_path).with_suffix(".json")


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_model(path: str | os.PathLike[str], estimator: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write ``estimator`` to ``path`` (joblib) and its manifest beside it; returns the manifest written.

    The manifest gets ``format_version``, the spamguard and scikit-learn versions, the
    file's SHA-256 and size, and ``created`` added to what is given. Both files are written
    to temporary names and renamed, so a reader never sees half a model.
    """
    from .. import __version__

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(estimator, tmp, compress=("zlib", 3), protocol=5)
        full = {
            "format_version": FORMAT_VERSION,
            "spamguard_version": __version__,
            "sklearn_version": sklearn.__version__,
            "model_file": path.name,
            "sha256": sha256_file(tmp),
            "size_bytes": os.path.getsize(tmp),
            "created": manifest.get("created") or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        full.update({k: v for k, v in manifest.items() if k not in full})
        man = manifest_path(path)
        man_tmp = man.with_name(man.name + ".tmp")
        man_tmp.write_text(json.dumps(full, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        os.replace(man_tmp, man)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return full


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a model file, checked for the fields loading needs."""
    man = manifest_path(path)
    try:
        data = json.loads(man.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelIntegrityError(
            f"model file {os.fspath(path)!r} has no manifest at {os.fspath(man)!r}; a model file loads "
            "only with the manifest that vouches for it (spamguard train writes both)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelIntegrityError(f"cannot read the manifest {os.fspath(man)!r}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("sha256"), str):
        raise ModelIntegrityError(f"the manifest {os.fspath(man)!r} has no 'sha256' of the model file")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelIntegrityError(
            f"the manifest {os.fspath(man)!r} has format version {version!r}; this spamguard reads "
            f"version {FORMAT_VERSION}: retrain the model with this spamguard"
        )
    return data


def read_model(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Check a model file against its manifest, then unpickle it; returns (estimator, manifest).

    Raises :class:`~spamguard.ModelIntegrityError` when the manifest is missing or the file's
    SHA-256 differs from it, without unpickling anything. Warns when the model was made with
    another scikit-learn minor version.
    """
    manifest = read_manifest(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ModelIntegrityError(f"cannot read the model file {os.fspath(path)!r}: {exc.strerror}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != manifest["sha256"]:
        raise ModelIntegrityError(
            f"model file {os.fspath(path)!r} does not match its manifest (SHA-256 {actual[:16]}..., manifest says "
            f"{manifest['sha256'][:16]}...); it was changed or damaged, so it was not loaded. Retrain it or "
            "restore the original file"
        )
    _check_sklearn_version(manifest.get("sklearn_version"), path)
    import io

    estimator = joblib.load(io.BytesIO(data))
    return estimator, manifest


def _check_sklearn_version(made_with: Any, path: str | os.PathLike[str]) -> None:
    def minor(version: str) -> tuple[str, ...]:
        return tuple(version.split(".")[:2])

    if isinstance(made_with, str) and minor(made_with) != minor(sklearn.__version__):
        warnings.warn(
            f"model file {os.fspath(path)!r} was made with scikit-learn {made_with} and this is "
            f"{sklearn.__version__}; its scores may differ or loading may fail. Retrain it with "
            "`spamguard train` or install the scikit-learn version it was made with",
            ModelVersionWarning,
            stacklevel=3,
        )


class ModelVersionWarning(UserWarning):
    """A model file was made with another scikit-learn minor version."""
