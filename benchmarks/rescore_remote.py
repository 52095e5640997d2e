"""Remote re-scoring: 16 calls in flight against 1, on a loopback Akismet-compatible server with latency.

    python benchmarks/rescore_remote.py [N] [DELAY]      # defaults: 320 comments, 0.05 s a call

Starts spamguard.testing.FakeAkismet with ``delay`` seconds per call, writes N comments as
JSONL and runs ``spamguard.batch.rescore(..., backend="akismet")`` with ``workers=1`` and with
``workers=16`` (threads over one pooled session). Prints comments/s for both and the ratio
(target: >= 12x).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from spamguard.batch import rescore
from spamguard.testing import FakeAkismet


def main(n: int = 320, delay: float = 0.05) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeAkismet(valid_keys={"bench-key"}) as server:
        src = os.path.join(tmp, "in.jsonl")
        with open(src, "w") as f:
            for i in range(n):
                text = "cheap viagra here" if i % 4 == 0 else f"thoughtful comment number {i}"
                f.write(json.dumps({"id": i, "comment_content": text, "user_ip": "203.0.113.7"}) + "\n")
        os.environ.update({"SPAMGUARD_AKISMET_KEY": "bench-key", "SPAMGUARD_BLOG_URL": "https://blog.example/",
                           "SPAMGUARD_AKISMET_URL": server.url})
        server.delay = delay
        rates = {}
        for workers in (1, 16):
            started = time.perf_counter()
            summary = rescore(src, os.path.join(tmp, f"out{workers}.jsonl"), backend="akismet", workers=workers,
                              progress=False)
            elapsed = time.perf_counter() - started
            assert summary.records == n, summary
            rates[workers] = n / elapsed
            print(f"{workers:2d} in flight: {rates[workers]:7.1f} comments/s  ({elapsed:.2f} s for {n})")
    print(f"server latency {1000 * delay:.0f} ms; ratio 16/1: {rates[16] / rates[1]:.1f}x (target >= 12x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 320, float(sys.argv[2]) if len(sys.argv) > 2 else 0.05)
