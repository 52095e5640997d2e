"""One entry point for every dump format: :func:`read_dump` (JSONL, CSV, TSV, lines and WordPress WXR)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._open import FORMATS, open_binary, sniff_format, source_name
from ._read import DumpFormatError, detect_format, read_records
from ._records import Record, Reject
from .wxr import read_wxr

__all__ = ["read_dump", "dump_format"]


def dump_format(head: bytes, path_or_file: Any) -> str:
    """The format of a dump from its name and first bytes: WXR for XML, else what :func:`detect_format` says."""
    fmt = sniff_format(head, source_name(path_or_file))
    if fmt is not None:
        return fmt
    return detect_format(path_or_file, sample=head.decode("utf-8-sig", "replace"))  # a BOM, as read_records reads it


def read_dump(path_or_file: Any, format: str | None = None, *, source: str | None = None) -> Iterator[Record | Reject]:
    """Yield the comments of any dump spamguard reads, in order: Records, and Rejects for bad ones.

    Like :func:`read_records`, and WordPress WXR exports too (``format="wxr"``, or detected from
    a ``.xml`` name or XML content). ``path_or_file`` is a path, ``"-"`` or a binary file;
    gzip is undone.
    """
    if format is not None and format not in FORMATS:
        raise DumpFormatError(f"unknown dump format {format!r}; use one of {', '.join(FORMATS)}")
    stream, head = open_binary(path_or_file)
    name = source if source is not None else source_name(path_or_file)
    try:
        fmt = format or dump_format(head, path_or_file)
        if fmt == "wxr":
            yield from read_wxr(stream, source=name)
        else:
            yield from read_records(stream, fmt, source=name)
    finally:
        stream.close()
