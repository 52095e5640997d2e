"""Hashed word and character n-grams of texts, computed with numpy alone.

The n-gram hashing runs over a whole batch at once (a polynomial rolling hash of Unicode code
points), so it works for any script and is fast. Both the scikit-learn transformers
(:mod:`._features`, used in training) and the compiled scorer (used to judge comments, with
no scikit-learn import) call these functions, so they see exactly the same features.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..comment import Comment

__all__ = [
    "TextBatch",
    "as_comments",
    "normalize_text",
    "phrase_column",
]

# The words the hasher sees, as a Python pattern: letters, digits, underscore, combining marks.
PY_WORD = re.compile(r"[\w\u0300-\u036f]+")

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
# What the normalising patterns \d and \s match in the BMP (found by the patterns themselves).
_DECIMAL = np.zeros(0x10000, dtype=bool)
_SPACE_CHAR = np.zeros(0x10000, dtype=bool)
_DECIMAL[[m.start() for m in _DIGIT.finditer("".join(_BMP))]] = True
_SPACE_CHAR[[m.start() for m in re.finditer(r"\s", "".join(_BMP))]] = True
del _BMP


SMALL_BATCH = 2
"""Batches this small take plain-Python paths where numpy's per-call cost would dominate (same results)."""
_FEW_WORDS = 20  # words up to which a small batch's word n-grams are hashed in plain Python


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    """A pattern for the words :meth:`TextBatch.words` finds: runs of the BMP code points ``_WORD_CHAR`` marks."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], _WORD_CHAR, [False])).astype(np.int8)))
    starts, ends = edges[::2].tolist(), edges[1::2].tolist()
    ranges = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b - 1))}" for a, b in zip(starts, ends, strict=True))
    return re.compile(f"[{ranges}]+")


def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """P**i and P**-i modulo 2**64 for i < ``size``, read only."""
    tables = []
    with np.errstate(over="ignore"):
        for base in (_P, _P_INV):
            steps = np.full(size, base, dtype=np.uint64)
            steps[0] = 1
            table = np.cumprod(steps, dtype=np.uint64)
            table.flags.writeable = False
            tables.append(table)
    return tables[0], tables[1]


_POWERS = _power_tables(1 << 16)
_KEPT_POWERS = 1 << 21  # tables up to this long are kept (2 x 16 MiB); longer ones are made per batch


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_power_tables` of at least ``n``: kept between batches, grown by doubling."""
    global _POWERS
    if _POWERS[0].shape[0] < n:
        size = max(n, 2 * _POWERS[0].shape[0])
        if size > _KEPT_POWERS:
            return _power_tables(n)
        _POWERS = _power_tables(size)
    return _POWERS


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
    return _codes_of("\x00".join(texts) + "\x00")


def _codes_of(joined: str) -> np.ndarray:
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


def _normalized_codes(texts: Sequence[str]) -> np.ndarray:
    """``_codes_of(_normalize_joined(texts))``, with the digit folding and space squeezing done in numpy."""
    joined = " \x00 ".join(t.replace("\x00", " ") if "\x00" in t else t for t in texts)
    lowered = (" " + joined + " \x00").lower()
    codes = np.frombuffer(lowered.encode("utf-32-le"), dtype=np.uint32)
    if int(codes.max()) >= 0x10000:
        return _codes_of(_SPACE.sub(" ", _DIGIT.sub("0", lowered)))  # rare: beyond the tables
    codes = codes.copy()
    codes[_DECIMAL[codes]] = ord("0")
    space = _SPACE_CHAR[codes]
    codes[space] = ord(" ")
    squeezed = space[1:] & space[:-1]  # a space right after a space goes
    if squeezed.any():
        keep = np.ones(codes.shape[0], dtype=bool)
        keep[1:] = ~squeezed
        codes = codes[keep]
    return codes


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
        codes = _normalized_codes(texts)
        self.codes = codes
        sep = codes == 0
        # Position i of these "shifted" arrays is the state before codes[i]; one extra at the end.
        self.seps = np.concatenate(([0], np.cumsum(sep)))
        self.doc = self.seps[:-1]  # the text each position belongs to (separators: the one before)
        with np.errstate(over="ignore"):
            n = codes.shape[0]
            powers, inverses = _powers(n)
            self.pw = powers[:n]
            g = np.cumsum(codes.astype(np.uint64) * inverses[:n], dtype=np.uint64)
        self.g = np.concatenate((np.zeros(1, dtype=np.uint64), g))
        self._words: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._starts: np.ndarray | None = None
        self._ngrams: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._runs: dict[int, np.ndarray] = {}
        self._ends: list[int] | None = None
        self._word_strings: list[list[str]] | None = None

    @property
    def joined(self) -> str:
        """The normalised texts, each followed by a NUL separator (as :func:`_normalize_joined`)."""
        return self.codes.tobytes().decode("utf-32-le")

    def text(self, i: int) -> str:
        """The normalised text ``i``."""
        if self._ends is None:
            self._ends = [-1, *np.flatnonzero(self.codes == 0).tolist()]  # the separators' positions
        return self.codes[self._ends[i] + 1:self._ends[i + 1]].tobytes().decode("utf-32-le")

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
            self._starts = starts
        return self._words

    def word_starts(self) -> np.ndarray:
        """Where each word of :meth:`words` starts in ``codes``."""
        self.words()
        assert self._starts is not None
        return self._starts

    def ngram_hashes(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Hash and text index of every run of ``size`` words inside one text, in order (cached)."""
        if size not in self._ngrams:
            runs = self._runs_of(size)
            word_doc = self.words()[1]
            count = runs.shape[0]
            same = word_doc[:count] == word_doc[size - 1:size - 1 + count]
            self._ngrams[size] = (runs[same], word_doc[:count][same])
        return self._ngrams[size]

    def _runs_of(self, size: int) -> np.ndarray:
        """The hashes of all runs of ``size`` words, across texts' borders too (each size extends the last)."""
        if size not in self._runs:
            word_hash = self.words()[0]
            if size == 1:
                self._runs[1] = word_hash
            else:
                count = max(word_hash.shape[0] - size + 1, 0)
                # uint64 arrays wrap around silently: the hash is a polynomial modulo 2**64
                self._runs[size] = self._runs_of(size - 1)[:count] * np.uint64(_BIGRAM) + word_hash[size - 1:]
        return self._runs[size]

    def word_ngrams(self, ngram_range: tuple[int, int], bits: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every word n-gram occurrence inside one text."""
        if self.n <= SMALL_BATCH and sum(map(len, self.word_strings())) <= _FEW_WORDS:
            return self._word_ngrams_small(ngram_range, bits)
        rows, cols = [], []
        for size in range(ngram_range[0], ngram_range[1] + 1):
            h, doc = self.ngram_hashes(size)
            rows.append(doc)
            cols.append(_column(h, size, bits))
        return _concat(rows), _concat(cols)

    def _word_ngrams_small(self, ngram_range: tuple[int, int], bits: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`word_ngrams` in plain Python (the same rows and columns, in the same order)."""
        hashes = [[_hash_str(word) ^ _WORD_SALT for word in words] for words in self.word_strings()]
        rows: list[int] = []
        cols: list[int] = []
        for size in range(ngram_range[0], ngram_range[1] + 1):
            for row, text_hashes in enumerate(hashes):
                for start in range(len(text_hashes) - size + 1):
                    h = text_hashes[start]
                    for following in text_hashes[start + 1:start + size]:
                        h = (h * _BIGRAM + following) & _MASK
                    rows.append(row)
                    cols.append(_column_int(h, size, bits))
        return np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)

    def word_strings(self) -> list[list[str]]:
        """The words of :meth:`words` as strings, text by text (for small batches, where Python is quicker)."""
        if self._word_strings is None:
            self._word_strings = [_word_pattern().findall(self.text(i)) for i in range(self.n)]
        return self._word_strings

    def repetition(self) -> np.ndarray:
        """Per text: 1 - distinct words / words (0 for texts under 3 words)."""
        if self.n <= SMALL_BATCH:
            return np.array([1.0 - len(set(words)) / len(words) if len(words) >= 3 else 0.0
                             for words in self.word_strings()])
        word_hash, word_doc, _ = self.words()
        total = np.bincount(word_doc, minlength=self.n)
        order = _doc_hash_order(word_doc, word_hash, self.n)
        d, h = word_doc[order], word_hash[order]
        first = np.ones(d.shape[0], dtype=bool)
        first[1:] = (d[1:] != d[:-1]) | (h[1:] != h[:-1])
        distinct = np.bincount(d[first], minlength=self.n)
        out = np.zeros(self.n)
        many = total >= 3
        out[many] = 1.0 - distinct[many] / total[many]
        return out


def _doc_hash_order(doc: np.ndarray, h: np.ndarray, n: int) -> np.ndarray:
    """An order that groups equal (doc, hash) pairs together, docs ascending (like ``np.lexsort((h, doc))``).

    Sorts one 64-bit key of the doc and the (mixed) hash's high bits, which is much faster than a
    lexsort; when two different hashes share a key (very rare) it falls back to the lexsort.
    """
    doc_bits = max(1, (n - 1).bit_length())
    if doc.shape[0] < 2 or doc_bits > 32:
        return np.lexsort((h, doc))
    with np.errstate(over="ignore"):  # mixed first: short words' hashes differ in their low bits only
        key = (doc.astype(np.uint64) << np.uint64(64 - doc_bits)) | ((h * np.uint64(_SPREAD)) >> np.uint64(doc_bits))
    order = np.argsort(key)
    ordered_key, ordered_h = key[order], h[order]
    if ((ordered_key[1:] == ordered_key[:-1]) & (ordered_h[1:] != ordered_h[:-1])).any():
        return np.lexsort((h, doc))
    return order


def phrase_column(phrase: str, bits: int) -> int:
    """The word-n-gram column of a phrase of normalised words joined by single spaces."""
    words = phrase.split(" ")
    h = _hash_str(words[0]) ^ _WORD_SALT
    for word in words[1:]:
        h = (h * _BIGRAM + (_hash_str(word) ^ _WORD_SALT)) & _MASK
    return _column_int(h, len(words), bits)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)
