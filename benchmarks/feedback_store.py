"""Concurrent writes into the feedback store: PostgreSQL next to SQLite, on the same machine, by the same script.

PROCESSES worker processes with THREADS threads each call ``FeedbackStore.record()`` as fast as
they can for DURATION seconds (all starting at the same moment, connections already made), each
process with its own ``FeedbackStore`` on the same store, as the worker processes of a web
server would. Then the
script counts the rows in the store and checks that every write that returned is there (rows
written = rows present; it exits 1 when not). Comments carry an e-mail address, an IP address,
a referrer and headers, so each write pays for its pseudonymisation too.

    python benchmarks/feedback_store.py                          # SQLite, and PostgreSQL if configured
    python benchmarks/feedback_store.py --postgres postgresql://u:pw@127.0.0.1:5432/db --duration 10
    eval "$(.ci/postgres.sh start .pg-ci)" && python benchmarks/feedback_store.py   # a throwaway server

PostgreSQL is the server --postgres names (default: SPAMGUARD_TEST_POSTGRES_URL); the run
uses a fresh schema it drops after. SQLite is a fresh file in a temporary folder. The writers,
the server and the script share the machine, so the figures are for this whole setup, not for
the database alone; the load average before and after is printed beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from spamguard import Comment, FeedbackStore

TEXT = ("great post thanks for the detailed write-up cheap pills online visit now free casino bonus spins "
        "I disagree with the second point could you share the script typo in the third paragraph")
WORDS = TEXT.split(" ")


def comments(worker: int, n: int = 200) -> list[Comment]:
    """``n`` varied comments with the personal data a real one carries."""
    made = []
    for i in range(n):
        text = " ".join(WORDS[(i * 7 + j * 3 + worker) % len(WORDS)] for j in range(12 + i % 20))
        made.append(Comment(
            content=f"{text} ({worker}-{i})", author=f"visitor {i}", author_email=f"visitor{i}@example.org",
            user_ip=f"203.0.{worker % 256}.{i % 256}", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0",
            referrer=f"https://blog.example/posts/{i}?ref=feed", permalink=f"https://blog.example/posts/{i}",
            extra={"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.8", "HTTP_X_FORWARDED_FOR": f"198.51.100.{i % 256}"},
        ))
    return made


def worker(location: str, process: int, threads: int, start_at: float, duration: float, out: Any) -> None:
    """One web-server-like process: its own store, ``threads`` threads writing until the deadline."""
    store = FeedbackStore(location, timeout=60)
    counts = [0] * threads
    errors: list[str] = []

    def write(thread: int) -> None:
        batch = comments(process * 100 + thread)
        i = 0
        len(store)  # warm up: each thread has its connection (PostgreSQL's pool grows to THREADS) before the start
        while time.time() < start_at:
            time.sleep(0.001)
        deadline = start_at + duration
        while time.time() < deadline:
            try:
                store.record(batch[i % len(batch)], i % 3 == 0, source=f"bench-{process}")
            except Exception as exc:  # counted and reported: a lost write is what this measures
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                counts[thread] += 1
            i += 1

    pool = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    store.close()
    out.put({"process": process, "written": sum(counts), "errors": errors[:5], "error_count": len(errors)})


def run(location: str, args: argparse.Namespace) -> dict[str, Any]:
    """Write from PROCESSES x THREADS for DURATION seconds; count; return the figures."""
    store = FeedbackStore(location)  # the store exists before the writers start, as on a running site
    shown = store.location  # the URL with its password masked
    store.close()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0 + 0.5 * args.processes  # time for every process to import and connect
    procs = [ctx.Process(target=worker, args=(location, p, args.threads, start_at, args.duration, out))
             for p in range(args.processes)]
    load_before = os.getloadavg()
    for p in procs:
        p.start()
    results = [out.get(timeout=args.duration + 120) for _ in procs]
    for p in procs:
        p.join(30)
    load_after = os.getloadavg()
    store = FeedbackStore(location)
    present = len(store)
    by_source = {k: v for k, v in store.counts().items() if k.startswith("source:")}
    store.close()
    written = sum(r["written"] for r in results)
    per_process = {f"source:bench-{r['process']}": r["written"] for r in results if r["written"]}
    return {
        "store": shown, "processes": args.processes, "threads": args.threads,
        "duration_s": args.duration, "rows_written": written, "rows_present": present,
        "every_row_present": written == present and per_process == by_source,
        "writes_per_s": round(written / args.duration, 1),
        "errors": sum(r["error_count"] for r in results), "first_errors": [e for r in results for e in r["errors"]][:3],
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after],
    }


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[tuple[str, str]]:
    """A fresh schema on the server; yields (URL using it, server version); drops it after."""
    import psycopg
    from psycopg import sql

    name = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield url + ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={name}", safe=""), version
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="threads per process")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of writing per backend")
    parser.add_argument("--postgres", default=os.environ.get("SPAMGUARD_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server (default: SPAMGUARD_TEST_POSTGRES_URL); a fresh schema is used")
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()

    machine = {"cores": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()}
    results: dict[str, Any] = {"machine": machine}
    if args.backend in ("both", "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            results["sqlite"] = run(str(Path(folder) / "feedback.sqlite3"), args)
    if args.backend in ("both", "postgresql"):
        if not args.postgres:
            print("no PostgreSQL: give --postgres URL or set SPAMGUARD_TEST_POSTGRES_URL "
                  '(eval "$(.ci/postgres.sh start .pg-ci)" starts a throwaway server)', file=sys.stderr)
        else:
            with postgres_schema(args.postgres) as (url, version):
                machine["postgresql"] = version
                results["postgresql"] = run(url, args)

    if args.json:
        print(json.dumps(results))
    else:
        print(f"machine: {machine}")
        for name in ("sqlite", "postgresql"):
            if name in results:
                r = results[name]
                print(f"{name:>10}: {r['writes_per_s']:>9,.1f} writes/s  ({r['processes']} processes x {r['threads']} "
                      f"threads, {r['duration_s']:g} s)  rows written {r['rows_written']:,} = rows present "
                      f"{r['rows_present']:,}: {r['every_row_present']}  errors {r['errors']}  "
                      f"load {r['load_before'][0]:.2f} -> {r['load_after'][0]:.2f}")
                for error in r["first_errors"]:
                    print(f"            {error}")
    ok = all(results[n]["every_row_present"] and not results[n]["errors"] for n in ("sqlite", "postgresql")
             if n in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
