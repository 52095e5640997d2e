"""Quality of the local model on data it never trained on.

Leave-one-video-out on the YouTube Spam Collection (train on the other three videos, all of
the SMS dev set and tg-spam; test on the left-out video), and SMS holdouts: a stratified
30% of sms-dev.tsv kept out of training (train on the rest plus YouTube and tg-spam), for
``--sms-splits`` different seeds (0, 1, ...), since one 934-message split moves F1 by about
0.01 either way. Same estimator settings as the default model; each model is trained the
way `spamguard train` trains it (scores calibrated by 5-fold cross-validation on its own
training data), at the shipped model's threshold unless ``--threshold`` says otherwise
(``auto``: each model's own best cross-validated F1). Nothing about the test data leaks in.

    python benchmarks/quality.py [--data ../shared/data] [--sms-splits 10] [--threshold T|auto] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from spamguard._cli._args import cut_off_or_auto, positive_int
from spamguard.dumps import Record, read_records
from spamguard.local import SpamClassifier, default_model_path, metrics, train

HERE = Path(__file__).resolve().parent.parent


def records(path: Path) -> list[Record]:
    return [r for r in read_records(path) if isinstance(r, Record)]


def line(m: dict) -> str:
    return (f"n {m['n']:4d}  threshold {m['threshold']:.2f}  f1 {m['f1']:.3f}  roc_auc {m['roc_auc']:.4f}  "
            f"mcc {m['mcc']:.3f}  precision {m['precision']:.3f}  recall {m['recall']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("SPAMGUARD_DATA_DIR") or HERE.parent / "shared" / "data")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--threshold", default=None, type=cut_off_or_auto,
                        help="spam cut-off for every model: a number, or 'auto' (each model's best cross-validated "
                             "F1); default: the shipped default model's threshold")
    parser.add_argument("--params", default="{}", help="SpamClassifier keyword arguments as JSON (experiments)")
    parser.add_argument("--sms-splits", type=positive_int, default=10, help="how many 70/30 SMS splits (seeds 0..N-1)")
    args = parser.parse_args()
    root = Path(args.data)
    if not (root / "youtube-spam").is_dir():
        print(f"quality.py: no data at {root}", file=sys.stderr)
        return 1
    params = json.loads(args.params)
    if args.threshold is None:  # the shipped model's cut-off, so the figures are the shipped configuration's
        args.threshold = json.loads(default_model_path().with_suffix(".json").read_text())["threshold"]
    threshold: float | str = args.threshold
    cv = 5  # Platt scaling needs it whether the threshold is chosen or fixed
    thresholds = {}
    videos = {p.stem: records(p) for p in sorted((root / "youtube-spam").glob("*.csv"))}
    sms = records(root / "sms-spam" / "sms-dev.tsv")
    tg = records(root / "tg-spam" / "spam-samples.txt") + records(root / "tg-spam" / "ham-samples.txt")
    started = time.perf_counter()
    result: dict[str, dict[str, object]] = {"youtube_lovo": {}, "sms_holdout": {}}

    labels_all, scores_all = [], []
    for name, held_out in videos.items():
        rest = [r for other, rs in videos.items() if other != name for r in rs]
        model, _ = train(rest + sms + tg, cv=cv, threshold=threshold, estimator=SpamClassifier(**params))
        thresholds[name] = model.threshold
        y = [bool(r.label) for r in held_out]
        s = model.scores([r.comment for r in held_out])
        labels_all += y
        scores_all += s.tolist()
        result["youtube_lovo"][name] = metrics(y, s, model.threshold)
    result["youtube_lovo"]["pooled"] = metrics(labels_all, scores_all, float(np.mean(list(thresholds.values()))))
    per_video = [m for k, m in result["youtube_lovo"].items() if k != "pooled"]
    result["youtube_lovo"]["mean"] = {k: float(np.mean([m[k] for m in per_video])) for k in ("f1", "roc_auc", "mcc")}

    y_sms = [bool(r.label) for r in sms]
    splits = []
    for seed in range(args.sms_splits):
        keep, test = train_test_split(np.arange(len(sms)), test_size=0.3, random_state=seed, stratify=y_sms)
        model, _ = train([sms[i] for i in sorted(keep)] + [r for rs in videos.values() for r in rs] + tg,
                         cv=cv, threshold=threshold, estimator=SpamClassifier(**params))
        s = model.scores([sms[i].comment for i in sorted(test)])
        splits.append(metrics([y_sms[i] for i in sorted(test)], s, model.threshold) | {"seed": seed})
    result["sms_holdout"] = splits[0]
    result["sms_splits"] = {
        "splits": splits,
        **{f"{k}_{stat}": float(fn([m[k] for m in splits]))
           for k in ("f1", "roc_auc", "mcc") for stat, fn in (("mean", np.mean), ("sd", np.std), ("min", np.min))},
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"threshold {threshold}  params {params or 'default'}")
    print("(pooled: all four left-out videos' scores together, at the mean of their thresholds)")
    print("YouTube, leave one video out (train: other videos + SMS + tg-spam):")
    for name, m in result["youtube_lovo"].items():
        if name == "mean":
            print(f"  {'mean of videos':24s}  f1 {m['f1']:.3f}  roc_auc {m['roc_auc']:.4f}  mcc {m['mcc']:.3f}")
            continue
        print(f"  {name:24s} {line(m)}")
    print("SMS holdout, 30% of sms-dev (train: the other 70% + YouTube + tg-spam), one split a seed:")
    agg = result["sms_splits"]
    for m in agg["splits"]:  # type: ignore[index]
        print(f"  {'sms-dev 30%, seed ' + str(m['seed']):24s} {line(m)}")
    if len(agg["splits"]) > 1:  # type: ignore[arg-type]
        for stat in ("mean", "sd", "min"):
            print(f"  {stat + ' of splits':24s}  f1 {agg['f1_' + stat]:.3f}  roc_auc {agg['roc_auc_' + stat]:.4f}  "
                  f"mcc {agg['mcc_' + stat]:.3f}")
    print(f"({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
