"""Shared pieces of the web-app tests: loading the examples, posting through their forms."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

HAM = "Thanks for the recipe! My loaf came out with a lovely crust. How long do you let the dough proof overnight?"
SPAM = (
    "BUY CHEAP VIAGRA ONLINE!!! Best prices, no prescription, casino bonus, free money, click now "
    "http://cheap-pills.example http://casino-bonus.example http://free-money.example"
)

_ENV_PREFIXES = ("SPAMGUARD_", "PYTHON_AKISMET_", "FLASK_BLOG_", "DJANGO_COMMENTS_", "STARLETTE_BLOG_")


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Akismet key or other spamguard setting leaks in from the machine running the tests."""
    import os

    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)


def load_flask_blog() -> ModuleType:
    """examples/flask_blog/app.py as a module (examples are not a package)."""
    pytest.importorskip("flask", reason="the Flask example needs flask: pip install -e '.[test]'")
    name = "spamguard_example_flask_blog"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "flask_blog" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_starlette_blog() -> ModuleType:
    """examples/starlette_blog/app.py as a module."""
    pytest.importorskip("starlette", reason="the Starlette example needs starlette: pip install -e '.[test]'")
    name = "spamguard_example_starlette_blog"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "starlette_blog" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def csrf_token(html: str) -> str:
    """The CSRF token a rendered form carries."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


@contextlib.contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 (a free port) in a thread, lifespan included; its base URL.

    uvicorn's own X-Forwarded-For handling is off (``proxy_headers=False``), so the peer the app
    sees is the real one and spamguard's ``trusted_proxies`` alone decide, as in production when
    uvicorn runs with ``--no-proxy-headers``.
    """
    uvicorn = pytest.importorskip("uvicorn", reason="the ASGI tests serve with uvicorn: pip install -e '.[test]'")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
