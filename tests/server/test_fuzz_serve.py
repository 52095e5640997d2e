"""A bounded fuzz run of a real `spamguard serve` over raw sockets (issue 14, "Fuzzing in CI").

Hypothesis writes whole HTTP requests byte by byte: request lines (methods, paths, versions,
garbage), headers (Host names with and without keys, Content-Type charsets, Content-Length right,
wrong, doubled or absurd, chunked bodies whole and broken, long and non-ASCII values), and form
bodies (keys good and bad, blog URLs, addresses, dates, comment text in many charsets, values of
a megabyte). Each goes to the service on a connection of its own, which is then half-closed; the
answer must come within seconds, every response in it must be a status other than 500, and no
answer may carry a traceback. Afterwards the service still answers an ordinary check and has
logged no traceback either. A slow client and a stalled one are tried alongside ordinary ones.

Examples: ``SPAMGUARD_FUZZ_EXAMPLES`` (default 200, the same ones every run: the CI budget; a number
given explores new ones each run).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spamguard.server import KeyStore

pytest.importorskip("waitress", reason="spamguard serve needs waitress")
pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SPAMGUARD_FUZZ_EXAMPLES") or 200)
# CI runs the same examples every time (a failure there is never luck); asking for a number explores anew.
DERANDOMIZE = not os.environ.get("SPAMGUARD_FUZZ_EXAMPLES")
SITE = "https://blog.example"
KEY_PLACEHOLDER = b"@KEY-12-char"  # as long as a key, so that lengths and chunk sizes stay right
ANSWER_TIMEOUT = 15.0
THANKS = b"Thanks for making the web a better place."


class Service:
    def __init__(self, proc: subprocess.Popen, port: int, key: str, log: Path) -> None:
        self.proc, self.port, self.key, self.log = proc, port, key, log
        self._read = 0

    def new_log(self) -> str:
        """What the service wrote on stderr since the last call."""
        with open(self.log, "rb") as fh:
            fh.seek(self._read)
            text = fh.read()
        self._read += len(text)
        return text.decode(errors="replace")

    def exchange(self, raw: bytes) -> bytes:
        """Send ``raw`` on a new connection, half-close it, and read until the service closes."""
        assert len(self.key) == len(KEY_PLACEHOLDER)
        raw = raw.replace(KEY_PLACEHOLDER, self.key.encode())
        with socket.create_connection(("127.0.0.1", self.port), timeout=ANSWER_TIMEOUT) as sock:
            try:
                sock.sendall(raw)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the service may refuse and close before reading everything (431, 413...)
            data = b""
            deadline = time.monotonic() + ANSWER_TIMEOUT
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    break
                except TimeoutError:
                    raise AssertionError(f"no end to the answer within {ANSWER_TIMEOUT} s: {raw[:300]!r}") from None
                if not chunk:
                    break
                data += chunk
        return data


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("fuzz")
    key, _ = KeyStore(root / "keys.json").add([SITE])
    log = root / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMGUARD_")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "spamguard", "serve", "--keys-file", str(root / "keys.json"), "--port", "0",
             "--feedback", str(root / "feedback.sqlite"), "--key-failures", "0", "--rate-limit", "0",
             "--channel-timeout", "5", "--access-log", str(root / "requests.log")],
            stdout=subprocess.DEVNULL, stderr=out, env=env,
        )
    try:
        deadline = time.monotonic() + 60
        match = None
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            match = re.search(r"on http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
            time.sleep(0.05)
        assert match, log.read_text(errors="replace")
        yield Service(proc, int(match.group(1)), key, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- reading what came back -----------------------------------------------------------------------

# A waitress bug (3.0.2), not spamguard's: a request with "Expect: 100-continue" whose header is
# malformed (say, a Content-Length of "12 x") gets "100 Continue" instead of 400, and the bytes that
# follow are read as more header; past max_request_header_size, waitress's own parser raises
# ParsingError outside its handler, logs it as an "uncaptured python exception" and closes the
# connection. The client gets no traceback and the service goes on, so this one log line is let
# through; any other error or traceback in the log fails the run.
WAITRESS_EXPECT_CONTINUE_BUG = re.compile(
    r"ERROR: uncaptured python exception, closing channel <waitress\.channel\.HTTPChannel [^>]*> "
    r"\(<class 'waitress\.parser\.ParsingError'>:.*\[[^]]*waitress/parser\.py\|received\|\d+\] "
    r"\[[^]]*waitress/parser\.py\|parse_header\|\d+\]\)$"
)


def unexpected_errors(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if ("ERROR" in line or "Traceback" in line) and not WAITRESS_EXPECT_CONTINUE_BUG.search(line)]


_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) [^\r\n]*\r\n")


def statuses(data: bytes, *, head: bool = False) -> list[int]:
    """The status of each response in ``data``, read in order (head, then Content-Length bytes of body;
    none for the answer to a HEAD request, ``head``, nor for 1xx, 204 and 304)."""
    found = []
    while data:
        match = _STATUS.match(data)
        assert match, f"not an HTTP response: {data[:200]!r}"
        top, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"a response head without its end: {data[:200]!r}"
        status = int(match.group(1))
        length = re.search(rb"\r\ncontent-length: *(\d+)", top, re.I)
        # waitress's own error pages come with their body even for HEAD: a HEAD answer is bodiless only
        # when what follows it is the next response
        bodiless = status < 200 or status in (204, 304) or (head and not found and rest[:7] in (b"", b"HTTP/1."))
        size = 0 if bodiless else int(length.group(1)) if length else len(rest)
        found.append(status)
        data = rest[size:]
    return found


# --- what Hypothesis writes -----------------------------------------------------------------------

PATHS = ["/1.1/comment-check", "/1.1/submit-spam", "/1.1/submit-ham", "/1.1/verify-key", "/1.2/usage-limit",
         "/1.2/key-sites", "/1.1/get-subscription", "/1.1/get-stats", "/1.1/deactivate", "/1.1/activate",
         "/1.1/test", "/notice", "/health", "/metrics", "/", "/1.1/", "/../../etc/passwd", "*",
         "http://rest.akismet.com/1.1/comment-check", "/1.1/comment-check/", "//1.1//test", "/%00", "/%ff%fe"]
CHARSETS = ["utf-8", "iso-8859-1", "utf-16", "utf-7", "shift_jis", "punycode", "idna", "undefined", "base64",
            "klingon", "", "utf-8\x00", "x" * 300]
QUERIES = ["", "?lang=de", "?lang=<script>", "?format=text", "?format=pdf", "?api_key=@KEY-12-char&month=2026-13",
           "?api_key=@KEY-12-char&limit=-1", "?api_key=@KEY-12-char&order=%27", "?lang=" + "x" * 5000, "?%zz=%",
           "?a=" * 300]

text_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "0000-00-00 00:00:00", "2026-11-29 05:21:33", "yesterday",
                     "2026-11-29T07:00:30.349Z", "99999999999999", "-1", "http://[::1", "javascript:alert(1)",
                     "akismet-guaranteed-spam", "administrator", "203.0.113.7", "::1", "300.1.1.1",
                     "https://blog.example", "http://blog.example:99999", "casino pills http://x.example " * 20]),
    st.just("a" * 70_000),
)
FIELDS = ["api_key", "key", "blog", "user_ip", "user_agent", "referrer", "permalink", "comment_type",
          "comment_author", "comment_author_email", "comment_author_url", "comment_content", "comment_date_gmt",
          "comment_post_modified_gmt", "comment_parent", "blog_lang", "blog_charset", "user_role", "is_test",
          "honeypot_field_name", "comment_context[]", "comment_context[3]", "comment_check_response", "from",
          "month", "format", "lang", "HTTP_ACCEPT", "POST_ak_js", "extra", "content", "author", "date"]


@st.composite
def form_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """(charset, body): mostly with the key, the site and an address, then fields of any value."""
    charset = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16", "cp1252"]))
    pairs = []
    if draw(st.integers(0, 4)):
        pairs += [(b"api_key", KEY_PLACEHOLDER), (b"blog", SITE.encode()), (b"user_ip", b"203.0.113.7")]
    for _ in range(draw(st.integers(0, 12))):
        name = draw(st.sampled_from(FIELDS) | st.text(max_size=12))
        value = draw(text_values)
        try:
            encoded = quote_plus(value, encoding=charset, errors="strict").encode()
        except UnicodeEncodeError:
            encoded = quote_plus(value).encode()
        pairs.append((quote_plus(name).encode(), encoded))
    body = b"&".join(k + b"=" + v for k, v in pairs)
    return charset, body + draw(st.sampled_from([b""] * 6 + [b"&", b"%", b"%zz", b"&=&", b"\xff\xfe\x00", b"&" * 2000]))


@st.composite
def requests_bytes(draw: st.DrawFn) -> bytes:
    """Seven in ten requests are well framed (so that they reach the service with odd values inside);
    the rest break the framing anywhere."""
    framed = draw(st.integers(0, 9)) < 7
    eol = b"\r\n" if framed else draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    method = draw(st.sampled_from([b"POST"] * 8 + [b"GET", b"HEAD"] + ([] if framed else [
        b"PUT", b"OPTIONS", b"post", b"", b"G\x00T", b"X" * 300])))
    target = draw(st.sampled_from(PATHS[:4] * 5 + PATHS)) + draw(st.sampled_from([""] * 10 + QUERIES))
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"] + ([] if framed else [
        b"HTTP/2.0", b"HTTP/9.9", b"", b"HTTP/1.1 x"])))
    line = method + b" " + target.encode() + (b" " + version if version else b"")
    if not framed and draw(st.booleans()):
        line = draw(st.binary(max_size=80))
    charset, body = draw(st.one_of(
        form_bodies(), form_bodies(), form_bodies(),
        st.tuples(st.sampled_from(CHARSETS), st.binary(max_size=300)),
        st.just(("utf-8", b"a=" + b"x" * 1_100_000)),
    ))
    headers: list[bytes] = []
    if draw(st.booleans()):
        headers.append(b"Host: " + draw(st.sampled_from([b"rest.akismet.com", KEY_PLACEHOLDER + b".rest.akismet.com",
                                                         b"127.0.0.1", b"", b"[::1", b"a" * 500])))
    if draw(st.integers(0, 3)):
        named = charset if draw(st.integers(0, 3)) else draw(st.sampled_from(CHARSETS))
        headers.append(b"Content-Type: application/x-www-form-urlencoded; charset=" + named.encode("latin-1"))
    framings = ["length", "chunked"] if framed else ["none", "wrong", "double", "negative", "huge", "both",
                                                     "broken-chunked"]
    framing = draw(st.sampled_from(framings))
    if framing == "length":
        headers.append(b"Content-Length: %d" % len(body))
    elif framing == "wrong":
        headers.append(b"Content-Length: %d" % max(0, len(body) + draw(st.integers(-50, 50))))
    elif framing == "double":
        headers += [b"Content-Length: %d" % len(body), b"Content-Length: 3"]
    elif framing == "negative":
        headers.append(b"Content-Length: -5")
    elif framing == "huge":
        headers.append(b"Content-Length: 99999999999999999999")
    elif framing in ("chunked", "both"):
        headers.append(b"Transfer-Encoding: chunked")
        if framing == "both":
            headers.append(b"Content-Length: 4")
        cut = draw(st.integers(0, len(body)))
        chunks = [part for part in (body[:cut], body[cut:]) if part]
        body = b"".join(b"%x\r\n" % len(part) + part + b"\r\n" for part in chunks) + b"0\r\n\r\n"
    elif framing == "broken-chunked":
        headers.append(b"Transfer-Encoding: " + draw(st.sampled_from([b"chunked", b"gzip, chunked", b"bogus"])))
        body = b"zz\r\n" + body[:50]
    extra = [b"Accept-Language: de-DE,de;q=0.9", b"Accept-Language: " + b"x;q=9," * 500, b"X-Forwarded-For: ::::",
             b"Connection: close", b"Connection: keep-alive", b"User-Agent: \xff\xfe", b"X-Long: " + b"v" * 70_000,
             b"Content-Type: application/json", b"Host: second.example"]
    if not framed:
        extra += [b"Expect: 100-continue", b"No colon here", b" folded: line", b"Content-Type: \x00"]
    for _ in range(draw(st.integers(0, 4))):
        headers.append(draw(st.sampled_from(extra)))
    return line + eol + eol.join(headers) + (eol if headers else b"") + eol + body


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(raw=requests_bytes())
def test_no_request_gets_a_500_or_a_traceback(service, raw):
    """Whatever bytes arrive, each answer is an HTTP response other than 500, without a traceback."""
    service.new_log()
    data = service.exchange(raw)
    assert b"Traceback" not in data and b'File "' not in data
    assert 500 not in statuses(data, head=raw.startswith(b"HEAD ")), data[:500]
    time.sleep(0.01)
    assert unexpected_errors(service.new_log()) == []


CHECK_FIELDS = [f for f in FIELDS if f not in ("api_key", "key", "blog", "user_ip", "blog_charset")]


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(path=st.sampled_from(["/1.1/comment-check", "/1.1/submit-spam", "/1.1/submit-ham"]),
       charset=st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252", "gb18030"]),
       fields=st.lists(st.tuples(st.sampled_from(CHECK_FIELDS) | st.text(min_size=1, max_size=12), text_values),
                       max_size=25))
def test_a_check_with_the_key_site_and_address_is_always_answered(service, path, charset, fields):
    """With a good key, blog and user_ip, a check or report is answered whatever else it carries
    (Akismet's rule): true/false or thanks, never `invalid`, never an error."""
    pairs = [("api_key", service.key), ("blog", SITE), ("user_ip", "203.0.113.7")]
    pairs += [(name, value) for name, value in fields if name.strip() not in ("api_key", "key", "blog", "user_ip")]
    encoded = []
    for name, value in pairs:
        try:
            encoded.append(quote_plus(name, encoding=charset) + "=" + quote_plus(value, encoding=charset))
        except UnicodeEncodeError:
            continue  # text this charset cannot hold is not what a client in that charset sends
    body = "&".join(encoded).encode("ascii")
    raw = (f"POST {path} HTTP/1.1\r\nHost: rest.akismet.com\r\nConnection: close\r\n"
           f"Content-Type: application/x-www-form-urlencoded; charset={charset}\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    data = service.exchange(raw)
    if len(body) > 1 << 20:  # over the service's --max-body-bytes: refused whole, as it should be
        assert statuses(data) == [413]
        return
    assert statuses(data) == [200], data[:500]
    answer = data.partition(b"\r\n\r\n")[2]
    assert answer in ((b"true", b"false") if path.endswith("check") else (THANKS,))


def test_afterwards_the_service_answers_and_logged_no_traceback(service):
    """The run left the service working, and nothing it did raised an exception it had to log."""
    response = requests.post(f"http://127.0.0.1:{service.port}/1.1/comment-check",
                             {"api_key": service.key, "blog": SITE, "user_ip": "203.0.113.7",
                              "comment_content": "Thanks for the write-up."}, timeout=10)
    assert (response.status_code, response.text) == (200, "false")
    assert unexpected_errors(service.log.read_text(errors="replace")) == []


def test_the_known_waitress_bug_is_the_one_let_through(service):
    """The one log line let through above is waitress's, from exactly that request (if a later waitress
    answers it with 400 instead, the line is gone and this test says the exemption can go)."""
    service.new_log()
    raw = (b"POST /1.1/comment-check HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 12 x\r\n\r\n"
           + b"a" * 300_000)
    data = service.exchange(raw)
    time.sleep(0.2)
    logged = [line for line in service.new_log().splitlines() if "ERROR" in line]
    if not logged:
        pytest.skip("this waitress answers the request without the bug: drop WAITRESS_EXPECT_CONTINUE_BUG")
    assert [bool(WAITRESS_EXPECT_CONTINUE_BUG.search(line)) for line in logged] == [True]
    assert b"Traceback" not in data and 500 not in statuses(data)


def test_a_slow_client_is_answered_and_does_not_hold_up_others(service):
    """A request sent a few bytes at a time is answered; ordinary checks sent meanwhile are answered at once."""
    body = f"api_key={service.key}&blog={SITE}&user_ip=203.0.113.7&comment_content=hello".encode()
    raw = (b"POST /1.1/comment-check HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body) + body)
    result: list[bytes] = []

    def drip() -> None:
        with socket.create_connection(("127.0.0.1", service.port), timeout=20) as sock:
            for i in range(0, len(raw), 8):
                sock.sendall(raw[i:i + 8])
                time.sleep(0.05)
            result.append(sock.recv(65536))

    thread = threading.Thread(target=drip)
    thread.start()
    try:
        for _ in range(5):
            started = time.monotonic()
            response = requests.get(f"http://127.0.0.1:{service.port}/1.1/test", timeout=10)
            assert response.text == "connected" and time.monotonic() - started < 5  # not after the slow one
            time.sleep(0.1)
    finally:
        thread.join(timeout=30)
    assert statuses(result[0]) == [200] and result[0].endswith(b"false")
