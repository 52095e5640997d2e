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
import zlib
from collections.abc import Iterator
from typing import IO, Any

from ..errors import SpamGuardError

__all__ = ["FORMATS", "DumpFormatError", "open_binary", "sniff_format", "source_name", "is_gzip_path"]


class DumpFormatError(SpamGuardError, ValueError):
    """Raised when a dump cannot be read: missing, a directory, damaged gzip, or a format not told or not read."""


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

    Raises :class:`DumpFormatError` for a path that cannot be opened (missing, a directory,
    not permitted) and, then or while reading, for damaged gzip data, naming the file.
    """
    raw: Any
    if isinstance(path_or_file, (str, os.PathLike)):
        if os.fspath(path_or_file) == "-":
            raw = io.BufferedReader(_Unclosed(sys.stdin.buffer), buffer_size=1 << 16)
        else:
            raw = _open_path(path_or_file)
    else:
        stream = path_or_file
        if isinstance(stream, io.TextIOBase):
            stream = stream.buffer  # type: ignore[attr-defined]
        raw = io.BufferedReader(_Unclosed(stream), buffer_size=1 << 16)
    try:
        if raw.peek(2)[:2] == _GZIP_MAGIC:
            raw = _Gunzip(raw, source_name(path_or_file))
        head = bytes(raw.peek(4096)[:4096])
    except BaseException:
        raw.close()
        raise
    return raw, head


def _open_path(path: str | os.PathLike[str]) -> IO[bytes]:
    name = os.fspath(path)
    try:
        return open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except IsADirectoryError:
        raise DumpFormatError(f"cannot read {name!r}: it is a directory; give the path of a dump file") from None
    except OSError as exc:
        raise DumpFormatError(f"cannot open {name!r}: {exc.strerror or exc}") from exc


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


class _Gunzip(gzip.GzipFile):
    """A gzip stream that closes the stream under it with itself and names the file when its data is damaged.

    :class:`gzip.GzipFile` leaves a ``fileobj`` it was given open, and its errors for a
    truncated, corrupt or junk-trailed file (``EOFError``, ``zlib.error``, ``BadGzipFile``)
    name neither the file nor the place: here they become a :class:`DumpFormatError` that does.
    """

    def __init__(self, raw: IO[bytes], name: str) -> None:
        self._raw = raw
        self._dump_name = name
        super().__init__(fileobj=raw, mode="rb")

    def _damaged(self, exc: Exception) -> DumpFormatError:
        try:
            where = f" after {super().tell():,} bytes of uncompressed data"
        except (OSError, ValueError, EOFError, zlib.error):  # pragma: no cover - tell() after a failure
            where = ""
        if isinstance(exc, EOFError):
            what = "the gzip data ends early (the file is truncated)"
        elif str(exc).startswith("Not a gzipped file"):
            what = "bytes that are not gzip data follow the compressed data"
        else:
            what = f"the gzip data is damaged ({exc})"
        return DumpFormatError(
            f"{self._dump_name}: {what}{where}; the records after that point could not be read. "
            f"Compress or download the file again (gzip -t checks one)."
        )

    def read(self, size: int | None = -1) -> bytes:
        try:
            return super().read(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise self._damaged(exc) from None

    def read1(self, size: int = -1) -> bytes:
        try:
            return super().read1(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise self._damaged(exc) from None

    def peek(self, n: int = 0) -> bytes:
        try:
            return super().peek(n)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise self._damaged(exc) from None

    def readline(self, size: int | None = -1) -> bytes:
        try:
            return super().readline(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise self._damaged(exc) from None

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return super().seek(offset, whence)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise self._damaged(exc) from None

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


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
