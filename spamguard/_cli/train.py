"""``spamguard train``: fit the local model on labelled dumps and write the model file and manifest."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..dumps import DumpFormatError
from ._args import cut_off_or_auto, positive_float
from ._data import add_data_arguments, expand
from ._help import HelpFormatter, examples
from ._train_feedback import add_feedback_arguments, run_feedback

EPILOG = examples(
    "spamguard train ../shared/data/youtube-spam/*.csv ../shared/data/sms-spam/sms-dev.tsv ../shared/data/tg-spam "
    "../shared/data/instagram-scamspot/instagram-dev.jsonl -o models/default/model.joblib --seed 0 --threshold 0.4",
    "spamguard train site-comments.jsonl --base-model default -o site/model.joblib",
    "spamguard train --feedback ~/.local/share/spamguard/feedback.sqlite3 ../shared/data/sms-spam "
    "-o models/site/model.joblib",
    "spamguard train --feedback ~/.local/share/spamguard/feedback.sqlite3 --base-model default "
    "-o models/site/model.joblib",
    notes="The first makes the default model, from the repository root with the data beside it. The second "
          "adapts the shipped model to a site's labelled comments alone (no training corpus needed). The last two "
          "retrain from the feedback store (moderators' spam/ham decisions): with base data, or by adapting the "
          "shipped model to the feedback alone.",
)


def register(subparsers: Any) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train", help="train the local model on labelled comment dumps",
        description="Train the local model on labelled dumps, or adapt a trained one to them (--base-model); "
                    "write the model file and its manifest; print cross-validated metrics.",
        epilog=EPILOG, formatter_class=HelpFormatter,
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
    parser.add_argument("--base-model", metavar="MODEL",
                        help="adapt this trained model to DATA (or to --feedback) instead of training from scratch: "
                             "a model file, or 'default' for the shipped one; needs no other training data")
    parser.add_argument("--strength", type=positive_float, default=None, metavar="S",
                        help="with --base-model: how strongly the adapted weights are pulled to the base model's "
                             "(default 0.01; higher stays nearer the base)")
    parser.add_argument("--json", action="store_true", help="print the training report as JSON")
    add_feedback_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Train, save, print the metrics."""
    from ..local import format_metrics, train_files

    if args.feedback:
        return run_feedback(args)
    if not args.data:
        print("spamguard train: error: give DATA files (or --feedback DB)", file=sys.stderr)
        return 2
    try:
        files = expand(args.data)
        print(f"spamguard: training on {len(files)} file(s)...", file=sys.stderr)
        done = train_files(
            files, args.output, fmt=args.format, on_reject=lambda r: print(f"spamguard: skipped {r}", file=sys.stderr),
            seed=args.seed, test_size=args.test_size, cv=args.cv, threshold=args.threshold,
            base_model=args.base_model, strength=args.strength,
        )
    except (OSError, ValueError, DumpFormatError) as exc:
        print(f"spamguard train: error: {exc}", file=sys.stderr)
        return 1
    report, manifest = done.report, done.manifest
    if done.rejected:
        print(f"spamguard: skipped {done.rejected} unreadable row(s) (listed above)", file=sys.stderr)
    if args.json:
        print(json.dumps({"model": args.output, "sha256": manifest["sha256"], **report.to_dict()}, indent=2))
        return 0
    print(f"model: {args.output} ({manifest['size_bytes']:,} bytes, sha256 {manifest['sha256'][:16]}...)")
    adapted = f", adapting {report.base_model}" if report.base_model else ""
    print(f"trained on {report.n:,} comments ({report.n_spam:,} spam) from {len(files)} file(s){adapted}; "
          f"threshold {report.threshold}")
    if report.cv_metrics:
        print(f"{report.cv_folds}-fold cross-validated:")
        print(format_metrics(report.cv_metrics))
    if report.test_metrics:
        print(f"held out ({args.test_size:.0%}):")
        print(format_metrics(report.test_metrics))
    return 0


def _test_size(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number at least 0 and below 1, got {text!r}")
    return value
