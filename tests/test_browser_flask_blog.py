"""End to end in a real headless Chromium: the Flask blog's form, notice, check and moderation.

Needs Debian's Chromium and the Playwright package (never ``playwright install``):
``apt-get install -y chromium chromium-driver`` and ``pip install -e '.[test]'``. ``.ci/run``
installs both; elsewhere the test skips saying so. Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _webapps import HAM, REPO, SPAM, clean_env, load_flask_blog

CHROMIUM = os.environ.get("SPAMGUARD_CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = (
    "apt-get update && apt-get install -y chromium chromium-driver, then pip install -e '.[test]' "
    "for the playwright package (never `playwright install`)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
]
OUTPUT = Path(os.environ.get("SPAMGUARD_TEST_OUTPUT") or REPO / "test-output") / "browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright, or a skip naming the install command."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}: {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"the playwright package is not installed: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def live_blog(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The Flask example served in-process on 127.0.0.1 (a free port); its base URL and feedback file."""
    from werkzeug.serving import make_server

    clean_env(monkeypatch)
    feedback = tmp_path / "feedback.sqlite3"
    monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(feedback))
    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "off")  # keep all spam for the moderation queue
    app = load_flask_blog().create_app(db_path=str(tmp_path / "blog.sqlite3"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", feedback
    finally:
        server.shutdown()
        thread.join(timeout=10)


def submit(page: Any, author: str, content: str) -> str:
    """Fill in the comment form like a person and send it; the status message shown afterwards."""
    page.fill("#author", author)
    page.fill("#email", f"{author.lower()}@example.org")
    page.fill("#content", content)
    with page.expect_navigation():
        page.click("#comment-form button[type=submit]")
    return str(page.inner_text(".flash"))


def test_comment_flow_in_a_real_browser(browser: Any, live_blog: tuple[str, Path]) -> None:
    """A German visitor sees the notice under the form; ham is published, spam held, then moderated."""
    from spamguard import FeedbackStore

    base, feedback = live_blog
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="de-DE", viewport={"width": 1000, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{base}/posts/1")

        # The notice is on screen, in German, right under the form; the honeypot is not.
        notice = page.locator("#spamguard-notice")
        assert notice.is_visible()
        assert "Kommentar" in notice.inner_text()
        form_box = page.locator("#comment-form").bounding_box()
        notice_box = notice.bounding_box()
        assert notice_box["y"] >= form_box["y"] + form_box["height"] - 1
        honeypot_box = page.locator("input[name=spamguard_hp]").bounding_box()
        assert honeypot_box["x"] + honeypot_box["width"] <= 0  # off screen, not in the form's flow

        # A person's comment is published; spam is held back.
        assert "Your comment is published" in submit(page, "Ana", HAM)
        assert HAM in page.inner_text("#comments")
        assert "awaiting moderation" in submit(page, "Bot", SPAM)
        assert "VIAGRA" not in page.inner_text("#comments")
        page.screenshot(path=str(OUTPUT / "flask_blog_post.png"), full_page=True)

        # The moderator finds it in the queue and overrules the filter: "Not spam".
        with page.expect_navigation():
            page.click("text=Moderation")
        row = page.locator("tr.queued-comment", has_text="VIAGRA")
        assert row.count() == 1
        page.screenshot(path=str(OUTPUT / "flask_blog_moderation.png"), full_page=True)
        with page.expect_navigation():
            row.locator("button.not-spam").click()
        assert "marked as not spam" in page.inner_text(".flash")
        assert page.locator("tr.queued-comment", has_text="VIAGRA").count() == 0

        page.goto(f"{base}/posts/1")
        assert "VIAGRA" in page.inner_text("#comments")
    finally:
        context.close()
    assert [(r.comment.content, r.label) for r in FeedbackStore(feedback).records()] == [(SPAM, False)]
    assert (OUTPUT / "flask_blog_post.png").stat().st_size > 10_000
