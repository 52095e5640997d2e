"""Peak memory of a real ``spamguard rescore`` at 100,000 and 1,000,000 comments (flat = ratio <= 1.2).

    python benchmarks/rescore_memory.py [SMALL] [LARGE] [--format jsonl|wxr]

Writes two synthetic dumps (benchmarks/make_dump.py), runs ``python -m spamguard rescore IN -o
OUT`` on each as a subprocess and samples, every 20 ms, the resident memory of the command's
process and of its whole process tree (the command plus its worker processes). Prints the
peaks and the large/small ratios (target: <= 1.2).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from make_dump import write_jsonl, write_wxr  # noqa: E402


def peak_rss(argv: list[str]) -> tuple[int, int, float]:
    """(peak RSS of the process, peak summed RSS of its tree, seconds) for one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    top = tree = 0
    while proc.poll() is None:
        try:
            own = ps.memory_info().rss
            total = own
            for child in ps.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # a worker may exit between listing and reading
                    total += child.memory_info().rss
        except psutil.Error:
            break
        top, tree = max(top, own), max(tree, total)
        time.sleep(0.02)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.wait() != 0:
        raise SystemExit(f"rescore failed: {err}")
    return top, tree, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("small", type=int, nargs="?", default=100_000)
    parser.add_argument("large", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--format", choices=["jsonl", "wxr"], default="jsonl")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.small, args.large):
            src = os.path.join(tmp, f"in-{n}.{'xml' if args.format == 'wxr' else 'jsonl'}")
            with open(src, "w", encoding="utf-8") as f:
                (write_wxr if args.format == "wxr" else write_jsonl)(f, n, seed=1)
            out = os.path.join(tmp, f"out-{n}.jsonl")
            results[n] = peak_rss([sys.executable, "-m", "spamguard", "rescore", src, "-o", out, "--no-progress"])
            os.unlink(src)
            top, tree, seconds = results[n]
            print(f"{n:>9,} {args.format}: peak RSS {top / 2**20:6.1f} MiB (command), "
                  f"{tree / 2**20:6.1f} MiB (with workers); {seconds:.1f} s")
    (s_top, s_tree, _), (l_top, l_tree, _) = results[args.small], results[args.large]
    print(f"ratio {args.large:,}/{args.small:,}: command {l_top / s_top:.2f}, with workers {l_tree / s_tree:.2f} "
          "(target <= 1.2)")


if __name__ == "__main__":
    main()
