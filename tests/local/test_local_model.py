"""LocalModel: loading (with integrity checks), verdicts, reasons, the Classifier protocol."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from _localdata import synthetic

import spamguard
from spamguard import (
    HONEYPOT_REASON,
    Action,
    Classifier,
    Comment,
    ConfigurationError,
    LocalModel,
    ModelIntegrityError,
    Policy,
    Verdict,
)
from spamguard.local import ModelVersionWarning, SpamClassifier, default_model_path
from spamguard.local._estimator import PRIOR_CAP


@pytest.fixture(scope="module")
def small_model():
    comments, labels = synthetic(120)
    return LocalModel(SpamClassifier(n_bits=14).fit(comments, labels), threshold=0.5)


@pytest.fixture()
def saved(small_model, tmp_path):
    path = tmp_path / "m.joblib"
    small_model.save(path, note="test")
    return path


def test_default_model_ships_and_loads():
    """With no path and no SPAMGUARD_MODEL, the model shipped in the package loads and judges."""
    model = LocalModel.load()
    assert model.path == default_model_path()
    assert model.manifest["sha256"] and 0 < model.threshold < 1
    spam = model.check(Comment(content="Check out my channel http://bit.ly/x and subscribe!!!"))
    ham = model.check(Comment(content="I love this song, it reminds me of my childhood"))
    assert (spam.spam, ham.spam) == (True, False)
    assert spam.source == ham.source == "local"
    assert 0.0 <= ham.score < model.threshold <= spam.score <= 1.0


def test_local_model_is_a_classifier(small_model):
    """LocalModel satisfies the Classifier protocol; submit_* are accepted without error."""
    assert isinstance(small_model, Classifier)
    comment = Comment(content="hello there")
    verdict = small_model.check(comment)
    assert small_model.submit_spam(comment, verdict) is None
    assert small_model.submit_ham(comment) is None


def test_check_many_keeps_order_and_matches_check(small_model):
    """Verdicts come back in input order and equal one-at-a-time checks."""
    comments, _ = synthetic(30, seed=5)
    many = small_model.check_many(comments)
    assert many == [small_model.check(c) for c in comments]
    assert all(isinstance(v, Verdict) for v in many)


def test_check_accepts_text_and_mappings(small_model):
    """A plain text or a dict of fields is turned into a Comment."""
    by_text = small_model.check("cheap pills http://x.example")
    by_dict = small_model.check({"comment_content": "cheap pills http://x.example"})
    assert by_text == by_dict


def test_scores_refuse_a_bare_string(small_model):
    """A single string where a list is expected is refused, not scored letter by letter."""
    with pytest.raises(TypeError, match="single string"):
        small_model.check_many("a comment")
    with pytest.raises(TypeError, match="single string"):
        small_model.scores("a comment")


def test_reasons_name_links_and_phrases():
    """The default model explains a spam verdict in moderator words: links, domains, phrases."""
    model = LocalModel.load()
    text = "Hey check out my channel http://bit.ly/abc http://bit.ly/def please subscribe"
    verdict = model.check(Comment(content=text))
    assert verdict.spam
    text = " | ".join(verdict.reasons)
    assert 1 <= len(verdict.reasons) <= 4
    assert "2 links" in verdict.reasons or "links to bit.ly" in verdict.reasons, text
    assert "'check out'" in text and "'subscribe'" in text, text  # the words, quoted


def test_pieces_of_links_are_not_named_as_words():
    """'http', 'www' or 'com' from inside a link only repeat the link reasons; words outside links still count."""
    model = LocalModel.load()
    for text in ("Great post! Cheap pills at http://x.example", "Visit www.cheap-pills.com for great deals"):
        verdict = model.check(Comment(content=text))
        assert verdict.spam and "1 link" in verdict.reasons, verdict
        assert not any(r.startswith(("the word '", "the phrase '")) for r in verdict.reasons), verdict.reasons
    mixed = model.check(Comment(content="check out my channel youtube.com/user/check and subscribe"))
    assert "links to youtube.com" in mixed.reasons, mixed.reasons
    assert "'check out'" in " | ".join(mixed.reasons), mixed.reasons
    assert "the word 'channel'" not in mixed.reasons  # 'my channel' is quoted already


def test_clear_ham_has_no_reasons_and_numbers_are_named_by_length():
    """A comment far below the threshold gets no reasons; folded digits read as 'a 5-digit number'."""
    model = LocalModel.load()
    assert model.check(Comment(content="I love this song, it reminds me of my childhood")).reasons == ()
    spam = model.check(Comment(content="FREE entry, txt WIN to 87121 now"))
    assert spam.spam and "00000" not in " ".join(spam.reasons)
    assert any("5-digit number" in r for r in spam.reasons), spam.reasons


def test_author_url_as_name_is_a_reason():
    """Metadata the public data never shows still counts (prior weight) and is named."""
    model = LocalModel.load()
    comment = Comment(content="Visit my site for more great deals", author="http://cheap-deals.example")
    plain = model.check(comment.replace(author="Anna"))
    flagged = model.check(comment)
    assert flagged.score > plain.score
    assert "author name is a URL" in flagged.reasons


def test_filled_honeypot_adds_its_bounded_prior_and_is_named_once(small_model):
    """A model that never saw a honeypot in training gives a filled one its prior: a push towards spam
    of exactly PRIOR_CAP log-odds, so it cannot flip a confident verdict on its own (issue 12); the
    reason comes first, once. The Policy, not the model, makes a filled honeypot decisive."""
    plain = Comment(content="I love this song")
    filled = plain.replace(honeypot_field_name="website2", honeypot_value="http://x")
    before, after = small_model.check(plain), small_model.check(filled)

    def logit(p: float) -> float:
        return math.log(p / (1.0 - p))

    assert logit(after.score) - logit(before.score) == pytest.approx(PRIOR_CAP)
    assert after.reasons[0] == HONEYPOT_REASON and after.reasons.count(HONEYPOT_REASON) == 1
    assert Policy().decide(after, filled) is Action.SPAM


def test_threshold_decides_spam(small_model):
    """spam is score >= threshold; a model with a higher threshold calls fewer comments spam."""
    comments, _ = synthetic(40, seed=3)
    strict = LocalModel(small_model.estimator, threshold=0.999)
    for loose, tight in zip(small_model.check_many(comments), strict.check_many(comments), strict=True):
        assert loose.score == tight.score
        assert loose.spam == (loose.score >= 0.5) and tight.spam == (tight.score >= 0.999)


def test_save_writes_manifest_and_load_round_trips(small_model, saved):
    """save writes the model and a manifest with versions, SHA-256 and threshold; load gives the same scores."""
    manifest = json.loads(saved.with_suffix(".json").read_text())
    assert manifest["format_version"] == 2
    assert manifest["scorer_file"] == "m.npz" and len(manifest["scorer_sha256"]) == 64
    assert manifest["sklearn_version"] and manifest["spamguard_version"] == spamguard.__version__
    assert manifest["threshold"] == 0.5 and manifest["note"] == "test"
    assert len(manifest["sha256"]) == 64 and manifest["model_file"] == "m.joblib"
    loaded = LocalModel.load(saved)
    comments, _ = synthetic(20, seed=9)
    np.testing.assert_array_equal(loaded.scores(comments), small_model.scores(comments))


def test_tampered_model_file_is_refused_before_unpickling(saved):
    """A model file whose bytes differ from the manifest's SHA-256 raises ModelIntegrityError."""
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="does not match its manifest"):
        LocalModel.load(saved)


def test_replaced_pickle_is_refused_and_never_run(saved, tmp_path):
    """A malicious pickle put in place of the model is not unpickled: its code never runs."""
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    saved.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelIntegrityError):
        LocalModel.load(saved)
    assert not marker.exists()


def test_tampered_scorer_file_is_refused(saved):
    """The compiled scorer's .npz is checked against the manifest too."""
    npz = saved.with_suffix(".npz")
    npz.write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(ModelIntegrityError, match="scorer file .* does not match its manifest"):
        LocalModel.load(saved)


def test_loading_and_scoring_do_not_import_scikit_learn(tmp_path):
    """Judging comments needs only numpy: a fresh process never imports scikit-learn; .estimator does."""
    code = (
        "import sys, spamguard\n"
        "m = spamguard.LocalModel.load()\n"
        "m.check_many(['check out my channel http://bit.ly/x', 'hello'])\n"
        "print('sklearn' in sys.modules)\n"
        "m.estimator\n"
        "print('sklearn' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert proc.stdout.split() == ["False", "True"]


def test_missing_manifest_is_refused(saved):
    """A model file without its manifest does not load."""
    saved.with_suffix(".json").unlink()
    with pytest.raises(ModelIntegrityError, match="has no manifest"):
        LocalModel.load(saved)


def test_other_sklearn_minor_version_warns(saved):
    """A model made with another scikit-learn minor version loads with a clear warning."""
    man = saved.with_suffix(".json")
    data = json.loads(man.read_text())
    data["sklearn_version"] = "0.24.2"
    man.write_text(json.dumps(data))
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.24.2"):
        LocalModel.load(saved)


def test_same_sklearn_version_loads_silently(saved):
    """No warning when the versions agree."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LocalModel.load(saved)


def test_spamguard_model_environment_variable(saved, monkeypatch):
    """SPAMGUARD_MODEL names the model file when load() gets no path."""
    monkeypatch.setenv("SPAMGUARD_MODEL", str(saved))
    assert LocalModel.load().path == saved


def test_missing_model_file_is_a_configuration_error(tmp_path):
    """A path with no file says what to do."""
    with pytest.raises(ConfigurationError, match="no model file"):
        LocalModel.load(tmp_path / "absent.joblib")


def test_bad_threshold_is_refused(small_model):
    """A threshold must lie strictly between 0 and 1."""
    with pytest.raises(ValueError, match="threshold"):
        LocalModel(small_model.estimator, threshold=1.5)


def test_default_model_files_are_small_enough():
    """The shipped model files (pickle and scorer arrays) stay under 20 MB together."""
    path = default_model_path()
    assert path.stat().st_size + path.with_suffix(".npz").stat().st_size <= 20 * 1024 * 1024
