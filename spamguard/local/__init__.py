"""The local backend: a scikit-learn model that runs in process, with no network and no key.

:class:`LocalModel` loads a trained model file (the default one ships with spamguard) and
judges comments; :func:`train` fits a new one on labelled records from
:func:`spamguard.dumps.read_records`; :func:`evaluate` measures one.
"""

from ._estimator import SpamClassifier
from ._features import MetadataFeatures, NgramHasher
from ._files import ModelVersionWarning
from ._model import LocalModel, default_model_path
from ._train import TrainingReport, evaluate, metrics, train

__all__ = [
    "LocalModel",
    "MetadataFeatures",
    "ModelVersionWarning",
    "NgramHasher",
    "SpamClassifier",
    "TrainingReport",
    "default_model_path",
    "evaluate",
    "metrics",
    "train",
]
