"""FakeAkismet on its own: the protocol as documented, spoken to with plain requests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from spamguard.testing import FakeAkismet

KEY = "fake-test-key"
BLOG = "https://blog.example/"


@pytest.fixture
def server() -> Iterator[FakeAkismet]:
    with FakeAkismet(valid_keys={KEY}) as fake:
        yield fake


def post(server: FakeAkismet, path: str, **fields: object) -> requests.Response:
    return requests.post(server.url + path, data=fields, timeout=5)


def check(server: FakeAkismet, **fields: object) -> requests.Response:
    base: dict[str, object] = {"api_key": KEY, "blog": BLOG, "user_ip": "203.0.113.7", "comment_content": "hello"}
    base.update(fields)
    return post(server, "/1.1/comment-check", **base)


def test_url_is_loopback_with_a_free_port(server: FakeAkismet) -> None:
    """It listens on 127.0.0.1 at the port it reports."""
    assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0


@pytest.mark.parametrize(
    ("fields", "body", "debug_help"),
    [
        ({"api_key": KEY, "blog": BLOG}, "valid", None),
        ({"key": KEY, "blog": BLOG}, "valid", None),
        ({"api_key": "nope", "blog": BLOG}, "invalid", "Invalid key"),
        ({"blog": BLOG}, "invalid", 'Empty "api_key" value'),
        ({"api_key": KEY}, "invalid", "We were unable to parse your blog URI"),
    ],
)
def test_verify_key(server: FakeAkismet, fields: dict[str, str], body: str, debug_help: str | None) -> None:
    """verify-key: valid keys with a blog are valid; otherwise invalid with debug help."""
    r = post(server, "/1.1/verify-key", **fields)
    assert (r.status_code, r.text, r.headers.get("X-akismet-debug-help")) == (200, body, debug_help)


@pytest.mark.parametrize(
    ("fields", "body", "pro_tip", "recheck"),
    [
        ({}, "false", None, None),
        ({"comment_author": "akismet-guaranteed-spam"}, "true", None, None),
        ({"comment_author_email": "akismet-guaranteed-spam@example.com"}, "true", None, None),
        ({"comment_content": "viagra", "user_role": "editor, administrator"}, "false", None, None),
        ({"comment_content": "cheap VIAGRA"}, "true", None, None),
        ({"comment_content": "http://a.example http://b.example https://c.example"}, "true", None, None),
        ({"comment_content": "http://a.example https://b.example"}, "false", None, None),
        ({"comment_content": "akismet-discard"}, "true", "discard", None),
        ({"comment_content": "akismet-recheck"}, "false", None, "120"),
    ],
    ids=["ham", "guaranteed-author", "guaranteed-email", "administrator", "spam-word", "three-links",
         "two-links", "discard", "recheck"],
)
def test_comment_check_rules(server: FakeAkismet, fields: dict[str, str], body: str, pro_tip: str | None,
                             recheck: str | None) -> None:
    """comment-check follows the documented rules and sends a guid each time."""
    r = check(server, **fields)
    assert r.text == body
    assert r.headers.get("X-akismet-pro-tip") == pro_tip
    assert r.headers.get("X-akismet-recheck-after") == recheck
    assert len(r.headers["X-akismet-guid"]) == 32


def test_comment_check_needs_user_ip(server: FakeAkismet) -> None:
    """No user_ip: invalid with debug help."""
    r = post(server, "/1.1/comment-check", api_key=KEY, blog=BLOG, comment_content="x")
    assert (r.text, r.headers["X-akismet-debug-help"]) == ("invalid", 'Empty "user_ip" value')


@pytest.mark.parametrize("path", ["/1.1/submit-spam", "/1.1/submit-ham"])
def test_submit(server: FakeAkismet, path: str) -> None:
    """submit-* thank you."""
    r = post(server, path, api_key=KEY, blog=BLOG, user_ip="203.0.113.7", comment_check_response="false")
    assert r.text == "Thanks for making the web a better place."


def test_requests_record_repeated_fields_as_lists(server: FakeAkismet) -> None:
    """server.requests keeps each field; a repeated one becomes a list; GET query counts too."""
    requests.post(server.url + "/1.1/comment-check", timeout=5,
                  data=[("api_key", KEY), ("comment_context[]", "a"), ("comment_context[]", "b")])
    requests.get(server.url + "/1.2/usage-limit", params={"api_key": KEY}, timeout=5)
    assert server.requests == [
        ("/1.1/comment-check", {"api_key": KEY, "comment_context[]": ["a", "b"]}),
        ("/1.2/usage-limit", {"api_key": KEY}),
    ]


def test_usage_limit_json(server: FakeAkismet) -> None:
    """usage-limit answers JSON counting the comment-checks."""
    check(server)
    r = requests.get(server.url + "/1.2/usage-limit", params={"api_key": KEY}, timeout=5)
    assert r.json() == {"limit": 350000, "usage": 1, "percentage": "0.00", "throttled": False}


def test_key_sites_json_and_csv(server: FakeAkismet) -> None:
    """key-sites answers JSON (counts as strings) or CSV with Akismet's header line."""
    check(server)
    check(server, comment_content="viagra")
    data = post(server, "/1.2/key-sites", api_key=KEY, month="2026-05").json()
    assert data == {"2026-05": [{"site": BLOG, "api_calls": "2", "spam": "1", "ham": "1", "missed_spam": "0",
                                 "false_positives": "0", "is_revoked": False}],
                    "limit": 500, "offset": 0, "total": 1}
    text = post(server, "/1.2/key-sites", api_key=KEY, month="2026-05", format="csv").text
    assert text.splitlines() == [
        f"Active sites for {KEY} during 2026-05 (limit:500, offset: 0, total: 1)",
        "Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked",
        f"{BLOG},2,1,1,0,0,false",
    ]


def test_modes(server: FakeAkismet) -> None:
    """error, garbage and invalid modes answer as named; reset() brings back the protocol."""
    server.mode, server.status = "error", 502
    assert check(server).status_code == 502
    server.mode = "garbage"
    assert check(server).text.startswith("<html>")
    server.mode, server.debug_help = "invalid", "Something is off"
    r = check(server)
    assert (r.text, r.headers["X-akismet-debug-help"]) == ("invalid", "Something is off")
    server.reset()
    assert check(server).text == "false" and len(server.requests) == 1
    with pytest.raises(ValueError, match="mode must be one of"):
        server.mode = "sideways"


def test_slow_mode_and_delay(server: FakeAkismet) -> None:
    """slow waits `delay` seconds before answering."""
    server.mode, server.delay = "slow", 0.3
    started = time.monotonic()
    assert check(server).text == "false"
    assert time.monotonic() - started >= 0.3


def test_down_refuses_connections_then_reopens_same_port(server: FakeAkismet) -> None:
    """down really refuses connections; ok listens again on the same port."""
    port = server.port
    form = {"api_key": KEY, "blog": BLOG}
    with requests.Session() as session:
        assert session.post(server.url + "/1.1/verify-key", data=form, timeout=5).text == "valid"
        server.mode = "down"
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        with pytest.raises(requests.ConnectionError):  # the kept-alive connection was closed too
            session.post(server.url + "/1.1/verify-key", data=form, timeout=5)
        server.mode = "ok"
        assert server.port == port
        assert session.post(server.url + "/1.1/verify-key", data=form, timeout=5).text == "valid"


def test_unknown_path_is_404(server: FakeAkismet) -> None:
    """Paths outside the protocol are 404."""
    assert post(server, "/1.1/nothing-here", api_key=KEY).status_code == 404


def test_close_is_idempotent_and_wakes_slow_requests() -> None:
    """close() stops a server with a slow request in flight, quickly, and may be called twice."""
    server = FakeAkismet()
    server.mode = "slow"
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        threading.Timer(0.2, server.close).start()
        requests.post(server.url + "/1.1/verify-key", data={"api_key": "test-key"}, timeout=5)
    assert time.monotonic() - started < 3
    server.close()
    assert json.dumps(repr(server))


def test_a_burst_of_200_connections_is_all_answered(server: FakeAkismet) -> None:
    """200 clients connecting at the same instant are all accepted and answered (the listen backlog
    is 1024, not socketserver's 5, which resets or delays most of such a burst)."""
    import asyncio

    body = f"api_key={KEY}&blog=https%3A%2F%2Fblog.example%2F".encode()
    request = (b"POST /1.1/verify-key HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    server.delay = 0.05  # every connection stays open a while, as a slow service's would

    async def one() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return answer

    async def burst() -> list[bytes | BaseException]:
        everyone = asyncio.gather(*(one() for _ in range(200)), return_exceptions=True)
        return list(await asyncio.wait_for(everyone, 30))  # a refused SYN is retried for minutes

    started = time.monotonic()
    answers = asyncio.run(burst())
    elapsed = time.monotonic() - started
    assert [a for a in answers if not (isinstance(a, bytes) and a.endswith(b"\r\n\r\nvalid"))] == []
    assert len(server.requests) == 200
    assert elapsed < 10
