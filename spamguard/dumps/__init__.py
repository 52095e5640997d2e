"""Readers and writers for comment dumps: JSONL, CSV, TSV and WordPress WXR.

Every reader yields, in input order, either a :class:`Record` (a comment it could read) or a
:class:`Reject` (one it could not, with where and why), so batch work goes on past bad input
and reports it.
"""

from ._read import FORMATS, DumpFormatError, detect_format, read_records
from ._records import Record, Reject

__all__ = ["FORMATS", "DumpFormatError", "Record", "Reject", "detect_format", "read_records"]
