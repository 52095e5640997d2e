"""Two real `spamguard serve` processes on one PostgreSQL store: as behind a load balancer."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from _postgres import fresh_schema

from spamguard.cli import main
from spamguard.server import KeyStore

pytest.importorskip("waitress", reason="spamguard serve needs waitress")
pytestmark = pytest.mark.slow

SITE = "https://blog.example"


@contextlib.contextmanager
def two_servers(tmp_path: Path, url: str, *args: str) -> Iterator[list[str]]:
    """Two `spamguard serve --store URL ARGS` processes on free ports; stopped with SIGTERM (which writes their
    last usage counts) when the block ends. Yields their base URLs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMGUARD_")}
    procs, logs, urls = [], [], []
    try:
        for n in range(2):
            log = tmp_path / f"serve{n}.stderr"
            with open(log, "wb") as out:
                procs.append(subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "spamguard", "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "4",
                     "--quiet", "--store", url, *args],
                    stdout=subprocess.DEVNULL, stderr=out, env=env,
                ))
            logs.append(log)
        for proc, log in zip(procs, logs, strict=True):
            deadline = time.monotonic() + 60
            match = None
            while match is None and time.monotonic() < deadline and proc.poll() is None:
                match = re.search(r"serving the Akismet API on (http://127\.0\.0\.1:\d+)", log.read_text())
                time.sleep(0.05)
            assert match, log.read_text()
            assert "postgresql://" in log.read_text() and ":***@" in log.read_text()  # named, password masked
            urls.append(match.group(1))
        yield urls
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, log in zip(procs, logs, strict=True):
            try:
                assert proc.wait(timeout=30) == 0, log.read_text()
            except subprocess.TimeoutExpired:  # pragma: no cover - a server that does not stop
                proc.kill()
                raise


def _comment(key: str, n: int) -> dict[str, str]:
    return {"api_key": key, "blog": SITE, "user_ip": f"203.0.113.{n % 250}",
            "comment_content": f"Thanks for the write-up, comment {n}."}


def test_two_servers_count_usage_exactly_and_see_a_revocation_made_through_either(tmp_path, capsys):
    """400 checks split over two servers from 8 threads: the store's usage is exactly 400 (each server writes
    once a second and at shutdown; usage-limit on either sees both within about a second); a key revoked with
    `spamguard keys revoke --store` is refused by both within about a second, without a restart."""
    with fresh_schema() as url:
        store = KeyStore(url)
        key, entry = store.add([SITE])
        store.close()
        with two_servers(tmp_path, url, "--rate-limit", "10000") as urls:
            answers: list[str] = []
            lock = threading.Lock()

            def send(worker: int) -> None:
                with requests.Session() as session:
                    for n in range(worker, 400, 8):
                        text = session.post(urls[n % 2] + "/1.1/comment-check", _comment(key, n), timeout=30).text
                        with lock:
                            answers.append(text)

            pool = [threading.Thread(target=send, args=(w,)) for w in range(8)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            assert len(answers) == 400 and set(answers) <= {"true", "false"}
            deadline = time.monotonic() + 5
            usage = [0, 0]
            while usage != [400, 400] and time.monotonic() < deadline:
                usage = [requests.get(u + "/1.2/usage-limit", params={"api_key": key}, timeout=10).json()["usage"]
                         for u in urls]
                time.sleep(0.2)
            assert usage == [400, 400]

            assert main(["keys", "revoke", "--store", url, entry.id]) == 0
            revoked_at = time.monotonic()
            verdicts = ["valid", "valid"]
            while verdicts != ["invalid", "invalid"] and time.monotonic() < revoked_at + 5:
                verdicts = [requests.post(u + "/1.1/verify-key", {"key": key, "blog": SITE}, timeout=10).text
                            for u in urls]
                time.sleep(0.1)
            assert verdicts == ["invalid", "invalid"]
            assert time.monotonic() - revoked_at < 3
            refused = requests.post(urls[1] + "/1.1/comment-check", _comment(key, 0), timeout=10)
            assert "has been revoked" in refused.headers["X-akismet-debug-help"]
        capsys.readouterr()
        assert main(["keys", "list", "--store", url, "--json"]) == 0
        assert '"usage": 400' in capsys.readouterr().out


def test_two_servers_share_each_keys_rate_limit(tmp_path):
    """--rate-limit 1 --burst 10 on both servers: 40 checks of one key spread over both get 10 answers and a
    few more as tokens come back (one a second), never 10 from each; the rest get 429."""
    with fresh_schema() as url:
        store = KeyStore(url)
        key, _ = store.add([SITE])
        store.close()
        with two_servers(tmp_path, url, "--rate-limit", "1", "--burst", "10") as urls:
            started = time.monotonic()
            statuses = [requests.post(urls[n % 2] + "/1.1/comment-check", _comment(key, n), timeout=10).status_code
                        for n in range(40)]
            elapsed = time.monotonic() - started
    assert set(statuses) == {200, 429}
    assert 10 <= statuses.count(200) <= 10 + elapsed + 1
