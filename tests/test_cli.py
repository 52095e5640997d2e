"""The command frame: every command and subcommand has help with an example."""

from __future__ import annotations

import argparse

import pytest

from spamguard import cli


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.extend(_commands(sub, (*prefix, name)))
    return found


COMMANDS = _commands(cli.build_parser())


def test_the_commands_the_issues_ask_for_are_there() -> None:
    """The top-level commands users are told about all exist."""
    top = {c[0] for c in COMMANDS if c}
    assert {"check", "verify-key", "train", "evaluate", "rescore", "serve", "notice", "feedback", "keys"} <= top


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "spamguard")
def test_every_command_has_help_with_an_example(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    """`spamguard ... -h` exits 0, prints usage and an example on stdout, nothing on stderr."""
    with pytest.raises(SystemExit) as info:
        cli.main([*command, "-h"])
    out, err = capsys.readouterr()
    assert info.value.code == 0 and err == ""
    assert out.startswith("usage: spamguard")
    assert "example" in out.lower()
