"""`spamguard keys` and `spamguard serve` from the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys

import pytest
import requests

from spamguard.cli import main
from spamguard.server import KeyStore

SITE = "https://blog.example"


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_keys_add_prints_only_the_key(capsys, tmp_path):
    """keys add prints the new key alone on stdout; the file keeps its hash, mode 0600."""
    keys_file = tmp_path / "keys.json"
    status, out, err = run(capsys, "keys", "add", "--keys-file", str(keys_file), "--site", SITE,
                           "--site", "https://shop.example", "--limit", "5000")
    assert status == 0
    assert re.fullmatch(r"[0-9a-f]{12}\n", out)
    key = out.strip()
    assert "created key k_" in err and key not in err
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert key not in keys_file.read_text()
    (entry,) = KeyStore(keys_file).entries()
    assert (entry.sites, entry.limit, entry.revoked) == ((SITE, "https://shop.example"), 5000, False)
    assert KeyStore(keys_file).authenticate(key) == entry


def test_keys_list_shows_ids_sites_and_usage_but_never_the_key(capsys, tmp_path):
    """keys list --json gives one line per key with its id, sites and this month's usage."""
    keys_file = tmp_path / "keys.json"
    _, key, _ = run(capsys, "keys", "add", "--keys-file", str(keys_file), "--site", SITE)
    status, out, err = run(capsys, "keys", "list", "--keys-file", str(keys_file), "--json")
    assert status == 0 and err == ""
    (line,) = out.splitlines()
    data = json.loads(line)
    assert (data["sites"], data["usage"], data["revoked"], data["limit"]) == ([SITE], 0, False, None)
    assert key.strip() not in out
    status, out, _ = run(capsys, "keys", "list", "--keys-file", str(keys_file))
    assert status == 0 and data["id"] in out and "active" in out and key.strip() not in out


def test_keys_revoke_marks_the_key_revoked(capsys, tmp_path):
    """keys revoke ID keeps the entry but refuses the key from then on."""
    keys_file = tmp_path / "keys.json"
    _, key, _ = run(capsys, "keys", "add", "--keys-file", str(keys_file), "--site", SITE)
    key_id = KeyStore(keys_file).entries()[0].id
    status, out, err = run(capsys, "keys", "revoke", "--keys-file", str(keys_file), key_id)
    assert (status, out) == (0, "")
    assert f"revoked key {key_id}" in err
    assert KeyStore(keys_file).authenticate(key.strip()).revoked is True


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["keys", "revoke", "--keys-file", "{f}", "k_nothere"], "no key with id 'k_nothere'"),
        (["keys", "add", "--keys-file", "{f}", "--site", "blog.example"], "not a full http:// or https:// site URL"),
        (["keys", "list"], "--keys-file FILE"),
    ],
)
def test_keys_errors_are_messages_and_exit_1(capsys, tmp_path, monkeypatch, argv, message):
    """Bad ids, bad sites and a missing keys file are one-line errors with exit status 1."""
    monkeypatch.delenv("SPAMGUARD_KEYS_FILE", raising=False)
    argv = [a.replace("{f}", str(tmp_path / "keys.json")) for a in argv]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert message in err


def test_corrupt_keys_file_is_named_with_its_line(capsys, tmp_path):
    """A keys file that is not JSON is reported with its path and line."""
    keys_file = tmp_path / "keys.json"
    keys_file.write_text('{"format": "spamguard-keys/1",\n "keys": [,]}')
    status, _, err = run(capsys, "keys", "list", "--keys-file", str(keys_file))
    assert status == 1
    assert f"{keys_file}:2: the keys file is not valid JSON" in err


def test_serve_refuses_to_start_without_keys(capsys, monkeypatch):
    """Without --keys-file or --open, serve explains and exits 2."""
    monkeypatch.delenv("SPAMGUARD_KEYS_FILE", raising=False)
    status, out, err = run(capsys, "serve")
    assert (status, out) == (2, "")
    assert "give --keys-file FILE" in err and "--open" in err


def test_serve_without_waitress_says_how_to_install_it():
    """When waitress is missing, serve says to install the server extra."""
    code = (
        "import sys; sys.modules['waitress'] = None; from spamguard.cli import main; "
        "sys.exit(main(['serve', '--open']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)  # noqa: S603
    assert result.returncode == 1
    assert "pip install 'spamguard[server]'" in result.stderr


@pytest.mark.parametrize("command", [["keys"], ["keys", "add"], ["keys", "list"], ["keys", "revoke"], ["serve"]])
def test_every_command_has_help_with_an_example(capsys, command):
    """-h works and shows an example."""
    with pytest.raises(SystemExit) as exc:
        main([*command, "-h"])
    assert exc.value.code == 0
    assert "example" in capsys.readouterr().out.lower()


@pytest.mark.slow
def test_spamguard_serve_answers_akismet_requests(tmp_path, capsys):
    """A real `spamguard serve` process: verify-key, comment-check, submit-spam into --feedback, health;
    on SIGTERM it stops cleanly and has written the month's usage."""
    pytest.importorskip("waitress")
    import spamguard

    keys_file = tmp_path / "keys.json"
    feedback = tmp_path / "feedback.sqlite"
    key, entry = KeyStore(keys_file).add([SITE])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "spamguard", "serve", "--port", "0", "--keys-file", str(keys_file), "--threads", "2",
         "--feedback", str(feedback)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )
    try:
        seen = []
        match = None
        while match is None and len(seen) < 20:  # warnings may come first
            seen.append(proc.stderr.readline())
            match = re.search(r"serving the Akismet API on (http://127\.0\.0\.1:\d+)", seen[-1])
        assert match, "".join(seen)
        url = match.group(1)
        assert requests.post(url + "/1.1/verify-key", {"key": key, "blog": SITE}, timeout=10).text == "valid"
        form = {"api_key": key, "blog": SITE, "user_ip": "203.0.113.7",
                "comment_author": "akismet-guaranteed-spam", "comment_content": "hello"}
        response = requests.post(url + "/1.1/comment-check", form, timeout=10)
        assert response.text == "true" and response.headers["X-akismet-guid"]
        form["comment_content"] = "cheap watches, best price"
        response = requests.post(url + "/1.1/submit-spam", form, timeout=10)
        assert response.text == "Thanks for making the web a better place."
        health = requests.get(url + "/health", timeout=10).json()
        assert (health["status"], health["model"]["name"]) == ("ok", "LocalModel")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err
    assert out == ""
    assert "stopped" in err
    assert main(["keys", "list", "--keys-file", str(keys_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["usage"] == 2
    with spamguard.FeedbackStore(feedback) as store:
        records = list(store.records(sources=[f"api:{entry.id}"]))
    assert [(r.comment.content, r.label) for r in records] == [("cheap watches, best price", True)]


@pytest.mark.parametrize("value", ["2", "0", "high"])
def test_serve_refuses_a_bad_discard_threshold(capsys, value):
    """--discard-threshold takes a number in (0, 1] or 'off'; anything else is a usage error."""
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--open", "--discard-threshold", value])
    assert exc.value.code == 2
    assert "--discard-threshold" in capsys.readouterr().err


@pytest.mark.parametrize(("length", "bits"), [([], 48), (["--length", "32"], 128), (["--length", "13"], 52)])
def test_keys_add_makes_keys_of_the_length_asked_for(capsys, tmp_path, length, bits):
    """12 hex characters by default (48 bits: what the WordPress plugin accepts), more with --length;
    stderr says how many bits."""
    keys_file = tmp_path / "keys.json"
    status, out, err = run(capsys, "keys", "add", "--keys-file", str(keys_file), "--site", SITE, *length)
    assert status == 0
    key = out.strip()
    assert re.fullmatch(r"[0-9a-f]+", key) and len(key) * 4 == bits
    assert f"{len(key)} characters, {bits} bits" in err
    assert KeyStore(keys_file).authenticate(key) is not None


@pytest.mark.parametrize("value", ["11", "65", "twelve"])
def test_keys_add_refuses_a_length_out_of_range(capsys, tmp_path, value):
    """--length is a usage error outside 12..64."""
    with pytest.raises(SystemExit) as exc:
        main(["keys", "add", "--keys-file", str(tmp_path / "k.json"), "--site", SITE, "--length", value])
    assert exc.value.code == 2
    assert "--length" in capsys.readouterr().err


def test_keys_add_does_not_create_a_missing_folder(capsys, tmp_path):
    """A mistyped folder is an error naming it; nothing is created."""
    folder = tmp_path / "nonexistent" / "dir"
    status, out, err = run(capsys, "keys", "add", "--keys-file", str(folder / "keys.json"), "--site", SITE)
    assert (status, out) == (1, "")
    assert err == (f"spamguard: error: cannot write the keys file {folder / 'keys.json'}: {folder} does not exist; "
                   f"create it first (mkdir -p {folder})\n")
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("command", ["add", "list", "revoke"])
def test_keys_subcommands_have_a_description_and_their_own_examples(capsys, command):
    """Each keys subcommand's help says what it does and shows an example of that subcommand."""
    with pytest.raises(SystemExit):
        main(["keys", command, "-h"])
    out = capsys.readouterr().out
    usage, description = out.split("\n\n")[:2]
    assert description.strip() and not description.startswith("options")
    assert max(len(line) for line in out.splitlines()) <= 100
    assert f"spamguard keys {command} --keys-file" in out.split("examples:", 1)[1]


def _busy_port():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_serve_on_a_port_in_use_says_so_in_one_line(capsys, tmp_path):
    """Another program on the port: one line naming the address, exit 1, no traceback."""
    KeyStore(tmp_path / "keys.json").add([SITE])
    with _busy_port() as sock:
        port = sock.getsockname()[1]
        status, out, err = run(capsys, "serve", "--keys-file", str(tmp_path / "keys.json"), "--port", str(port),
                               "--quiet")
    assert (status, out) == (1, "")
    assert err.startswith(f"spamguard: error: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "does not exist; create it with `spamguard keys add --keys-file {p}"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
     "{p}: not a spamguard keys file (it is not UTF-8"),
    (lambda p: p.mkdir(), "the keys file {p} is not a file"),
    (lambda p: p.write_text("[1, 2]"), "{p}: not a spamguard keys file"),
], ids=["missing", "binary", "folder", "other-json"])
def test_serve_with_an_unusable_keys_file_says_so_in_one_line(capsys, tmp_path, make, message):
    """serve refuses to start on a keys file that is missing, binary, a folder or not a keys file."""
    path = tmp_path / "keys.json"
    make(path)
    status, out, err = run(capsys, "serve", "--keys-file", str(path), "--port", "0", "--quiet")
    assert (status, out) == (1, "")
    assert err.startswith("spamguard: error: ") and message.format(p=path) in err
    assert len(err.strip().splitlines()) == 1


def test_serve_refuses_a_notice_name_without_its_privacy_page(capsys, tmp_path):
    """--notice-name names a service the notice must link to: without --privacy-url it is an error."""
    KeyStore(tmp_path / "keys.json").add([SITE])
    status, _, err = run(capsys, "serve", "--keys-file", str(tmp_path / "keys.json"), "--notice-name", "Host")
    assert status == 1 and "--notice-name needs --privacy-url" in err
