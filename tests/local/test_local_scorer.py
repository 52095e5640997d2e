"""The compiled scorer gives the same probabilities as the scikit-learn pipeline, and hashing is consistent."""

from __future__ import annotations

import numpy as np
import pytest
from _localdata import synthetic
from hypothesis import given, settings
from hypothesis import strategies as st

from spamguard import Comment, LocalModel
from spamguard.local import SpamClassifier
from spamguard.local._hashing import TextBatch, normalize_text, phrase_column

VARIED = [
    Comment(content=""),
    Comment(content=" "),
    Comment(content="a"),
    Comment(content="Check out my channel!!! http://bit.ly/abc www.spam.example/x"),
    Comment(content="Привет! Заработок от 5000 рублей в день, пиши в телеграм t.me/xyz"),
    Comment(content="Grüße aus Köln – schöner Beitrag, danke! Straße"),
    Comment(content="東京でお会いしましょう。ありがとうございます！"),
    Comment(content="مرحبا بكم في موقعنا"),
    Comment(content="emoji 😀😀😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 beyond the BMP"),
    Comment(content="e\u0301te\u0301 combining marks"),
    Comment(content="NUL\x00inside and\ttabs\nnewlines\r\n"),
    Comment(content="word " * 3000),
    Comment(content="LOUD CAPITALS EVERYWHERE!!! FREE FREE FREE"),
    Comment(content="call 0800 123 456 or mail me at bob@example.com"),
    Comment(content="nice", author="http://cheap.example", author_url="https://cheap.example"),
    Comment(content="nice", author="bob@example.com", user_ip="203.0.113.7"),
    Comment(content="nice", user_ip="203.0.113.7", user_agent="Mozilla/5.0", type="trackback"),
    Comment(content="nice", honeypot_field_name="hp", honeypot_value="x"),
]


@pytest.fixture(scope="module")
def model():
    comments, labels = synthetic(160, seed=1)
    return LocalModel(SpamClassifier(n_bits=16).fit(comments, labels))


def test_compiled_scorer_agrees_with_the_pipeline(model):
    """On many scripts, empty, huge and metadata-rich comments the two paths agree to 1e-9."""
    comments = VARIED + synthetic(50, seed=2)[0]
    pipeline = model.estimator.pipeline_.decision_function(comments)
    compiled, _ = model._scorer.decision(comments)
    np.testing.assert_allclose(compiled, pipeline, rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.estimator.decision_function(comments), pipeline, rtol=0, atol=0)


def test_default_model_compiled_scorer_agrees_with_its_pipeline():
    """The same holds for the shipped default model."""
    model = LocalModel.load()
    pipeline = model.estimator.pipeline_.decision_function(VARIED)
    compiled, _ = model._scorer.decision(VARIED)
    np.testing.assert_allclose(compiled, pipeline, rtol=0, atol=1e-9)


def test_one_comment_alone_scores_as_it_does_in_a_batch():
    """check() takes plain-Python paths for one comment (words, concepts, character counts):
    the shipped model gives it the very score it gets in a batch."""
    model = LocalModel.load()
    comments = VARIED + [
        Comment(content="Great video, thanks", author="Cheap Viagra Online Pharmacy"),
        Comment(content="earn $500 daily with bitcoin trading, contact @coach_anna on telegram"),
        Comment(content="Ünïcödé ÀÉÎ 123 000 0000000 gewinnen Sie jetzt", author="Müller"),
        Comment(content="14"),
        Comment(content=" ".join(["recovery expert helped me"] * 30)),  # more words than the Python path takes
    ]
    batch, _ = model._scorer.decision(comments)
    alone = np.array([model._scorer.decision([c])[0][0] for c in comments])
    np.testing.assert_array_equal(alone, batch)
    assert [model.check(c).score for c in comments] == model.scores(comments).tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=8))
def test_agreement_on_arbitrary_text(model, texts):
    """Any Unicode text scores the same on both paths, alone or in a batch."""
    comments = [Comment(content=t) for t in texts]
    pipeline = model.estimator.pipeline_.decision_function(comments)
    compiled, _ = model._scorer.decision(comments)
    np.testing.assert_allclose(compiled, pipeline, rtol=0, atol=1e-9)
    single = [model._scorer.decision([c])[0][0] for c in comments]
    np.testing.assert_allclose(single, compiled, rtol=0, atol=1e-12)


def test_phrase_columns_match_the_vectorised_hash():
    """The pure-Python phrase hash used for explanations finds the same columns as the batch hasher."""
    batch = TextBatch(["Check out my channel", "Привет мир мир"])
    rows, cols = batch.word_ngrams((1, 2), 18)
    phrases = ["check", "out", "my", "channel", "check out", "out my", "my channel", "привет", "мир", "мир",
               "привет мир", "мир мир"]
    expected = [phrase_column(p, 18) for p in phrases]
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == sorted(
        [(0, c) for c in expected[:7]] + [(1, c) for c in expected[7:]]
    )


def test_character_ngrams_stay_inside_each_text():
    """A batch gives each text exactly its own n-grams: counts equal one-text batches."""
    texts = ["abc", "", "de f"]
    rows, _ = TextBatch(texts).char_ngrams((2, 3), 12)
    per_text = [TextBatch([t]).char_ngrams((2, 3), 12)[0].shape[0] for t in texts]
    assert np.bincount(rows, minlength=3).tolist() == per_text == [4 + 3, 0, 5 + 4]


def test_normalize_text():
    """Lower case, digits folded, white space collapsed, one space either side."""
    assert normalize_text("  Hello\tWORLD 123\n") == " hello world 000 "
    assert normalize_text("") == " "


def test_count_tf_model_agrees_and_tf_mode_survives_the_scorer_file():
    """Plain-count tf (``sublinear_tf=False``) also agrees, and the npz arrays keep which tf a model uses."""
    comments, labels = synthetic(80, seed=3)
    counted = LocalModel(SpamClassifier(n_bits=14, sublinear_tf=False).fit(comments, labels))
    assert not counted._scorer.sublinear
    pipeline = counted.estimator.pipeline_.decision_function(VARIED)
    np.testing.assert_allclose(counted._scorer.decision(VARIED)[0], pipeline, rtol=0, atol=1e-9)
    sublinear = LocalModel(SpamClassifier(n_bits=14).fit(comments, labels))._scorer
    for scorer in (counted._scorer, sublinear):
        again = type(scorer).from_arrays(scorer.to_arrays())
        assert again.sublinear == scorer.sublinear
        np.testing.assert_allclose(again.decision(VARIED)[0], scorer.decision(VARIED)[0], rtol=0, atol=0)
    assert not np.allclose(sublinear.decision(VARIED)[0], counted._scorer.decision(VARIED)[0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=" \t\n\u00a0\u3000\x85\x1c1٣۵\u0130AßxΣé\u0301😀𝟘\x00", max_size=12), max_size=8))
def test_numpy_normalisation_matches_the_regex_one(texts):
    from spamguard.local._hashing import _codes_of, _normalize_joined, _normalized_codes

    batch = TextBatch(texts)

    assert np.array_equal(_normalized_codes(texts), _codes_of(_normalize_joined(texts)))
    assert [batch.text(i) for i in range(len(texts))] == _normalize_joined(texts).split("\x00")[:len(texts)]


def test_repetition_counts_distinct_words_per_text():
    from spamguard.local._hashing import _doc_hash_order

    batch = TextBatch(["a b a b a", "I i a", "x y", "one two three"])

    assert batch.repetition().tolist() == [1 - 2 / 5, 1 - 2 / 3, 0.0, 0.0]
    doc = np.array([1, 0, 1, 0])
    h = np.array([7, 3, 5, 3], dtype=np.uint64)
    assert np.array_equal(_doc_hash_order(doc, h, 2), np.lexsort((h, doc)))
