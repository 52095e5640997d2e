"""Training and evaluation as library functions: spamguard.local.train / evaluate / metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _localdata import synthetic

from spamguard import Comment, LocalModel
from spamguard.dumps import Record
from spamguard.local import SpamClassifier, evaluate, metrics, train
from spamguard.local._estimator import DEFAULT_PRIORS
from spamguard.local._files import sha256_file


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
    named_url = Comment(content=plain.content, author="http://blog.example")

    def log_odds(comment):
        p = model.scores([comment])[0]
        return np.log(p / (1 - p))

    assert log_odds(with_site) - log_odds(plain) == pytest.approx(DEFAULT_PRIORS["author_url"], abs=1e-9)
    assert log_odds(named_url) - log_odds(plain) == pytest.approx(DEFAULT_PRIORS["author_is_url"], abs=1e-9)


# --- adapting a trained model to a site (base_model) -------------------------------------------

SITE_SPAM = ["Claim your free crypto airdrop now, DM our telegram admin", "Double your bitcoin today, message the "
             "telegram support desk", "Exclusive crypto giveaway: send 0.1 BTC, get 1 BTC back"]
SITE_HAM = ["The diagram in section two made the recursion click for me", "Could you add an example with async "
            "generators?", "I tried this on Python 3.12 and the benchmark numbers look similar"]


def site_records(n: int, seed: int) -> list[Record]:
    import random

    rng = random.Random(seed)
    words = ["really", "today", "friends", "now", "again", "here", "please", "wow", "honestly", "indeed"]
    rows = []
    for i in range(n):
        spam = i % 2 == 0
        text = f"{rng.choice(SITE_SPAM if spam else SITE_HAM)} {rng.choice(words)} {rng.choice(words)}"
        rows.append(Record(position=i + 1, line=i + 1, comment=Comment(content=text), label=spam, source="site.jsonl"))
    return rows


def test_adapting_a_base_model_learns_the_site_from_its_rows_alone():
    """base_model keeps the base model's features and calibration and corrects its weights on the site's rows."""
    base, _ = train(records(80), seed=0, cv=0, estimator=SpamClassifier(n_bits=12))
    site = site_records(60, seed=1)
    adapted, report = train(site, seed=0, cv=3, base_model=base)
    probe = [r.comment for r in site_records(20, seed=2)]
    y = np.array([r.label for r in site_records(20, seed=2)])
    assert report.base_model == "in memory" and report.n == 60 and report.cv_folds == 3
    assert adapted.calibration == base.calibration
    base_idf = base.estimator.pipeline_.named_steps["features"].transformer_list[0][1].named_steps["tfidf"].idf_
    new_idf = adapted.estimator.pipeline_.named_steps["features"].transformer_list[0][1].named_steps["tfidf"].idf_
    np.testing.assert_array_equal(new_idf, base_idf)
    assert metrics(y, adapted.scores(probe), adapted.threshold)["f1"] == 1.0
    assert metrics(y, base.scores(probe), base.threshold)["f1"] < 1.0
    # the base model itself is left as it was
    np.testing.assert_array_equal(base.scores(probe), train(records(80), seed=0, cv=0,
                                                             estimator=SpamClassifier(n_bits=12))[0].scores(probe))


def test_adapted_model_is_one_weight_per_feature_and_saves_like_any_model(tmp_path):
    """The adapted model compiles to the same scorer arithmetic, saves, loads and scores the same."""
    base, _ = train(records(80), seed=0, cv=0, estimator=SpamClassifier(n_bits=12))
    adapted, _ = train(site_records(40, seed=1), seed=0, cv=0, base_model=base)
    probe = [r.comment for r in site_records(10, seed=3)]
    z, _ = adapted._scorer.decision(probe)
    np.testing.assert_allclose(z, adapted.estimator.pipeline_.decision_function(probe), rtol=0, atol=1e-9)
    adapted.save(tmp_path / "site.joblib")
    np.testing.assert_array_equal(LocalModel.load(tmp_path / "site.joblib").scores(probe), adapted.scores(probe))


def test_adapting_is_deterministic_and_strength_keeps_it_near_the_base():
    """The same rows and seed give the same model; a high strength stays nearer the base model's scores."""
    base, _ = train(records(80), seed=0, cv=0, estimator=SpamClassifier(n_bits=12))
    site = site_records(40, seed=1)
    probe = [r.comment for r in site_records(20, seed=2)]
    a, _ = train(site, seed=5, cv=2, base_model=base)
    b, _ = train(site, seed=5, cv=2, base_model=base)
    np.testing.assert_array_equal(a.scores(probe), b.scores(probe))
    near, _ = train(site, seed=5, cv=0, base_model=base, strength=100.0)
    far, _ = train(site, seed=5, cv=0, base_model=base, strength=0.01)
    moved_near = np.abs(near.scores(probe) - base.scores(probe)).mean()
    moved_far = np.abs(far.scores(probe) - base.scores(probe)).mean()
    assert moved_near < moved_far


def test_base_model_can_be_a_path_or_default(tmp_path):
    """base_model takes a model file's path, or "default" for the shipped model."""
    base, _ = train(records(80), seed=0, cv=0, estimator=SpamClassifier(n_bits=12))
    base.save(tmp_path / "base.joblib")
    _, report = train(site_records(20, seed=1), cv=0, base_model=tmp_path / "base.joblib")
    assert report.base_model == str(tmp_path / "base.joblib")
    model, report = train(site_records(20, seed=1), cv=0, base_model="default")
    assert report.base_model == "default"
    assert model.check("Claim your free crypto airdrop now, DM our telegram admin").spam


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"base_model": "default", "estimator": SpamClassifier()}, "not both"),
    ({"base_model": 42}, "base_model must be"),
    ({"base_model": "default", "strength": 0}, "strength must be a positive number"),
])
def test_bad_adaptation_arguments_are_refused(kwargs, message):
    """Conflicting or malformed adaptation arguments raise with a message that says what to give."""
    with pytest.raises((ValueError, TypeError), match=message):
        train(site_records(20, seed=1), cv=0, **kwargs)


def test_train_files_writes_the_model_with_its_manifest(tmp_path):
    """train_files reads dump files, skips bad rows (reported to on_reject) and writes the manifest a CLI run writes."""
    from spamguard.local import train_files

    path = tmp_path / "site.tsv"
    rows = site_records(30, seed=1)
    path.write_text("".join(f"{'spam' if r.label else 'ham'}\t{r.comment.content}\n" for r in rows) + "maybe\tx\n")
    rejects = []
    done = train_files([path], tmp_path / "m.joblib", cv=2, seed=4, base_model="default", on_reject=rejects.append)
    assert done.rejected == 1 and len(rejects) == 1
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert manifest == done.manifest
    assert manifest["training_data"] == [{"file": str(path), "rows": 30, "spam": 15, "sha256": sha256_file(path)}]
    assert (manifest["seed"], manifest["rows"], manifest["rejected_rows"]) == (4, 30, 1)
    assert manifest["base_model"]["model"] == "default" and len(manifest["base_model"]["sha256"]) == 64
    assert LocalModel.load(tmp_path / "m.joblib").threshold == done.model.threshold


def test_format_metrics_prints_every_figure():
    """format_metrics gives the lines train and evaluate print; None reads 'n/a'."""
    from spamguard.local import format_metrics

    text = format_metrics(metrics([True, False, True, False], [0.9, 0.2, 0.4, 0.1], 0.5))
    assert text.splitlines() == [
        "  n 4  accuracy 0.7500  precision 1.0000  recall 0.5000",
        "  f1 0.6667  mcc 0.5774  roc_auc 1.0000",
        "  confusion: tn 2  fp 0  fn 1  tp 1",
    ]
    assert format_metrics(None) == "  n/a (needs both spam and ham)"
