"""Help for every command: one formatter, one shape of examples, parsers that help with mistakes.

A command uses them with one argument to ``add_parser``::

    parser = subparsers.add_parser("check", help=..., description=..., epilog=examples(...),
                                   formatter_class=HelpFormatter)

* :class:`HelpFormatter` wraps the prose of descriptions and epilogs to the terminal's width and
  keeps indented lines (example commands, small tables) exactly as written.
* :func:`examples` writes an epilog that starts with the one heading every command uses,
  ``examples:``, followed by the commands indented by two spaces.
* :class:`ArgumentParser` suggests the closest choice for a mistyped one ("did you mean
  'check'?"), commands included; :class:`SubcommandParser`, the class of every subcommand's
  parser, reports an unknown argument with that subcommand's usage, not the program's.
  (argparse gained ``suggest_on_error`` in Python 3.14; spamguard supports 3.10, so difflib.)
"""

from __future__ import annotations

import argparse
import difflib
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

EXAMPLES_HEADING = "examples:"


def examples(*commands: str, notes: str = "") -> str:
    """An epilog: the ``examples:`` heading, each command on its own indented line, then ``notes`` (prose)."""
    text = EXAMPLES_HEADING + "\n" + "\n".join(f"  {command}" for command in commands)
    return f"{text}\n\n{notes}" if notes else text


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose paragraphs to the terminal; keeps lines that start with a space as written.

    A paragraph is a run of lines that do not start with a space; blank lines separate them, and
    a line ending in ``:`` (a heading such as ``examples:``) stands alone.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                out.extend(self._wrap(" ".join(paragraph), width, indent))
                paragraph.clear()

        for line in text.strip("\n").splitlines():
            if not line.strip():
                flush()
                out.append("")
            elif line[0].isspace():
                flush()
                out.append(indent + line.rstrip())
            else:
                paragraph.append(line.strip())
                if line.rstrip().endswith(":"):
                    flush()
        flush()
        return "\n".join(out)

    @staticmethod
    def _wrap(text: str, width: int, indent: str) -> list[str]:
        return textwrap.wrap(text, max(width, 20), initial_indent=indent, subsequent_indent=indent,
                             break_on_hyphens=False) or [indent]


def _closest(value: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, saying which choice was probably meant when a value is not one of them."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(choice) for choice in choices]
        guess = _closest(str(value), names)
        hint = f"; did you mean {guess!r}?" if guess else ""
        raise argparse.ArgumentError(
            action, f"invalid choice: {value!r}{hint} (choose from {', '.join(map(repr, names))})"
        )


class SubcommandParser(ArgumentParser):
    """The parser of a subcommand: an argument it does not know is reported with its own usage."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._option_hint(extras)}")
        return parsed, extras

    def _option_hint(self, extras: Sequence[str]) -> str:
        for extra in extras:
            if extra.startswith("--"):
                guess = _closest(extra.split("=", 1)[0], self._option_string_actions)
                if guess:
                    return f" (did you mean {guess}?)"
        return ""
