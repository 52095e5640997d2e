"""Re-scoring throughput with the local model, JSONL in to JSONL out, against a plain json pass.

    python benchmarks/rescore_speed.py [N] [--workers W] [--input FILE]

Writes N synthetic comments (benchmarks/make_dump.py; default 200,000), then times

* the plain pass: read every line with ``json.loads`` and write a small JSON result line per
  record with ``json.dumps``, in one process: the ceiling of any JSONL-to-JSONL tool here;
* ``spamguard.batch.rescore(IN, OUT)`` end to end with the default model: worker start-up,
  model loading, parsing, scoring, writing and the checkpoints included.

Prints records/s for both and the ratio (target: >= 40,000 comments/s on 2 cores). On a busy
machine wall-clock rates mislead, so it also prints the CPU seconds the run used (this process
and its worker processes) and what that gives on idle cores: records / (CPU seconds / cores).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from make_dump import write_jsonl  # noqa: E402

from spamguard.batch import rescore  # noqa: E402

try:
    import psutil
except ImportError:  # pragma: no cover - psutil comes with the test extra (via distributed)
    psutil = None


def cpu_seconds(children: bool = True) -> float:
    """CPU time used so far by this process and (``children``) its live worker processes."""
    if psutil is None:
        return float("nan")
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True) if children else ():
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:2])
    return total


def plain_pass(src: str, dst: str) -> int:
    n = 0
    loads, dumps = json.loads, json.dumps
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            record = loads(line)
            n += 1
            out.write(dumps({"position": n, "id": record.get("id"), "spam": False, "score": 0.5,
                             "action": "approve", "source": "plain", "reasons": []}) + "\n")
    return n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, nargs="?", default=200_000)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--input", help="an existing JSONL dump instead of a synthetic one")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src = args.input or os.path.join(tmp, "in.jsonl")
        if not args.input:
            with open(src, "w", encoding="utf-8") as f:
                write_jsonl(f, args.n, seed=1)
        size = os.path.getsize(src)

        started, cpu = time.perf_counter(), cpu_seconds()
        n = plain_pass(src, os.path.join(tmp, "plain.jsonl"))
        plain = n / (time.perf_counter() - started)
        plain_cpu = cpu_seconds() - cpu

        started, main_cpu = time.perf_counter(), cpu_seconds(children=False)
        summary = rescore(src, os.path.join(tmp, "out.jsonl"), workers=args.workers, progress=False)
        elapsed = time.perf_counter() - started
        # The loky workers stay alive (reusable) for a minute, so their CPU time is readable now.
        ours_cpu = cpu_seconds() - cpu - plain_cpu
        main_cpu = cpu_seconds(children=False) - main_cpu
        ours = (summary.records + summary.rejects) / elapsed
        cores = args.workers or os.cpu_count() or 1

    print(f"input: {n:,} records, {size / 1e6:.1f} MB JSONL; {os.cpu_count()} cores")
    print(f"plain json read+write (1 process): {plain:10,.0f} records/s")
    print(f"spamguard rescore (local model):    {ours:10,.0f} records/s  ({elapsed:.1f} s, "
          f"{summary.spam:,} spam)")
    print(f"ratio rescore / plain: {ours / plain:.2f}   target: >= 40,000 records/s")
    print(f"CPU used: plain {plain_cpu:.1f} s ({n / plain_cpu:,.0f} records per CPU-second); rescore {ours_cpu:.1f} s "
          f"({n / ours_cpu:,.0f} per CPU-second, so about {n / ours_cpu * cores:,.0f} records/s on {cores} idle cores)"
          "; "
          f"of which the parent process {main_cpu:.1f} s")


if __name__ == "__main__":
    main()
