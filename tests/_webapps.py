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


def _load_example(folder: str, needs: str) -> ModuleType:
    """examples/FOLDER/app.py as a module (examples are not a package); skipped without ``needs``."""
    pytest.importorskip(needs, reason=f"the {folder} example needs {needs}: pip install -e '.[test]'")
    name = f"spamguard_example_{folder}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_flask_blog() -> ModuleType:
    """examples/flask_blog/app.py as a module."""
    return _load_example("flask_blog", "flask")


def load_starlette_blog() -> ModuleType:
    """examples/starlette_blog/app.py as a module."""
    return _load_example("starlette_blog", "starlette")


def run_example_and_fetch(folder: str, db_variable: str, tmp_path: Path, path: str) -> tuple[str, str, str]:
    """Start ``python examples/FOLDER/app.py --port PORT`` as its README says (its database and a
    feedback file in ``tmp_path``, no setting from this machine), fetch ``path`` once it answers,
    stop it. Returns (page, problem, the server's stderr); ``problem`` is empty when the page came."""
    import os
    import subprocess
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}
    env[db_variable] = str(tmp_path / "blog.sqlite3")
    env["SPAMGUARD_FEEDBACK_DB"] = str(tmp_path / "feedback.sqlite3")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter running the example
        [sys.executable, str(EXAMPLES / folder / "app.py"), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    page, problem = "", ""
    try:
        deadline = time.monotonic() + 60
        while not page and not problem:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                    page = response.read().decode()
            except urllib.error.HTTPError as exc:  # it runs, but the page failed
                problem = f"HTTP {exc.code}"
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    problem = "it did not start"
                time.sleep(0.2)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    return page, problem, stderr


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
