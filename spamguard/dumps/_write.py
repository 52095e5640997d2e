"""Writing re-scored records as JSONL or CSV, a chunk of rows at a time, as bytes.

Writers turn rows (dicts with the :data:`OUTPUT_FIELDS`) into encoded bytes, so a batch run
can count the bytes it has written and cut the file back to a known point when it resumes.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["OUTPUT_FIELDS", "OUTPUT_FORMATS", "JsonlWriter", "CsvWriter", "writer_for", "output_format_for"]

OUTPUT_FIELDS = ("position", "id", "spam", "score", "action", "source", "reasons", "old_status", "changed")
"""The fields of one output record, in column order."""

OUTPUT_FORMATS = ("jsonl", "csv")
"""Formats a batch run writes."""


class JsonlWriter:
    """One JSON object a line (UTF-8), fields in :data:`OUTPUT_FIELDS` order."""

    format = "jsonl"

    def header(self) -> bytes:
        """What goes before the first record (nothing, for JSONL)."""
        return b""

    def encode(self, rows: Iterable[Mapping[str, Any]]) -> bytes:
        """The rows as bytes, each ending in a newline."""
        dumps = json.dumps
        return "".join([dumps(row, ensure_ascii=False) + "\n" for row in rows]).encode("utf-8")


class CsvWriter:
    """A header line, then one row a record; ``reasons`` joined by ``"; "``, booleans as true/false."""

    format = "csv"

    def header(self) -> bytes:
        """The header line."""
        return self._encode([list(OUTPUT_FIELDS)])

    def encode(self, rows: Iterable[Mapping[str, Any]]) -> bytes:
        """The rows as CSV bytes (RFC 4180 quoting, ``\\r\\n`` line ends)."""
        return self._encode([[_cell(row.get(name)) for name in OUTPUT_FIELDS] for row in rows])

    @staticmethod
    def _encode(table: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(table)
        return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def writer_for(format: str) -> JsonlWriter | CsvWriter:
    """The writer for an output format (``jsonl`` or ``csv``)."""
    if format == "jsonl":
        return JsonlWriter()
    if format == "csv":
        return CsvWriter()
    raise ValueError(f"unknown output format {format!r}; use one of {', '.join(OUTPUT_FORMATS)}")


def output_format_for(path: str | os.PathLike[str] | None) -> str:
    """The output format a file name asks for: ``csv`` for ``.csv`` (or ``.csv.gz``), else ``jsonl``."""
    if path is None:
        return "jsonl"
    name = os.fspath(path).lower().removesuffix(".gz")
    return "csv" if name.endswith(".csv") else "jsonl"
