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


# What decides the default notice: the same settings spamguard check reads.
CONFIGURATION = ("SPAMGUARD_NOTICE_DISPLAY", "SPAMGUARD_AKISMET_KEY", "PYTHON_AKISMET_API_KEY", "SPAMGUARD_AKISMET_URL",
                 "SPAMGUARD_GUARD_MODE")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "spamguard", "notice", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**{k: v for k, v in os.environ.items() if k not in CONFIGURATION}, **(env or {})},
    )


def test_prints_the_german_html_notice():
    """--lang picks the language; the notice is the whole of stdout."""
    result = run("--lang", "de-AT", "--service", "akismet")
    assert (result.returncode, result.stdout, result.stderr) == (0, disclosure("de") + "\n", "")


PRIVACY = "https://spam.example.org/privacy"


@pytest.mark.parametrize(("env", "args", "service"), [
    ({}, [], "local"),
    ({"SPAMGUARD_AKISMET_KEY": "k-123"}, [], "akismet"),
    ({"PYTHON_AKISMET_API_KEY": "k-123", "SPAMGUARD_AKISMET_URL": "https://rest.akismet.com"}, [], "akismet"),
    ({"SPAMGUARD_AKISMET_KEY": "k-123", "SPAMGUARD_GUARD_MODE": "local-only"}, [], "local"),
    ({"SPAMGUARD_AKISMET_KEY": "k-123", "SPAMGUARD_AKISMET_URL": "http://127.0.0.1:8080"}, [], "local"),
    ({"SPAMGUARD_AKISMET_KEY": "k-123", "SPAMGUARD_AKISMET_URL": "https://spam.example.org/akismet"},
     ["--privacy-url", PRIVACY], Service("spam.example.org", PRIVACY)),
], ids=["no-key", "key", "key-akismet-url", "local-only", "loopback-server", "self-hosted"])
def test_the_default_follows_the_configuration_like_check(env, args, service):
    """Without --service the notice names whoever the configuration sends comment data to."""
    result = run("--format", "text", *args, env=env)
    expected = disclosure(service=service, fmt="text", privacy_url=args[1] if args else None)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected + "\n", "")


def test_a_self_hosted_service_without_its_privacy_page_is_a_usage_error():
    """A service at another address is not Akismet: the notice will not say Akismet, nor link nowhere."""
    result = run(env={"SPAMGUARD_AKISMET_KEY": "k-123", "SPAMGUARD_AKISMET_URL": "https://spam.example.org/"})
    assert (result.returncode, result.stdout) == (2, "")
    assert "argument --privacy-url: comment data goes to the Akismet-compatible service at " \
           "https://spam.example.org/, not to Akismet" in result.stderr
    assert "--service NAME --service-url URL" in result.stderr


def test_the_choice_is_made_by_the_shared_function():
    """spamguard.notice.service_for_remote is the one decision, for the CLI and for Guard.notice."""
    from spamguard import InvalidNoticeSettingError
    from spamguard.notice import service_for_remote

    assert service_for_remote(None) == "local"
    assert service_for_remote("https://rest.akismet.com") == "akismet"
    assert service_for_remote("https://abc123.rest.akismet.com/") == "akismet"
    assert service_for_remote("http://[::1]:8080/akismet") == "local"
    assert service_for_remote("https://spam.example.org:8443/x", privacy_url=PRIVACY) == \
        Service("spam.example.org", PRIVACY)
    assert service_for_remote("https://spam.example.org/") == Service("spam.example.org")
    with pytest.raises(InvalidNoticeSettingError, match="not the address of a spam service"):
        service_for_remote("not a url")


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


@pytest.mark.parametrize(("args", "message"), [
    (["--privacy-url", "javascript:alert(1)"], "argument --privacy-url: 'javascript:alert(1)' is not an absolute"),
    (["--service", "X", "--service-url", "data:x"], "argument --service-url: 'data:x' is not an absolute"),
    (["--service", "X\tY", "--service-url", "https://x.example/"], "argument --service: 'X\\tY' must be one line"),
    (["--service", "local", "--site-name", "a\nb"], "argument --site-name: 'a\\nb' must be one line"),
    (["--policy", "--retention-days", "0"], "argument --retention-days: expected a whole number of days >= 1"),
])
def test_a_bad_value_names_the_option(args, message):
    """A value the notice refuses is a usage error (exit 2) naming the option, not a Python argument."""
    result = run(*args)
    assert (result.returncode, result.stdout) == (2, "")
    assert f"spamguard notice: error: {message}" in result.stderr


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
    assert result.stdout == disclosure("en", service="local", fmt="text") + "\n"
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
