"""Test helpers for code that uses spamguard: :class:`FakeAkismet`, an Akismet you can break.

``FakeAkismet`` is a real HTTP server on 127.0.0.1 (a free port by default) that speaks the
Akismet protocol, so your tests exercise the real client, sockets and all::

    from spamguard import AkismetClient, Comment
    from spamguard.testing import FakeAkismet

    with FakeAkismet(valid_keys={"test-key"}) as server:
        client = AkismetClient("test-key", "https://blog.example/", base_url=server.url)
        verdict = client.check(Comment(content="hi", user_ip="203.0.113.7",
                                       author="akismet-guaranteed-spam"))
        assert verdict.spam
        server.mode = "down"       # connections are now refused
        server.mode = "ok"         # and accepted again, on the same port

How it judges ``comment-check`` (deterministic, so tests can rely on it):

1. ``comment_author=akismet-guaranteed-spam`` or
   ``comment_author_email=akismet-guaranteed-spam@example.com`` -> ``true`` (spam);
2. ``user_role`` containing ``administrator`` -> ``false`` (ham);
3. content containing :attr:`FakeAkismet.discard_word` (``akismet-discard``) -> ``true`` with
   ``X-akismet-pro-tip: discard``;
4. content containing one of :attr:`FakeAkismet.spam_words` (``viagra``), or more than
   :attr:`FakeAkismet.max_links` (2) ``http(s)://`` links -> ``true``;
5. otherwise ``false``; when the content contains ``akismet-recheck`` the ham is provisional:
   ``X-akismet-recheck-after: 120``.

Every comment-check answer carries a fresh ``X-akismet-guid``; when :attr:`FakeAkismet.alert`
is a ``(code, message)`` pair, every answer carries ``X-akismet-alert-code`` / ``-msg``.
A missing or unknown key, a missing ``blog`` or (on comment-check and submit-*) a missing
``user_ip`` gets ``invalid`` with an ``X-akismet-debug-help`` header, as Akismet does.

Behaviour switches (attributes; :meth:`FakeAkismet.reset` restores them):

* ``mode``: ``"ok"``; ``"slow"`` (wait ``delay`` seconds, 10 if it is 0, then answer);
  ``"error"`` (answer HTTP ``status``, 500 by default); ``"garbage"`` (HTTP 200 with an HTML
  page); ``"invalid"`` (``invalid`` with ``debug_help``); ``"down"`` (the listening socket and
  open connections are closed, so connections are refused; setting another mode reopens the
  same port).
* ``delay``: seconds to wait before every answer (also in ``"ok"`` mode).
* ``requests``: what the server received, a list of ``(path, fields)``; ``fields`` maps each
  form/query name to its value, or to a list of values when the name was repeated.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import re
import socket
import sys
import threading
import uuid
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .akismet import protocol
from .akismet.protocol import SiteActivity

__all__ = ["FakeAkismet", "MODES"]

MODES = ("ok", "slow", "error", "garbage", "invalid", "down")
THANKS = protocol.THANKS
_LINK = re.compile(r"https?://", re.IGNORECASE)
_DEFAULT_SLOW = 10.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The listen backlog: socketserver's default of 5 refuses or resets much of a burst of new
    # connections (200 clients at once, an async client opening its pool); a thread serves each.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], fake: FakeAkismet) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that hung up (or "down" closing its socket) is not a server error
        super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
            self.connections.clear()
        for conn in open_now:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection pool is exercised
    disable_nagle_algorithm = True  # small answers go out at once, not after a delayed ACK
    wbufsize = 64 * 1024  # headers and body leave in one write (flushed after each request)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: tests read server.requests instead

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle(b"")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length) if length else b"")

    def _handle(self, body: bytes) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        raw = parse_qs(parts.query, keep_blank_values=True)
        for name, values in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
            raw.setdefault(name, []).extend(values)
        fields: dict[str, str | list[str]] = {k: v[0] if len(v) == 1 else v for k, v in raw.items()}
        status, headers, text = fake._answer(parts.path, fields, dict(self.headers.items()))
        if status == 0:  # the server went down while this request waited
            self.close_connection = True
            return
        data = text.encode("utf-8")
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


class FakeAkismet:
    """A real, threaded Akismet-compatible HTTP server for tests (see the module docstring).

    ``valid_keys`` are the API keys it accepts; ``prefix`` serves the API under a path prefix
    (``server.url`` includes it). It starts listening at once; use it as a context manager or
    call :meth:`close`. Every attribute may be changed while it runs, from any thread.
    """

    def __init__(
        self,
        valid_keys: Iterable[str] = ("test-key",),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "",
        spam_words: Iterable[str] = ("viagra",),
        max_links: int = 2,
        discard_word: str = "akismet-discard",
        recheck_word: str = "akismet-recheck",
        plan_limit: int | None = 350_000,
    ) -> None:
        self.valid_keys = set(valid_keys)
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.spam_words = tuple(spam_words)
        self.max_links = max_links
        self.discard_word = discard_word
        self.recheck_word = recheck_word
        self.plan_limit = plan_limit
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._requests: list[tuple[str, dict[str, str | list[str]]]] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._mode = "ok"
        self.reset()
        self._host = host
        self._port = port
        self._open()

    # --- switches -----------------------------------------------------------------------

    def reset(self) -> None:
        """Back to ``mode="ok"``, no delay, status 500, default debug help, no alert, no requests."""
        with self._lock:
            self.mode = "ok"
            self.delay = 0.0
            self.status = 500
            self.debug_help: str | None = None
            self.alert: tuple[str, str] | None = None
            self._requests.clear()

    @property
    def mode(self) -> str:
        """``"ok"``, ``"slow"``, ``"error"``, ``"garbage"``, ``"invalid"`` or ``"down"``."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}; got {value!r}")
        with self._lock:
            was = self._mode
            self._mode = value
            if value == "down" and was != "down":
                self._shut()
            elif value != "down" and was == "down" and not self._stopped.is_set():
                self._open()

    @property
    def requests(self) -> list[tuple[str, dict[str, str | list[str]]]]:
        """A copy of the ``(path, fields)`` pairs received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def url(self) -> str:
        """The base URL to give the client, e.g. ``http://127.0.0.1:54321`` (plus the prefix)."""
        return f"http://{self._host}:{self._port}{self.prefix}"

    @property
    def port(self) -> int:
        """The TCP port it listens on (the same across ``"down"`` and back)."""
        return self._port

    # --- lifecycle ----------------------------------------------------------------------

    def _open(self) -> None:
        httpd = _Server((self._host, self._port), self)
        self._port = httpd.server_address[1]
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"FakeAkismet:{self._port}", daemon=True)
        thread.start()
        self._httpd, self._thread = httpd, thread

    def _shut(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            httpd.drop_connections()
        if thread is not None:
            thread.join(timeout=5)

    def close(self) -> None:
        """Stop serving and wake up every request still waiting (in ``"slow"`` mode)."""
        with self._lock:
            self._stopped.set()
            self._shut()

    def __enter__(self) -> FakeAkismet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FakeAkismet(url={self.url!r}, mode={self.mode!r})"

    # --- the protocol -------------------------------------------------------------------

    def _answer(
        self, path: str, fields: dict[str, str | list[str]], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], str]:
        with self._lock:
            self._requests.append((path, fields))
            mode, delay, status, debug_help = self._mode, self.delay, self.status, self.debug_help
        if mode == "slow" and not delay:
            delay = _DEFAULT_SLOW
        if delay and self._stopped.wait(delay):
            return 0, {}, ""
        if self._mode == "down":
            return 0, {}, ""
        if mode == "error":
            return status, _plain(), "Internal Server Error"
        if mode == "garbage":
            return 200, {"Content-Type": "text/html"}, "<html><body>502 Bad Gateway?</body></html>"
        if mode == "invalid":
            return 200, _plain(debug_help or "Invalid key"), protocol.INVALID
        if not path.startswith(self.prefix + "/"):
            return 404, _plain(), "Not Found"
        handler = {
            protocol.PATHS[protocol.VERIFY_KEY]: self._verify_key,
            protocol.PATHS[protocol.COMMENT_CHECK]: self._comment_check,
            protocol.PATHS[protocol.SUBMIT_SPAM]: self._submit,
            protocol.PATHS[protocol.SUBMIT_HAM]: self._submit,
            protocol.PATHS[protocol.USAGE_LIMIT]: self._usage_limit,
            protocol.PATHS[protocol.KEY_SITES]: self._key_sites,
        }.get(path[len(self.prefix):])
        if handler is None:
            return 404, _plain(), "Not Found"
        return handler(fields)

    def _alert_headers(self) -> dict[str, str]:
        alert = self.alert
        return {protocol.ALERT_CODE: alert[0], protocol.ALERT_MSG: alert[1]} if alert else {}

    def _bad_request(self, fields: dict[str, str | list[str]], *, need_blog: bool, need_ip: bool) -> str | None:
        key = _one(fields, "api_key") or _one(fields, "key")
        if not key:
            return 'Empty "api_key" value'
        if key not in self.valid_keys:
            return "Invalid key"
        if need_blog and not re.match(r"https?://[^/]", _one(fields, "blog"), re.IGNORECASE):
            return "We were unable to parse your blog URI"
        if need_ip and not _one(fields, "user_ip"):
            return 'Empty "user_ip" value'
        return None

    def _invalid(self, debug_help: str) -> tuple[int, dict[str, str], str]:
        return 200, {**_plain(debug_help), **self._alert_headers()}, protocol.INVALID

    def _verify_key(self, fields: dict[str, str | list[str]]) -> tuple[int, dict[str, str], str]:
        problem = self._bad_request(fields, need_blog=True, need_ip=False)
        if problem:
            return self._invalid(problem)
        return 200, {**_plain(), **self._alert_headers()}, protocol.VALID

    def judge(self, fields: dict[str, str | list[str]]) -> tuple[bool, bool, bool]:
        """(spam, discard, recheck) for comment-check fields, by the rules in the module docstring."""
        content = _one(fields, "comment_content")
        lowered = content.lower()
        fixed = protocol.answer_for_test_values(
            _one(fields, "comment_author"), _one(fields, "comment_author_email"), _one(fields, "user_role"))
        if fixed is not None:
            return fixed, False, False
        if self.discard_word and self.discard_word.lower() in lowered:
            return True, True, False
        if any(w.lower() in lowered for w in self.spam_words) or len(_LINK.findall(content)) > self.max_links:
            return True, False, False
        return False, False, bool(self.recheck_word) and self.recheck_word.lower() in lowered

    def _comment_check(self, fields: dict[str, str | list[str]]) -> tuple[int, dict[str, str], str]:
        problem = self._bad_request(fields, need_blog=True, need_ip=True)
        if problem:
            return self._invalid(problem)
        spam, discard, recheck = self.judge(fields)
        headers = {**_plain(), protocol.GUID: uuid.uuid4().hex, **self._alert_headers()}
        if discard:
            headers[protocol.PRO_TIP] = protocol.DISCARD_TIP
        if recheck:
            headers[protocol.RECHECK_AFTER] = "120"
        return 200, headers, protocol.TRUE if spam else protocol.FALSE

    def _submit(self, fields: dict[str, str | list[str]]) -> tuple[int, dict[str, str], str]:
        problem = self._bad_request(fields, need_blog=True, need_ip=True)
        if problem:
            return self._invalid(problem)
        return 200, {**_plain(), **self._alert_headers()}, protocol.THANKS

    def _usage_limit(self, fields: dict[str, str | list[str]]) -> tuple[int, dict[str, str], str]:
        problem = self._bad_request(fields, need_blog=False, need_ip=False)
        if problem:
            return self._invalid(problem)
        calls = sum(1 for path, _ in self.requests if path.endswith(protocol.PATHS[protocol.COMMENT_CHECK]))
        limit = self.plan_limit
        percentage = f"{100 * calls / limit:.2f}" if limit else "0.00"
        data = {"limit": "none" if limit is None else limit, "usage": calls, "percentage": percentage,
                "throttled": limit is not None and calls > limit}
        return 200, {"Content-Type": "application/json"}, json.dumps(data)

    def _key_sites(self, fields: dict[str, str | list[str]]) -> tuple[int, dict[str, str], str]:
        """Sites seen in this server's comment-check and submit-* calls; counts as strings, as documented."""
        problem = self._bad_request(fields, need_blog=False, need_ip=False)
        if problem:
            return self._invalid(problem)
        month = _one(fields, "month") or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m")
        limit = int(_one(fields, "limit") or 500)
        offset = int(_one(fields, "offset") or 0)
        sites: dict[str, dict[str, int]] = {}
        sites = self._site_counts()
        order = _one(fields, "order") or "api_calls"
        names = sorted(sites, key=lambda s: (-sites[s].get(order, 0), s))
        page = [SiteActivity(site=s, **sites[s], is_revoked=False) for s in names[offset:offset + limit]]
        if _one(fields, "format") == "csv":
            text = protocol.key_sites_csv(_one(fields, "api_key"), month, page, limit=limit, offset=offset,
                                          total=len(names))
            return 200, {"Content-Type": "text/csv"}, text
        text = protocol.key_sites_json(month, page, limit=limit, offset=offset, total=len(names), counts_as_text=True)
        return 200, {"Content-Type": "application/json"}, text

    def _site_counts(self) -> dict[str, dict[str, int]]:
        """The key-sites counts of every site seen in this server's comment-check and submit-* calls."""
        counted = {protocol.PATHS[name]: name for name in (protocol.COMMENT_CHECK, protocol.SUBMIT_SPAM,
                                                              protocol.SUBMIT_HAM)}
        sites: dict[str, dict[str, int]] = {}
        for path, sent in self.requests:
            name = counted.get(path[len(self.prefix):])
            blog = _one(sent, "blog")
            if name is None or not blog:
                continue
            row = sites.setdefault(blog, dict.fromkeys(protocol.KEY_SITES_COLUMNS, 0))
            row["api_calls"] += 1
            if name == protocol.COMMENT_CHECK:
                row["spam" if self.judge(sent)[0] else "ham"] += 1
            elif name == protocol.SUBMIT_SPAM:
                row["missed_spam"] += 1
            else:
                row["false_positives"] += 1
        return sites


def _plain(debug_help: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if debug_help:
        headers[protocol.DEBUG_HELP] = debug_help
    return headers


def _one(fields: dict[str, str | list[str]], name: str) -> str:
    value = fields.get(name, "")
    return value[0] if isinstance(value, list) else value
