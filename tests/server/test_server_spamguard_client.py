"""spamguard's own AkismetClient, pointed at the service with base_url, and a real FeedbackStore behind it."""

from __future__ import annotations

import time

import pytest

from spamguard import AkismetClient, Comment, FeedbackStore, InvalidKeyError

SITE = "https://blog.example"
IP = "203.0.113.7"


@pytest.fixture
def store(tmp_path):
    with FeedbackStore(tmp_path / "feedback.sqlite") as store:
        yield store


def test_every_client_method_works_against_the_service(serve, api_key, key_store, store):
    """verify_key, comment_check, check_many, submit_spam/ham, usage_limit and key_sites all succeed."""
    server = serve(feedback=store)
    key_id = key_store.entries()[0].id
    with AkismetClient(api_key, SITE, base_url=server.url, timeout=5, retries=0) as client:
        assert client.verify_key() is True

        ham = client.comment_check(Comment(content="Thanks, this fixed my build", user_ip=IP, author="Ann"))
        assert (ham.spam, ham.discard, ham.source) == (False, False, "akismet")
        assert ham.guid and len(ham.guid) == 32
        spam = client.check(Comment(content="Cheap pills here", user_ip=IP))
        assert (spam.spam, spam.discard) == (True, False)
        blatant = client.check(Comment(content="casino bonus", user_ip=IP, context=("python", "web")))
        assert (blatant.spam, blatant.discard) == (True, True)
        assert [v.spam for v in client.check_many([
            Comment(content="hello", user_ip=IP),
            Comment(content="hello", user_ip=IP, author="akismet-guaranteed-spam"),
            Comment(content="casino", user_ip=IP, user_role="administrator"),
        ])] == [False, True, False]

        missed = Comment(content="buy followers now", user_ip=IP, author_email="bob@example.net")
        client.submit_spam(missed, ham)
        client.submit_ham(Comment(content="Cheap pills? I am a pharmacist", user_ip=IP), spam)

        usage = client.usage_limit()
        assert (usage.limit, usage.usage, usage.percentage, usage.throttled) == (1000, 8, "0.80", False)
        sites = client.key_sites()
        (row,) = sites.months[time.strftime("%Y-%m", time.gmtime())]
        assert (row.site, row.api_calls, row.spam, row.ham, row.missed_spam, row.false_positives, row.is_revoked) == (
            SITE, 8, 3, 3, 1, 1, False,
        )
        assert (sites.limit, sites.offset, sites.total) == (500, 0, 1)

    records = list(store.records(sources=[f"api:{key_id}"]))
    assert [(r.comment.content, r.label) for r in records] == [
        ("buy followers now", True),
        ("Cheap pills? I am a pharmacist", False),
    ]


def test_test_traffic_is_not_recorded(serve, api_key, store):
    """A client made with is_test=True gets its thanks, and the feedback store stays empty."""
    server = serve(feedback=store)
    with AkismetClient(api_key, SITE, base_url=server.url, is_test=True, timeout=5, retries=0) as client:
        client.submit_spam(Comment(content="test spam", user_ip=IP))
        client.submit_ham(Comment(content="test ham", user_ip=IP))
    assert list(store.records()) == []


def test_wrong_key_revoked_key_and_wrong_site_are_key_errors(serve, api_key, key_store):
    """The client reports every refusal of the key as InvalidKeyError, and verify_key says False."""
    server = serve()
    comment = Comment(content="hello", user_ip=IP)
    with AkismetClient("0" * 32, SITE, base_url=server.url, retries=0) as client:
        assert client.verify_key() is False
        with pytest.raises(InvalidKeyError):
            client.comment_check(comment)
    with AkismetClient(api_key, "https://elsewhere.example", base_url=server.url, retries=0) as client:
        assert client.verify_key() is False
        with pytest.raises(InvalidKeyError, match="not allowed for the site"):
            client.comment_check(comment)
    key_store.revoke(key_store.entries()[0].id)
    client = AkismetClient(api_key, SITE, base_url=server.url, retries=0)
    with client, pytest.raises(InvalidKeyError, match="revoked"):
        client.comment_check(comment)
    assert api_key not in repr(client)
