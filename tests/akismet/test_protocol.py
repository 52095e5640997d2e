"""The Akismet protocol module: what the client, the server and FakeAkismet all speak."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamguard import Comment, Verdict
from spamguard.akismet import AkismetConfig, KeySites, SiteActivity, protocol

CONFIG = AkismetConfig(api_key="protocol-test-key", blog="https://blog.example/", is_test=True)
SITES = [
    SiteActivity(site="https://a.example", api_calls=10, spam=3, ham=7, missed_spam=1, false_positives=0,
                 is_revoked=False),
    SiteActivity(site="https://b.example", api_calls=2, spam=0, ham=2, missed_spam=0, false_positives=1,
                 is_revoked=True),
]


@pytest.mark.parametrize(("author", "email", "role", "answer"), [
    (protocol.GUARANTEED_SPAM_AUTHOR, None, None, True),
    (None, protocol.GUARANTEED_SPAM_EMAIL, "administrator", True),  # the spam values come first
    ("Ann", "ann@example.com", "editor, Administrator", False),
    ("Ann", None, "editor", None),
    (None, None, None, None),
])
def test_test_values(author: str | None, email: str | None, role: str | None, answer: bool | None) -> None:
    """Akismet's test values fix the answer: guaranteed spam, administrator ham; otherwise judge."""
    assert protocol.answer_for_test_values(author, email, role) is answer


@pytest.mark.parametrize("counts_as_text", [False, True])
def test_key_sites_json_is_what_the_client_reads(counts_as_text: bool) -> None:
    """What a server renders for key-sites, the client parses back to the same rows (counts as numbers or text)."""
    body = protocol.key_sites_json("2026-05", SITES, limit=500, offset=0, total=2, counts_as_text=counts_as_text)
    parsed = protocol.parse_key_sites(200, {"Content-Type": "application/json"}, body, CONFIG)
    assert parsed == KeySites(months={"2026-05": tuple(SITES)}, limit=500, offset=0, total=2)


def test_key_sites_csv_layout() -> None:
    """The CSV answer: Akismet's title line, its header, one row a site."""
    text = protocol.key_sites_csv("k_1", "2026-05", SITES, limit=1, offset=0, total=2)
    assert text.splitlines() == [
        "Active sites for k_1 during 2026-05 (limit:1, offset: 0, total: 2)",
        "Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked",
        "https://a.example,10,3,7,1,0,false",
        "https://b.example,2,0,2,0,1,true",
    ]


def test_request_fields() -> None:
    """Each call's form fields, built without any transport."""
    comment = Comment(content="hi", user_ip="203.0.113.7")
    assert protocol.verify_key_fields(CONFIG) == {"api_key": "protocol-test-key", "key": "protocol-test-key",
                                                  "blog": "https://blog.example/"}
    assert protocol.submit_fields(comment, CONFIG, Verdict(spam=True)) == {
        "api_key": "protocol-test-key", "blog": "https://blog.example/", "comment_content": "hi",
        "user_ip": "203.0.113.7", "comment_type": "comment", "is_test": "1", "comment_check_response": "true",
    }
    assert protocol.key_sites_fields(CONFIG, "2026-05", limit=10) == {
        "api_key": "protocol-test-key", "format": "json", "month": "2026-05", "limit": "10"}
    assert CONFIG.url(protocol.KEY_SITES) == "https://rest.akismet.com/1.2/key-sites"


def test_the_protocol_is_written_once() -> None:
    """The thanks text is spelled out in the protocol module only; the others refer to it."""
    package = Path(protocol.__file__).resolve().parent.parent
    spelled = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                     if protocol.THANKS in p.read_text(encoding="utf-8"))
    assert spelled == ["akismet/protocol.py"]
