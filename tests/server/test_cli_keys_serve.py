"""`spamguard keys` and `spamguard serve` from the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from _postgres import all_text
from _server_stores import both_stores

from spamguard.cli import main
from spamguard.server import KeyStore

SITE = "https://blog.example"


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def where(location: str) -> list[str]:
    """The option naming a key store: --store for a PostgreSQL URL, --keys-file for a file."""
    return ["--store", location] if "://" in location else ["--keys-file", location]


def entries(location: str) -> list:
    store = KeyStore(location)
    try:
        return store.entries()
    finally:
        store.close()


def authenticate(location: str, key: str):
    store = KeyStore(location)
    try:
        return store.authenticate(key)
    finally:
        store.close()


@both_stores
def test_keys_add_prints_only_the_key(capsys, store_location):
    """keys add prints the new key alone on stdout; the store keeps its hash (a file: mode 0600), never the key."""
    status, out, err = run(capsys, "keys", "add", *where(store_location), "--site", SITE,
                           "--site", "https://shop.example", "--limit", "5000")
    assert status == 0
    assert re.fullmatch(r"[0-9a-f]{12}\n", out)
    key = out.strip()
    assert "created key k_" in err and key not in err
    if "://" in store_location:
        assert key not in all_text(store_location)
        assert ":***@" in err  # the store is named with its password masked
    else:
        assert stat.S_IMODE(os.stat(store_location).st_mode) == 0o600
        assert key not in Path(store_location).read_text()
    (entry,) = entries(store_location)
    assert (entry.sites, entry.limit, entry.revoked) == ((SITE, "https://shop.example"), 5000, False)
    assert authenticate(store_location, key) == entry


@both_stores
def test_keys_list_shows_ids_sites_and_usage_but_never_the_key(capsys, store_location):
    """keys list --json gives one line per key with its id, sites and this month's usage."""
    _, key, _ = run(capsys, "keys", "add", *where(store_location), "--site", SITE)
    status, out, err = run(capsys, "keys", "list", *where(store_location), "--json")
    assert status == 0 and err == ""
    (line,) = out.splitlines()
    data = json.loads(line)
    assert (data["sites"], data["usage"], data["revoked"], data["limit"]) == ([SITE], 0, False, None)
    assert key.strip() not in out
    status, out, _ = run(capsys, "keys", "list", *where(store_location))
    assert status == 0 and data["id"] in out and "active" in out and key.strip() not in out


@both_stores
def test_keys_revoke_marks_the_key_revoked(capsys, store_location):
    """keys revoke ID keeps the entry but refuses the key from then on."""
    _, key, _ = run(capsys, "keys", "add", *where(store_location), "--site", SITE)
    key_id = entries(store_location)[0].id
    status, out, err = run(capsys, "keys", "revoke", *where(store_location), key_id)
    assert (status, out) == (0, "")
    assert f"revoked key {key_id}" in err
    assert authenticate(store_location, key.strip()).revoked is True


@both_stores
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["keys", "revoke", "STORE", "k_nothere"], "no key with id 'k_nothere'"),
        (["keys", "add", "STORE", "--site", "blog.example"], "not a full http:// or https:// site URL"),
        (["keys", "list"], "--keys-file FILE, or a PostgreSQL store with --store URL"),
    ],
)
def test_keys_errors_are_messages_and_exit_1(capsys, store_location, monkeypatch, argv, message):
    """Bad ids, bad sites and no store named are one-line errors with exit status 1."""
    monkeypatch.delenv("SPAMGUARD_KEYS_FILE", raising=False)
    monkeypatch.delenv("SPAMGUARD_SERVER_STORE", raising=False)
    argv = [part for a in argv for part in (where(store_location) if a == "STORE" else [a])]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert message in err and len(err.strip().splitlines()) == 1


def test_corrupt_keys_file_is_named_with_its_line(capsys, tmp_path):
    """A keys file that is not JSON is reported with its path and line."""
    keys_file = tmp_path / "keys.json"
    keys_file.write_text('{"format": "spamguard-keys/1",\n "keys": [,]}')
    status, _, err = run(capsys, "keys", "list", "--keys-file", str(keys_file))
    assert status == 1
    assert f"{keys_file}:2: the keys file is not valid JSON" in err


def test_serve_refuses_to_start_without_keys(capsys, monkeypatch):
    """Without --keys-file, --store or --open, serve explains and exits 2."""
    monkeypatch.delenv("SPAMGUARD_KEYS_FILE", raising=False)
    monkeypatch.delenv("SPAMGUARD_SERVER_STORE", raising=False)
    status, out, err = run(capsys, "serve")
    assert (status, out) == (2, "")
    assert "give --keys-file FILE" in err and "--store postgresql://" in err and "--open" in err


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
@both_stores
def test_spamguard_serve_answers_akismet_requests(tmp_path, capsys, store_location):
    """A real `spamguard serve` process: verify-key, comment-check, submit-spam into --feedback (on PostgreSQL
    too: the same database), health; on SIGTERM it stops cleanly and has written the month's usage."""
    pytest.importorskip("waitress")
    import spamguard

    feedback = store_location if "://" in store_location else str(tmp_path / "feedback.sqlite")
    store = KeyStore(store_location)
    key, entry = store.add([SITE])
    store.close()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "spamguard", "serve", "--port", "0", *where(store_location), "--threads", "2",
         "--feedback", feedback],
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
    assert "***" in err or "://" not in store_location  # the store named with its password masked
    assert main(["keys", "list", *where(store_location), "--json"]) == 0
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


@both_stores
@pytest.mark.parametrize(("length", "bits"), [([], 48), (["--length", "32"], 128), (["--length", "13"], 52)])
def test_keys_add_makes_keys_of_the_length_asked_for(capsys, store_location, length, bits):
    """12 hex characters by default (48 bits: what the WordPress plugin accepts), more with --length;
    stderr says how many bits."""
    status, out, err = run(capsys, "keys", "add", *where(store_location), "--site", SITE, *length)
    assert status == 0
    key = out.strip()
    assert re.fullmatch(r"[0-9a-f]+", key) and len(key) * 4 == bits
    assert f"{len(key)} characters, {bits} bits" in err
    assert authenticate(store_location, key) is not None


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


@pytest.mark.parametrize(("argv", "message"), [
    (["--store", "mysql://spamguard:hunter2@db.example/spamguard"],
     "mysql://spamguard:***@db.example/spamguard is not a place for keys: give a keys file's path or a postgresql:// "
     "URL"),
    (["--store", "postgresql://spamguard:hunter2@127.0.0.1:1/spamguard"],
     "cannot connect to the server store postgresql://spamguard:***@127.0.0.1:1/spamguard: "),
], ids=["other-database", "nothing-listening"])
def test_serve_on_a_store_it_cannot_use_says_so_in_one_line_without_the_password(capsys, argv, message):
    """A URL of another database, or a PostgreSQL that does not answer: one line naming it, password masked."""
    pytest.importorskip("psycopg")
    status, out, err = run(capsys, "serve", *argv, "--port", "0", "--quiet")
    assert (status, out) == (1, "")
    assert err.startswith("spamguard: error: " + message) and len(err.strip().splitlines()) == 1
    assert "hunter2" not in err


def test_serve_takes_a_keys_file_or_a_store_not_both(capsys, tmp_path):
    """--keys-file and --store are two answers to one question: a usage error."""
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--keys-file", str(tmp_path / "keys.json"), "--store", "postgresql://db/spamguard"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_both_store_variables_set_is_an_error_naming_them(capsys, monkeypatch, tmp_path):
    """SPAMGUARD_SERVER_STORE and SPAMGUARD_KEYS_FILE both set: which one is meant is not guessed."""
    monkeypatch.setenv("SPAMGUARD_KEYS_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("SPAMGUARD_SERVER_STORE", "postgresql://spamguard:hunter2@db/spamguard")
    for argv in (["keys", "list"], ["serve", "--quiet"]):
        status, out, err = run(capsys, *argv)
        assert (status, out) == (1, "")
        assert err == ("spamguard: error: SPAMGUARD_SERVER_STORE and SPAMGUARD_KEYS_FILE are both set; unset one "
                       "(SPAMGUARD_SERVER_STORE takes a keys file's path too)\n")


def test_serve_refuses_a_notice_name_without_its_privacy_page(capsys, tmp_path):
    """--notice-name names a service the notice must link to: without --privacy-url it is an error."""
    KeyStore(tmp_path / "keys.json").add([SITE])
    status, _, err = run(capsys, "serve", "--keys-file", str(tmp_path / "keys.json"), "--notice-name", "Host")
    assert status == 1 and "--notice-name needs --privacy-url" in err
