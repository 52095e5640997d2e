"""Adapting a trained model to a site from the site's own labelled comments alone (no base training data).

A pip user has the shipped model and their site's moderated comments, not the corpus the
model was trained on. :func:`adapt` warm-starts from the base model: it keeps its features
(the hashers, the TF-IDF idf and the metadata scaling, all fitted on the base data) and fits a
correction ``delta`` to its weights on the site's rows, by logistic loss on the calibrated
log-odds with an L2 penalty that pulls ``delta`` to 0::

    minimise  sum_i log(1 + exp(-y_i * (z0_i + x_i . delta + beta)))  +  strength / 2 * |delta|^2

where ``z0`` is the base model's calibrated log-odds and ``beta`` an intercept shift (it
re-fits the score to the site's share of spam, unpenalised). The adapted model is still one
weight per feature, so the compiled scorer, the model files and the reasons work unchanged;
a feature the site's rows never show keeps the base weight. With enough rows of each class the
spam cut-off is then chosen by cross-validation on the site's rows (best F1).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.model_selection import StratifiedKFold

from ..comment import Comment
from ._model import LocalModel

__all__ = ["DEFAULT_STRENGTH", "MIN_ROWS_FOR_CUT_OFF", "adapt_estimator", "out_of_fold_scores"]

DEFAULT_STRENGTH = 0.01
"""The L2 penalty on the correction (in log-odds units): higher keeps the adapted model nearer the base."""

MIN_ROWS_FOR_CUT_OFF = 10
"""Rows of each class the site needs before its cut-off is chosen by cross-validation."""


def _design(base: LocalModel, comments: Sequence[Comment]) -> tuple[sp.csr_matrix, np.ndarray]:
    """The base pipeline's feature matrix of ``comments`` and the base model's calibrated log-odds."""
    pipeline = base.estimator.pipeline_
    X = sp.csr_matrix(pipeline.named_steps["features"].transform(comments))
    clf = pipeline.named_steps["clf"]
    slope, intercept = base.calibration
    z0 = slope * (X @ clf.coef_[0] + clf.intercept_[0]) + intercept
    return X, np.asarray(z0, dtype=np.float64)


def _fit_correction(X: sp.csr_matrix, z0: np.ndarray, y: np.ndarray, strength: float) -> tuple[np.ndarray, float]:
    """The correction (delta, beta) to the base log-odds: L2-penalised logistic loss, L-BFGS."""
    sign = np.where(y, 1.0, -1.0)
    n_features = X.shape[1]
    used = np.unique(X.indices)  # only features present in these rows can move
    Xu = X[:, used]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        delta, beta = theta[:-1], theta[-1]
        margin = sign * (z0 + Xu @ delta + beta)
        value = float(np.logaddexp(0.0, -margin).sum() + 0.5 * strength * delta @ delta)
        r = -sign / (1.0 + np.exp(margin))  # d loss / d z
        grad = np.empty_like(theta)
        grad[:-1] = Xu.T @ r + strength * delta
        grad[-1] = r.sum()
        return value, grad

    result = minimize(loss, np.zeros(used.shape[0] + 1), jac=True, method="L-BFGS-B",
                      options={"maxiter": 500, "gtol": 1e-6})
    delta = np.zeros(n_features)
    delta[used] = result.x[:-1]
    return delta, float(result.x[-1])


def adapt_estimator(base: LocalModel, comments: Sequence[Comment], y: np.ndarray, *,
                    strength: float = DEFAULT_STRENGTH, design: tuple[sp.csr_matrix, np.ndarray] | None = None) -> Any:
    """A copy of the base model's fitted estimator with its weights corrected on these rows (see the module)."""
    if not (isinstance(strength, float | int) and strength > 0 and np.isfinite(strength)):
        raise ValueError(f"strength must be a positive number, got {strength!r}")
    X, z0 = design if design is not None else _design(base, comments)
    delta, beta = _fit_correction(X, z0, np.asarray(y, dtype=bool), float(strength))
    estimator = copy.deepcopy(base.estimator)
    clf = estimator.pipeline_.named_steps["clf"]
    slope = base.calibration[0]
    clf.coef_ = clf.coef_ + delta[np.newaxis, :] / slope
    clf.intercept_ = clf.intercept_ + beta / slope
    estimator.phrases_ = {**getattr(base.estimator, "phrases_", {}), **estimator._phrases(list(comments))}
    return estimator


def out_of_fold_scores(base: LocalModel, comments: Sequence[Comment], y: np.ndarray, *, folds: int, seed: int,
                       strength: float = DEFAULT_STRENGTH) -> np.ndarray:
    """Each row's score from a model adapted on the other folds (stratified, shuffled with ``seed``)."""
    X, z0 = _design(base, comments)
    y = np.asarray(y, dtype=bool)
    scores = np.empty(len(y))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, score_idx in splitter.split(np.zeros(len(y)), y):
        delta, beta = _fit_correction(X[fit_idx], z0[fit_idx], y[fit_idx], float(strength))
        z = z0[score_idx] + X[score_idx] @ delta + beta
        scores[score_idx] = 1.0 / (1.0 + np.exp(-z))
    return scores
