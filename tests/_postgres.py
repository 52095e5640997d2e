"""A PostgreSQL for the tests: a fresh schema per test on the server SPAMGUARD_TEST_POSTGRES_URL names.

The server is a real one: CI starts a throwaway cluster with ``.ci/postgres.sh`` (an ``initdb``
data folder under the build directory, a loopback port) and exports the variable; locally the
same script does (see CONTRIBUTING.md). Without the variable the PostgreSQL tests skip, saying so.
Each test gets a schema of its own (``CREATE SCHEMA t_<random>``, dropped after) and a URL whose
``search_path`` is that schema, so the store's tables land there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

URL_VARIABLE = "SPAMGUARD_TEST_POSTGRES_URL"
HOW_TO_RUN = (
    f"PostgreSQL tests need {URL_VARIABLE}; start a throwaway server with "
    '`eval "$(.ci/postgres.sh start .pg-ci)"` (see CONTRIBUTING.md)'
)


def server_url() -> str:
    """The test server's URL; skips the test (naming the script) when none is configured."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        pytest.skip(HOW_TO_RUN)
    pytest.importorskip("psycopg", reason="the PostgreSQL tests need psycopg: pip install -e '.[test]'")
    return url


def with_search_path(url: str, schema: str) -> str:
    """``url`` with libpq's ``options`` set so that the connection's current schema is ``schema``."""
    return url + ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}", safe="")


def connect(url: str, **kwargs: Any) -> Any:
    """A psycopg connection (autocommit unless told) to ``url``."""
    import psycopg

    kwargs.setdefault("autocommit", True)
    return psycopg.connect(url, **kwargs)


@contextlib.contextmanager
def fresh_schema() -> Iterator[str]:
    """A new, empty schema on the test server; yields a URL that uses it, drops it after."""
    from psycopg import sql

    base = server_url()
    name = f"t_{secrets.token_hex(6)}"
    with connect(base) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield with_search_path(base, name)
    finally:
        with connect(base) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def all_text(url: str) -> str:
    """Every value of every text column of every table in the URL's schema, one a line: what SQL can read back."""
    from psycopg import sql

    with connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') ORDER BY 1, 2"
        ).fetchall()
        assert columns, "no text columns: is the store in this schema?"
        values: list[str] = []
        for table, column in columns:
            query = sql.SQL("SELECT {}::text FROM {} WHERE {} IS NOT NULL").format(
                sql.Identifier(column), sql.Identifier(table), sql.Identifier(column))
            values += [value for (value,) in conn.execute(query)]
    return "\n".join(values)


def vacuum_count(url: str, table: str = "spamguard_feedback") -> int:
    """How many times ``table`` was vacuumed by hand (``VACUUM``, not autovacuum), per the server's statistics."""
    with connect(url) as conn:
        return int(conn.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = %s::regclass",
                                (table,)).fetchone()[0])
