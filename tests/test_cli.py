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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rescore", "in.jsonl", "--workers", "0"], "argument --workers: '0' must be at least 1"),
        (["rescore", "in.jsonl", "--max-rejects", "x"], "argument --max-rejects: 'x' is not a whole number"),
        (["rescore", "in.jsonl", "--rate", "0"], "argument --rate: '0' must be a positive number"),
        (["keys", "add", "--keys-file", "k.json", "--site", "https://a.example", "--limit", "-1"],
         "argument --limit: '-1' must be at least 0"),
        (["serve", "--threads", "many"], "argument --threads: 'many' is not a whole number"),
    ],
)
def test_bad_numbers_are_usage_errors_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A number option given a bad value exits 2 and says which option and why; nothing runs."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == ""
    assert message in err
