"""Training and evaluation: fit a :class:`LocalModel` on labelled records and measure it honestly."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
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

from ..comment import Comment
from ..dumps import Record
from ._estimator import SpamClassifier
from ._model import LocalModel

__all__ = ["TrainingReport", "best_threshold", "evaluate", "metrics", "train"]


@attrs.frozen(kw_only=True)
class TrainingReport:
    """What training did: rows used, per-source counts, cross-validated and held-out metrics."""

    n: int
    n_spam: int
    sources: dict[str, dict[str, int]]
    cv_folds: int
    cv_metrics: dict[str, Any] | None
    test_metrics: dict[str, Any] | None
    threshold: float
    calibration: tuple[float, float]
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return attrs.asdict(self)


def metrics(labels: Sequence[bool] | np.ndarray, scores: Sequence[float] | np.ndarray,
            threshold: float = 0.5) -> dict[str, Any]:
    """n, accuracy, precision, recall, F1, MCC, ROC-AUC and the confusion matrix of scores against labels.

    ROC-AUC is ``None`` when only one class is present (it is undefined then).
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
        "precision": float(precision_score(y, pred, zero_division=0.0)),
        "recall": float(recall_score(y, pred, zero_division=0.0)),
        "f1": float(f1_score(y, pred, zero_division=0.0)),
        "mcc": float(matthews_corrcoef(y, pred)) if both else None,
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "threshold": threshold,
    }


def _labelled(records: Iterable[Record]) -> tuple[list[Comment], np.ndarray, list[str]]:
    comments, labels, sources = [], [], []
    for record in records:
        if record.label is None:
            raise ValueError(
                f"{record.source or 'input'}:{record.line}: the record has no label; training needs spam or ham "
                "for every comment"
            )
        comments.append(record.comment)
        labels.append(bool(record.label))
        sources.append(record.source or "input")
    return comments, np.asarray(labels, dtype=bool), sources


def train(
    records: Iterable[Record],
    *,
    seed: int = 0,
    test_size: float = 0.0,
    cv: int = 5,
    threshold: float | str = "auto",
    estimator: SpamClassifier | None = None,
) -> tuple[LocalModel, TrainingReport]:
    """Fit a :class:`LocalModel` on labelled records; returns the model and a :class:`TrainingReport`.

    ``cv`` folds (stratified, shuffled with ``seed``) give cross-validated metrics (0 skips
    them) and calibrate the scores: Platt scaling fitted on the out-of-fold log-odds.
    ``test_size`` > 0 keeps that share of the data out of training (stratified,
    ``seed``) and reports the model's metrics on it. The same records and seed give the same
    model. ``threshold`` is the spam cut-off; ``"auto"`` picks the one (0.2-0.8) that gives the
    best cross-validated F1, or 0.5 without cross-validation. Raises ``ValueError`` when the
    records hold only one class.
    """
    comments, y, sources = _labelled(records)
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
    base = estimator if estimator is not None else SpamClassifier()
    per_source: dict[str, dict[str, int]] = {}
    for src, label in zip(sources, y.tolist(), strict=True):
        entry = per_source.setdefault(src, {"rows": 0, "spam": 0})
        entry["rows"] += 1
        entry["spam"] += int(label)

    index = np.arange(len(y))
    test_metrics = None
    if test_size > 0:
        n_test = max(2, math.ceil(len(y) * test_size))
        if min(n_spam, len(y) - n_spam) < 2 or n_test >= len(y) - 1:
            raise ValueError(f"too little data to hold out {test_size:.0%} for testing; use --test-size 0")
        index, test_index = train_test_split(index, test_size=n_test, random_state=seed, stratify=y)
        index = np.sort(index)
        test_index = np.sort(test_index)
    train_comments = [comments[i] for i in index]
    y_train = y[index]

    cv_metrics = None
    calibration = (1.0, 0.0)
    folds = min(cv, int(y_train.sum()), int((~y_train).sum()))
    if cv and folds >= 2:
        log_odds = np.empty(len(y_train))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        for fit_idx, score_idx in splitter.split(np.zeros(len(y_train)), y_train):
            fold = _clone(base).fit([train_comments[i] for i in fit_idx], y_train[fit_idx])
            log_odds[score_idx] = LocalModel(fold)._scorer.decision([train_comments[i] for i in score_idx])[0]
        calibration = platt(y_train, log_odds)
        out_of_fold = 1.0 / (1.0 + np.exp(-(calibration[0] * log_odds + calibration[1])))
        if threshold == "auto":
            threshold = best_threshold(y_train, out_of_fold)
        cv_metrics = metrics(y_train, out_of_fold, float(threshold))
    threshold = 0.5 if threshold == "auto" else float(threshold)
    fitted = _clone(base).fit(train_comments, y_train)
    fitted.apply_priors(1.0 / calibration[0] if calibration[0] > 0 else 1.0)
    model = LocalModel(fitted, threshold=threshold, calibration=calibration)
    if test_size > 0:
        test_metrics = metrics(y[test_index], model.scores([comments[i] for i in test_index]), threshold)
    report = TrainingReport(
        n=len(y_train), n_spam=int(y_train.sum()), sources=per_source, cv_folds=folds if cv_metrics else 0,
        cv_metrics=cv_metrics, test_metrics=test_metrics, threshold=threshold,
        calibration=calibration, seed=seed,
    )
    return model, report


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
    comments, y, sources = _labelled(records)
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
