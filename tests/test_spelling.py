"""Messages name options as the user gave them: Python arguments in the library, flags on the command line."""

from __future__ import annotations

import threading

import pytest

from spamguard._spelling import command_line, option


@pytest.mark.parametrize(
    ("args", "python", "flag"),
    [
        (("max_rejects",), "max_rejects", "--max-rejects"),
        (("resume", True), "resume=True", "--resume"),
        (("executor", "threads"), "executor='threads'", "--executor threads"),
        (("max_rejects", 5), "max_rejects=5", "--max-rejects 5"),
    ],
)
def test_an_option_is_a_python_argument_or_a_flag(args, python, flag):
    """option() gives the Python spelling, and the flag's inside command_line()."""
    assert option(*args) == python
    with command_line():
        assert option(*args) == flag
    assert option(*args) == python


def test_the_command_line_spelling_stays_in_its_own_thread():
    """Another thread (a web app's, say) running the library meanwhile still gets Python names."""
    seen = []
    with command_line():
        thread = threading.Thread(target=lambda: seen.append(option("resume", True)))
        thread.start()
        thread.join()
    assert seen == ["resume=True"]
