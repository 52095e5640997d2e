"""Text normalisation before features: the disguises spammers use, undone.

Every comment's text goes through :func:`clean_texts` before it is hashed or measured, in
training and in scoring alike (so the compiled scorer and the scikit-learn pipeline see the
same text):

1. Unicode NFKC: full-width letters (``ｗｗｗ``), mathematical and circled letters,
   ligatures become the plain letters they stand for;
2. invisible characters (zero-width space and joiners, soft hyphen, word joiner, BOM) go;
3. look-alike letters are folded where a word mixes scripts: a mostly Latin word with a
   Cyrillic ``о`` in it becomes all Latin, a mostly Cyrillic word with Latin ``p``, ``a``,
   ``c`` becomes all Cyrillic (Unicode's confusables list, from the maintained
   ``confusable-homoglyphs`` package). Words written in one script, Russian or Greek text
   included, are left as they are;
4. letters spaced out (``S u b s c r i b e``, ``w.w.w``) are joined;
5. disguised links are recovered: ``example DOT com``, ``example (dot) com``,
   ``example[.]com``, ``youtube. com``, ``SiteName.comI`` (a domain glued to the next word).

Each disguise found is counted, and the count is a feature of its own: a comment that hides
its words or links is itself a sign of spam.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

__all__ = ["clean_text", "clean_texts"]

# Top-level domains that disguised links use. "DOT com" style disguises may name any of them;
# a space around the dot ("youtube. com") is only undone for those that are not also common
# words ("net", "me", "in", "us", ... would join ordinary sentences).
_TLDS = ("com|net|org|info|biz|ru|ly|me|co|io|tk|xyz|top|cc|us|uk|de|in|tv|gl|gd|link|site|online|ltd|fr|"
         "su|ua|shop|store|club|live|pro|app|win|vip|icu|buzz")
_SPACED_TLDS = "com|org|ru|info|biz|xyz|icu|buzz"

_INVISIBLE_CHARS = ("\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                    "\u2060\u2061\u2062\u2063\u2064\ufeff")
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_INVISIBLE_INSIDE = re.compile(f"(?<=\\w)[{_INVISIBLE_CHARS}]+(?=\\w)")
_NAME = r"[A-Za-z0-9][A-Za-z0-9-]*"
_DOT_WORD = re.compile(
    rf"\b({_NAME})(?:\s+|\s*[(\[{{<]\s*)(?:dot|punkt|точка)(?:\s+|\s*[)\]}}>]\s*)({_TLDS})\b", re.IGNORECASE,
)
_DOT_SPACED = re.compile(
    rf"\b({_NAME})(?:\s*[(\[{{<]\s*\.\s*[)\]}}>]\s*|\s+\.\s*|\.\s+)({_SPACED_TLDS})(?=[\s/?#:,;!)\]]|\.?$|\.\s)",
    re.IGNORECASE,
)
_WWW_SPACED = re.compile(r"\b(www)(?:\s*\.\s+|\s+\.\s*)(?=\w)", re.IGNORECASE)
_GLUED_TLD = re.compile(rf"(?<=[A-Za-z0-9]\.)({_TLDS})(?=[A-Z][a-z]*\b|[A-Z]{{2,}})")
# Four or more single letters with one separator between each: "S u b s c r i b e", "f.r.e.e".
_SPACED_LETTERS = re.compile(r"(?<![\w.*_-])[^\W\d_](?:(?P<sep>[ .*_-])[^\W\d_])(?:(?P=sep)[^\W\d_]){2,}(?![\w*_-])")
_SEPARATORS = re.compile(r"[ .*_-]")
# A word with a Cyrillic letter and a Latin or Greek one, or a Greek word (which _fold_word checks).
_MIXED_WORD = re.compile("\\b(?=\\w*[A-Za-z\u00c0-\u024f\u0370-\u03ff])(?=\\w*[\u0370-\u052f])\\w+")
_CYRILLIC_LETTER = re.compile("[\u0400-\u052f]")
_ASCII_LETTER = re.compile("[A-Za-z]")
_CYRILLIC_OR_GREEK = re.compile("[\u0370-\u052f]")


def _join_spaced(match: re.Match[str]) -> str:
    return _SEPARATORS.sub("", match.group())


_Replacement = str | Callable[[re.Match[str]], str]

# Each step: the pattern that undoes a disguise, what replaces it, and cheap triggers (plain
# strings, or patterns that start with a plain character, which the regular expression engine
# finds fast) that every text it could change contains: the batch is searched for the
# triggers, and only the texts that hold one are worked on.
_STEPS: tuple[tuple[re.Pattern[str], _Replacement, tuple[str | re.Pattern[str], ...]], ...] = (
    (_SPACED_LETTERS, _join_spaced, tuple(
        re.compile(rf"{re.escape(sep)}[^\W\d_]{re.escape(sep)}[^\W\d_]{re.escape(sep)}[^\W\d_]") for sep in " .*_-"
    )),
    (_WWW_SPACED, r"\1.", ("www .", "www. ", "WWW .", "WWW. ", "Www .", "Www. ")),
    (_DOT_WORD, r"\1.\2", ("dot", "DOT", "Dot", "punkt", "Punkt", "PUNKT", "точка", "ТОЧКА", "Точка")),
    (_DOT_SPACED, r"\1.\2", (" .", "[.]", "(.)", "{.}", "<.>", re.compile(rf"\.\s+(?:{_SPACED_TLDS})\b", re.I))),
    (_GLUED_TLD, r"\1 ", (re.compile(rf"\.(?:{_TLDS})[A-Z]"),)),
)

_LATIN, _CYRILLIC, _GREEK = 0, 1, 2


def _script(ch: str) -> int | None:
    """Latin, Cyrillic or Greek for a letter of those scripts' main blocks; None otherwise."""
    code = ord(ch)
    if code < 0x250:
        return _LATIN if ch.isalpha() else None
    if 0x400 <= code < 0x530:
        return _CYRILLIC
    if 0x370 <= code < 0x400:
        return _GREEK
    return None


@functools.cache
def _fold_tables() -> tuple[dict[int, str], ...]:
    """Per script (Latin, Cyrillic, Greek), the other two scripts' look-alike letters mapped into it.

    For ``str.translate``. Built once, on the first text that needs it, from Unicode's
    confusables (TR39) as the ``confusable-homoglyphs`` package ships them: a letter's
    look-alike in another script is found through the ASCII letter both resemble.
    """
    from confusable_homoglyphs import confusables

    to_ascii: dict[str, str] = {}
    from_ascii: tuple[dict[str, str], ...] = ({}, {}, {})
    for char, glyphs in sorted(confusables.confusables_data.items()):
        source = _script(char) if len(char) == 1 and char.isalpha() else None
        for glyph in glyphs if source is not None else ():
            target = glyph["c"]
            if len(target) != 1 or not target.isalpha() or target.isupper() != char.isupper():
                continue
            if source != _LATIN and target.isascii():
                to_ascii.setdefault(char, target)
            elif char.isascii() and (0x391 <= ord(target) <= 0x3C9 or 0x410 <= ord(target) <= 0x44F):
                from_ascii[_script(target) or 0].setdefault(char, target)
    latin = {ord(c): a for c, a in to_ascii.items()}
    tables = [latin]
    for script in (_CYRILLIC, _GREEK):
        table = {ord(a): c for a, c in from_ascii[script].items()}
        table.update({ord(c): from_ascii[script][a] for c, a in to_ascii.items()
                      if _script(c) != script and a in from_ascii[script]})
        tables.append(table)
    return tuple(tables)


@functools.lru_cache(maxsize=4096)  # the same few mixed words recur (e.g. "\\nВ" exported as "nВ")
def _fold_word(word: str, preferred: tuple[int, ...]) -> str | None:
    """A word that mixes Latin, Cyrillic and Greek letters as a disguise, folded into one script; else None.

    Folded when every letter has a look-alike in one script (the word becomes all that
    script; ``preferred`` orders the scripts to try), or else when letters of a minor
    script sit between letters of the main one (the look-alikes among them become the main
    script's). A word that is two words run together ("проблемуnnhttps") is left alone.
    """
    scripts = [_script(ch) for ch in word]
    counts = [scripts.count(s) for s in range(3)]
    if sum(1 for c in counts if c) < 2:
        return None
    tables = _fold_tables()
    for target in sorted(range(3), key=lambda s: (-counts[s], preferred.index(s))):
        folded = word.translate(tables[target])
        if all(_script(ch) in (None, target) for ch in folded):
            return folded
    main = min(range(3), key=lambda s: (-counts[s], preferred.index(s)))
    at = [i for i, s in enumerate(scripts) if s == main]
    if any(at[0] < i < at[-1] for i, s in enumerate(scripts) if s not in (None, main)):
        return word.translate(tables[main])
    return None


def _fold_mixed_scripts(text: str) -> tuple[str, int]:
    """``text`` with its mixed-script words folded; and how many words were."""
    found = 0
    preferred: tuple[int, ...] = ()

    def fold(match: re.Match[str]) -> str:
        nonlocal found, preferred
        if not preferred:  # ties go to the script most of the text is written in
            cyrillic = len(_CYRILLIC_LETTER.findall(text)) > len(_ASCII_LETTER.findall(text))
            preferred = (_CYRILLIC, _LATIN, _GREEK) if cyrillic else (_LATIN, _CYRILLIC, _GREEK)
        folded = _fold_word(match.group(), preferred)
        if folded is None:
            return match.group()
        found += 1
        return folded

    return _MIXED_WORD.sub(fold, text), found


def _any_trigger() -> re.Pattern[str]:
    parts = []
    for _, _, triggers in _STEPS:
        for trigger in triggers:
            if isinstance(trigger, str):
                parts.append(re.escape(trigger))
            else:
                parts.append(f"(?i:{trigger.pattern})" if trigger.flags & re.IGNORECASE else trigger.pattern)
    return re.compile("|".join(parts))


# Every trigger in one pattern: for a single text, one search is cheaper than one per trigger.
_ANY_TRIGGER = _any_trigger()


def clean_text(text: str) -> tuple[str, int]:
    """One text normalised (see the module's description); and the number of disguises undone."""
    return _clean(text, range(len(_STEPS)), check=True)


def _clean(text: str, steps: Iterable[int], *, check: bool) -> tuple[str, int]:
    """``text`` normalised, with the ``_STEPS`` numbered ``steps`` (``check``: only those whose triggers it holds)."""
    found = 0
    if not text.isascii():
        if _INVISIBLE.search(text):
            text = text.rstrip(_INVISIBLE_CHARS)  # a BOM at the end is an export's doing, not a disguise
            if _INVISIBLE.search(text):
                found += len(_INVISIBLE_INSIDE.findall(text))
                text = _INVISIBLE.sub("", text)
        # Look-alikes are folded before NFKC (which turns some, like the lunate sigma, into other
        # letters) and again after it (full-width letters are only Latin once NFKC has run).
        for normalize in (False, True):
            if normalize:
                if unicodedata.is_normalized("NFKC", text):
                    break
                text = unicodedata.normalize("NFKC", text)
                steps, check = range(len(_STEPS)), True  # full-width letters may have hidden a trigger
            if _CYRILLIC_OR_GREEK.search(text):
                text, n = _fold_mixed_scripts(text)
                found += n
    for step in steps:
        pattern, replacement, triggers = _STEPS[step]
        if not check or _triggered(text, triggers):
            text, n = pattern.subn(replacement, text)
            found += n
    return text, found


def _triggered(joined: str, triggers: tuple[str | re.Pattern[str], ...]) -> list[int]:
    """Where in ``joined`` the triggers occur."""
    found = []
    for trigger in triggers:
        if isinstance(trigger, str):
            at = joined.find(trigger)
            while at >= 0:
                found.append(at)
                at = joined.find(trigger, at + 1)
        else:
            found.extend(m.start() for m in trigger.finditer(joined))
    return found


def clean_texts(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Texts normalised (see the module's description), and per text the number of disguises undone.

    The batch is searched for the steps' triggers at once; only texts that hold one (or any
    non-ASCII character) are worked on one by one.
    """
    if len(texts) == 1:  # one comment (check()): one search, and nothing more for a plain text
        if texts[0].isascii() and not _ANY_TRIGGER.search(texts[0]):
            return list(texts), [0]
        text, disguises = clean_text(texts[0])
        return [text], [disguises]
    joined = "\x00".join(texts)
    need: dict[int, set[int]] = {}
    if not joined.isascii():
        need.update((i, set()) for i, text in enumerate(texts) if not text.isascii())
    ends: list[int] | None = None
    for step, (_, _, triggers) in enumerate(_STEPS):
        found = _triggered(joined, triggers)
        if found:
            ends = ends or list(itertools.accumulate(len(text) + 1 for text in texts))
            for at in found:
                need.setdefault(bisect.bisect_right(ends, at), set()).add(step)
    out = list(texts)
    counts = [0] * len(texts)
    for i, steps in need.items():
        out[i], counts[i] = _clean(texts[i], sorted(steps), check=False)
    return out, counts
