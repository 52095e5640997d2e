"""What the Guard costs on top of the backends it wraps.

1. Remote down, circuit open: p50/p99 of ``Guard.check`` against ``LocalModel.check`` on the
   same comments (target: p99 within 1 ms of the local model's own).
2. Remote healthy (FakeAkismet on 127.0.0.1, no delay): ``Guard.check`` against
   ``AkismetClient.check`` on the same comments, interleaved call by call so machine noise hits
   both alike (target: the Guard adds <= 0.2 ms). Measured with the default latency budget
   (the remote call runs on the Guard's thread pool) and with ``latency_budget=None`` (the
   remote call runs in the caller's thread).

Run: ``python benchmarks/guard_overhead.py [--iterations N]``. Prints the figures.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
from collections.abc import Callable

from spamguard import AkismetClient, Comment, Guard, LocalModel
from spamguard.testing import FakeAkismet

KEY = "bench-key"
BLOG = "https://blog.example/"

COMMENTS = [
    Comment(content="Thanks, this fixed my build. The part about caching was new to me.", author="Ann",
            user_ip="203.0.113.5", user_agent="Mozilla/5.0"),
    Comment(content="Cheap meds online!!! http://x.example http://y.example http://z.example", author="pills",
            user_ip="198.51.100.77"),
    Comment(content="Subscribe to my channel for more videos like this one", author="Vid Guy",
            user_ip="192.0.2.44"),
    Comment(content="Ich finde den Artikel sehr gut geschrieben, danke!", author="Jörg", user_ip="203.0.113.99"),
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def interleaved(a: Callable[[Comment], object], b: Callable[[Comment], object], n: int) -> tuple[list[float],
                                                                                                list[float]]:
    """Time ``a`` and ``b`` alternately on the same comments; seconds per call."""
    ta: list[float] = []
    tb: list[float] = []
    clock = time.perf_counter
    for i in range(n):
        c = COMMENTS[i % len(COMMENTS)]
        first, second, t_first, t_second = (a, b, ta, tb) if i % 2 == 0 else (b, a, tb, ta)
        s = clock()
        first(c)
        t_first.append(clock() - s)
        s = clock()
        second(c)
        t_second.append(clock() - s)
    return ta, tb


def report(name_a: str, ta: list[float], name_b: str, tb: list[float]) -> None:
    ms = 1000.0
    for name, t in ((name_a, ta), (name_b, tb)):
        print(f"  {name:<34} p50 {statistics.median(t) * ms:7.3f} ms   p99 {pct(t, 0.99) * ms:7.3f} ms")
    print(f"  {'difference':<34} p50 {(statistics.median(ta) - statistics.median(tb)) * ms:+7.3f} ms   "
          f"p99 {(pct(ta, 0.99) - pct(tb, 0.99)) * ms:+7.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=4000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the outage below is on purpose
    local = LocalModel.load()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}")
    with FakeAkismet(valid_keys={KEY}) as server:
        client = AkismetClient(KEY, BLOG, base_url=server.url, timeout=2.0, retries=0)
        for c in COMMENTS * 50:  # warm up: connections, caches
            client.check(c)
            local.check(c)

        print(f"\n1. remote down, circuit open ({args.iterations} calls each)")
        server.mode = "down"
        down = Guard(client, local, failure_threshold=3, cooldown=3600)
        while down.breaker.state != "open":
            down.check(COMMENTS[0])
        tg, tl = interleaved(down.check, local.check, args.iterations)
        report("Guard.check (circuit open)", tg, "LocalModel.check", tl)
        print(f"  target: Guard p99 within 1 ms of the local model's -> "
              f"{'met' if pct(tg, 0.99) - pct(tl, 0.99) <= 0.001 else 'NOT met'}")
        down.close()

        server.mode = "ok"
        n = max(200, args.iterations // 2)
        for budget in (2.0, None):
            print(f"\n2. remote healthy, latency_budget={budget} ({n} calls each)")
            guard = Guard(client, local, latency_budget=budget)
            for c in COMMENTS * 25:
                guard.check(c)
            tg, tc = interleaved(guard.check, client.check, n)
            report("Guard.check", tg, "AkismetClient.check", tc)
            added = statistics.median(tg) - statistics.median(tc)
            print(f"  target: the Guard adds <= 0.2 ms (median) -> {'met' if added <= 0.0002 else 'NOT met'}")
            guard.close()
        client.close()


if __name__ == "__main__":
    main()
