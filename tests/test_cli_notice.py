"""``spamguard notice`` as a real subprocess: exit status, stdout and stderr."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from spamguard.notice import Service, disclosure, policy_text


@pytest.fixture(autouse=True)
def _no_display_override(monkeypatch):
    """The notice is shown by default; a SPAMGUARD_NOTICE_DISPLAY in the caller's shell must not leak in."""
    monkeypatch.delenv("SPAMGUARD_NOTICE_DISPLAY", raising=False)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "spamguard", "notice", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "SPAMGUARD_NOTICE_DISPLAY"},
    )


def test_prints_the_german_html_notice():
    """--lang picks the language; the notice is the whole of stdout."""
    result = run("--lang", "de-AT")
    assert (result.returncode, result.stdout, result.stderr) == (0, disclosure("de") + "\n", "")


def test_named_service_in_markdown():
    """--service NAME with --service-url names another Akismet-compatible service."""
    result = run(
        "--service", "TypePad AntiSpam", "--service-url", "https://antispam.example/p", "--format", "markdown"
    )
    expected = disclosure(service=Service("TypePad AntiSpam", "https://antispam.example/p"), fmt="markdown")
    assert (result.returncode, result.stdout, result.stderr) == (0, expected + "\n", "")


def test_policy_paragraph_with_retention():
    """--policy prints the privacy-policy paragraph."""
    result = run("--policy", "--lang", "pl", "--format", "text", "--retention-days", "3", "--service", "local")
    expected = policy_text("pl", service="local", retention_days=3, fmt="text")
    assert (result.returncode, result.stdout, result.stderr) == (0, expected + "\n", "")
    assert "3 dni" in result.stdout


def test_unsafe_url_fails_with_a_message():
    """A javascript: URL is refused: exit 1, nothing on stdout, the value named on stderr."""
    result = run("--privacy-url", "javascript:alert(1)")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "spamguard: error: privacy_url: 'javascript:alert(1)' is not an absolute http(s) URL"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--service", "Other"], "needs --service-url"),
        (["--service", "akismet", "--service-url", "https://x.example/"], "use --privacy-url"),
        (["--retention-days", "9"], "go with --policy"),
        (["--format", "pdf"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(args, message):
    """Contradictory or missing options are usage errors."""
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_unknown_language_warns_and_writes_english():
    """An unsupported language still gives a notice (English) and says so on stderr."""
    result = run("--lang", "tlh", "--format", "text")
    assert result.returncode == 0
    assert result.stdout == disclosure("en", fmt="text") + "\n"
    assert result.stderr == "spamguard: warning: no notice in language 'tlh'; writing English\n"


def test_help_has_an_example():
    """-h shows usage and an example."""
    result = run("-h")
    assert result.returncode == 0
    assert "spamguard notice --lang de" in result.stdout


def test_in_process_main_prints_the_notice(capsys):
    """cli.main runs the same command in-process (the form other tools embed)."""
    from spamguard.cli import main

    assert main(["notice", "--lang", "cs", "--format", "text", "--service", "local", "--site-name", "Blog"]) == 0
    captured = capsys.readouterr()
    assert captured.out == disclosure("cs", service="local", site_name="Blog", fmt="text") + "\n"
    assert captured.err == ""


def test_in_process_usage_error_exits_2(capsys):
    """A usage error in-process is argparse's SystemExit(2) with the message on stderr."""
    from spamguard.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["notice", "--erasure-contact", "x@example.org"])
    assert caught.value.code == 2
    assert "go with --policy" in capsys.readouterr().err
