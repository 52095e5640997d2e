"""``spamguard keys``: create, list and revoke the API keys ``spamguard serve`` accepts (a keys file or PostgreSQL)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from .. import _settings
from ..errors import ConfigurationError
from ..server import DEFAULT_KEY_LENGTH, MAX_KEY_LENGTH, MIN_KEY_LENGTH, KeyStore, current_month
from ._args import non_negative_int, whole_number
from ._help import HelpFormatter

_EPILOG = """\
examples:
  spamguard keys add --keys-file /etc/spamguard/keys.json --site https://blog.example
  spamguard keys list --keys-file /etc/spamguard/keys.json
  spamguard keys revoke --keys-file /etc/spamguard/keys.json k_1a2b3c4d
  spamguard keys add --store postgresql://db/spamguard --site https://blog.example

The key is printed once, alone on stdout; the store keeps only a slow, salted hash of it.
--store postgresql://... keeps the keys in PostgreSQL, where every `spamguard serve --store`
given the same URL sees them. SPAMGUARD_KEYS_FILE stands in for --keys-file,
SPAMGUARD_SERVER_STORE for --store."""

_ADD_EPILOG = """\
examples:
  spamguard keys add --keys-file /etc/spamguard/keys.json --site https://blog.example
  spamguard keys add --keys-file keys.json --site https://a.example --site https://b.example
  spamguard keys add --keys-file keys.json --site https://forum.example --limit 50000
  spamguard keys add --keys-file keys.json --site https://shop.example --length 32 > shop.key
  spamguard keys add --store postgresql://db/spamguard --site https://blog.example

The key is printed once, alone on stdout (redirect it to a file, as above, or copy it now);
the store keeps only a scrypt hash of it. 12 characters (48 bits) is the length the
WordPress Akismet plugin accepts; the service limits failed key attempts per client address
(`spamguard serve --key-failures`) so that 48 bits cannot be guessed. Clients that take any
key can have longer ones (--length 32: 128 bits). The folder of the keys file must exist.
SPAMGUARD_KEYS_FILE stands in for --keys-file, SPAMGUARD_SERVER_STORE for --store."""

_LIST_EPILOG = """\
examples:
  spamguard keys list --keys-file /etc/spamguard/keys.json
  spamguard keys list --keys-file keys.json --json | jq -r 'select(.revoked | not) | .id'

  spamguard keys list --store postgresql://db/spamguard

One row per key, revoked ones included: its id, status, when it was made, this month's
API calls (from the usage file beside the keys file, or the store's usage table: every
server's calls, written once a second), its monthly limit and its sites.
The keys themselves are never shown: the store does not hold them.
SPAMGUARD_KEYS_FILE stands in for --keys-file, SPAMGUARD_SERVER_STORE for --store."""

_REVOKE_EPILOG = """\
examples:
  spamguard keys list --keys-file /etc/spamguard/keys.json        # find the key's id
  spamguard keys revoke --keys-file /etc/spamguard/keys.json k_1a2b3c4d
  spamguard keys revoke --store postgresql://db/spamguard k_1a2b3c4d

The key stays in the store, marked revoked, so that its usage keeps a name; every request
with it is answered `invalid` from then on. Every running `spamguard serve` on that keys
file or store notices within a second, without a restart. SPAMGUARD_KEYS_FILE stands in
for --keys-file, SPAMGUARD_SERVER_STORE for --store."""


def register(subparsers: Any) -> None:
    """Add ``keys`` and its subcommands to the ``spamguard`` parser."""
    parser = subparsers.add_parser(
        "keys",
        help="manage the API keys of the self-hosted service (add, list, revoke)",
        description="Manage the API keys that `spamguard serve` accepts.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.set_defaults(handler=lambda args: _usage(parser))
    actions = parser.add_subparsers(dest="keys_command", metavar="ACTION")

    add = actions.add_parser(
        "add", help="create a key for one or more sites and print it",
        description="Create an API key for one or more sites, add it to the keys file, print it.",
        epilog=_ADD_EPILOG, formatter_class=HelpFormatter,
    )
    _keys_file_option(add)
    add.add_argument("--site", action="append", required=True, metavar="URL",
                     help="a site URL the key may be used from (repeat for several)")
    add.add_argument("--limit", type=non_negative_int, metavar="N",
                     help="calls a month the key may make; usage-limit reports it and answers beyond it carry "
                     "Akismet's usage alert (default: none)")
    add.add_argument("--length", type=_key_length, default=DEFAULT_KEY_LENGTH, metavar="N",
                     help=f"hex characters in the key, {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH}, 4 bits each "
                     "(default: %(default)s, the length the WordPress plugin accepts)")
    add.set_defaults(handler=_add)

    list_ = actions.add_parser(
        "list", help="list keys: ids, sites, this month's usage (never the keys)",
        description="List the keys: ids, status, this month's calls, limits and sites.",
        epilog=_LIST_EPILOG, formatter_class=HelpFormatter,
    )
    _keys_file_option(list_)
    list_.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    list_.set_defaults(handler=_list)

    revoke = actions.add_parser(
        "revoke", help="revoke a key by its id",
        description="Revoke a key: requests with it are refused from then on (the entry stays).",
        epilog=_REVOKE_EPILOG, formatter_class=HelpFormatter,
    )
    _keys_file_option(revoke)
    revoke.add_argument("id", help="the key's id, as `spamguard keys list` shows it (k_...)")
    revoke.set_defaults(handler=_revoke)


def _key_length(text: str) -> int:
    """An argparse ``type`` for --length: a whole number of key characters within the allowed range."""
    value = whole_number(MIN_KEY_LENGTH)(text)
    if value > MAX_KEY_LENGTH:
        raise argparse.ArgumentTypeError(f"{text!r} must be at most {MAX_KEY_LENGTH}")
    return value


def _keys_file_option(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keys-file", metavar="FILE", help="the JSON keys file (default: $SPAMGUARD_KEYS_FILE)")
    where.add_argument("--store", metavar="URL",
                       help="the keys in PostgreSQL (postgresql://USER:PASSWORD@HOST/DB), as `spamguard serve --store` "
                       "uses them; a path here is a keys file (default: $SPAMGUARD_SERVER_STORE)")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


@contextlib.contextmanager
def _store(args: argparse.Namespace) -> Iterator[KeyStore]:
    location = args.store or args.keys_file or _settings.server_store()
    if not location:
        raise ConfigurationError("name the keys file with --keys-file FILE, or a PostgreSQL store with --store URL "
                                 "(or set SPAMGUARD_KEYS_FILE or SPAMGUARD_SERVER_STORE)")
    store = KeyStore(location)
    try:
        yield store
    finally:
        store.close()


def _add(args: argparse.Namespace) -> int:
    with _store(args) as store:
        key, entry = store.add(args.site, limit=args.limit, length=args.length)
    print(key)
    print(
        f"spamguard: created key {entry.id} ({len(key)} characters, {4 * len(key)} bits) for "
        f"{', '.join(entry.sites)} in {store.location}; copy it now: the store keeps only a hash of it",
        file=sys.stderr,
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        return _list_keys(store, args)


def _list_keys(store: KeyStore, args: argparse.Namespace) -> int:
    entries = store.entries()
    month = current_month()
    usage = store.open_usage() if store.usage_path is None or store.usage_path.exists() else None
    try:
        calls = {e.id: usage.month_calls(e.id, month) if usage else 0 for e in entries}
    finally:
        if usage is not None:
            usage.close()
    if args.json:
        for e in entries:
            print(json.dumps({
                "id": e.id, "sites": list(e.sites), "created": e.created, "revoked": e.revoked,
                "limit": e.limit, "month": month, "usage": calls[e.id],
            }))
        return 0
    if not entries:
        print(f"spamguard: no keys in {store.location}; create one with `spamguard keys add`", file=sys.stderr)
        return 0
    print(f"{'ID':<12} {'STATUS':<8} {'CREATED':<21} {'CALLS ' + month:>14} {'LIMIT':>8}  SITES")
    for e in entries:
        status = "revoked" if e.revoked else "active"
        limit = "none" if e.limit is None else str(e.limit)
        print(f"{e.id:<12} {status:<8} {e.created:<21} {calls[e.id]:>14} {limit:>8}  {' '.join(e.sites)}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with _store(args) as store:
        entry = store.revoke(args.id)
    print(f"spamguard: revoked key {entry.id} ({', '.join(entry.sites)})", file=sys.stderr)
    return 0
