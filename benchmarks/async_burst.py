"""200 comments at once on one event loop: Guard.acheck awaiting AsyncAkismetClient, against one after another.

    python benchmarks/async_burst.py [--n 200] [--delay 0.05] [--pool-size 100] [--rounds 3]

1. **The burst.** ``spamguard.testing.FakeAkismet`` runs in a child process (so its threads
   take none of this process's CPU or GIL) and waits ``delay`` seconds before each answer. A
   Guard (remote-first, latency budget 2 s) with an ``AsyncAkismetClient`` checks N comments
   concurrently (``asyncio.gather`` of N ``acheck`` calls) on one event loop: the first burst
   opens the connections (cold), the next ``rounds`` reuse them (warm). Then the same N one
   after another. Prints wall times, the ratio (target: >= 20x, and the burst under 1 s), and
   the client's CPU per call (this process's CPU time over the calls made).
2. **Where a call's CPU goes.** cProfile (CPU time, not waiting) over N sequential ``acheck``
   calls, by package.
3. **The local model: inline or in a thread.** A local-only Guard judges N comments at once
   three ways: ``acheck`` (inline on the event loop, the checks of one loop turn sharing one
   ``check_many`` call), inline one by one (``guard.check`` called in each coroutine), and each
   in a worker thread (``asyncio.to_thread(guard.check, c)``): wall time, and how late a 1 ms
   ticker on the same loop fell (the loop's responsiveness meanwhile). Then one comment at a
   time: ``acheck`` against ``asyncio.to_thread``, p50 and p99.

Prints the machine's load average before and after: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

from spamguard import AsyncAkismetClient, Comment, Guard, LocalModel

KEY = "bench-key"
BLOG = "https://blog.example/"

TEXTS = [
    "Thanks, this fixed my build. The part about caching was new to me.",
    "Cheap meds online!!! http://x.example http://y.example http://z.example",
    "Subscribe to my channel for more videos like this one",
    "Ich finde den Artikel sehr gut geschrieben, danke!",
    "Great recipe, my loaf came out with a lovely crust. How long do you proof it?",
    "buy viagra now, best prices, free shipping",
]

SERVER = """
import sys
from spamguard.testing import FakeAkismet
server = FakeAkismet(valid_keys={%r})
server.delay = float(sys.argv[1])
print(server.url, flush=True)
sys.stdin.read()  # until the parent closes our stdin
server.close()
"""


def comments(n: int) -> list[Comment]:
    return [Comment(content=f"{TEXTS[i % len(TEXTS)]} ({i})", author=f"visitor {i}", user_ip=f"203.0.113.{i % 250 + 1}",
                    user_agent="Mozilla/5.0 (X11; Linux x86_64)") for i in range(n)]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed(make: Callable[[], Awaitable[object]], server_pid: int) -> tuple[float, float, float]:
    """(wall seconds, this process's CPU seconds, the server's CPU seconds) of one awaited thing."""
    wall, cpu, server = time.perf_counter(), time.process_time(), cpu_of(server_pid)
    await make()
    return time.perf_counter() - wall, time.process_time() - cpu, cpu_of(server_pid) - server


async def burst_and_sequence(url: str, server_pid: int, n: int, pool_size: int, rounds: int) -> None:
    batch = comments(n)
    client = AsyncAkismetClient(KEY, BLOG, base_url=url, retries=0, timeout=2.0, pool_size=pool_size)
    async with Guard(local=LocalModel.load(), aremote=client, latency_budget=2.0) as guard:
        await guard.acheck(batch[0])  # imports, the model's first call, one connection

        async def burst() -> None:
            verdicts = await asyncio.gather(*(guard.acheck(c) for c in batch))
            fallbacks = [v.fallback_reason for v in verdicts if v.source != "akismet"]
            assert not fallbacks, f"{len(fallbacks)} of {n} fell back: {sorted(set(map(str, fallbacks)))}"

        async def sequence() -> None:
            for c in batch:
                assert (await guard.acheck(c)).source == "akismet"

        cold_wall, cold_cpu, cold_server = await timed(burst, server_pid)
        warm = [await timed(burst, server_pid) for _ in range(rounds)]
        seq_wall, seq_cpu, seq_server = await timed(sequence, server_pid)
        await client.aclose()

    median_wall = statistics.median(w for w, _, _ in warm)
    warm_cpu = statistics.median(c for _, c, _ in warm)
    warm_server = statistics.median(s for _, _, s in warm)
    print(f"burst of {n} acheck calls, pool {pool_size} connections, server {1000 * DELAY:.0f} ms a call "
          "(CPU a call: this process's, then FakeAkismet's):")
    print(f"  cold (opening the connections): {cold_wall:.3f} s wall; CPU {1000 * cold_cpu / n:.2f} ms "
          f"+ server {1000 * cold_server / n:.2f} ms a call")
    print(f"  warm, {rounds} rounds: {', '.join(f'{w:.3f}' for w, _, _ in warm)} s wall (median {median_wall:.3f}); "
          f"CPU {1000 * warm_cpu / n:.2f} ms + server {1000 * warm_server / n:.2f} ms a call")
    print(f"  {n} one after another: {seq_wall:.3f} s wall ({1000 * seq_wall / n:.1f} ms a call); "
          f"CPU {1000 * seq_cpu / n:.2f} ms + server {1000 * seq_server / n:.2f} ms a call")
    print(f"  ratio: {seq_wall / median_wall:.1f}x warm (median), {seq_wall / cold_wall:.1f}x cold "
          f"(target >= 20x, burst < 1 s)")


PACKAGES = {
    "httpx": "httpx (client, request/response objects)",
    "httpcore": "httpcore (connection pool, HTTP/1.1)",
    "h11": "h11 (HTTP/1.1 parsing)",
    "anyio": "anyio (sockets, locks)",
    "asyncio": "asyncio (event loop, sockets)",
    "selectors": "asyncio (event loop, sockets)",
    "socket": "asyncio (event loop, sockets)",
    "ssl": "asyncio (event loop, sockets)",
    "spamguard": "spamguard (Guard, protocol, policy)",
    "attrs": "spamguard (Guard, protocol, policy)",
    "logging": "logging (level checks)",
    "urllib": "form encoding (urllib.parse)",
    "email": "httpx's answer parsing in the standard library (email, http.cookiejar)",
    "http": "httpx's answer parsing in the standard library (email, http.cookiejar)",
}


async def profile_calls(url: str, n: int) -> None:
    batch = comments(n)
    client = AsyncAkismetClient(KEY, BLOG, base_url=url, retries=0, timeout=2.0)
    guard = Guard(local=LocalModel.load(), aremote=client, latency_budget=2.0)
    for c in batch[:5]:
        await guard.acheck(c)
    profiler = cProfile.Profile(time.process_time)  # CPU time: the waits for the server do not count
    profiler.enable()
    for c in batch:
        await guard.acheck(c)
    profiler.disable()
    await guard.aclose()
    await client.aclose()
    stats = pstats.Stats(profiler)
    own: dict[str, float] = defaultdict(float)  # group -> seconds of own CPU time
    total = 0.0
    for (path, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        parts = path.replace("\\", "/").split("/")
        group = "other"
        for key, label in PACKAGES.items():
            if key in parts or any(p.startswith(key + ".") or p == key + ".py" for p in parts):
                group = label
                break
        if path == "~":
            group = "built-ins (C: socket calls, epoll, str/dict work)"
        own[group] += tottime
        total += tottime
    print(f"profile of {n} sequential acheck calls (own CPU time by package, under cProfile, which slows "
          f"calls down: {1000 * total / n:.2f} ms a call profiled):")
    for group, seconds in sorted(own.items(), key=lambda kv: -kv[1]):
        print(f"  {100 * seconds / total:5.1f}%  {group}")


async def local_inline_or_thread(n: int) -> None:
    batch = comments(n)
    guard = Guard(local=LocalModel.load(), latency_budget=2.0)
    guard.check(batch[0])

    async def one_by_one(c: Comment) -> object:
        return guard.check(c)

    ways: dict[str, Callable[[Comment], Awaitable[object]]] = {
        "acheck (one batch a turn)": guard.acheck,
        "inline, one by one": one_by_one,
        "asyncio.to_thread(check)": lambda c: asyncio.to_thread(guard.check, c),
    }

    async def ticker(stop: asyncio.Event, late: list[float]) -> None:
        while not stop.is_set():
            due = time.perf_counter() + 0.001
            await asyncio.sleep(0.001)
            late.append(max(0.0, time.perf_counter() - due))

    async def run(way: Callable[[Comment], Awaitable[object]]) -> tuple[float, float]:
        stop, late = asyncio.Event(), []
        tick = asyncio.create_task(ticker(stop, late))
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        await asyncio.gather(*(way(c) for c in batch))
        wall = time.perf_counter() - started
        stop.set()
        await tick
        return wall, max(late)

    print(f"local model, {n} comments at once on one event loop (local-only Guard; medians of 5 runs):")
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for _ in range(5):
        for name, way in ways.items():
            results[name].append(await run(way))
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        worst = statistics.median(r[1] for r in runs)
        print(f"  {name:27s} {1000 * wall:7.1f} ms wall ({1000 * wall / n:.3f} ms a comment); "
              f"the loop stalled up to {1000 * worst:.1f} ms")

    single: dict[str, list[float]] = {"acheck": [], "asyncio.to_thread(check)": []}
    for _ in range(3):
        for c in batch:
            for name in single:
                started = time.perf_counter()
                await (guard.acheck(c) if name == "acheck" else asyncio.to_thread(guard.check, c))
                single[name].append(time.perf_counter() - started)
    print(f"  one comment at a time ({3 * n} each, interleaved):")
    for name, times in single.items():
        times.sort()
        p50, p99 = times[len(times) // 2], times[int(0.99 * len(times))]
        print(f"    {name:25s} p50 {1000 * p50:.3f} ms, p99 {1000 * p99:.3f} ms")


DELAY = 0.05


def main() -> None:
    global DELAY
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="comments in a burst (default 200)")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds the server takes a call (default 0.05)")
    parser.add_argument("--pool-size", type=int, default=100, help="the client's connections (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="warm bursts (default 3)")
    args = parser.parse_args()
    DELAY = args.delay
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
          f"load average before: {load()}")
    server = subprocess.Popen([sys.executable, "-c", SERVER % KEY, str(args.delay)],  # noqa: S603
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        asyncio.run(burst_and_sequence(url, server.pid, args.n, args.pool_size, args.rounds))
        asyncio.run(profile_calls(url, args.n))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
    asyncio.run(local_inline_or_thread(args.n))
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
