"""Readers and writers for comment dumps: JSONL, CSV, TSV and WordPress WXR.

:func:`read_dump` reads any of them (WXR included, detected from XML content or a ``.xml``
name); :func:`read_records` reads JSONL, CSV, TSV and plain lines; :func:`read_wxr` reads
WordPress exports.

Every reader yields, in input order, either a :class:`Record` (a comment it could read) or a
:class:`Reject` (one it could not, with where and why), so batch work goes on past bad input
and reports it.
"""

from ._any import read_dump
from ._read import FORMATS, DumpFormatError, detect_format, read_records
from ._records import Record, Reject
from .wxr import read_wxr

__all__ = ["FORMATS", "DumpFormatError", "Record", "Reject", "detect_format", "read_dump", "read_records", "read_wxr"]
