"""Load benchmark of `spamguard serve`: comment-checks per second and latency on loopback.

Starts `spamguard serve` (waitress) as a subprocess on 127.0.0.1 with a fresh keys file,
then runs CLIENTS concurrent clients (threads with a requests.Session each, spread over a
few processes so the clients are not bound by one GIL) doing comment-checks until DURATION
seconds or REQUESTS requests, whichever comes first. Prints checks/s, p50/p90/p99 latency and
the server settings. Bounded in count and time; loopback only.

    python benchmarks/server_load.py                      # 16 clients, 12 s or 20,000 checks
    python benchmarks/server_load.py --server-threads 8 --duration 5
    python benchmarks/server_load.py --log file           # the request log to a file (default: stderr)

Several servers on one PostgreSQL store, as behind a load balancer (the clients take turns:
client n sends to server n mod SERVERS): --store URL makes a fresh schema in that database
(dropped afterwards), starts SERVERS `spamguard serve --store` processes on it, and at the end,
once the servers have stopped (SIGTERM: they write their last counts), reads the key's usage
back from the store and compares it with the checks answered (warm-up included):

    python benchmarks/server_load.py --servers 2 --store "$SPAMGUARD_TEST_POSTGRES_URL"
    python benchmarks/server_load.py --servers 2 --store "$URL" --rate-limit 100000   # leases on the hot path

The clients share the machine with the server (and PostgreSQL, if it runs here too), so the
figures are a floor for the server alone. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import requests

SITE = "https://blog.example"
COMMENTS = [
    ("Ann", "ann@example.com", "Thanks for the write-up, the part about virtual environments fixed my build."),
    ("Bob", "bob@example.net", "Cheap pills online, no prescription needed, visit http://pills.example now!!!"),
    ("Cleo", "cleo@example.org", "I disagree with the second point; pinning versions has saved us many times."),
    ("WIN BIG", "promo@casino.example", "Best casino bonus 500% free spins click http://casino.example/bonus"),
    ("Dmitri", "d@example.com", "Could you share the benchmark script? I'd like to run it on ARM."),
    ("seo", "seo@links.example", "Great post. Check my site for SEO backlinks http://links.example http://x.example"),
    ("Eve", "eve@example.com", "Typo in the third paragraph: 'recieve' should be 'receive'."),
    ("Fay", "fay@example.com", "Is there a way to do this with pyproject.toml only, without setup.cfg?"),
]


def start_server(args: argparse.Namespace, store: str, folder: Path, n: int = 0) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable, "-m", "spamguard", "serve", "--host", "127.0.0.1", "--port", "0",
        "--store", store, "--threads", str(args.server_threads), "--rate-limit", str(args.rate_limit),
    ]
    if args.log == "file":
        cmd += ["--access-log", str(folder / f"requests{n}.log")]
    elif args.log == "none":
        cmd += ["--quiet"]
    if args.model:
        cmd += ["--model", args.model]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise SystemExit(f"spamguard serve exited with status {proc.returncode}")
        match = re.search(r"serving the Akismet API on (http://\S+)", line)
        if match:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining its stderr
            return proc, match.group(1)
    proc.kill()
    raise SystemExit("spamguard serve did not start within 60 s")


class _RawClient:
    """A keep-alive http.client connection: a lighter client than requests, so more CPU is left to the server."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def post(self, url: str, data: dict[str, str], timeout: float) -> tuple[int, str]:
        body = urlencode(data)
        self.conn.request("POST", urlsplit(url).path, body=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = self.conn.getresponse()
        return response.status, response.read().decode("utf-8")


class _RequestsClient:
    def __init__(self, url: str) -> None:
        self.session = requests.Session()

    def post(self, url: str, data: dict[str, str], timeout: float) -> tuple[int, str]:
        response = self.session.post(url, data=data, timeout=timeout)
        return response.status_code, response.text


def client_process(
    urls: list[str], key: str, threads: int, deadline: float, quota: int, offset: int, kind: str = "requests"
) -> tuple[list[float], int]:
    """Run `threads` clients until the deadline or `quota` requests; return latencies in seconds and how many
    requests failed. Client n of the whole run (offset + n) sends to server n mod len(urls)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = [0]

    def worker(n: int) -> None:
        url = urls[(offset // 1000 * threads + n) % len(urls)]
        session = _RawClient(url) if kind == "http.client" else _RequestsClient(url)
        i = offset + n
        mine: list[float] = []
        while time.monotonic() < deadline:
            with lock:
                if counter[0] >= quota:
                    break
                counter[0] += 1
            author, email, text = COMMENTS[i % len(COMMENTS)]
            i += 1
            form = {"api_key": key, "blog": SITE, "user_ip": f"203.0.113.{i % 250}", "user_agent": "Mozilla/5.0",
                    "comment_author": author, "comment_author_email": email, "comment_content": f"{text} #{i}",
                    "comment_type": "comment", "permalink": f"{SITE}/post/{i % 40}"}
            started = time.perf_counter()
            status, text = session.post(url + "/1.1/comment-check", data=form, timeout=10)
            elapsed = time.perf_counter() - started
            if status != 200 or text not in ("true", "false"):
                errors.append(f"{status} {text[:80]!r}")
                continue
            mine.append(elapsed)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        print(f"  {len(errors)} failed requests, e.g. {errors[0]}", file=sys.stderr)
    return latencies, len(errors)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of sorted values, nearest rank."""
    index = min(len(values) - 1, max(0, round(q / 100 * len(values)) - 1))
    return values[index]


@contextlib.contextmanager
def fresh_store(url: str | None, folder: Path) -> Iterator[str]:
    """A keys file in ``folder`` (no URL), or a fresh schema in the PostgreSQL database ``url`` names,
    dropped afterwards."""
    if url is None:
        yield str(folder / "keys.json")
        return
    import psycopg
    from psycopg import sql

    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield url + ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}", safe="")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: %(default)s)")
    parser.add_argument("--client-processes", type=int, default=4, help="processes the clients run in")
    parser.add_argument("--server-threads", type=int, default=8, help="waitress threads (default: %(default)s)")
    parser.add_argument("--servers", type=int, default=1,
                        help="spamguard serve processes; more than one needs --store (default: %(default)s)")
    parser.add_argument("--store", metavar="URL",
                        help="a PostgreSQL database (postgresql://...) for the servers' shared store: a fresh "
                        "schema in it, dropped afterwards (default: a keys file)")
    parser.add_argument("--rate-limit", type=float, default=0, metavar="N",
                        help="the servers' --rate-limit; 0 turns it off (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds of load at most (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=20_000, help="checks at most (default: %(default)s)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--model", help="model to serve (default: the shipped one)")
    parser.add_argument("--client", choices=["requests", "http.client"], default="requests",
                        help="HTTP client the load comes from; http.client is lighter (default: %(default)s)")
    parser.add_argument("--log", choices=["stderr", "file", "none"], default="stderr",
                        help="where the server's request log goes: stderr (its default, read here through a pipe), "
                        "a file (--access-log), or nowhere (--quiet) (default: %(default)s)")
    args = parser.parse_args()
    if args.servers > 1 and not args.store:
        parser.error("--servers 2 or more need a store they share: --store postgresql://...")
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory() as tmp, fresh_store(args.store, Path(tmp)) as store:
        key = subprocess.run(
            [sys.executable, "-m", "spamguard", "keys", "add", "--store", store, "--site", SITE],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        servers = [start_server(args, store, Path(tmp), n) for n in range(args.servers)]
        procs, urls = [p for p, _ in servers], [u for _, u in servers]
        answered = failed = 0
        try:
            procs_n = max(1, min(args.client_processes, args.clients))
            per_proc = [args.clients // procs_n + (1 if i < args.clients % procs_n else 0) for i in range(procs_n)]
            with multiprocessing.get_context("spawn").Pool(procs_n) as pool:
                if args.warmup > 0:
                    end = time.monotonic() + args.warmup
                    warm = [(urls, key, n, end, 10**9, 1000 * i, args.client) for i, n in enumerate(per_proc)]
                    for lat, errors in pool.starmap(client_process, warm):
                        answered += len(lat)
                        failed += errors
                cpu_before = [cpu_seconds(p.pid) for p in procs]
                started = time.monotonic()
                deadline = started + args.duration
                quotas = [args.requests * n // args.clients for n in per_proc]
                results = pool.starmap(
                    client_process,
                    [(urls, key, n, deadline, quotas[i], 1000 * i, args.client) for i, n in enumerate(per_proc)],
                )
                wall = time.monotonic() - started
                cpu_after = [cpu_seconds(p.pid) for p in procs]
            metrics = [requests.get(u + "/metrics", timeout=10).text for u in urls]
        finally:
            stop(procs)
        for lat, errors in results:
            answered += len(lat)
            failed += errors
        stored = stored_usage(store)
        where = "a keys file" if not args.store else f"{postgres_version(store)}, a fresh schema"

    latencies = sorted(x for r, _ in results for x in r)
    if not latencies:
        print("no successful checks", file=sys.stderr)
        return 1
    spam = sum(int(n) for text in metrics
               for n in re.findall(r'spamguard_verdicts_total\{verdict="(?:spam|discard)"\} (\d+)', text))
    print("spamguard serve load benchmark (loopback)")
    model = args.model or "shipped default"
    rate = "off" if not args.rate_limit else f"{args.rate_limit:g}/s a key"
    print(f"  servers: {args.servers} x waitress, {args.server_threads} threads, store: {where}, rate limit: {rate}, "
          f"request log: {args.log}, model: {model}")
    client = "requests.Session" if args.client == "requests" else "http.client keep-alive"
    print(f"  clients: {args.clients} concurrent ({client}, {procs_n} processes; client n to server n mod "
          f"{args.servers}), bounds: {args.duration:g} s or {args.requests:,} checks, after {args.warmup:g} s warm-up")
    print(f"  machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    load_after = os.getloadavg()
    print(f"  load average (1, 5, 15 min): before {' '.join(f'{x:.2f}' for x in load_before)}, "
          f"after {' '.join(f'{x:.2f}' for x in load_after)}")
    print(f"  checks: {len(latencies):,} in {wall:.2f} s; spam answers, discard included (incl. warm-up): {spam:,}")
    print(f"  throughput: {len(latencies) / wall:,.0f} checks/s")
    print(f"  latency: p50 {1000 * percentile(latencies, 50):.1f} ms, p90 {1000 * percentile(latencies, 90):.1f} ms, "
          f"p99 {1000 * percentile(latencies, 99):.1f} ms, max {1000 * latencies[-1]:.1f} ms")
    if None not in cpu_before and None not in cpu_after:
        cpu = sum(a - b for a, b in zip(cpu_after, cpu_before, strict=True))  # type: ignore[operator]
        print(f"  server CPU: {1000 * cpu / len(latencies):.2f} ms per check, {100 * cpu / wall:.0f}% of one core "
              f"({args.servers} server{'s' if args.servers > 1 else ''})")
    verdict = "exact" if stored == answered else f"OFF BY {stored - answered:+,}"
    print(f"  usage: {answered:,} checks answered (warm-up included; {failed:,} failed), {stored:,} counted in "
          f"the store after the servers stopped: {verdict}")
    print("  targets: >= 800 checks/s with p99 <= 25 ms on 2 cores")
    return 0 if stored == answered else 1


def stored_usage(store: str) -> int:
    """The month's API calls of the one key in the store, as the servers wrote them."""
    from spamguard.server import KeyStore

    keys = KeyStore(store)
    try:
        (entry,) = keys.entries()
        usage = keys.open_usage()
        try:
            return usage.month_calls(entry.id)
        finally:
            usage.close()
    finally:
        keys.close()


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return "PostgreSQL " + str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]


if __name__ == "__main__":
    sys.exit(main())
