"""How fast AkismetClient talks to a loopback FakeAkismet: checks per second, 1 and 16 threads.

This measures the client and transport overhead (pooling, form encoding, parsing), not
Akismet's own latency. Run: python benchmarks/bench_akismet.py [N]
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

from spamguard import AkismetClient, Comment
from spamguard.testing import FakeAkismet


def main(n: int = 500) -> None:
    comment = Comment(content="Nice post, thanks!", user_ip="203.0.113.7", author="Ann",
                      context=["tag", "category"], user_agent="Mozilla/5.0")
    with FakeAkismet(valid_keys={"bench-key"}) as server, \
            AkismetClient("bench-key", "https://blog.example/", base_url=server.url) as client:
        client.check(comment)  # warm the pool
        started = time.perf_counter()
        for _ in range(n):
            client.check(comment)
        one = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda _: client.check(comment), range(n)))
        many = time.perf_counter() - started
    print(f"checks: {n} per run")
    print(f"1 thread:   {n / one:8.0f} checks/s  ({1000 * one / n:.2f} ms each)")
    print(f"16 threads: {n / many:8.0f} checks/s  ({1000 * many / n:.2f} ms each, wall clock)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
