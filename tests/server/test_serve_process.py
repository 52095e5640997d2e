"""`spamguard serve` as a real process: its request log, its connection limits, its proxies."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from spamguard.server import KeyStore

pytest.importorskip("waitress", reason="spamguard serve needs waitress")

SITE = "https://blog.example"
HAM = {"user_ip": "203.0.113.7", "comment_content": "Thanks, this helped me fix my build."}


class Serve:
    """A running `spamguard serve`: its URL, and its stderr so far."""

    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.log = log

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[Serve]:
    """`spamguard serve --port 0 ARGS`, stopped with SIGTERM afterwards."""
    log = tmp_path / "serve.stderr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMGUARD_")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "spamguard", "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "2",
             *args],
            stdout=subprocess.DEVNULL, stderr=out, env=env,
        )
    try:
        deadline = time.monotonic() + 60
        match = None
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            match = re.search(r"serving the Akismet API on (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
            time.sleep(0.05)
        assert match, log.read_text(errors="replace")
        yield Serve(proc, match.group(1), log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def keys(tmp_path) -> tuple[Path, str]:
    keys_file = tmp_path / "keys.json"
    key, _ = KeyStore(keys_file).add([SITE])
    return keys_file, key


def test_request_log_goes_to_stderr_by_default_with_the_key_masked(tmp_path, keys):
    """One line per request on stderr; the key shown as *** and its last four characters, never whole."""
    keys_file, key = keys
    with serving(tmp_path, "--keys-file", str(keys_file)) as serve:
        assert requests.post(serve.url + "/1.1/verify-key", {"key": key, "blog": SITE}, timeout=10).text == "valid"
        requests.post(serve.url + "/1.1/comment-check", {"api_key": key, "blog": SITE, **HAM}, timeout=10)
        time.sleep(0.2)
        text = serve.stderr()
    lines = [line for line in text.splitlines() if " /1.1/" in line]
    assert [line.split()[2:7] for line in lines] == [
        ["POST", "/1.1/verify-key", f"key=***{key[-4:]}", "200", "valid"],
        ["POST", "/1.1/comment-check", f"key=***{key[-4:]}", "200", "ham"],
    ]
    assert key not in text
    assert "request log to stderr" in text


def test_access_log_file_and_quiet(tmp_path, keys):
    """--access-log FILE appends the lines to FILE (stderr keeps only the service's own messages);
    --quiet writes none."""
    keys_file, key = keys
    access = tmp_path / "requests.log"
    access.write_text("an earlier line\n")
    with serving(tmp_path, "--keys-file", str(keys_file), "--access-log", str(access)) as serve:
        requests.post(serve.url + "/1.1/verify-key", {"key": key, "blog": SITE}, timeout=10)
        time.sleep(0.2)
        stderr = serve.stderr()
    lines = access.read_text().splitlines()
    assert lines[0] == "an earlier line" and len(lines) == 2
    assert lines[1].split()[2:7] == ["POST", "/1.1/verify-key", f"key=***{key[-4:]}", "200", "valid"]
    assert "/1.1/verify-key" not in stderr
    with serving(tmp_path, "--keys-file", str(keys_file), "--quiet") as serve:
        requests.post(serve.url + "/1.1/verify-key", {"key": key, "blog": SITE}, timeout=10)
        time.sleep(0.2)
        assert "/1.1/verify-key" not in serve.stderr() and "no request log" in serve.stderr()


def test_trusted_proxies_name_the_client_in_the_log(tmp_path, keys):
    """Behind --trusted-proxies, the log (and the failed-attempt limit) see the address the proxy forwards."""
    keys_file, key = keys
    with serving(tmp_path, "--keys-file", str(keys_file), "--trusted-proxies", "127.0.0.1") as serve:
        requests.get(serve.url + "/health", headers={"X-Forwarded-For": "198.51.100.9"}, timeout=10)
        time.sleep(0.2)
        (line,) = [line for line in serve.stderr().splitlines() if "/health" in line]
    assert line.split()[1] == "198.51.100.9"


@pytest.mark.slow
def test_ordinary_clients_are_answered_while_110_idle_connections_are_held(tmp_path, keys):
    """Idle connections (110, more than waitress's default limit of 100) do not lock clients out, and
    --channel-timeout closes them."""
    keys_file, key = keys
    with serving(tmp_path, "--keys-file", str(keys_file), "--channel-timeout", "2", "--quiet") as serve:
        host, port = serve.url.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(110)]
        try:
            idle[0].sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n")  # a request never finished
            for _ in range(3):
                response = requests.post(serve.url + "/1.1/comment-check", {"api_key": key, "blog": SITE, **HAM},
                                         timeout=5)
                assert (response.status_code, response.text) == (200, "false")
            deadline = time.monotonic() + 10
            closed = 0
            for sock in idle:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                with contextlib.suppress(OSError):
                    if sock.recv(1) == b"":
                        closed += 1
            assert closed == 110
        finally:
            for sock in idle:
                sock.close()
