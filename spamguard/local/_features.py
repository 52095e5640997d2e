"""Features of a comment for the local model: hashed word and character n-grams, and metadata.

The n-gram hashing is done with numpy over a whole batch at once (a polynomial rolling hash
of Unicode code points), so it works for any script and is fast; the same functions serve the
scikit-learn :class:`~sklearn.pipeline.Pipeline` and the compiled scorer, which therefore see
exactly the same features.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..comment import Comment

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

# --- turning inputs into comments -------------------------------------------------------


def as_comments(X: Any) -> list[Comment]:
    """The inputs as a list of Comments: Comments, mappings of fields, or plain texts.

    A bare ``str`` is refused: it is one comment, not a list of them (a classic silent bug
    that would score every character on its own).
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            "expected a list of comments, got a single string; wrap it in a list ([text]) "
            "or call check() for one comment"
        )
    if isinstance(X, Comment):
        raise TypeError("expected a list of comments, got one Comment; wrap it in a list or call check()")
    if isinstance(X, np.ndarray):
        X = X.ravel().tolist()
    out = []
    for item in X:
        if isinstance(item, Comment):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(Comment.from_mapping(item))
        elif isinstance(item, str):
            out.append(Comment(content=item))
        else:
            raise TypeError(
                f"expected Comments, mappings of comment fields or texts, got {type(item).__name__}"
            )
    return out


# --- text normalisation -----------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


def _normalize_joined(texts: Sequence[str]) -> str:
    """Texts normalised (see :func:`normalize_text`) and joined, each followed by a NUL separator."""
    joined = " \x00 ".join(t.replace("\x00", " ") if "\x00" in t else t for t in texts)
    return _SPACE.sub(" ", _DIGIT.sub("0", (" " + joined + " \x00").lower()))


def normalize_text(text: str) -> str:
    """Lower-case, digits folded to ``0``, runs of white space to one space, one space either side."""
    return _normalize_joined([text])[:-1]


# --- hashing ----------------------------------------------------------------------------
#
# A text's n-gram is hashed as a polynomial in its code points modulo 2**64 (numpy's wrapping
# uint64 arithmetic), salted with its length and turned into a column by multiply-shift. With
# prefix sums G of c[j] * P**-j, the hash of codes[l..r] is (G[r] - G[l-1]) * P**r, so all
# n-grams of a whole batch come out of a few vector operations.

_MASK = (1 << 64) - 1
_P = 0x100000001B3  # FNV prime: odd, so invertible modulo 2**64
_P_INV = pow(_P, -1, 1 << 64)
_SPREAD = 0x9E3779B97F4A7C15  # multiply-shift constant (2**64 / golden ratio, odd)
_SALT = 0xBF58476D1CE4E5B9
_BIGRAM = 0x94D049BB133111EB
_WORD_SALT = 0xA0761D6478BD642F

# Code-point classes for the Basic Multilingual Plane (code points beyond it count as symbols).
_BMP = [chr(i) for i in range(0x10000)]
_WORD_CHAR = np.array([ch.isalnum() or ch == "_" or 0x300 <= ord(ch) <= 0x36F for ch in _BMP], dtype=bool)
_UPPER = np.array([ch.isupper() for ch in _BMP], dtype=bool)
_ALPHA = np.array([ch.isalpha() for ch in _BMP], dtype=bool)
_DIGIT_CHAR = np.array([ch.isdigit() for ch in _BMP], dtype=bool)
del _BMP


def _salt(size: int) -> np.uint64:
    return np.uint64((size * _SALT) & _MASK)


def _column(h: np.ndarray, size: int, bits: int) -> np.ndarray:
    """Multiply-shift of the salted hash: the top ``bits`` bits of (h ^ salt) * SPREAD."""
    with np.errstate(over="ignore"):
        return (((h ^ _salt(size)) * np.uint64(_SPREAD)) >> np.uint64(64 - bits)).astype(np.intp)


def _column_int(h: int, size: int, bits: int) -> int:
    return (((h ^ ((size * _SALT) & _MASK)) * _SPREAD) & _MASK) >> (64 - bits)


def _hash_str(text: str) -> int:
    """The polynomial hash of a text, as the vector code computes it for a segment (pure Python)."""
    h = 0
    for ch in text:
        h = (h * _P + ord(ch)) & _MASK
    return h


def _code_array(texts: Sequence[str]) -> np.ndarray:
    """All texts' code points in one uint32 array, each text followed by a 0 separator."""
    joined = "\x00".join(texts) + "\x00"
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


def _codes_of(joined: str) -> np.ndarray:
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


def _classes(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Look code points up in a BMP class table (False beyond the BMP)."""
    if codes.size and int(codes.max()) < 0x10000:
        return table[codes]
    out = np.zeros(codes.shape[0], dtype=bool)
    bmp = codes < 0x10000
    out[bmp] = table[codes[bmp]]
    return out


class TextBatch:
    """The texts of a batch, normalised, as one code-point array with the prefix sums their hashes need.

    Shared by the word and character hashers and the metadata, so a batch is encoded once.
    ``texts`` are comments' raw contents; :func:`normalize_text` is applied here.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self.n = len(texts)
        self.joined = _normalize_joined(texts)
        codes = _codes_of(self.joined)
        self.codes = codes
        sep = codes == 0
        # Position i of these "shifted" arrays is the state before codes[i]; one extra at the end.
        self.seps = np.concatenate(([0], np.cumsum(sep)))
        self.doc = self.seps[:-1]  # the text each position belongs to (separators: the one before)
        with np.errstate(over="ignore"):
            n = codes.shape[0]
            inv = np.full(n, _P_INV, dtype=np.uint64)
            inv[0] = 1
            pw = np.full(n, _P, dtype=np.uint64)
            pw[0] = 1
            self.pw = np.cumprod(pw, dtype=np.uint64)
            g = np.cumsum(codes.astype(np.uint64) * np.cumprod(inv, dtype=np.uint64), dtype=np.uint64)
        self.g = np.concatenate((np.zeros(1, dtype=np.uint64), g))
        self._words: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._texts: list[str] | None = None

    def text(self, i: int) -> str:
        """The normalised text ``i``."""
        if self._texts is None:
            self._texts = self.joined.split("\x00")
        return self._texts[i]

    def char_ngrams(self, ngram_range: tuple[int, int], bits: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every character n-gram occurrence that stays inside one text."""
        rows, cols = [], []
        n = self.codes.shape[0]
        for size in range(ngram_range[0], ngram_range[1] + 1):
            if n < size:
                break
            inside = self.seps[size:] == self.seps[:-size]
            start = np.flatnonzero(inside[: n - size + 1])
            end = start + size  # exclusive, as an index into the shifted arrays
            with np.errstate(over="ignore"):
                h = (self.g[end] - self.g[start]) * self.pw[end - 1]
            rows.append(self.doc[start])
            cols.append(_column(h, size, bits))
        return _concat(rows), _concat(cols)

    def words(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hash, text index and length of every word (a run of letters, digits, marks), in order."""
        if self._words is None:
            is_word = _classes(self.codes, _WORD_CHAR)
            edges = np.diff(np.concatenate(([False], is_word, [False])).astype(np.int8))
            starts = np.flatnonzero(edges == 1)
            ends = np.flatnonzero(edges == -1)  # exclusive
            with np.errstate(over="ignore"):
                h = (self.g[ends] - self.g[starts]) * self.pw[ends - 1]
                h = h ^ np.uint64(_WORD_SALT)
            self._words = (h, self.doc[starts], ends - starts)
        return self._words

    def word_ngrams(self, ngram_range: tuple[int, int], bits: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every word n-gram occurrence inside one text."""
        word_hash, word_doc, _ = self.words()
        rows, cols = [], []
        current = word_hash
        for size in range(1, ngram_range[1] + 1):
            if size > 1:
                count = word_hash.shape[0] - size + 1
                if count <= 0:
                    break
                with np.errstate(over="ignore"):
                    current = current[:count] * np.uint64(_BIGRAM) + word_hash[size - 1:]
            if size >= ngram_range[0]:
                same = np.flatnonzero(word_doc[: current.shape[0]] == word_doc[size - 1:])
                rows.append(word_doc[same])
                cols.append(_column(current[same], size, bits))
        return _concat(rows), _concat(cols)

    def repetition(self) -> np.ndarray:
        """Per text: 1 - distinct words / words (0 for texts under 3 words)."""
        word_hash, word_doc, _ = self.words()
        total = np.bincount(word_doc, minlength=self.n)
        order = np.lexsort((word_hash, word_doc))
        d, h = word_doc[order], word_hash[order]
        first = np.ones(d.shape[0], dtype=bool)
        first[1:] = (d[1:] != d[:-1]) | (h[1:] != h[:-1])
        distinct = np.bincount(d[first], minlength=self.n)
        out = np.zeros(self.n)
        many = total >= 3
        out[many] = 1.0 - distinct[many] / total[many]
        return out


def phrase_column(phrase: str, bits: int) -> int:
    """The word-n-gram column of a phrase of normalised words joined by single spaces."""
    words = phrase.split(" ")
    h = _hash_str(words[0]) ^ _WORD_SALT
    for word in words[1:]:
        h = (h * _BIGRAM + (_hash_str(word) ^ _WORD_SALT)) & _MASK
    return _column_int(h, len(words), bits)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


def count_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, bits: int) -> sp.csr_matrix:
    """Occurrences as a sparse count matrix (duplicates summed, indices sorted)."""
    matrix = sp.csr_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=(n_rows, 1 << bits))
    matrix.sum_duplicates()
    return matrix


class NgramHasher(TransformerMixin, BaseEstimator):
    """Hashed word or character n-gram counts of comments' text (a stateless transformer).

    ``analyzer`` is ``"word"`` or ``"char"``; ``n_bits`` sets 2**n_bits columns. Works for any
    script: characters are Unicode code points and words are runs of letters and digits.
    """

    def __init__(self, analyzer: str = "char", ngram_range: tuple[int, int] = (2, 5), n_bits: int = 18) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.n_bits = n_bits

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
        return self.transform_batch(TextBatch([c.content for c in as_comments(X)]))

    def transform_batch(self, batch: TextBatch) -> sp.csr_matrix:
        """The n-gram counts of a :class:`TextBatch`."""
        rows, cols = self.occurrences(batch)
        return count_matrix(rows, cols, batch.n, self.n_bits)

    def occurrences(self, batch: TextBatch) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every n-gram occurrence in a :class:`TextBatch` (duplicates kept)."""
        ngram_range = (int(self.ngram_range[0]), int(self.ngram_range[1]))
        if self.analyzer == "word":
            return batch.word_ngrams(ngram_range, self.n_bits)
        return batch.char_ngrams(ngram_range, self.n_bits)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


# --- metadata ---------------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|"
                  r"ru|ly|me|co|io|tk|xyz|top|cc|us|uk|de|in|tv|gl|gd|link|site|online|ltd|fr)\b(?:/[^\s]*)?",
                  re.IGNORECASE)
_HOST = re.compile(r"^(?:https?://)?(?:www\.)?([^/:?#\s]+)", re.IGNORECASE)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[a-z]{2,}", re.IGNORECASE)
_WORD = re.compile(r"\w+")

META_FEATURES: tuple[str, ...] = (
    "links",
    "has_link",
    "link_domains",
    "email_in_text",
    "author_is_url",
    "author_has_email",
    "author_url",
    "uppercase_ratio",
    "repetition_ratio",
    "length",
    "digit_ratio",
    "honeypot_filled",
    "user_agent_missing",
    "not_a_comment",
)
"""Names of the metadata columns, in order."""


def link_hosts(text: str) -> list[str]:
    """Host names of the links in a text, lower-cased, ``www.`` removed, in order."""
    hosts = []
    for url in _URL.findall(text):
        match = _HOST.match(url)
        if match:
            hosts.append(match.group(1).lower().rstrip("."))
    return hosts


def _link_row(c: Comment) -> list[float]:
    text = c.content
    hosts = link_hosts(text) if "." in text else []
    author = c.author or ""
    return [
        math.log1p(len(hosts)),
        1.0 if hosts else 0.0,
        math.log1p(len(set(hosts))),
        1.0 if "@" in text and _EMAIL.search(text) else 0.0,
        1.0 if author and ("://" in author or link_hosts(author)) else 0.0,
        1.0 if "@" in author and _EMAIL.search(author) else 0.0,
        1.0 if c.author_url else 0.0,
    ]


def meta_matrix(comments: Sequence[Comment], batch: TextBatch | None = None) -> np.ndarray:
    """The metadata features (:data:`META_FEATURES`) of comments, one row a comment.

    ``batch`` is the comments' normalised :class:`TextBatch` if one was made already.
    """
    n = len(comments)
    out = np.zeros((n, len(META_FEATURES)))
    if not n:
        return out
    out[:, :7] = [_link_row(c) for c in comments]
    raw = _code_array([c.content.replace("\x00", " ") if "\x00" in c.content else c.content for c in comments])
    doc = np.concatenate(([0], np.cumsum(raw == 0)))[:-1]
    letters = np.bincount(doc, weights=_classes(raw, _ALPHA), minlength=n + 1)[:n]
    upper = np.bincount(doc, weights=_classes(raw, _UPPER), minlength=n + 1)[:n]
    digits = np.bincount(doc, weights=_classes(raw, _DIGIT_CHAR), minlength=n + 1)[:n]
    length = np.bincount(doc, minlength=n + 1)[:n] - 1.0  # minus the separator
    out[:, 7] = np.where(letters >= 5, upper / np.maximum(letters, 1), 0.0)
    out[:, 8] = (batch if batch is not None else TextBatch([c.content for c in comments])).repetition()
    out[:, 9] = np.log1p(length) / 10.0
    out[:, 10] = np.where(length > 0, digits / np.maximum(length, 1), 0.0)
    out[:, 11:] = [
        [float(c.honeypot_filled), float(c.user_ip is not None and not c.user_agent),
         0.0 if c.type in _COMMENT_TYPES else 1.0]
        for c in comments
    ]
    return out


_COMMENT_TYPES = frozenset({"comment", "reply", "forum-post", "message", ""})


class MetadataFeatures(TransformerMixin, BaseEstimator):
    """Numbers about a comment beyond its words: links, author fields, case, repetition, length, bot signs.

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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


# --- weighting --------------------------------------------------------------------------


class OccurrenceTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF whose l2 norm counts each n-gram occurrence: value = count * idf / sqrt(sum(count * idf**2)).

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
