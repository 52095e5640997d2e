"""``spamguard train --feedback DB [DATA...]``: retrain from moderators' feedback, safely.

Prints the current and the retrained model's metrics on held-out feedback and refuses to
write a model that is worse than the current one unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

FEEDBACK_EPILOG = """
retrain from the feedback store (moderators' spam/ham decisions) plus base data:
  spamguard train --feedback ~/.local/share/spamguard/feedback.sqlite3 ../shared/data/sms-spam \\
      -o models/site/model.joblib
"""


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
                       help="count each feedback comment N times in training (default 3)")
    group.add_argument("--force", action="store_true",
                       help="write the new model even when it is worse than the current one (or cannot be compared)")


def run_feedback(args: argparse.Namespace) -> int:
    """Retrain from ``args.feedback`` (and ``args.data``); print before/after; write unless worse."""
    from .._retrain import retrain_from_feedback
    from ..errors import ConfigurationError
    from ..feedback import FeedbackStore
    from ..local import LocalModel
    from ._data import LabelledRecords, expand

    db = args.feedback if "://" in args.feedback else Path(args.feedback).expanduser()  # a path, or a store URL
    if isinstance(db, Path) and not db.exists():
        raise ConfigurationError(f"there is no feedback store at {db}; give the path of one with --feedback")
    if not 0.0 < args.held_out < 1.0:
        print(f"spamguard train: error: --held-out must be between 0 and 1, got {args.held_out}", file=sys.stderr)
        return 2
    store = FeedbackStore(db)
    files = expand(args.data) if args.data else []
    base = LabelledRecords(files, args.format)
    current = LocalModel.load(args.model)
    print(f"spamguard: retraining on {len(store)} feedback row(s) and {len(files)} data file(s)...", file=sys.stderr)
    try:
        result = retrain_from_feedback(
            store, base, current=current, held_out=args.held_out, seed=args.seed,
            feedback_weight=args.feedback_weight, cv=args.cv, threshold=args.threshold,
        )
    except ValueError as exc:
        print(f"spamguard train: error: {exc}", file=sys.stderr)
        return 1
    summary: dict[str, Any] = {"model": args.output, **result.to_dict(), "written": False}
    comparable = result.after is not None and result.before is not None
    refuse = None
    if not comparable:
        refuse = ("the held-out feedback does not hold both spam and ham, so the new model cannot be compared "
                  "with the current one")
    elif result.worse:
        refuse = "the new model is worse than the current one on the held-out feedback"
    if refuse and not args.force:
        summary["refused"] = refuse
    else:
        result.model.save(
            args.output, seed=args.seed, rows=result.base_rows + result.feedback_train,
            training_data=[{"file": f} for f in files] + [{"feedback": store.location, "rows": result.feedback_train,
                                                          "weight": args.feedback_weight}],
            metrics={"held_out_feedback": result.after, "previous_model_on_held_out_feedback": result.before},
        )
        summary["written"] = True
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"feedback: {result.feedback_train} to train on, {result.feedback_held_out} held out; "
              f"base data: {result.base_rows} row(s)")
        for name, m in (("current model", result.before), ("retrained model", result.after)):
            print(f"{name} on held-out feedback:")
            print(_metrics_line(m))
    if refuse and not args.force:
        print(f"spamguard train: not written: {refuse}; use --force to write it anyway", file=sys.stderr)
        return 1
    if refuse:
        print(f"spamguard train: written despite: {refuse} (--force)", file=sys.stderr)
    print(f"spamguard: wrote {args.output}", file=sys.stderr)
    return 0


def _metrics_line(m: dict[str, Any] | None) -> str:
    if m is None:
        return "  n/a (the held-out feedback needs both spam and ham)"

    def f(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    return (f"  n {m['n']}  accuracy {f(m['accuracy'])}  precision {f(m['precision'])}  recall {f(m['recall'])}  "
            f"f1 {f(m['f1'])}  roc_auc {f(m['roc_auc'])}")
