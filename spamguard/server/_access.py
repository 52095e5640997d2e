"""The request log: one line per request, the key masked, written as the answer goes out.

A line reads::

    2026-11-29T07:09:34Z 127.0.0.1 POST /1.1/comment-check key=***3456 200 spam 1.8ms
    2026-11-29T07:09:35Z 127.0.0.1 POST /1.1/comment-check key=***3456 200 invalid 0.4ms help="Empty \"blog\" value..."

that is: the time (UTC), the client's address (the site's server, not its visitor), the
method, the path without its query string, the key as ``***`` and its last four
characters (``-`` when none was sent), the HTTP status, what was answered (``spam``,
``ham``, ``discard``, ``valid``, ``invalid``, ``thanks``, ``json``...), the time taken, and
for ``invalid`` the debug help sent to the client with the values it quotes from the request
replaced by ``'...'``; parameters a check left out are named in ``ignored=``. Comment text,
names, e-mail and visitor addresses never appear.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import TextIO

__all__ = ["AccessLog", "one_line", "redact"]


def one_line(text: str, limit: int = 200) -> str:
    """Text made safe for one log line: printable ASCII (others escaped), no blanks, at most ``limit``."""
    if text.isascii() and text.isprintable() and " " not in text and len(text) <= limit:
        return text
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(c if c.isprintable() and c != " " else f"\\x{ord(c):02x}" for c in escaped)
    return escaped[:limit]


# What a debug help quotes from the request, as repr() writes it: anything in single quotes, and in
# double quotes (repr's choice for text holding a single quote) except the parameter names the
# messages themselves put in double quotes ("api_key"), which repr would have single-quoted.
_QUOTED_VALUE = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?![a-z_]+\")(?:[^\"\\]|\\.)*\"")


def redact(text: str) -> str:
    """A debug help without the request's values it quotes: ``'...'`` in their place."""
    return _QUOTED_VALUE.sub("'...'", text)


def _quoted(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split()).encode("ascii", "backslashreplace").decode("ascii")
    return '"' + flat[:limit].replace("\\", "\\\\").replace('"', '\\"') + '"'


class AccessLog:
    """Writes request-log lines to a text stream (stderr, or a file opened for appending).

    Thread-safe, and each line goes out as its request is answered, so that ``tail -f`` and a
    service manager's journal see it at once: to a file or pipe in one system call (no lock),
    to any other stream (``io.StringIO``) written and flushed under a lock.
    """

    def __init__(self, stream: TextIO, *, close: bool = False) -> None:
        self.stream = stream
        self._close = close
        self._lock = threading.Lock()
        self._second = -1
        self._stamp = ""
        self._fd = _descriptor(stream)

    def __repr__(self) -> str:
        return f"AccessLog({getattr(self.stream, 'name', self.stream)!r})"

    def _now(self) -> str:
        now = int(time.time())
        if now != self._second:  # one strftime a second, not one a request
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
            self._second = now
        return self._stamp

    def write(self, *, client: str, method: str, path: str, key: str | None, status: int, answer: str,
              seconds: float, debug_help: str | None = None, ignored: str | None = None) -> None:
        """Log one answered request (``key`` already masked)."""
        line = (
            f"{self._now()} {one_line(client or '-', 64)} {one_line(method, 16)} {one_line(path)} "
            f"key={key or '-'} {status} {answer} {seconds * 1000:.1f}ms"
        )
        if debug_help:
            line += f" help={_quoted(redact(debug_help))}"
        if ignored:
            line += f" ignored={one_line(ignored, 300)}"
        try:
            if self._fd is not None:
                # One write() call a line, no lock: a line under PIPE_BUF (4 KiB) lands whole on a
                # pipe or a file opened for appending, and request threads never queue behind one
                # another here (a lock held across the system call cost 0.2 ms of CPU a request
                # at 800 requests/s on 2 cores).
                os.write(self._fd, (line + "\n").encode("ascii", "backslashreplace"))
                return
            with self._lock:
                self.stream.write(line + "\n")
                self.stream.flush()
        except (OSError, ValueError):  # a full disk or a closed stream must not fail the request
            pass

    def close(self) -> None:
        """Close the stream when the log opened it (a file), else only flush it."""
        with self._lock:
            try:
                if self._close:
                    self.stream.close()
                else:
                    self.stream.flush()
            except (OSError, ValueError):
                pass


def _descriptor(stream: TextIO) -> int | None:
    """The stream's file descriptor when it is a real file or pipe (its buffer emptied first), else None."""
    try:
        fd = stream.fileno()
        stream.flush()
    except (AttributeError, OSError, ValueError):  # StringIO, a closed or wrapped stream
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None

