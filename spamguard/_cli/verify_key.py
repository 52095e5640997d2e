"""``spamguard verify-key``: ask the Akismet-compatible service whether the key is valid for the site."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import _settings
from ..akismet import AkismetClient
from ..errors import ConfigurationError
from ._args import http_url
from ._help import HelpFormatter, examples


def register(subparsers: Any) -> None:
    """Add the ``verify-key`` subcommand."""
    parser = subparsers.add_parser(
        "verify-key",
        help="check that the Akismet API key is valid for your site",
        description="Ask the Akismet-compatible service whether the API key is valid for the site. "
        "Settings not given as options come from SPAMGUARD_AKISMET_KEY, SPAMGUARD_BLOG_URL "
        "and SPAMGUARD_AKISMET_URL.\n\n"
        "Exit status: 0 valid, 1 invalid or the service could not answer, 2 usage error.",
        epilog=examples(
            "SPAMGUARD_AKISMET_KEY=abc123 spamguard verify-key --blog https://blog.example/",
            "spamguard verify-key --base-url http://127.0.0.1:8080    # spamguard serve, or another service",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--key", help="the API key (default: $SPAMGUARD_AKISMET_KEY); beware: options show in ps")
    parser.add_argument("--blog", metavar="URL", type=http_url,
                        help="your site's front page (default: $SPAMGUARD_BLOG_URL)")
    parser.add_argument("--base-url", metavar="URL", type=http_url,
                        help="the service's address (default: $SPAMGUARD_AKISMET_URL or https://rest.akismet.com)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Verify the key; 0 when valid, 1 when not."""
    overrides: dict[str, Any] = {}
    if args.key:
        overrides["api_key"] = args.key
    elif _settings.akismet_key() is None:
        raise ConfigurationError("no Akismet API key: give --key, or set SPAMGUARD_AKISMET_KEY "
                                 "(or PYTHON_AKISMET_API_KEY)")
    if args.blog:
        overrides["blog"] = args.blog
    elif _settings.akismet().get("blog") is None:
        raise ConfigurationError("no site URL: give --blog with your site's front page (e.g. https://blog.example/), "
                                 "or set SPAMGUARD_BLOG_URL")
    if args.base_url:
        overrides["base_url"] = args.base_url
    with AkismetClient.from_env(**overrides) as client:
        valid = client.verify_key()
        where = client.config.blog
    if valid:
        print(f"valid: the key is accepted for {where}")
        return 0
    print(f"invalid: the key is not accepted for {where}")
    print("spamguard: check the key and the site URL (they must match your Akismet account)", file=sys.stderr)
    return 1
