"""End to end in a real headless Chromium: the Starlette blog (served by uvicorn) through the same
flow as the Flask one: form, notice, ``acheck`` on submit, moderation with ``areport_ham``.

The browser and the flow are shared with the other blog examples (``tests/_browser.py``, which
says what to install; the test skips saying so without it). Screenshots go to
``test-output/browser/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser import chromium, comment_flow
from _webapps import clean_env, load_starlette_blog, serve_asgi


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def live_blog(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The Starlette example served by uvicorn on 127.0.0.1 (a free port); its base URL and feedback file."""
    clean_env(monkeypatch)
    feedback = tmp_path / "feedback.sqlite3"
    monkeypatch.setenv("SPAMGUARD_FEEDBACK_DB", str(feedback))
    monkeypatch.setenv("SPAMGUARD_DISCARD_THRESHOLD", "off")  # keep all spam for the moderation queue
    app = load_starlette_blog().create_app(db_path=str(tmp_path / "blog.sqlite3"))
    with serve_asgi(app) as base:
        yield base, feedback


def test_comment_flow_in_a_real_browser(browser: Any, live_blog: tuple[str, Path]) -> None:
    """A German visitor sees the notice under the form; ham is published, spam held, then moderated."""
    base, feedback = live_blog
    comment_flow(browser, base, feedback, "starlette_blog")
