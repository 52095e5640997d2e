"""The scikit-learn estimator behind the local model: one inspectable Pipeline that ``fit`` retrains."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from ._features import MetadataFeatures, NgramHasher, OccurrenceTfidf
from ._hashing import PY_WORD, as_comments, normalize_text, phrase_column
from ._meta import META_FEATURES, meta_matrix, prepare

__all__ = ["SpamClassifier"]

_EXPLAINED_PHRASES = 20_000

PRIOR_CAP = 0.75
"""The most, in log-odds, that a prior may add to (or take from) a comment's score.

A signal that no training row shows has no measured weight, only a judgement; on its own it
must not overturn what the words say. At the default cut-off a comment the text puts at 0.2
or below stays below the cut-off after any one capped prior (0.2 is log-odds -1.39; +0.75
gives 0.35), and so do the usual pairs (no user agent and an author URL: +0.75 together).
"""

MIN_CONCEPT_SUPPORT = 30
"""Spam rows a concept lexicon's column must be seen in for its learned weight to stand alone."""

DEFAULT_PRIORS: dict[str, float] = {
    "author_is_url": 0.75,
    "author_has_email": 0.5,
    "author_url": 0.25,
    "honeypot_filled": 0.75,
    "user_agent_missing": 0.5,
    "not_a_comment": 0.5,
}
"""Log-odds weights of metadata signals that the training data never shows (all zero there).

Public spam collections are bare texts: no author URLs, honeypots or user agents. A column
that is zero in every training row would get no weight at all, so a model trained on them
would ignore the signals real comment forms give. Such columns get these prior weights
instead (the directions the Akismet plugin and comparable filters use, sizes bounded by
:data:`PRIOR_CAP`); once training data holds the signal (for example moderator feedback from a
site), the learned weight replaces the prior. A filled honeypot is decided by
:class:`~spamguard.Policy`, not by this weight.
"""


_LOSSES = ("squared_hinge", "log_loss")


class SpamClassifier(ClassifierMixin, BaseEstimator):
    """Spam or not from comments: hashed word and character n-gram TF-IDF plus metadata, a linear classifier.

    ``X`` is a list of :class:`~spamguard.Comment` objects, mappings of comment fields or
    plain texts; ``y`` says spam (1/True) or not (0/False). ``fit`` builds and fits
    ``pipeline_`` (a :class:`~sklearn.pipeline.Pipeline` of the features and the classifier)
    and ``phrases_``, the word n-grams that can be named when explaining a score.

    ``meta_weight`` multiplies the metadata block (links, lures, concept words, ...) before the
    classifier, so its weights are less shrunk than the n-grams' (4 by default: chosen by
    leave-one-source-out F1, since those features carry over to sources the model never saw
    better than words do).

    ``loss`` picks the classifier: ``"squared_hinge"`` (the default) is a linear SVM
    (:class:`~sklearn.svm.LinearSVC`), ``"log_loss"`` a logistic regression. Either way the
    model is one weight per feature, which is what the compiled scorer needs; its margin
    (:meth:`decision_function`) becomes a probability through the Platt scaling that
    :func:`~spamguard.local.train` fits on cross-validated margins. ``random_state`` seeds the
    SVM's coordinate descent: the same data and seed give the same model.
    """

    def __init__(
        self,
        C: float = 1.0,
        word_ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] = (3, 5),
        n_bits: int = 18,
        class_weight: Any = "balanced",
        max_iter: int = 10000,
        meta_priors: dict[str, float] | None = None,
        sublinear_tf: bool = True,
        loss: str = "squared_hinge",
        random_state: int | None = 0,
        meta_weight: float = 4.0,
    ) -> None:
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.n_bits = n_bits
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.meta_priors = meta_priors
        self.sublinear_tf = sublinear_tf
        self.loss = loss
        self.random_state = random_state
        self.meta_weight = meta_weight

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Estimators pickled before ``loss`` and ``random_state`` existed were logistic
        # regressions; give them the settings they were made with, so get_params, repr and
        # clone work on them.
        state.setdefault("loss", "log_loss")
        state.setdefault("random_state", 0)
        state.setdefault("meta_weight", 1.0)  # estimators pickled before it existed had no weighting
        super().__setstate__(state)

    def build_pipeline(self) -> Pipeline:
        """A new, unfitted Pipeline with this estimator's settings."""

        def tfidf(analyzer: str, ngram_range: tuple[int, int]) -> Pipeline:
            return Pipeline([
                ("ngrams", NgramHasher(analyzer, tuple(ngram_range), self.n_bits,  # type: ignore[arg-type]
                                       sublinear=self.sublinear_tf)),
                ("tfidf", OccurrenceTfidf()),
            ])

        weight = getattr(self, "meta_weight", 1.0)
        if not (isinstance(weight, float | int) and weight > 0 and np.isfinite(weight)):
            raise ValueError(f"meta_weight must be a positive number, got {weight!r}")
        features = FeatureUnion([
            ("word", tfidf("word", self.word_ngram_range)),
            ("char", tfidf("char", self.char_ngram_range)),
            ("meta", Pipeline([("extract", MetadataFeatures()), ("scale", MaxAbsScaler())])),
        ], transformer_weights=None if weight == 1.0 else {"meta": float(weight)})
        loss = self.loss
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {', '.join(map(repr, _LOSSES))}, got {loss!r}")
        clf: LinearSVC | LogisticRegression
        if loss == "squared_hinge":
            clf = LinearSVC(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                            random_state=self.random_state)
        else:
            clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        return Pipeline([("features", features), ("clf", clf)])

    def fit(self, X: Any, y: Any) -> SpamClassifier:
        """Fit the pipeline on comments ``X`` and labels ``y`` (spam = 1); returns ``self``."""
        comments = as_comments(X)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != len(comments):
            raise ValueError(f"y must be one label per comment: got {y.shape} labels for {len(comments)} comments")
        classes = np.unique(y)
        if not len(comments):
            raise ValueError("training needs comments; got none")
        if len(classes) == 1:
            raise ValueError(f"training needs both spam and not-spam examples; all {len(comments)} labels are {y[0]!r}")
        if len(classes) > 2:
            raise ValueError(f"labels must be spam/not spam (two classes), got {classes!r}")
        self.classes_ = classes
        spam = y == classes[1]
        self.pipeline_ = self.build_pipeline().fit(comments, spam.astype(np.int64))
        spam_rows = [c for c, is_spam in zip(comments, spam.tolist(), strict=True) if is_spam]
        self.meta_support_ = (meta_matrix(spam_rows) != 0).sum(axis=0)
        self.apply_priors()
        self.phrases_ = self._phrases(comments)
        self.n_features_in_ = 1
        return self

    def apply_priors(self, scale: float = 1.0) -> dict[str, float]:
        """Give metadata columns that are zero in all training rows their prior weight; returns what it set.

        ``fit`` calls this. The priors are log-odds, bounded to +-:data:`PRIOR_CAP`; ``scale``
        converts them to the units of the classifier's margin: :func:`~spamguard.local.train`
        calls it again with ``1 / slope`` of its Platt scaling, so a prior adds exactly its
        log-odds to the calibrated score.
        """
        check_is_fitted(self, "pipeline_")
        if not (isinstance(scale, float | int) and scale > 0 and np.isfinite(scale)):
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        priors = DEFAULT_PRIORS if self.meta_priors is None else self.meta_priors
        unknown = set(priors) - set(META_FEATURES)
        if unknown:
            raise ValueError(f"meta_priors names unknown features {sorted(unknown)}; known: {list(META_FEATURES)}")
        features = self.pipeline_.named_steps["features"]
        meta = features.transformer_list[2][1]
        seen = meta.named_steps["scale"].max_abs_ > 0
        scale = scale / (features.transformer_weights or {}).get("meta", 1.0)  # the block's weight multiplies it
        coef = self.pipeline_.named_steps["clf"].coef_
        offset = coef.shape[1] - len(META_FEATURES)
        applied = {}
        for name, weight in priors.items():
            j = META_FEATURES.index(name)
            if not seen[j]:
                bounded = float(np.clip(weight, -PRIOR_CAP, PRIOR_CAP))
                coef[0, offset + j] = bounded * scale
                applied[name] = bounded
        self.priors_applied_ = applied
        self._floor_rare_concepts(coef[0, offset:], meta.named_steps["scale"].scale_)
        return applied

    def _floor_rare_concepts(self, coef: np.ndarray, scale: np.ndarray) -> None:
        """Concepts that few training spam rows show borrow the typical weight of the concepts that many do.

        The lexicons name spam's subjects from general knowledge; a subject the training data
        barely holds (pills, say) would otherwise get next to no weight. A concept column seen
        in fewer than :data:`MIN_CONCEPT_SUPPORT` spam rows gets at least the median weight (per
        unit) of the concept columns seen in more.
        """
        support = getattr(self, "meta_support_", None)
        if support is None:  # pickled before supports were kept
            return
        concepts = [j for j, name in enumerate(META_FEATURES) if name.endswith("_words")]
        well = [j for j in concepts if support[j] >= MIN_CONCEPT_SUPPORT]
        if not well:
            return
        typical = float(np.median([coef[j] / scale[j] for j in well]))
        floors = {}
        for j in concepts:
            if support[j] < MIN_CONCEPT_SUPPORT and coef[j] < typical * scale[j]:
                coef[j] = typical * scale[j]
                floors[META_FEATURES[j]] = typical
        self.concept_floors_ = floors

    def _phrases(self, comments: list[Any]) -> dict[int, str]:
        """For the most influential word buckets, the commonest training phrase that hashes there."""
        word = self.pipeline_.named_steps["features"].transformer_list[0][1]
        idf = word.named_steps["tfidf"].idf_
        coef = self.pipeline_.named_steps["clf"].coef_[0][: idf.shape[0]]
        weight = np.abs(coef * idf)
        top = set(np.argsort(-weight, kind="stable")[:_EXPLAINED_PHRASES].tolist())
        counts: Counter[tuple[int, str]] = Counter()
        lo, hi = self.word_ngram_range
        for text in prepare(comments).texts:
            words = PY_WORD.findall(normalize_text(text))
            for size in range(lo, hi + 1):
                for i in range(len(words) - size + 1):
                    phrase = " ".join(words[i:i + size])
                    bucket = phrase_column(phrase, self.n_bits)
                    if bucket in top:
                        counts[(bucket, phrase)] += 1
        phrases: dict[int, str] = {}
        for (bucket, phrase), _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1])):
            phrases.setdefault(bucket, phrase)
        return phrases

    def predict_proba(self, X: Any) -> np.ndarray:
        """The logistic of the margin for ``classes_`` (column 1: spam), one row a comment.

        With ``loss="log_loss"`` that is the logistic regression's probability. With the SVM it
        orders comments the same way but is not calibrated: use
        :class:`~spamguard.LocalModel` scores (Platt-scaled by :func:`~spamguard.local.train`)
        where a probability matters.
        """
        spam = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - spam, spam])

    def decision_function(self, X: Any) -> np.ndarray:
        """The margin for spam of each comment: positive means spam (log-odds with ``loss="log_loss"``)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.decision_function(as_comments(X))

    def predict(self, X: Any) -> np.ndarray:
        """The predicted label (one of ``classes_``) for each comment: spam where the margin is positive."""
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.target_tags.single_output = True
        tags.classifier_tags.multi_class = False
        return tags

