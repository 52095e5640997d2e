"""How a message names an option: as the Python argument a library caller passed, or as the command-line flag.

Library code writes ``option("max_rejects")`` where a message names an option; a command
runs the library inside :func:`command_line`, and the same message then names the flag the
user typed (``--max-rejects``), not a Python argument they never saw.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["option", "command_line"]

_ON_COMMAND_LINE: contextvars.ContextVar[bool] = contextvars.ContextVar("spamguard_command_line", default=False)
_NO_VALUE = object()


def option(name: str, value: object = _NO_VALUE) -> str:
    """The option ``name`` (its Python argument name), with ``value`` if one is given, as the user would write it.

    In Python: ``max_rejects``, ``resume=True``, ``executor='threads'``. On the command line:
    ``--max-rejects``, ``--resume``, ``--executor threads``.
    """
    if not _ON_COMMAND_LINE.get():
        return name if value is _NO_VALUE else f"{name}={value!r}"
    flag = "--" + name.replace("_", "-")
    if value is _NO_VALUE or value is True:
        return flag
    return f"{flag} {value}"


@contextlib.contextmanager
def command_line() -> Iterator[None]:
    """Inside the block (this thread or task), messages name options as command-line flags."""
    token = _ON_COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _ON_COMMAND_LINE.reset(token)
