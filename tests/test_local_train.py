"""Training and evaluation as library functions: spamguard.local.train / evaluate / metrics."""

from __future__ import annotations

import numpy as np
import pytest
from _localdata import synthetic

from spamguard import Comment, LocalModel
from spamguard.dumps import Record
from spamguard.local import SpamClassifier, evaluate, metrics, train


def records(n=80, seed=0, source="synthetic.jsonl"):
    comments, labels = synthetic(n, seed)
    return [
        Record(position=i + 1, line=i + 1, comment=c, label=y, source=source)
        for i, (c, y) in enumerate(zip(comments, labels, strict=True))
    ]


def test_train_returns_a_model_and_a_report():
    """train fits a LocalModel and reports rows, sources and cross-validated metrics."""
    model, report = train(records(), seed=0, cv=3, estimator=SpamClassifier(n_bits=12))
    assert (report.n, report.n_spam, report.cv_folds) == (80, 40, 3)
    assert report.sources == {"synthetic.jsonl": {"rows": 80, "spam": 40}}
    assert report.cv_metrics["n"] == 80 and report.cv_metrics["f1"] > 0.9
    assert report.test_metrics is None
    assert model.check_many([r.comment for r in records(6, seed=4)])


def test_cross_validation_calibrates_scores_and_the_manifest_keeps_it(tmp_path):
    """Platt scaling fitted on out-of-fold log-odds is applied to scores and survives save/load."""
    model, report = train(records(), seed=0, cv=3, estimator=SpamClassifier(n_bits=12))
    assert model.calibration == report.calibration != (1.0, 0.0)
    probe = [r.comment for r in records(20, seed=8)]
    z, _ = model._scorer.decision(probe)
    slope, intercept = model.calibration
    np.testing.assert_allclose(model.scores(probe), 1 / (1 + np.exp(-(slope * z + intercept))), rtol=1e-12)
    model.save(tmp_path / "m.joblib")
    loaded = LocalModel.load(tmp_path / "m.joblib")
    assert loaded.calibration == model.calibration
    np.testing.assert_array_equal(loaded.scores(probe), model.scores(probe))


def test_test_size_holds_data_out_and_measures_it():
    """With test_size the held-out share is not trained on and is scored."""
    model, report = train(records(100), seed=1, test_size=0.25, cv=0, estimator=SpamClassifier(n_bits=12))
    assert report.n == 75 and report.test_metrics["n"] == 25
    assert report.cv_metrics is None


def test_same_data_and_seed_give_the_same_predictions():
    """Training is deterministic."""
    data = records(60)
    a, ra = train(data, seed=7, cv=2, estimator=SpamClassifier(n_bits=12))
    b, rb = train(data, seed=7, cv=2, estimator=SpamClassifier(n_bits=12))
    probe = [r.comment for r in records(30, seed=11)]
    np.testing.assert_array_equal(a.scores(probe), b.scores(probe))
    assert ra.cv_metrics == rb.cv_metrics


def test_same_data_and_seed_give_the_same_file_bytes(tmp_path):
    """Training twice and saving gives byte-identical model and scorer files."""
    data = records(60)
    for name in ("a", "b"):
        model, _ = train(data, seed=2, cv=2, estimator=SpamClassifier(n_bits=12))
        model.save(tmp_path / name / "m.joblib", created="fixed")
    for suffix in (".joblib", ".npz", ".json"):
        a = (tmp_path / "a" / f"m{suffix}").read_bytes()
        assert a == (tmp_path / "b" / f"m{suffix}").read_bytes(), suffix


@pytest.mark.parametrize("label", [True, False])
def test_one_class_is_refused(label):
    """Only spam or only ham cannot train a classifier; the error says which."""
    data = [r for r in records(20) if r.label is label]
    with pytest.raises(ValueError, match=f"all 10 labelled comments are {'spam' if label else 'ham'}"):
        train(data)


def test_unlabelled_record_is_refused_with_its_place():
    """A record without a label cannot train; the error names file and line."""
    data = records(10)
    data[3] = Record(position=4, line=4, comment=data[3].comment, label=None, source="x.jsonl")
    with pytest.raises(ValueError, match=r"x\.jsonl:4: the record has no label"):
        train(data)


def test_metrics_of_known_predictions():
    """metrics gives the textbook figures for a small known case."""
    m = metrics([True, True, False, False], [0.9, 0.4, 0.6, 0.1], threshold=0.5)
    assert m["confusion"] == {"tn": 1, "fp": 1, "fn": 1, "tp": 1}
    assert (m["n"], m["accuracy"], m["precision"], m["recall"], m["f1"], m["mcc"]) == (4, 0.5, 0.5, 0.5, 0.5, 0.0)
    assert m["roc_auc"] == 0.75
    assert metrics([True], [0.9])["roc_auc"] is None


def test_evaluate_breaks_down_by_source():
    """evaluate gives overall metrics and one entry per source file."""
    model, _ = train(records(80), cv=0, estimator=SpamClassifier(n_bits=12))
    result = evaluate(model, records(20, seed=3, source="a.csv") + records(10, seed=4, source="b.tsv"))
    assert result["n"] == 30
    assert list(result["files"]) == ["a.csv", "b.tsv"]
    assert [f["n"] for f in result["files"].values()] == [20, 10]


def test_a_prior_adds_its_log_odds_to_the_calibrated_score():
    """Priors are log-odds: train scales them by the Platt slope, whatever units the SVM's margin has."""
    model, _ = train(records(), seed=0, cv=3, estimator=SpamClassifier(n_bits=12))
    assert model.calibration[0] != pytest.approx(1.0, abs=0.05)  # the margin is not log-odds already
    plain = Comment(content="thanks for writing this up")
    with_site = Comment(content=plain.content, author_url="https://example.org")
    named_url = Comment(content=plain.content, author="http://cheap.example")

    def log_odds(comment):
        p = model.scores([comment])[0]
        return np.log(p / (1 - p))

    assert log_odds(with_site) - log_odds(plain) == pytest.approx(0.5, abs=1e-9)
    assert log_odds(named_url) - log_odds(plain) == pytest.approx(2.0, abs=1e-9)
