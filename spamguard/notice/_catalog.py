"""Finding the gettext translations of the notice for a language."""

from __future__ import annotations

import functools
import gettext
import io
import logging
from pathlib import Path

from ._build import DOMAIN
from ._pofile import compile_po

__all__ = ["LOCALE_DIR", "translations"]

log = logging.getLogger("spamguard.notice")

#: Where the catalogs live: ``<lang>/LC_MESSAGES/spamguard.po`` (source) and ``.mo`` (built).
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@functools.cache
def translations(lang: str, locale_dir: Path = LOCALE_DIR) -> gettext.NullTranslations:
    """The translations for a supported language code (English: the msgids themselves).

    The compiled ``.mo`` (built into wheels at packaging time) is what normally answers. A
    source checkout that was never built has only the ``.po``; then it is compiled in memory.
    """
    if lang == "en":
        return gettext.NullTranslations()
    found = gettext.translation(DOMAIN, localedir=locale_dir, languages=[lang], fallback=True)
    if isinstance(found, gettext.GNUTranslations):
        return found
    po_path = locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if po_path.is_file():
        log.debug("no compiled catalog for %r; compiling %s in memory", lang, po_path)
        return gettext.GNUTranslations(io.BytesIO(compile_po(po_path.read_text("utf-8"), str(po_path))))
    log.warning("no catalog for language %r under %s; the notice falls back to English", lang, locale_dir)
    return found
