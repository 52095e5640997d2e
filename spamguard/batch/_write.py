"""Writing re-scored records as JSONL or CSV, a chunk of rows at a time, as bytes.

Writers turn rows (dicts with the :data:`OUTPUT_FIELDS`) into encoded bytes, so a batch run
can count the bytes it has written and cut the file back to a known point when it resumes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring as _text_json
from typing import Any

__all__ = ["OUTPUT_FIELDS", "OUTPUT_FORMATS", "JsonlWriter", "CsvWriter", "writer_for", "output_format_for"]

OUTPUT_FIELDS = ("position", "id", "spam", "score", "action", "source", "reasons", "old_status", "changed")
"""The fields of one output record, in column order."""

OUTPUT_FORMATS = ("jsonl", "csv")
"""Formats a batch run writes."""

_JSON_LINE = json.JSONEncoder(ensure_ascii=False)
_LITERAL = {None: "null", True: "true", False: "false"}


def _json_line(row: Mapping[str, Any]) -> str:
    """``json.dumps(row, ensure_ascii=False)``, formatted directly for the usual output row (twice as fast).

    Only a dict with exactly the :data:`OUTPUT_FIELDS`, in order, with the usual value types
    takes the direct way; anything else goes through the json encoder.
    """
    if type(row) is dict and tuple(row) == OUTPUT_FIELDS:
        position, ident, spam, score = row["position"], row["id"], row["spam"], row["score"]
        action, source, reasons, old, changed = (
            row["action"], row["source"], row["reasons"], row["old_status"], row["changed"])
        if (
            type(position) is int and (ident is None or type(ident) is str) and type(spam) is bool
            and (score is None or (type(score) is float and math.isfinite(score)))
            and type(action) is str and type(source) is str and type(reasons) is list
            and (old is None or type(old) is str) and (changed is None or type(changed) is bool)
            and all(type(reason) is str for reason in reasons)
        ):
            text = _text_json
            return (
                f'{{"position": {position}, "id": {"null" if ident is None else text(ident)}, '
                f'"spam": {_LITERAL[spam]}, "score": {"null" if score is None else float.__repr__(score)}, '
                f'"action": {text(action)}, "source": {text(source)}, "reasons": [{", ".join(map(text, reasons))}], '
                f'"old_status": {"null" if old is None else text(old)}, "changed": {_LITERAL[changed]}}}'
            )
    return _JSON_LINE.encode(row)


class JsonlWriter:
    """One JSON object a line (UTF-8), fields in :data:`OUTPUT_FIELDS` order."""

    format = "jsonl"

    def header(self) -> bytes:
        """What goes before the first record (nothing, for JSONL)."""
        return b""

    def encode(self, rows: Iterable[Mapping[str, Any]]) -> bytes:
        """The rows as bytes, each ending in a newline."""
        return "".join([_json_line(row) + "\n" for row in rows]).encode("utf-8")


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
