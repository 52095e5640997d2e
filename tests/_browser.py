"""The real-browser tests' shared parts: Debian's headless Chromium through Playwright, and the
comment flow every blog example must pass (notice, honeypot, publish, hold, moderate).

Needs Debian's Chromium and the Playwright package (never ``playwright install``):
``apt-get install -y chromium chromium-driver`` and ``pip install -e '.[test]'``. ``.ci/run``
installs both; elsewhere the tests skip saying so. Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _webapps import HAM, REPO, SPAM

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


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright, or a skip naming the install command."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}: {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"the playwright package is not installed: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def submit(page: Any, author: str, content: str) -> str:
    """Fill in the comment form like a person and send it; the status message shown afterwards."""
    page.fill("#author", author)
    page.fill("#email", f"{author.lower()}@example.org")
    page.fill("#content", content)
    with page.expect_navigation():
        page.click("#comment-form button[type=submit]")
    return str(page.inner_text(".flash"))


def comment_flow(browser: Any, base: str, feedback: Path, name: str) -> None:
    """A German visitor sees the notice under the form; ham is published, spam held, then moderated
    as not spam, which the feedback store records. Screenshots ``{name}_post.png`` and
    ``{name}_moderation.png``."""
    from spamguard import FeedbackStore

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
        page.screenshot(path=str(OUTPUT / f"{name}_post.png"), full_page=True)

        # The moderator finds it in the queue and overrules the filter: "Not spam".
        with page.expect_navigation():
            page.click("text=Moderation")
        row = page.locator("tr.queued-comment", has_text="VIAGRA")
        assert row.count() == 1
        page.screenshot(path=str(OUTPUT / f"{name}_moderation.png"), full_page=True)
        with page.expect_navigation():
            row.locator("button.not-spam").click()
        assert "marked as not spam" in page.inner_text(".flash")
        assert page.locator("tr.queued-comment", has_text="VIAGRA").count() == 0

        page.goto(f"{base}/posts/1")
        assert "VIAGRA" in page.inner_text("#comments")
    finally:
        context.close()
    assert [(r.comment.content, r.label) for r in FeedbackStore(feedback).records()] == [(SPAM, False)]
    assert (OUTPUT / f"{name}_post.png").stat().st_size > 10_000
