"""Model files: a joblib pickle, the compiled scorer's arrays, and a JSON manifest that vouches for both.

``model.joblib`` holds the fitted scikit-learn estimator (needed to inspect or retrain it);
``model.npz`` holds the compiled scorer's plain arrays (all that judging comments needs; read
with ``allow_pickle=False``); ``model.json`` records the SHA-256 of both. A pickle is code:
loading one runs whatever it says, so :func:`read_estimator` checks the SHA-256 *before*
unpickling and a mismatch raises :class:`~spamguard.ModelIntegrityError`. Only load model
files you trust, with manifests you trust.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import warnings
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelIntegrityError
from ._scorer import CompiledScorer

__all__ = [
    "FORMAT_VERSION",
    "ModelVersionWarning",
    "manifest_path",
    "read_estimator",
    "read_manifest",
    "read_scorer",
    "scorer_path",
    "sha256_file",
    "write_model",
]

FORMAT_VERSION = 2
"""The manifest layout version this spamguard writes and reads."""


class ModelVersionWarning(UserWarning):
    """A model file was made with another scikit-learn minor version."""


def _sklearn_version() -> str:
    try:
        return version("scikit-learn")
    except PackageNotFoundError:  # pragma: no cover - a dependency
        return "unknown"


def scorer_path(model_path: str | os.PathLike[str]) -> Path:
    """Where the compiled scorer of a model file lives: beside it, ``.npz`` instead of ``.joblib``."""
    return Path(model_path).with_suffix(".npz")


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
    """Write ``estimator`` to ``path`` (joblib), its compiled scorer (``.npz``) and the manifest (``.json``).

    The manifest gets ``format_version``, the spamguard and scikit-learn versions, both
    files' SHA-256 and sizes, and ``created`` added to what is given. Files are written to
    temporary names and renamed, so a reader never sees half a model.
    """
    import joblib

    from .. import __version__

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scorer = scorer_path(path)
    man = manifest_path(path)
    temps = {p: p.with_name(p.name + ".tmp") for p in (path, scorer, man)}
    try:
        joblib.dump(estimator, temps[path], compress=("zlib", 3), protocol=5)
        _write_npz(temps[scorer], CompiledScorer.from_estimator(estimator).to_arrays())
        full = {
            "format_version": FORMAT_VERSION,
            "spamguard_version": __version__,
            "sklearn_version": _sklearn_version(),
            "model_file": path.name,
            "sha256": sha256_file(temps[path]),
            "size_bytes": os.path.getsize(temps[path]),
            "scorer_file": scorer.name,
            "scorer_sha256": sha256_file(temps[scorer]),
            "scorer_size_bytes": os.path.getsize(temps[scorer]),
            "created": manifest.get("created") or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        full.update({k: v for k, v in manifest.items() if k not in full})
        temps[man].write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
        for final, temp in temps.items():
            os.replace(temp, final)
    finally:
        for temp in temps.values():
            if temp.exists():
                temp.unlink()
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
    if data.get("format_version") == FORMAT_VERSION and not isinstance(data.get("scorer_sha256"), str):
        raise ModelIntegrityError(f"the manifest {os.fspath(man)!r} has no 'scorer_sha256' of the scorer file")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelIntegrityError(
            f"the manifest {os.fspath(man)!r} has format version {version!r}; this spamguard reads "
            f"version {FORMAT_VERSION}: retrain the model with this spamguard"
        )
    return data


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed time stamps, so the same arrays give the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as out:
                np.lib.format.write_array(out, np.asanyarray(array), allow_pickle=False)


def _verified_bytes(path: Path, expected: str, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelIntegrityError(f"cannot read the {what} {os.fspath(path)!r}: {exc.strerror}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            f"{what} {os.fspath(path)!r} does not match its manifest (SHA-256 {actual[:16]}..., manifest says "
            f"{expected[:16]}...); it was changed or damaged, so it was not loaded. Retrain it or restore the "
            "original file"
        )
    return data


def read_scorer(path: str | os.PathLike[str], manifest: dict[str, Any]) -> CompiledScorer:
    """Check the model's files against the manifest and load the compiled scorer (no unpickling).

    Both files are checked, so a damaged model fails at load, not later. Raises
    :class:`~spamguard.ModelIntegrityError` on a mismatch. Warns (:class:`ModelVersionWarning`)
    when the model was made with another scikit-learn minor version.
    """
    path = Path(path)
    _verified_bytes(path, manifest["sha256"], "model file")
    scorer_file = path.with_name(str(manifest.get("scorer_file") or scorer_path(path).name))
    data = _verified_bytes(scorer_file, str(manifest.get("scorer_sha256")), "scorer file")
    _check_sklearn_version(manifest.get("sklearn_version"), path)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return CompiledScorer.from_arrays(arrays)
    except (ValueError, OSError) as exc:
        raise ModelIntegrityError(f"cannot read the scorer file {os.fspath(scorer_file)!r}: {exc}") from exc


def read_estimator(path: str | os.PathLike[str], manifest: dict[str, Any]) -> Any:
    """Check a model file against its manifest, then unpickle the estimator in it.

    Raises :class:`~spamguard.ModelIntegrityError` when the file's SHA-256 differs from the
    manifest, without unpickling anything.
    """
    import joblib

    data = _verified_bytes(Path(path), manifest["sha256"], "model file")
    return joblib.load(io.BytesIO(data))


def _check_sklearn_version(made_with: Any, path: str | os.PathLike[str]) -> None:
    def minor(text: str) -> tuple[str, ...]:
        return tuple(text.split(".")[:2])

    installed = _sklearn_version()
    if isinstance(made_with, str) and minor(made_with) != minor(installed):
        warnings.warn(
            f"model file {os.fspath(path)!r} was made with scikit-learn {made_with} and this is "
            f"{installed}; its scores may differ or loading it may fail. Retrain it with "
            "`spamguard train` or install the scikit-learn version it was made with",
            ModelVersionWarning,
            stacklevel=4,
        )
