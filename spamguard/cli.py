"""The ``spamguard`` command: parses arguments, calls the library, prints the result.

Each subcommand lives in its own module under ``spamguard._cli`` and exposes
``register(subparsers)``; this module builds the parser, runs the chosen command and turns
library errors into messages on stderr and exit statuses.

Exit statuses (every command):

* ``0``: success (for ``check``: the comment is not spam)
* ``1``: failure (bad input, a backend that could not answer, a file that could not be read)
* ``2``: usage error (unknown option, missing argument)
* ``3``: ``check`` only: the comment is spam
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from . import __version__
from ._cli._help import ArgumentParser, HelpFormatter, SubcommandParser, examples
from ._spelling import command_line
from .errors import SpamGuardError

__all__ = ["main", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_SPAM"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_SPAM = 3

# Modules under spamguard._cli, one a subcommand (or a group of them), in help order.
_COMMAND_MODULES: list[str] = [
    "verify_key",
    "check",
    "notice",
    "train",
    "evaluate",
    "feedback",
    "serve",
    "keys",
    "rescore",
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand registered."""
    parser = ArgumentParser(
        prog="spamguard",
        description="Keep comment spam off web sites: check comments, re-score dumps, train the local model. "
        "'spamguard COMMAND -h' tells more about each command.",
        epilog=examples(
            'spamguard check "Great post, visit http://cheap.example"',
            "spamguard rescore comments.jsonl -o verdicts.jsonl",
            "spamguard notice --lang de",
            notes="Exit status: 0 success (check: not spam), 1 failure, 2 usage error, 3 (check) spam.",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spamguard {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more on stderr (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=SubcommandParser)
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"spamguard._cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="spamguard: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with command_line():  # library messages name the flags the user typed, not Python arguments
            return int(handler(args))
    except SpamGuardError as exc:
        print(f"spamguard: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("spamguard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _entry() -> None:  # pragma: no cover - console script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
