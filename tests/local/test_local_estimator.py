"""SpamClassifier follows scikit-learn's estimator conventions."""

from __future__ import annotations

import numpy as np
import pytest
from _localdata import synthetic
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from spamguard.local import NgramHasher, SpamClassifier
from spamguard.local._features import OccurrenceTfidf


def test_init_stores_parameters_unchanged_and_clone_works():
    """__init__ only stores its arguments, so get_params/clone round-trip them."""
    est = SpamClassifier(C=3.0, n_bits=12, word_ngram_range=(1, 3))
    assert est.get_params()["C"] == 3.0 and est.get_params()["word_ngram_range"] == (1, 3)
    assert clone(est).get_params() == est.get_params()


def test_fit_returns_self_with_learned_attributes_and_an_inspectable_pipeline():
    """fit returns self; learned attributes end in _; pipeline_ is a fitted Pipeline."""
    comments, labels = synthetic(60)
    est = SpamClassifier(n_bits=12)
    assert est.fit(comments, labels) is est
    assert isinstance(est.pipeline_, Pipeline)
    assert list(est.pipeline_.named_steps) == ["features", "clf"]
    assert est.classes_.tolist() == [False, True]
    assert est.predict(comments[:4]).tolist() == labels[:4]


def test_the_classifier_is_a_linear_svm_by_default_or_a_logistic_regression():
    """loss picks the classifier; both give one weight per feature, and a bad name says what is allowed."""
    comments, labels = synthetic(60)
    svm = SpamClassifier(n_bits=12).fit(comments, labels)
    assert isinstance(svm.pipeline_.named_steps["clf"], LinearSVC)
    logistic = SpamClassifier(n_bits=12, loss="log_loss").fit(comments, labels)
    clf = logistic.pipeline_.named_steps["clf"]
    assert isinstance(clf, LogisticRegression)
    np.testing.assert_allclose(logistic.predict_proba(comments), logistic.pipeline_.predict_proba(comments), atol=1e-12)
    for est in (svm, logistic):
        margin = est.decision_function(comments)
        assert est.predict(comments).tolist() == (margin > 0).tolist()
        assert (est.predict(comments) == np.asarray(labels)).mean() > 0.9
    with pytest.raises(ValueError, match="loss must be one of 'squared_hinge', 'log_loss'"):
        SpamClassifier(n_bits=12, loss="hinge").fit(comments, labels)


def test_an_estimator_pickled_before_loss_existed_loads_as_the_logistic_regression_it_was():
    """Old model files lack loss and random_state; unpickled, they say what they are and can be cloned."""
    comments, labels = synthetic(40)
    est = SpamClassifier(n_bits=12, loss="log_loss").fit(comments, labels)
    state = est.__getstate__()
    del state["loss"], state["random_state"]
    old = SpamClassifier.__new__(SpamClassifier)
    old.__setstate__(state)
    assert old.get_params()["loss"] == "log_loss" and "loss='log_loss'" in repr(old)
    np.testing.assert_array_equal(old.decision_function(comments), est.decision_function(comments))
    assert clone(old).fit(comments, labels).pipeline_.named_steps["clf"].__class__ is LogisticRegression


def test_predicting_before_fit_raises_not_fitted():
    """Prediction starts with check_is_fitted."""
    with pytest.raises(NotFittedError):
        SpamClassifier().predict_proba(["hello"])


def test_a_bare_string_is_refused():
    """A str where a list of texts is expected is a TypeError, in fit and predict."""
    comments, labels = synthetic(40)
    with pytest.raises(TypeError, match="single string"):
        SpamClassifier(n_bits=12).fit("spam spam", [1])
    est = SpamClassifier(n_bits=12).fit(comments, labels)
    with pytest.raises(TypeError, match="single string"):
        est.predict("spam spam")


def test_one_class_is_refused_clearly():
    """Training needs both classes; the message says so."""
    comments, _ = synthetic(10)
    with pytest.raises(ValueError, match="both spam and not-spam"):
        SpamClassifier(n_bits=12).fit(comments, [True] * 10)


def test_fit_is_deterministic():
    """The same data gives the same probabilities."""
    comments, labels = synthetic(80)
    a = SpamClassifier(n_bits=12).fit(comments, labels).predict_proba(comments)
    b = SpamClassifier(n_bits=12).fit(comments, labels).predict_proba(comments)
    np.testing.assert_array_equal(a, b)


def test_prior_weights_apply_only_to_signals_absent_from_training():
    """Columns that are zero in all training rows get the prior; seen columns keep their learned weight."""
    comments, labels = synthetic(60)
    est = SpamClassifier(n_bits=12, meta_priors={"author_is_url": 0.5, "links": 9.0}).fit(comments, labels)
    assert est.priors_applied_ == {"author_is_url": 0.5}
    with pytest.raises(ValueError, match="unknown features"):
        SpamClassifier(n_bits=12, meta_priors={"nope": 1.0}).fit(comments, labels)


def test_prior_weights_are_bounded():
    """A prior, given or default, adds at most PRIOR_CAP log-odds: no unseen signal decides a verdict alone."""
    from spamguard.local._estimator import DEFAULT_PRIORS, PRIOR_CAP

    comments, labels = synthetic(60)
    est = SpamClassifier(n_bits=12, meta_priors={"honeypot_filled": 6.0, "author_url": -3.0}).fit(comments, labels)
    assert est.priors_applied_ == {"honeypot_filled": PRIOR_CAP, "author_url": -PRIOR_CAP}
    assert max(abs(w) for w in DEFAULT_PRIORS.values()) <= PRIOR_CAP


def test_hasher_checks_its_settings():
    """Bad hasher settings are refused at fit, naming the setting."""
    with pytest.raises(ValueError, match="analyzer"):
        NgramHasher(analyzer="bytes").fit(["x"])
    with pytest.raises(ValueError, match="ngram_range"):
        NgramHasher(ngram_range=(3, 2)).fit(["x"])


# scikit-learn's own check suite feeds numeric 2-D arrays. OccurrenceTfidf takes count matrices,
# so it runs the whole suite. SpamClassifier, NgramHasher and MetadataFeatures take comments or
# texts: the suite skips every check for string-input estimators, so the conventions it would
# check are tested above by hand (parameters, fit returns self, fitted attributes, not-fitted
# error, bare-str refusal, determinism, clone).
@parametrize_with_checks([OccurrenceTfidf()])
def test_sklearn_estimator_checks(estimator, check):
    """OccurrenceTfidf passes scikit-learn's estimator checks."""
    check(estimator)
