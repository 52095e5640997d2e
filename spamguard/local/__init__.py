"""The local backend: a scikit-learn model that runs in process, with no network and no key.

:class:`LocalModel` loads a trained model file (the default one ships with spamguard) and
judges comments; :func:`train` fits a new one on labelled records from
:func:`spamguard.dumps.read_records`, or adapts a trained one to a site's labelled comments
(``base_model=``); :func:`train_files` does that from dump files and writes the model files
with their manifest; :func:`evaluate` measures a model.

Judging comments needs only numpy (the compiled scorer), so ``import spamguard`` does not
import scikit-learn; the training names below import it when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._files import ModelVersionWarning
from ._model import LocalModel, default_model_path

__all__ = [
    "LocalModel",
    "MetadataFeatures",
    "ModelVersionWarning",
    "NgramHasher",
    "SpamClassifier",
    "TrainedFiles",
    "TrainingReport",
    "default_model_path",
    "evaluate",
    "format_metrics",
    "metrics",
    "train",
    "train_files",
]

_LAZY = {
    "SpamClassifier": "._estimator",
    "MetadataFeatures": "._features",
    "NgramHasher": "._features",
    "TrainedFiles": "._train",
    "TrainingReport": "._train",
    "evaluate": "._train",
    "format_metrics": "._train",
    "metrics": "._train",
    "train": "._train",
    "train_files": "._train",
}


def __getattr__(name: str) -> Any:
    """Import the scikit-learn side (training, the estimator) on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
