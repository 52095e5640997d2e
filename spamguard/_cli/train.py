"""``spamguard train``: fit the local model on labelled dumps and write the model file and manifest."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..dumps import DumpFormatError
from ._args import cut_off_or_auto
from ._data import LabelledRecords, add_data_arguments, expand
from ._train_feedback import FEEDBACK_EPILOG, add_feedback_arguments, run_feedback

EPILOG = """\
example:
  spamguard train ../shared/data/youtube-spam/*.csv ../shared/data/sms-spam/sms-dev.tsv \\
      ../shared/data/tg-spam -o models/default/model.joblib --seed 0
"""


def register(subparsers: Any) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train", help="train the local model on labelled comment dumps",
        description="Train the local model on labelled dumps; write the model file and its manifest; "
                    "print cross-validated metrics.",
        epilog=EPILOG + FEEDBACK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_arguments(parser, required=False)
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="model file to write (its manifest goes beside it as .json)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the folds and the test split (default 0)")
    parser.add_argument("--test-size", type=_test_size, default=0.0, metavar="F",
                        help="share of the data to hold out and test on, 0-1 (default 0: train on all)")
    parser.add_argument("--cv", type=int, default=5, metavar="K", help="cross-validation folds (0: none; default 5)")
    parser.add_argument("--threshold", type=cut_off_or_auto, default="auto", metavar="T",
                        help="spam cut-off 0-1, or 'auto': the best cross-validated F1 (default; 0.5 without --cv)")
    parser.add_argument("--json", action="store_true", help="print the training report as JSON")
    add_feedback_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Train, save, print the metrics."""
    from ..local import train
    from ..local._files import sha256_file

    if args.feedback:
        return run_feedback(args)
    if not args.data:
        print("spamguard train: error: give DATA files (or --feedback DB)", file=sys.stderr)
        return 2
    try:
        files = expand(args.data)
        records = LabelledRecords(files, args.format)
        print(f"spamguard: training on {len(files)} file(s)...", file=sys.stderr)
        model, report = train(records, seed=args.seed, test_size=args.test_size, cv=args.cv, threshold=args.threshold)
    except (OSError, ValueError, DumpFormatError) as exc:
        print(f"spamguard train: error: {exc}", file=sys.stderr)
        return 1
    if records.rejected:
        print(f"spamguard: skipped {records.rejected} unreadable row(s) (listed above)", file=sys.stderr)
    training_data = []
    for path in files:
        src = report.sources.get(path, {"rows": 0, "spam": 0})
        training_data.append({"file": path, "rows": src["rows"], "spam": src["spam"], "sha256": sha256_file(path)})
    manifest = model.save(
        args.output, seed=args.seed, test_size=args.test_size, rejected_rows=records.rejected,
        training_data=training_data, rows=report.n, spam_rows=report.n_spam,
        metrics={"cross_validated": report.cv_metrics, "held_out": report.test_metrics},
        estimator_params=_params(model.estimator.get_params()),
    )
    if args.json:
        print(json.dumps({"model": args.output, "sha256": manifest["sha256"], **report.to_dict()}, indent=2))
        return 0
    print(f"model: {args.output} ({manifest['size_bytes']:,} bytes, sha256 {manifest['sha256'][:16]}...)")
    print(f"trained on {report.n:,} comments ({report.n_spam:,} spam) from {len(files)} file(s); "
          f"threshold {report.threshold}")
    if report.cv_metrics:
        print(f"{report.cv_folds}-fold cross-validated:")
        print(_format_metrics(report.cv_metrics))
    if report.test_metrics:
        print(f"held out ({args.test_size:.0%}):")
        print(_format_metrics(report.test_metrics))
    return 0


def _test_size(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number at least 0 and below 1, got {text!r}")
    return value


def _params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _format_metrics(m: dict[str, Any]) -> str:
    def f(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    c = m["confusion"]
    return (
        f"  n {m['n']:,}  accuracy {f(m['accuracy'])}  precision {f(m['precision'])}  recall {f(m['recall'])}\n"
        f"  f1 {f(m['f1'])}  mcc {f(m['mcc'])}  roc_auc {f(m['roc_auc'])}\n"
        f"  confusion: tn {c['tn']}  fp {c['fp']}  fn {c['fn']}  tp {c['tp']}"
    )
