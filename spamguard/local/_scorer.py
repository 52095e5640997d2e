"""The compiled scorer: the fitted pipeline's arithmetic without scikit-learn's per-call overhead.

It reads the fitted hashers' settings, the TF-IDF ``idf_`` vectors, the scaler and the
logistic regression's coefficients out of a :class:`SpamClassifier` and computes the same
log-odds with a handful of numpy operations per batch. ``tests/test_local_scorer.py`` checks
it agrees with ``pipeline_.decision_function`` to 1e-9.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..comment import Comment
from ._estimator import _PY_WORD, SpamClassifier
from ._features import META_FEATURES, TextBatch, link_hosts, meta_matrix

__all__ = ["CompiledScorer"]

_REASON_MIN = 0.25  # log-odds a feature must move the score by to be named
_MAX_REASONS = 4
_NUMBER = re.compile(r"\b0+\b")


class CompiledScorer:
    """Scores comments with the arrays of a fitted :class:`SpamClassifier`."""

    def __init__(self, estimator: SpamClassifier) -> None:
        pipeline = estimator.pipeline_
        parts = dict(pipeline.named_steps["features"].transformer_list)
        clf = pipeline.named_steps["clf"]
        coef = clf.coef_[0]
        self.intercept = float(clf.intercept_[0])
        word, char, meta = parts["word"], parts["char"], parts["meta"]
        self.word_hasher = word.named_steps["ngrams"]
        self.char_hasher = char.named_steps["ngrams"]
        word_idf, char_idf = word.named_steps["tfidf"].idf_, char.named_steps["tfidf"].idf_
        nw, nc = word_idf.shape[0], char_idf.shape[0]
        # Per column: idf**2 (for the norm) and idf * coefficient (for the dot product).
        self.word_idf2, self.word_w = word_idf * word_idf, word_idf * coef[:nw]
        self.char_idf2, self.char_w = char_idf * char_idf, char_idf * coef[nw:nw + nc]
        self.meta_weight = coef[nw + nc:] / meta.named_steps["scale"].scale_
        self.phrases: dict[int, str] = dict(getattr(estimator, "phrases_", {}))

    # --- scoring --------------------------------------------------------------------------

    @staticmethod
    def _part(rows: np.ndarray, cols: np.ndarray, idf2: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
        """Per text: the normalised TF-IDF dotted with the coefficients; also the norms."""
        norms = np.sqrt(np.bincount(rows, weights=idf2[cols], minlength=n))
        norms[norms == 0.0] = 1.0
        return np.bincount(rows, weights=w[cols], minlength=n) / norms, norms

    def decision(self, comments: Sequence[Comment], *, explain: bool = False) -> tuple[np.ndarray, Any]:
        """Log-odds of spam for each comment, and (with ``explain``) what :meth:`reasons` needs."""
        n = len(comments)
        batch = TextBatch([c.content for c in comments])
        word_rows, word_cols = self.word_hasher.occurrences(batch)
        char_rows, char_cols = self.char_hasher.occurrences(batch)
        word_z, word_norms = self._part(word_rows, word_cols, self.word_idf2, self.word_w, n)
        char_z, _ = self._part(char_rows, char_cols, self.char_idf2, self.char_w, n)
        meta = meta_matrix(comments, batch)
        meta_contrib = meta * self.meta_weight
        z = word_z + char_z + meta_contrib.sum(axis=1) + self.intercept
        if not explain:
            return z, None
        return z, (batch, word_rows, word_cols, word_norms, meta, meta_contrib)

    # --- reasons --------------------------------------------------------------------------

    def reasons(self, comments: Sequence[Comment], state: Any, rows: np.ndarray) -> list[tuple[str, ...]]:
        """For each comment, the few features that pushed its score up most (toward spam), strongest first.

        ``state`` comes from :meth:`decision` on a batch and ``rows`` says which of its rows
        ``comments`` are.
        """
        batch, word_rows, word_cols, word_norms, meta, meta_contrib = state
        if not len(rows):
            return []
        wanted = np.zeros(batch.n, dtype=bool)
        wanted[rows] = True
        keep = wanted[word_rows]
        word_rows, word_cols = word_rows[keep], word_cols[keep]
        # Word n-grams that moved the score enough toward the verdict (summed over repeats).
        pushed = self.word_w[word_cols] / word_norms[word_rows]
        found: dict[tuple[int, int], float] = {}
        for k in np.flatnonzero(pushed >= _REASON_MIN / 4).tolist():
            key = (int(word_rows[k]), int(word_cols[k]))
            found[key] = found.get(key, 0.0) + float(pushed[k])
        by_row: dict[int, list[tuple[float, str]]] = {}
        for (row, col), weight in found.items():
            phrase = self.phrases.get(col)
            if phrase is not None and weight >= _REASON_MIN:
                by_row.setdefault(row, []).append((weight, phrase))
        out = []
        for i, comment in zip(rows.tolist(), comments, strict=True):
            reasons: list[tuple[float, str]] = []
            if i in by_row:
                seen_words = " " + " ".join(_PY_WORD.findall(batch.text(i))) + " "
                reasons.extend(
                    (weight, _phrase_reason(phrase)) for weight, phrase in by_row[i] if f" {phrase} " in seen_words
                )
            for j in np.flatnonzero(meta_contrib[i] >= _REASON_MIN).tolist():
                if META_FEATURES[j] == "length":
                    continue  # a length on its own explains nothing to a moderator
                reasons.append((float(meta_contrib[i, j]), _meta_reason(META_FEATURES[j], meta[i, j], comment)))
            reasons.sort(key=lambda r: (-r[0], r[1]))
            out.append(_dedupe([text for _, text in reasons])[:_MAX_REASONS])
        return out


def _dedupe(texts: list[str]) -> tuple[str, ...]:
    """Drop repeats, and a word that a phrase among the reasons already holds."""
    phrases = [t.split("'", 1)[1].rstrip("'") for t in texts if t.startswith("the phrase '")]
    kept: list[str] = []
    for text in texts:
        if text in kept:
            continue
        if text.startswith("the word '"):
            word = text.split("'", 1)[1].rstrip("'")
            if any(word in p.split(" ") for p in phrases):
                continue  # "the word 'channel'" adds nothing beside "the phrase 'my channel'"
        kept.append(text)
    return tuple(kept)


def _phrase_reason(phrase: str) -> str:
    """How a moderator reads a hashed phrase; digits were folded to 0, so numbers are named by length."""
    if set(phrase) <= {"0"}:
        return f"a {len(phrase)}-digit number"
    shown = _NUMBER.sub(lambda m: f"<{len(m.group())}-digit number>", phrase)
    return f"the {'phrase' if ' ' in phrase else 'word'} {shown!r}"


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
