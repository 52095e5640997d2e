"""Language codes: the supported ones, normalising a code, and reading ``Accept-Language``."""

from __future__ import annotations

import re

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "normalize_language", "negotiate_language"]

#: The languages the notice is written in (ISO 639-1 codes). ``zh`` is Simplified Chinese and
#: also serves ``zh-TW``/``zh-Hant`` readers until a Traditional catalog exists.
LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "cs", "ru", "uk", "tr", "ja", "zh",
)
DEFAULT_LANGUAGE = "en"

# Old or alternative codes a browser or framework may still send.
_ALIASES = {"iw": "he", "in": "id", "nb": "no", "nn": "no", "ua": "uk", "cz": "cs", "dk": "da", "se": "sv"}
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
_MAX_HEADER = 4096  # longer headers are cut: no browser sends more, and parsing stays cheap


def normalize_language(code: object) -> str | None:
    """The supported language a code stands for, or ``None``.

    Accepts region and script subtags with ``-`` or ``_`` in any case: ``"de-AT"``,
    ``"pt_BR"``, ``"zh-Hant-TW"`` give ``"de"``, ``"pt"``, ``"zh"``.
    """
    if not isinstance(code, str):
        return None
    code = code.strip()
    if not _TAG.match(code):
        return None
    primary = code.replace("_", "-").split("-", 1)[0].lower()
    primary = _ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else None


def negotiate_language(header: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The best supported language for an ``Accept-Language`` header.

    Ranges are tried by falling q-value (ties keep the header's order); ``q=0`` means "not
    this one"; a region falls back to its language (``de-AT`` -> ``de``). ``*``, unknown
    languages and malformed parts are skipped; when nothing fits, or the header is missing or
    malformed, ``default`` (English) comes back. Never raises on a bad header.
    """
    if not isinstance(header, str) or not header.strip():
        return default
    ranked: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for position, part in enumerate(header[:_MAX_HEADER].split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        valid = True
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() != "q":
                continue  # extensions are allowed and ignored
            value = value.strip()
            if not _QVALUE.match(value):
                valid = False
                break
            quality = float(value)
        if not valid:
            continue
        language = normalize_language(tag)
        if language is None:
            continue
        if quality == 0:
            if "-" not in tag and "_" not in tag:  # "de;q=0" refuses German; "de-AT;q=0" only Austrian
                refused.add(language)
            continue
        ranked.append((-quality, position, language))
    for _, _, language in sorted(ranked):
        if language not in refused:
            return language
    return default
