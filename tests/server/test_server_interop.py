"""An existing Akismet client works against the service by changing only where it connects.

The independent ``akismet`` client from PyPI has no base-URL setting, so it gets an
``httpx.Client`` whose transport sends each request to the local server instead of
rest.akismet.com: the one change a site would make (a proxy or a hosts entry does the same).
"""

from __future__ import annotations

import httpx
import pytest

akismet = pytest.importorskip("akismet", reason="the interoperability tests need the akismet client from PyPI")

SITE = "https://blog.example"
IP = "203.0.113.7"


class ToLocalServer(httpx.BaseTransport):
    """Sends every request to the local server: scheme, host and port rewritten, the rest untouched."""

    def __init__(self, base_url: str) -> None:
        self.target = httpx.URL(base_url)
        self.inner = httpx.HTTPTransport()
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url}")
        request.url = request.url.copy_with(scheme=self.target.scheme, host=self.target.host, port=self.target.port)
        request.headers["Host"] = f"{self.target.host}:{self.target.port}"
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def client_for(server, key, **http_options):
    transport = ToLocalServer(server.url)
    http = httpx.Client(transport=transport, headers={"User-Agent": akismet.USER_AGENT}, timeout=5, **http_options)
    return akismet.SyncClient.validated_client(config=akismet.Config(key=key, url=SITE), http_client=http), transport


def test_akismet_client_from_pypi_works_unchanged(serve, api_key, key_store):
    """validated construction, comment_check (ham, spam, discard), submit_spam/ham and usage_limit all succeed."""
    records = []

    class Feedback:
        def record(self, comment, spam, *, source="moderator", verdict=None):
            records.append((comment.content, spam, source))

    server = serve(feedback=Feedback())
    client, transport = client_for(server, api_key)
    assert transport.seen[0] == "POST https://rest.akismet.com/1.1/verify-key"  # it believes it talks to Akismet

    assert client.comment_check(IP, comment_content="Thanks for the write-up", comment_type="comment") == (
        akismet.CheckResponse.HAM
    )
    ham, spam, discard = akismet.CheckResponse.HAM, akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD
    assert client.comment_check(IP, comment_content="Cheap pills", comment_author="Bob") == spam
    assert client.comment_check(IP, comment_content="casino bonus", user_agent="curl/8") == discard
    assert client.comment_check(IP, comment_author="akismet-guaranteed-spam", is_test=True) == spam
    assert client.comment_check(IP, comment_content="casino", user_role="administrator") == ham
    assert client.comment_check(IP, comment_content="On topic", comment_context="python") == ham

    assert client.submit_spam(IP, comment_content="missed spam", comment_author="Bob") is True
    assert client.submit_ham(IP, comment_content="not spam at all") is True
    assert client.submit_ham(IP, comment_content="a test report", is_test=True) is True
    key_id = key_store.entries()[0].id
    assert records == [("missed spam", True, f"api:{key_id}"), ("not spam at all", False, f"api:{key_id}")]

    assert client.usage_limit() == {"limit": 1000, "usage": 9, "percentage": "0.90", "throttled": False}


def test_akismet_client_key_sites(serve, api_key):
    """key_sites works once the client sends the key: this client's key_sites omits api_key from its
    query (unlike its usage_limit), so it goes along as a default query parameter of the httpx client."""
    server = serve()
    client, _ = client_for(server, api_key, params={"api_key": api_key})
    client.comment_check(IP, comment_content="hello")
    sites = client.key_sites()
    month = next(k for k in sites if k not in ("limit", "offset", "total"))
    assert sites[month] == [{"site": SITE, "api_calls": 1, "spam": 0, "ham": 1, "missed_spam": 0,
                             "false_positives": 0, "is_revoked": False}]
    assert client.key_sites(result_format="csv").splitlines()[1].startswith("Site,Total API Calls")


def test_akismet_client_without_the_key_in_key_sites_gets_its_own_error(serve, api_key):
    """Without that workaround the service answers invalid, which the client reports as a key error."""
    server = serve()
    client, _ = client_for(server, api_key)
    with pytest.raises(akismet.APIKeyError):
        client.key_sites()


def test_akismet_client_rejects_a_wrong_key_or_site(serve, api_key):
    """validated_client raises APIKeyError for an unknown key, and for a key used from another site."""
    server = serve()
    with pytest.raises(akismet.APIKeyError):
        client_for(server, "0" * 32)
    http = httpx.Client(transport=ToLocalServer(server.url), timeout=5)
    with pytest.raises(akismet.APIKeyError):
        akismet.SyncClient.validated_client(config=akismet.Config(key=api_key, url="https://other.example"),
                                            http_client=http)


def test_akismet_client_sees_a_revoked_key_as_invalid(serve, api_key, key_store):
    """After revocation every call fails with the client's key error."""
    server = serve()
    client, _ = client_for(server, api_key)
    key_store.revoke(key_store.entries()[0].id)
    assert client.verify_key() is False
    with pytest.raises(akismet.APIKeyError):
        client.comment_check(IP, comment_content="hello")
