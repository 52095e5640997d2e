"""Readers and writers for comment dumps: JSONL, CSV, TSV and WordPress WXR.

:func:`read_dump` reads any of them (WXR included, detected from XML content or a ``.xml``
name); :func:`read_records` reads JSONL, CSV, TSV and plain lines; :func:`read_wxr` reads
WordPress exports.

Every reader yields, in input order, either a :class:`Record` (a comment it could read) or a
:class:`Reject` (one it could not, with where and why), so batch work goes on past bad input
and reports it.

The names imported below ``__all__``'s public ones are for :mod:`spamguard.batch`, which
reads dumps in pieces (raw JSONL lines on its workers, WXR comments parsed in one process and
built in others): they are internal to spamguard, not part of the public API, and may change.
"""

from ._any import dump_format as dump_format
from ._any import read_dump
from ._open import FORMATS as _READ_DUMP_FORMATS
from ._open import open_binary as open_binary
from ._open import source_name as source_name
from ._read import FORMATS, DumpFormatError, detect_format, read_records
from ._read import jsonl_item as jsonl_item
from ._records import Record, Reject
from .wxr import build_record as build_record
from .wxr import iter_raw_comments as iter_raw_comments
from .wxr import read_wxr

__all__ = ["FORMATS", "DumpFormatError", "Record", "Reject", "detect_format", "read_dump", "read_records", "read_wxr"]

# Internal, for spamguard.batch (see the module docstring): the names imported "as" themselves
# above, and this one.
DUMP_FORMATS = _READ_DUMP_FORMATS
"""The formats :func:`read_dump` reads: :data:`FORMATS` and ``wxr``."""
