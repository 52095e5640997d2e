"""Ctrl-C during a rescore run: stop between chunks, with the progress saved (:class:`DeferredInterrupt`)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["DeferredInterrupt"]


class DeferredInterrupt:
    """Ctrl-C stops the run between chunks, not inside a library call; a second Ctrl-C stops it at once."""

    def __init__(self) -> None:
        self.requested = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Defer Ctrl-C inside the block.

        Only in the main thread, and only when SIGINT has Python's default handler (an
        application's own handler, or SIGINT ignored, is left alone).
        """
        if threading.current_thread() is not threading.main_thread() or (
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield
            return

        def on_sigint(signum: int, frame: Any) -> None:
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True

        signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def check(self) -> None:
        """Raise KeyboardInterrupt when Ctrl-C was pressed: the run stops here, at a chunk boundary."""
        if self.requested:
            raise KeyboardInterrupt
