"""``spamguard serve``: run the Akismet-compatible service under waitress."""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import logging
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from .. import _settings
from ..errors import ConfigurationError, KeyStoreError
from ..integrations import TrustedProxies
from ..notice import Service
from ..policy import Policy
from ..server import DEFAULT_KEY_FAILURES, DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT, AccessLog, KeyStore, make_app
from ._args import non_negative_int, positive_float, positive_int
from ._help import HelpFormatter

DEFAULT_CONNECTION_LIMIT = 1000
"""Connections open at once (waitress's own default, 100, let 101 idle connections lock everyone out)."""
DEFAULT_CHANNEL_TIMEOUT = 30.0
"""Seconds a connection may stay idle before it is closed (a check takes milliseconds)."""

_log = logging.getLogger("spamguard.server")

_EPILOG = """\
examples:
  spamguard keys add --keys-file keys.json --site https://blog.example   # prints the key
  spamguard serve --keys-file keys.json --feedback feedback.sqlite --port 8080
  spamguard serve --keys-file keys.json --access-log /var/log/spamguard/requests.log
  spamguard serve --keys-file keys.json --notice-name Hoster --privacy-url https://host.example/p
  spamguard serve --store postgresql://db/spamguard --feedback postgresql://db/spamguard

Then point any Akismet client at http://127.0.0.1:8080 instead of https://rest.akismet.com
(WordPress: see examples/wordpress/README.md). Without --keys-file or --store (or
SPAMGUARD_KEYS_FILE, SPAMGUARD_SERVER_STORE) the server refuses to start, unless --open says
to accept any key. Several servers behind a load balancer share one --store postgresql://... and so
the same keys (added or revoked anywhere, seen everywhere within a second), exact usage
counts, and each key's rate limit across all of them (give them all the same --rate-limit).

Each request is logged on stderr (or --access-log FILE; --quiet for none): time, client,
method, path, the key as *** and its last 4 characters, status, answer, time taken.
GET /notice?lang=de gives the data-processing notice for your visitors: by default that the
site checks comments on its own server (--privacy-url adds a link to your privacy page);
with --notice-name, that comments go to that service. /health and /metrics answer GET."""


def register(subparsers: Any) -> None:
    """Add ``serve`` to the ``spamguard`` parser."""
    parser = subparsers.add_parser(
        "serve",
        help="run a self-hosted Akismet-compatible service backed by the local model",
        description="Answer the Akismet API with the local model, under the waitress WSGI server:\n"
        "verify-key, comment-check, submit-spam/ham, usage-limit, key-sites, and what the\n"
        "WordPress plugin calls besides (get-subscription, get-stats, deactivate, activate,\n"
        "GET /1.1/test).",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080,
                        help="port to listen on; 0 picks a free one (default: %(default)s)")
    access = parser.add_mutually_exclusive_group()
    access.add_argument("--keys-file", metavar="FILE",
                        help="the API keys to accept, made with `spamguard keys add`; usage is counted in "
                        "FILE.usage.sqlite beside it, limits in this process (default: $SPAMGUARD_KEYS_FILE)")
    access.add_argument("--store", metavar="URL",
                        help="keep keys, usage and rate-limit counts in PostgreSQL "
                        "(postgresql://USER:PASSWORD@HOST/DB; needs spamguard[postgres]), shared by every server "
                        "given the same URL; a path here is a keys file (default: $SPAMGUARD_SERVER_STORE)")
    access.add_argument("--open", action="store_true",
                        help="accept any non-empty key from any site (only behind a firewall or on loopback)")
    parser.add_argument("--threads", type=positive_int, default=8,
                        help="worker threads; more let more checks share a model call (default: %(default)s)")
    parser.add_argument("--feedback", metavar="DB", default=_settings.feedback_db(),
                        help="feedback store that submit-spam/submit-ham record into: an SQLite file, or a "
                        "postgresql:// URL that several servers share (for `spamguard train --feedback`; "
                        "default: $SPAMGUARD_FEEDBACK_DB); without it reports are only counted")
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
    parser.add_argument("--key-failures", type=non_negative_int, default=DEFAULT_KEY_FAILURES, metavar="N",
                        help="failed key attempts a client address may make a minute; more get 429 "
                        "(0: no limit; default: %(default)s)")
    parser.add_argument("--trusted-proxies", metavar="ADDRESSES", default=None,
                        help="reverse proxies in front of the service (addresses or networks, comma-separated), "
                        "whose X-Forwarded-For names the client (default: $SPAMGUARD_TRUSTED_PROXIES, else none)")
    parser.add_argument("--connection-limit", type=positive_int, default=DEFAULT_CONNECTION_LIMIT, metavar="N",
                        help="connections open at once, at most (default: %(default)s)")
    parser.add_argument("--channel-timeout", type=positive_float, default=DEFAULT_CHANNEL_TIMEOUT, metavar="SECONDS",
                        help="close a connection idle this long (default: %(default)s)")
    log = parser.add_mutually_exclusive_group()
    log.add_argument("--access-log", metavar="FILE",
                     help="append the request log to FILE instead of stderr")
    log.add_argument("--quiet", action="store_true", help="no request log")
    parser.add_argument("--notice-name", metavar="NAME",
                        help="GET /notice says comments are sent to NAME (who runs this service for the sites); "
                        "needs --privacy-url. Without it the notice says the site checks comments on its own server")
    parser.add_argument("--privacy-url", metavar="URL",
                        help="the privacy page GET /notice links to")
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


def _discard_threshold(args: argparse.Namespace) -> float | None:
    """--discard-threshold, else SPAMGUARD_DISCARD_THRESHOLD, else the Policy's default (0.98); None is off."""
    if args.discard_threshold is None:
        return Policy.from_env().discard_threshold
    return None if args.discard_threshold == "off" else float(args.discard_threshold)


def _notice_service(args: argparse.Namespace) -> Service | str:
    """What GET /notice names: the service run for the site (--notice-name) or the site itself."""
    if args.notice_name is None:
        return "local"
    if args.privacy_url is None:
        raise ConfigurationError(
            "--notice-name needs --privacy-url: the notice names the service and links to its privacy page"
        )
    return Service(args.notice_name, args.privacy_url)


def _trusted_proxies(args: argparse.Namespace) -> TrustedProxies:
    """--trusted-proxies, else SPAMGUARD_TRUSTED_PROXIES."""
    if args.trusted_proxies is None:
        return TrustedProxies.from_env()
    try:
        return TrustedProxies.parse(args.trusted_proxies, where="--trusted-proxies")
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def _listen(waitress: Any, app: Any, args: argparse.Namespace, connection_limit: int, proxies: TrustedProxies) -> Any:
    """The waitress server on --host/--port; a port in use or refused is one ConfigurationError line."""
    try:
        return waitress.create_server(
            app,
            host=args.host,
            port=args.port,
            threads=args.threads,
            ident="spamguard",
            # waitress refuses far larger bodies itself; the app answers 413 with its own message
            max_request_body_size=2 * args.max_body_bytes,
            connection_limit=connection_limit,
            channel_timeout=args.channel_timeout,
            cleanup_interval=max(1.0, min(30.0, args.channel_timeout / 2)),
            asyncore_use_poll=True,  # select() cannot watch more than 1024 connections
            # the app believes X-Forwarded-For from its trusted proxies only; waitress must pass it on
            clear_untrusted_proxy_headers=not proxies.networks,
        )
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
            + (" (another program, perhaps another spamguard serve, uses that port; choose another with --port)"
               if exc.errno == errno.EADDRINUSE else "")
        ) from None


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
    # --open wins over $SPAMGUARD_KEYS_FILE and $SPAMGUARD_SERVER_STORE
    location = None if args.open else args.store or args.keys_file or _settings.server_store()
    if not location and not args.open:
        print(
            "spamguard: error: give --keys-file FILE (create keys with `spamguard keys add`), "
            "--store postgresql://... (keys shared by several servers), or --open to accept any key",
            file=sys.stderr,
        )
        return 2
    if args.open and not _is_loopback(args.host):
        _log.warning("--open on %s: anyone who can reach this address can use the service", args.host)

    discard_threshold = _discard_threshold(args)
    notice = _notice_service(args)
    proxies = _trusted_proxies(args)
    classifier = None
    if args.model:
        from .. import LocalModel

        classifier = LocalModel.load(args.model)
    with contextlib.ExitStack() as cleanup:
        keys = _keys(location) if location else None
        if keys is not None:
            cleanup.callback(keys.close)  # also when make_app fails; app.close (last in, first out) flushes first
        access_log = None if args.quiet else AccessLog(sys.stderr)
        if args.access_log:
            access_log = AccessLog(_open_log(args.access_log), close=True)
        app = make_app(
            classifier=classifier,
            keys=keys,
            allow_any_key=args.open,
            feedback=args.feedback,
            discard_threshold=discard_threshold,
            max_body_bytes=args.max_body_bytes,
            rate_limit=args.rate_limit or None,
            burst=args.burst,
            max_batch=args.max_batch,
            access_log=access_log,
            key_failures=args.key_failures or None,
            trusted_proxies=proxies,
            notice_service=notice,
            privacy_url=args.privacy_url,
        )
        cleanup.callback(app.close)
        connection_limit = _allow_open_files(args.connection_limit)
        server = _listen(waitress, app, args, connection_limit, proxies)
        host = getattr(server, "effective_host", args.host)
        port = getattr(server, "effective_port", args.port)
        if not _log.isEnabledFor(logging.DEBUG):
            # waitress warns on every request queued behind busy threads: thousands of lines a
            # minute under load, and their cost shows in profiles. -vv brings them back.
            logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        signal.signal(signal.SIGTERM, _stop)
        if keys is None:
            accepting = "any key (--open)"
        elif keys.shared:
            accepting = f"keys, usage and limits shared in {keys.location}"
        else:
            accepting = f"keys from {keys.location}"
        requests_to = "no request log" if access_log is None else f"request log to {args.access_log or 'stderr'}"
        print(
            f"spamguard: serving the Akismet API on http://{host}:{port} "
            f"({args.threads} threads, {accepting}, model {app.model_info.get('name')}, {requests_to})",
            file=sys.stderr,
            flush=True,
        )
        try:
            server.run()  # returns after SIGTERM or Ctrl-C
        finally:
            server.close()
    print("spamguard: stopped", file=sys.stderr)
    return 0


def _keys(location: str) -> KeyStore:
    """The key store; a keys file must exist: a server that accepts no key is a mistake, not a start."""
    if "://" in location:
        store = KeyStore(location)
        if not store.entries():
            _log.warning("the store %s holds no key yet: every request is refused until `spamguard keys add "
                         "--store URL`", store.location)
        return store
    file = Path(location)
    if not file.exists():
        raise KeyStoreError(
            f"the keys file {file} does not exist; create it with "
            f"`spamguard keys add --keys-file {file} --site https://your.site`"
        )
    if not file.is_file():
        raise KeyStoreError(f"the keys file {file} is not a file")
    store = KeyStore(file)
    if not store.entries():
        _log.warning("the keys file %s holds no key yet: every request is refused until `spamguard keys add`", file)
    return store


def _open_log(path: str) -> TextIO:
    try:
        return open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed by AccessLog.close
    except OSError as exc:
        raise ConfigurationError(f"cannot open the request log {path}: {exc.strerror or exc}") from None


def _allow_open_files(connections: int) -> int:
    """Raise this process's open-file limit to fit ``connections`` (plus files and a margin) where the
    system allows; otherwise lower the connection limit to fit, saying so."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 64
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return connections
    with contextlib.suppress(ValueError, OSError):
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft >= wanted:
        return connections
    fitted = max(1, soft - 64)
    _log.warning("--connection-limit %d is more than this process may open (%d files); using %d",
                 connections, soft, fitted)
    return fitted


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)  # waitress's loop catches it, closes its sockets and returns


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
