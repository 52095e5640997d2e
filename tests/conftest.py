"""Fixtures shared by the test folders: the feedback store on each of its backends."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _postgres import fresh_schema

FEEDBACK_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=FEEDBACK_BACKENDS)
def feedback_backend(request: pytest.FixtureRequest) -> str:
    """Each feedback store backend in turn (the PostgreSQL runs skip without a test server)."""
    return str(request.param)


@pytest.fixture
def feedback_at(feedback_backend: str, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Fresh places for feedback stores on the test's backend: ``feedback_at()`` or ``feedback_at("other")`` is
    an SQLite file's path, or the URL of a new PostgreSQL schema (dropped after the test); a name gives the same
    place."""
    made: dict[str, str] = {}
    with contextlib.ExitStack() as stack:

        def location(name: str = "fb") -> str:
            if name not in made:
                made[name] = (str(tmp_path / f"{name}.sqlite3") if feedback_backend == "sqlite"
                              else stack.enter_context(fresh_schema()))
            return made[name]

        yield location
