"""scikit-learn transformers for the local model: hashed n-gram counts, metadata, TF-IDF weighting.

The features themselves are computed in :mod:`._meta` and :mod:`._hashing` (numpy only), so the
compiled scorer sees exactly what these transformers give the pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._hashing import TextBatch, as_comments, normalize_text, phrase_column
from ._meta import META_FEATURES, meta_matrix, prepare

__all__ = [
    "META_FEATURES",
    "MetadataFeatures",
    "NgramHasher",
    "OccurrenceTfidf",
    "TextBatch",
    "as_comments",
    "count_matrix",
    "meta_matrix",
    "normalize_text",
    "phrase_column",
]


def count_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, bits: int) -> sp.csr_matrix:
    """Occurrences as a sparse count matrix (duplicates summed, indices sorted)."""
    matrix = sp.csr_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=(n_rows, 1 << bits))
    matrix.sum_duplicates()
    return matrix


class _StatelessTextTransformer(TransformerMixin, BaseEstimator):
    """A transformer of comments or texts that learns nothing: scikit-learn's tags say so."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


class NgramHasher(_StatelessTextTransformer):
    """Hashed word or character n-gram counts of comments' text (a stateless transformer).

    ``analyzer`` is ``"word"`` or ``"char"``; ``n_bits`` sets 2**n_bits columns. Works for any
    script: characters are Unicode code points and words are runs of letters and digits.
    ``sublinear`` gives ``1 + ln(count)`` instead of the count (a repeated n-gram counts less).
    """

    def __init__(self, analyzer: str = "char", ngram_range: tuple[int, int] = (2, 5), n_bits: int = 18,
                 sublinear: bool = False) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.n_bits = n_bits
        self.sublinear = sublinear

    def fit(self, X: Any, y: Any = None) -> NgramHasher:
        """Check the settings (there is nothing to learn); returns ``self``."""
        if self.analyzer not in ("word", "char"):
            raise ValueError(f"analyzer must be 'word' or 'char', got {self.analyzer!r}")
        lo, hi = self.ngram_range
        if not 1 <= lo <= hi:
            raise ValueError(f"ngram_range must be (low, high) with 1 <= low <= high, got {self.ngram_range!r}")
        if not 4 <= self.n_bits <= 24:
            raise ValueError(f"n_bits must be between 4 and 24, got {self.n_bits!r}")
        as_comments(X)
        self.n_features_out_ = 1 << self.n_bits
        return self

    def transform(self, X: Any) -> sp.csr_matrix:
        """The n-gram counts, one row a comment."""
        return self.transform_batch(prepare(as_comments(X)).batch)

    def transform_batch(self, batch: TextBatch) -> sp.csr_matrix:
        """The n-gram counts of a :class:`TextBatch`."""
        rows, cols = self.occurrences(batch)
        matrix = count_matrix(rows, cols, batch.n, self.n_bits)
        if getattr(self, "sublinear", False):  # (absent in pipelines pickled before it existed)
            matrix.data = 1.0 + np.log(matrix.data)
        return matrix

    def occurrences(self, batch: TextBatch) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every n-gram occurrence in a :class:`TextBatch` (duplicates kept)."""
        ngram_range = (int(self.ngram_range[0]), int(self.ngram_range[1]))
        if self.analyzer == "word":
            return batch.word_ngrams(ngram_range, self.n_bits)
        return batch.char_ngrams(ngram_range, self.n_bits)


class MetadataFeatures(_StatelessTextTransformer):
    """Numbers about a comment beyond its n-grams: links, lures, concept words, author fields, case, bot signs.

    Every column is 0 when the signal is absent, so signals that training data never shows
    (a honeypot, a missing user agent on a web form) get no weight until data shows them.
    """

    def fit(self, X: Any, y: Any = None) -> MetadataFeatures:
        """Nothing to learn; returns ``self``."""
        as_comments(X)
        self.n_features_out_ = len(META_FEATURES)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The metadata matrix (:data:`META_FEATURES`), one row a comment."""
        return meta_matrix(as_comments(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The column names (:data:`META_FEATURES`)."""
        return np.asarray(META_FEATURES, dtype=object)


# --- weighting --------------------------------------------------------------------------


class OccurrenceTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF whose l2 norm counts each n-gram occurrence: value = tf * idf / sqrt(sum(tf * idf**2)).

    ``idf_`` is scikit-learn's smoothed idf, ``ln((1 + n) / (1 + df)) + 1``. Unlike
    :class:`~sklearn.feature_extraction.text.TfidfTransformer`, the norm needs no grouping of
    repeated n-grams, so the compiled scorer sums over occurrences directly (no sorting).
    """

    def fit(self, X: Any, y: Any = None) -> OccurrenceTfidf:
        """Learn the idf of each column from a (sparse) count matrix; returns ``self``."""
        X = sp.csr_matrix(_validate(self, X, reset=True))
        n = X.shape[0]
        df = np.bincount(X.indices[X.data != 0], minlength=X.shape[1])
        self.idf_ = np.log((1.0 + n) / (1.0 + df)) + 1.0
        return self

    def transform(self, X: Any) -> sp.csr_matrix:
        """Weight and normalise a (sparse) count matrix."""
        check_is_fitted(self, "idf_")
        X = sp.csr_matrix(_validate(self, X, reset=False), dtype=np.float64, copy=True)
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        idf = self.idf_[X.indices]
        norms = np.sqrt(np.bincount(rows, weights=X.data * idf * idf, minlength=X.shape[0]))
        norms[norms == 0.0] = 1.0
        X.data = X.data * idf / norms[rows]
        return X

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        return tags


def _validate(estimator: BaseEstimator, X: Any, *, reset: bool) -> Any:
    """scikit-learn's input validation (counts: non-negative numbers, sparse or dense)."""
    from sklearn.utils.validation import check_non_negative

    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # scikit-learn < 1.6
        X = estimator._validate_data(X, accept_sparse="csr", dtype=np.float64, reset=reset)
    else:
        X = validate_data(estimator, X, accept_sparse="csr", dtype=np.float64, reset=reset)
    check_non_negative(X, f"{type(estimator).__name__} (counts)")
    return X
