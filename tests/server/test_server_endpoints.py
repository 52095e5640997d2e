"""What the WordPress plugin calls besides the documented API, the notice, the request log, usage
alerts, the legacy key-in-the-host-name form, and the limit on failed key attempts."""

from __future__ import annotations

import io
import json
import re
import time

import pytest
import requests
from _server_stores import both_stores

from spamguard.notice import Service, disclosure
from spamguard.server import AccessLog, KeyStore

SITE = "https://blog.example"
HAM = {"user_ip": "203.0.113.7", "comment_content": "Thanks, this helped me fix my build.", "comment_author": "Ann"}
SPAM = {**HAM, "comment_content": "Cheap pills here"}
MONTH = time.strftime("%Y-%m", time.gmtime())


def form(key, **fields):
    return {"key": key, "blog": SITE, **fields}


# --- get-subscription, get-stats, deactivate, activate, test -------------------------------------


@both_stores
def test_get_subscription_says_the_key_is_active(server, api_key, key_store):
    """The plugin's settings page asks for the key's account: active, self-hosted, named by the key's id."""
    response = server.post("/1.1/get-subscription", form(api_key))
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "active", "account_type": "self-hosted",
        "account_name": f"spamguard service, key {key_store.entries()[0].id}",
        "next_billing_date": None, "limit_reached": None,
    }


@both_stores
def test_get_subscription_of_a_revoked_key_is_invalid(server, api_key, key_store):
    """A revoked key gets `invalid`, which the plugin shows as "Your API key is no longer valid"."""
    key_store.revoke(key_store.entries()[0].id)
    time.sleep(1.1)  # the running server looks at the key store once a second
    response = server.post("/1.1/get-subscription", form(api_key))
    assert response.text == "invalid"
    assert "revoked" in response.headers["X-akismet-debug-help"]


@both_stores
def test_get_stats_counts_answers_and_reports_on_this_site(serve, api_key):
    """spam and ham are the answers given; a report against an answer is a missed spam or a false
    positive (known from the answer the service gave, as WordPress does not send it back); a report
    that agrees with the answer is not a mistake; other sites' counts stay out."""
    server = serve(feedback=None)
    for fields in (SPAM, HAM, {**HAM, "comment_content": "Nice post"}):
        server.post("/1.1/comment-check", form(api_key, **fields))
    server.post("/1.1/submit-spam", form(api_key, **HAM))  # said ham: a missed spam
    server.post("/1.1/submit-ham", form(api_key, **SPAM))  # said spam: a false positive
    server.post("/1.1/submit-spam", form(api_key, **SPAM))  # said spam too: not a mistake
    server.post("/1.1/comment-check", {"key": api_key, "blog": "http://blog.example/", **SPAM})  # same site
    stats = server.post("/1.1/get-stats", form(api_key, **{"from": "all"})).json()
    assert stats == {
        "spam": 2, "ham": 2, "missed_spam": 1, "false_positives": 1, "accuracy": 50.0, "time_saved": None,
        "breakdown": {MONTH: {"da": MONTH, "spam": 2, "ham": 2, "missed_spam": 1, "false_positives": 1}},
    }
    for period in ("6-months", "60-days"):
        assert server.post("/1.1/get-stats", form(api_key, **{"from": period})).json() == stats
    assert server.post("/1.1/get-stats", form(api_key)).json() == stats  # 6-months, Akismet's default


def test_get_stats_before_any_check_has_no_accuracy(server, api_key):
    """No answer yet: zero counts, accuracy null (the plugin then shows no statistics card)."""
    assert server.post("/1.1/get-stats", form(api_key)).json() == {
        "spam": 0, "ham": 0, "missed_spam": 0, "false_positives": 0, "accuracy": None, "time_saved": None,
        "breakdown": {},
    }


def test_get_stats_names_a_bad_period(server, api_key):
    """from must be one of the periods Akismet knows."""
    response = server.post("/1.1/get-stats", form(api_key, **{"from": "forever"}))
    assert response.text == "invalid"
    assert "from must be one of 60-days, 6-months, all, got 'forever'" in response.headers["X-akismet-debug-help"]


def test_deactivate_and_activate_answer_as_the_plugin_expects(server, api_key):
    """deactivate says `deactivated` and leaves the key valid; activate answers as verify-key does."""
    assert server.post("/1.1/deactivate", form(api_key)).text == "deactivated"
    assert server.post("/1.1/activate", form(api_key)).text == "valid"
    assert server.post("/1.1/verify-key", form(api_key)).text == "valid"
    bad = server.post("/1.1/activate", form("0" * 12))
    assert bad.text == "invalid"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_connectivity_check_says_connected(server, method):
    """GET /1.1/test, the plugin's connectivity check, needs no key."""
    response = requests.request(method, server.url + "/1.1/test", timeout=10)
    assert (response.status_code, response.text) == (200, "" if method == "HEAD" else "connected")


def test_new_endpoints_are_counted_under_their_own_names(server, api_key):
    """/metrics names each endpoint the plugin calls, not `other`."""
    server.post("/1.1/get-subscription", form(api_key))
    server.post("/1.1/get-stats", form(api_key))
    server.post("/1.1/deactivate", form(api_key))
    server.post("/1.1/activate", form(api_key))
    server.get("/1.1/test")
    server.get("/notice", params={"lang": "de"})
    text = server.get("/metrics").text
    for endpoint in ("get-subscription", "get-stats", "deactivate", "activate", "test", "notice"):
        assert f'spamguard_requests_total{{endpoint="{endpoint}",status="200"}} 1' in text
    assert 'endpoint="other"' not in text


# --- usage alerts ---------------------------------------------------------------------------------


@both_stores
def test_a_key_over_its_monthly_limit_gets_the_usage_alert_on_every_answer(key_store, serve):
    """Beyond --limit, answers carry X-akismet-alert-code 10501 (over the limit this month) with the calls
    and the limit, which the plugin shows; the key still works (nothing is refused)."""
    key, _ = key_store.add([SITE], limit=2)
    server = serve()
    answers = [server.post("/1.1/comment-check", form(key, **HAM)) for _ in range(4)]
    assert [a.headers.get("X-akismet-alert-code") for a in answers] == [None, None, None, "10501"]
    assert [a.text for a in answers] == ["false"] * 4
    later = server.post("/1.1/verify-key", form(key))
    assert (later.text, later.headers["X-akismet-alert-code"], later.headers["X-akismet-alert-api-calls"],
            later.headers["X-akismet-alert-usage-limit"]) == ("valid", "10501", "4", "2")
    assert later.headers["X-akismet-alert-msg"] == (
        f"This key made 4 API calls since {MONTH}-01; its limit is 2 a month."
    )


@both_stores
def test_a_key_within_its_limit_or_without_one_gets_no_alert(server, api_key, key_store):
    """No alert header at all, so the plugin clears any alert it kept."""
    unlimited, _ = key_store.add([SITE])
    for key in (api_key, unlimited):
        response = server.post("/1.1/comment-check", form(key, **HAM))
        assert not [h for h in response.headers if h.lower().startswith("x-akismet-alert")]


# --- the notice -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "de", "ja", "pt-BR", "de_AT"])
def test_notice_is_the_local_disclosure_in_the_language_asked_for(server, lang):
    """By default the notice says the site checks comments on its own server: the service's owner runs it."""
    response = server.get("/notice", params={"lang": lang})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == disclosure(lang, service="local", display="display")
    assert response.headers["Content-Language"] == lang[:2]


def test_notice_follows_accept_language_without_lang(server):
    """Without lang, the browser's Accept-Language decides (a platform may pass the visitor's header on)."""
    response = server.get("/notice", headers={"Accept-Language": "fr-CH, de;q=0.5"})
    assert response.text == disclosure("fr", service="local", display="display")


def test_notice_of_an_unknown_language_is_english(server):
    """A well-formed code the catalogs do not have gives English, saying so in Content-Language."""
    response = server.get("/notice", params={"lang": "xx"})
    assert (response.text, response.headers["Content-Language"]) == (disclosure("en", service="local"), "en")


def test_notice_names_the_service_and_its_privacy_page_when_configured(serve):
    """A service run for the sites by someone else names itself and links to its privacy page."""
    hosting = Service("Example Hosting", "https://hosting.example/privacy")
    server = serve(notice_service=hosting, privacy_url="https://hosting.example/privacy")
    for fmt in ("html", "text", "markdown"):
        response = server.get("/notice", params={"lang": "de", "format": fmt})
        assert response.text == disclosure("de", service=hosting, privacy_url="https://hosting.example/privacy",
                                           fmt=fmt)
    assert "Example Hosting" in response.text and "akismet" not in response.text.lower()


@pytest.mark.parametrize(("params", "message"), [
    ({"lang": "<script>"}, "lang must be a language code"),
    ({"lang": "x" * 20}, "lang must be a language code"),
    ({"format": "pdf"}, "format must be one of html, text, markdown"),
])
def test_notice_refuses_what_it_cannot_give_with_400(server, params, message):
    """A malformed lang or an unknown format is a plain 400 saying what is wrong."""
    response = server.get("/notice", params=params)
    assert response.status_code == 400
    assert message in response.text


def test_a_bad_notice_setting_stops_make_app(classifier):
    """A privacy page that is not an http(s) URL is refused when the app is built, not at the first visitor."""
    from spamguard import ConfigurationError
    from spamguard.server import make_app

    with pytest.raises(ConfigurationError, match="privacy_url"):
        make_app(classifier=classifier, allow_any_key=True, privacy_url="javascript:alert(1)")


# --- the key in the host name (legacy clients) ----------------------------------------------------


def test_key_in_the_host_name_is_taken_when_the_body_has_none(server, api_key):
    """KEY.rest.akismet.com with no key in the body (npm akismet-api) works as the key in the body does."""
    host = {"Host": f"{api_key}.rest.akismet.com"}
    response = server.post("/1.1/comment-check", {"blog": SITE, **SPAM}, headers=host)
    assert response.text == "true"
    assert server.post("/1.1/submit-ham", {"blog": SITE, **SPAM}, headers=host).text == (
        "Thanks for making the web a better place."
    )


@pytest.mark.parametrize("host", ["rest.akismet.com", "127.0.0.1:8080", "www.blog.example", "[::1]:8080",
                                  "10.0.0.1"])
def test_a_host_name_without_a_key_is_no_key(server, host):
    """Ordinary host names and addresses are not taken for keys: the answer says the key is missing."""
    response = server.post("/1.1/comment-check", {"blog": SITE, **HAM}, headers={"Host": host})
    assert response.text == "invalid"
    assert 'Empty "api_key"' in response.headers["X-akismet-debug-help"]


def test_a_wrong_key_in_the_host_name_says_where_it_was_found(server, api_key):
    """The debug help says the key came from the host name, and never repeats it."""
    host = {"Host": "abcdef012345.rest.akismet.com"}
    response = server.post("/1.1/comment-check", {"blog": SITE, **HAM}, headers=host)
    assert response.text == "invalid"
    assert "taken from the host name" in response.headers["X-akismet-debug-help"]
    assert "abcdef012345" not in response.headers["X-akismet-debug-help"]


# --- failed key attempts ----------------------------------------------------------------------------


@both_stores
def test_failed_key_attempts_are_limited_per_client_address(serve, api_key, caplog):
    """After N failures in a minute the address gets 429 with Retry-After for unknown keys, logged once;
    a key already verified from that address still works, so one broken site does not stop the others."""
    server = serve(key_failures=3)
    assert server.post("/1.1/verify-key", form(api_key)).text == "valid"
    answers = [server.post("/1.1/verify-key", form(f"{n:012x}")) for n in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert [a.text for a in answers[:3]] == ["invalid"] * 3
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert "Too many failed key attempts from your address" in answers[3].text
    assert server.post("/1.1/verify-key", form(api_key)).text == "valid"
    warnings = [r.getMessage() for r in caplog.records if "failed key attempts" in r.getMessage()]
    assert warnings == ["127.0.0.1 made 3 failed key attempts within 60 s; its next attempts get 429 for a while"]


@both_stores
def test_a_new_good_key_from_a_blocked_address_waits_too(serve, api_key, key_store):
    """While blocked, an address cannot have any key checked: a guess that happens to be right would
    otherwise tell the guesser so."""
    other, _ = key_store.add([SITE])
    server = serve(key_failures=1)
    assert server.post("/1.1/verify-key", form("0" * 12)).text == "invalid"
    assert server.post("/1.1/verify-key", form(other)).status_code == 429


@both_stores
def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(serve, api_key):
    """Behind a reverse proxy every request comes from the proxy: the address it forwards is the one limited.
    (waitress must leave the proxy's headers to the app, as `spamguard serve` tells it to.)"""
    server = serve(key_failures=1, trusted_proxies=["127.0.0.1"],
                   waitress_options={"clear_untrusted_proxy_headers": False})
    first = {"X-Forwarded-For": "198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.2"}
    assert server.post("/1.1/verify-key", form("0" * 12), headers=first).status_code == 200
    assert server.post("/1.1/verify-key", form("1" * 12), headers=first).status_code == 429
    assert server.post("/1.1/verify-key", form("1" * 12), headers=second).status_code == 200


@both_stores
def test_an_absurdly_long_key_is_refused_without_hashing(server, key_store):
    """A 'key' of 100,000 characters is an invalid key, refused before any slow hash."""
    response = server.post("/1.1/verify-key", form("a" * 100_000))
    assert response.text == "invalid"
    assert server.app.keys.slow_checks == 0


# --- the request log ------------------------------------------------------------------------------


LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?P<client>\S+) (?P<method>\S+) (?P<path>\S+) key=(?P<key>\S+) "
    r"(?P<status>\d{3}) (?P<answer>\S+) (?P<ms>\d+\.\d)ms(?P<rest>.*)"
)


def test_request_log_has_a_line_per_request_with_the_key_masked(serve, api_key):
    """Method, path without query, ***+last 4 of the key, status, answer and time, one line each."""
    log = io.StringIO()
    server = serve(access_log=log)
    server.post("/1.1/verify-key", form(api_key))
    server.post("/1.1/comment-check", form(api_key, **SPAM))
    server.post("/1.1/comment-check", form(api_key, **HAM))
    server.post("/1.1/comment-check", form(api_key, comment_content="no ip"))
    server.get("/notice", params={"lang": "de", "secret": api_key})
    server.get("/nowhere")
    lines = [LINE.fullmatch(line) for line in log.getvalue().splitlines()]
    assert all(lines), log.getvalue()
    seen = [(m["client"], m["method"], m["path"], m["key"], m["status"], m["answer"]) for m in lines]
    masked = "***" + api_key[-4:]
    assert seen == [
        ("127.0.0.1", "POST", "/1.1/verify-key", masked, "200", "valid"),
        ("127.0.0.1", "POST", "/1.1/comment-check", masked, "200", "spam"),
        ("127.0.0.1", "POST", "/1.1/comment-check", masked, "200", "ham"),
        ("127.0.0.1", "POST", "/1.1/comment-check", masked, "200", "invalid"),
        ("127.0.0.1", "GET", "/notice", "-", "200", "de"),
        ("127.0.0.1", "GET", "/nowhere", "-", "404", "not-found"),
    ]
    assert lines[3]["rest"] == ' help="Empty \\"user_ip\\" value: send the commenter\'s IP address as user_ip."'
    assert api_key not in log.getvalue()


def test_request_log_names_what_a_check_left_out_but_not_its_value(serve, api_key):
    """A parameter left out of a check is named in the log line, its value only in the client's debug help;
    comment data is not written."""
    log = io.StringIO()
    server = serve(access_log=log)
    response = server.post("/1.1/comment-check", form(api_key, **HAM, comment_date_gmt="yesterday",
                                                      comment_author_url="mailto:ann@mail.example"))
    assert "'mailto:ann@mail.example' is not an http(s) URL" in response.headers["X-akismet-debug-help"]
    (line,) = log.getvalue().splitlines()
    assert line.endswith(" ignored=comment_date_gmt,comment_author_url")
    assert "ann@mail.example" not in line
    assert HAM["comment_content"] not in line and HAM["user_ip"] not in line and "Ann" not in line


def test_request_log_keeps_one_line_whatever_the_path(serve):
    """Control characters, blanks and non-ASCII in a path are escaped: one request, one line."""
    log = io.StringIO()
    server = serve(access_log=log, allow_any_key=True)
    server.get("/a b%0Ac%C3%A9")
    (line,) = log.getvalue().splitlines()
    assert LINE.fullmatch(line)["path"] == "/a\\x20b\\x0ac\\xc3\\xa9"


def test_request_log_survives_a_broken_stream(serve, api_key):
    """A log that cannot be written (a full disk, a closed file) does not fail the requests."""
    stream = io.StringIO()
    stream.close()
    server = serve(access_log=AccessLog(stream))
    assert server.post("/1.1/verify-key", form(api_key)).text == "valid"


def test_request_log_lines_from_many_threads_land_whole(tmp_path):
    """A log file written by many request threads at once (one system call a line, no lock) holds
    every line, each whole."""
    import threading

    path = tmp_path / "requests.log"
    log = AccessLog(path.open("a", encoding="utf-8"), close=True)

    def answer_many(thread: int) -> None:
        for i in range(300):
            log.write(client=f"10.0.0.{thread}", method="POST", path="/1.1/comment-check", key="***3456",
                      status=200, answer="ham", seconds=0.001, ignored="x" * (i % 50) or None)

    threads = [threading.Thread(target=answer_many, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 8 * 300
    assert all(LINE.fullmatch(line) for line in lines)
    assert sorted({line.split()[1] for line in lines}) == [f"10.0.0.{n}" for n in range(8)]


# --- keys in the file -------------------------------------------------------------------------------


def test_keys_file_holds_a_salted_slow_hash_and_never_the_key(keys_file, key_store):
    """scrypt with a salt of its own per key: two keys' entries share nothing but the parameters."""
    key, _ = key_store.add([SITE])
    other, _ = key_store.add([SITE])
    data = json.loads(keys_file.read_text())
    assert data["format"] == "spamguard-keys/2"
    hashes = [entry["hash"] for entry in data["keys"]]
    assert all(re.fullmatch(r"scrypt\$16384\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}", h) for h in hashes)
    assert hashes[0].split("$")[4] != hashes[1].split("$")[4]
    assert key not in keys_file.read_text() and other not in keys_file.read_text()


def test_keys_files_of_the_first_format_keep_working(keys_file):
    """A spamguard-keys/1 file (32-character keys, SHA-256) is read as it is; its keys work at once
    (no slow hash); the next change rewrites it in the current format with the old entries kept."""
    import hashlib

    old_key = "0123456789abcdef0123456789abcdef"
    keys_file.write_text(json.dumps({"format": "spamguard-keys/1", "keys": [{
        "id": "k_00000001", "sha256": hashlib.sha256(old_key.encode()).hexdigest(), "sites": [SITE],
        "created": "2026-01-01T00:00:00Z", "revoked": False, "limit": None}]}))
    keys_file.chmod(0o600)
    store = KeyStore(keys_file)
    assert store.cached(old_key).id == "k_00000001"
    new_key, _ = store.add([SITE])
    data = json.loads(keys_file.read_text())
    assert data["format"] == "spamguard-keys/2"
    assert data["keys"][0]["hash"] == "sha256$" + hashlib.sha256(old_key.encode()).hexdigest()
    fresh = KeyStore(keys_file)
    assert fresh.authenticate(old_key).id == "k_00000001"
    assert fresh.authenticate(new_key) is not None


@both_stores
def test_a_key_verified_once_is_not_hashed_slowly_again(key_store, store_location):
    """The first check of a key costs a slow hash per key in the store (at most); later ones a dictionary
    look-up, and so does a key known to be wrong."""
    first, _ = key_store.add([SITE])
    second, _ = key_store.add([SITE])
    store = KeyStore(store_location)
    assert store.cached(second) is None
    assert store.authenticate(second) is not None
    assert store.slow_checks == 2  # the first key's hash, then the second's
    assert store.cached(second) is not None
    assert store.authenticate("f" * 12) is None
    assert store.slow_checks == 4
    for _ in range(100):
        assert store.authenticate(second) is not None
        assert store.authenticate("f" * 12) is None
    assert store.authenticate(first) is not None
    assert store.slow_checks == 5
    store.close()


@pytest.mark.parametrize("entry", [
    {"hash": "md5$abc"},
    {"hash": "scrypt$16384$8$1$zz$" + "0" * 64},
    {"hash": "scrypt$1073741824$8$1$00$" + "0" * 64},
    {"sha256": "abc"},
])
def test_a_malformed_hash_in_the_keys_file_is_named(keys_file, entry):
    """An entry whose hash spamguard cannot check is an error naming the entry, not a key that never matches."""
    from spamguard import KeyStoreError

    keys_file.write_text(json.dumps({"format": "spamguard-keys/2", "keys": [
        {"id": "k_1", "sites": [SITE], "created": "", **entry}]}))
    with pytest.raises(KeyStoreError, match="key entry #1 is malformed"):
        KeyStore(keys_file)


def test_request_log_quotes_no_value_from_the_request(serve, api_key):
    """The debug help of an `invalid` is logged with the values it quotes replaced (an address list
    from a proxy header is still visitors' addresses)."""
    log = io.StringIO()
    server = serve(access_log=log)
    response = server.post("/1.1/comment-check", form(api_key, **{**HAM, "user_ip": "198.51.100.4, 10.0.0.1"}))
    assert "'198.51.100.4, 10.0.0.1' is not an IPv4 or IPv6 address" in response.headers["X-akismet-debug-help"]
    (line,) = log.getvalue().splitlines()
    assert line.endswith(""" help="Invalid comment parameter: user_ip: '...' is not an IPv4 or IPv6 address\"""")
    assert "198.51.100.4" not in line
