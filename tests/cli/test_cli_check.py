"""The ``spamguard`` command line: ``--version``, help, ``verify-key`` and ``check``.

Exit code, stdout and stderr are asserted separately. ``check`` runs against FakeAkismet,
configured through the same environment variables a user sets.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

import spamguard
from spamguard import cli
from spamguard.testing import FakeAkismet

KEY = "cli-test-key-0123456789"
BLOG = "https://blog.example/"
ENV_NAMES = ["SPAMGUARD_AKISMET_KEY", "PYTHON_AKISMET_API_KEY", "SPAMGUARD_BLOG_URL", "PYTHON_AKISMET_BLOG_URL",
             "SPAMGUARD_AKISMET_URL", "SPAMGUARD_AKISMET_TIMEOUT"]
@pytest.fixture
def server() -> Iterator[FakeAkismet]:
    with FakeAkismet(valid_keys={KEY}) as fake:
        yield fake


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def akismet_env(no_env: pytest.MonkeyPatch, server: FakeAkismet) -> pytest.MonkeyPatch:
    no_env.setenv("SPAMGUARD_AKISMET_KEY", KEY)
    no_env.setenv("SPAMGUARD_BLOG_URL", BLOG)
    no_env.setenv("SPAMGUARD_AKISMET_URL", server.url)
    return no_env


def run_main(capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str | None = None,
             monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def spamguard_cmd(
    args: list[str], stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    full_env.update(env or {})
    return subprocess.run(  # noqa: S603 - our own interpreter running our own package
        [sys.executable, "-m", "spamguard", *args], input=stdin, capture_output=True,
                          text=True, env=full_env, timeout=60, check=False)


# --- the frame ------------------------------------------------------------------------------------


def test_version() -> None:
    """--version prints the version on stdout and exits 0 (python -m spamguard works)."""
    proc = spamguard_cmd(["--version"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"spamguard {spamguard.__version__}\n", "")


def test_unknown_option_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown option exits 2 with the message on stderr."""
    with pytest.raises(SystemExit) as info:
        cli.main(["check", "--frobnicate", "x"])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == "" and "unrecognized arguments: --frobnicate" in err


# --- verify-key ---------------------------------------------------------------------------------------


def test_verify_key_valid(akismet_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid key from the environment: exit 0, 'valid' on stdout."""
    code, out, err = run_main(capsys, ["verify-key"])
    assert (code, out, err) == (0, f"valid: the key is accepted for {BLOG}\n", "")


def test_verify_key_invalid_from_options(
    no_env: pytest.MonkeyPatch, server: FakeAkismet, capsys: pytest.CaptureFixture[str]
) -> None:
    """--key/--blog/--base-url override the environment; an invalid key exits 1 without showing the key."""
    code, out, err = run_main(
        capsys, ["verify-key", "--key", "wrong-key-987654321", "--blog", BLOG, "--base-url", server.url]
    )
    assert code == 1
    assert out == f"invalid: the key is not accepted for {BLOG}\n"
    assert "check the key and the site URL" in err and "wrong-key-987654321" not in out + err


def test_verify_key_without_configuration(no_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No key anywhere: exit 1 and say which option to give or variable to set."""
    code, out, err = run_main(capsys, ["verify-key"])
    assert code == 1 and out == ""
    assert "give --key, or set SPAMGUARD_AKISMET_KEY" in err


def test_verify_key_service_down(akismet_env: pytest.MonkeyPatch, server: FakeAkismet,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A refused connection is a failure (exit 1) explained on stderr."""
    server.mode = "down"
    code, out, err = run_main(capsys, ["verify-key"])
    assert code == 1 and out == "" and "could not connect" in err and KEY not in err


# --- check against Akismet ---------------------------------------------------------------------------------


def test_check_text_ham(akismet_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                        server: FakeAkismet) -> None:
    """TEXT with options: ham exits 0 and prints the verdict; the options reach the service."""
    code, out, err = run_main(capsys, ["check", "--ip", "203.0.113.7", "--author", "Ann", "--email",
                                       "ann@example.com", "--url", "https://ann.example", "Nice post"])
    assert (code, out, err) == (0, "ham  source=akismet  action=approve\n", "")
    fields = server.requests[-1][1]
    assert {k: fields[k] for k in ("comment_content", "comment_author", "comment_author_email",
                                   "comment_author_url", "user_ip")} == {
        "comment_content": "Nice post", "comment_author": "Ann", "comment_author_email": "ann@example.com",
        "comment_author_url": "https://ann.example", "user_ip": "203.0.113.7"}


def test_check_text_spam_json(akismet_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Spam exits 3; --json prints Verdict.to_dict()."""
    code, out, err = run_main(capsys, ["check", "--json", "--ip", "203.0.113.7", "--author",
                                       "akismet-guaranteed-spam", "hello"])
    assert code == 3 and err == ""
    data = json.loads(out)
    assert (data["spam"], data["source"], data["score"], data["discard"]) == (True, "akismet", None, False)
    assert len(data["guid"]) == 32


@pytest.mark.parametrize(
    "payload",
    [
        {"comment_content": "Buy viagra", "user_ip": "203.0.113.7", "comment_author": "Bob"},
        {"content": "Buy viagra", "user_ip": "203.0.113.7", "author": "Bob"},
    ],
    ids=["akismet-names", "short-names"],
)
def test_check_json_on_stdin(akismet_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                             server: FakeAkismet, payload: dict[str, str]) -> None:
    """No TEXT: a JSON comment on stdin, in Akismet or short names."""
    code, out, err = run_main(capsys, ["check"], stdin=json.dumps(payload), monkeypatch=akismet_env)
    assert (code, out, err) == (3, "spam  source=akismet  action=spam\n", "")
    assert server.requests[-1][1]["comment_author"] == "Bob"


def test_check_dash_reads_stdin_and_options_override(akismet_env: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str],
                                                     server: FakeAkismet) -> None:
    """'-' reads stdin too; an option replaces the JSON's field whichever name it used."""
    payload = {"comment_content": "hi", "user_ip": "198.51.100.1", "comment_author": "Old"}
    code, _, _ = run_main(capsys, ["check", "--author", "New", "-"], stdin=json.dumps(payload),
                          monkeypatch=akismet_env)
    assert code == 0
    assert server.requests[-1][1]["comment_author"] == "New"


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ('{"comment_content": "hi",\n "user_ip": }', "stdin: is not valid JSON: Expecting value at line 2, column 13"),
        ('["not", "an", "object"]', "stdin: must hold one JSON object (a comment), got list"),
        ('{"user_ip": "203.0.113.7"}', "content: is missing"),
        ('{"content": "hi", "user_ip": "300.1.2.3"}', "user_ip: '300.1.2.3' is not an IPv4 or IPv6 address"),
    ],
)
def test_check_bad_stdin(akismet_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                         server: FakeAkismet, stdin: str, message: str) -> None:
    """Broken or invalid JSON exits 1 with a message naming the problem and where; nothing is sent."""
    code, out, err = run_main(capsys, ["check"], stdin=stdin, monkeypatch=akismet_env)
    assert code == 1 and out == ""
    assert message in err
    assert server.requests == []


def test_check_missing_ip_with_akismet(server: FakeAkismet) -> None:
    """Akismet needs user_ip: nothing is sent, the local model decides, and stderr says why."""
    env = {"SPAMGUARD_AKISMET_KEY": KEY, "SPAMGUARD_BLOG_URL": BLOG, "SPAMGUARD_AKISMET_URL": server.url}
    proc = spamguard_cmd(["check", "hello"], env=env)
    assert proc.returncode == 0
    assert proc.stdout.startswith("ham  source=local  action=approve  fallback=invalid-comment  score=")
    assert "user_ip: is required by Akismet" in proc.stderr and "Traceback" not in proc.stderr
    assert server.requests == []


def test_check_backend_error_falls_back_visibly(akismet_env: pytest.MonkeyPatch, server: FakeAkismet,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A service answering 500 is never a silent ham: the local model decides and the output says so."""
    server.mode = "error"
    code, out, err = run_main(capsys, ["check", "--ip", "203.0.113.7", "hello"])
    assert code == 0 and out.startswith("ham  source=local  action=approve  fallback=unavailable  score=")


def test_check_subprocess_against_fake(server: FakeAkismet) -> None:
    """The installed command, in its own process, configured only by environment variables."""
    env = {"SPAMGUARD_AKISMET_KEY": KEY, "SPAMGUARD_BLOG_URL": BLOG, "SPAMGUARD_AKISMET_URL": server.url}
    proc = spamguard_cmd(["check", "--json"], stdin='{"comment_content": "hi", "user_ip": "203.0.113.7"}', env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["spam"] is False and proc.stderr == ""


# --- check with no key ------------------------------------------------------------------------------------


def test_check_without_any_backend_explains(tmp_path) -> None:
    """No key and a local model that cannot load: exit 1, nothing on stdout, and say what to configure."""
    missing = tmp_path / "no-such-model.joblib"
    proc = spamguard_cmd(["check", "hello"], env={"SPAMGUARD_MODEL": str(missing)})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(
        "spamguard: error: no spam-checking backend is available: set SPAMGUARD_AKISMET_KEY and "
        "SPAMGUARD_BLOG_URL to use Akismet, or fix the local model (the local model could not be loaded: "
    )
    assert str(missing) in proc.stderr


@pytest.mark.parametrize(
    ("text", "code", "spam"),
    [
        ("Thanks, this fixed my build. The second example was what I needed.", 0, False),
        ("Check out my channel http://bit.ly/free-money subscribe and win a free iPhone!!!", 3, True),
    ],
)
def test_check_without_key_uses_the_shipped_local_model(text: str, code: int, spam: bool) -> None:
    """No key: the shipped default model answers, offline, with a score and an action."""
    proc = spamguard_cmd(["check", "--json", text])
    assert proc.returncode == code, proc.stderr
    verdict = json.loads(proc.stdout)
    assert (verdict["spam"], verdict["source"]) == (spam, "local")
    assert 0.0 <= verdict["score"] <= 1.0
    assert verdict["action"] in (("spam", "discard") if spam else ("approve", "hold"))


def test_check_falls_back_to_the_local_model_when_akismet_is_down(server: FakeAkismet) -> None:
    """A key is configured but the service refuses connections: the local model decides, and says so."""
    server.mode = "down"
    env = {"SPAMGUARD_AKISMET_KEY": KEY, "SPAMGUARD_BLOG_URL": BLOG, "SPAMGUARD_AKISMET_URL": server.url}
    proc = spamguard_cmd(["check", "--json", "--ip", "203.0.113.7", "Nice write-up, thanks."], env=env)
    assert proc.returncode == 0, proc.stderr
    verdict = json.loads(proc.stdout)
    assert verdict["source"] == "local" and verdict["fallback_reason"] is not None


# --- what check refuses, and what it sends -----------------------------------------------------------------


@pytest.mark.parametrize(("argv", "message"), [
    (["check", ""], "TEXT is empty: give the comment's text"),
    (["check", " \t\n "], "TEXT is empty: give the comment's text"),
    (["check", "--email", "notanemail", "hi"], "argument --email: 'notanemail' is not an e-mail address (NAME@DOMAIN)"),
    (["check", "--ip", "bogus", "hi"], "argument --ip: 'bogus' is not an IPv4 or IPv6 address"),
    (["check", "--url", "javascript:alert(1)", "hi"], "argument --url: 'javascript:alert(1)' is not an http(s) URL"),
    (["check", "--referrer", "ftp://x.example/", "hi"], "argument --referrer: 'ftp://x.example/' is not an http(s)"),
    (["check", "--permalink", "/p/1", "hi"], "argument --permalink: '/p/1' is not an http(s) URL"),
], ids=["empty", "blank", "email", "ip", "url", "referrer", "permalink"])
def test_check_refuses_bad_options_naming_them(
    akismet_env: pytest.MonkeyPatch, server: FakeAkismet, capsys: pytest.CaptureFixture[str],
    argv: list[str], message: str,
) -> None:
    """An empty comment or a value the comment cannot take is a usage error (exit 2) that names the option and
    shows check's usage; nothing is judged, nothing is sent."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert (info.value.code, out) == (2, "")
    assert err.startswith("usage: spamguard check ") and f"spamguard check: error: {message}" in err
    assert server.requests == []


def test_check_refuses_a_json_comment_without_text(akismet_env: pytest.MonkeyPatch, server: FakeAkismet,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A JSON comment whose content is blank is bad input (exit 1), not a ham."""
    code, out, err = run_main(capsys, ["check"], stdin='{"content": "   ", "user_ip": "203.0.113.7"}',
                              monkeypatch=akismet_env)
    assert (code, out) == (1, "")
    assert err == "spamguard: error: stdin: the comment's content is empty; there is nothing to judge\n"
    assert server.requests == []


def test_the_comment_keeps_any_author_email_the_cli_checks_its_own(akismet_env: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   server: FakeAkismet) -> None:
    """Comment keeps what a visitor typed (a bot's junk address is evidence); only the --email flag is checked,
    so the same value in a JSON comment still reaches the service."""
    assert spamguard.Comment(content="x", author_email="notanemail").author_email == "notanemail"
    payload = {"content": "hi", "user_ip": "203.0.113.7", "comment_author_email": "notanemail"}
    code, _, _ = run_main(capsys, ["check"], stdin=json.dumps(payload), monkeypatch=akismet_env)
    assert code == 0 and server.requests[-1][1]["comment_author_email"] == "notanemail"


def test_check_sends_user_agent_referrer_permalink_and_type(akismet_env: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str],
                                                            server: FakeAkismet) -> None:
    """The four new options reach the service under Akismet's names, replacing a JSON comment's values."""
    payload = {"comment_content": "Thanks!", "user_ip": "203.0.113.7", "comment_type": "comment",
               "user_agent": "curl/8"}
    code, _, err = run_main(capsys, ["check", "--user-agent", "Mozilla/5.0 (X11)", "--referrer",
                                     "https://blog.example/", "--permalink", "https://blog.example/p/1",
                                     "--type", "reply", "-"], stdin=json.dumps(payload), monkeypatch=akismet_env)
    assert (code, err) == (0, "")
    fields = server.requests[-1][1]
    assert {k: fields[k] for k in ("user_agent", "referrer", "permalink", "comment_type")} == {
        "user_agent": "Mozilla/5.0 (X11)", "referrer": "https://blog.example/", "permalink": "https://blog.example/p/1",
        "comment_type": "reply"}


def test_a_filled_honeypot_is_one_reason(no_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The local model and the policy both know the honeypot; the verdict names it once (issue 14, item 17)."""
    payload = {"content": "Nice post, thanks", "honeypot_field_name": "hp", "honeypot_value": "x"}
    code, out, _ = run_main(capsys, ["check", "--json"], stdin=json.dumps(payload), monkeypatch=no_env)
    reasons = json.loads(out)["reasons"]
    assert code == 3 and reasons.count(spamguard.HONEYPOT_REASON) == 1


@pytest.mark.parametrize(("argv", "message"), [
    (["verify-key", "--key", "k", "--blog", "blog.example"],
     "argument --blog: 'blog.example' is not a full http:// or https:// URL"),
    (["verify-key", "--key", "k", "--blog", BLOG, "--base-url", "ftp://x.example"],
     "argument --base-url: 'ftp://x.example' is not a full http:// or https:// URL"),
])
def test_verify_key_bad_urls_name_the_option(no_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                             argv: list[str], message: str) -> None:
    """A --blog or --base-url that is not an http(s) URL is a usage error naming the option (it said 'blog')."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_verify_key_without_a_site_names_the_option_and_the_variable(
    no_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key but no site: say --blog as well as the variable."""
    code, out, err = run_main(capsys, ["verify-key", "--key", "k-1"])
    assert (code, out) == (1, "")
    assert err == ("spamguard: error: no site URL: give --blog with your site's front page "
                   "(e.g. https://blog.example/), or set SPAMGUARD_BLOG_URL\n")
