"""Both Akismet clients against FakeAkismet over real HTTP on 127.0.0.1 (neither requests nor httpx is patched).

Every test that takes the ``client`` or ``make`` fixture runs twice: with :class:`AkismetClient`
(requests) and with :class:`AsyncAkismetClient` (httpx), the same lines checking both, so the
two cannot drift (see ``tests/_clients.py``). What only one transport has is tested per transport.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from _clients import TRANSPORTS, Clients

import spamguard
from spamguard import (
    AkismetClient,
    AsyncAkismetClient,
    AsyncClassifier,
    BackendConnectionError,
    BackendResponseError,
    BackendTimeoutError,
    BackendUnavailableError,
    Classifier,
    Comment,
    ConfigurationError,
    InvalidCommentError,
    InvalidKeyError,
    InvalidRequestError,
    Verdict,
)
from spamguard.akismet import AkismetConfig, KeySites, SiteActivity, UsageLimit, akismet_configured
from spamguard.testing import FakeAkismet

KEY = "sk-test-0123456789abcdef"
BLOG = "https://blog.example/"


@pytest.fixture
def server() -> Iterator[FakeAkismet]:
    with FakeAkismet(valid_keys={KEY}) as fake:
        yield fake


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(transport: str) -> Iterator[Clients]:
    """Makes clients of the transport under test (AkismetClient or AsyncAkismetClient), blocking calls."""
    clients = Clients(transport)
    try:
        yield clients
    finally:
        clients.close()


@pytest.fixture
def client(server: FakeAkismet, make: Clients) -> Any:
    return make(KEY, BLOG, base_url=server.url, timeout=(1, 2), backoff=0.01)


TIMEOUT_CAUSE = {"requests": requests.Timeout, "httpx": httpx.TimeoutException}
CONNECT_CAUSE = {"requests": requests.ConnectionError, "httpx": httpx.ConnectError}


def comment(**fields: object) -> Comment:
    base: dict[str, object] = {"content": "Nice write-up, thanks.", "user_ip": "203.0.113.7", "author": "Ann"}
    base.update(fields)
    return Comment(**base)  # type: ignore[arg-type]


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """An exception and the ones it was raised from (or during)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def last_fields(server: FakeAkismet) -> dict[str, str | list[str]]:
    return server.requests[-1][1]


# --- verify-key -----------------------------------------------------------------------------


def test_verify_key_valid(client: Any, server: FakeAkismet) -> None:
    """A key the service knows verifies; the key travels as api_key and key, with the blog."""
    assert client.verify_key() is True
    path, fields = server.requests[-1]
    assert path == "/1.1/verify-key"
    assert fields == {"api_key": KEY, "key": KEY, "blog": BLOG}


def test_verify_key_invalid_returns_false(server: FakeAkismet, make: Clients) -> None:
    """An unknown key is a plain False, not an exception."""
    with make("some-other-key-9999", BLOG, base_url=server.url) as c:
        assert c.verify_key() is False


def test_verify_key_garbage_is_backend_unavailable(client: Any, server: FakeAkismet) -> None:
    """A body that is neither valid nor invalid means the service is not answering properly."""
    server.mode = "garbage"
    with pytest.raises(BackendUnavailableError, match="not 'valid' or 'invalid'"):
        client.verify_key()


# --- comment-check ----------------------------------------------------------------------------


def test_ham(client: Any) -> None:
    """An ordinary comment is ham, from Akismet, with no score and a guid."""
    verdict = client.comment_check(comment())
    assert (verdict.spam, verdict.score, verdict.discard, verdict.source) == (False, None, False, "akismet")
    assert verdict.recheck_after is None and dict(verdict.alerts) == {}


def test_spam_by_content(client: Any) -> None:
    """The fake's content rule (a spam word) gives spam."""
    verdict = client.check(comment(content="Buy viagra now"))
    assert verdict.spam is True and verdict.discard is False


@pytest.mark.parametrize(
    "fields",
    [{"author": "akismet-guaranteed-spam"}, {"author_email": "akismet-guaranteed-spam@example.com"}],
    ids=["author", "email"],
)
def test_guaranteed_spam_values(client: Any, fields: dict[str, str]) -> None:
    """Akismet's documented test values always give spam."""
    assert client.check(comment(**fields)).spam is True


def test_administrator_role_is_ham(client: Any) -> None:
    """user_role=administrator always gives ham, even for spammy content."""
    assert client.check(comment(content="viagra viagra", user_role="administrator")).spam is False


def test_discard_pro_tip(client: Any) -> None:
    """X-akismet-pro-tip: discard sets Verdict.discard."""
    verdict = client.check(comment(content="akismet-discard blatant"))
    assert verdict.spam is True and verdict.discard is True


def test_guid_on_each_check(client: Any) -> None:
    """Each check carries the service's own X-akismet-guid."""
    first, second = client.check(comment()), client.check(comment())
    assert first.guid and second.guid and first.guid != second.guid
    assert re.fullmatch(r"[0-9a-f]{32}", first.guid)


def test_recheck_after_is_provisional_ham(client: Any) -> None:
    """X-akismet-recheck-after lands on the verdict as seconds; the ham is provisional."""
    verdict = client.check(comment(content="see my pictures akismet-recheck"))
    assert verdict.spam is False and verdict.recheck_after == 120 and verdict.provisional


def test_alerts(client: Any, server: FakeAkismet, caplog: pytest.LogCaptureFixture) -> None:
    """Account alerts ride along with a valid verdict and are logged."""
    server.alert = ("10005", "Your key may be in use by someone else")
    with caplog.at_level(logging.WARNING, logger="spamguard"):
        verdict = client.check(comment())
    assert verdict.spam is False
    assert dict(verdict.alerts) == {"code": "10005", "msg": "Your key may be in use by someone else"}
    assert "10005" in caplog.text


def test_invalid_with_debug_help(client: Any, server: FakeAkismet) -> None:
    """invalid for another reason than the key -> InvalidRequestError carrying the debug help."""
    server.mode = "invalid"
    server.debug_help = "We were unable to parse your blog URI"
    with pytest.raises(InvalidRequestError) as info:
        client.check(comment())
    assert info.value.debug_help == "We were unable to parse your blog URI"
    assert not isinstance(info.value, InvalidKeyError)
    assert "unable to parse your blog URI" in str(info.value)
    assert len(server.requests) == 1  # invalid is never retried


def test_invalid_key_on_comment_check(server: FakeAkismet, make: Clients) -> None:
    """comment-check with a key the service refuses -> InvalidKeyError (a ConfigurationError)."""
    with make("wrong-key-abcdef-1234", BLOG, base_url=server.url) as c, \
            pytest.raises(InvalidKeyError, match="not valid") as info:
        c.check(comment())
    assert isinstance(info.value, ConfigurationError)
    assert len(server.requests) == 1


def test_missing_user_ip_is_refused_before_sending(client: Any, server: FakeAkismet) -> None:
    """Akismet needs user_ip: the client says so without a request."""
    with pytest.raises(InvalidCommentError) as info:
        client.check(Comment(content="hello"))
    assert info.value.field == "user_ip"
    assert server.requests == []


def test_server_error_is_retried_then_unavailable(client: Any, server: FakeAkismet) -> None:
    """A 500 is retried `retries` times (default 2, so 3 requests), then BackendUnavailableError."""
    server.mode = "error"
    with pytest.raises(BackendUnavailableError, match="HTTP 500 after 3 attempt"):
        client.check(comment())
    assert [path for path, _ in server.requests] == ["/1.1/comment-check"] * 3


def test_retry_count_follows_the_setting(server: FakeAkismet, make: Clients) -> None:
    """retries=0 means exactly one request; 503 counts as a server error too."""
    server.mode, server.status = "error", 503
    with make(KEY, BLOG, base_url=server.url, retries=0) as c, pytest.raises(BackendUnavailableError):
        c.check(comment())
    assert len(server.requests) == 1


def test_client_error_status_is_not_retried(client: Any, server: FakeAkismet) -> None:
    """A 4xx is not a protocol answer (unavailable) but not worth retrying either."""
    server.mode, server.status = "error", 403
    with pytest.raises(BackendUnavailableError, match="HTTP 403"):
        client.check(comment())
    assert len(server.requests) == 1


def test_garbage_body(client: Any, server: FakeAkismet) -> None:
    """An HTML page instead of true/false is BackendUnavailableError naming what came back."""
    server.mode = "garbage"
    with pytest.raises(BackendUnavailableError, match="not 'true', 'false' or 'invalid'"):
        client.check(comment())


def test_slow_server_times_out_quickly(server: FakeAkismet, make: Clients, transport: str) -> None:
    """A hung service costs the read timeout, not forever, and a timeout is not retried."""
    server.mode = "slow"  # 10 s
    with make(KEY, BLOG, base_url=server.url, timeout=(1, 0.3)) as c:
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError, match="within 0.3 s") as info:
            c.check(comment())
        elapsed = time.monotonic() - started
    assert elapsed < 2
    assert isinstance(info.value.cause, TIMEOUT_CAUSE[transport])
    assert len(server.requests) == 1


def test_down_server_is_refused(client: Any, server: FakeAkismet, transport: str) -> None:
    """A closed port gives BackendUnavailableError with the connection error as cause; back up, it works."""
    assert client.check(comment()).spam is False  # a pooled keep-alive connection now exists
    server.mode = "down"
    with pytest.raises(BackendUnavailableError, match="could not connect") as info:
        client.check(comment())
    assert isinstance(info.value.cause, CONNECT_CAUSE[transport])
    assert "refused" in str(info.value.cause).lower() or any(  # httpx: "All connection attempts failed", from ...
        isinstance(e, ConnectionRefusedError) for e in _chain(info.value.cause))
    server.mode = "ok"
    assert client.check(comment()).spam is False


def test_base_url_with_path_prefix(make: Clients) -> None:
    """base_url may carry a path prefix; /1.1/... goes under it."""
    with FakeAkismet(valid_keys={KEY}, prefix="/akismet") as server:
        assert server.url.endswith("/akismet")
        with make(KEY, BLOG, base_url=server.url + "/") as c:
            assert c.verify_key() is True
            assert c.check(comment()).spam is False
        assert [p for p, _ in server.requests] == ["/akismet/1.1/verify-key", "/akismet/1.1/comment-check"]


def test_every_comment_field_is_sent(client: Any, server: FakeAkismet) -> None:
    """The form carries each field under its Akismet name, context repeated, honeypot under its own name."""
    c = Comment(
        content="Hi", author="Ann", author_email="ann@example.com", author_url="https://ann.example",
        user_ip="2001:db8::1", user_agent="Mozilla/5.0", referrer="https://search.example/?q=x",
        permalink="https://blog.example/p/1", type="reply",
        date=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        parent="42", lang="en, fr_ca", charset="UTF-8", recheck_reason="edit",
        honeypot_field_name="hp_field", honeypot_value="gotcha", context=["tag one", "category"],
        extra={"HTTP_ACCEPT": "text/html"},
    )
    client.check(c)
    assert last_fields(server) == {
        "api_key": KEY, "blog": BLOG, "comment_content": "Hi", "comment_author": "Ann",
        "comment_author_email": "ann@example.com", "comment_author_url": "https://ann.example",
        "user_ip": "2001:db8::1", "user_agent": "Mozilla/5.0", "referrer": "https://search.example/?q=x",
        "permalink": "https://blog.example/p/1", "comment_type": "reply",
        "comment_date_gmt": "2026-01-02T01:04:05Z", "comment_parent": "42", "blog_lang": "en, fr_ca",
        "blog_charset": "UTF-8", "recheck_reason": "edit", "comment_context[]": ["tag one", "category"],
        "honeypot_field_name": "hp_field", "hp_field": "gotcha", "HTTP_ACCEPT": "text/html",
    }


def test_is_test_flag(server: FakeAkismet, make: Clients) -> None:
    """is_test=True sends is_test=1; the default sends nothing."""
    with make(KEY, BLOG, base_url=server.url, is_test=True) as c:
        c.check(comment())
    assert last_fields(server)["is_test"] == "1"
    with make(KEY, BLOG, base_url=server.url) as c:
        c.check(comment())
    assert "is_test" not in last_fields(server)


def test_user_agent_format(server: FakeAkismet) -> None:
    """User-Agent is `App/Version | spamguard/Version`, Python/x.y by default (requests)."""
    seen: list[str] = []

    class Recording(requests.Session):
        def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            seen.append(kwargs["headers"]["User-Agent"])
            return super().request(method, url, *args, **kwargs)

    with Recording() as session:
        AkismetClient(KEY, BLOG, base_url=server.url, session=session).verify_key()
        AkismetClient(KEY, BLOG, base_url=server.url, session=session, user_agent="MyBlog/2.1").verify_key()
    py = f"Python/{sys.version_info.major}.{sys.version_info.minor}"
    assert seen == [f"{py} | spamguard/{spamguard.__version__}", f"MyBlog/2.1 | spamguard/{spamguard.__version__}"]


def test_user_agent_format_async(server: FakeAkismet) -> None:
    """The async client sends the same User-Agent, through an httpx.AsyncClient passed in."""
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.headers["User-Agent"])

    async def run() -> None:
        async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
            await AsyncAkismetClient(KEY, BLOG, base_url=server.url, http_client=http).verify_key()
            await AsyncAkismetClient(KEY, BLOG, base_url=server.url, http_client=http,
                                     user_agent="MyBlog/2.1").verify_key()

    asyncio.run(run())
    py = f"Python/{sys.version_info.major}.{sys.version_info.minor}"
    assert seen == [f"{py} | spamguard/{spamguard.__version__}", f"MyBlog/2.1 | spamguard/{spamguard.__version__}"]


def test_check_many_in_order(client: Any, server: FakeAkismet) -> None:
    """check_many answers in input order, one request each; a bare Comment is refused."""
    verdicts = client.check_many([comment(), comment(content="viagra"), comment(user_role="administrator")])
    assert [v.spam for v in verdicts] == [False, True, False]
    assert len(server.requests) == 3
    with pytest.raises(TypeError):
        client.check_many(comment())  # type: ignore[arg-type]


def test_client_is_a_classifier(server: FakeAkismet) -> None:
    """AkismetClient satisfies the Classifier protocol, AsyncAkismetClient the AsyncClassifier one."""
    assert isinstance(AkismetClient(KEY, BLOG, base_url=server.url), Classifier)
    assert isinstance(AsyncAkismetClient(KEY, BLOG, base_url=server.url), AsyncClassifier)


# --- submit-spam / submit-ham ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "verdict", "sent"),
    [
        ("submit_spam", "/1.1/submit-spam", Verdict(spam=False, source="akismet"), "false"),
        ("submit_ham", "/1.1/submit-ham", Verdict(spam=True, source="akismet"), "true"),
        ("submit_spam", "/1.1/submit-spam", None, None),
    ],
)
def test_submit_sends_comment_check_response(
    client: Any, server: FakeAkismet, method: str, path: str, verdict: Verdict | None, sent: str | None
) -> None:
    """submit-* send the comment's fields plus the original verdict as comment_check_response."""
    c = comment(content="Missed one")
    assert getattr(client, method)(c, verdict) is None
    got_path, fields = server.requests[-1]
    assert got_path == path
    assert fields.get("comment_check_response") == sent
    assert fields["comment_content"] == "Missed one" and fields["user_ip"] == "203.0.113.7"


def test_submit_without_thanks_is_unavailable(client: Any, server: FakeAkismet) -> None:
    """submit-* expect the thank-you body; anything else is BackendUnavailableError."""
    server.mode = "garbage"
    with pytest.raises(BackendUnavailableError, match="instead of thanks"):
        client.submit_ham(comment())


# --- usage-limit and key-sites --------------------------------------------------------------------


def test_usage_limit_with_int_limit(client: Any) -> None:
    """usage-limit parses an int limit, usage, percentage (a string) and throttled."""
    client.check(comment())
    assert client.usage_limit() == UsageLimit(limit=350_000, usage=1, percentage="0.00", throttled=False)


def test_usage_limit_none(make: Clients) -> None:
    """An unlimited plan's limit `none` becomes None."""
    with FakeAkismet(valid_keys={KEY}, plan_limit=None) as server:
        with make(KEY, BLOG, base_url=server.url) as c:
            assert c.usage_limit() == UsageLimit(limit=None, usage=0, percentage="0.00", throttled=False)
        assert server.requests[-1] == ("/1.2/usage-limit", {"api_key": KEY})


def test_key_sites_with_string_counts(client: Any, server: FakeAkismet) -> None:
    """key-sites JSON with counts as strings (as Akismet's sample has them) is parsed to ints."""
    client.check(comment())
    client.check(comment(content="viagra"))
    client.submit_spam(comment())
    sites = client.key_sites("2026-05", limit=10, offset=0, order="api_calls")
    assert sites == KeySites(
        months={"2026-05": (SiteActivity(site=BLOG, api_calls=3, spam=1, ham=1, missed_spam=1,
                                         false_positives=0, is_revoked=False),)},
        limit=10, offset=0, total=1,
    )
    assert server.requests[-1] == (
        "/1.2/key-sites",
        {"api_key": KEY, "format": "json", "month": "2026-05", "limit": "10", "offset": "0", "order": "api_calls"},
    )


def test_key_sites_accepts_int_counts() -> None:
    """Counts given as JSON numbers (as the spec types them) parse the same."""
    from spamguard.akismet.protocol import parse_key_sites

    cfg = AkismetConfig(api_key=KEY, blog=BLOG)
    body = ('{"2026-05": [{"site": "https://a.example", "api_calls": 7, "spam": "2", "ham": 5, '
            '"missed_spam": 0, "false_positives": 0, "is_revoked": true}], "limit": 500, "offset": 0, "total": 1}')
    sites = parse_key_sites(200, {}, body, cfg)
    assert sites.months["2026-05"] == (SiteActivity("https://a.example", 7, 2, 5, 0, 0, True),)


@pytest.mark.parametrize("method", ["usage_limit", "key_sites"])
def test_json_endpoints_with_bad_key(server: FakeAkismet, make: Clients, method: str) -> None:
    """The 1.2 calls say invalid for a bad key -> InvalidKeyError."""
    with make("not-a-known-key-000", BLOG, base_url=server.url) as c, pytest.raises(InvalidKeyError):
        getattr(c, method)()


@pytest.mark.parametrize("method", ["usage_limit", "key_sites"])
def test_json_endpoints_with_garbage(client: Any, server: FakeAkismet, method: str) -> None:
    """Non-JSON from a 1.2 call is BackendUnavailableError."""
    server.mode = "garbage"
    with pytest.raises(BackendUnavailableError, match="not JSON"):
        getattr(client, method)()


# --- every public method, every failure kind ------------------------------------------------------

CALLS = {
    "verify_key": lambda c: c.verify_key(),
    "comment_check": lambda c: c.comment_check(comment()),
    "submit_spam": lambda c: c.submit_spam(comment()),
    "submit_ham": lambda c: c.submit_ham(comment()),
    "usage_limit": lambda c: c.usage_limit(),
    "key_sites": lambda c: c.key_sites(),
}


@pytest.mark.parametrize("mode", ["error", "garbage", "down"])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_method_fails_cleanly(client: Any, server: FakeAkismet, call: str, mode: str) -> None:
    """Every method turns every outage kind into BackendUnavailableError, with no key in the text."""
    server.mode = mode
    with pytest.raises(BackendUnavailableError) as info:
        CALLS[call](client)
    assert KEY not in str(info.value) and KEY not in repr(info.value.cause)


FAILED = {"error": BackendResponseError, "garbage": BackendResponseError, "down": BackendConnectionError}


@pytest.mark.parametrize("mode", sorted(FAILED))
@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_method_says_what_failed(client: Any, server: FakeAkismet, call: str, mode: str) -> None:
    """A 5xx or garbage is a BackendResponseError, a refused connection a BackendConnectionError."""
    server.mode = mode
    with pytest.raises(BackendUnavailableError) as info:
        CALLS[call](client)
    assert type(info.value) is FAILED[mode]


@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_method_times_out_as_a_timeout(server: FakeAkismet, make: Clients, call: str) -> None:
    """A service that does not answer in time is a BackendTimeoutError, whatever the call."""
    server.mode = "slow"
    with make(KEY, BLOG, base_url=server.url, timeout=(1, 0.2)) as c, \
            pytest.raises(BackendTimeoutError, match="within 0.2 s"):
        CALLS[call](c)


# --- secrets ---------------------------------------------------------------------------------------


def test_key_redacted_in_repr(client: Any, make: Clients) -> None:
    """Neither the client's nor the configuration's repr shows the key; the last 4 characters may."""
    for text in (repr(client), repr(client.config), str(client.config)):
        assert KEY not in text and "***cdef" in text
    assert "***" in repr(make("short", BLOG)) and "short" not in repr(make("short", BLOG))


def test_key_redacted_in_errors_and_logs(
    client: Any, server: FakeAkismet, caplog: pytest.LogCaptureFixture
) -> None:
    """Errors and log lines (at DEBUG, urllib3 included) never carry the key."""
    caplog.set_level(logging.DEBUG)
    client.verify_key()
    server.mode = "invalid"
    server.debug_help = f"Invalid key {KEY}"  # a service echoing the key back
    with pytest.raises(InvalidKeyError) as info:
        client.check(comment())
    assert KEY not in str(info.value)
    server.mode = "down"
    with pytest.raises(BackendUnavailableError) as down:
        client.check(comment())
    assert KEY not in str(down.value)
    assert caplog.records and KEY not in caplog.text


def test_key_redacted_when_transport_error_quotes_the_body(caplog: pytest.LogCaptureFixture) -> None:
    """A transport error whose own message quotes the URL and body still leaks no key, nor does its cause (requests)."""

    class Leaky(requests.Session):
        def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            body = "&".join(f"{k}={v}" for k, v in kwargs["data"].items())
            raise requests.ConnectionError(f"POST {url} with {body} failed")

    caplog.set_level(logging.DEBUG)
    c = AkismetClient(KEY, BLOG, base_url="http://127.0.0.1:9", session=Leaky(), retries=1, backoff=0.01)
    with pytest.raises(BackendUnavailableError) as info:
        c.verify_key()
    err = info.value
    assert KEY not in str(err) and KEY not in repr(err)
    assert err.cause is not None and KEY not in str(err.cause) and "***cdef" in str(err.cause)
    assert err.__cause__ is err.cause and isinstance(err.cause, requests.ConnectionError)
    assert KEY not in caplog.text


def test_key_redacted_when_httpx_error_quotes_the_body(caplog: pytest.LogCaptureFixture) -> None:
    """The same for httpx: an error quoting the URL and the form body (URL-encoded key) is masked,
    in the error, its cause and the logs."""

    class Leaky(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError(f"POST {request.url} with {request.content.decode()} failed", request=request)

    async def run() -> BackendUnavailableError:
        async with httpx.AsyncClient(transport=Leaky()) as http:
            c = AsyncAkismetClient(KEY, BLOG, base_url="http://127.0.0.1:9", http_client=http, retries=1,
                                   backoff=0.01)
            with pytest.raises(BackendUnavailableError) as info:
                await c.verify_key()
            return info.value

    caplog.set_level(logging.DEBUG)
    err = asyncio.run(run())
    assert "api_key=***cdef" in str(err.cause)  # the body really was quoted, and masked
    assert KEY not in str(err) and KEY not in repr(err)
    assert err.cause is not None and KEY not in str(err.cause)
    assert err.__cause__ is err.cause and isinstance(err.cause, httpx.ConnectError)
    assert KEY not in caplog.text


# --- threads -----------------------------------------------------------------------------------------


def test_client_shared_by_16_threads(server: FakeAkismet) -> None:
    """One AkismetClient, 16 threads at once: every answer right, every request received."""
    client = AkismetClient(KEY, BLOG, base_url=server.url, timeout=(1, 2), backoff=0.01)
    server.delay = 0.05  # keep requests overlapping
    barrier = threading.Barrier(16)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(4):
                spammy = (i + j) % 2 == 0
                v = client.check(comment(content="viagra" if spammy else f"thread {i} says hi"))
                with lock:
                    results.append((i, v.spam == spammy))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(results) == 64 and all(ok for _, ok in results)
    assert len(server.requests) == 64


def test_async_client_shared_by_64_tasks(server: FakeAkismet) -> None:
    """One async client, 64 checks at once on one event loop: every answer right, every request received,
    in about the time of one (each answer takes 0.2 s)."""
    server.delay = 0.2

    async def run() -> tuple[list[bool], float]:
        async with AsyncAkismetClient(KEY, BLOG, base_url=server.url) as c:
            started = time.perf_counter()
            verdicts = await asyncio.gather(*(c.check(comment(content="viagra" if i % 2 else f"hi {i}"))
                                              for i in range(64)))
            return [v.spam == bool(i % 2) for i, v in enumerate(verdicts)], time.perf_counter() - started

    right, elapsed = asyncio.run(run())
    assert right == [True] * 64
    assert len(server.requests) == 64
    assert elapsed < 3  # sequential would be 12.8 s


def test_async_check_many_runs_concurrently_in_order(server: FakeAkismet) -> None:
    """check_many on the async client sends its checks at once (pool_size at most) and keeps input order;
    a failure is raised once every check has finished."""
    server.delay = 0.2

    async def run() -> tuple[list[bool], float]:
        async with AsyncAkismetClient(KEY, BLOG, base_url=server.url, pool_size=8) as c:
            started = time.perf_counter()
            verdicts = await c.check_many([comment(content="viagra" if i % 3 == 0 else "fine") for i in range(16)])
            elapsed = time.perf_counter() - started
            with pytest.raises(InvalidCommentError):
                await c.check_many([comment(), Comment(content="no address")])
            return [v.spam for v in verdicts], elapsed

    spams, elapsed = asyncio.run(run())
    assert spams == [i % 3 == 0 for i in range(16)]
    assert 0.4 <= elapsed < 2.5  # two rounds of 8, not 16 one after another (3.2 s)


def test_async_pool_exhausted_is_a_timeout(server: FakeAkismet) -> None:
    """With every pooled connection busy longer than the connect timeout, a call fails as a
    BackendTimeoutError saying so, rather than waiting without end."""
    server.delay = 1.0

    async def run() -> list[Verdict | BaseException]:
        async with AsyncAkismetClient(KEY, BLOG, base_url=server.url, pool_size=1, timeout=(0.2, 5)) as c:
            return list(await asyncio.gather(c.check(comment()), c.check(comment()), return_exceptions=True))

    first, second = asyncio.run(run())
    assert isinstance(first, Verdict) and first.spam is False
    assert isinstance(second, BackendTimeoutError) and "no free connection" in str(second)


@pytest.mark.parametrize("pool_size", [0, -1, 2.5, True])
def test_async_pool_size_must_be_a_count(pool_size: object) -> None:
    """pool_size is how many calls may be in flight: a whole number from 1."""
    with pytest.raises(ConfigurationError, match="pool_size must be a whole number"):
        AsyncAkismetClient(KEY, BLOG, pool_size=pool_size)  # type: ignore[arg-type]


def test_async_with_closes_the_connections(server: FakeAkismet) -> None:
    """`async with` (or aclose()) closes the client's own pool: it sends nothing after; an
    httpx.AsyncClient passed in is left open for its owner."""

    async def run() -> None:
        async with AsyncAkismetClient(KEY, BLOG, base_url=server.url) as own:
            assert await own.verify_key() is True
        with pytest.raises(RuntimeError, match="closed"):
            await own.verify_key()
        async with httpx.AsyncClient() as http:
            async with AsyncAkismetClient(KEY, BLOG, base_url=server.url, http_client=http) as borrowed:
                assert await borrowed.verify_key() is True
            assert not http.is_closed
            assert await AsyncAkismetClient(KEY, BLOG, base_url=server.url, http_client=http).verify_key()

    asyncio.run(run())
    assert len(server.requests) == 3


def test_async_client_is_not_imported_with_spamguard() -> None:
    """`import spamguard` does not import httpx; spamguard.AsyncAkismetClient does, on first use."""
    import subprocess

    script = ("import sys, spamguard\n"
              "assert 'httpx' not in sys.modules, 'httpx imported early'\n"
              "from spamguard import *\n"
              "assert 'httpx' not in sys.modules, 'httpx imported by import *'\n"
              "assert spamguard.AsyncAkismetClient.__name__ == 'AsyncAkismetClient' and 'httpx' in sys.modules\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)  # noqa: S603 - our interpreter


def test_without_httpx_the_error_names_the_extra() -> None:
    """Without httpx installed, asking for AsyncAkismetClient says which extra to install."""
    import subprocess

    script = ("import sys\n"
              "sys.modules['httpx'] = None  # as if it were not installed\n"
              "import spamguard\n"
              "try:\n"
              "    spamguard.AsyncAkismetClient\n"
              "except ImportError as exc:\n"
              "    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,  # noqa: S603
                          timeout=120)
    assert done.stdout.strip() == (
        "AsyncAkismetClient needs httpx, which is not installed: pip install 'spamguard[async]'")


# --- configuration -------------------------------------------------------------------------------------


ENV_NAMES = ["SPAMGUARD_AKISMET_KEY", "PYTHON_AKISMET_API_KEY", "SPAMGUARD_BLOG_URL", "PYTHON_AKISMET_BLOG_URL",
             "SPAMGUARD_AKISMET_URL", "SPAMGUARD_AKISMET_TIMEOUT"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_from_env(clean_env: pytest.MonkeyPatch, server: FakeAkismet, make: Clients) -> None:
    """from_env reads key, blog, base URL and timeout."""
    clean_env.setenv("SPAMGUARD_AKISMET_KEY", KEY)
    clean_env.setenv("SPAMGUARD_BLOG_URL", BLOG)
    clean_env.setenv("SPAMGUARD_AKISMET_URL", server.url)
    clean_env.setenv("SPAMGUARD_AKISMET_TIMEOUT", "2.5")
    assert akismet_configured()
    with make.from_env() as c:
        assert (c.config.blog, c.config.base_url, c.config.timeout) == (BLOG, server.url, (2.5, 2.5))
        assert c.verify_key() is True


def test_from_env_python_akismet_names(clean_env: pytest.MonkeyPatch, make: Clients) -> None:
    """The popular client's PYTHON_AKISMET_* names work too."""
    clean_env.setenv("PYTHON_AKISMET_API_KEY", KEY)
    clean_env.setenv("PYTHON_AKISMET_BLOG_URL", BLOG)
    c = make.from_env()
    assert c.config.api_key == KEY and c.config.base_url == "https://rest.akismet.com"
    assert c.config.timeout == (3.05, 5.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set SPAMGUARD_AKISMET_KEY"),
        ({"SPAMGUARD_AKISMET_KEY": KEY}, "set SPAMGUARD_BLOG_URL"),
        ({"SPAMGUARD_AKISMET_KEY": KEY, "SPAMGUARD_BLOG_URL": BLOG, "SPAMGUARD_AKISMET_TIMEOUT": "soon"},
         "SPAMGUARD_AKISMET_TIMEOUT must be a positive number"),
        ({"SPAMGUARD_AKISMET_KEY": KEY, "SPAMGUARD_BLOG_URL": "blog.example"}, "blog must be a full http"),
        ({"SPAMGUARD_AKISMET_KEY": KEY, "SPAMGUARD_BLOG_URL": "http://[blog"}, "blog must be a full http"),
        ({"SPAMGUARD_AKISMET_KEY": KEY, "SPAMGUARD_BLOG_URL": BLOG, "SPAMGUARD_AKISMET_URL": "ftp://x"},
         "base_url must be a full http"),
    ],
)
def test_from_env_errors(clean_env: pytest.MonkeyPatch, make: Clients, env: dict[str, str], message: str) -> None:
    """Missing or bad settings give a ConfigurationError saying which variable to fix."""
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert akismet_configured() is ("SPAMGUARD_AKISMET_KEY" in env)
    with pytest.raises(ConfigurationError, match=message) as info:
        make.from_env()
    assert KEY not in str(info.value)


@pytest.mark.parametrize("timeout", [0, -1, (1, 0), "3", (1, 2, 3)])
def test_bad_timeouts_refused(make: Clients, timeout: object) -> None:
    """Timeouts must be finite positive seconds or a (connect, read) pair."""
    with pytest.raises(ConfigurationError, match="timeout"):
        make(KEY, BLOG, timeout=timeout)


def test_empty_key_refused(make: Clients) -> None:
    """An empty key is a configuration error, before any request."""
    with pytest.raises(ConfigurationError, match="SPAMGUARD_AKISMET_KEY"):
        make("  ", BLOG)


def test_proxies_come_from_environment(clean_env: pytest.MonkeyPatch, server: FakeAkismet, make: Clients) -> None:
    """The default session honours HTTP_PROXY (requests' and httpx's trust_env): the request goes to the proxy."""
    with FakeAkismet(valid_keys={KEY}) as proxy:
        clean_env.setenv("HTTP_PROXY", proxy.url)
        clean_env.setenv("NO_PROXY", "")
        clean_env.delenv("no_proxy", raising=False)
        clean_env.delenv("http_proxy", raising=False)
        with make(KEY, "https://blog.example/", base_url="http://akismet.invalid") as c:
            assert c.verify_key() is True
        assert len(proxy.requests) == 1
        assert server.requests == []


def test_a_client_from_its_own_config(server: FakeAkismet, make: Clients) -> None:
    """from_config takes an AkismetConfig whole; the client keeps it as its config."""
    config = AkismetConfig(api_key=KEY, blog=BLOG, base_url=server.url, timeout=2.0, retries=0)
    with make.from_config(config) as c:
        assert c.config is config
        assert c.verify_key() is True
    with pytest.raises(TypeError, match="AkismetConfig"):
        make.from_config({"api_key": KEY, "blog": BLOG})

