"""Real Akismet clients against a real `spamguard serve` subprocess (issue 13).

The PyPI ``akismet`` client (its sync and async clients) and the npm ``akismet-api`` client
each verify the key, check a spam and an ordinary comment, and report a missed spam and a
false positive, against ``spamguard serve`` started as the README says, with a key made by
``spamguard keys add``. Neither client has a base-URL setting: the PyPI client gets an
``httpx`` transport that sends its requests to the local server, the npm client a DNS
override for ``rest.akismet.com`` (and the ``KEY.rest.akismet.com`` names it calls). Between
the clients and the server sits a small recording proxy, so that a failure shows what the
client sent and what it got back.

The npm client is installed at test time (``npm install akismet-api@6.0.0``) into
``build/test-npm/`` (kept between runs); without node and npm its tests skip saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from spamguard import FeedbackStore

akismet = pytest.importorskip("akismet", reason="the real-client tests need the akismet client from PyPI")

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("akismet_api_driver.js")
NPM_PACKAGE = "akismet-api@6.0.0"
NPM_CACHE = Path(os.environ.get("SPAMGUARD_NPM_CACHE") or REPO / "build" / "test-npm")
SITE = "https://blog.example"
IP = "203.0.113.7"
SPAM_TEXT = (
    "BEST CASINO BONUS!!! Buy cheap pills online, no prescription: http://cheap-pills.example/buy "
    "http://casino-bonus.example/free-spins http://best-casino.example/jackpot"
)
HAM_TEXT = "Thanks for the write-up. The second example fixed my build, although I had to upgrade setuptools first."
THANKS = "Thanks for making the web a better place."
CLIENTS = ["akismet-sync", "akismet-async", "akismet-api-npm"]


class Recorder(ThreadingHTTPServer):
    """A loopback proxy that forwards every request to the server unchanged (Host header
    included) and keeps what went each way."""

    daemon_threads = True

    def __init__(self, target_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.target_port = target_port
        self.exchanges: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def seen(self, mark: str) -> str:
        """The exchanges of the client whose User-Agent contains ``mark``, the key masked."""
        lines = []
        for e in self.exchanges:
            if mark in e["user_agent"]:
                fields = {k: ("***" + v[-4:] if k in ("key", "api_key") else v[:40]) for k, v in e["fields"].items()}
                host = re.sub(r"^[0-9a-f]{12,}\.", "***.", e["host"])
                lines.append(f"{e['method']} {e['path']} Host={host} {fields} -> {e['status']} {e['body'][:60]!r}"
                             + (f" ({e['debug_help']})" if e["debug_help"] else ""))
        return "\n".join(lines) or "(no request)"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._forward()

    def do_POST(self) -> None:  # noqa: N802
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.target_port, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        query = self.path.partition("?")[2]
        fields = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace") + "&" + query).items()}
        with self.server.lock:
            self.server.exchanges.append({
                "method": self.command, "path": self.path.partition("?")[0], "host": self.headers.get("Host", ""),
                "user_agent": self.headers.get("User-Agent", ""), "fields": fields, "status": response.status,
                "body": data.decode("utf-8", "replace"), "debug_help": response.getheader("X-akismet-debug-help") or "",
            })
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("connection", "content-length", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


class Service:
    """`spamguard serve` as a subprocess, with its key, feedback store and the recording proxy."""

    def __init__(self, key: str, port: int, feedback: Path, recorder: Recorder) -> None:
        self.key = key
        self.port = port
        self.feedback = feedback
        self.recorder = recorder

    def feedback_records(self) -> list[tuple[str, bool]]:
        store = FeedbackStore(self.feedback)
        try:
            return [(r.comment.content, bool(r.label)) for r in store.records()]
        finally:
            store.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("real-clients")
    keys, feedback, log = root / "keys.json", root / "feedback.sqlite", root / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMGUARD_")}
    added = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "spamguard", "keys", "add", "--keys-file", str(keys), "--site", SITE],
        capture_output=True, text=True, timeout=60, env=env, check=True,
    )
    key = added.stdout.strip()
    with open(log, "wb") as out:
        serve = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "spamguard", "serve", "--keys-file", str(keys), "--feedback", str(feedback),
             "--host", "127.0.0.1", "--port", "0"],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    try:
        port = _served_port(serve, log)
        recorder = Recorder(port)
        thread = threading.Thread(target=recorder.serve_forever, daemon=True)
        thread.start()
        try:
            yield Service(key, port, feedback, recorder)
        finally:
            recorder.shutdown()
            recorder.server_close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def _served_port(serve: subprocess.Popen, log: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"serving the Akismet API on http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
        if match:
            return int(match.group(1))
        if serve.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"spamguard serve did not start:\n{log.read_text(errors='replace')}")


# --- the PyPI client --------------------------------------------------------------------------


def _to_proxy(request: httpx.Request, port: int) -> None:
    """What a hosts entry would do: the request goes to the local proxy, its URL otherwise unchanged."""
    request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
    request.headers["Host"] = f"127.0.0.1:{port}"


class ToProxy(httpx.BaseTransport):
    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _to_proxy(request, self.port)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class ToProxyAsync(httpx.AsyncBaseTransport):
    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _to_proxy(request, self.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _comment(kind: str, tag: str) -> dict[str, Any]:
    text = SPAM_TEXT if kind == "spam" else HAM_TEXT
    return {
        "comment_content": f"{text} [{tag}]", "comment_author": "Cheap Pills" if kind == "spam" else "Anna Smith",
        "comment_type": "comment", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        "comment_date_gmt": datetime.now(timezone.utc).isoformat(),
    }


def _verdict(response: Any) -> str:
    """spam, ham (discard is spam too: blatant spam the site may drop unseen)."""
    if response in (akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD):
        return "spam"
    return "ham" if response == akismet.CheckResponse.HAM else repr(response)


def _outcome(call: Any) -> dict[str, Any]:
    try:
        return {"ok": call()}
    except Exception as exc:  # the outcome is compared in the test, with what was sent
        return {"error": f"{type(exc).__name__}: {exc}"}


def _run_sync(service: Service, tag: str) -> dict[str, dict[str, Any]]:
    http = httpx.Client(transport=ToProxy(service.recorder.port), timeout=10,
                        headers={"User-Agent": f"{akismet.USER_AGENT} {tag}"})
    client = akismet.SyncClient(config=akismet.Config(key=service.key, url=SITE), http_client=http)
    try:
        return {
            "verify_key": _outcome(client.verify_key),
            "check_spam": _outcome(lambda: _verdict(client.comment_check(IP, **_comment("spam", tag)))),
            "check_ham": _outcome(lambda: _verdict(client.comment_check(IP, **_comment("ham", tag)))),
            "submit_spam": _outcome(lambda: client.submit_spam(IP, **_comment("ham", tag))),
            "submit_ham": _outcome(lambda: client.submit_ham(IP, **_comment("spam", tag))),
        }
    finally:
        http.close()


def _run_async(service: Service, tag: str) -> dict[str, dict[str, Any]]:
    async def run() -> dict[str, dict[str, Any]]:
        http = httpx.AsyncClient(transport=ToProxyAsync(service.recorder.port), timeout=10,
                                 headers={"User-Agent": f"{akismet.USER_AGENT} {tag}"})
        client = akismet.AsyncClient(config=akismet.Config(key=service.key, url=SITE), http_client=http)
        results: dict[str, dict[str, Any]] = {}
        calls = {
            "verify_key": lambda: client.verify_key(),
            "check_spam": lambda: client.comment_check(IP, **_comment("spam", tag)),
            "check_ham": lambda: client.comment_check(IP, **_comment("ham", tag)),
            "submit_spam": lambda: client.submit_spam(IP, **_comment("ham", tag)),
            "submit_ham": lambda: client.submit_ham(IP, **_comment("spam", tag)),
        }
        try:
            for name, call in calls.items():
                try:
                    value = await call()
                    results[name] = {"ok": _verdict(value) if name.startswith("check") else value}
                except Exception as exc:  # compared in the test
                    results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            await http.aclose()
        return results

    return asyncio.run(run())


# --- the npm client ---------------------------------------------------------------------------


def _npm_client() -> Path:
    """The folder with node_modules/akismet-api, installed once; skips without node or npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the npm akismet-api client needs node and npm (apt-get install -y nodejs npm)")
    folder = NPM_CACHE / NPM_PACKAGE.replace("@", "-")
    installed = folder / "node_modules" / "akismet-api" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != NPM_PACKAGE.rsplit("@", 1)[1]:
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(  # noqa: S603
            [npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(folder), NPM_PACKAGE],
            capture_output=True, text=True, timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"npm install {NPM_PACKAGE} failed:\n{result.stdout}\n{result.stderr}")
    return folder


def _run_npm(service: Service, tag: str) -> dict[str, dict[str, Any]]:
    folder = _npm_client()

    def comment(kind: str) -> dict[str, Any]:
        c = _comment(kind, tag)
        return {"ip": IP, "content": c["comment_content"], "name": c["comment_author"], "type": "comment",
                "useragent": c["user_agent"]}

    config = {
        "key": service.key, "blog": SITE, "port": service.recorder.port,
        "calls": [["verifyKey", {}], ["checkSpam", comment("spam")], ["checkHam", comment("ham")],
                  ["submitSpam", comment("ham")], ["submitHam", comment("spam")]],
    }
    result = subprocess.run(  # noqa: S603
        [shutil.which("node") or "node", str(DRIVER), json.dumps(config)], capture_output=True, text=True,
        timeout=120, cwd=folder, env={**os.environ, "NODE_PATH": str(folder / "node_modules")},
    )
    if result.returncode != 0:
        raise RuntimeError(f"the npm client's driver failed:\n{result.stdout}\n{result.stderr}")
    raw = json.loads(result.stdout)
    names = {"verifyKey": "verify_key", "checkSpam": "check_spam", "checkHam": "check_ham",
             "submitSpam": "submit_spam", "submitHam": "submit_ham"}
    results = {names[k]: v for k, v in raw.items()}
    for name in ("check_spam", "check_ham"):
        if "ok" in results[name]:
            results[name]["ok"] = "spam" if results[name]["ok"] is True else "ham"
    return results


RUNNERS = {"akismet-sync": _run_sync, "akismet-async": _run_async, "akismet-api-npm": _run_npm}
# What each client returns for a successful report: the PyPI client True, the npm client the body.
SUBMITTED = {"akismet-sync": True, "akismet-async": True, "akismet-api-npm": THANKS}
# How the recorder tells a client's requests apart: the PyPI clients' User-Agent carries the
# test's tag, the npm client's own User-Agent is "Node.js/... | Akismet-api/...".
MARK = {"akismet-sync": "client=akismet-sync", "akismet-async": "client=akismet-async",
        "akismet-api-npm": "Akismet-api/"}


@pytest.fixture(scope="module", params=CLIENTS)
def client_run(request: pytest.FixtureRequest, service: Service) -> tuple[str, dict[str, dict[str, Any]]]:
    """One client's five calls, in order, with each call's outcome ({"ok": value} or {"error": ...})."""
    name = request.param
    return name, RUNNERS[name](service, f"client={name}")


def _expect(service: Service, run: tuple[str, dict[str, dict[str, Any]]], call: str, expected: Any) -> None:
    name, results = run
    assert results[call] == {"ok": expected}, f"{name} sent and got:\n{service.recorder.seen(MARK[name])}"


def test_verify_key(service, client_run):
    """The client's key check is answered valid."""
    _expect(service, client_run, "verify_key", True)


def test_comment_check_says_spam(service, client_run):
    """A link-stuffed pills/casino comment is spam."""
    _expect(service, client_run, "check_spam", "spam")


def test_comment_check_says_ham(service, client_run):
    """An ordinary comment is not spam."""
    _expect(service, client_run, "check_ham", "ham")


def test_submit_spam_is_thanked_and_recorded(service, client_run):
    """A missed spam reported with submit-spam is thanked and lands in the feedback store as spam."""
    name, _ = client_run
    _expect(service, client_run, "submit_spam", SUBMITTED[name])
    assert (f"{HAM_TEXT} [client={name}]", True) in service.feedback_records()


def test_submit_ham_is_thanked_and_recorded(service, client_run):
    """A false positive reported with submit-ham is thanked and lands in the feedback store as ham."""
    name, _ = client_run
    _expect(service, client_run, "submit_ham", SUBMITTED[name])
    assert (f"{SPAM_TEXT} [client={name}]", False) in service.feedback_records()
