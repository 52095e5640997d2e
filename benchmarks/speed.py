"""Speed and memory of the default local model, in process.

Prints: model file size; load time (fresh interpreter, import excluded and shown apart);
batch throughput of ``LocalModel.scores`` and ``check_many`` on one core and split over two
processes; one-comment ``check`` latency p50/p99; peak RSS of a process that loads the model
and scores a large batch. Comments come from ../shared/data when present (repeated to the
batch size), else from built-in samples.

    python benchmarks/speed.py [--batch 50000] [--single 5000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent
SAMPLES = [
    "Check out my channel http://bit.ly/abc and subscribe!!!",
    "I love this song, it reminds me of summer 2012",
    "FREE entry in 2 a wkly comp to win FA Cup final tkts, text FA to 87121",
    "Ok lar... Joking wif u oni...",
    "Привет всем! Заработок от 5000 рублей в день, пишите в личку",
    "Danke für den tollen Beitrag, sehr hilfreich.",
]


def comments(n: int) -> list:
    from spamguard import Comment
    from spamguard.dumps import Record, read_records

    root = Path(os.environ.get("SPAMGUARD_DATA_DIR") or HERE.parent / "shared" / "data")
    found = []
    if root.is_dir():
        for path in sorted(root.glob("*/*")):
            if path.suffix in (".csv", ".tsv", ".txt") and "LICENSE" not in path.name:
                found += [r.comment for r in read_records(path) if isinstance(r, Record)]
    if not found:
        found = [Comment(content=t) for t in SAMPLES]
    return (found * (n // len(found) + 1))[:n]


def _child_load() -> None:
    started = time.perf_counter()
    from spamguard import LocalModel

    imported = time.perf_counter()
    LocalModel.load()
    loaded = time.perf_counter()
    print(json.dumps({"import_s": imported - started, "load_s": loaded - imported}))


def _child_rss(n: int) -> None:
    from spamguard import LocalModel

    batch = comments(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model = LocalModel.load()
    model.scores(batch)
    model.check_many(batch[:20000])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mb": peak / 1024, "before_model_mb": before / 1024}))


_MODEL = None
_BATCH: list = []


def _score_part(bounds: tuple[int, int]) -> int:
    assert _MODEL is not None
    return len(_MODEL.scores(_BATCH[bounds[0]:bounds[1]]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--child", choices=["load", "rss"])
    args = parser.parse_args()
    if args.child == "load":
        _child_load()
        return 0
    if args.child == "rss":
        _child_rss(args.batch)
        return 0

    global _MODEL, _BATCH
    from spamguard import LocalModel
    from spamguard.local import default_model_path

    size = default_model_path().stat().st_size
    scorer_size = default_model_path().with_suffix(".npz").stat().st_size
    loads = [json.loads(subprocess.run([sys.executable, __file__, "--child", "load"], capture_output=True,
                                       text=True, check=True).stdout) for _ in range(5)]
    model = LocalModel.load()
    _MODEL, _BATCH = model, comments(args.batch)
    model.scores(_BATCH[:2000])  # warm up

    def rate(fn, items) -> float:
        best = 0.0
        for _ in range(3):
            t = time.perf_counter()
            fn(items)
            best = max(best, len(items) / (time.perf_counter() - t))
        return best

    scores_1 = rate(model.scores, _BATCH)
    check_many_1 = rate(model.check_many, _BATCH)
    ctx = multiprocessing.get_context("fork")
    half = len(_BATCH) // 2
    with ctx.Pool(2) as pool:
        pool.map(_score_part, [(0, 100), (100, 200)])  # workers up (they inherit the loaded model)
        best2 = 0.0
        for _ in range(3):
            t = time.perf_counter()
            done = sum(pool.map(_score_part, [(0, half), (half, len(_BATCH))]))
            best2 = max(best2, done / (time.perf_counter() - t))

    singles = _BATCH[: args.single]
    for c in singles[:200]:
        model.check(c)
    lat = []
    for c in singles:
        t = time.perf_counter()
        model.check(c)
        lat.append(time.perf_counter() - t)
    rss = json.loads(subprocess.run([sys.executable, __file__, "--child", "rss", "--batch", str(args.batch)],
                                    capture_output=True, text=True, check=True).stdout)

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, numpy {np.__version__}")
    print(f"model files: {(size + scorer_size) / 1e6:.2f} MB: model.joblib {size / 1e6:.2f} MB (the estimator, "
          f"read only to inspect or retrain) + model.npz {scorer_size / 1e6:.2f} MB (the scorer)")
    print(f"load: LocalModel.load() {np.median([x['load_s'] for x in loads]) * 1000:.0f} ms, "
          f"import spamguard {np.median([x['import_s'] for x in loads]) * 1000:.0f} ms "
          f"(medians of 5 fresh processes)")
    print(f"batch of {len(_BATCH):,}: scores() {scores_1:,.0f}/s on one core; "
          f"{best2:,.0f}/s split over 2 processes; check_many() with reasons {check_many_1:,.0f}/s on one core")
    p50, p99 = np.percentile(lat, 50) * 1000, np.percentile(lat, 99) * 1000
    print(f"one comment, check(): p50 {p50:.3f} ms  p99 {p99:.3f} ms  ({len(lat):,} calls)")
    print(f"peak RSS, load + score {args.batch:,} (+ check_many 20,000): {rss['peak_rss_mb']:.0f} MB "
          f"(of which {rss['before_model_mb']:.0f} MB before loading: interpreter, libraries, the comments)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
