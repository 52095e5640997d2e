"""The Akismet-compatible WSGI application: routing, the protocol's answers, and error mapping.

Every answer is built here. Library exceptions and the server's own refusals become HTTP
answers in one place, :meth:`AkismetApp._answer_error`: ``invalid`` (HTTP 200, as Akismet
does) with ``X-akismet-debug-help`` for a bad key, site or parameter; 413 for a body that
is too large; 429 with ``Retry-After`` for a key over its rate; 503 when the classifier
cannot answer; 500 with a plain sentence for anything else (the traceback goes to the log,
never to the client).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urlsplit

import attrs

from .. import __version__
from ..akismet import protocol
from ..akismet.protocol import SiteActivity
from ..classifier import Classifier
from ..comment import Comment
from ..errors import ConfigurationError, InvalidCommentError, InvalidRequestError, SpamGuardError
from ..policy import DEFAULT_DISCARD_THRESHOLD, Policy
from ..verdict import Action, Source, Verdict
from ._batch import CheckBatcher
from ._form import Invalid, is_true, parse_form, single, whole
from ._keys import ApiKey, KeyStore, hash_key
from ._limits import BodyTooLarge, RateLimiter
from ._metrics import Metrics
from ._model import describe, fast_judge
from ._usage import UsageStore, current_month

__all__ = [
    "AkismetApp",
    "FeedbackRecorder",
    "make_app",
    "DEFAULT_DISCARD_THRESHOLD",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_RATE_LIMIT",
    "THANKS",
]

_log = logging.getLogger("spamguard.server")

DEFAULT_MAX_BODY_BYTES = 1 << 20
"""Largest request body accepted (1 MiB: a 64k-character comment, percent-encoded, and what plugins add)."""
DEFAULT_RATE_LIMIT = 50.0
"""Requests a second per key, on average (bursts of twice that)."""
THANKS = protocol.THANKS
"""The body of a successful submit-spam or submit-ham."""


class FeedbackRecorder(Protocol):
    """Where submit-spam and submit-ham go: :class:`spamguard.FeedbackStore` or anything with its ``record``."""

    def record(self, comment: Comment, spam: bool, *, source: str = ..., verdict: Verdict | None = None) -> Any:
        """Store one report that ``comment`` is (``spam=True``) or is not spam."""
        ...


class _HttpError(Exception):
    """The request gets this HTTP status and plain-text message."""

    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.status = status
        self.message = message
        self.headers = tuple(headers)
        super().__init__(message)


class _RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        self.retry_after = RateLimiter.retry_after(wait)
        super().__init__(f"retry after {self.retry_after} s")


@attrs.frozen
class _Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class _Route:
    name: str
    methods: tuple[str, ...]
    handler: str


_ROUTES = {
    protocol.PATHS[name]: _Route(name, methods, handler)
    for name, methods, handler in (
        (protocol.VERIFY_KEY, ("POST",), "_verify_key"),
        (protocol.COMMENT_CHECK, ("POST",), "_comment_check"),
        (protocol.SUBMIT_SPAM, ("POST",), "_submit_spam"),
        (protocol.SUBMIT_HAM, ("POST",), "_submit_ham"),
        (protocol.USAGE_LIMIT, ("GET", "POST"), "_usage_limit"),
        (protocol.KEY_SITES, ("GET", "POST"), "_key_sites"),
    )
}
_ROUTES.update({
    "/health": _Route("health", ("GET",), "_health"),
    "/metrics": _Route("metrics", ("GET",), "_metrics"),
})


def _text(body: str, *headers: tuple[str, str], status: int = 200) -> _Response:
    return _Response(status, body.encode("utf-8"), headers=tuple(headers))


def _json(data: Any) -> _Response:
    return _Response(200, json.dumps(data).encode("utf-8"), "application/json")


def _header_value(text: str) -> str:
    """Text made safe for an HTTP header: one line, ASCII, bounded."""
    flat = " ".join(text.split())
    return flat.encode("ascii", "backslashreplace").decode("ascii")[:400]


@attrs.frozen
class _Caller:
    key: ApiKey
    blog: str | None


class AkismetApp:
    """A WSGI application (PEP 3333) that answers the Akismet API with a local classifier.

    Build it with :func:`make_app`. Besides being callable, it has :attr:`metrics` and
    :meth:`close` (writes pending usage counts; call it when the server stops).
    """

    def __init__(
        self,
        *,
        classifier: Classifier,
        keys: KeyStore | None,
        usage: UsageStore,
        feedback: FeedbackRecorder | None,
        discard_threshold: float | None,
        max_body_bytes: int,
        limiter: RateLimiter | None,
        max_content_chars: int | None,
        max_batch: int = 1,
    ) -> None:
        self.classifier = classifier
        self.keys = keys
        self.usage = usage
        self.feedback = feedback
        self.discard_threshold = discard_threshold
        # Spam or discard answer "true"; hold does not exist in the protocol, so no hold threshold.
        self.policy = Policy(discard_threshold=discard_threshold, hold_threshold=None)
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter
        self.max_content_chars = max_content_chars
        self.model_info = describe(classifier)
        self.metrics = Metrics({"version": __version__, "model": str(self.model_info.get("name", "unknown"))})
        self._judge_many = fast_judge(classifier) or classifier.check_many
        self._check: Callable[[Comment], Verdict] = self._check_one
        if max_batch > 1:
            self._check = CheckBatcher(
                lambda cs: self._judge_many(cs), lambda c: self._judge_many([c])[0],
                max_batch=max_batch, on_batch=self.metrics.model_call,
            )
        self._feedback_lock = threading.Lock()
        self._guid_prefix = secrets.token_hex(8)
        self._guid_counter = itertools.count()
        self._started = time.monotonic()

    def __repr__(self) -> str:
        keys = "any key" if self.keys is None else repr(self.keys)
        return f"AkismetApp(classifier={type(self.classifier).__name__}, keys={keys})"

    def close(self) -> None:
        """Write pending usage counts and close the usage file."""
        self.usage.close()

    # --- WSGI -----------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        path = environ.get("PATH_INFO") or "/"
        if len(path) > 1:
            path = path.rstrip("/")
        route = _ROUTES.get(path)
        endpoint = route.name if route else "other"
        try:
            response = self._dispatch(route, environ)
        except Exception as exc:  # every failure becomes an answer here, never a traceback
            response = self._answer_error(exc, endpoint, environ)
        self.metrics.request(endpoint, response.status, time.perf_counter() - started)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [response.body]

    def _dispatch(self, route: _Route | None, environ: dict[str, Any]) -> _Response:
        if route is None:
            raise _HttpError(
                404, "Not found. The Akismet API lives under /1.1/ and /1.2/ (for example /1.1/comment-check)."
            )
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "HEAD" and "GET" in route.methods:
            method = "GET"
        if method not in route.methods:
            allowed = ", ".join(route.methods)
            raise _HttpError(405, f"{route.name} takes {allowed} requests, not {method}.", [("Allow", allowed)])
        handler: Callable[[dict[str, Any]], _Response] = getattr(self, route.handler)
        return handler(environ)

    # --- errors: the one place where exceptions become answers ---------------------------

    def _answer_error(self, exc: Exception, endpoint: str, environ: dict[str, Any]) -> _Response:
        if isinstance(exc, InvalidCommentError):
            exc = Invalid(f"Invalid comment parameter: {exc}")
        elif isinstance(exc, InvalidRequestError):
            exc = Invalid(exc.debug_help or str(exc))
        if isinstance(exc, Invalid):
            self.metrics.invalid(endpoint)
            _log.info("%s: invalid: %s", endpoint, exc.debug_help)
            return _text(protocol.INVALID, (protocol.DEBUG_HELP, _header_value(exc.debug_help)))
        if isinstance(exc, BodyTooLarge):
            return _text(
                f"Request body too large: this server accepts at most {exc.limit:,} bytes.\n", status=413
            )
        if isinstance(exc, _RateLimited):
            return _text(
                f"Too many requests for this API key; retry after {exc.retry_after} seconds.\n",
                ("Retry-After", str(exc.retry_after)),
                status=429,
            )
        if isinstance(exc, _HttpError):
            return _text(exc.message + "\n", *exc.headers, status=exc.status)
        if isinstance(exc, SpamGuardError):
            _log.warning("%s: could not answer: %s", endpoint, exc)
            return _text(
                "The service could not answer just now; try again shortly.\n", ("Retry-After", "5"), status=503
            )
        _log.error(
            "%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), exc_info=exc
        )
        return _text("Internal server error; the details are in the server log.\n", status=500)

    # --- request parsing ------------------------------------------------------------------

    def _caller(self, params: dict[str, str | list[str]], *, need_blog: bool) -> _Caller:
        """Who is calling: the key's entry, checked against the site; raises ``Invalid``."""
        key = single(params, "api_key") or single(params, "key")
        if not key:
            raise Invalid('Empty "api_key" value: send your API key as api_key.')
        blog = single(params, "blog")
        entry = self._authenticate(key)
        if need_blog and not blog:
            raise Invalid('Empty "blog" value: send your site\'s front-page URL as blog (for example https://blog.example).')
        if blog:
            parts = urlsplit(blog)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise Invalid(
                    f"We were unable to parse your blog URI {blog!r}: give the full URL, including http:// or https://."
                )
            if self.keys is not None and not entry.allows(blog):
                raise Invalid(
                    f"This API key is not allowed for the site {blog!r}; its sites are set with "
                    "`spamguard keys add --site URL`."
                )
        if self.limiter is not None:
            wait = self.limiter.acquire(entry.id)
            if wait > 0:
                raise _RateLimited(wait)
        return _Caller(entry, blog)

    def _authenticate(self, key: str) -> ApiKey:
        if self.keys is None:  # open mode: any key, counted under a name derived from it
            digest = hash_key(key)
            return ApiKey(id="open-" + digest[:10], sha256=digest, sites=(), created="")
        entry = self.keys.authenticate(key)
        if entry is None:
            raise Invalid("Invalid API key: this server does not know it. Ask its operator for a key.")
        if entry.revoked:
            raise Invalid(f"This API key ({entry.id}) has been revoked. Ask the server's operator for a new one.")
        return entry

    def _comment(self, params: dict[str, str | list[str]]) -> Comment:
        if not single(params, "user_ip"):
            raise Invalid('Empty "user_ip" value: send the commenter\'s IP address as user_ip.')
        data: dict[str, Any] = dict(params)
        if "comment_content" not in data and "content" not in data:
            data["comment_content"] = ""  # Akismet does not require the text
        for name, value in list(data.items()):
            if isinstance(value, list) and name != "comment_context[]":
                data[name] = value[-1]
        return Comment.from_mapping(data, max_content_chars=self.max_content_chars)

    # --- the Akismet endpoints ------------------------------------------------------------

    def _verify_key(self, environ: dict[str, Any]) -> _Response:
        self._caller(parse_form(environ, self.max_body_bytes), need_blog=True)
        return _text(protocol.VALID)

    def _comment_check(self, environ: dict[str, Any]) -> _Response:
        params = parse_form(environ, self.max_body_bytes)
        caller = self._caller(params, need_blog=True)
        comment = self._comment(params)
        spam, discard = self._judge(comment)
        assert caller.blog is not None
        self.usage.count(caller.key.id, caller.blog, api_calls=1, **({"spam": 1} if spam else {"ham": 1}))
        self.metrics.verdict("discard" if discard else "spam" if spam else "ham")
        headers = [(protocol.GUID, self._next_guid())]
        if discard:
            headers.append((protocol.PRO_TIP, protocol.DISCARD_TIP))
        return _text(protocol.TRUE if spam else protocol.FALSE, *headers)

    def _next_guid(self) -> str:
        """A new check id: 16 random hex digits for this process, then a counter (unique, and cheap:
        uuid4 asks the kernel for randomness on every call, which showed in profiles)."""
        return f"{self._guid_prefix}{next(self._guid_counter):016x}"

    def _judge(self, comment: Comment) -> tuple[bool, bool]:
        """(spam, discard) for a comment: Akismet's test values first, then the classifier and the policy."""
        fixed = protocol.answer_for_test_values(comment.author, comment.author_email, comment.user_role)
        if fixed is not None:
            return fixed, False
        action = self.policy.decide(self._check(comment), comment)
        return action in (Action.SPAM, Action.DISCARD), action is Action.DISCARD

    def _check_one(self, comment: Comment) -> Verdict:
        (verdict,) = self._judge_many([comment])
        self.metrics.model_call(1)
        return verdict

    def _submit_spam(self, environ: dict[str, Any]) -> _Response:
        return self._submit(environ, spam=True)

    def _submit_ham(self, environ: dict[str, Any]) -> _Response:
        return self._submit(environ, spam=False)

    def _submit(self, environ: dict[str, Any], *, spam: bool) -> _Response:
        params = parse_form(environ, self.max_body_bytes)
        caller = self._caller(params, need_blog=True)
        comment = self._comment(params)
        if not is_true(params.get("is_test")) and self.feedback is not None:
            earlier = single(params, "comment_check_response")
            verdict = (Verdict(spam=earlier == protocol.TRUE, source=Source.LOCAL)
                       if earlier in (protocol.TRUE, protocol.FALSE) else None)
            with self._feedback_lock:
                self.feedback.record(comment, spam, source=f"api:{caller.key.id}", verdict=verdict)
        assert caller.blog is not None
        counter = "missed_spam" if spam else "false_positives"
        self.usage.count(caller.key.id, caller.blog, api_calls=1, **{counter: 1})
        return _text(protocol.THANKS)

    def _usage_limit(self, environ: dict[str, Any]) -> _Response:
        caller = self._caller(parse_form(environ, self.max_body_bytes), need_blog=False)
        limit = caller.key.limit
        used = self.usage.month_calls(caller.key.id)
        percentage = f"{100.0 * used / limit:.2f}" if limit else "0.00"
        return _json({
            "limit": limit if limit is not None else "none",
            "usage": used,
            "percentage": percentage,
            "throttled": limit is not None and used > limit,
        })

    def _key_sites(self, environ: dict[str, Any]) -> _Response:
        params = parse_form(environ, self.max_body_bytes)
        caller = self._caller(params, need_blog=False)
        month = single(params, "month") or current_month()
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise Invalid(f"month must be YYYY-MM (for example {current_month()}), got {month!r}.")
        fmt = (single(params, "format") or "json").lower()
        if fmt not in ("json", "csv"):
            raise Invalid(f"format must be json or csv, got {fmt!r}.")
        limit = whole(params, "limit", 500, 1, 500)
        offset = whole(params, "offset", 0, 0, 10**9)
        order = single(params, "order") or "api_calls"
        order = {"total": "api_calls", "false_positive": "false_positives"}.get(order, order)
        columns = protocol.KEY_SITES_COLUMNS
        if order not in ("site", *columns):
            raise Invalid(f"order must be site or one of {', '.join(columns)}, got {order!r}.")
        rows, total = self.usage.sites(
            caller.key.id, month, site_filter=single(params, "filter"), order=order, limit=limit, offset=offset
        )
        sites = [
            SiteActivity(
                site=str(row["site"]), **{name: int(row[name]) for name in columns},
                is_revoked=caller.key.revoked or (self.keys is not None and not caller.key.allows(str(row["site"]))),
            )
            for row in rows
        ]
        if fmt == "csv":
            text = protocol.key_sites_csv(caller.key.id, month, sites, limit=limit, offset=offset, total=total)
            return _Response(200, text.encode("utf-8"), "text/csv; charset=utf-8")
        text = protocol.key_sites_json(month, sites, limit=limit, offset=offset, total=total)
        return _Response(200, text.encode("utf-8"), "application/json")

    # --- operations endpoints ---------------------------------------------------------------

    def _health(self, environ: dict[str, Any]) -> _Response:
        return _json({
            "status": "ok",
            "version": __version__,
            "model": self.model_info,
            "keys": "any" if self.keys is None else sum(not k.revoked for k in self.keys.entries()),
            "uptime_seconds": round(time.monotonic() - self._started, 1),
        })

    def _metrics(self, environ: dict[str, Any]) -> _Response:
        return _Response(200, self.metrics.render().encode("utf-8"), "text/plain; version=0.0.4; charset=utf-8")


# --- helpers -------------------------------------------------------------------------------


def make_app(
    *,
    classifier: Classifier | None = None,
    keys: KeyStore | str | os.PathLike[str] | None = None,
    allow_any_key: bool = False,
    feedback: FeedbackRecorder | str | os.PathLike[str] | None = None,
    usage: UsageStore | None = None,
    discard_threshold: float | None = DEFAULT_DISCARD_THRESHOLD,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    rate_limit: float | None = DEFAULT_RATE_LIMIT,
    burst: float | None = None,
    max_content_chars: int | None = None,
    max_batch: int = 32,
) -> AkismetApp:
    """Build the Akismet-compatible WSGI application.

    ``classifier`` judges comments (default: the shipped local model, ``LocalModel.load()``).
    ``keys`` is a :class:`KeyStore` or the path of a keys file; without one, pass
    ``allow_any_key=True`` to accept any non-empty key (for a server only your own sites
    can reach). ``feedback`` receives submit-spam/submit-ham reports (a
    :class:`spamguard.FeedbackStore` or its path); without it they are acknowledged and
    only counted. ``usage`` counts calls per key and month (default: a SQLite file beside
    the keys file, or memory in open mode). Limits: ``max_body_bytes`` (413 beyond it),
    ``rate_limit`` requests a second per key with bursts of ``burst`` (429; ``None``
    turns it off), ``max_content_chars`` for comment text. Comment-checks in flight at the
    same time are judged together, up to ``max_batch`` per ``check_many`` call (1: one by one).
    """
    if keys is None and not allow_any_key:
        raise ConfigurationError(
            "the server needs API keys: pass keys=KeyStore(path) (create keys with `spamguard keys add`), "
            "or allow_any_key=True to accept any key"
        )
    if keys is not None and allow_any_key:
        raise ConfigurationError("give keys or allow_any_key=True, not both")
    if discard_threshold is not None and not 0.0 < discard_threshold <= 1.0:
        raise ConfigurationError(f"discard_threshold must be in (0, 1] or None (off), got {discard_threshold!r}")
    if max_body_bytes <= 0:
        raise ConfigurationError(f"max_body_bytes must be positive, got {max_body_bytes!r}")
    store = keys if isinstance(keys, KeyStore) or keys is None else KeyStore(keys)
    limiter = None
    if rate_limit is not None:
        try:
            limiter = RateLimiter(rate_limit, burst)
        except ValueError as exc:
            raise ConfigurationError(f"rate limit: {exc}") from None
    if classifier is None:
        from .. import LocalModel  # the local model ships with spamguard

        classifier = LocalModel.load()
    recorder: FeedbackRecorder | None
    if isinstance(feedback, (str, os.PathLike)):
        from .. import FeedbackStore

        recorder = FeedbackStore(feedback)
    else:
        recorder = feedback
    if usage is None:
        usage = UsageStore(store.usage_path if store is not None else None)
    if recorder is None:
        _log.warning("no feedback store: submit-spam and submit-ham are acknowledged and counted but not stored")
    assert classifier is not None
    return AkismetApp(
        classifier=classifier,
        keys=store,
        usage=usage,
        feedback=recorder,
        discard_threshold=discard_threshold,
        max_body_bytes=max_body_bytes,
        limiter=limiter,
        max_content_chars=max_content_chars,
        max_batch=max_batch,
    )
