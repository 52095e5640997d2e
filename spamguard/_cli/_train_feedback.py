"""``spamguard train --feedback DB [DATA...]``: retrain from moderators' feedback, safely.

Prints the current and the retrained model's metrics on held-out feedback; the library refuses
to write a model that is worse than the current one (or cannot be compared) unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_feedback_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--feedback`` options of ``spamguard train``."""
    group = parser.add_argument_group("retraining from feedback")
    group.add_argument("--feedback", metavar="DB",
                       help="also learn from this feedback store (a file or a postgresql:// URL); DATA becomes "
                            "optional; the new model is compared with the current one on held-out feedback")
    group.add_argument("--model", metavar="PATH",
                       help="the current model to compare with (default: SPAMGUARD_MODEL or the shipped one)")
    group.add_argument("--held-out", type=float, default=0.25, metavar="F",
                       help="share of the feedback kept out of training to compare on (default 0.25)")
    group.add_argument("--feedback-weight", type=int, default=3, metavar="N",
                       help="count each feedback comment N times in training with DATA (default 3)")
    group.add_argument("--force", action="store_true",
                       help="write the new model even when it is worse than the current one (or cannot be compared)")


def run_feedback(args: argparse.Namespace) -> int:
    """Retrain from the feedback (plus DATA, or adapting --base-model); print before and after; write unless worse."""
    from .._retrain import retrain_from_feedback
    from ..errors import ConfigurationError
    from ..feedback import FeedbackStore
    from ..local import LocalModel, format_metrics
    from ._data import LabelledRecords, expand

    db = args.feedback if "://" in args.feedback else Path(args.feedback).expanduser()  # a path, or a store URL
    if isinstance(db, Path) and not db.exists():
        raise ConfigurationError(f"there is no feedback store at {db}; give the path of one with --feedback")
    if not 0.0 < args.held_out < 1.0:
        print(f"spamguard train: error: --held-out must be between 0 and 1, got {args.held_out}", file=sys.stderr)
        return 2
    if args.base_model and args.data:
        print("spamguard train: error: --base-model adapts a model to the feedback alone; leave out DATA",
              file=sys.stderr)
        return 2
    store = FeedbackStore(db)
    files = expand(args.data) if args.data else []
    current = LocalModel.load(args.model)
    print(f"spamguard: retraining on {len(store)} feedback row(s) and {len(files)} data file(s)...", file=sys.stderr)
    try:
        result = retrain_from_feedback(
            store, LabelledRecords(files, args.format), current=current, held_out=args.held_out, seed=args.seed,
            feedback_weight=args.feedback_weight, cv=args.cv, threshold=args.threshold,
            base_model=args.base_model, strength=args.strength,
        )
    except ValueError as exc:
        print(f"spamguard train: error: {exc}", file=sys.stderr)
        return 1
    written = result.save(args.output, force=args.force)
    summary: dict[str, Any] = {"model": args.output, **result.to_dict(), "written": written is not None}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        adapting = f"; adapting {result.base_model}" if result.base_model else ""
        print(f"feedback: {result.feedback_train} to train on, {result.feedback_held_out} held out; "
              f"base data: {result.base_rows} row(s){adapting}")
        for name, m in (("current model", result.before), ("retrained model", result.after)):
            print(f"{name} on held-out feedback:")
            print(format_metrics(m))
    if written is None:
        print(f"spamguard train: not written: {result.refusal}; use --force to write it anyway", file=sys.stderr)
        return 1
    if result.refusal:
        print(f"spamguard train: written despite: {result.refusal} (--force)", file=sys.stderr)
    print(f"spamguard: wrote {args.output}", file=sys.stderr)
    return 0
