"""No IP or e-mail address survives in a feedback store's file or its exports, wherever it hides.

Hypothesis builds comments with addresses hidden in any field but the text and the author's name
(URLs, headers and their names, the user agent, the honeypot, the context...), spelled the ways
they travel (``mailto:``, ``?email=``, ``%40``, ``%3A``, bracketed, upper case, exploded), records
them in a real store, and greps what the store keeps (SQLite: the raw bytes of the database file
and its write-ahead log; PostgreSQL: every text column of every table, read back with SQL) and
the JSONL export. ``SPAMGUARD_FUZZ_EXAMPLES`` raises the example count (CI runs the fixed
default).
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _feedback_backends import is_postgres, stored
from _postgres import connect, fresh_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spamguard import Comment, FeedbackStore
from spamguard._addresses import PSEUDONYM_DOMAIN, replace_addresses
from spamguard.feedback import SCHEMA_VERSION

EXAMPLES = int(os.environ.get("SPAMGUARD_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


Where = Callable[..., str]


@contextlib.contextmanager
def fresh_store_place(backend: str) -> Iterator[str]:
    """A new SQLite file's path, or a new PostgreSQL schema's URL (for one Hypothesis example)."""
    if backend == "postgresql":
        with fresh_schema() as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield str(Path(folder) / "fb.sqlite3")


# --- addresses, and the ways they are written ---------------------------------------------------------


def _ipv6_spellings(address: ipaddress.IPv6Address) -> st.SearchStrategy[str]:
    return st.sampled_from([
        address.compressed, address.exploded, address.compressed.upper(),
        address.compressed.replace(":", "%3A"), address.exploded.replace(":", "%3a"),
    ])


IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).filter(lambda a: not a.is_unspecified).flatmap(_ipv6_spellings)
EMAIL = st.emails().filter(lambda e: not e.lower().endswith(PSEUDONYM_DOMAIN)).flatmap(
    lambda e: st.sampled_from([e, e.upper(), e.replace("@", "%40"), f"mailto:{e}"]))
ADDRESS = st.one_of(IPV4, IPV6, EMAIL)


def needles(spelled: str) -> set[str]:
    """The strings that must not be found: the address as written and its plain forms."""
    plain = spelled.removeprefix("mailto:").replace("%40", "@").replace("%3A", ":").replace("%3a", ":")
    found = {spelled.removeprefix("mailto:"), plain, plain.lower()}
    try:
        address = ipaddress.ip_address(plain)
    except ValueError:
        return found
    return found | {address.compressed, address.exploded}


# Text around an address: anything, then a character that keeps it apart from the address (an
# address glued to letters or digits, like x1.2.3.4, is another string).
AROUND = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
SEPARATOR = st.sampled_from(list(" ,;=/()<>\"'!?&#|\t"))


@st.composite
def hidden(draw: st.DrawFn, address: str) -> str:
    """``address`` inside some free text."""
    return draw(AROUND) + draw(SEPARATOR) + address + draw(SEPARATOR) + draw(AROUND)


@st.composite
def in_url(draw: st.DrawFn, address: str) -> str:
    """``address`` inside an http(s) URL: as its host, in its query, in its path."""
    bare = address.removeprefix("mailto:")
    if "@" in bare or "%40" in bare:
        return draw(st.sampled_from([f"https://blog.example/?email={bare}&p=1", f"https://blog.example/u/{bare}",
                                     f"http://{bare}/", f"https://blog.example/#{bare}"]))
    if "%3" in bare.lower():
        return f"https://blog.example/?ip={bare}"
    if ":" in bare:
        return draw(st.sampled_from([f"http://[{bare}]:8080/x", f"https://blog.example/?ip={bare}"]))
    return draw(st.sampled_from([f"http://{bare}/wp-login.php", f"https://{bare}:8443/", f"https://x.example/?ip={bare}"]))


HEADER = st.from_regex(r"\AHTTP_[A-Z][A-Z_]{0,20}\Z")
IDENTIFYING = st.sampled_from(["HTTP_X_CLIENT_IP", "HTTP_X_CLUSTER_CLIENT_IP", "HTTP_FASTLY_CLIENT_IP",
                               "HTTP_X_ORIGINAL_FORWARDED_FOR", "HTTP_CF_CONNECTING_IP", "HTTP_TRUE_CLIENT_IP",
                               "Forwarded", "X-Forwarded-For", "REMOTE_ADDR", "HTTP_REFERER"])
TEXT_FIELDS = ["user_agent", "type", "lang", "charset", "user_role", "recheck_reason", "parent"]


@st.composite
def placed(draw: st.DrawFn) -> tuple[Callable[[dict[str, Any]], None], str]:
    """One address and a way to put it into a comment's fields."""
    address = draw(ADDRESS)
    where = draw(st.sampled_from(["url", "text", "honeypot", "context", "header", "header name"]))
    if where == "url":
        field, value = draw(st.sampled_from(["author_url", "referrer", "permalink"])), draw(in_url(address))
        return (lambda f: f.__setitem__(field, value)), address
    value = draw(hidden(address))
    if where == "text":
        field = draw(st.sampled_from(TEXT_FIELDS))
        return (lambda f: f.__setitem__(field, value)), address
    if where == "honeypot":
        return (lambda f: f.update(honeypot_field_name="hp_field", honeypot_value=value)), address
    if where == "context":
        return (lambda f: f.setdefault("context", []).append(value)), address
    if where == "header":
        name = draw(st.one_of(HEADER, IDENTIFYING))
        return (lambda f: f.setdefault("extra", {}).__setitem__(name, value)), address
    name = draw(HEADER) + "_" + address.replace("%", "_")  # an address in a header's name
    return (lambda f: f.setdefault("extra", {}).__setitem__(name, "1")), address


@st.composite
def comments(draw: st.DrawFn) -> tuple[Comment, set[str]]:
    """A comment with one to four addresses hidden in it, and the strings that must not be stored."""
    fields: dict[str, Any] = {"content": "a perfectly ordinary comment", "author": "Bob"}
    secrets: set[str] = set()
    for put, address in draw(st.lists(placed(), min_size=1, max_size=4)):
        put(fields)
        secrets |= needles(address)
    if draw(st.booleans()):
        fields["author_email"] = draw(EMAIL).removeprefix("mailto:").replace("%40", "@")
        secrets |= needles(fields["author_email"])
    if draw(st.booleans()):
        fields["user_ip"] = draw(st.ip_addresses()).compressed
        secrets |= needles(fields["user_ip"])
    return Comment(**fields), secrets


# --- the properties -------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@FUZZ
@given(case=comments())
def test_no_address_survives_in_the_file_or_the_export(backend: str, case: tuple[Comment, set[str]]) -> None:
    """Recorded, then read back from the store (SQLite: its file and WAL; PostgreSQL: every text column) and
    exported: none of the hidden addresses is there, and the row still makes a valid comment."""
    comment, secrets = case
    with fresh_store_place(backend) as path:
        store = FeedbackStore(path, secret="fuzz")
        store.record(comment, True)
        exported = io.StringIO()
        assert store.export_jsonl(exported) == 1
        assert len(list(store.records())) == 1
        raw = stored(path)
        store.close()
    text = exported.getvalue()
    for secret in secrets:
        assert secret.encode() not in raw, f"{secret!r} is in the database file"
        assert secret.encode("unicode_escape") not in raw
        assert secret not in text and secret not in json.dumps(text), f"{secret!r} is in the export"


@settings(max_examples=EXAMPLES * 5, deadline=None)
@given(st.text(), ADDRESS, SEPARATOR, SEPARATOR, st.text())
def test_replace_addresses_leaves_none_and_is_stable(
    before: str, address: str, left: str, right: str, after: str
) -> None:
    """An address kept apart from its neighbours is always replaced; replacing again changes nothing."""
    text = before + left + address + right + after
    once = replace_addresses(text, lambda kind, value: f"[{kind}]")
    for secret in needles(address):
        assert secret not in once
    assert replace_addresses(once, lambda kind, value: f"[{kind}]") == once


@pytest.mark.parametrize(("text", "expected"), [
    ("mailto:Alice@Example.org", "mailto:<email alice at example.org>"),
    ("https://x.example/?email=alice%40example.org&p=1", "https://x.example/?email=<email alice at example.org>&p=1"),
    ("a/b@x.org, /@x.org", "a/<email b at x.org>, <email / at x.org>"),
    ("203.0.113.7, 10.0.0.1", "<ip 203.0.113.7>, <ip 10.0.0.1>"),
    ("http://[2001:db8::1]:8080/p", "http://<ip 2001:db8::1>:8080/p"),
    ("ip=2001%3Adb8%3A%3A1", "ip=<ip 2001:db8::1>"),
    ("host:2001:DB8:0:0:0:0:0:1:", "host:<ip 2001:db8::1>:"),
    ("::ffff:192.0.2.1", f"<ip {ipaddress.ip_address('::ffff:192.0.2.1').compressed}>"),
    ('"john doe"@example.org', '<email "john doe" at example.org>'),
    ("010.001.2.3", "<ip 10.1.2.3>"),
    ("Chrome/120.0.0.0", "Chrome/<ip 120.0.0.0>"),  # a version number that reads as an address goes too
    ("std::vector 12:30:45 00:1a:2b:3c:4d:5e :: 999.1.1.1", "std::vector 12:30:45 00:1a:2b:3c:4d:5e :: 999.1.1.1"),
    (f"x@{PSEUDONYM_DOMAIN} ip-0123.{PSEUDONYM_DOMAIN}", f"x@{PSEUDONYM_DOMAIN} ip-0123.{PSEUDONYM_DOMAIN}"),
])
def test_replace_addresses_examples(text: str, expected: str) -> None:
    """What is found and what is not, by example."""
    assert replace_addresses(text, lambda kind, value: f"<{kind} {value.replace('@', ' at ')}>") == expected


def test_a_hostile_field_costs_linear_time() -> None:
    """Runs built to make a scanner backtrack (colons and hex, '@' with no domain) are read in linear time."""
    import time

    for text in ("a:" * 4096, "a" * 8000 + "@", "%40" * 2700, "1." * 4000, "[" + "1:" * 4000 + "]"):
        started = time.perf_counter()
        replace_addresses(text, lambda kind, value: "x")
        assert time.perf_counter() - started < 2.0, text[:20]


# --- rows written before, and erasure -------------------------------------------------------------------


def _make_version_2(path: str, row: dict[str, Any]) -> None:
    """Turn a new store into what spamguard wrote at schema 2: ``row`` as its one comment's JSON."""
    if is_postgres(path):
        with connect(path) as conn:
            conn.execute("UPDATE spamguard_feedback SET comment = %s", (json.dumps(row),))
            conn.execute("UPDATE spamguard_feedback_settings SET value = '2' WHERE key = 'schema_version'")
        return
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE feedback SET comment = ?", (json.dumps(row),))
        conn.execute("PRAGMA user_version = 2")
    conn.close()


def test_rows_from_an_older_spamguard_are_scrubbed_when_the_file_is_opened(feedback_at: Where) -> None:
    """A schema-2 store kept forwarded-address headers and mailto: referrers in clear; opening it migrates
    every pseudonymised row, then checkpoints (SQLite) or vacuums (PostgreSQL), and the addresses are gone from
    what the store keeps."""
    path = feedback_at()
    store = FeedbackStore(path)
    store.record(Comment(content="old row", author_email="alice@example.org"), False)
    store.close()
    old = {"content": "old row", "extra": {"HTTP_X_CLUSTER_CLIENT_IP": "198.51.100.77",
                                           "HTTP_REFERER": "mailto:carol@example.net", "HTTP_ACCEPT": "*/*"}}
    _make_version_2(path, old)
    assert b"198.51.100.77" in stored(path)
    store = FeedbackStore(path)
    assert store.schema_version == SCHEMA_VERSION == 3
    (record,) = store.records()
    assert dict(record.comment.extra) == {"HTTP_REFERER": f"mailto:{store._stand_in('email', 'carol@example.net')}",
                                          "HTTP_ACCEPT": "*/*"}
    store.close()
    raw = stored(path)
    assert b"198.51.100.77" not in raw and b"carol@example.net" not in raw


def test_erase_finds_an_address_anywhere_in_a_row(feedback_at: Where) -> None:
    """erase(email=...) also deletes rows where the address was only in a referrer or a header."""
    store = FeedbackStore(feedback_at())
    store.record(Comment(content="one", referrer="https://blog.example/?email=Alice%40Example.org"), True)
    store.record(Comment(content="two", extra={"HTTP_X_DEBUG": "seen from 2001:db8::42"}), True)
    store.record(Comment(content="three", author_email="bob@example.org"), False)
    assert store.erase(email="alice@example.org") == 1
    assert store.erase(ip="2001:DB8:0::42") == 1
    assert [r.comment.content for r in store.records()] == ["three"]


def test_a_store_kept_as_given_is_not_scrubbed(feedback_at: Where) -> None:
    """pseudonymise=False keeps every field as given, as documented."""
    store = FeedbackStore(feedback_at(), pseudonymise=False)
    store.record(Comment(content="x", referrer="https://blog.example/?email=alice@example.org"), True)
    (record,) = store.records()
    assert record.comment.referrer == "https://blog.example/?email=alice@example.org"
