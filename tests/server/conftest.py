"""Fixtures for the self-hosted service: a keys file, a test classifier, the app under real waitress."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import requests
from _postgres import fresh_schema

from spamguard import BackendUnavailableError, Comment, Verdict
from spamguard.server import KeyStore, make_app

waitress = pytest.importorskip("waitress", reason="the server tests need waitress (pip install -e '.[test]')")
from waitress.server import create_server  # noqa: E402

SITE = "https://blog.example"


class KeywordClassifier:
    """A classifier whose answers a test can predict: 'casino' is blatant spam, 'pills' is spam."""

    def __init__(self) -> None:
        self.checked: list[Comment] = []

    def check(self, comment: Comment) -> Verdict:
        self.checked.append(comment)
        text = comment.content.lower()
        if "casino" in text:
            return Verdict(spam=True, score=0.999, source="local")
        if "pills" in text:
            return Verdict(spam=True, score=0.8, source="local")
        if "explode" in text:
            raise RuntimeError("the model blew up")
        if "unavailable" in text:
            raise BackendUnavailableError("the model is reloading")
        return Verdict(spam=False, score=0.05, source="local")

    def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        return [self.check(c) for c in comments]

    def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        raise AssertionError("the server records reports in its feedback store, not in the model")

    def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        raise AssertionError("the server records reports in its feedback store, not in the model")


class RunningServer:
    """The app served by waitress on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any, threads: int = 4, **options: Any) -> None:
        self.app = app
        self._server = create_server(app, host="127.0.0.1", port=0, threads=threads, **options)
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()

    def post(self, path: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, data=data, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def stop(self) -> None:
        from waitress import wasyncore

        # close everything from inside the server's own loop, which then ends at once
        with contextlib.suppress(OSError):  # the loop already closed its trigger
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
        self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown()
        self.app.close()


@pytest.fixture
def keys_file(tmp_path):
    return tmp_path / "keys.json"


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    """Where the server keeps keys, usage and limits: "file" unless a test runs on both (``@both_stores``)."""
    return str(getattr(request, "param", "file"))


@pytest.fixture
def store_location(store_kind: str, keys_file) -> Iterator[str]:
    """The key store of the test: the keys file's path, or the URL of a fresh PostgreSQL schema (dropped after)."""
    if store_kind == "file":
        yield str(keys_file)
        return
    with fresh_schema() as url:
        yield url


@pytest.fixture
def key_store(store_location) -> Iterator[KeyStore]:
    store = KeyStore(store_location)
    yield store
    store.close()


@pytest.fixture
def api_key(key_store) -> str:
    key, _ = key_store.add([SITE], limit=1000)
    return key


@pytest.fixture
def classifier() -> KeywordClassifier:
    return KeywordClassifier()


@pytest.fixture
def serve(classifier, key_store) -> Iterator[Any]:
    """A function that starts the app (keyword arguments go to make_app) and stops it afterwards."""
    started: list[RunningServer] = []

    def start(*, waitress_options: dict[str, Any] | None = None, **kwargs: Any) -> RunningServer:
        kwargs.setdefault("classifier", classifier)
        if not kwargs.get("allow_any_key"):
            kwargs.setdefault("keys", key_store)
        server = RunningServer(make_app(**kwargs), **(waitress_options or {}))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(serve, api_key) -> RunningServer:
    return serve()
