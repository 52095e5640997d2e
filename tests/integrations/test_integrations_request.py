"""Building a Comment from a web request: client address, headers, form fields, honeypot."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from spamguard import Comment, ConfigurationError, InvalidCommentError
from spamguard.integrations import (
    HeaderPolicy,
    TrustedProxies,
    client_ip,
    comment_from_request,
    comment_from_werkzeug,
    comment_from_wsgi,
    honeypot_html,
    read_honeypot,
)


def environ(**headers: str) -> dict[str, object]:
    """A WSGI environ for a POST from 198.51.100.20 with the given HTTP_* / CGI keys."""
    env: dict[str, object] = {"REQUEST_METHOD": "POST", "REMOTE_ADDR": "198.51.100.20"}
    env.update(headers)
    return env


# --- the client address -----------------------------------------------------------------


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    """Anybody can send X-Forwarded-For: from a peer that is not our proxy it changes nothing."""
    env = environ(HTTP_X_FORWARDED_FOR="1.2.3.4", HTTP_X_REAL_IP="5.6.7.8")

    comment = comment_from_wsgi(env, {"content": "hi"}, trusted_proxies=["10.0.0.0/8"])

    assert comment.user_ip == "198.51.100.20"


def test_forwarded_for_from_a_trusted_proxy_gives_the_client() -> None:
    """Behind our proxy the client is the address the proxy appended."""
    env = environ(REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="203.0.113.9")

    comment = comment_from_wsgi(env, {"content": "hi"}, trusted_proxies=["10.0.0.0/8"])

    assert comment.user_ip == "203.0.113.9"


FORWARDED_CASES = [
    # the client prepended a fake hop; our proxy appended the real address
    ("10.0.0.7", "1.1.1.1, 203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
    # two trusted hops (CDN edge then load balancer) are skipped right to left
    ("10.0.0.7", "6.6.6.6, 203.0.113.9, 192.0.2.10", ["10.0.0.0/8", "192.0.2.0/24"], "203.0.113.9"),
    # a single trusted address, not a network
    ("127.0.0.1", "203.0.113.9", ["127.0.0.1"], "203.0.113.9"),
    # ports and spaces in hops are tolerated
    ("10.0.0.7", " 203.0.113.9:5555 ", ["10.0.0.0/8"], "203.0.113.9"),
    # IPv6 client behind an IPv6 proxy
    ("2001:db8::1", "[2001:db8:ffff::5]:443", ["2001:db8::/64"], "2001:db8:ffff::5"),
    # garbage further out: stop at the last hop that could be read
    ("10.0.0.7", "not-an-ip, 10.0.0.3", ["10.0.0.0/8"], "10.0.0.3"),
    # every hop is ours: the farthest one is the client
    ("10.0.0.7", "10.0.0.3, 10.0.0.4", ["10.0.0.0/8"], "10.0.0.3"),
    # IPv4-mapped IPv6 peer counts as its IPv4 address
    ("::ffff:10.0.0.7", "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
    # nothing trusted: REMOTE_ADDR whatever the header says
    ("10.0.0.7", "203.0.113.9", [], "10.0.0.7"),
]
"""(REMOTE_ADDR, X-Forwarded-For, trusted proxies, the client): shared with the ASGI helpers' tests."""


@pytest.mark.parametrize(("remote", "forwarded", "trusted", "expected"), FORWARDED_CASES)
def test_client_ip_walks_forwarded_for_right_to_left(
    remote: str, forwarded: str, trusted: list[str], expected: str
) -> None:
    """Only hops added by trusted proxies are skipped; the first untrusted one is the client."""
    env = environ(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(env, trusted) == expected


def test_x_real_ip_is_used_from_a_trusted_proxy_without_forwarded_for() -> None:
    """nginx's X-Real-IP counts only when the peer is trusted and there is no X-Forwarded-For."""
    assert client_ip(environ(REMOTE_ADDR="10.0.0.7", HTTP_X_REAL_IP="203.0.113.9"), ["10.0.0.0/8"]) == "203.0.113.9"
    assert client_ip(environ(HTTP_X_REAL_IP="203.0.113.9"), ["10.0.0.0/8"]) == "198.51.100.20"


def test_trusted_proxies_come_from_the_environment_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """SPAMGUARD_TRUSTED_PROXIES configures the proxies when the code passes none."""
    monkeypatch.setenv("SPAMGUARD_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    env = environ(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert client_ip(env) == "203.0.113.9"
    assert client_ip(env, trusted_proxies=()) == "127.0.0.1"  # an explicit empty list wins


def test_a_bad_trusted_proxy_is_named() -> None:
    """A typo in the proxy list is an error naming the entry, not a silently open door."""
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not an IP address or CIDR network"):
        TrustedProxies.parse(["10.0.0.0/33"])


def test_a_bad_trusted_proxy_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The configuration error says which environment variable to fix."""
    monkeypatch.setenv("SPAMGUARD_TRUSTED_PROXIES", "proxy.internal")

    with pytest.raises(ConfigurationError, match="SPAMGUARD_TRUSTED_PROXIES: 'proxy.internal'"):
        client_ip(environ())


def test_no_usable_remote_addr_gives_no_ip() -> None:
    """A unix-socket peer has no IP address: the comment goes without one."""
    comment = comment_from_wsgi({"REMOTE_ADDR": "/run/app.sock"}, {"content": "hi"})

    assert comment.user_ip is None


# --- fields and headers -----------------------------------------------------------------


def test_form_and_request_fields_fill_the_comment() -> None:
    """Form fields in common spellings, user agent, referrer and permalink end up on the comment."""
    env = environ(
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64)",
        HTTP_REFERER="https://blog.example/p/1",
        HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9",
    )
    form = {"comment": "Nice post", "name": "Ana", "email": "ana@example.org", "url": "https://ana.example"}

    comment = comment_from_wsgi(env, form, permalink="https://blog.example/p/1", type="reply")

    assert comment == Comment(
        content="Nice post",
        author="Ana",
        author_email="ana@example.org",
        author_url="https://ana.example",
        user_ip="198.51.100.20",
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
        referrer="https://blog.example/p/1",
        permalink="https://blog.example/p/1",
        type="reply",
        extra={
            "HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9",
            "HTTP_REFERER": "https://blog.example/p/1",
            "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64)",
        },
    )


def test_cookies_and_credentials_never_go_along() -> None:
    """Cookie, Authorization and Proxy-Authorization stay out even when allow-listed."""
    env = environ(
        HTTP_COOKIE="session=secret",
        HTTP_AUTHORIZATION="Bearer secret",
        HTTP_PROXY_AUTHORIZATION="Basic secret",
        HTTP_ACCEPT="text/html",
    )
    policy = HeaderPolicy(allow=["Cookie", "Authorization", "Accept"])

    default = comment_from_wsgi(env, {"content": "hi"})
    allowed = comment_from_wsgi(env, {"content": "hi"}, header_policy=policy)

    assert dict(default.extra) == {"HTTP_ACCEPT": "text/html"}
    assert dict(allowed.extra) == {"HTTP_ACCEPT": "text/html"}
    assert "secret" not in str(default.to_akismet())


def test_token_headers_are_left_out_by_default() -> None:
    """CSRF and API tokens sent as headers stay home unless the policy's deny list is replaced."""
    env = environ(HTTP_X_CSRFTOKEN="tok", HTTP_X_API_KEY="key", HTTP_ACCEPT="text/html")

    default = comment_from_wsgi(env, {"content": "hi"})
    replaced = comment_from_wsgi(env, {"content": "hi"}, header_policy=HeaderPolicy(deny=["X-Api-Key"]))

    assert dict(default.extra) == {"HTTP_ACCEPT": "text/html"}
    assert dict(replaced.extra) == {"HTTP_ACCEPT": "text/html", "HTTP_X_CSRFTOKEN": "tok"}


def test_header_policy_allow_and_deny_lists() -> None:
    """allow picks headers, deny drops them; either spelling of a header name works."""
    env = environ(HTTP_ACCEPT="text/html", HTTP_DNT="1", HTTP_X_REQUESTED_WITH="XMLHttpRequest")

    only = comment_from_wsgi(env, {"content": "hi"}, header_policy=HeaderPolicy(allow=["accept", "HTTP_DNT"]))
    without = comment_from_wsgi(env, {"content": "hi"}, header_policy=HeaderPolicy(deny=["X-Requested-With"]))
    none = comment_from_wsgi(env, {"content": "hi"}, header_policy=None)

    assert dict(only.extra) == {"HTTP_ACCEPT": "text/html", "HTTP_DNT": "1"}
    assert dict(without.extra) == {"HTTP_ACCEPT": "text/html", "HTTP_DNT": "1"}
    assert dict(none.extra) == {}


def test_headers_are_sent_to_akismet_under_their_http_names() -> None:
    """The extra parameters appear in the Akismet form fields as HTTP_* names."""
    comment = comment_from_wsgi(environ(HTTP_ACCEPT="text/html"), {"content": "hi"})

    assert comment.to_akismet()["HTTP_ACCEPT"] == "text/html"


@pytest.mark.parametrize("referer", ["android-app://x", "http://[not-an-ipv6"])
def test_a_malformed_referer_is_dropped_not_fatal(referer: str) -> None:
    """Headers the visitor did not type must not stop the comment; the raw header still goes along."""
    comment = comment_from_wsgi(environ(HTTP_REFERER=referer), {"content": "hi"})

    assert comment.referrer is None
    assert comment.extra["HTTP_REFERER"] == referer


def test_an_overlong_header_is_cut_to_the_field_limit() -> None:
    """A giant header is shortened rather than making the comment invalid."""
    comment = comment_from_wsgi(environ(HTTP_USER_AGENT="x" * 20_000), {"content": "hi"})

    assert len(comment.user_agent or "") == 8192
    assert len(comment.extra["HTTP_USER_AGENT"]) == 8192


def test_bad_visitor_input_is_an_error_naming_the_field() -> None:
    """What the visitor typed is validated: the app can show the message next to the form."""
    with pytest.raises(InvalidCommentError, match="author_url"):
        comment_from_wsgi(environ(), {"content": "hi", "url": "javascript:alert(1)"})
    with pytest.raises(InvalidCommentError, match="content"):
        comment_from_wsgi(environ(), {"name": "Ana"})


@pytest.mark.parametrize("form", [{"content": ""}, {"content": "   "}, {"comment": "\n\t "}, {"content": ["  "]}])
def test_an_empty_or_blank_comment_is_an_error_saying_so(form: dict[str, object]) -> None:
    """A comment form sent with nothing but spaces in its text is refused as empty (not judged and
    published, and not reported as a form without the field)."""
    with pytest.raises(InvalidCommentError, match=r"^content: is empty: there is no text to judge$"):
        comment_from_wsgi(environ(), form)


def test_a_urlencoded_body_is_read_and_put_back() -> None:
    """With no form given the WSGI body is parsed, and the app can still read it afterwards."""
    body = urlencode({"comment": "Hello there", "name": "Ana", "spamguard_hp": ""}).encode()
    env = environ(CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH=str(len(body)))
    env["wsgi.input"] = io.BytesIO(body)

    comment = comment_from_wsgi(env)

    assert (comment.content, comment.author, comment.honeypot_field_name) == ("Hello there", "Ana", "spamguard_hp")
    assert env["wsgi.input"].read() == body  # type: ignore[attr-defined]


def test_werkzeug_request() -> None:
    """A Flask/Werkzeug request gives its environ and form."""
    werkzeug_test = pytest.importorskip("werkzeug.test")
    from werkzeug.wrappers import Request

    env = werkzeug_test.EnvironBuilder(
        method="POST",
        data={"content": "Nice", "author": "Bo", "spamguard_hp": "http://spam.example"},
        headers={"User-Agent": "bot/1.0", "X-Forwarded-For": "9.9.9.9"},
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    ).get_environ()
    request = Request(env)

    comment = comment_from_werkzeug(request)

    assert (comment.content, comment.author, comment.user_ip, comment.user_agent) == (
        "Nice", "Bo", "198.51.100.20", "bot/1.0"
    )
    assert comment.honeypot_filled
    assert comment_from_request(request) == comment


def test_comment_from_request_refuses_what_it_cannot_read() -> None:
    """A wrong object gets a TypeError saying what is accepted."""
    with pytest.raises(TypeError, match="give a Django or Werkzeug request"):
        comment_from_request(42)


# --- the honeypot -----------------------------------------------------------------------


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_honeypot_html_is_hidden_from_people() -> None:
    """The field is off screen, out of the tab order, hidden from screen readers and autofill."""
    parser = _Inputs()
    parser.feed(honeypot_html("hp_field"))

    (div_tag, div), _label, (input_tag, field) = parser.tags
    assert (div_tag, input_tag) == ("div", "input")
    assert "left:-10000px" in (div["style"] or "") and div["aria-hidden"] == "true"
    assert field == {
        "type": "text", "id": "hp_field-field", "name": "hp_field", "value": "", "autocomplete": "off", "tabindex": "-1"
    }
    assert honeypot_html().__html__() == str(honeypot_html())  # safe for Jinja2 / Django templates


def test_honeypot_html_refuses_a_name_that_would_break_the_markup() -> None:
    """The name goes into HTML unescaped, so only plain identifiers are accepted."""
    with pytest.raises(ValueError, match="honeypot field name"):
        honeypot_html('x" onfocus="alert(1)')


def test_a_filled_honeypot_is_sent_under_its_name() -> None:
    """Akismet gets honeypot_field_name and the value under the field's own name."""
    comment = comment_from_wsgi(environ(), {"content": "hi", "spamguard_hp": "http://spam.example"})

    fields = comment.to_akismet()
    assert comment.honeypot_filled
    assert (fields["honeypot_field_name"], fields["spamguard_hp"]) == ("spamguard_hp", "http://spam.example")


def test_an_empty_honeypot_is_reported_empty_and_a_missing_one_not_at_all() -> None:
    """Empty means a person; absent means the form had no honeypot, so nothing is claimed."""
    assert read_honeypot({"spamguard_hp": ""}) == {"honeypot_field_name": "spamguard_hp", "honeypot_value": ""}
    assert read_honeypot({"content": "hi"}) == {}
    assert read_honeypot({"website": ["x"]}, "website") == {"honeypot_field_name": "website", "honeypot_value": "x"}
    assert comment_from_wsgi(environ(), {"content": "hi"}, honeypot_field=None).honeypot_field_name is None
