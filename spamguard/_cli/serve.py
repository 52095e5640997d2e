"""``spamguard serve``: run the Akismet-compatible service under waitress."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import sys
from typing import Any

from .. import _settings
from ..policy import Policy
from ..server import DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT, KeyStore, make_app
from ._args import positive_int

_log = logging.getLogger("spamguard.server")

_EPILOG = """\
examples:
  spamguard keys add --keys-file keys.json --site https://blog.example   # prints the key
  spamguard serve --keys-file keys.json --feedback feedback.sqlite --port 8080

Then point any Akismet client at http://127.0.0.1:8080 instead of https://rest.akismet.com.
Without --keys-file (or SPAMGUARD_KEYS_FILE) the server refuses to start, unless --open
says to accept any key. /health and /metrics answer GET requests."""


def register(subparsers: Any) -> None:
    """Add ``serve`` to the ``spamguard`` parser."""
    parser = subparsers.add_parser(
        "serve",
        help="run a self-hosted Akismet-compatible service backed by the local model",
        description="Answer the Akismet API (verify-key, comment-check, submit-spam/ham, usage-limit, key-sites) "
        "with the local model, under the waitress WSGI server.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080,
                        help="port to listen on; 0 picks a free one (default: %(default)s)")
    access = parser.add_mutually_exclusive_group()
    access.add_argument("--keys-file", metavar="FILE", default=_settings.keys_file(),
                        help="the API keys to accept, made with `spamguard keys add` (default: $SPAMGUARD_KEYS_FILE)")
    access.add_argument("--open", action="store_true",
                        help="accept any non-empty key from any site (only behind a firewall or on loopback)")
    parser.add_argument("--threads", type=positive_int, default=8,
                        help="worker threads; more let more checks share a model call (default: %(default)s)")
    parser.add_argument("--feedback", metavar="DB", default=_settings.feedback_db(),
                        help="SQLite feedback store that submit-spam/submit-ham record into "
                        "(for `spamguard train --feedback`; default: $SPAMGUARD_FEEDBACK_DB); "
                        "without it reports are only counted")
    parser.add_argument("--model", metavar="PATH", help="model to serve (default: the model shipped with spamguard)")
    parser.add_argument("--discard-threshold", type=_threshold, metavar="P",
                        help="spam score from which X-akismet-pro-tip: discard is sent, or 'off' "
                        "(default: $SPAMGUARD_DISCARD_THRESHOLD, else 0.98 as the Guard's policy)")
    parser.add_argument("--max-body-bytes", type=positive_int, default=DEFAULT_MAX_BODY_BYTES, metavar="N",
                        help="largest request body; larger ones get 413 (default: %(default)s)")
    parser.add_argument("--rate-limit", type=float, default=DEFAULT_RATE_LIMIT, metavar="N",
                        help="requests a second per key, on average; 0 turns the limit off (default: %(default)s)")
    parser.add_argument("--burst", type=float, metavar="N", help="requests a key may make at once (default: 2 x rate)")
    parser.add_argument("--max-batch", type=positive_int, default=32, metavar="N",
                        help="comment-checks in flight judged in one model call, at most; 1 judges them one by one "
                        "(default: %(default)s)")
    parser.set_defaults(handler=_serve)


def _threshold(text: str) -> float | str:
    if text.strip().lower() in ("off", "none"):
        return "off"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1, or 'off'") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0 and at most 1, or 'off'")
    return value


def _serve(args: argparse.Namespace) -> int:
    try:
        import waitress
    except ImportError:
        print(
            "spamguard: error: `spamguard serve` needs the waitress WSGI server; "
            "install it with: pip install 'spamguard[server]'",
            file=sys.stderr,
        )
        return 1
    if args.open:
        args.keys_file = None  # --open wins over $SPAMGUARD_KEYS_FILE
    if not args.keys_file and not args.open:
        print(
            "spamguard: error: give --keys-file FILE (create keys with `spamguard keys add`), "
            "or --open to accept any key",
            file=sys.stderr,
        )
        return 2
    if args.open and not _is_loopback(args.host):
        _log.warning("--open on %s: anyone who can reach this address can use the service", args.host)

    if args.discard_threshold is None:
        discard_threshold = Policy.from_env().discard_threshold  # SPAMGUARD_DISCARD_THRESHOLD, else 0.98
    else:
        discard_threshold = None if args.discard_threshold == "off" else float(args.discard_threshold)
    classifier = None
    if args.model:
        from .. import LocalModel

        classifier = LocalModel.load(args.model)
    app = make_app(
        classifier=classifier,
        keys=KeyStore(args.keys_file) if args.keys_file else None,
        allow_any_key=args.open,
        feedback=args.feedback,
        discard_threshold=discard_threshold,
        max_body_bytes=args.max_body_bytes,
        rate_limit=args.rate_limit or None,
        burst=args.burst,
        max_batch=args.max_batch,
    )
    server = waitress.create_server(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident="spamguard",
        # waitress refuses far larger bodies itself; the app answers 413 with its own message
        max_request_body_size=2 * args.max_body_bytes,
    )
    host = getattr(server, "effective_host", args.host)
    port = getattr(server, "effective_port", args.port)
    if not _log.isEnabledFor(logging.DEBUG):
        # waitress warns on every request queued behind busy threads: thousands of lines a
        # minute under load, and their cost shows in profiles. -vv brings them back.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, _stop)
    keys = f"keys from {args.keys_file}" if args.keys_file else "any key (--open)"
    print(
        f"spamguard: serving the Akismet API on http://{host}:{port} "
        f"({args.threads} threads, {keys}, model {app.model_info.get('name')})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.run()  # returns after SIGTERM or Ctrl-C
    finally:
        server.close()
        app.close()
    print("spamguard: stopped", file=sys.stderr)
    return 0


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)  # waitress's loop catches it, closes its sockets and returns


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
