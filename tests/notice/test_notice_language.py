"""Choosing the notice's language from language codes and Accept-Language headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamguard.notice import LANGUAGES, negotiate_language, normalize_language


def test_sixteen_languages_english_and_german_first():
    """The languages the issue asks for, English and German first."""
    assert LANGUAGES[:2] == ("en", "de")
    assert sorted(LANGUAGES) == sorted(
        ["en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "cs", "ru", "uk", "tr", "ja", "zh"]
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("pt-BR,pt;q=0.9", "pt"),
        ("zh-TW", "zh"),
        ("zh-Hant", "zh"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("en;q=0.5, de;q=0.9", "de"),  # q-values, not order, decide
        ("da, en-GB;q=0.8, en;q=0.7", "da"),
        ("xx, ja;q=0.2", "ja"),  # unknown skipped
        ("de;q=0, fr;q=0.1", "fr"),  # q=0 means "not German"
        ("de;q=0, de-AT", "en"),  # German refused outright, even by region
        ("de-AT;q=0, de;q=0.5", "de"),  # only Austrian German refused
        ("es;q=0.8, it;q=0.8", "es"),  # ties keep the header's order
        ("sv;q=1.0", "sv"),
        ("x-klingon, i-default", "en"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("de;q=2", "en"),  # q above 1 is malformed: that range is skipped
        ("de;q=abc, fr", "fr"),
        (";;;,,,", "en"),
        ("de-" + "x" * 50, "en"),
        ("nl;foo=bar;q=0.5, cs;q=0.4", "nl"),
        ("UK-ua", "uk"),
        ("RU_ru", "ru"),
    ],
)
def test_negotiate_language(header, expected):
    """Accept-Language cases: q-values, q=0, regions, unknown and malformed headers."""
    assert negotiate_language(header) == expected


@given(st.text(max_size=300))
def test_negotiate_language_never_raises(header):
    """Any header at all gives a supported language and no exception."""
    assert negotiate_language(header) in LANGUAGES


def test_normalize_language():
    """A code maps to its supported language or None; anything else is None."""
    assert normalize_language("pt_BR") == "pt"
    assert normalize_language(" ja-JP ") == "ja"
    assert normalize_language("klingon") is None
    assert normalize_language(42) is None
    assert normalize_language("de;q=1") is None
