"""``spamguard notice``: print the data-processing notice (or the privacy-policy paragraph)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import _settings
from ..akismet import DEFAULT_BASE_URL
from ..errors import InvalidNoticeSettingError
from ..guard import MODES
from ..notice import (
    FORMATS,
    LANGUAGES,
    Service,
    ServiceSpec,
    disclosure,
    normalize_language,
    policy_text,
    service_for_remote,
)
from ._help import HelpFormatter, examples

EPILOG = examples(
    "spamguard notice --lang de",
    "spamguard notice --service local --privacy-url https://blog.example/privacy --format markdown",
    "spamguard notice --service \"TypePad AntiSpam\" --service-url https://antispam.example/privacy",
    "spamguard notice --policy --lang fr --retention-days 90 --erasure-contact privacy@blog.example",
    notes="Languages: " + " ".join(LANGUAGES) + " (others fall back to English).",
)

# notice setting -> the option that sets it
_FLAGS = {
    "service": "--service", "Service.name": "--service", "Service.privacy_url": "--service-url",
    "privacy_url": "--privacy-url", "site_name": "--site-name", "target": "--target", "fmt": "--format",
    "retention_days": "--retention-days", "erasure_contact": "--erasure-contact",
}


def register(subparsers: Any) -> None:
    """Add the ``notice`` subcommand."""
    parser = subparsers.add_parser(
        "notice",
        help="print the data-processing notice for comment forms, in many languages",
        description="Print the notice that tells visitors who checks their comment data for spam. By default "
        "it names whoever the configuration sends comment data to, as spamguard check does: the site itself "
        "(the local model) when no Akismet key is set, Akismet when SPAMGUARD_AKISMET_KEY is set, and a "
        "service at another address (SPAMGUARD_AKISMET_URL) by its host name, with its privacy page "
        "(--privacy-url). --service says it instead.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--lang", default="en", help="language code, e.g. de or pt-BR (default: en)")
    parser.add_argument("--format", dest="fmt", choices=FORMATS, default="html", help="output format (default: html)")
    parser.add_argument(
        "--service",
        default="auto",
        metavar="auto|akismet|local|NAME",
        help="who checks comments: auto (default: as configured, like spamguard check), akismet, local "
        "(this site's server) or the NAME of another Akismet-compatible service (needs --service-url)",
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


def configured_remote() -> str | None:
    """The address comment data is sent to as configured (what ``spamguard check`` would ask), or None.

    None without an Akismet key, or with ``SPAMGUARD_GUARD_MODE=local-only``; else
    ``SPAMGUARD_AKISMET_URL``, or Akismet's own address.
    """
    if _settings.akismet_key() is None or _settings.guard(MODES).get("mode") == "local-only":
        return None
    return str(_settings.akismet().get("base_url") or DEFAULT_BASE_URL)


def _service(args: argparse.Namespace) -> ServiceSpec:
    name = args.service.strip()
    if name.lower() in ("auto", "akismet", "local"):
        if args.service_url:
            args.parser.error(f"--service-url is for a service given by name, not {name!r}; use --privacy-url")
        if name.lower() != "auto":
            return name.lower()
        remote = configured_remote()
        service = service_for_remote(remote, privacy_url=args.privacy_url)
        if isinstance(service, Service) and service.privacy_url is None:  # the command can ask for the page
            args.parser.error(
                f"argument --privacy-url: comment data goes to the Akismet-compatible service at {remote}, not to "
                "Akismet; the notice names that service and must link to the page saying what it does with the "
                "data: give that page's address (or name the service yourself: --service NAME --service-url URL)"
            )
        return service
    if not args.service_url:
        args.parser.error(f"--service {name!r} needs --service-url, the privacy page of that service")
    return Service(name, args.service_url)


def _message(exc: InvalidNoticeSettingError) -> str:
    return str(exc).removeprefix(f"{exc.setting}: ")


def run(args: argparse.Namespace) -> int:
    """Print the notice; returns the exit status. A bad option value is a usage error naming the option."""
    try:
        return _run(args)
    except InvalidNoticeSettingError as exc:
        flag = _FLAGS.get(exc.setting)
        if flag is None:  # an environment setting (SPAMGUARD_NOTICE_DISPLAY): a failure, not a usage error
            raise
        parser: argparse.ArgumentParser = args.parser
        parser.error(f"argument {flag}: {_message(exc)}")


def _run(args: argparse.Namespace) -> int:
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
