"""The compiled scorer: the fitted pipeline's arithmetic as flat arrays, with no scikit-learn in the loop.

:meth:`CompiledScorer.from_estimator` reads the hashers' settings, the TF-IDF ``idf_``
vectors, the scaler and the logistic regression's coefficients out of a fitted
:class:`~spamguard.local.SpamClassifier`; :meth:`to_arrays` / :meth:`from_arrays` keep them
in a plain ``.npz`` file (no pickle), so judging comments needs neither scikit-learn nor
unpickling. ``tests/local/test_local_scorer.py`` checks it agrees with
``pipeline_.decision_function`` to 1e-9.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..comment import Comment
from ..policy import HONEYPOT_REASON
from ._hashing import _SALT, _SPREAD, PY_WORD, TextBatch, normalize_text
from ._lexicon import matched_entries
from ._meta import META_FEATURES, SHORTENERS, meta_matrix, prepare, without_links

__all__ = ["CompiledScorer"]

_FEW = 60  # n-gram occurrences up to which plain Python groups them faster than numpy
# 1 + ln(count) for counts 1..64, as numpy computes it (the table _sublinear indexes; it covers
# every count _sublinear_few can meet, as those are at most _FEW).
_TF_TABLE = 1.0 + np.log(np.arange(1, max(64, _FEW) + 1, dtype=np.float64))
_TF = _TF_TABLE.tolist()
_REASON_MIN = 0.25  # log-odds a feature must move the score by to be named
_MAX_REASONS = 4
_NUMBER = re.compile(r"\b0+\b")
_ARRAYS = ("word_idf2", "word_w", "char_idf2", "char_w", "meta_weight")


class CompiledScorer:
    """Scores comments with the arrays of a fitted :class:`~spamguard.local.SpamClassifier`."""

    def __init__(
        self, *, bits: int, word_range: tuple[int, int], char_range: tuple[int, int], intercept: float,
        word_idf2: np.ndarray, word_w: np.ndarray, char_idf2: np.ndarray, char_w: np.ndarray,
        meta_weight: np.ndarray, phrases: Mapping[int, str], sublinear: bool = False,
    ) -> None:
        if meta_weight.shape != (len(META_FEATURES),):
            raise ValueError(f"expected {len(META_FEATURES)} metadata weights, got {meta_weight.shape}")
        self.bits = int(bits)
        self.word_range = (int(word_range[0]), int(word_range[1]))
        self.char_range = (int(char_range[0]), int(char_range[1]))
        self.intercept = float(intercept)
        self.sublinear = bool(sublinear)  # n-gram tf is 1 + ln(count) rather than the count
        # Per column: idf**2 (for the norm) and idf * coefficient (for the dot product).
        self.word_idf2, self.word_w = word_idf2, word_w
        self.char_idf2, self.char_w = char_idf2, char_w
        self.meta_weight = meta_weight
        self.phrases = dict(phrases)
        # (idf**2, idf * coefficient) side by side: one gather fetches both for a column.
        self._word_pair = np.ascontiguousarray(np.stack((word_idf2, word_w), axis=1))
        self._char_pair = np.ascontiguousarray(np.stack((char_idf2, char_w), axis=1))

    @classmethod
    def from_estimator(cls, estimator: Any) -> CompiledScorer:
        """Compile a fitted SpamClassifier."""
        pipeline = estimator.pipeline_
        parts = dict(pipeline.named_steps["features"].transformer_list)
        block_weight = (pipeline.named_steps["features"].transformer_weights or {}).get("meta", 1.0)
        clf = pipeline.named_steps["clf"]
        coef = clf.coef_[0]
        word, char, meta = parts["word"], parts["char"], parts["meta"]
        word_idf, char_idf = word.named_steps["tfidf"].idf_, char.named_steps["tfidf"].idf_
        nw, nc = word_idf.shape[0], char_idf.shape[0]
        return cls(
            bits=word.named_steps["ngrams"].n_bits,
            word_range=tuple(word.named_steps["ngrams"].ngram_range),
            char_range=tuple(char.named_steps["ngrams"].ngram_range),
            intercept=float(clf.intercept_[0]),
            word_idf2=word_idf * word_idf, word_w=word_idf * coef[:nw],
            char_idf2=char_idf * char_idf, char_w=char_idf * coef[nw:nw + nc],
            meta_weight=coef[nw + nc:] * block_weight / meta.named_steps["scale"].scale_,
            phrases=getattr(estimator, "phrases_", {}),
            sublinear=bool(getattr(word.named_steps["ngrams"], "sublinear", False)),
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The scorer as named numpy arrays (for ``np.savez_compressed``; no objects, no pickle)."""
        keys = sorted(self.phrases)
        return {
            "settings": np.array([self.bits, *self.word_range, *self.char_range], dtype=np.int64),
            "intercept": np.array([self.intercept]),
            "sublinear": np.array([int(self.sublinear)], dtype=np.int64),
            **{name: getattr(self, name) for name in _ARRAYS},
            "phrase_columns": np.array(keys, dtype=np.int64),
            "phrase_texts": np.array([self.phrases[k] for k in keys], dtype=np.str_),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> CompiledScorer:
        """Rebuild a scorer from :meth:`to_arrays`' output."""
        try:
            bits, w_lo, w_hi, c_lo, c_hi = (int(v) for v in arrays["settings"])
            return cls(
                bits=bits, word_range=(w_lo, w_hi), char_range=(c_lo, c_hi),
                intercept=float(arrays["intercept"][0]),
                **{name: np.asarray(arrays[name], dtype=np.float64) for name in _ARRAYS},
                phrases=dict(zip(arrays["phrase_columns"].tolist(), arrays["phrase_texts"].tolist(), strict=True)),
                sublinear=bool(arrays["sublinear"][0]) if "sublinear" in arrays else False,
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"not a spamguard scorer file: {exc}") from exc

    # --- scoring --------------------------------------------------------------------------

    def _part(
        self, rows: np.ndarray, cols: np.ndarray, idf2: np.ndarray, w: np.ndarray, n: int, pair: np.ndarray,
    ) -> tuple[np.ndarray, ...]:
        """Per text: the normalised TF-IDF dotted with the coefficients; also the norms.

        ``pair`` holds ``idf2`` and ``w`` as its two columns.
        """
        if self.sublinear and rows.shape[0] <= _FEW:
            return self._sublinear_few(rows, cols, pair, n)
        if self.sublinear:
            key_type = _key_type(n, self.bits)
            keys = (rows.astype(key_type) << key_type(self.bits)) | cols.astype(key_type)
            return self._sublinear(keys, pair, n)
        norms = np.sqrt(np.bincount(rows, weights=idf2[cols], minlength=n))
        norms[norms == 0.0] = 1.0
        return np.bincount(rows, weights=w[cols], minlength=n) / norms, norms

    def _sublinear(
        self, keys: np.ndarray, pair: np.ndarray, n: int, *, sort_in_place: bool = False,
    ) -> tuple[np.ndarray, ...]:
        """:meth:`_part` with tf = 1 + ln(count), from (row << bits | column) keys of the occurrences.

        Keys equal to the key type's largest value stand for no n-gram and are dropped.
        ``sort_in_place`` lets it sort ``keys`` itself rather than a copy.
        """
        # Group the occurrences per distinct (text, column); the ignored keys sort last.
        if sort_in_place:
            keys.sort()
            ordered = keys
        else:
            ordered = np.sort(keys)
        ordered = ordered[:int(np.searchsorted(ordered, np.iinfo(ordered.dtype).max))]
        keys, counts = _group_sorted(ordered)
        bits = keys.dtype.type(self.bits)
        rows = (keys >> bits).astype(np.intp)
        cols = (keys & keys.dtype.type((1 << self.bits) - 1)).astype(np.intp)
        # 1 + ln(count) looked up by count (the same floats as computing it per entry, faster)
        most = int(counts.max(initial=1))
        table = _TF_TABLE if most <= _TF_TABLE.shape[0] else 1.0 + np.log(np.arange(1, most + 1, dtype=np.float64))
        tf = table[counts - 1]
        both = np.take(pair, cols, axis=0)
        norms = np.sqrt(np.bincount(rows, weights=tf * both[:, 0], minlength=n))
        norms[norms == 0.0] = 1.0
        return np.bincount(rows, weights=tf * both[:, 1], minlength=n) / norms, norms

    def _sublinear_few(self, rows: np.ndarray, cols: np.ndarray, pair: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
        """:meth:`_sublinear` for a few occurrences (one comment's words), in plain Python.

        The same floating-point operations in the same order (distinct (text, column) pairs
        ascending, tf from the same table), so the same results to the last bit, without
        numpy's cost per call.
        """
        counts: dict[tuple[int, int], int] = {}
        for key in zip(rows.tolist(), cols.tolist(), strict=True):
            counts[key] = counts.get(key, 0) + 1
        squares = [0.0] * n
        dots = [0.0] * n
        for (row, col), count in sorted(counts.items()):
            tf = _TF[count - 1]  # a count is at most _FEW, within the table
            idf2, w = pair[col].tolist()
            squares[row] += tf * idf2
            dots[row] += tf * w
        norms = np.sqrt(np.array(squares))
        norms[norms == 0.0] = 1.0
        return np.array(dots) / norms, norms

    def _char_part(self, batch: TextBatch, n: int) -> np.ndarray:
        """The character n-grams' share of the log-odds (what :meth:`_part` gives for
        ``batch.char_ngrams``), hashing straight into grouping keys."""
        if not self.sublinear:
            rows, cols = batch.char_ngrams(self.char_range, self.bits)
            return self._part(rows, cols, self.char_idf2, self.char_w, n, self._char_pair)[0]
        key_type = _key_type(n, self.bits)
        ignored = key_type(np.iinfo(key_type).max)
        g, pw, seps, total = batch.g, batch.pw, batch.seps, batch.codes.shape[0]
        sizes = [size for size in range(self.char_range[0], self.char_range[1] + 1) if size <= total]
        if not sizes:
            return np.zeros(n)
        doc_keys = batch.doc.astype(key_type) << key_type(self.bits)
        # One key array for all sizes and one scratch hash array: few large allocations (each
        # fresh one costs page faults), the keys are sorted in place.
        keys = np.empty(sum(total - size + 1 for size in sizes), dtype=key_type)
        h = np.empty(total, dtype=np.uint64)
        crosses = np.empty(total, dtype=bool)
        at = 0
        with np.errstate(over="ignore"):
            for size in sizes:
                m = total - size + 1  # n-grams starting at 0..m-1 (the same hashes as char_ngrams)
                hm, key = h[:m], keys[at:at + m]
                np.subtract(g[size:size + m], g[:m], out=hm)
                hm *= pw[size - 1:size - 1 + m]
                hm ^= np.uint64((size * _SALT) & ((1 << 64) - 1))
                hm *= np.uint64(_SPREAD)
                hm >>= np.uint64(64 - self.bits)
                np.copyto(key, hm, casting="unsafe")
                key |= doc_keys[:m]
                np.not_equal(seps[size:size + m], seps[:m], out=crosses[:m])
                key[crosses[:m]] = ignored  # crosses into the next text
                at += m
        return self._sublinear(keys, self._char_pair, n, sort_in_place=True)[0]

    def decision(self, comments: Sequence[Comment], *, explain: bool = False) -> tuple[np.ndarray, Any]:
        """Log-odds of spam for each comment, and (with ``explain``) what :meth:`reasons` needs."""
        n = len(comments)
        prepared = prepare(comments)
        batch = prepared.batch
        word_rows, word_cols = batch.word_ngrams(self.word_range, self.bits)
        word_z, word_norms = self._part(word_rows, word_cols, self.word_idf2, self.word_w, n, self._word_pair)
        char_z = self._char_part(batch, n)
        meta = meta_matrix(comments, prepared)
        meta_contrib = meta * self.meta_weight
        z = word_z + char_z + meta_contrib.sum(axis=1) + self.intercept
        if not explain:
            return z, None
        return z, (prepared, word_rows, word_cols, word_norms, meta, meta_contrib)

    # --- reasons --------------------------------------------------------------------------

    def reasons(self, comments: Sequence[Comment], state: Any, rows: np.ndarray,
                scale: float = 1.0) -> list[tuple[str, ...]]:
        """For each comment, the few features that pushed its score up most (toward spam), strongest first.

        ``state`` comes from :meth:`decision` on a batch and ``rows`` says which of its rows
        ``comments`` are. ``scale`` turns the classifier's margin into log-odds (the slope of
        the model's Platt scaling), so a feature is named when it moves the calibrated
        log-odds by at least ``_REASON_MIN``.
        """
        least = _REASON_MIN / scale if scale > 0 else _REASON_MIN
        prepared, word_rows, word_cols, word_norms, meta, meta_contrib = state
        batch = prepared.batch
        if not len(rows):
            return []
        wanted = np.zeros(batch.n, dtype=bool)
        wanted[rows] = True
        keep = wanted[word_rows]
        word_rows, word_cols = word_rows[keep], word_cols[keep]
        # Word n-grams that moved the score enough toward the verdict (summed over repeats).
        pushed = self.word_w[word_cols] / word_norms[word_rows]
        found: dict[tuple[int, int], tuple[float, int]] = {}
        ks = np.flatnonzero(pushed >= least / 4)  # (plain Python values: no numpy scalars a row)
        for row, col, value in zip(word_rows[ks].tolist(), word_cols[ks].tolist(), pushed[ks].tolist(), strict=True):
            key = (row, col)
            found[key] = (value, found.get(key, (0.0, 0))[1] + 1)
        by_row: dict[int, list[tuple[float, str]]] = {}
        for (row, col), (single, count) in found.items():
            weight = single * (1.0 + math.log(count) if self.sublinear else count)
            phrase = self.phrases.get(col)
            if phrase is not None and weight >= least:
                by_row.setdefault(row, []).append((weight, phrase))
        # The metadata columns that pushed each wanted row enough, found for all rows at once.
        meta_hits: dict[int, list[tuple[int, float, float]]] = {}
        hit_rows, hit_cols = np.nonzero(meta_contrib[rows] >= least)
        if len(hit_rows):
            at = rows[hit_rows]
            for i, j, contrib, value in zip(at.tolist(), hit_cols.tolist(), meta_contrib[at, hit_cols].tolist(),
                                            meta[at, hit_cols].tolist(), strict=True):
                meta_hits.setdefault(i, []).append((j, contrib, value))
        out = []
        for i, comment in zip(rows.tolist(), comments, strict=True):
            reasons: list[tuple[float, str]] = []
            if i in by_row:
                # Only words outside links: "http", "www" or "com" would only repeat the link reasons.
                seen_words = " " + " ".join(PY_WORD.findall(without_links(batch.text(i)))) + " "
                reasons.extend(
                    (weight, _phrase_reason(phrase)) for weight, phrase in by_row[i] if f" {phrase} " in seen_words
                )
            entries: dict[str, list[str]] | None = None  # the lexicon words found, looked up once
            for j, contrib, value in meta_hits.get(i, ()):
                name = META_FEATURES[j]
                if name == "length":
                    continue  # a length on its own explains nothing to a moderator
                if name.endswith("_words"):
                    if entries is None:
                        entries = _entries(batch.text(i), comment.author)
                    reasons.append((contrib, _concept_reason(name, entries.get(name[:-6], []))))
                    continue
                reasons.append((contrib, _meta_reason(name, value, comment, prepared.hosts[i])))
            reasons.sort(key=lambda r: (-r[0], r[1]))
            out.append(_dedupe([text for _, text in reasons])[:_MAX_REASONS])
        return out


def _key_type(n: int, bits: int) -> type[np.unsignedinteger[Any]] | type[np.signedinteger[Any]]:
    """The dtype of (row << bits | column) keys for n rows, its largest value left free as a marker.

    32-bit keys when they fit: sorting them is about twice as fast.
    """
    return np.uint32 if n << bits < 1 << 32 else np.int64


def _group_sorted(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array and how often each occurs (``np.unique``'s counts, leaner)."""
    n = ordered.shape[0]
    first = np.empty(n, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1:] = n - starts[-1:]
    return ordered[starts], counts


def _dedupe(texts: list[str]) -> tuple[str, ...]:
    """Drop repeats, and a word or phrase that another reason already quotes."""
    quoted = {
        q: t for t in texts if not t.startswith(("the word '", "the phrase '")) for q in _QUOTED.findall(t)
    }
    phrases = [t.split("'", 1)[1].rstrip("'") for t in texts if t.startswith("the phrase '")] + list(quoted)
    kept: list[str] = []
    for text in texts:
        if text in kept:
            continue
        if text.startswith(("the word '", "the phrase '")):
            word = text.split("'", 1)[1].rstrip("'")
            if word in quoted or (text.startswith("the word '") and any(word in p.split(" ") for p in phrases)):
                continue  # "the word 'channel'" adds nothing beside "the phrase 'my channel'"
        kept.append(text)
    return tuple(kept)


_QUOTED = re.compile(r"'([^']+)'")


def _phrase_reason(phrase: str) -> str:
    """How a moderator reads a hashed phrase; digits were folded to 0, so numbers are named by length."""
    if set(phrase) <= {"0"}:
        return f"a {len(phrase)}-digit number"
    shown = _NUMBER.sub(lambda m: f"<{len(m.group())}-digit number>", phrase) if "0" in phrase else phrase
    return f"the {'phrase' if ' ' in phrase else 'word'} {shown!r}"


def _entries(text: str, author: str | None) -> dict[str, list[str]]:
    """The lexicon entries in a normalised text and the comment's author name, by concept."""
    found = matched_entries(PY_WORD.findall(text))
    if author:
        for concept, words in matched_entries(PY_WORD.findall(normalize_text(author))).items():
            found.setdefault(concept, []).extend(words)
    return found


def _concept_reason(name: str, words: list[str]) -> str:
    """How a moderator reads a concept column: what it is about and the words that were found."""
    label = _LABELS[name]
    shown = list(dict.fromkeys(words))
    if not shown:
        return label
    quoted = ", ".join(repr(w) for w in shown[:3]) + (", ..." if len(shown) > 3 else "")
    return f"{label}: {quoted}"


def _meta_reason(name: str, value: float, comment: Comment, links: list[str]) -> str:
    """How a moderator reads a metadata feature; ``links`` are the text's link hosts (safe links left out)."""
    if name in ("links", "has_link"):
        return f"{len(links)} link{'s' if len(links) != 1 else ''}" if links else "no links"
    if name in ("link_domains", "hidden_links"):
        hosts = sorted({h for h in links if name == "link_domains" or h in SHORTENERS})
        shown = ", ".join(hosts[:3]) + (", ..." if len(hosts) > 3 else "")
        return f"links to {shown}" if hosts else "no links"
    if name in _LABELS:
        return _LABELS[name]
    if name == "not_a_comment":
        return f"comment type is {comment.type!r}"
    if name == "uppercase_ratio":
        return f"{round(value * 100)}% capital letters"
    if name == "repetition_ratio":
        return f"repeated words ({round(value * 100)}% repeats)"
    if name == "digit_ratio":
        return f"many digits ({round(value * 100)}% of the text)"
    if name == "length":
        return f"length ({round(math.expm1(value * 10))} characters)"
    return name.replace("_", " ")


_LABELS = {
    "email_in_text": "an e-mail address in the text",
    "author_is_url": "author name is a URL",
    "author_has_email": "author name holds an e-mail address",
    "author_url": "author gave a web site",
    "honeypot_filled": HONEYPOT_REASON,
    "user_agent_missing": "no browser user agent was sent",
    "safe_links": "links to documentation or this site",
    "handles": "@handles to contact",
    "hashtags": "hashtags",
    "phone_numbers": "a phone number",
    "money_amounts": "sums of money",
    "money_words": "words about money",
    "crypto_words": "words about crypto or trading",
    "earn_words": "words about earnings or investing",
    "contact_words": "asks to be contacted elsewhere",
    "prize_words": "words about prizes or free offers",
    "pharma_words": "words about pills or medicine",
    "adult_words": "words about sex or dating",
    "support_words": "words of support-number spam",
    "promo_words": "promotion words",
    "testimony_words": "testimonial or recovery-scam words",
    "disguised": "disguised words or links (look-alike letters, spaced letters)",
    "no_letters": "no words, only numbers or symbols",
}
