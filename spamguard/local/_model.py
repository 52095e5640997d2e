""":class:`LocalModel`: the local backend, a trained model file behind the Classifier interface."""

from __future__ import annotations

import importlib.resources
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _settings
from ..comment import Comment
from ..errors import ConfigurationError
from ..verdict import Source, Verdict
from ._files import read_estimator, read_manifest, read_scorer, write_model
from ._hashing import as_comments
from ._scorer import CompiledScorer

if TYPE_CHECKING:
    from ._estimator import SpamClassifier

__all__ = ["LocalModel", "default_model_path"]

log = logging.getLogger("spamguard.local")

# Comments scored at once. It bounds memory on big batches, and it is sized for the CPU's cache:
# a chunk's n-gram keys (about 36 bytes a character) should fit in a core's L2 cache. On the
# 2-core development machine (2 MiB L2 a core) 512 scores 28,400 comments/s, 2048 24,000/s and
# 4096 21,300/s (benchmarks/speed.py's batch).
_CHUNK = 512


def default_model_path() -> Path:
    """The model file shipped with spamguard (``models/default/model.joblib``)."""
    return Path(str(importlib.resources.files("spamguard.models") / "default" / "model.joblib"))


class LocalModel:
    """A spam classifier that runs in process, with no network and no key.

    Satisfies :class:`~spamguard.Classifier`. ``check`` gives a :class:`~spamguard.Verdict`
    with ``source="local"``, ``score`` (probability of spam, calibrated on cross-validated
    predictions when the model was trained with :func:`~spamguard.local.train`), ``spam``
    (``score >= threshold``) and ``reasons``: up to four things that made the comment look
    like spam, in words a moderator understands ("2 links", "author name is a URL", "the
    phrase 'check out'"), strongest first; none when its score is below half the threshold.

    Make one with :meth:`load` (a trained model file) or from a fitted
    :class:`SpamClassifier` (``calibration`` is the (slope, intercept) of the Platt scaling
    applied to its log-odds).
    """

    def __init__(
        self,
        estimator: SpamClassifier,
        *,
        threshold: float = 0.5,
        calibration: tuple[float, float] = (1.0, 0.0),
        manifest: Mapping[str, Any] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        if not hasattr(estimator, "pipeline_"):
            raise ValueError("the estimator is not fitted; call fit() or use spamguard.local.train()")
        self._setup(CompiledScorer.from_estimator(estimator), threshold, calibration, manifest, path)
        self._estimator: SpamClassifier | None = estimator

    def _setup(
        self, scorer: CompiledScorer, threshold: float, calibration: tuple[float, float],
        manifest: Mapping[str, Any] | None, path: str | os.PathLike[str] | None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold!r}")
        self.threshold = float(threshold)
        self.calibration = (float(calibration[0]), float(calibration[1]))
        self.manifest: dict[str, Any] = dict(manifest or {})
        self.path = Path(path) if path is not None else None
        self._scorer = scorer

    @property
    def estimator(self) -> SpamClassifier:
        """The fitted scikit-learn estimator (read from the model file on first use, after its SHA-256 check).

        Judging comments does not need it (the compiled scorer does that); inspecting or
        retraining does.
        """
        if self._estimator is None:
            from ._estimator import SpamClassifier

            if self.path is None:  # pragma: no cover - models without a file are made from an estimator
                raise ConfigurationError("this model has no model file to read its estimator from")
            estimator = read_estimator(self.path, self.manifest)
            if not isinstance(estimator, SpamClassifier):
                raise ConfigurationError(
                    f"{os.fspath(self.path)!r} holds a {type(estimator).__name__}, not a spamguard model"
                )
            self._estimator = estimator
        return self._estimator

    def __repr__(self) -> str:
        where = os.fspath(self.path) if self.path else "in memory"
        return f"LocalModel({where!r}, threshold={self.threshold})"

    # --- files ----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> LocalModel:
        """Load a model file after checking it against its manifest.

        With no ``path``: ``SPAMGUARD_MODEL`` from the environment, else the default model
        shipped with spamguard. A model file is code (a pickle): load only files you trust.
        Raises :class:`~spamguard.ModelIntegrityError` when the file does not match its
        manifest; nothing is unpickled then.
        """
        if path is None:
            path = _settings.model_path() or default_model_path()
        if not Path(path).is_file():
            raise ConfigurationError(
                f"no model file at {os.fspath(path)!r}; give the path of a model trained with `spamguard train` "
                "(or unset SPAMGUARD_MODEL to use the default model)"
            )
        manifest = read_manifest(path)
        scorer = read_scorer(path, manifest)
        calibration = manifest.get("calibration") or {"slope": 1.0, "intercept": 0.0}
        model = cls.__new__(cls)
        model._setup(
            scorer, float(manifest.get("threshold", 0.5)),
            (float(calibration["slope"]), float(calibration["intercept"])), manifest, path,
        )
        model._estimator = None
        return model

    def save(self, path: str | os.PathLike[str], **manifest: Any) -> dict[str, Any]:
        """Write the model file and its manifest (``threshold`` and ``manifest`` added); returns the manifest."""
        written_by_save = ("sha256", "size_bytes", "created", "model_file", "scorer_sha256", "scorer_size_bytes",
                           "scorer_file")
        data = {k: v for k, v in self.manifest.items() if k not in written_by_save}
        data.update(manifest)
        data["threshold"] = self.threshold
        data["calibration"] = {"slope": self.calibration[0], "intercept": self.calibration[1]}
        written = write_model(path, self.estimator, data)
        self.manifest, self.path = written, Path(path)
        return written

    # --- scoring --------------------------------------------------------------------------

    def scores(self, comments: Iterable[Comment | Mapping[str, Any] | str]) -> np.ndarray:
        """The probability of spam for each comment (the fast path; no reasons, no Verdicts)."""
        items = as_comments(comments)
        out = np.empty(len(items))
        for start in range(0, len(items), _CHUNK):
            chunk = items[start:start + _CHUNK]
            z, _ = self._scorer.decision(chunk)
            out[start:start + len(chunk)] = self._probability(z)
        return out

    def check(self, comment: Comment | Mapping[str, Any] | str) -> Verdict:
        """Judge one comment."""
        return self.check_many([comment])[0]

    def check_many(self, comments: Iterable[Comment | Mapping[str, Any] | str]) -> list[Verdict]:
        """Judge many comments; the verdicts come back in input order."""
        items = as_comments(comments)
        verdicts: list[Verdict] = []
        for start in range(0, len(items), _CHUNK):
            chunk = items[start:start + _CHUNK]
            z, state = self._scorer.decision(chunk, explain=True)
            scores = self._probability(z)
            spam = scores >= self.threshold
            # Reasons for comments that look at least a little like spam; a clear ham has none.
            suspicious = np.flatnonzero(scores >= self.threshold / 2)
            found = self._scorer.reasons([chunk[i] for i in suspicious], state, rows=suspicious,
                                          scale=self.calibration[0])
            reasons: list[tuple[str, ...]] = [()] * len(chunk)
            for k, i in enumerate(suspicious.tolist()):
                reasons[i] = found[k]
            for i in range(len(chunk)):
                verdicts.append(Verdict(spam=bool(spam[i]), score=float(scores[i]), source=Source.LOCAL,
                                        reasons=reasons[i]))
        return verdicts

    def _probability(self, z: np.ndarray) -> np.ndarray:
        """Calibrated probability of spam from the pipeline's log-odds (Platt scaling fitted in training)."""
        slope, intercept = self.calibration
        return 1.0 / (1.0 + np.exp(-(slope * z + intercept)))

    # --- feedback -------------------------------------------------------------------------

    def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Accept a report that a comment is spam.

        The model does not learn on line; a :class:`~spamguard.Guard` records reports in its
        feedback store, and `spamguard train` retrains from them.
        """
        log.debug("local model: spam report accepted (retrain to learn from it)")

    def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Accept a report that a comment is not spam (see :meth:`submit_spam`)."""
        log.debug("local model: ham report accepted (retrain to learn from it)")
