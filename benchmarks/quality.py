"""Quality of the local model on data it never trained on: other sources, other videos, new sites.

Three parts (``--parts``, default all three):

``loso``   Leave one source out. The sources are YouTube, SMS, tg-spam and Instagram. Each
           YouTube video is left out in turn (trained on the other three videos and all of SMS,
           tg-spam and Instagram), and the four videos' figures are averaged into YouTube's;
           every other source is tested whole, trained on all the rest. Per source F1, ROC-AUC,
           precision and recall, and their macro average over the four sources: the figure that
           chooses features and settings. The YouTube models' scores pooled over the four videos
           are also the in-source "unseen video" figure.
``sms``    In-source SMS: a stratified 30% of sms-dev held out, trained on the other 70% and all
           the other sources, for ``--sms-splits`` seeds (0, 1, ...): one 934-message split moves
           F1 by about 0.01 either way.
``adapt``  Adapting to a new source with its labels alone: for each left-out source (each video
           for YouTube), ``--adapt-rows`` of its labelled comments (stratified, one draw a seed
           of ``--adapt-seeds``) adapt that source's LOSO model (``train(rows, base_model=...)``)
           and the rest of the source is the test: adapted F1/ROC-AUC next to zero-shot on the
           same rows.

Every model is trained the way ``spamguard train`` trains it (scores calibrated by 5-fold
cross-validation on its own training data) with the same estimator settings as the default
model (``--params`` changes them), at the shipped model's cut-off unless ``--threshold`` says
otherwise (``auto``: each model's own best cross-validated F1). The cut-off table gives the
LOSO macro F1 and the in-source figures at other cut-offs from the same scores: that is how
the default cut-off is chosen. Nothing about the test data leaks into training.

    python benchmarks/quality.py [--data ../shared/data] [--parts loso,sms,adapt] [--jobs 2] [--json]

All three parts take about four minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split

from spamguard._cli._args import cut_off_or_auto, positive_int
from spamguard.dumps import Record, read_records
from spamguard.local import SpamClassifier, default_model_path, metrics, train

HERE = Path(__file__).resolve().parent.parent
SOURCES = ("youtube", "sms", "tg-spam", "instagram")
PARTS = ("loso", "sms", "adapt")
CUT_OFFS = tuple(float(t) for t in np.round(np.arange(0.20, 0.801, 0.05), 2))
KEYS = ("f1", "roc_auc", "precision", "recall", "mcc")


def records(path: Path) -> list[Record]:
    return [r for r in read_records(path) if isinstance(r, Record)]


def load(root: Path) -> dict[str, dict[str, list[Record]]]:
    """The sources, each as its units: YouTube's videos, or the whole source as one unit."""
    return {
        "youtube": {p.stem: records(p) for p in sorted((root / "youtube-spam").glob("*.csv"))},
        "sms": {"sms-dev": records(root / "sms-spam" / "sms-dev.tsv")},
        "tg-spam": {"tg-spam": records(root / "tg-spam" / "spam-samples.txt")
                    + records(root / "tg-spam" / "ham-samples.txt")},
        "instagram": {"instagram-dev": records(root / "instagram-scamspot" / "instagram-dev.jsonl")},
    }


def labels(rows: Sequence[Record]) -> np.ndarray:
    return np.array([bool(r.label) for r in rows])


def fit(training: list[Record], threshold: float | str, params: dict[str, Any]) -> Any:
    model, _ = train(training, cv=5, threshold=threshold, estimator=SpamClassifier(**params))
    return model


def adapt_unit(model: Any, held_out: list[Record], rows: int, seeds: int) -> list[dict[str, Any]]:
    """Per seed: ``rows`` of the held-out unit adapt the model; zero-shot and adapted metrics on the rest."""
    y = labels(held_out)
    out = []
    for seed in range(seeds):
        site, rest = train_test_split(np.arange(len(y)), train_size=rows, random_state=seed, stratify=y)
        adapted, report = train([held_out[i] for i in sorted(site)], base_model=model, seed=seed)
        test = [held_out[i].comment for i in sorted(rest)]
        y_rest = y[np.sort(rest)]
        out.append({
            "seed": seed,
            "zero_shot": metrics(y_rest, model.scores(test), model.threshold),
            "adapted": metrics(y_rest, adapted.scores(test), adapted.threshold),
        })
    return out


def run_unit(source: str, unit: str, training: list[Record], held_out: list[Record], threshold: float | str,
             params: dict[str, Any], adapt: tuple[int, int] | None) -> dict[str, Any]:
    """Train without the unit, score it; with ``adapt`` (rows, seeds), measure adaptation to it too."""
    model = fit(training, threshold, params)
    scores = model.scores([r.comment for r in held_out])
    result = {"source": source, "unit": unit, "y": labels(held_out), "scores": scores, "threshold": model.threshold}
    if adapt:
        result["adapt"] = adapt_unit(model, held_out, *adapt)
    return result


def run_sms_split(sms: list[Record], others: list[Record], seed: int, threshold: float | str,
                  params: dict[str, Any]) -> dict[str, Any]:
    y = labels(sms)
    keep, test = train_test_split(np.arange(len(sms)), test_size=0.3, random_state=seed, stratify=y)
    model = fit([sms[i] for i in sorted(keep)] + others, threshold, params)
    return {"seed": seed, "y": y[np.sort(test)], "scores": model.scores([sms[i].comment for i in sorted(test)]),
            "threshold": model.threshold}


def subset(m: dict[str, Any]) -> dict[str, Any]:
    return {k: m[k] for k in ("n", *KEYS, "threshold")}


def mean_of(ms: Sequence[dict[str, Any]]) -> dict[str, float]:
    return {k: float(np.mean([m[k] for m in ms])) for k in KEYS}


def loso_figures(units: list[dict[str, Any]], cut_off: float | None = None) -> dict[str, Any]:
    """Per source metrics (YouTube: the mean over its videos), the macro average, and YouTube pooled."""
    def at(u: dict[str, Any]) -> dict[str, Any]:
        return metrics(u["y"], u["scores"], cut_off if cut_off is not None else u["threshold"])

    per: dict[str, Any] = {}
    for source in SOURCES:
        mine = [u for u in units if u["source"] == source]
        if not mine:
            continue
        if source == "youtube":
            videos = {u["unit"]: subset(at(u)) for u in mine}
            pooled_cut = cut_off if cut_off is not None else float(np.mean([u["threshold"] for u in mine]))
            pooled = metrics(np.concatenate([u["y"] for u in mine]), np.concatenate([u["scores"] for u in mine]),
                             pooled_cut)
            per[source] = {**mean_of(list(videos.values())), "videos": videos, "pooled": subset(pooled)}
        else:
            per[source] = subset(at(mine[0]))
    result: dict[str, Any] = {"sources": per}
    if len(per) == len(SOURCES):
        result["macro"] = {k: float(np.mean([per[s][k] for s in SOURCES])) for k in ("f1", "roc_auc")}
    return result


def sms_figures(splits: list[dict[str, Any]], cut_off: float | None = None) -> dict[str, Any]:
    ms = [subset(metrics(s["y"], s["scores"], cut_off if cut_off is not None else s["threshold"]))
          | {"seed": s["seed"]} for s in splits]
    return {"splits": ms, **{f"{k}_{stat}": float(fn([m[k] for m in ms]))
                             for k in ("f1", "roc_auc", "mcc") for stat, fn in (("mean", np.mean), ("sd", np.std),
                                                                                 ("min", np.min))}}


def adapt_figures(units: list[dict[str, Any]]) -> dict[str, Any]:
    """Per source: zero-shot and adapted metrics (means over seeds, and videos for YouTube), and the macro."""
    per: dict[str, Any] = {}
    for source in SOURCES:
        runs = [run for u in units if u["source"] == source for run in u.get("adapt", ())]
        if not runs:
            continue
        zero, adapted = mean_of([r["zero_shot"] for r in runs]), mean_of([r["adapted"] for r in runs])
        worst = min(r["adapted"]["f1"] - r["zero_shot"]["f1"] for r in runs)
        per[source] = {"zero_shot": zero, "adapted": adapted, "runs": len(runs), "worst_f1_change": worst}
    result: dict[str, Any] = {"sources": per}
    if len(per) == len(SOURCES):
        result["macro"] = {kind: {k: float(np.mean([per[s][kind][k] for s in SOURCES])) for k in ("f1", "roc_auc")}
                           for kind in ("zero_shot", "adapted")}
    return result


def cut_off_table(units: list[dict[str, Any]], splits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for t in CUT_OFFS:
        row: dict[str, Any] = {"cut_off": t}
        if units:
            figures = loso_figures(units, t)
            row.update({f"{s}_f1": figures["sources"][s]["f1"] for s in figures["sources"]})
            if "macro" in figures:
                row["loso_macro_f1"] = figures["macro"]["f1"]
            if "youtube" in figures["sources"]:
                row["youtube_pooled_f1"] = figures["sources"]["youtube"]["pooled"]["f1"]
        if splits:
            row["sms_in_source_f1"] = sms_figures(splits, t)["f1_mean"]
        rows.append(row)
    return rows


def measure(args: argparse.Namespace) -> dict[str, Any]:
    data = load(Path(args.data))
    params = json.loads(args.params)
    parts = set(args.parts)
    adapt = (args.adapt_rows, args.adapt_seeds) if "adapt" in parts else None
    jobs = []
    if parts & {"loso", "adapt"}:
        for source, units in data.items():
            for unit, held_out in units.items():
                training = [r for s, us in data.items() for u, rs in us.items() if u != unit for r in rs]
                jobs.append(delayed(run_unit)(source, unit, training, held_out, args.threshold, params, adapt))
    if "sms" in parts:
        sms = data["sms"]["sms-dev"]
        others = [r for s, us in data.items() if s != "sms" for rs in us.values() for r in rs]
        jobs += [delayed(run_sms_split)(sms, others, seed, args.threshold, params) for seed in range(args.sms_splits)]
    done = Parallel(n_jobs=args.jobs)(jobs)
    units = [d for d in done if "unit" in d]
    splits = [d for d in done if "unit" not in d]
    result: dict[str, Any] = {"threshold": args.threshold, "params": params}
    if "loso" in parts:
        result["loso"] = loso_figures(units)
    if "sms" in parts:
        result["sms_in_source"] = sms_figures(splits)
    if adapt:
        result["adapt"] = adapt_figures(units) | {"rows": args.adapt_rows, "seeds": args.adapt_seeds}
    if "loso" in parts or "sms" in parts:
        result["cut_offs"] = cut_off_table(units if "loso" in parts else [], splits)
    return result


def line(m: dict[str, Any]) -> str:
    return (f"f1 {m['f1']:.3f}  roc_auc {m['roc_auc']:.4f}  precision {m['precision']:.3f}  "
            f"recall {m['recall']:.3f}  mcc {m['mcc']:.3f}")


def show(result: dict[str, Any]) -> None:
    print(f"cut-off {result['threshold']}  params {result['params'] or 'default'}")
    if "loso" in result:
        print("Leave one source out (YouTube: a video at a time, the four averaged):")
        for source, m in result["loso"]["sources"].items():
            print(f"  {source:28s} {line(m)}")
            for video, v in m.get("videos", {}).items():
                print(f"    {video:26s} {line(v)}")
        if "macro" in result["loso"]:
            macro = result["loso"]["macro"]
            print(f"  {'macro average':28s} f1 {macro['f1']:.3f}  roc_auc {macro['roc_auc']:.4f}")
        if "youtube" in result["loso"]["sources"]:
            print("In source: YouTube, an unseen video (the four left-out videos pooled):")
            print(f"  {'youtube pooled':28s} {line(result['loso']['sources']['youtube']['pooled'])}")
    if "sms_in_source" in result:
        agg = result["sms_in_source"]
        print("In source: SMS, 30% of sms-dev held out (train: the other 70% + the other sources), a split a seed:")
        for m in agg["splits"]:
            print(f"  {'sms-dev 30%, seed ' + str(m['seed']):28s} {line(m)}")
        for stat in ("mean", "sd", "min"):
            print(f"  {stat + ' of splits':28s} f1 {agg['f1_' + stat]:.3f}  roc_auc {agg['roc_auc_' + stat]:.4f}  "
                  f"mcc {agg['mcc_' + stat]:.3f}")
    if "adapt" in result:
        a = result["adapt"]
        print(f"Adapting to a left-out source with {a['rows']} of its labelled comments ({a['seeds']} draws; "
              "test: the rest of it):")
        for source, m in a["sources"].items():
            z, d = m["zero_shot"], m["adapted"]
            print(f"  {source:12s} zero-shot f1 {z['f1']:.3f} roc_auc {z['roc_auc']:.4f}   adapted f1 {d['f1']:.3f} "
                  f"roc_auc {d['roc_auc']:.4f}   (worst draw: f1 {m['worst_f1_change']:+.3f})")
        if "macro" in a:
            z, d = a["macro"]["zero_shot"], a["macro"]["adapted"]
            print(f"  {'macro':12s} zero-shot f1 {z['f1']:.3f} roc_auc {z['roc_auc']:.4f}   adapted f1 {d['f1']:.3f} "
                  f"roc_auc {d['roc_auc']:.4f}")
    if "cut_offs" in result:
        print("By cut-off (the same scores):")
        for row in result["cut_offs"]:
            print("  " + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    print(f"({result['seconds']} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("SPAMGUARD_DATA_DIR") or HERE.parent / "shared" / "data")
    parser.add_argument("--parts", default=",".join(PARTS), type=lambda s: s.split(","),
                        help=f"which parts to run, comma-separated (default: {','.join(PARTS)})")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--threshold", default=None, type=cut_off_or_auto,
                        help="spam cut-off for every model: a number, or 'auto' (each model's best cross-validated "
                             "F1); default: the shipped default model's threshold")
    parser.add_argument("--params", default="{}", help="SpamClassifier keyword arguments as JSON (experiments)")
    parser.add_argument("--sms-splits", type=positive_int, default=10, help="how many 70/30 SMS splits (seeds 0..N-1)")
    parser.add_argument("--adapt-rows", type=positive_int, default=200, help="labelled rows to adapt with")
    parser.add_argument("--adapt-seeds", type=positive_int, default=3, help="draws of those rows (seeds 0..N-1)")
    parser.add_argument("--jobs", type=positive_int, default=min(2, os.cpu_count() or 1),
                        help="processes to train in (default: 2, or 1 on a one-core machine)")
    args = parser.parse_args()
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    if not (Path(args.data) / "youtube-spam").is_dir():
        print(f"quality.py: no data at {args.data}", file=sys.stderr)
        return 1
    if args.threshold is None:  # the shipped model's cut-off, so the figures are the shipped configuration's
        args.threshold = json.loads(default_model_path().with_suffix(".json").read_text())["threshold"]
    started = time.perf_counter()
    result = measure(args)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        show(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
