"""Opening dumps as byte streams (files, ``-`` for stdin, gzip) and telling their format apart.

The readers and the batch engine share this: a dump is opened once as a binary stream with
gzip undone, its first bytes are looked at, and the format is taken from the option, the
file name or those bytes, in that order.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["FORMATS", "open_binary", "sniff_format", "source_name", "is_gzip_path"]

FORMATS = ("jsonl", "csv", "tsv", "lines", "wxr")
"""Dump formats spamguard reads (``lines``: one comment a line, see :func:`spamguard.dumps.read_records`)."""

_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xml": "wxr",
    ".wxr": "wxr",
}
_GZIP_MAGIC = b"\x1f\x8b"


def source_name(path_or_file: Any) -> str:
    """The name rejects and errors use for a dump: its path, ``<stdin>`` or the file's name."""
    if isinstance(path_or_file, (str, os.PathLike)):
        text = os.fspath(path_or_file)
        return "<stdin>" if text == "-" else str(text)
    name = getattr(path_or_file, "name", None)
    return name if isinstance(name, str) else "<stream>"


def is_gzip_path(path: str | os.PathLike[str]) -> bool:
    """True when a path names a gzip file (by its suffix)."""
    return os.fspath(path).lower().endswith(".gz")


def open_binary(path_or_file: Any) -> tuple[IO[bytes], bytes]:
    """Open a dump for reading as bytes, gzip undone; returns the stream and its first bytes.

    ``path_or_file`` is a path, ``"-"`` (standard input) or an open file (binary, or text,
    whose underlying buffer is used). The returned stream starts where the dump starts: the
    head bytes are only a look ahead. The caller closes the stream; closing it does not close
    standard input or a file the caller passed in. A plain file stays seekable.
    """
    raw: Any
    if isinstance(path_or_file, (str, os.PathLike)):
        if os.fspath(path_or_file) == "-":
            raw = io.BufferedReader(_Unclosed(sys.stdin.buffer), buffer_size=1 << 16)
        else:
            raw = open(path_or_file, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    else:
        stream = path_or_file
        if isinstance(stream, io.TextIOBase):
            stream = stream.buffer  # type: ignore[attr-defined]
        raw = io.BufferedReader(_Unclosed(stream), buffer_size=1 << 16)
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        raw = gzip.GzipFile(fileobj=raw, mode="rb")
    head = bytes(raw.peek(4096)[:4096])
    return raw, head


def sniff_format(head: bytes, name: str | None = None) -> str | None:
    """The dump format from a file name's suffix, else XML from its first bytes; None if unsure.

    Telling JSONL, CSV, TSV and plain lines apart by content is left to
    :func:`spamguard.dumps.detect_format`.
    """
    if name:
        lowered = name.lower()
        if lowered.endswith(".gz"):
            lowered = lowered[:-3]
        for suffix, fmt in _SUFFIXES.items():
            if lowered.endswith(suffix):
                return fmt
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "wxr"
    return None


def iter_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of a binary stream, newline kept (a thin name for readability)."""
    return iter(stream.readline, b"")


# --- helpers ----------------------------------------------------------------------------


class _Unclosed(io.RawIOBase):
    """Wraps a stream the caller owns so that closing ours leaves theirs open."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.name = getattr(stream, "name", "<stream>")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        try:
            return bool(self._stream.seekable())
        except (AttributeError, ValueError):
            return False

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n
