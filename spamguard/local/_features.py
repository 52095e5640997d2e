"""Features of a comment for the local model: hashed word and character n-grams, and metadata.

The n-gram hashing is done with numpy over a whole batch at once (a polynomial rolling hash
of Unicode code points), so it works for any script and is fast; the same functions serve the
scikit-learn :class:`~sklearn.pipeline.Pipeline` and the compiled scorer, which therefore see
exactly the same features.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from ..comment import Comment

__all__ = [
    "META_FEATURES",
    "MetadataFeatures",
    "NgramHasher",
    "as_comments",
    "char_counts",
    "meta_matrix",
    "normalize_text",
    "word_counts",
    "phrase_bucket",
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


def normalize_text(text: str) -> str:
    """Lower-case, digits folded to ``0``, runs of white space to one space, padded with spaces."""
    text = _DIGIT.sub("0", text.replace("\x00", " ").lower())
    return " " + _SPACE.sub(" ", text).strip() + " "


# --- hashing ----------------------------------------------------------------------------

_MASK = (1 << 64) - 1
_P = 0x100000001B3  # FNV prime: odd, so invertible modulo 2**64
_P_INV = pow(_P, -1, 1 << 64)
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_LEN_SALT = 0x9E3779B97F4A7C15
_BIGRAM = 0xD6E8FEB86659FD93
_WORD_SALT = 0xA0761D6478BD642F

# Code points that are part of words (letters, digits, underscore, combining marks) in the BMP.
_WORD_CHAR = np.array(
    [chr(i).isalnum() or chr(i) == "_" or (0x300 <= i <= 0x36F) for i in range(0x10000)], dtype=bool
)


def _mix(h: np.ndarray) -> np.ndarray:
    """A splitmix64-style finaliser over uint64 arrays (wrapping arithmetic)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(_MIX1)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(_MIX2)
    return h ^ (h >> np.uint64(31))


def _mix_int(h: int) -> int:
    h ^= h >> 30
    h = (h * _MIX1) & _MASK
    h ^= h >> 27
    h = (h * _MIX2) & _MASK
    return h ^ (h >> 31)


def _codes(texts: Sequence[str]) -> np.ndarray:
    """All texts' code points in one array, each text followed by a 0 separator."""
    joined = "\x00".join(texts) + "\x00"
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _prefix(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prefix sums G and powers Pw so that hash(codes[l..r]) = (G[r] - G[l-1]) * Pw[r]."""
    n = codes.shape[0]
    with np.errstate(over="ignore"):
        pw = np.full(n, _P, dtype=np.uint64)
        pw[0] = 1
        pw = np.cumprod(pw, dtype=np.uint64)
        inv = np.full(n, _P_INV, dtype=np.uint64)
        inv[0] = 1
        inv = np.cumprod(inv, dtype=np.uint64)
        g = np.cumsum(codes * inv, dtype=np.uint64)
    return g, pw


def _segment_hash(g: np.ndarray, pw: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Hashes of the segments codes[start..end] (inclusive), salted with their length."""
    with np.errstate(over="ignore"):
        before = np.where(start > 0, g[np.maximum(start - 1, 0)], np.uint64(0))
        h = (g[end] - before) * pw[end]
        length = (end - start + 1).astype(np.uint64)
        return _mix(h ^ (length * np.uint64(_LEN_SALT)))


def _hash_str(text: str) -> int:
    """The hash :func:`_segment_hash` gives the segment ``text`` (pure Python, for explanations)."""
    h = 0
    for ch in text:
        h = (h * _P + ord(ch)) & _MASK
    return _mix_int(h ^ ((len(text) * _LEN_SALT) & _MASK))


def _bucket(h: np.ndarray, bits: int) -> np.ndarray:
    return (h >> np.uint64(64 - bits)).astype(np.int64)


def _doc_index(codes: np.ndarray) -> np.ndarray:
    """For each position, the index of the text it belongs to (separators belong to the text before)."""
    sep = codes == 0
    return np.cumsum(sep) - sep


def char_counts(texts: Sequence[str], ngram_range: tuple[int, int], bits: int) -> sp.csr_matrix:
    """Counts of hashed character n-grams of normalised texts, one row a text."""
    codes = _codes(texts)
    g, pw = _prefix(codes)
    sep_before = np.cumsum(codes == 0)  # separators in codes[0..i]
    doc = _doc_index(codes)
    n = codes.shape[0]
    rows, cols = [], []
    for size in range(ngram_range[0], ngram_range[1] + 1):
        if n < size:
            continue
        start = np.arange(n - size + 1)
        end = start + size - 1
        clean = sep_before[end] - np.where(start > 0, sep_before[np.maximum(start - 1, 0)], 0) == 0
        start, end = start[clean], end[clean]
        rows.append(doc[start])
        cols.append(_bucket(_segment_hash(g, pw, start, end), bits))
    return _count_matrix(rows, cols, len(texts), bits)


def _words(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (inclusive) positions of the words in the code array."""
    is_word = np.zeros(codes.shape[0], dtype=bool)
    bmp = codes < 0x10000
    is_word[bmp] = _WORD_CHAR[codes[bmp].astype(np.int64)]
    edges = np.diff(np.concatenate(([False], is_word, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return starts, ends


def word_counts(texts: Sequence[str], ngram_range: tuple[int, int], bits: int) -> sp.csr_matrix:
    """Counts of hashed word n-grams (words: runs of letters, digits and marks), one row a text."""
    codes = _codes(texts)
    g, pw = _prefix(codes)
    doc = _doc_index(codes)
    starts, ends = _words(codes)
    word_hash = _segment_hash(g, pw, starts, ends) ^ np.uint64(_WORD_SALT)
    word_doc = doc[starts]
    rows, cols = [], []
    lo, hi = ngram_range
    current = word_hash
    for size in range(1, hi + 1):
        if size > 1:
            count = word_hash.shape[0] - size + 1
            if count <= 0:
                break
            with np.errstate(over="ignore"):
                current = _mix(current[:count] * np.uint64(_BIGRAM) + word_hash[size - 1:])
        if size >= lo:
            same = word_doc[: current.shape[0]] == word_doc[size - 1:]
            rows.append(word_doc[: current.shape[0]][same])
            cols.append(_bucket(current[same], bits))
    return _count_matrix(rows, cols, len(texts), bits)


def phrase_bucket(phrase: str, bits: int) -> int:
    """The word-n-gram bucket of a phrase of already normalised words joined by single spaces."""
    words = phrase.split(" ")
    h = _hash_str(words[0]) ^ _WORD_SALT
    for word in words[1:]:
        h = _mix_int((h * _BIGRAM + (_hash_str(word) ^ _WORD_SALT)) & _MASK)
    return h >> (64 - bits)


def _count_matrix(rows: list[np.ndarray], cols: list[np.ndarray], n_docs: int, bits: int) -> sp.csr_matrix:
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(r.shape[0], dtype=np.float64), (r, c)), shape=(n_docs, 1 << bits))
    matrix.sum_duplicates()
    matrix.sort_indices()
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
        texts = [normalize_text(c.content) for c in as_comments(X)]
        return self.transform_texts(texts)

    def transform_texts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The n-gram counts of already normalised texts (see :func:`normalize_text`)."""
        if self.analyzer == "word":
            return word_counts(texts, tuple(self.ngram_range), self.n_bits)  # type: ignore[arg-type]
        return char_counts(texts, tuple(self.ngram_range), self.n_bits)  # type: ignore[arg-type]

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


def _meta_row(c: Comment) -> list[float]:
    text = c.content
    hosts = link_hosts(text)
    letters = sum(ch.isalpha() for ch in text)
    upper = sum(ch.isupper() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    words = _WORD.findall(text.lower())
    author = c.author or ""
    return [
        math.log1p(len(hosts)),
        1.0 if hosts else 0.0,
        math.log1p(len(set(hosts))),
        1.0 if _EMAIL.search(text) else 0.0,
        1.0 if author and (link_hosts(author) or "://" in author) else 0.0,
        1.0 if author and _EMAIL.search(author) else 0.0,
        1.0 if c.author_url else 0.0,
        upper / letters if letters >= 5 else 0.0,
        1.0 - len(set(words)) / len(words) if len(words) >= 3 else 0.0,
        math.log1p(len(text)) / 10.0,
        digits / len(text) if text else 0.0,
        1.0 if c.honeypot_filled else 0.0,
        1.0 if c.user_ip is not None and not c.user_agent else 0.0,
        0.0 if c.type in ("comment", "reply", "forum-post", "message", "") else 1.0,
    ]


def meta_matrix(comments: Iterable[Comment]) -> np.ndarray:
    """The metadata features (:data:`META_FEATURES`) of comments, one row a comment."""
    rows = [_meta_row(c) for c in comments]
    if not rows:
        return np.zeros((0, len(META_FEATURES)))
    return np.asarray(rows, dtype=np.float64)


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
        """The metadata matrix, one row a comment."""
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
