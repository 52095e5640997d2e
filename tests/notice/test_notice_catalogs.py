"""The gettext catalogs: complete translations, consistent placeholders, and the .mo build step."""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from spamguard.notice import LANGUAGES, _messages
from spamguard.notice._build import CatalogError, compile_catalogs
from spamguard.notice._catalog import LOCALE_DIR, translations
from spamguard.notice._pofile import PoSyntaxError, compile_po, parse_po

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Expected Plural-Forms (nplurals, expression) by language, as the gettext manual gives them.
PLURAL_FORMS = {
    "de": 2, "fr": 2, "es": 2, "it": 2, "nl": 2, "pt": 2, "sv": 2, "da": 2, "tr": 2,
    "pl": 3, "cs": 3, "ru": 3, "uk": 3, "ja": 1, "zh": 1,
}  # fmt: skip


def read_catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "spamguard.po"


def test_template_lists_exactly_the_messages_the_code_uses():
    """spamguard.pot and _messages.py agree, so translators see every string the code asks for."""
    template = read_catalog(LOCALE_DIR / "spamguard.pot")
    ids = [message.id for message in template if message.id]
    expected = [*_messages.MESSAGES, *_messages.PLURAL_MESSAGES]
    assert ids == expected


def test_there_is_a_catalog_for_every_language_but_english():
    """English is the msgids themselves; every other language has its .po and nothing else does."""
    found = sorted(path.parent.parent.name for path in LOCALE_DIR.glob("*/LC_MESSAGES/spamguard.po"))
    assert found == sorted(TRANSLATED)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(lang):
    """No empty or fuzzy msgstr, no missing msgid, the same {placeholders}, the right plural count."""
    template = read_catalog(LOCALE_DIR / "spamguard.pot")
    catalog = read_catalog(po_path(lang))
    assert catalog.locale is not None and str(catalog.locale) == lang
    assert catalog.num_plurals == PLURAL_FORMS[lang]
    for entry in template:
        if not entry.id:
            continue
        translated = catalog.get(entry.id)
        assert translated is not None, f"{lang}: {entry.id!r} is missing"
        assert not translated.fuzzy, f"{lang}: {entry.id!r} is fuzzy"
        singular = entry.id if isinstance(entry.id, str) else entry.id[0]
        wanted = set(PLACEHOLDER.findall(singular))
        strings = [translated.string] if isinstance(translated.string, str) else list(translated.string)
        if isinstance(entry.id, tuple):
            assert len(strings) == catalog.num_plurals, f"{lang}: wrong number of plural forms"
        for text in strings:
            assert text.strip(), f"{lang}: {entry.id!r} has an empty translation"
            assert set(PLACEHOLDER.findall(text)) == wanted, f"{lang}: placeholders differ in {text!r}"
            assert text != singular or singular == "{text}: {url}", f"{lang}: {text!r} is untranslated"
    assert [e.id for e in catalog if e.id and e.id not in template] == [], f"{lang}: obsolete messages"


def test_build_step_compiles_every_catalog_into_a_loadable_mo(tmp_path):
    """compile_catalogs (what setup.py runs) writes .mo files that gettext loads and that match the .po."""
    written = compile_catalogs(LOCALE_DIR, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(
        f"{lang}/LC_MESSAGES/spamguard.mo" for lang in TRANSLATED
    )
    for lang in TRANSLATED:
        built = gettext.translation("spamguard", localedir=tmp_path, languages=[lang])
        catalog = read_catalog(po_path(lang))
        for message in _messages.MESSAGES:
            assert built.gettext(message) == catalog.get(message).string
        singular, plural = _messages.PLURAL_MESSAGES[0]
        assert built.ngettext(singular, plural, 1) == catalog.get(singular).string[0]
        # the in-memory fallback for unbuilt checkouts gives the very same catalog
        fallback = gettext.GNUTranslations(io.BytesIO(compile_po(po_path(lang).read_text("utf-8"))))
        ours, theirs = dict(fallback._catalog), dict(built._catalog)  # type: ignore[attr-defined]
        assert ours.pop("") and theirs.pop("")  # headers differ only in Babel's "Generated-By"
        assert ours == theirs
    german = gettext.translation("spamguard", localedir=tmp_path, languages=["de"]).gettext(_messages.DISCLOSURE_REMOTE)
    assert "Kommentar" in german and "IP-Adresse" in german


def test_build_step_refuses_a_broken_catalog(tmp_path):
    """A catalog with a missing plural form or a lost placeholder stops the build, naming the file."""
    broken = tmp_path / "src" / "xx" / "LC_MESSAGES" / "spamguard.po"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=3; plural=(n != 1);\\n"\n\n'
        'msgid "one day"\nmsgid_plural "{n} days"\nmsgstr[0] "x"\nmsgstr[1] "y"\n'
        'msgid "Hello {name}"\nmsgstr "Hallo {nom}"\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="spamguard.po") as caught:
        compile_catalogs(tmp_path / "src", tmp_path / "out")
    assert "a plural form is empty" in str(caught.value) and "'Hallo {nom}'" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_installed_package_uses_compiled_mo_files():
    """An installed spamguard (wheel or editable build) answers from .mo files, not the .po fallback."""
    found = gettext.find("spamguard", LOCALE_DIR, languages=["de"])
    if found is None:
        pytest.skip("no compiled catalogs: this checkout was not installed with `pip install -e .`")
    assert found.endswith("de/LC_MESSAGES/spamguard.mo")
    assert isinstance(translations("de"), gettext.GNUTranslations)
    assert translations("de").gettext(_messages.DISCLOSURE_LOCAL_LINK) == "Datenschutzerklärung"


def test_source_checkout_falls_back_to_the_po_file(tmp_path):
    """With only .po sources (no build), the catalog is compiled in memory and still translates."""
    source = tmp_path / "de" / "LC_MESSAGES"
    source.mkdir(parents=True)
    (source / "spamguard.po").write_text(po_path("de").read_text("utf-8"), encoding="utf-8")
    found = translations.__wrapped__("de", tmp_path)
    assert isinstance(found, gettext.GNUTranslations)
    assert found.gettext(_messages.DISCLOSURE_LOCAL_LINK) == "Datenschutzerklärung"
    empty = translations.__wrapped__("fr", tmp_path)
    assert empty.gettext(_messages.DISCLOSURE_LOCAL_LINK) == "Privacy policy"


def test_po_reader_handles_continuations_fuzzy_context_and_comments():
    """The fallback reader keeps translated entries and skips fuzzy and empty ones."""
    text = (
        '# comment\nmsgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "a"\nmsgstr "A"\n"A2"\n\n'
        '#, fuzzy\nmsgid "b"\nmsgstr "B"\n\n'
        'msgid "c"\nmsgstr ""\n\n'
        'msgctxt "menu"\nmsgid "d"\nmsgstr "D \\"q\\""\n'
        '#~ msgid "old"\n'
    )
    entries = dict(parse_po(text))
    assert entries == {
        (None, "", None): ["Content-Type: text/plain; charset=UTF-8\n"],
        (None, "a", None): ["AA2"],
        ("menu", "d", None): ['D "q"'],
    }
    loaded = gettext.GNUTranslations(io.BytesIO(compile_po(text)))
    assert loaded.gettext("a") == "AA2" and loaded.gettext("b") == "b" and loaded.pgettext("menu", "d") == 'D "q"'


@pytest.mark.parametrize(
    ("text", "line"),
    [('msgid "a"\nmsgstr A\n', 2), ('msgid "a"\nmsgstr "x"\nbogus "y"\n', 3), ('"orphan"\n', 1)],
)
def test_po_reader_names_the_line_of_a_syntax_error(text, line):
    """A broken .po fails with file:line."""
    with pytest.raises(PoSyntaxError, match=f"^x.po:{line}: "):
        parse_po(text, "x.po")
