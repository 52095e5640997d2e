"""Training and evaluation: fit a :class:`LocalModel` on labelled records and measure it honestly."""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs
import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, train_test_split

from .._spelling import option
from ..comment import Comment
from ..dumps import Record, Reject
from ._estimator import SpamClassifier
from ._files import sha256_file
from ._model import LocalModel, default_model_path

log = logging.getLogger("spamguard.local")

#: Below this many labelled comments of either class, a model trained from scratch is close to guessing.
FEW_PER_CLASS = 20

__all__ = [
    "TrainedFiles",
    "TrainingReport",
    "best_threshold",
    "evaluate",
    "format_metrics",
    "metrics",
    "resolve_base_model",
    "train",
    "train_files",
]


@attrs.frozen(kw_only=True)
class TrainingReport:
    """What training did: rows used, per-source counts, cross-validated and held-out metrics.

    ``base_model`` names the model that was adapted (None: trained from scratch). ``warnings``
    says what makes the model doubtful (too little data, no cross-validation); they are also
    logged on the ``spamguard.local`` logger, which ``spamguard train`` shows on stderr.
    """

    n: int
    n_spam: int
    sources: dict[str, dict[str, int]]
    cv_folds: int
    cv_metrics: dict[str, Any] | None
    test_metrics: dict[str, Any] | None
    threshold: float
    calibration: tuple[float, float]
    seed: int
    base_model: str | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return attrs.asdict(self)


def metrics(labels: Sequence[bool] | np.ndarray, scores: Sequence[float] | np.ndarray,
            threshold: float = 0.5) -> dict[str, Any]:
    """n, accuracy, precision, recall, F1, MCC, ROC-AUC and the confusion matrix of scores against labels.

    A figure that would divide by zero is ``None`` (undefined), not 0: precision when nothing
    was judged spam, recall when the labels hold no spam, F1 when neither holds any, MCC and
    ROC-AUC when only one class is present.
    """
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(scores, dtype=np.float64)
    pred = p >= threshold
    n = int(y.shape[0])
    if n == 0:
        return {"n": 0, "accuracy": None, "precision": None, "recall": None, "f1": None, "mcc": None,
                "roc_auc": None, "confusion": {"tn": 0, "fp": 0, "fn": 0, "tp": 0}, "threshold": threshold}
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, pred, labels=[False, True]).ravel())
    both = 0 < y.sum() < n
    return {
        "n": n,
        "accuracy": float(accuracy_score(y, pred)),
        # undefined (None) where it would divide by zero: nothing judged spam, no spam in the data
        "precision": float(precision_score(y, pred, zero_division=0.0)) if tp + fp else None,
        "recall": float(recall_score(y, pred, zero_division=0.0)) if tp + fn else None,
        "f1": float(f1_score(y, pred, zero_division=0.0)) if tp + fp + fn else None,
        "mcc": float(matthews_corrcoef(y, pred)) if both else None,
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "threshold": threshold,
    }


def format_metrics(m: dict[str, Any] | None, *, indent: str = "  ") -> str:
    """:func:`metrics` as the lines ``spamguard train`` and ``evaluate`` print (None: not measurable)."""
    if m is None:
        return f"{indent}n/a (needs both spam and ham)"

    def f(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    c = m["confusion"]
    text = (
        f"{indent}n {m['n']:,}  accuracy {f(m['accuracy'])}  precision {f(m['precision'])}  recall {f(m['recall'])}\n"
        f"{indent}f1 {f(m['f1'])}  mcc {f(m['mcc'])}  roc_auc {f(m['roc_auc'])}\n"
        f"{indent}confusion: tn {c['tn']}  fp {c['fp']}  fn {c['fn']}  tp {c['tp']}"
    )
    why = _undefined(m)
    return f"{text}\n{indent}({why})" if why else text


def _undefined(m: dict[str, Any]) -> str:
    """Why the figures shown as n/a are undefined, in words (empty when all are defined)."""
    if not m["n"]:
        return ""
    c = m["confusion"]
    spam, ham = c["tp"] + c["fn"], c["tn"] + c["fp"]
    notes = []
    if not spam or not ham:
        notes.append(f"the data holds only {'ham' if not spam else 'spam'}: MCC and ROC-AUC are undefined"
                     + (", and so are recall" + (" and F1" if m["f1"] is None else "") if not spam else ""))
    if m["precision"] is None:
        notes.append("nothing was judged spam: precision is undefined")
    return "; ".join(notes)


def _labelled(records: Iterable[Record], purpose: str = "training") -> tuple[list[Comment], np.ndarray, list[str]]:
    comments, labels, sources = [], [], []
    for record in records:
        if record.label is None:
            raise ValueError(
                f"{record.source or 'input'}:{record.line}: the record has no label; {purpose} needs spam or ham "
                "for every comment"
            )
        comments.append(record.comment)
        labels.append(bool(record.label))
        sources.append(record.source or "input")
    return comments, np.asarray(labels, dtype=bool), sources


def _check(y: np.ndarray, threshold: float | str, test_size: float) -> None:
    n_spam = int(y.sum())
    if n_spam == 0 or n_spam == len(y):
        only = "spam" if n_spam else "ham"
        raise ValueError(
            f"training needs both spam and ham examples, but all {len(y)} labelled comments are {only}"
            if len(y) else "training needs labelled comments, but the input holds none"
        )
    if threshold != "auto" and not (isinstance(threshold, float | int) and 0.0 < threshold < 1.0):
        raise ValueError(f"threshold must be 'auto' or a number between 0 and 1, got {threshold!r}")
    if not 0.0 <= test_size < 1.0:
        raise ValueError(f"test_size must be at least 0 and below 1, got {test_size!r}")


def _per_source(sources: list[str], y: np.ndarray) -> dict[str, dict[str, int]]:
    per_source: dict[str, dict[str, int]] = {}
    for src, label in zip(sources, y.tolist(), strict=True):
        entry = per_source.setdefault(src, {"rows": 0, "spam": 0})
        entry["rows"] += 1
        entry["spam"] += int(label)
    return per_source


def _split(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices to train on and (with ``test_size``) to test on: stratified, seeded."""
    index = np.arange(len(y))
    if not test_size:
        return index, None
    n_spam = int(y.sum())
    n_test = max(2, math.ceil(len(y) * test_size))
    if min(n_spam, len(y) - n_spam) < 2 or n_test >= len(y) - 1:
        raise ValueError(f"too little data to hold out {test_size:.0%} for testing; use --test-size 0")
    index, test_index = train_test_split(index, test_size=n_test, random_state=seed, stratify=y)
    return np.sort(index), np.sort(test_index)


def resolve_base_model(base_model: LocalModel | str | os.PathLike[str]) -> LocalModel:
    """The base model :func:`train` adapts: a :class:`LocalModel`, a model file's path, or ``"default"``."""
    if isinstance(base_model, LocalModel):
        return base_model
    if base_model == "default":
        return LocalModel.load(default_model_path())
    if isinstance(base_model, str | os.PathLike):
        return LocalModel.load(base_model)
    raise TypeError(
        f"base_model must be a LocalModel, a model file's path or 'default', got {type(base_model).__name__}"
    )


@attrs.frozen
class _Fitted:
    model: LocalModel
    cv_metrics: dict[str, Any] | None
    folds: int


def _fit_from_scratch(comments: list[Comment], y: np.ndarray, *, estimator: SpamClassifier | None, cv: int,
                      seed: int, threshold: float | str) -> _Fitted:
    """Fit a new model: Platt scaling and the ``"auto"`` cut-off from ``cv`` cross-validation folds."""
    base = estimator if estimator is not None else SpamClassifier()
    cv_metrics = None
    calibration = (1.0, 0.0)
    folds = min(cv, int(y.sum()), int((~y).sum()))
    if cv and folds >= 2:
        log_odds = np.empty(len(y))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        for fit_idx, score_idx in splitter.split(np.zeros(len(y)), y):
            fold = _clone(base).fit([comments[i] for i in fit_idx], y[fit_idx])
            log_odds[score_idx] = LocalModel(fold)._scorer.decision([comments[i] for i in score_idx])[0]
        calibration = platt(y, log_odds)
        out_of_fold = 1.0 / (1.0 + np.exp(-(calibration[0] * log_odds + calibration[1])))
        if threshold == "auto":
            threshold = best_threshold(y, out_of_fold)
        cv_metrics = metrics(y, out_of_fold, float(threshold))
    fitted = _clone(base).fit(comments, y)
    fitted.apply_priors(1.0 / calibration[0] if calibration[0] > 0 else 1.0)
    threshold = 0.5 if threshold == "auto" else float(threshold)
    return _Fitted(LocalModel(fitted, threshold=threshold, calibration=calibration), cv_metrics,
                   folds if cv_metrics else 0)


def _fit_from_base(comments: list[Comment], y: np.ndarray, *, base: LocalModel, cv: int, seed: int,
                   threshold: float | str, strength: float) -> _Fitted:
    """Adapt ``base`` to these rows (see :mod:`._adapt`); the ``"auto"`` cut-off by cross-validation when
    there are enough rows of each class, else the base model's."""
    from ._adapt import MIN_ROWS_FOR_CUT_OFF, adapt_estimator, out_of_fold_scores

    cv_metrics = None
    folds = min(cv, int(y.sum()), int((~y).sum()))
    if cv and folds >= 2:
        scores = out_of_fold_scores(base, comments, y, folds=folds, seed=seed, strength=strength)
        if threshold == "auto":
            enough = min(int(y.sum()), int((~y).sum())) >= MIN_ROWS_FOR_CUT_OFF
            threshold = best_threshold(y, scores) if enough else base.threshold
        cv_metrics = metrics(y, scores, float(threshold))
    threshold = base.threshold if threshold == "auto" else float(threshold)
    estimator = adapt_estimator(base, comments, y, strength=strength)
    return _Fitted(LocalModel(estimator, threshold=threshold, calibration=base.calibration), cv_metrics,
                   folds if cv_metrics else 0)


def train(
    records: Iterable[Record],
    *,
    seed: int = 0,
    test_size: float = 0.0,
    cv: int = 5,
    threshold: float | str = "auto",
    estimator: SpamClassifier | None = None,
    base_model: LocalModel | str | os.PathLike[str] | None = None,
    strength: float | None = None,
) -> tuple[LocalModel, TrainingReport]:
    """Fit a :class:`LocalModel` on labelled records; returns the model and a :class:`TrainingReport`.

    ``cv`` folds (stratified, shuffled with ``seed``) give cross-validated metrics (0 skips
    them) and calibrate the scores: Platt scaling fitted on the out-of-fold log-odds.
    ``test_size`` > 0 keeps that share of the data out of training (stratified,
    ``seed``) and reports the model's metrics on it. The same records and seed give the same
    model. ``threshold`` is the spam cut-off; ``"auto"`` picks the one (0.2-0.8) that gives the
    best cross-validated F1, or 0.5 without cross-validation. Raises ``ValueError`` when the
    records hold only one class.

    ``base_model`` (a :class:`LocalModel`, a model file's path, or ``"default"`` for the
    shipped model) adapts that model to the records instead of training from scratch: its
    features and calibration are kept and a correction to its weights is fitted on the records
    alone, pulled towards the base weights by ``strength`` (default
    :data:`~spamguard.local._adapt.DEFAULT_STRENGTH`; higher stays nearer the base). This is
    how a site with a few hundred moderated comments and no training corpus gets a model of its
    own. ``"auto"`` then picks the cut-off by cross-validation when there are at least 10 rows
    of each class, else keeps the base model's. ``estimator`` cannot be given with it.
    """
    comments, y, sources = _labelled(records)
    _check(y, threshold, test_size)
    if base_model is not None and estimator is not None:
        raise ValueError("give estimator (train from scratch) or base_model (adapt a trained model), not both")
    index, test_index = _split(y, test_size, seed)
    train_comments = [comments[i] for i in index]
    y_train = y[index]
    if base_model is None:
        fitted = _fit_from_scratch(train_comments, y_train, estimator=estimator, cv=cv, seed=seed,
                                   threshold=threshold)
    else:
        from ._adapt import DEFAULT_STRENGTH

        fitted = _fit_from_base(train_comments, y_train, base=resolve_base_model(base_model), cv=cv, seed=seed,
                                threshold=threshold, strength=DEFAULT_STRENGTH if strength is None else strength)
    model = fitted.model
    test_metrics = None
    if test_index is not None:
        test_metrics = metrics(y[test_index], model.scores([comments[i] for i in test_index]), model.threshold)
    doubts = _doubts(y_train, from_scratch=base_model is None, cv=cv, cv_measured=fitted.cv_metrics is not None)
    for doubt in doubts:
        log.warning("%s", doubt)
    report = TrainingReport(
        n=len(y_train), n_spam=int(y_train.sum()), sources=_per_source(sources, y), cv_folds=fitted.folds,
        cv_metrics=fitted.cv_metrics, test_metrics=test_metrics, threshold=model.threshold,
        calibration=model.calibration, seed=seed,
        base_model=None if base_model is None else _describe(base_model), warnings=doubts,
    )
    return model, report


def _doubts(y: np.ndarray, *, from_scratch: bool, cv: int, cv_measured: bool) -> tuple[str, ...]:
    """What makes a freshly trained model doubtful, in words a user can act on."""
    n_spam = int(y.sum())
    n_ham = len(y) - n_spam
    doubts = []
    if from_scratch and min(n_spam, n_ham) < FEW_PER_CLASS:
        doubts.append(
            f"only {len(y)} labelled comment(s) to learn from ({n_spam} spam, {n_ham} ham): a model trained from "
            f"scratch on fewer than {FEW_PER_CLASS} of each is close to guessing; label a few hundred of each, or "
            f"adapt the shipped model to them ({option('base_model', 'default')})"
        )
    if cv and not cv_measured:
        doubts.append("too few of each class for cross-validation: no cross-validated figures were measured, and "
                      "the cut-off was not chosen from data")
    return tuple(doubts)


def _describe(base_model: LocalModel | str | os.PathLike[str]) -> str:
    if isinstance(base_model, LocalModel):
        return os.fspath(base_model.path) if base_model.path else "in memory"
    return os.fspath(base_model)


def platt(labels: np.ndarray, log_odds: np.ndarray) -> tuple[float, float]:
    """Platt scaling: (slope, intercept) so that sigmoid(slope * z + intercept) is calibrated on these labels."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e6, max_iter=1000).fit(log_odds.reshape(-1, 1), labels.astype(int))
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def best_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The cut-off in 0.20-0.80 (steps of 0.01) with the best F1; ties go to the one nearest 0.5."""
    candidates = np.round(np.arange(0.2, 0.805, 0.01), 2)
    best = max(candidates, key=lambda t: (f1_score(labels, scores >= t, zero_division=0.0), -abs(t - 0.5)))
    return float(best)


def _clone(estimator: SpamClassifier) -> SpamClassifier:
    from sklearn.base import clone

    return clone(estimator)


def evaluate(model: LocalModel, records: Iterable[Record]) -> dict[str, Any]:
    """Score labelled records with ``model``: overall metrics plus a ``files`` breakdown by source."""
    comments, y, sources = _labelled(records, "evaluating")
    scores = model.scores(comments) if comments else np.zeros(0)
    result = metrics(y, scores, model.threshold)
    files = {}
    order = list(dict.fromkeys(sources))
    src = np.asarray(sources, dtype=object)
    for name in order:
        mask = src == name
        files[name] = metrics(y[mask], scores[mask], model.threshold)
    result["files"] = files
    result["sources"] = dict(Counter(sources))
    return result


@attrs.frozen(kw_only=True)
class TrainedFiles:
    """What :func:`train_files` did: the model, its training report, the manifest written, rows skipped."""

    model: LocalModel
    report: TrainingReport
    manifest: dict[str, Any]
    rejected: int


def train_files(
    files: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    seed: int = 0,
    test_size: float = 0.0,
    cv: int = 5,
    threshold: float | str = "auto",
    base_model: LocalModel | str | os.PathLike[str] | None = None,
    strength: float | None = None,
) -> TrainedFiles:
    """Train on labelled dump files and write the model files with their manifest (what ``spamguard train`` does).

    ``files`` are read with :func:`spamguard.dumps.read_records` (``fmt`` forces a format);
    rows that cannot be read are skipped, counted and passed to ``on_reject``. The other
    options are :func:`train`'s. The manifest records each file with its rows, spam rows and
    SHA-256, the options, the metrics and the estimator's settings (and the base model when
    one was adapted), so the same files and seed give the same model files.
    """
    from ..dumps import read_records

    paths = [os.fspath(f) for f in files]
    rejected = 0

    def rows() -> Iterator[Record]:
        nonlocal rejected
        for path in paths:
            for item in read_records(path, fmt):
                if isinstance(item, Record):
                    yield item
                else:
                    rejected += 1
                    if on_reject is not None:
                        on_reject(item)

    model, report = train(rows(), seed=seed, test_size=test_size, cv=cv, threshold=threshold,
                          base_model=base_model, strength=strength)
    training_data = []
    for path in paths:
        src = report.sources.get(path, {"rows": 0, "spam": 0})
        training_data.append({"file": path, "rows": src["rows"], "spam": src["spam"], "sha256": sha256_file(path)})
    extra: dict[str, Any] = {}
    if base_model is not None:
        base = resolve_base_model(base_model)
        extra["base_model"] = {"model": report.base_model, "sha256": base.manifest.get("sha256"),
                               "strength": strength}
    manifest = model.save(
        output, seed=seed, test_size=test_size, rejected_rows=rejected, training_data=training_data,
        rows=report.n, spam_rows=report.n_spam,
        metrics={"cross_validated": report.cv_metrics, "held_out": report.test_metrics},
        estimator_params=_params(model.estimator.get_params()), **extra,
    )
    return TrainedFiles(model=model, report=report, manifest=manifest, rejected=rejected)


def _params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
