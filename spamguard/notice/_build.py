"""Compile the notice's ``.po`` catalogs into ``.mo`` files with Babel (a build step).

``setup.py`` loads this file by path while a wheel (or an editable install) is built, with
Babel from ``[build-system] requires``; it imports nothing of spamguard so it runs before
spamguard's own dependencies exist. Tests call :func:`compile_catalogs` on a temporary
directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["DOMAIN", "CatalogError", "compile_catalogs"]

DOMAIN = "spamguard"


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class CatalogError(Exception):
    """Raised when a catalog has errors that would make a broken ``.mo``."""


def compile_catalogs(source_dir: str | Path, dest_dir: str | Path, domain: str = DOMAIN) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/<domain>.po`` under ``source_dir`` into ``dest_dir``.

    Returns the ``.mo`` paths written. Raises :class:`CatalogError` (naming the file) when
    Babel finds errors in a catalog, rather than shipping a half-working one.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    source_dir, dest_dir = Path(source_dir), Path(dest_dir)
    written: list[Path] = []
    for po_path in sorted(source_dir.glob(f"*/LC_MESSAGES/{domain}.po")):
        lang = po_path.parent.parent.name
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain=domain)
        problems = [f"{message.id!r}: {error}" for message, errors in catalog.check() for error in errors]
        problems += _placeholder_problems(catalog)
        if problems:
            raise CatalogError(f"{po_path}: " + "; ".join(problems))
        mo_path = dest_dir / lang / "LC_MESSAGES" / f"{domain}.mo"
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog)
        written.append(mo_path)
    return written


def _placeholder_problems(catalog: Any) -> list[str]:
    """Translations that would render wrongly: a plural form left empty, placeholders that differ."""
    problems = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        if any(forms) and not all(forms):
            problems.append(f"{message.id!r}: a plural form is empty")
        wanted = set(_PLACEHOLDER.findall(source))
        for form in filter(None, forms):
            if set(_PLACEHOLDER.findall(form)) != wanted:
                problems.append(f"{message.id!r}: placeholders of {form!r} differ from {sorted(wanted)}")
    return problems
