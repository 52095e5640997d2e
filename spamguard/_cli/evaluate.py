"""``spamguard evaluate``: measure a local model on labelled dumps, overall and per file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..dumps import DumpFormatError
from ._data import LabelledRecords, add_data_arguments, expand
from ._help import HelpFormatter, examples

EPILOG = examples(
    "spamguard evaluate held-out.jsonl --json",
    "spamguard evaluate ../shared/data/youtube-spam/Youtube04-Eminem.csv --model my-model.joblib",
)


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "evaluate", help="measure the local model on labelled comment dumps",
        description="Score labelled dumps with a local model; print n, accuracy, precision, recall, F1, MCC, "
                    "ROC-AUC, the confusion matrix and a per-file breakdown.",
        epilog=EPILOG, formatter_class=HelpFormatter,
    )
    add_data_arguments(parser)
    parser.add_argument("--model", metavar="PATH", default=None,
                        help="model file (default: SPAMGUARD_MODEL, else the shipped default model)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the model, score the data, print the metrics."""
    from ..local import LocalModel, evaluate, format_metrics

    model = LocalModel.load(args.model)
    try:
        files = expand(args.data)
        records = LabelledRecords(files, args.format)
        result = evaluate(model, records)
    except (OSError, ValueError, DumpFormatError) as exc:
        print(f"spamguard evaluate: error: {exc}", file=sys.stderr)
        return 1
    result["rejected"] = records.rejected
    result["model"] = str(model.path)
    if records.rejected:
        print(f"spamguard: skipped {records.rejected} unreadable row(s) (listed above)", file=sys.stderr)
    if result["n"] == 0:
        print("spamguard evaluate: error: no labelled comments to evaluate", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"model: {model.path} (threshold {model.threshold})")
    print("all files:")
    print(format_metrics(result))
    for name, m in result["files"].items():
        print(f"{name}:")
        print(format_metrics(m))
    return 0


