"""``spamguard notice``: print the data-processing notice (or the privacy-policy paragraph)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..notice import FORMATS, LANGUAGES, Service, ServiceSpec, disclosure, normalize_language, policy_text
from ._help import HelpFormatter, examples

EPILOG = examples(
    "spamguard notice --lang de",
    "spamguard notice --service local --privacy-url https://blog.example/privacy --format markdown",
    "spamguard notice --service \"TypePad AntiSpam\" --service-url https://antispam.example/privacy",
    "spamguard notice --policy --lang fr --retention-days 90 --erasure-contact privacy@blog.example",
    notes="Languages: " + " ".join(LANGUAGES) + " (others fall back to English).",
)


def register(subparsers: Any) -> None:
    """Add the ``notice`` subcommand."""
    parser = subparsers.add_parser(
        "notice",
        help="print the data-processing notice for comment forms, in many languages",
        description="Print the notice that tells visitors who checks their comment data for spam.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--lang", default="en", help="language code, e.g. de or pt-BR (default: en)")
    parser.add_argument("--format", dest="fmt", choices=FORMATS, default="html", help="output format (default: html)")
    parser.add_argument(
        "--service",
        default="akismet",
        metavar="akismet|local|NAME",
        help="who checks comments: akismet (default), local (this site's server) or the NAME of "
        "another Akismet-compatible service (needs --service-url)",
    )
    parser.add_argument("--service-url", metavar="URL", help="privacy page of the service named by --service NAME")
    parser.add_argument(
        "--privacy-url",
        metavar="URL",
        help="page the notice links to instead of the service's (for local: the site's privacy page)",
    )
    parser.add_argument("--site-name", help="name of the site, used by the local notice instead of 'this site'")
    parser.add_argument("--target", default="_blank", help="HTML link target (default: _blank; '' for none)")
    parser.add_argument("--policy", action="store_true", help="print the longer privacy-policy paragraph instead")
    parser.add_argument("--retention-days", type=int, metavar="N", help="with --policy: days feedback is kept")
    parser.add_argument("--erasure-contact", metavar="CONTACT", help="with --policy: whom to ask for erasure")
    parser.set_defaults(handler=run, parser=parser)


def _service(args: argparse.Namespace) -> ServiceSpec:
    name = args.service.strip()
    if name.lower() in ("akismet", "local"):
        if args.service_url:
            args.parser.error(f"--service-url is for a service given by name, not {name!r}; use --privacy-url")
        return name.lower()
    if not args.service_url:
        args.parser.error(f"--service {name!r} needs --service-url, the privacy page of that service")
    return Service(name, args.service_url)


def run(args: argparse.Namespace) -> int:
    """Print the notice; returns the exit status."""
    service = _service(args)
    if not args.policy and (args.retention_days is not None or args.erasure_contact is not None):
        args.parser.error("--retention-days and --erasure-contact go with --policy")
    if normalize_language(args.lang) is None:
        print(f"spamguard: warning: no notice in language {args.lang!r}; writing English", file=sys.stderr)
    if args.policy:
        text = policy_text(
            args.lang,
            service=service,
            privacy_url=args.privacy_url,
            retention_days=args.retention_days,
            erasure_contact=args.erasure_contact,
            fmt=args.fmt,
        )
    else:
        text = disclosure(
            args.lang,
            service=service,
            privacy_url=args.privacy_url,
            fmt=args.fmt,
            target=args.target or None,
            site_name=args.site_name,
        )
    print(text)
    return 0
