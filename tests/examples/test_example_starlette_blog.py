"""The Starlette blog example, served by uvicorn on 127.0.0.1: publish, hold, honeypot, notice, moderation.

The same cases as the Flask example's tests, over real HTTP (``requests`` against uvicorn), with
the Guard's asyncio path: ``acheck``/``areport_*`` on the shipped local model, or awaiting an
AsyncAkismetClient talking to FakeAkismet.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from _webapps import HAM, SPAM, clean_env, csrf_token, load_starlette_blog, run_example_and_fetch, serve_asgi

VISITOR = "198.51.100.20"


@pytest.fixture
def blog_db(tmp_path: Path) -> Path:
    return tmp_path / "blog.sqlite3"


@pytest.fixture
def local_blog(monkeypatch: pytest.MonkeyPatch, blog_db: Path) -> Iterator[tuple[str, requests.Session]]:
    """The blog as it runs with no key: Guard.from_env(asynchronous=True) on the shipped local model."""
    clean_env(monkeypatch)
    monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(blog_db.with_name("feedback.sqlite3")))
    app = load_starlette_blog().create_app(db_path=str(blog_db), trusted_proxies=["127.0.0.1"])
    with serve_asgi(app) as base, requests.Session() as http:
        yield base, http


@pytest.fixture
def akismet_blog(monkeypatch: pytest.MonkeyPatch, blog_db: Path) -> Iterator[tuple[str, requests.Session, Any]]:
    """The blog with an Akismet key set: acheck awaits an AsyncAkismetClient talking to FakeAkismet."""
    from spamguard.testing import FakeAkismet

    clean_env(monkeypatch)
    with FakeAkismet(valid_keys={"test-key"}) as server:
        monkeypatch.setenv("SPAMGUARD_AKISMET_KEY", "test-key")
        monkeypatch.setenv("SPAMGUARD_BLOG_URL", "http://localhost/")
        monkeypatch.setenv("SPAMGUARD_AKISMET_URL", server.url)
        monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(blog_db.with_name("feedback.sqlite3")))
        app = load_starlette_blog().create_app(db_path=str(blog_db), trusted_proxies=["127.0.0.1"])
        with serve_asgi(app) as base, requests.Session() as http:
            yield base, http, server


def post_comment(blog: tuple[Any, ...], content: str, *, author: str = "Ana", honeypot: str = "",
                 **headers: str) -> str:
    """Open the post, fill in its form and send it from the visitor (through our proxy), as a browser
    would; the page after the redirect."""
    base, http = blog[0], blog[1]
    page = http.get(f"{base}/posts/1", headers=headers, timeout=30).text
    form = {"csrf_token": csrf_token(page), "author": author, "email": "ana@example.org", "url": "",
            "content": content, "spamguard_hp": honeypot}
    response = http.post(
        f"{base}/posts/1/comments", data=form, timeout=30,
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "X-Forwarded-For": VISITOR,
                 **headers},
    )
    assert response.status_code == 200
    return response.text


def statuses(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT content, status FROM comments"))


def test_a_ham_comment_is_published(local_blog: tuple[str, requests.Session], blog_db: Path) -> None:
    """A friendly comment appears under the post straight away."""
    page = post_comment(local_blog, HAM)

    assert "Your comment is published" in page
    assert HAM.replace("'", "&#39;") in page
    assert statuses(blog_db) == {HAM: "published"}


def test_blatant_spam_is_refused(local_blog: tuple[str, requests.Session], blog_db: Path) -> None:
    """With the default policy the local model's surest spam is discarded: not shown, not stored."""
    page = post_comment(local_blog, SPAM)

    assert "Your comment was rejected as spam." in page
    assert "VIAGRA" not in page
    assert statuses(blog_db) == {}


def test_spam_and_a_filled_honeypot_are_held(
    monkeypatch: pytest.MonkeyPatch, blog_db: Path
) -> None:
    """When the site keeps all spam for review, spam and a bot's harmless text (honeypot filled) wait
    in the spam queue, unseen."""
    clean_env(monkeypatch)
    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "off")
    monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(blog_db.with_name("feedback.sqlite3")))
    app = load_starlette_blog().create_app(db_path=str(blog_db), trusted_proxies=["127.0.0.1"])
    with serve_asgi(app) as base, requests.Session() as http:
        spam_page = post_comment((base, http), SPAM)
        bot_page = post_comment((base, http), HAM, honeypot="http://bot.example")

    assert "awaiting moderation" in spam_page and "VIAGRA" not in spam_page
    assert "awaiting moderation" in bot_page
    assert statuses(blog_db) == {SPAM: "spam", HAM: "spam"}


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("de-DE,de;q=0.9,en;q=0.5", "Kommentar"), ("en-GB,en;q=0.8", "comment")],
)
def test_the_notice_is_in_the_browser_language(
    local_blog: tuple[str, requests.Session], accept_language: str, expected: str
) -> None:
    """The disclosure under the form follows Accept-Language."""
    base, http = local_blog
    page = http.get(f"{base}/posts/1", headers={"Accept-Language": accept_language}, timeout=30).text

    notice = page.split('id="spamguard-notice"', 1)[1].split("</div>", 1)[0]
    assert page.index('id="comment-form"') < page.index('id="spamguard-notice"')
    assert expected in notice


def test_moderation_reports_not_spam_and_publishes(monkeypatch: pytest.MonkeyPatch, blog_db: Path) -> None:
    """"Not spam" on the moderation page (behind its password) publishes the comment and records the
    moderator's word through areport_ham."""
    from spamguard import FeedbackStore

    clean_env(monkeypatch)
    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "off")
    monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(blog_db.with_name("feedback.sqlite3")))
    monkeypatch.setenv("STARLETTE_BLOG_MODERATOR_PASSWORD", "letmein")
    app = load_starlette_blog().create_app(db_path=str(blog_db), trusted_proxies=["127.0.0.1"])
    with serve_asgi(app) as base, requests.Session() as http:
        post_comment((base, http), SPAM)
        assert http.get(f"{base}/moderate", timeout=30).status_code == 401
        http.auth = ("moderator", "letmein")
        queue = http.get(f"{base}/moderate", timeout=30).text
        assert "VIAGRA" in queue
        (comment_id,) = [row[0] for row in sqlite3.connect(blog_db).execute("SELECT id FROM comments")]
        response = http.post(f"{base}/moderate/{comment_id}/ham", data={"csrf_token": csrf_token(queue)}, timeout=30)

    assert f"Comment {comment_id} marked as not spam (published)." in response.text
    assert statuses(blog_db) == {SPAM: "published"}
    store = FeedbackStore(blog_db.with_name("feedback.sqlite3"))
    assert [(r.comment.content, r.label) for r in store.records()] == [(SPAM, False)]


def test_a_post_without_the_form_token_is_refused(local_blog: tuple[str, requests.Session], blog_db: Path) -> None:
    """Cross-site posts (no CSRF token) are turned away before any check."""
    base, http = local_blog
    response = http.post(f"{base}/posts/1/comments", data={"author": "x", "content": HAM}, timeout=30)

    assert response.status_code == 400
    assert not blog_db.exists() or statuses(blog_db) == {}


def test_invalid_input_comes_back_to_the_form(local_blog: tuple[str, requests.Session]) -> None:
    """A bad website address is explained next to the form, and what was typed is kept."""
    base, http = local_blog
    page = http.get(f"{base}/posts/1", timeout=30).text
    response = http.post(
        f"{base}/posts/1/comments", timeout=30,
        data={"csrf_token": csrf_token(page), "author": "Ana", "url": "ftp://ana.example", "content": "Hello"},
    )

    assert "Your comment was not sent" in response.text and "author_url" in response.text
    assert ">Hello</textarea>" in response.text


def test_with_a_key_akismet_decides_and_gets_the_request_data(
    akismet_blog: tuple[str, requests.Session, Any], blog_db: Path
) -> None:
    """With SPAMGUARD_AKISMET_KEY set the blog awaits Akismet, sending the visitor's IP (from our trusted
    proxy's X-Forwarded-For), headers and the honeypot; the session cookie stays home."""
    server = akismet_blog[2]

    post_comment(akismet_blog, "Nice post", author="akismet-guaranteed-spam", **{"Accept-Language": "fr"})
    post_comment(akismet_blog, HAM)
    post_comment(akismet_blog, "Lovely, thanks", honeypot="http://bot.example")  # Akismet says ham: the honeypot wins

    assert statuses(blog_db) == {"Nice post": "spam", HAM: "published", "Lovely, thanks": "spam"}
    checks = [form for path, form in server.requests if path.endswith("comment-check")]
    assert len(checks) == 3
    sent = checks[0]
    assert (sent["user_ip"], sent["honeypot_field_name"], sent["spamguard_hp"]) == (VISITOR, "spamguard_hp", "")
    assert checks[2]["spamguard_hp"] == "http://bot.example"
    assert sent["HTTP_ACCEPT_LANGUAGE"] == "fr"
    assert sent["permalink"] == f"{akismet_blog[0]}/posts/1"
    assert "HTTP_COOKIE" not in sent


def test_with_a_key_the_notice_names_where_comments_go_and_reports_reach_it(
    akismet_blog: tuple[str, requests.Session, Any], blog_db: Path
) -> None:
    """With a key the notice names the service really used: here a FakeAkismet on 127.0.0.1, the
    site's own machine, so never Akismet; and "Spam" in the queue sends submit-spam with the original
    verdict (areport_spam on the AsyncAkismetClient)."""
    from spamguard.notice import disclosure, service_for_remote

    base, http, server = akismet_blog
    page = http.get(f"{base}/posts/1", headers={"Accept-Language": "en"}, timeout=30).text
    assert disclosure("en", service=service_for_remote(server.url)) in page
    assert "akismet.com/privacy" not in page

    post_comment(akismet_blog, "see my pictures akismet-recheck")  # provisional ham: held
    queue = http.get(f"{base}/moderate", timeout=30).text
    (comment_id,) = [row[0] for row in sqlite3.connect(blog_db).execute("SELECT id FROM comments")]
    http.post(f"{base}/moderate/{comment_id}/spam", data={"csrf_token": csrf_token(queue)}, timeout=30)

    submits = [form for path, form in server.requests if path.endswith("submit-spam")]
    assert [(s["comment_content"], s["comment_check_response"]) for s in submits] == [
        ("see my pictures akismet-recheck", "false")]
    assert statuses(blog_db) == {"see my pictures akismet-recheck": "spam"}


@pytest.mark.slow
def test_the_example_runs_with_one_command(tmp_path: Path) -> None:
    """`python examples/starlette_blog/app.py --port PORT` serves the blog on 127.0.0.1."""
    page, problem, stderr = run_example_and_fetch("starlette_blog", "STARLETTE_BLOG_DB", tmp_path, "/posts/1")
    assert not problem, f"{problem}: {stderr[-3000:]}"
    assert "Leave a comment" in page and 'id="spamguard-notice"' in page
