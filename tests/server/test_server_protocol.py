"""The service answers the Akismet protocol: bodies, headers, test values, invalid requests, limits."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest
from _server_stores import both_stores

from spamguard import ConfigurationError
from spamguard.server import THANKS, KeyStore, make_app
from spamguard.server._limits import BodyTooLarge, RateLimiter, read_body

SITE = "https://blog.example"  # the site the api_key fixture is made for

HAM = {"user_ip": "203.0.113.7", "comment_content": "Thanks, this helped me fix my build.", "comment_author": "Ann"}
SPAM = {**HAM, "comment_content": "Cheap pills here"}
BLATANT = {**HAM, "comment_content": "Best casino bonus"}


def check(server, key, **fields):
    return server.post("/1.1/comment-check", {"api_key": key, "blog": SITE, **fields})


@both_stores
@pytest.mark.parametrize("name", ["key", "api_key"])
def test_verify_key_accepts_a_known_key_under_either_name(server, api_key, name):
    """verify-key says `valid` for a key from the keys file, sent as `key` (old) or `api_key` (new)."""
    response = server.post("/1.1/verify-key", {name: api_key, "blog": SITE})
    assert (response.status_code, response.text) == (200, "valid")
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("form", "help_contains"),
    [
        ({"key": "0" * 32, "blog": SITE}, "Invalid API key"),
        ({"blog": SITE}, 'Empty "api_key"'),
        ({"key": "KEY"}, 'Empty "blog"'),
        ({"key": "KEY", "blog": "blog.example"}, "unable to parse your blog URI"),
        ({"key": "KEY", "blog": "https://other.example"}, "not allowed for the site 'https://other.example'"),
    ],
)
def test_verify_key_answers_invalid_with_debug_help(server, api_key, form, help_contains):
    """Every `invalid` carries X-akismet-debug-help saying what was wrong, with HTTP 200 as Akismet does."""
    form = {k: (api_key if v == "KEY" else v) for k, v in form.items()}
    response = server.post("/1.1/verify-key", form)
    assert (response.status_code, response.text) == (200, "invalid")
    assert help_contains in response.headers["X-akismet-debug-help"]
    assert api_key not in response.headers["X-akismet-debug-help"]


def test_site_match_ignores_scheme_and_trailing_slash(server, api_key):
    """The same blog over http or with a final slash is the same site."""
    response = server.post("/1.1/verify-key", {"key": api_key, "blog": "http://BLOG.example/"})
    assert response.text == "valid"


@both_stores
def test_revoked_key_is_refused_without_a_restart(server, api_key, store_location):
    """`keys revoke` from another process takes effect in a running server (the store is reloaded)."""
    assert server.post("/1.1/verify-key", {"key": api_key, "blog": SITE}).text == "valid"
    other = KeyStore(store_location)
    other.revoke(other.entries()[0].id)
    other.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        response = server.post("/1.1/verify-key", {"key": api_key, "blog": SITE})
        if response.text == "invalid":
            break
        time.sleep(0.2)
    assert response.text == "invalid"
    assert "has been revoked" in response.headers["X-akismet-debug-help"]


@pytest.mark.parametrize(
    ("fields", "body", "discard"),
    [(HAM, "false", False), (SPAM, "true", False), (BLATANT, "true", True)],
    ids=["ham", "spam", "discard"],
)
def test_comment_check_answers_true_false_and_discard(server, api_key, fields, body, discard):
    """comment-check says true/false, adds the discard pro-tip above the threshold and a guid always."""
    response = check(server, api_key, **fields)
    assert (response.status_code, response.text) == (200, body)
    assert response.headers.get("X-akismet-pro-tip") == ("discard" if discard else None)
    assert len(response.headers["X-akismet-guid"]) == 32


def test_a_filled_honeypot_is_never_answered_ham(server, api_key):
    """The service decides with the Guard's policy: a filled honeypot is spam, an empty one changes nothing."""
    trap = {**HAM, "honeypot_field_name": "website2"}
    filled = check(server, api_key, **trap, website2="http://bot.example")
    empty = check(server, api_key, **trap, website2="")
    assert (filled.text, filled.headers.get("X-akismet-pro-tip")) == ("true", None)
    assert empty.text == "false"


def test_every_check_gets_its_own_guid(server, api_key):
    """X-akismet-guid identifies one check."""
    guids = {check(server, api_key, **HAM).headers["X-akismet-guid"] for _ in range(3)}
    assert len(guids) == 3


def test_discard_threshold_is_configurable(serve, api_key):
    """A threshold above every score turns discard off."""
    server = serve(discard_threshold=1.0)
    response = check(server, api_key, **BLATANT)
    assert response.text == "true"
    assert "X-akismet-pro-tip" not in response.headers


@pytest.mark.parametrize(
    ("fields", "body"),
    [
        ({**HAM, "comment_author": "akismet-guaranteed-spam"}, "true"),
        ({**HAM, "comment_author_email": "akismet-guaranteed-spam@example.com"}, "true"),
        ({**BLATANT, "user_role": "administrator"}, "false"),
        ({**BLATANT, "user_role": "editor,administrator"}, "false"),
    ],
    ids=["spam-author", "spam-email", "administrator", "administrator-among-roles"],
)
def test_akismet_test_values_behave_as_documented(server, api_key, classifier, fields, body):
    """The documented test values force the answer without asking the model."""
    response = check(server, api_key, **fields)
    assert response.text == body
    assert classifier.checked == []


@pytest.mark.parametrize(
    ("fields", "help_contains"),
    [
        ({k: v for k, v in HAM.items() if k != "user_ip"}, 'Empty "user_ip"'),
        ({**HAM, "user_ip": ""}, 'Empty "user_ip"'),
        ({**HAM, "user_ip": "not-an-ip"}, "user_ip: 'not-an-ip' is not an IPv4 or IPv6 address"),
    ],
)
def test_comment_check_without_a_usable_user_ip_is_invalid(server, api_key, fields, help_contains):
    """user_ip is what Akismet requires of a check: missing or bad, the answer is `invalid` naming it."""
    response = check(server, api_key, **fields)
    assert response.text == "invalid"
    assert help_contains in response.headers["X-akismet-debug-help"]


@pytest.mark.parametrize(
    ("fields", "ignored"),
    [
        ({"permalink": "javascript:alert(1)"}, "permalink"),
        ({"comment_date_gmt": "yesterday"}, "comment_date_gmt"),
        ({"comment_post_modified_gmt": "29/11/2026"}, "comment_post_modified_gmt"),
        ({"comment_author_url": "http://[::1"}, "comment_author_url"),
        ({"referrer": "ftp://files.example/"}, "referrer"),
        ({"comment_parent": "x" * 9000}, "comment_parent"),
        ({"HTTP_X_LONG": "y" * 9000}, "HTTP_X_LONG"),
        ({"honeypot_field_name": "comment_content"}, "honeypot_field_name"),
        ({"comment_author": "Ann", "author": "Bob"}, "author"),
        ({"content": "something else"}, "content"),
    ],
    ids=["permalink", "date", "post-modified", "url", "referrer", "long-parent", "long-extra", "honeypot",
         "author-twice", "content-twice"],
)
def test_an_optional_parameter_that_cannot_be_read_is_left_out_and_named(server, api_key, classifier, fields,
                                                                          ignored):
    """Akismet answers a check whatever else it carries: an unreadable optional parameter is left out
    of the check and named in X-akismet-debug-help, never a reason for `invalid`."""
    response = check(server, api_key, **{**HAM, **fields})
    assert (response.status_code, response.text) == (200, "false")
    assert ignored in response.headers["X-akismet-debug-help"]
    (comment,) = classifier.checked
    assert comment.content == HAM["comment_content"]


def test_what_wordpress_sends_is_read_whole(server, api_key, classifier):
    """WordPress's dates have no zone and mean UTC; its unset dates are zeros; the whole comment row
    of a report (comment_date in site time, comment_approved, POST_*, HTTP_*...) is read without a word."""
    fields = {**HAM, "comment_post_modified_gmt": "2026-11-29 05:21:33", "comment_date_gmt": "0000-00-00 00:00:00",
              "comment_date": "2026-11-29 06:21:33", "comment_approved": "0", "comment_karma": "0",
              "comment_ID": "7", "reporter": "admin", "user_role": "", "POST_ak_js": "1764393693000",
              "HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9", "REQUEST_URI": "/wp-comments-post.php",
              "akismet_comment_nonce": "passed", "blog_lang": "en_US", "blog_charset": "UTF-8"}
    response = check(server, api_key, **fields)
    assert (response.text, response.headers.get("X-akismet-debug-help")) == ("false", None)
    (comment,) = classifier.checked
    assert comment.post_modified == dt.datetime(2026, 11, 29, 5, 21, 33, tzinfo=dt.timezone.utc)
    assert comment.date is None
    assert comment.extra["comment_date"] == "2026-11-29 06:21:33"  # site-local time: kept as text, never read as UTC


@pytest.mark.parametrize(("sent", "read"), [
    ("2026-11-29T07:00:30.349Z", dt.datetime(2026, 11, 29, 7, 0, 30, 349000, tzinfo=dt.timezone.utc)),
    ("2026-11-29T08:00:30+01:00", dt.datetime(2026, 11, 29, 7, 0, 30, tzinfo=dt.timezone.utc)),
    ("1795935630", dt.datetime(2026, 11, 29, 7, 0, 30, tzinfo=dt.timezone.utc)),
    ("2026-11-29", dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc)),
])
def test_dates_in_other_forms_are_read(server, api_key, classifier, sent, read):
    """ISO 8601 with Z or an offset (the npm client), Unix seconds, a bare date: all the same instant."""
    assert check(server, api_key, **HAM, comment_date_gmt=sent).text == "false"
    assert classifier.checked[0].date == read


def test_text_longer_than_the_service_takes_is_cut_not_refused(serve, api_key, classifier):
    """A comment over max_content_chars is judged on its first max_content_chars characters."""
    server = serve(max_content_chars=100)
    response = check(server, api_key, **{**HAM, "comment_content": "pills " * 50})
    assert response.text == "true"
    assert "comment_content (cut to its first 100 characters)" in response.headers["X-akismet-debug-help"]
    assert classifier.checked[0].content == ("pills " * 50)[:100]


def test_comment_check_without_blog_is_invalid(server, api_key):
    """blog is required on comment-check."""
    response = server.post("/1.1/comment-check", {"api_key": api_key, **HAM})
    assert response.text == "invalid"
    assert 'Empty "blog"' in response.headers["X-akismet-debug-help"]


def test_repeated_comment_context_and_extra_fields_reach_the_model(server, api_key, classifier):
    """comment_context[] sent repeated arrives as a tuple; unknown parameters land in extra."""
    body = [("api_key", api_key), ("blog", SITE), *HAM.items(), ("comment_context[]", "python"),
            ("comment_context[]", "packaging"), ("HTTP_ACCEPT", "text/html"), ("is_test", "1")]
    assert server.post("/1.1/comment-check", body).text == "false"
    (comment,) = classifier.checked
    assert comment.context == ("python", "packaging")
    assert dict(comment.extra) == {"HTTP_ACCEPT": "text/html"}


def test_form_body_in_the_charset_given_is_decoded(server, api_key, classifier):
    """A body in ISO-8859-1, as the Content-Type says, is read as ISO-8859-1."""
    body = f"api_key={api_key}&blog={SITE}&user_ip=203.0.113.7&comment_author=Ren%E9e&comment_content=caf%E9"
    response = server.post(
        "/1.1/comment-check", body.encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1"},
    )
    assert response.text == "false"
    assert (classifier.checked[0].author, classifier.checked[0].content) == ("Renée", "café")


class Recorder:
    def __init__(self):
        self.records = []

    def record(self, comment, spam, *, source="moderator", verdict=None):
        self.records.append((comment.content, spam, source, verdict.spam if verdict else None))


@both_stores
@pytest.mark.parametrize(("path", "spam"), [("/1.1/submit-spam", True), ("/1.1/submit-ham", False)])
def test_submit_thanks_and_records_the_report(serve, api_key, key_store, path, spam):
    """submit-spam/ham answer with Akismet's thanks and record the report under the key's id."""
    recorder = Recorder()
    server = serve(feedback=recorder)
    response = server.post(path, {"api_key": api_key, "blog": SITE, **HAM, "comment_check_response": "true"})
    assert (response.status_code, response.text) == (200, THANKS)
    key_id = key_store.entries()[0].id
    assert recorder.records == [(HAM["comment_content"], spam, f"api:{key_id}", True)]


def test_test_submissions_are_not_recorded(serve, api_key):
    """is_test submissions are acknowledged but have no training effect."""
    recorder = Recorder()
    server = serve(feedback=recorder)
    for is_test in ("1", "true"):
        response = server.post("/1.1/submit-spam", {"api_key": api_key, "blog": SITE, **SPAM, "is_test": is_test})
        assert response.text == THANKS
    assert recorder.records == []


@both_stores
def test_usage_limit_counts_this_months_calls(server, api_key):
    """usage-limit reports the calls of this month against the key's limit (GET or POST)."""
    for fields in (HAM, SPAM, HAM):
        check(server, api_key, **fields)
    server.post("/1.1/verify-key", {"key": api_key, "blog": SITE})  # not an API call that counts
    assert server.get("/1.2/usage-limit", params={"api_key": api_key}).json() == {
        "limit": 1000, "usage": 3, "percentage": "0.30", "throttled": False,
    }
    assert server.post("/1.2/usage-limit", {"api_key": api_key}).json()["usage"] == 3


@both_stores
def test_usage_limit_of_a_key_without_limit_says_none(key_store, serve):
    """A key made without --limit has limit "none"."""
    key, _ = key_store.add([SITE])
    server = serve()
    assert server.get("/1.2/usage-limit", params={"api_key": key}).json() == {
        "limit": "none", "usage": 0, "percentage": "0.00", "throttled": False,
    }


@both_stores
def test_key_sites_reports_each_site_by_month(key_store, serve):
    """key-sites lists each site's calls, spam, ham and reports for the month, as JSON or CSV."""
    key, entry = key_store.add([SITE, "https://shop.example"])
    server = serve(feedback=Recorder())
    for site, fields in [(SITE, SPAM), (SITE, HAM), ("https://shop.example", HAM)]:
        server.post("/1.1/comment-check", {"api_key": key, "blog": site, **fields})
    server.post("/1.1/submit-ham", {"api_key": key, "blog": SITE, **SPAM})
    month = time.strftime("%Y-%m", time.gmtime())
    data = server.get("/1.2/key-sites", params={"api_key": key}).json()
    assert data == {
        month: [
            {"site": SITE, "api_calls": 3, "spam": 1, "ham": 1, "missed_spam": 0, "false_positives": 1,
             "is_revoked": False},
            {"site": "https://shop.example", "api_calls": 1, "spam": 0, "ham": 1, "missed_spam": 0,
             "false_positives": 0, "is_revoked": False},
        ],
        "limit": 500, "offset": 0, "total": 2,
    }
    csv_text = server.get("/1.2/key-sites", params={"api_key": key, "format": "csv", "limit": "1"}).text
    assert csv_text.splitlines() == [
        f"Active sites for {entry.id} during {month} (limit:1, offset: 0, total: 2)",
        "Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked",
        f"{SITE},3,1,1,0,1,false",
    ]
    bad = server.get("/1.2/key-sites", params={"api_key": key, "month": "2026-13"})
    assert bad.text == "invalid" and "month must be YYYY-MM" in bad.headers["X-akismet-debug-help"]


def test_body_larger_than_the_limit_gets_413(serve, api_key):
    """A Content-Length beyond max_body_bytes is refused before the body is read."""
    server = serve(max_body_bytes=2048)
    response = check(server, api_key, **{**HAM, "comment_content": "x" * 4096})
    assert response.status_code == 413
    assert "at most 2,048 bytes" in response.text
    assert check(server, api_key, **HAM).text == "false"


def test_chunked_body_is_read_and_limited(serve, api_key):
    """A chunked body (no Content-Length from the client) is accepted within the limit and refused beyond it."""
    from urllib.parse import urlencode

    server = serve(max_body_bytes=2048)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    small = urlencode({"api_key": api_key, "blog": SITE, **SPAM}).encode()
    big = urlencode({"api_key": api_key, "blog": SITE, **{**HAM, "comment_content": "x" * 4096}}).encode()
    assert server.post("/1.1/comment-check", iter([small[:10], small[10:]]), headers=headers).text == "true"
    assert server.post("/1.1/comment-check", iter([big[:100], big[100:]]), headers=headers).status_code == 413


def test_body_is_also_limited_while_reading():
    """Without a Content-Length (a terminated stream), reading stops one byte past the limit."""
    environ = {"wsgi.input": io.BytesIO(b"a=" + b"x" * 5000), "wsgi.input_terminated": True}
    with pytest.raises(BodyTooLarge):
        read_body(environ, 1000)
    environ = {"wsgi.input": io.BytesIO(b"a=b"), "wsgi.input_terminated": True}
    assert read_body(environ, 1000) == b"a=b"


@both_stores
def test_key_over_its_rate_gets_429_with_retry_after(serve, api_key, key_store):
    """The token bucket lets a burst through, then answers 429 with Retry-After, per key."""
    server = serve(rate_limit=0.01, burst=2)  # one token every 100 s
    answers = [check(server, api_key, **HAM) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 90 <= int(answers[2].headers["Retry-After"]) <= 100
    assert "retry after" in answers[2].text
    other, _ = key_store.add([SITE])
    assert check(server, other, **HAM).status_code == 200


def test_token_bucket_refills_at_its_rate():
    """After waiting 1/rate seconds one more request is allowed."""
    now = [0.0]
    limiter = RateLimiter(10, burst=1, clock=lambda: now[0])
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == pytest.approx(0.1)
    now[0] += 0.1
    assert limiter.acquire("k") == 0.0


def test_metrics_count_requests_verdicts_and_latency(server, api_key):
    """/metrics exposes requests by endpoint and status, verdicts and a latency histogram."""
    for fields in (HAM, SPAM, BLATANT):
        check(server, api_key, **fields)
    check(server, api_key, comment_content="no ip")
    text = server.get("/metrics").text
    assert 'spamguard_requests_total{endpoint="comment-check",status="200"} 4' in text
    assert 'spamguard_verdicts_total{verdict="ham"} 1' in text
    assert 'spamguard_verdicts_total{verdict="spam"} 1' in text
    assert 'spamguard_verdicts_total{verdict="discard"} 1' in text
    assert 'spamguard_invalid_total{endpoint="comment-check"} 1' in text
    assert 'spamguard_request_duration_seconds_count{endpoint="comment-check"} 4' in text
    assert 'spamguard_request_duration_seconds_bucket{endpoint="comment-check",le="+Inf"} 4' in text
    assert "# TYPE spamguard_request_duration_seconds histogram" in text
    assert "spamguard_model_comments_total 3" in text


def test_health_says_ok_and_names_the_model(server):
    """/health is JSON with the status and the model."""
    data = server.get("/health").json()
    assert (data["status"], data["model"]["name"], data["keys"]) == ("ok", "KeywordClassifier", 1)


GARBAGE = [
    ("POST", "/1.1/comment-check", b"\xff\xfe\x00garbage=%%%&&&==", {}),
    ("POST", "/1.1/comment-check", b"api_key=%ZZ&blog=%", {}),
    ("POST", "/1.1/comment-check", b"comment_content=%ff%fe", {}),
    ("POST", "/1.1/comment-check", b'{"api_key": "x"}', {"Content-Type": "application/json"}),
    ("POST", "/1.1/comment-check", b"a=b", {"Content-Type": "application/x-www-form-urlencoded; charset=klingon"}),
    ("POST", "/1.1/comment-check", b"&".join(b"f%d=1" % i for i in range(1500)), {}),
    ("POST", "/1.2/key-sites", b"api_key=KEY&limit=-5", {}),
    ("POST", "/1.2/key-sites", b"api_key=KEY&order=%27;drop", {}),
    ("POST", "/1.1/comment-check", b"api_key=KEY&blog=http://%5B::1&user_ip=1.2.3.4", {}),
    ("POST", "/1.1/comment-check", b"api_key=KEY&blog=https://blog.example&user_ip=1.2.3.4",
     {"Content-Type": "application/x-www-form-urlencoded; charset=punycode"}),
    ("POST", "/1.1/comment-check", b"api_key=KEY&blog=https://blog.example&user_ip=1.2.3.4&blog_charset=undefined", {}),
    ("POST", "/1.1/comment-check", b"api_key=KEY&blog=https://blog.example&user_ip=1.2.3.4&blog_charset=base64", {}),
    ("POST", "/1.1/comment-check", b"a=b", {"Content-Type": "application/x-www-form-urlencoded; charset=idna"}),
    ("POST", "/1.1/comment-check", b"api_key=KEY&blog=https://blog.example&user_ip=1.2.3.4&blog_charset=utf%00", {}),
    ("POST", "/1.1/verify-key", b"key=KEY&blog=http://blog.example:99999", {}),
    ("GET", "/1.1/comment-check", b"", {}),
    ("GET", "/../../etc/passwd", b"", {}),
    ("DELETE", "/1.2/usage-limit", b"", {}),
]


@pytest.mark.parametrize(("method", "path", "body", "headers"), GARBAGE)
def test_odd_input_never_yields_a_traceback(server, api_key, method, path, body, headers):
    """Garbage gets `invalid`, 404 or 405, never a 500 or a stack trace."""
    import requests

    body = body.replace(b"KEY", api_key.encode())
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    response = requests.request(method, server.url + path, data=body, headers=headers, timeout=10)
    assert response.status_code in (200, 404, 405)
    if response.status_code == 200:
        assert response.text == "invalid"
        assert response.headers["X-akismet-debug-help"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(("body", "headers", "help_contains"), [
    (b"blog=http://%5B::1", {}, "unable to parse your blog URI 'http://[::1'"),
    (b"blog=https://blog.example&user_ip=1.2.3.4",
     {"Content-Type": "application/x-www-form-urlencoded; charset=punycode"},
     "'punycode' is not a charset forms are written in"),
    (b"blog=https://blog.example&user_ip=1.2.3.4&blog_charset=undefined", {},
     "'undefined' is not a charset forms are written in"),
    (b"blog=https://blog.example&user_ip=1.2.3.4&blog_charset=klingon", {}, "Unknown charset 'klingon'"),
    (b"blog=https://blog.example&user_ip=1.2.3.4&comment_content=%FF", {}, "is not valid utf-8 text"),
], ids=["ipv6-blog", "punycode", "undefined", "unknown", "not-utf8"])
def test_bad_blog_urls_and_charsets_are_invalid_with_debug_help(server, api_key, body, headers, help_contains):
    """Issue 14, item 9: these were answered 500; they are the client's mistakes, said in debug help."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    response = server.post("/1.1/comment-check", f"api_key={api_key}&".encode() + body, headers=headers)
    assert (response.status_code, response.text) == (200, "invalid")
    assert help_contains in response.headers["X-akismet-debug-help"]


def test_a_failing_model_gives_a_plain_500(server, api_key, caplog):
    """An unexpected exception is logged server-side; the client gets one plain sentence."""
    response = check(server, api_key, **{**HAM, "comment_content": "explode"})
    assert response.status_code == 500
    assert response.text == "Internal server error; the details are in the server log.\n"
    assert any("the model blew up" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_a_library_error_gives_503_with_retry_after(server, api_key):
    """A spamguard error (a backend that cannot answer) is a 503 the client may retry, without details."""
    response = check(server, api_key, **{**HAM, "comment_content": "unavailable"})
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
    assert response.text == "The service could not answer just now; try again shortly.\n"


def test_open_mode_accepts_any_key_and_counts_it_separately(serve):
    """allow_any_key=True accepts any non-empty key from any site."""
    server = serve(allow_any_key=True)
    response = server.post("/1.1/comment-check", {"api_key": "whatever", "blog": "https://any.example", **HAM})
    assert response.text == "false"
    assert server.get("/1.2/usage-limit", params={"api_key": "whatever"}).json()["usage"] == 1
    assert server.get("/1.2/usage-limit", params={"api_key": "another"}).json()["usage"] == 0


def test_make_app_refuses_to_run_without_keys(classifier):
    """Without keys the app must be told explicitly to accept any key."""
    with pytest.raises(ConfigurationError, match="allow_any_key=True"):
        make_app(classifier=classifier)


def test_json_answers_are_json(server, api_key):
    """usage-limit answers application/json."""
    response = server.get("/1.2/usage-limit", params={"api_key": api_key})
    assert response.headers["Content-Type"] == "application/json"
    json.loads(response.text)


def test_http_1_0_client_gets_a_plain_answer(server, api_key):
    """The WordPress plugin speaks HTTP/1.0; it gets a plain (not chunked) body."""
    import socket
    from urllib.parse import urlencode, urlsplit

    parts = urlsplit(server.url)
    body = urlencode({"api_key": api_key, "blog": SITE, **SPAM}).encode()
    request = (
        b"POST /1.1/comment-check HTTP/1.0\r\nHost: rest.akismet.com\r\n"
        b"Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
        b"User-Agent: WordPress/6.5 | Akismet/5.3\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK")
    assert b"transfer-encoding" not in head.lower()
    assert payload == b"true"


@both_stores
def test_keys_added_at_the_same_time_are_all_kept(store_location):
    """Concurrent `keys add` runs do not lose each other's keys (the file is locked and replaced atomically;
    PostgreSQL's rows are inserted each in its own transaction)."""
    import threading

    made = []

    def add(n):
        store = KeyStore(store_location)
        made.append(store.add([f"https://site{n}.example"])[0])
        store.close()

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store = KeyStore(store_location)
    assert len(store.entries()) == 8
    assert all(store.authenticate(key) is not None for key in made)
    store.close()


class ScoringModel:
    """A model that offers bare scores and a threshold, as LocalModel does; check/check_many must not be needed."""

    threshold = 0.5

    def __init__(self):
        self.calls = []

    def scores(self, comments):
        self.calls.append(len(comments))
        return [0.995 if "casino" in c.content else 0.9 if "pills" in c.content else 0.1 for c in comments]

    def check(self, comment):
        raise AssertionError("the service asks a scoring model for scores only")

    check_many = submit_spam = submit_ham = check


def test_a_model_with_scores_is_asked_for_scores_only(serve, api_key):
    """Reasons are not computed for answers that cannot carry them; score >= threshold decides."""
    model = ScoringModel()
    server = serve(classifier=model)
    answers = [check(server, api_key, **fields) for fields in (HAM, SPAM, BLATANT)]
    assert [a.text for a in answers] == ["false", "true", "true"]
    assert [a.headers.get("X-akismet-pro-tip") for a in answers] == [None, None, "discard"]
    assert sum(model.calls) == 3


def test_a_broken_keys_file_keeps_the_running_server_on_its_old_keys(server, api_key, keys_file, caplog):
    """Someone saves a half-edited keys file: the server logs it and goes on with the keys it had."""
    keys_file.write_text("{ not json")
    time.sleep(1.1)  # the file is looked at once a second
    assert server.post("/1.1/verify-key", {"key": api_key, "blog": SITE}).text == "valid"
    assert any("not valid JSON" in r.getMessage() and "still using the keys" in r.getMessage() for r in caplog.records)
