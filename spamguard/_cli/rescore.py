"""``spamguard rescore``: judge every comment of a dump again (JSONL, CSV, TSV, WordPress WXR)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..batch import BACKENDS, rescore
from ..errors import InvalidOptionError
from ._args import non_negative_int, positive_float, positive_int
from ._help import HelpFormatter, examples

EPILOG = examples(
    "spamguard rescore comments.jsonl -o verdicts.jsonl",
    "spamguard rescore wordpress-export.xml.gz -o changes.csv --only-changed --rejects rejects.jsonl",
    "spamguard rescore big.jsonl -o verdicts.jsonl --resume          # after an interruption",
    "spamguard rescore big.jsonl -o verdicts.jsonl --dask-scheduler tcp://10.0.0.5:8786",
    "cat comments.jsonl | spamguard rescore - -o verdicts.jsonl --json > summary.json",
    notes="Output: one record per input record: position, id, spam, score, action, source, reasons, "
          "old_status (the status the dump recorded, e.g. WXR approved/hold/spam/trash) and changed. "
          "A summary goes to stderr (with --json: to stdout as JSON, so the verdicts go to -o).\n\n"
          "Exit status: 0 done, 1 failure (including more rejects than --max-rejects), 2 usage error.",
)


def register(subparsers: Any) -> None:
    """Add the ``rescore`` subcommand."""
    parser = subparsers.add_parser(
        "rescore",
        help="re-score a comment dump (JSONL, CSV, TSV, WordPress WXR): streaming, resumable, parallel",
        description="Judge every comment of a dump again and write one verdict record per input record.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="the dump to read; - for standard input; .gz is undone")
    parser.add_argument("-o", "--output", metavar="OUTPUT", default="-",
                        help="where to write verdicts (.csv for CSV, else JSONL; .gz compresses); "
                        "default stdout")
    parser.add_argument("--format", choices=["jsonl", "csv", "tsv", "lines", "wxr"],
                        help="the input format (default: from the name or the content)")
    parser.add_argument("--output-format", choices=["jsonl", "csv"],
                        help="the output format (default: from -o)")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="local model (default), akismet (remote), or auto (remote first, local fallback)")
    parser.add_argument("--model", metavar="PATH",
                        help="local model file (default: SPAMGUARD_MODEL or the shipped one)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run into the same OUTPUT")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="worker processes (local) or calls in flight (remote; default 16)")
    parser.add_argument("--executor", choices=["processes", "threads", "dask", "serial"],
                        help="where chunks are judged (default: processes for local, threads for remote)")
    parser.add_argument("--dask-scheduler", metavar="ADDRESS",
                        help="run the chunks on a Dask cluster, e.g. tcp://10.0.0.5:8786 "
                        "(pip install 'spamguard[dask]')")
    parser.add_argument("--rejects", metavar="FILE",
                        help="write unreadable records here (JSONL: position, line, reason, raw)")
    parser.add_argument("--max-rejects", type=non_negative_int, metavar="N",
                        help="fail (exit 1) when more than N records are rejected")
    parser.add_argument("--only-changed", action="store_true",
                        help="write only records whose verdict changes their status")
    parser.add_argument("--rate", type=positive_float, metavar="N", help="at most N remote calls a second")
    parser.add_argument("--chunk-size", type=positive_int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (shown only on a terminal anyway)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``spamguard rescore``; returns the exit status."""
    to_stdout = args.output in (None, "-")
    if args.json and to_stdout:
        print("spamguard rescore: error: --json prints the summary on stdout; send the verdicts to a file with -o",
              file=sys.stderr)
        return 2
    if args.resume and (args.input == "-" or to_stdout):
        print("spamguard rescore: error: --resume needs an input file and an output file (-o), not - ",
              file=sys.stderr)
        return 2
    try:
        summary = rescore(
            args.input, args.output, format=args.format, output_format=args.output_format, backend=args.backend,
            model=args.model, resume=args.resume, workers=args.workers, executor=args.executor,
            dask_scheduler=args.dask_scheduler, rejects=args.rejects, max_rejects=args.max_rejects,
            only_changed=args.only_changed, rate=args.rate, chunk_size=args.chunk_size,
            progress=False if args.no_progress else None,
        )
    except InvalidOptionError as exc:  # options that cannot work together; other errors are not usage errors
        print(f"spamguard rescore: error: {exc}", file=sys.stderr)
        return 2
    if summary.records + summary.rejects == 0:
        where = "standard input" if args.input == "-" else args.input
        print(f"spamguard rescore: note: no records in {where}: nothing to rescore", file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(f"spamguard: {summary}", file=sys.stderr)
    return 0

