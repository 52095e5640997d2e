"""The compiled scorer: the fitted pipeline's arithmetic without scikit-learn's per-call overhead.

It reads the fitted hashers' settings, the TF-IDF ``idf_`` vectors, the scaler and the
logistic regression's coefficients out of a :class:`SpamClassifier` and computes the same
log-odds with a handful of numpy operations per batch. ``tests/test_local_scorer.py`` checks
it agrees with ``pipeline_.decision_function`` to 1e-9.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..comment import Comment
from ._estimator import _PY_WORD, SpamClassifier
from ._features import META_FEATURES, char_counts, link_hosts, meta_matrix, normalize_text, word_counts

__all__ = ["CompiledScorer"]

_REASON_MIN = 0.25  # log-odds a feature must move the score by to be named
_MAX_REASONS = 4


class CompiledScorer:
    """Scores comments with the arrays of a fitted :class:`SpamClassifier`."""

    def __init__(self, estimator: SpamClassifier) -> None:
        pipeline = estimator.pipeline_
        union = pipeline.named_steps["features"]
        parts = dict(union.transformer_list)
        coef = pipeline.named_steps["clf"].coef_[0]
        self.intercept = float(pipeline.named_steps["clf"].intercept_[0])
        word, char, meta = parts["word"], parts["char"], parts["meta"]
        self.bits = word.named_steps["ngrams"].n_bits
        self.word_range = tuple(word.named_steps["ngrams"].ngram_range)
        self.char_range = tuple(char.named_steps["ngrams"].ngram_range)
        self.word_idf = word.named_steps["tfidf"].idf_
        self.char_idf = char.named_steps["tfidf"].idf_
        nw, nc = self.word_idf.shape[0], self.char_idf.shape[0]
        self.word_coef = coef[:nw]
        self.char_coef = coef[nw:nw + nc]
        self.meta_weight = coef[nw + nc:] / meta.named_steps["scale"].scale_
        self.phrases: dict[int, str] = dict(getattr(estimator, "phrases_", {}))

    # --- scoring --------------------------------------------------------------------------

    def _tfidf_dot(self, counts: sp.csr_matrix, idf: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the l2-normalised sublinear TF-IDF dotted with ``coef``; and per entry contributions."""
        n = counts.shape[0]
        rows = np.repeat(np.arange(n), np.diff(counts.indptr))
        values = (np.log(counts.data) + 1.0) * idf[counts.indices]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n))
        norms[norms == 0.0] = 1.0
        contrib = values * coef[counts.indices] / norms[rows]
        return np.bincount(rows, weights=contrib, minlength=n), contrib

    def decision(self, comments: Sequence[Comment], *, explain: bool = False) -> tuple[np.ndarray, Any]:
        """Log-odds of spam for each comment, and (with ``explain``) what a reason needs."""
        texts = [normalize_text(c.content) for c in comments]
        words = word_counts(texts, self.word_range, self.bits)  # type: ignore[arg-type]
        chars = char_counts(texts, self.char_range, self.bits)  # type: ignore[arg-type]
        meta = meta_matrix(comments)
        word_z, word_contrib = self._tfidf_dot(words, self.word_idf, self.word_coef)
        char_z, _ = self._tfidf_dot(chars, self.char_idf, self.char_coef)
        meta_contrib = meta * self.meta_weight
        z = word_z + char_z + meta_contrib.sum(axis=1) + self.intercept
        if not explain:
            return z, None
        return z, (texts, words, word_contrib, meta, meta_contrib)

    def probabilities(self, comments: Sequence[Comment]) -> np.ndarray:
        """Probability of spam for each comment."""
        z, _ = self.decision(comments)
        return _sigmoid(z)

    # --- reasons --------------------------------------------------------------------------

    def reasons(self, comments: Sequence[Comment], spam: np.ndarray, state: Any) -> list[tuple[str, ...]]:
        """For each comment, the few features that pushed its score most toward its verdict."""
        texts, words, word_contrib, meta, meta_contrib = state
        sign = np.where(spam, 1.0, -1.0)
        found: list[list[tuple[float, str]]] = [[] for _ in comments]
        # Word n-grams that moved the score enough, toward the verdict.
        rows = np.repeat(np.arange(words.shape[0]), np.diff(words.indptr))
        pushed = word_contrib * sign[rows]
        for k in np.flatnonzero(pushed >= _REASON_MIN / 2):
            phrase = self.phrases.get(int(words.indices[k]))
            if phrase is not None:
                found[rows[k]].append((float(pushed[k]), phrase))
        out = []
        for i, comment in enumerate(comments):
            reasons: list[tuple[float, str]] = []
            if found[i]:
                seen_words = " " + " ".join(_PY_WORD.findall(texts[i])) + " "
                for weight, phrase in found[i]:
                    if f" {phrase} " in seen_words:
                        reasons.append((weight, _phrase_reason(phrase)))
            for j in np.flatnonzero(meta_contrib[i] * sign[i] >= _REASON_MIN):
                if META_FEATURES[j] == "length":
                    continue  # a length on its own explains nothing to a moderator
                reasons.append((float(meta_contrib[i, j] * sign[i]), _meta_reason(META_FEATURES[j], meta[i, j], comment)))
            reasons.sort(key=lambda r: (-r[0], r[1]))
            out.append(_dedupe([text for _, text in reasons])[:_MAX_REASONS])
        return out


def _dedupe(texts: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for text in texts:
        inner = text.split("'", 1)[-1].rstrip("'")
        if any(inner and inner in k for k in kept):
            continue  # "the word 'channel'" adds nothing beside "the phrase 'my channel'"
        kept.append(text)
    return tuple(kept)


def _phrase_reason(phrase: str) -> str:
    if set(phrase) <= {"0"}:
        return f"a {len(phrase)}-digit number"  # digits are folded to 0 before hashing
    if set(phrase) <= {"0", " "}:
        return "numbers"
    return f"the {'phrase' if ' ' in phrase else 'word'} {phrase!r}"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _meta_reason(name: str, value: float, comment: Comment) -> str:
    if name in ("links", "has_link"):
        count = len(link_hosts(comment.content))
        return f"{count} link{'s' if count != 1 else ''}" if count else "no links"
    if name == "link_domains":
        hosts = sorted(set(link_hosts(comment.content)))
        shown = ", ".join(hosts[:3]) + (", ..." if len(hosts) > 3 else "")
        return f"links to {shown}" if hosts else "no links"
    labels = {
        "email_in_text": "an e-mail address in the text",
        "author_is_url": "author name is a URL",
        "author_has_email": "author name holds an e-mail address",
        "author_url": "author gave a web site",
        "honeypot_filled": "the hidden honeypot field was filled in",
        "user_agent_missing": "no browser user agent was sent",
        "not_a_comment": f"comment type is {comment.type!r}",
    }
    if name in labels:
        return labels[name]
    if name == "uppercase_ratio":
        return f"{round(value * 100)}% capital letters"
    if name == "repetition_ratio":
        return f"repeated words ({round(value * 100)}% repeats)"
    if name == "digit_ratio":
        return f"many digits ({round(value * 100)}% of the text)"
    if name == "length":
        return f"length ({round(math.expm1(value * 10))} characters)"
    return name.replace("_", " ")
