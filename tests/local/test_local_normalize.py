"""Text normalisation before features, the concept lexicons and the metadata columns built on them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamguard import Comment
from spamguard.local._hashing import PY_WORD, TextBatch, normalize_text
from spamguard.local._lexicon import CONCEPTS, concept_counts, matched_entries
from spamguard.local._meta import META_FEATURES, meta_matrix, prepare
from spamguard.local._normalize import clean_text, clean_texts


@pytest.mark.parametrize(("text", "expected", "disguises"), [
    ("ｗｗｗ.example.ｃom", "www.example.com", 0),  # full-width letters: NFKC
    ("𝐅𝐑𝐄𝐄 money", "FREE money", 0),  # mathematical bold
    ("example DOT com", "example.com", 1),
    ("example (dot) net/offer", "example.net/offer", 1),
    ("cheap[.]com", "cheap.com", 1),
    ("watch youtube. com/watch?v=x", "watch youtube.com/watch?v=x", 1),
    ("visit www. example.com now", "visit www.example.com now", 1),
    ("♥♥♥SiteName.comI♥♥♥", "♥♥♥SiteName.com I♥♥♥", 1),
    ("S u b s c r i b e now", "Subscribe now", 1),
    ("f.r.e.e gift", "free gift", 1),
    ("fr\u200bee", "free", 1),  # a zero-width space inside a word
    ("Ϲheck my ϲhannel", "Check my channel", 2),  # Greek lunate sigmas in Latin words
    ("Здpaвcтвyйтe", "Здравствуйте", 1),  # Latin look-alikes in a Cyrillic word
])
def test_disguises_are_undone_and_counted(text: str, expected: str, disguises: int) -> None:
    """Each disguise the issue lists comes out as plain text, and is counted."""
    assert clean_text(text) == (expected, disguises)


@pytest.mark.parametrize("text", [
    "Привет всем, как дела? Заработок и доход обсуждаем в другом чате.",
    "Καλημέρα σε όλους",
    "Grüße aus Köln, schöner Beitrag!",
    "Код на Python 3.12 работает, а на PyPy нет",
    "I like it. Com'on, really",
    "see you at 10.30, ok?",
    "U.S.A. and e.g. and i.e. are fine",
    "a b c",
    "150p/msg. CC: 08718720201",
    "Thanks\ufeff",  # a BOM an export left at the end is dropped, but it is no disguise
])
def test_real_text_is_left_alone(text: str) -> None:
    """Russian, Greek and German text, abbreviations, times and sentence ends are not mistaken for disguises."""
    cleaned, disguises = clean_text(text)
    assert disguises == 0
    assert cleaned == text.replace("\ufeff", "")


def test_a_word_run_into_another_script_is_not_folded() -> None:
    """Two words run together ("проблемуnnhttps") are not a disguise: neither part is changed."""
    assert clean_text("эту проблемуnnhttps://x.example") == ("эту проблемуnnhttps://x.example", 0)


def test_clean_texts_matches_clean_text_one_by_one() -> None:
    """The batch path (triggers searched over the whole batch) gives each text what clean_text gives it."""
    texts = ["plain", "example DOT com", "ｆｒｅｅ", "S p a c e d out", "Здpaвcтвyйтe", "", "x\x00y", "fine. com"]
    cleaned, counts = clean_texts(texts)
    assert list(zip(cleaned, counts, strict=True)) == [clean_text(t) for t in texts]
    for text in texts:  # one text at a time takes a shorter path
        single, count = clean_texts([text])
        assert (single[0], count[0]) == clean_text(text)


def test_concepts_are_counted_in_three_languages() -> None:
    """Words, stems and phrases of each concept are found in English, German and Russian."""
    texts = ["Buy cheap viagra now", "Kostenlos Geld verdienen von zuhause", "Заработок от 5000 рублей, пишите в личку",
             "dm me on whatsapp", "hello world"]
    counts = concept_counts(TextBatch(texts))
    names = list(CONCEPTS)
    found = [{names[j]: int(v) for j, v in enumerate(row) if v} for row in counts]
    assert found == [
        {"pharma": 1, "promo": 2},
        {"money": 1, "earn": 2, "prize": 1},
        {"money": 1, "earn": 1, "contact": 2},
        {"contact": 3},
        {},
    ]


def _row(comment: Comment) -> dict[str, float]:
    values = meta_matrix([comment])[0]
    return {name: float(v) for name, v in zip(META_FEATURES, values, strict=True) if v}


def test_links_to_documentation_and_the_own_site_are_not_counted_as_links() -> None:
    """Safe links are counted apart and taken out of the text the n-grams read; other links are evidence."""
    comment = Comment(content="see https://docs.python.org/3/ and https://blog.example/p/2 and http://bit.ly/x",
                      permalink="https://www.blog.example/p/1")
    prepared = prepare([comment])
    assert prepared.hosts == [["bit.ly"]]
    assert prepared.safe_links == [2]
    assert "python" not in prepared.texts[0] and "bit.ly" in prepared.texts[0]
    row = _row(comment)
    expected = (np.log1p(1), np.log1p(1), np.log1p(2))
    assert (row["links"], row["hidden_links"], row["safe_links"]) == pytest.approx(expected)


def test_lures_handles_phones_and_money_are_their_own_columns() -> None:
    """@handles (not the leading reply ones), hashtags, phone numbers and sums of money are counted."""
    row = _row(Comment(content="@bob thanks! contact @amy_fx on whatsapp, call +44 20 7946 0958, "
                               "I made $5,000 #forex"))
    assert row["handles"] == np.log1p(1)
    assert row["hashtags"] == np.log1p(1)
    assert row["phone_numbers"] == np.log1p(1)
    assert row["money_amounts"] == np.log1p(1)


def test_dates_versions_and_addresses_are_not_phone_numbers() -> None:
    """A date, a version number or an IP address is not a phone number."""
    row = _row(Comment(content="On 2024-01-15 version 3.11.4 at 192.168.100.200 failed"))
    assert "phone_numbers" not in row


def test_numbers_only_comments_get_no_digit_share() -> None:
    """'14' or '10:40' has no letters: that is its own column, and the share of digits is not counted."""
    for text in ("14", "10:40", "100%"):
        row = _row(Comment(content=text))
        assert row.get("no_letters") == 1.0
        assert "digit_ratio" not in row


def test_the_author_name_is_read_for_concepts() -> None:
    """A pitch in the author name counts like the same words in the text."""
    plain = _row(Comment(content="nice post", author="Alice"))
    pitched = _row(Comment(content="nice post", author="Buy Cheap Followers"))
    assert "promo_words" not in plain and pitched["promo_words"] > 0


_VOCABULARY = sorted({e.rstrip("*") for entries in CONCEPTS.values() for e in entries} | {"the", "a", "nice", "видео"})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_VOCABULARY) | st.text(max_size=8), max_size=12), min_size=1, max_size=5))
def test_the_named_entries_agree_with_the_counts(texts: list[list[str]]) -> None:
    """What a reason names (matched_entries) is what the column counted (concept_counts), text by text."""
    joined = [" ".join(words) for words in texts]
    counts = concept_counts(TextBatch(joined))
    names = list(CONCEPTS)
    for text, row in zip(joined, counts, strict=True):
        found = matched_entries(PY_WORD.findall(normalize_text(text)))
        assert {names[j]: int(v) for j, v in enumerate(row) if v} == {k: len(v) for k, v in found.items()}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(max_size=60) | st.sampled_from(_VOCABULARY), min_size=1, max_size=6))
def test_small_batches_take_a_python_path_with_the_same_results(texts: list[str]) -> None:
    """Concept counts and repetition of one or two texts (plain Python) equal the vectorised ones."""
    from spamguard.local import _hashing

    for text in texts:
        big = TextBatch([text, "", "x"])  # three texts: the vectorised path
        small = TextBatch([text])
        assert small.n <= _hashing.SMALL_BATCH < big.n
        np.testing.assert_array_equal(concept_counts(small)[0], concept_counts(big)[0])
        np.testing.assert_array_equal(small.repetition()[0], big.repetition()[0])
