"""The Flask blog example through Flask's test client: publish, hold, honeypot, notice, moderation."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _webapps import HAM, SPAM, clean_env, csrf_token, load_flask_blog, run_example_and_fetch


@pytest.fixture
def blog_db(tmp_path: Path) -> Path:
    return tmp_path / "blog.sqlite3"


@pytest.fixture
def local_client(monkeypatch: pytest.MonkeyPatch, blog_db: Path) -> Iterator[Any]:
    """The blog as it runs with no key: Guard.from_env() on the shipped local model."""
    clean_env(monkeypatch)
    monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(blog_db.with_name("feedback.sqlite3")))
    app = load_flask_blog().create_app(db_path=str(blog_db))
    app.config["TESTING"] = True
    with app.test_client() as client:
        yield client


@pytest.fixture
def akismet_client(monkeypatch: pytest.MonkeyPatch, blog_db: Path) -> Iterator[tuple[Any, Any]]:
    """The blog with an Akismet key set, talking to a FakeAkismet on 127.0.0.1."""
    from spamguard.testing import FakeAkismet

    clean_env(monkeypatch)
    with FakeAkismet(valid_keys={"test-key"}) as server:
        monkeypatch.setenv("SPAMGUARD_AKISMET_KEY", "test-key")
        monkeypatch.setenv("SPAMGUARD_BLOG_URL", "http://localhost/")
        monkeypatch.setenv("SPAMGUARD_AKISMET_URL", server.url)
        monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(blog_db.with_name("feedback.sqlite3")))
        app = load_flask_blog().create_app(db_path=str(blog_db))
        app.config["TESTING"] = True
        with app.test_client() as client:
            yield client, server


def post_comment(client: Any, content: str, *, author: str = "Ana", honeypot: str = "", **headers: str) -> str:
    """Open the post, fill in its form and send it, as a browser would; the page after the redirect."""
    page = client.get("/posts/1", headers=headers).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(page),
        "author": author,
        "email": "ana@example.org",
        "url": "",
        "content": content,
        "spamguard_hp": honeypot,
    }
    response = client.post(
        "/posts/1/comments",
        data=form,
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", **headers},
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def statuses(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT content, status FROM comments"))


def test_a_ham_comment_is_published(local_client: Any, blog_db: Path) -> None:
    """A friendly comment appears under the post straight away."""
    page = post_comment(local_client, HAM)

    assert "Your comment is published" in page
    assert HAM.replace("'", "&#39;") in page
    assert statuses(blog_db) == {HAM: "published"}


def test_blatant_spam_is_refused(local_client: Any, blog_db: Path) -> None:
    """With the default policy the local model's surest spam is discarded: not shown, not stored."""
    page = post_comment(local_client, SPAM)

    assert "Your comment was rejected as spam." in page
    assert "VIAGRA" not in page
    assert statuses(blog_db) == {}


def test_a_spam_comment_is_held_from_the_page(
    local_client: Any, blog_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the site keeps all spam for review (no discarding), spam waits in the spam queue, unseen."""
    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "off")

    page = post_comment(local_client, SPAM)

    assert "awaiting moderation" in page
    assert "VIAGRA" not in page
    assert statuses(blog_db) == {SPAM: "spam"}


def test_a_filled_honeypot_is_caught(local_client: Any, blog_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bot that fills the hidden field is not published, however harmless its text."""
    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "off")

    page = post_comment(local_client, HAM, honeypot="http://bot.example")

    assert "awaiting moderation" in page
    assert statuses(blog_db) == {HAM: "spam"}


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("de-DE,de;q=0.9,en;q=0.5", "Kommentar"), ("en-GB,en;q=0.8", "comment")],
)
def test_the_notice_is_in_the_browser_language(local_client: Any, accept_language: str, expected: str) -> None:
    """The disclosure under the form follows Accept-Language."""
    page = local_client.get("/posts/1", headers={"Accept-Language": accept_language}).get_data(as_text=True)

    notice = page.split('id="spamguard-notice"', 1)[1].split("</div>", 1)[0]
    assert page.index('id="comment-form"') < page.index('id="spamguard-notice"')
    assert expected in notice


def test_moderation_reports_not_spam_and_publishes(
    local_client: Any, blog_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """"Not spam" on the moderation page publishes the comment and records the moderator's word."""
    from spamguard import FeedbackStore

    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "off")
    post_comment(local_client, SPAM)
    queue = local_client.get("/moderate").get_data(as_text=True)
    assert "VIAGRA" in queue
    (comment_id,) = [row[0] for row in sqlite3.connect(blog_db).execute("SELECT id FROM comments")]

    response = local_client.post(
        f"/moderate/{comment_id}/ham", data={"csrf_token": csrf_token(queue)}, follow_redirects=True
    )

    assert f"Comment {comment_id} marked as not spam (published)." in response.get_data(as_text=True)
    assert statuses(blog_db) == {SPAM: "published"}
    store = FeedbackStore(blog_db.with_name("feedback.sqlite3"))
    assert [(r.comment.content, r.label) for r in store.records()] == [(SPAM, False)]


def test_a_post_without_the_form_token_is_refused(local_client: Any, blog_db: Path) -> None:
    """Cross-site posts (no CSRF token) are turned away before any check."""
    response = local_client.post("/posts/1/comments", data={"author": "x", "content": HAM})

    assert response.status_code == 400
    assert not blog_db.exists() or statuses(blog_db) == {}


def test_invalid_input_comes_back_to_the_form(local_client: Any, blog_db: Path) -> None:
    """A bad website address is explained next to the form, and what was typed is kept."""
    page = local_client.get("/posts/1").get_data(as_text=True)
    response = local_client.post(
        "/posts/1/comments",
        data={"csrf_token": csrf_token(page), "author": "Ana", "url": "ftp://ana.example", "content": "Hello"},
        follow_redirects=True,
    )

    text = response.get_data(as_text=True)
    assert "Your comment was not sent" in text and "author_url" in text
    assert ">Hello</textarea>" in text


@pytest.mark.parametrize("content", ["", "   \n  "])
def test_an_empty_comment_comes_back_to_the_form(local_client: Any, blog_db: Path, content: str) -> None:
    """A comment with no text (or only spaces) is refused next to the form, not published."""
    page = local_client.get("/posts/1").get_data(as_text=True)
    response = local_client.post(
        "/posts/1/comments", data={"csrf_token": csrf_token(page), "author": "Ana", "content": content},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Your comment was not sent: content: is empty" in response.get_data(as_text=True)
    assert not blog_db.exists() or statuses(blog_db) == {}


def test_with_a_key_akismet_decides_and_gets_the_request_data(akismet_client: tuple[Any, Any], blog_db: Path) -> None:
    """With SPAMGUARD_AKISMET_KEY set the blog asks Akismet, sending IP, headers and the honeypot."""
    client, server = akismet_client

    post_comment(client, "Nice post", author="akismet-guaranteed-spam", **{"Accept-Language": "fr"})
    post_comment(client, HAM)
    post_comment(client, "Lovely, thanks", honeypot="http://bot.example")  # Akismet says ham: the honeypot wins

    assert statuses(blog_db) == {"Nice post": "spam", HAM: "published", "Lovely, thanks": "spam"}
    checks = [form for path, form in server.requests if path.endswith("comment-check")]
    assert len(checks) == 3
    sent = checks[0]
    assert (sent["user_ip"], sent["honeypot_field_name"], sent["spamguard_hp"]) == ("198.51.100.20", "spamguard_hp", "")
    assert checks[2]["spamguard_hp"] == "http://bot.example"
    assert sent["HTTP_ACCEPT_LANGUAGE"] == "fr"
    assert sent["permalink"] == "http://localhost/posts/1"
    assert "HTTP_COOKIE" not in sent  # the session cookie stays home


def test_with_a_key_the_notice_names_where_comments_go(akismet_client: tuple[Any, Any]) -> None:
    """The notice names the service really used: with a key, the Akismet-compatible service at
    SPAMGUARD_AKISMET_URL. Here that is a FakeAkismet on 127.0.0.1, the site's own machine, so the
    notice says the data stays there and never that it goes to Akismet (rest.akismet.com gives
    Akismet's notice: tests/guard/test_guard_logic.py)."""
    from spamguard.notice import disclosure, service_for_remote

    client, server = akismet_client

    page = client.get("/posts/1", headers={"Accept-Language": "en"}).get_data(as_text=True)

    notice = page.split('id="spamguard-notice"', 1)[1].split("</div>", 1)[0]
    assert disclosure("en", service=service_for_remote(server.url)) in notice
    assert "akismet" not in notice.lower()


@pytest.mark.slow
def test_the_example_runs_with_one_command(tmp_path: Path) -> None:
    """`python examples/flask_blog/app.py --port PORT` serves the blog on 127.0.0.1."""
    page, problem, stderr = run_example_and_fetch("flask_blog", "FLASK_BLOG_DB", tmp_path, "/posts/1")
    assert not problem, f"{problem}: {stderr[-3000:]}"
    assert "Leave a comment" in page and 'id="spamguard-notice"' in page
