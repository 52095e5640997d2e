"""The server's stores of keys, usage and limits, on a keys file and on PostgreSQL.

Two ``KeyStore`` objects on one location stand for two server processes (each has its own
connections and its own memory); the real two-process test is in ``test_serve_shared_store.py``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from _postgres import connect, fresh_schema, server_url
from _server_stores import both_stores

from spamguard import KeyStoreError
from spamguard.server import KeyStore, UsageStore, current_month

SITE = "https://blog.example"


@pytest.fixture
def two(store_location: str) -> Iterator[tuple[KeyStore, KeyStore]]:
    """Two key stores on the test's location: two servers, as far as their memory and connections go."""
    first, second = KeyStore(store_location), KeyStore(store_location)
    yield first, second
    first.close()
    second.close()


def _hammer(threads: int, seconds: float, call) -> int:
    """Call ``call()`` from ``threads`` threads for ``seconds``; how many calls returned 0.0 (allowed)."""
    allowed = [0] * threads
    deadline = time.monotonic() + seconds

    def run(n: int) -> None:
        while time.monotonic() < deadline:
            if call(n) == 0.0:
                allowed[n] += 1

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(allowed)


# --- usage ------------------------------------------------------------------------------------------------


@both_stores
def test_usage_from_two_servers_and_many_threads_adds_up_exactly(two):
    """Counts written once a second and at close by two servers (8 threads) are all there: none lost, none twice."""
    usages = [store.open_usage() for store in two]

    def count(n: int) -> None:
        for i in range(500):
            usages[n % 2].count("k_1", f"https://site{i % 3}.example", api_calls=1, spam=i % 2, ham=1 - i % 2)

    pool = [threading.Thread(target=count, args=(n,)) for n in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    for usage in usages:
        usage.close()
    reader = two[0].open_usage()
    rows, total = reader.sites("k_1", current_month())
    assert total == 3
    assert sum(int(r["api_calls"]) for r in rows) == 4000 == reader.month_calls("k_1")
    assert sum(int(r["spam"]) for r in rows) == sum(int(r["ham"]) for r in rows) == 2000
    reader.close()


@both_stores
def test_a_server_that_goes_quiet_still_writes_what_it_counted_within_a_second(two):
    """Usage is written by a thread once a second, not by the next request: another server sees it."""
    writer, reader = two[0].open_usage(), two[1].open_usage()
    writer.count("k_1", SITE, api_calls=3)
    deadline = time.monotonic() + 5
    while reader.month_calls("k_1") != 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reader.month_calls("k_1") == 3
    writer.close()
    reader.close()


# --- keys -------------------------------------------------------------------------------------------------


@both_stores
def test_a_key_added_or_revoked_by_one_server_is_seen_by_the_other_within_a_second(two):
    """Keys change in one place; every server on the store picks the change up within about a second."""
    first, second = two
    second.entries()
    key, entry = first.add([SITE])
    assert _within(2.0, lambda: second.authenticate(key) == entry)
    first.revoke(entry.id)
    assert _within(2.0, lambda: second.cached(key).revoked)


def _within(seconds: float, condition) -> bool:
    """True once ``condition()`` is, polling for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# --- rate limits ------------------------------------------------------------------------------------------


@both_stores
def test_rate_limits_are_shared_by_the_servers_of_a_database_and_per_process_for_a_file(two, store_kind):
    """Two servers hammering one key: on PostgreSQL they admit at most burst + rate x time between them (the
    bucket is shared); with a keys file each admits its own burst (the limit is counted in each process)."""
    limiters = [store.rate_limiter(5, burst=10) for store in two]
    started = time.monotonic()
    allowed = _hammer(4, 0.5, lambda n: limiters[n % 2].acquire("k_1"))
    elapsed = time.monotonic() - started
    if store_kind == "postgresql":
        assert 10 <= allowed <= 10 + 5 * elapsed + 1
    else:
        assert 20 <= allowed <= 2 * (10 + 5 * elapsed + 1)
    assert limiters[0].acquire("k_2") == 0.0  # another key has a bucket of its own


def test_a_shared_rate_limit_asks_the_database_once_a_lease_not_once_a_request() -> None:
    """The hot path spends leased tokens from memory: at 1,000 a second a lease is 100 tokens, so 1,000
    requests cost about 10 round trips, not 1,000."""
    with fresh_schema() as url:
        store = KeyStore(url)
        limiter = store.rate_limiter(1000, burst=2000)
        assert limiter.lease == 100
        assert [limiter.acquire("k_1") for _ in range(1000)] == [0.0] * 1000
        assert limiter.leases_taken == 10
        store.close()


def test_one_thread_at_a_time_takes_a_servers_lease() -> None:
    """Eight threads running out of tokens together wait for one lease instead of each taking one (which would
    strand tokens in a server): 2,000 requests in leases of 100 take about 20 round trips."""
    with fresh_schema() as url:
        store = KeyStore(url)
        limiter = store.rate_limiter(1000, burst=2000)
        answers: list[float] = []

        def run() -> None:
            mine = [limiter.acquire("k_1") for _ in range(250)]
            answers.extend(mine)

        pool = [threading.Thread(target=run) for _ in range(8)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert answers == [0.0] * 2000
        assert 20 <= limiter.leases_taken <= 22  # 22: a lease may be a second old and given back under load
        store.close()


def test_a_key_refused_by_the_shared_limit_is_refused_from_memory_until_a_token_is_due() -> None:
    """Once the bucket is empty, the wait comes from memory (no round trip) and is what the rate says."""
    with fresh_schema() as url:
        store = KeyStore(url)
        limiter = store.rate_limiter(0.5, burst=2)  # a token every 2 s
        assert [limiter.acquire("k_1") for _ in range(2)] == [0.0, 0.0]
        wait = limiter.acquire("k_1")
        assert 1.9 <= wait <= 2.0
        taken = limiter.leases_taken
        assert 1.8 <= limiter.acquire("k_1") <= wait
        assert limiter.leases_taken == taken
        store.close()


# --- failed key attempts ------------------------------------------------------------------------------------


@both_stores
def test_failed_key_attempts_are_counted_across_servers_on_a_database(two, store_kind):
    """Three failures spread over two servers use up an allowance of three on PostgreSQL (each server then
    refuses the address); with a keys file each server counts its own."""
    first, second = (store.key_failures(3) for store in two)
    assert [first.failed("198.51.100.7"), second.failed("198.51.100.7"), first.failed("198.51.100.7")] == \
        [False, False, store_kind == "postgresql"]
    waits = (first.wait("198.51.100.7"), second.wait("198.51.100.7"))
    if store_kind == "postgresql":
        assert all(55 <= w <= 60 for w in waits)
    else:
        assert waits[1] == 0.0 and first.failed("198.51.100.7") is True
    assert first.wait("198.51.100.8") == second.wait("198.51.100.8") == 0.0


def test_client_addresses_are_kept_only_as_keyed_hashes() -> None:
    """The failed-attempts table holds no address, only an HMAC of it with the store's secret."""
    with fresh_schema() as url:
        store = KeyStore(url)
        store.key_failures(3).failed("198.51.100.7")
        with connect(url) as conn:
            (stored,), = conn.execute("SELECT address FROM spamguard_server_key_failures").fetchall()
        assert len(stored) == 64 and "198.51.100.7" not in stored
        store.close()


# --- the store itself ---------------------------------------------------------------------------------------


def test_the_store_keeps_only_hashes_of_keys_and_its_password_stays_hidden() -> None:
    """Nothing of a key is stored but its scrypt hash; the URL's password is *** in reprs."""
    from _postgres import all_text

    with fresh_schema() as url:
        store = KeyStore(url)
        key, _ = store.add([SITE])
        assert key not in all_text(url)
        password = url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert password not in repr(store) and password not in store.location and ":***@" in repr(store)
        store.close()


def test_tables_named_like_the_store_that_are_not_one_are_refused_and_left_alone() -> None:
    """Another application's table called spamguard_server_keys is not taken over."""
    with fresh_schema() as url:
        with connect(url) as conn:
            conn.execute("CREATE TABLE spamguard_server_keys (name TEXT)")
            conn.execute("INSERT INTO spamguard_server_keys VALUES ('theirs')")
        with pytest.raises(KeyStoreError, match="has tables named like a server store's "
                                                r"\(spamguard_server_keys\) that are not one"):
            KeyStore(url)
        with connect(url) as conn:
            assert conn.execute("SELECT name FROM spamguard_server_keys").fetchall() == [("theirs",)]


def test_a_store_of_a_newer_version_is_refused() -> None:
    """A store written by a later spamguard is not used by this one: it says to upgrade."""
    with fresh_schema() as url:
        KeyStore(url).close()
        with connect(url) as conn:
            conn.execute("UPDATE spamguard_server_settings SET value = '99' WHERE key = 'schema_version'")
        with pytest.raises(KeyStoreError, match="server store of version 99, newer than this spamguard understands "
                                                r"\(1\); upgrade spamguard"):
            KeyStore(url)


def test_two_servers_opening_a_new_store_at_once_both_get_it() -> None:
    """The tables are made under a lock in one transaction: servers starting together do not trip over it."""
    with fresh_schema() as url:
        stores: list[KeyStore] = []
        errors: list[BaseException] = []

        def open_store() -> None:
            try:
                stores.append(KeyStore(url))
            except BaseException as exc:  # pragma: no cover - the failure this test looks for
                errors.append(exc)

        pool = [threading.Thread(target=open_store) for _ in range(4)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert errors == [] and len(stores) == 4
        key, entry = stores[0].add([SITE])
        assert all(_within(2.0, lambda s=s: s.authenticate(key) == entry) for s in stores)
        for s in stores:
            s.close()


def test_a_usage_store_opens_on_the_url_alone() -> None:
    """UsageStore("postgresql://...") reads what a key store's servers counted."""
    with fresh_schema() as url:
        store = KeyStore(url)
        usage = store.open_usage()
        usage.count("k_1", SITE, api_calls=2)
        usage.close()
        store.close()
        alone = UsageStore(url)
        assert alone.month_calls("k_1") == 2
        assert "***" in repr(alone)
        alone.close()


def test_while_the_database_fails_the_server_keeps_its_keys_counts_and_limits(caplog) -> None:
    """The store's tables vanish under a running server (a restore, an operator's mistake): keys already
    verified still work, rate limits and failed attempts are counted in the process, usage counts wait in
    memory; each problem is logged once; when the tables are back, the counts waiting are written."""
    base = server_url()
    with fresh_schema() as url:
        schema = url.rsplit("%3D", 1)[1]
        store = KeyStore(url)
        key, entry = store.add([SITE])
        assert store.authenticate(key) == entry
        usage = store.open_usage()
        limiter = store.rate_limiter(1, burst=2)
        failures = store.key_failures(2)
        with connect(base) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{schema}"')
        time.sleep(1.1)
        assert store.cached(key) == entry  # after a failed reload: the keys it had
        assert [limiter.acquire("k_1") for _ in range(3)][:2] == [0.0, 0.0]
        assert limiter.acquire("k_1") > 0
        assert [failures.failed("198.51.100.7"), failures.failed("198.51.100.7")] == [False, True]
        assert failures.wait("198.51.100.7") > 0
        usage.count(entry.id, SITE, api_calls=5)
        with pytest.raises(KeyStoreError, match="the server store .* failed: .*does not exist"):
            usage.flush()
        usage._flush_in_background()  # what the thread does each second: logs once, keeps the counts
        usage._flush_in_background()
        messages = [r.getMessage() for r in caplog.records]
        assert sum("cannot write usage counts" in m for m in messages) == 1
        assert sum("rate limits" in m for m in messages) == 1
        assert sum("failed key attempts" in m for m in messages) == 1
        assert not any(url.split("@")[0].split(":")[-1] in m for m in messages)  # no password in the log
        KeyStore(url).close()  # the tables again (empty)
        usage.flush()
        assert usage.month_calls(entry.id) == 5
        usage.close()
        store.close()


def test_without_psycopg_a_postgresql_store_says_what_to_install() -> None:
    """With psycopg missing, a postgresql:// key store is a KeyStoreError naming the extra (in a real process
    where psycopg cannot be imported)."""
    script = (
        "import sys\n"
        "sys.modules['psycopg'] = None  # as if it were not installed\n"
        "from spamguard.server import KeyStore\n"
        "from spamguard import KeyStoreError\n"
        "try:\n"
        "    KeyStore('postgresql://blog:hunter2@127.0.0.1:1/blog')\n"
        "except KeyStoreError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.startswith("a PostgreSQL store (postgresql://blog:***@127.0.0.1:1/blog) needs psycopg 3 "
                                  "and its pool")
    assert "pip install 'spamguard[postgres]'" in done.stdout and "hunter2" not in done.stdout
