"""``spamguard feedback``: look after the feedback store (purge, erase, export, stats)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..feedback import FeedbackStore, default_feedback_store
from ._args import ip_address
from ._help import HelpFormatter, examples

_EPILOG = examples(
    "spamguard feedback stats",
    "spamguard feedback purge --older-than 90d",
    "spamguard feedback erase --email alice@example.org",
    "spamguard feedback export -o feedback.jsonl --store /var/lib/blog/feedback.sqlite3",
    "spamguard feedback stats --store postgresql://blog@db.internal/blog",
    notes="The store is --store (a file, or a postgresql:// URL; --db is the same option), else "
    "SPAMGUARD_FEEDBACK_DB, else $XDG_DATA_HOME/spamguard/feedback.sqlite3 "
    "(~/.local/share/spamguard/feedback.sqlite3). A URL's password is never printed; leave it out of the URL "
    "and libpq reads it from PGPASSWORD or ~/.pgpass.",
)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> dt.timedelta:
    """``90d``, ``12h``, ``2w``, ``30m``, ``45s`` or a bare number of days, as a timedelta."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an age; write a number and a unit: 90d, 12h, 2w, 30m or 45s"
        )
    return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "d"])


def register(subparsers: Any) -> None:
    """Add the ``feedback`` command and its actions."""
    parser = subparsers.add_parser(
        "feedback",
        help="purge, erase, export or count the moderators' feedback store",
        description="Look after the feedback store: the moderators' spam/ham decisions that a site records "
        "(Guard.report_spam/report_ham with a store configured, or spamguard serve --feedback), kept for "
        "retraining the local model.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.set_defaults(handler=lambda args: _usage(parser))
    actions = parser.add_subparsers(dest="feedback_command", metavar="ACTION")

    def add(name: str, help_text: str, description: str, *commands: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=description, epilog=examples(*commands),
                                 formatter_class=HelpFormatter)
        sub.add_argument("--store", "--db", dest="store", metavar="PATH|URL",
                         help="the store: a file, or a postgresql://user@host/db URL (default: SPAMGUARD_FEEDBACK_DB "
                              "or the per-user data folder); --db is the same option")
        sub.set_defaults(parser=sub)
        return sub

    purge = add("purge", "delete feedback older than an age (or the retention setting)",
                "Delete the rows recorded more than AGE ago (--older-than), or more than "
                "SPAMGUARD_FEEDBACK_RETENTION_DAYS days ago; prints how many went. Run it from cron.",
                "spamguard feedback purge --older-than 90d",
                "SPAMGUARD_FEEDBACK_RETENTION_DAYS=180 spamguard feedback purge")
    purge.add_argument("--older-than", type=parse_age, metavar="AGE",
                       help="90d, 12h, 2w...; default: SPAMGUARD_FEEDBACK_RETENTION_DAYS")
    purge.set_defaults(handler=_purge)

    erase = add("erase", "delete every row about an email address or IP address (an erasure request)",
                "Delete every row about a person (an erasure request): rows whose author or IP address it is, "
                "and rows that mention the address elsewhere. The rows are overwritten and the write-ahead log "
                "emptied before it returns; if a reader holds the store, it says so and exits 1: run it again "
                "when the reader is done.",
                "spamguard feedback erase --email alice@example.org", "spamguard feedback erase --ip 203.0.113.7")
    erase.add_argument("--email", metavar="ADDRESS", help="the person's e-mail address, as they gave it")
    erase.add_argument("--ip", metavar="ADDRESS", type=ip_address, help="the person's IP address")
    erase.set_defaults(handler=_erase)

    export = add("export", "write the feedback as training JSONL (short field names and a spam/ham label)",
                 "Write the feedback as training JSONL: one comment a line with its short field names and a "
                 "spam/ham label, with pseudonyms where addresses were (what spamguard train reads).",
                 "spamguard feedback export -o feedback.jsonl", "spamguard feedback export --source moderator")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    export.add_argument("--source", action="append", metavar="NAME",
                        help="only rows from this source (moderator, remote...); repeatable")
    export.set_defaults(handler=_export)

    stats = add("stats", "count the rows by label and source",
                "Count the rows by label and by source, and show the dates, the schema version and the "
                "settings of the store.",
                "spamguard feedback stats", "spamguard feedback stats --json --store /var/lib/blog/feedback.sqlite3")
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.set_defaults(handler=_stats)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _store(args: argparse.Namespace) -> FeedbackStore:
    """The store of --store (or the default), which must exist: these commands look after a store, never make one."""
    location = args.store or default_feedback_store()
    if isinstance(location, Path) or "://" not in location:
        path = Path(location).expanduser()
        if not path.exists():
            raise ConfigurationError(f"there is no feedback store at {path}; give its path or URL with --store "
                                     "(or SPAMGUARD_FEEDBACK_DB)")
    return FeedbackStore(location, create=False)


def _purge(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.older_than is None and store.retention_days is None:
        args.parser.error("give --older-than AGE (or set SPAMGUARD_FEEDBACK_RETENTION_DAYS)")
    n = store.purge(args.older_than)
    print(f"purged {n} row(s) from {store.location}", file=sys.stderr)
    print(n)
    return 0


def _erase(args: argparse.Namespace) -> int:
    if args.email is not None and not args.email.strip():
        args.parser.error("argument --email: the address is empty")
    if not args.email and not args.ip:
        args.parser.error("give --email ADDRESS or --ip ADDRESS (or both)")
    store = _store(args)
    n = store.erase(email=args.email, ip=args.ip)
    print(f"erased {n} row(s) from {store.location}", file=sys.stderr)
    print(n)
    return 0


def _export(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.output:
        try:
            fp = open(args.output, "w", encoding="utf-8")  # noqa: SIM115 - closed below; opening is what can fail
        except OSError as exc:
            print(f"spamguard: error: cannot write {args.output} (--output): {exc.strerror or exc}", file=sys.stderr)
            return 1
        with fp:
            n = store.export_jsonl(fp, sources=args.source)
    else:
        n = store.export_jsonl(sys.stdout, sources=args.source)
    print(f"exported {n} row(s) from {store.location}", file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    stats = _store(args).stats()
    if args.json:
        print(json.dumps(stats))
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0
