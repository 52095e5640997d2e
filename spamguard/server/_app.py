"""The Akismet-compatible WSGI application: routing, the protocol's answers, and error mapping.

Every answer is built here. Library exceptions and the server's own refusals become HTTP
answers in one place, :meth:`AkismetApp._answer_error`: ``invalid`` (HTTP 200, as Akismet
does) with ``X-akismet-debug-help`` for a bad key, site or required parameter; 400 for a
request that is not an Akismet call at all (a charset nobody can decode); 413 for a body that
is too large; 429 with ``Retry-After`` for a key over its rate or a client address over its
failed key attempts; 503 when the classifier cannot answer; 500 with a plain sentence for
anything else (the traceback goes to the log, never to the client).

Like Akismet, a check is refused (``invalid``) only for what Akismet requires: the key, the
site (``blog``) and the visitor's address (``user_ip``). Any other parameter that cannot be
read (a date in no known form, a URL that is not http(s)...) is left out of the check and
named in ``X-akismet-debug-help``; dates without a zone are UTC, as the ``_gmt`` in their
names says; text longer than the service accepts is cut.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
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

import attrs

from .. import __version__, _settings
from ..akismet import protocol
from ..akismet.protocol import SiteActivity, Stats, Subscription
from ..classifier import Classifier
from ..comment import DEFAULT_MAX_CONTENT_CHARS, FIELD_NAMES, Comment
from ..errors import (
    ConfigurationError,
    InvalidCommentError,
    InvalidNoticeSettingError,
    InvalidRequestError,
    SpamGuardError,
)
from ..integrations import TrustedProxies, client_ip
from ..notice import ServiceSpec, disclosure, negotiate_language, normalize_language
from ..policy import DEFAULT_DISCARD_THRESHOLD, Policy
from ..verdict import Action, Source, Verdict
from ._access import AccessLog
from ._batch import CheckBatcher
from ._form import Invalid, is_true, parse_form, single, whole
from ._keys import ApiKey, KeyStore, normalize_site
from ._limits import BodyTooLarge, FailureLimit, KeyFailures, Limiter, RateLimiter, retry_after
from ._metrics import Metrics
from ._model import describe, fast_judge
from ._usage import UsageStore, current_month
from ._verdicts import RecentVerdicts

__all__ = [
    "AkismetApp",
    "FeedbackRecorder",
    "make_app",
    "DEFAULT_DISCARD_THRESHOLD",
    "DEFAULT_KEY_FAILURES",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_RATE_LIMIT",
    "THANKS",
]

_log = logging.getLogger("spamguard.server")

DEFAULT_MAX_BODY_BYTES = 1 << 20
"""Largest request body accepted (1 MiB: a 64k-character comment, percent-encoded, and what plugins add)."""
DEFAULT_RATE_LIMIT = 50.0
"""Requests a second per key, on average (bursts of twice that)."""
DEFAULT_KEY_FAILURES = 10
"""Failed key attempts a client address may make in a minute before its attempts get 429."""
THANKS = protocol.THANKS
"""The body of a successful submit-spam or submit-ham."""


class FeedbackRecorder(Protocol):
    """Where submit-spam and submit-ham go: :class:`spamguard.FeedbackStore` or anything with its ``record``."""

    def record(self, comment: Comment, spam: bool, *, source: str = ..., verdict: Verdict | None = None) -> Any:
        """Store one report that ``comment`` is (``spam=True``) or is not spam."""
        ...


class _HttpError(Exception):
    """The request gets this HTTP status and plain-text message."""

    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = (), answer: str = "") -> None:
        self.status = status
        self.message = message
        self.headers = tuple(headers)
        self.answer = answer or HTTPStatus(status).phrase.lower().replace(" ", "-")
        super().__init__(message)


class _RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        self.retry_after = retry_after(wait)
        super().__init__(f"retry after {self.retry_after} s")


class _TooManyKeyFailures(_RateLimited):
    """The client address used up its failed key attempts."""


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
        (protocol.GET_SUBSCRIPTION, ("GET", "POST"), "_get_subscription"),
        (protocol.GET_STATS, ("GET", "POST"), "_get_stats"),
        (protocol.DEACTIVATE, ("POST",), "_deactivate"),
        (protocol.ACTIVATE, ("POST",), "_activate"),
        (protocol.CONNECTIVITY_TEST, ("GET", "POST"), "_connectivity_test"),
    )
}
_ROUTES.update({
    "/health": _Route("health", ("GET",), "_health"),
    "/metrics": _Route("metrics", ("GET",), "_metrics"),
    "/notice": _Route("notice", ("GET",), "_notice"),
})
_NOTICE_TYPES = {"html": "text/html; charset=utf-8", "text": "text/plain; charset=utf-8",
                 "markdown": "text/markdown; charset=utf-8"}
_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_MAX_KEY_CHARS = 256  # no key is longer; longer "keys" are refused before any hashing
_MAX_EXTRA = 256  # Comment's limit on extra parameters


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


@attrs.define
class _Exchange:
    """What one request's log line says beyond its method, path and status."""

    key: str | None = None
    answer: str = ""
    debug_help: str | None = None
    ignored: list[str] = attrs.Factory(list)
    """Parameters a check left out, by name only (the log line's ``ignored=``)."""
    why: list[str] = attrs.Factory(list)
    """The same with the reason, for the client's debug help (which may repeat the client's values)."""

    def leave_out(self, name: str, why: str | None = None) -> None:
        self.ignored.append(name)
        self.why.append(f"{name} ({why})" if why else name)
    alerts: list[tuple[str, str]] = attrs.Factory(list)


class AkismetApp:
    """A WSGI application (PEP 3333) that answers the Akismet API with a local classifier.

    Build it with :func:`make_app`. Besides being callable, it has :attr:`metrics` and
    :meth:`close` (writes pending usage counts, closes the stores it opened and the request log;
    call it when the server stops).
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
        limiter: Limiter | None,
        max_content_chars: int,
        max_batch: int = 1,
        access_log: AccessLog | None = None,
        key_failures: FailureLimit | None = None,
        trusted_proxies: TrustedProxies | None = None,
        notice_service: ServiceSpec = "local",
        privacy_url: str | None = None,
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
        self.access_log = access_log
        self.key_failures = key_failures
        self.trusted_proxies = trusted_proxies if trusted_proxies is not None and trusted_proxies.networks else None
        self.notice_service = notice_service
        self.privacy_url = privacy_url
        self.recent = RecentVerdicts()
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
        self._own_feedback: Any = None  # a feedback store make_app opened from a path or URL: closed with the app
        self._guid_prefix = secrets.token_hex(8)
        self._guid_counter = itertools.count()
        self._started = time.monotonic()

    def __repr__(self) -> str:
        keys = "any key" if self.keys is None else repr(self.keys)
        return f"AkismetApp(classifier={type(self.classifier).__name__}, keys={keys})"

    def close(self) -> None:
        """Write pending usage counts; close the usage store, the key store's connections, a feedback store
        opened from its path or URL, and the request log."""
        try:
            self.usage.close()
        finally:
            if self.keys is not None:
                self.keys.close()
            if self._own_feedback is not None:
                self._own_feedback.close()
            if self.access_log is not None:
                self.access_log.close()

    # --- WSGI -----------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        path = environ.get("PATH_INFO") or "/"
        if len(path) > 1:
            path = path.rstrip("/")
        route = _ROUTES.get(path)
        endpoint = route.name if route else "other"
        exchange = _Exchange()
        try:
            response = self._dispatch(route, environ, exchange)
        except Exception as exc:  # every failure becomes an answer here, never a traceback
            response = self._answer_error(exc, endpoint, environ, exchange)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
            *exchange.alerts,
        ]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        seconds = time.perf_counter() - started
        self.metrics.request(endpoint, response.status, seconds)
        if self.access_log is not None:
            refused = response.status != 200 or exchange.answer == protocol.INVALID
            self.access_log.write(
                client=self._client(environ) or "-", method=str(environ.get("REQUEST_METHOD", "-")),
                path=environ.get("PATH_INFO") or "/", key=exchange.key, status=response.status,
                answer=exchange.answer or "-", seconds=seconds,
                debug_help=exchange.debug_help if refused else None,
                ignored=",".join(exchange.ignored) or None,
            )
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [response.body]

    def _client(self, environ: dict[str, Any]) -> str | None:
        """The calling server's address: REMOTE_ADDR, or behind trusted proxies the address they forward."""
        if self.trusted_proxies is None:
            return environ.get("REMOTE_ADDR")
        return client_ip(environ, self.trusted_proxies)

    def _dispatch(self, route: _Route | None, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        if route is None:
            raise _HttpError(
                404, "Not found. The Akismet API lives under /1.1/ and /1.2/ (for example /1.1/comment-check).",
            )
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "HEAD" and "GET" in route.methods:
            method = "GET"
        if method not in route.methods:
            allowed = ", ".join(route.methods)
            raise _HttpError(405, f"{route.name} takes {allowed} requests, not {method}.", [("Allow", allowed)])
        handler: Callable[[dict[str, Any], _Exchange], _Response] = getattr(self, route.handler)
        return handler(environ, exchange)

    # --- errors: the one place where exceptions become answers ---------------------------

    def _answer_error(self, exc: Exception, endpoint: str, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        if isinstance(exc, InvalidCommentError):
            exc = Invalid(f"Invalid comment parameter: {exc}")
        elif isinstance(exc, InvalidRequestError):
            exc = Invalid(exc.debug_help or str(exc))
        if isinstance(exc, Invalid):
            self.metrics.invalid(endpoint)
            _log.info("%s: invalid: %s", endpoint, exc.debug_help)
            exchange.answer, exchange.debug_help = protocol.INVALID, exc.debug_help
            return _text(protocol.INVALID, (protocol.DEBUG_HELP, _header_value(exc.debug_help)))
        if isinstance(exc, BodyTooLarge):
            exchange.answer = "too-large"
            return _text(
                f"Request body too large: this server accepts at most {exc.limit:,} bytes.\n", status=413
            )
        if isinstance(exc, _TooManyKeyFailures):
            exchange.answer = "too-many-key-failures"
            return _text(
                f"Too many failed key attempts from your address; retry after {exc.retry_after} seconds.\n",
                ("Retry-After", str(exc.retry_after)),
                status=429,
            )
        if isinstance(exc, _RateLimited):
            exchange.answer = "rate-limited"
            return _text(
                f"Too many requests for this API key; retry after {exc.retry_after} seconds.\n",
                ("Retry-After", str(exc.retry_after)),
                status=429,
            )
        if isinstance(exc, _HttpError):
            exchange.answer = exc.answer
            return _text(exc.message + "\n", *exc.headers, status=exc.status)
        if isinstance(exc, SpamGuardError):
            _log.warning("%s: could not answer: %s", endpoint, exc)
            exchange.answer = "unavailable"
            return _text(
                "The service could not answer just now; try again shortly.\n", ("Retry-After", "5"), status=503
            )
        _log.error(
            "%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), exc_info=exc
        )
        exchange.answer = "error"
        return _text("Internal server error; the details are in the server log.\n", status=500)

    # --- request parsing ------------------------------------------------------------------

    def _form(self, environ: dict[str, Any]) -> dict[str, str | list[str]]:
        return parse_form(environ, self.max_body_bytes)

    def _caller(
        self, params: dict[str, str | list[str]], environ: dict[str, Any], exchange: _Exchange, *, need_blog: bool,
    ) -> _Caller:
        """Who is calling: the key's entry, checked against the site; raises ``Invalid``.

        The key is ``api_key`` (or the older ``key``) in the request; without either, the
        first label of the host name when it has a key's shape (the legacy
        ``KEY.rest.akismet.com`` form some clients still use).
        """
        key = single(params, "api_key") or single(params, "key")
        from_host = False
        if not key:
            key = protocol.key_from_host(environ.get("HTTP_HOST"))
            from_host = key is not None
        if not key:
            raise Invalid('Empty "api_key" value: send your API key as api_key.')
        exchange.key = protocol.mask_key(key)
        entry = self._authenticate(key, environ, from_host=from_host)
        blog = single(params, "blog")
        if need_blog and not blog:
            raise Invalid('Empty "blog" value: send your site\'s front-page URL as blog (for example https://blog.example).')
        if blog:
            if not _settings.is_http_url(blog) or _site(blog) is None:
                raise Invalid(
                    f"We were unable to parse your blog URI {blog!r}: give the full URL, including http:// or https://."
                )
            if self.keys is not None and not entry.allows(blog):
                raise Invalid(
                    f"This API key is not allowed for the site {blog!r}; its sites are set with "
                    "`spamguard keys add --site URL`."
                )
        if entry.limit is not None:
            calls = self.usage.month_calls_recent(entry.id)
            exchange.alerts = protocol.usage_alert_headers(calls, entry.limit, current_month() + "-01")
        if self.limiter is not None:
            wait = self.limiter.acquire(entry.id)
            if wait > 0:
                raise _RateLimited(wait)
        return _Caller(entry, blog)

    def _authenticate(self, key: str, environ: dict[str, Any], *, from_host: bool = False) -> ApiKey:
        if self.keys is None:  # open mode: any key, counted under a name derived from it
            digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
            return ApiKey(id="open-" + digest[:10], key_hash="sha256$" + digest, sites=(), created="")
        entry = self.keys.cached(key) if len(key) <= _MAX_KEY_CHARS else None
        if entry is None:
            client = self._client(environ) or "-"
            if self.key_failures is not None:
                wait = self.key_failures.wait(client)
                if wait > 0:
                    raise _TooManyKeyFailures(wait)
            if len(key) <= _MAX_KEY_CHARS:
                entry = self.keys.authenticate(key)
            if entry is None:
                if self.key_failures is not None and self.key_failures.failed(client):
                    _log.warning(
                        "%s made %d failed key attempts within %.0f s; its next attempts get 429 for a while",
                        client, self.key_failures.limit, self.key_failures.window,
                    )
                where = " (taken from the host name, as the request carried no api_key)" if from_host else ""
                raise Invalid(
                    f"Invalid API key{where}: this server does not know it. Ask its operator for a key."
                )
        if entry.revoked:
            raise Invalid(f"This API key ({entry.id}) has been revoked. Ask the server's operator for a new one.")
        return entry

    def _comment(self, params: dict[str, str | list[str]], exchange: _Exchange) -> Comment:
        """The comment a check or report is about; only a missing or bad ``user_ip`` makes it ``invalid``."""
        if not single(params, "user_ip"):
            raise Invalid('Empty "user_ip" value: send the commenter\'s IP address as user_ip.')
        data: dict[str, Any] = {}
        for name, value in params.items():
            data[name] = value[-1] if isinstance(value, list) and name != "comment_context[]" else value
        if "comment_content" not in data and "content" not in data:
            data["comment_content"] = ""  # Akismet does not require the text
        for name in protocol.DATE_FIELDS:
            if name in data:
                when = _utc_date(str(data[name]))
                if when is None:
                    del data[name]  # empty, or WordPress's "0000-00-00 00:00:00": no date
                elif when is False:
                    del data[name]
                    exchange.leave_out(name, "not a date")
                else:
                    data[name] = when
        try:
            comment = Comment.from_mapping(data, max_content_chars=self.max_content_chars)
        except InvalidCommentError as exc:
            if exc.field == "user_ip":
                raise
            comment = self._comment_without_what_is_bad(data, exchange)
        if exchange.ignored:
            exchange.debug_help = "Checked without what could not be read: " + "; ".join(exchange.why)
        return comment

    def _comment_without_what_is_bad(self, data: dict[str, Any], exchange: _Exchange) -> Comment:
        """The comment once every parameter it cannot take is left out (text too long is cut).

        Runs only when the whole comment was refused: each parameter is tried alone, then
        what is refused together (a name given twice, a honeypot named like another
        parameter) is found by leaving parameters out one at a time."""
        limit = self.max_content_chars
        for name in ("comment_content", "content"):
            value = data.get(name)
            if isinstance(value, str) and len(value) > limit:
                data[name] = value[:limit]
                exchange.leave_out(name, f"cut to its first {limit:,} characters")
        for name in [n for n in data if n not in _REQUIRED]:
            try:
                Comment.from_mapping({"comment_content": "", name: data[name]}, max_content_chars=limit)
            except InvalidCommentError as exc:
                del data[name]
                exchange.leave_out(name, str(exc))
        honeypot = data.get("honeypot_field_name")
        extras = [n for n in data if n not in FIELD_NAMES and n != honeypot]
        if len(extras) >= _MAX_EXTRA:
            for name in extras[_MAX_EXTRA - 1:]:
                del data[name]
            exchange.leave_out(f"{len(extras) - _MAX_EXTRA + 1}-more-parameters",
                               f"only the first {_MAX_EXTRA - 1} extra parameters are read")
        for _ in range(len(data)):
            try:
                return Comment.from_mapping(data, max_content_chars=limit)
            except InvalidCommentError as exc:
                candidates = sorted(reversed(list(data)), key=lambda n: n == "comment_content")  # Akismet's name last
                culprit = next((n for n in candidates if n != "user_ip"
                                and _refusal(dict(data), n, limit) != exc.field), None)
                if culprit is None:
                    raise
                del data[culprit]
                exchange.leave_out(culprit, str(exc))
        return Comment.from_mapping(data, max_content_chars=limit)

    # --- the Akismet endpoints ------------------------------------------------------------

    def _verify_key(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        self._caller(self._form(environ), environ, exchange, need_blog=True)
        exchange.answer = protocol.VALID
        return _text(protocol.VALID)

    def _comment_check(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        params = self._form(environ)
        caller = self._caller(params, environ, exchange, need_blog=True)
        comment = self._comment(params, exchange)
        spam, discard = self._judge(comment)
        assert caller.blog is not None
        self.usage.count(caller.key.id, caller.blog, api_calls=1, **({"spam": 1} if spam else {"ham": 1}))
        self.recent.remember(caller.key.id, caller.blog, comment.user_ip, comment.content, spam)
        verdict = "discard" if discard else "spam" if spam else "ham"
        self.metrics.verdict(verdict)
        exchange.answer = verdict
        headers = [(protocol.GUID, self._next_guid())]
        if discard:
            headers.append((protocol.PRO_TIP, protocol.DISCARD_TIP))
        if exchange.debug_help:
            headers.append((protocol.DEBUG_HELP, _header_value(exchange.debug_help)))
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

    def _submit_spam(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        return self._submit(environ, exchange, spam=True)

    def _submit_ham(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        return self._submit(environ, exchange, spam=False)

    def _submit(self, environ: dict[str, Any], exchange: _Exchange, *, spam: bool) -> _Response:
        """A moderator's report. The earlier answer is what the client says it was
        (``comment_check_response``), else what this service answered for the same comment; a
        report against that answer (or against an answer not known) counts as a missed spam
        or a false positive."""
        params = self._form(environ)
        caller = self._caller(params, environ, exchange, need_blog=True)
        comment = self._comment(params, exchange)
        assert caller.blog is not None
        said = single(params, "comment_check_response")
        earlier = (said == protocol.TRUE if said in (protocol.TRUE, protocol.FALSE)
                   else self.recent.recall(caller.key.id, caller.blog, comment.user_ip, comment.content))
        if not is_true(params.get("is_test")) and self.feedback is not None:
            verdict = Verdict(spam=earlier, source=Source.LOCAL) if earlier is not None else None
            with self._feedback_lock:
                self.feedback.record(comment, spam, source=f"api:{caller.key.id}", verdict=verdict)
        counts = {"api_calls": 1}
        if earlier is not spam:
            counts["missed_spam" if spam else "false_positives"] = 1
        self.usage.count(caller.key.id, caller.blog, **counts)
        exchange.answer = "thanks"
        headers = [(protocol.DEBUG_HELP, _header_value(exchange.debug_help))] if exchange.debug_help else []
        return _text(protocol.THANKS, *headers)

    def _usage_limit(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        caller = self._caller(self._form(environ), environ, exchange, need_blog=False)
        limit = caller.key.limit
        used = self.usage.month_calls(caller.key.id)
        percentage = f"{100.0 * used / limit:.2f}" if limit else "0.00"
        exchange.answer = "json"
        return _json({
            "limit": limit if limit is not None else "none",
            "usage": used,
            "percentage": percentage,
            "throttled": limit is not None and used > limit,
        })

    def _key_sites(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        params = self._form(environ)
        caller = self._caller(params, environ, exchange, need_blog=False)
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
        exchange.answer = fmt
        if fmt == "csv":
            text = protocol.key_sites_csv(caller.key.id, month, sites, limit=limit, offset=offset, total=total)
            return _Response(200, text.encode("utf-8"), "text/csv; charset=utf-8")
        text = protocol.key_sites_json(month, sites, limit=limit, offset=offset, total=total)
        return _Response(200, text.encode("utf-8"), "application/json")

    # --- what the WordPress plugin calls besides ---------------------------------------------

    def _get_subscription(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        """The key's "account": active while the key is (a revoked key gets ``invalid``, which the
        plugin shows as "Your API key is no longer valid"). Never ``limit_reached``: the plugin's
        notice for it is about Akismet's subscriptions; a key over its ``--limit`` gets the usage
        alert headers instead."""
        caller = self._caller(self._form(environ), environ, exchange, need_blog=True)
        exchange.answer = "json"
        account = Subscription(
            status="active", account_type="self-hosted", account_name=f"spamguard service, key {caller.key.id}",
        )
        return _Response(200, account.to_json().encode("utf-8"), "application/json")

    def _get_stats(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        """The key's counts on this site for ``from`` (60-days, 6-months, all), by calendar month:
        a period starts at the first of the month it begins in."""
        params = self._form(environ)
        caller = self._caller(params, environ, exchange, need_blog=True)
        period = single(params, "from") or protocol.DEFAULT_STATS_PERIOD
        if period not in protocol.STATS_PERIODS:
            raise Invalid(f"from must be one of {', '.join(protocol.STATS_PERIODS)}, got {period!r}.")
        assert caller.blog is not None
        site = _site(caller.blog)
        totals = dict.fromkeys(("spam", "ham", "missed_spam", "false_positives"), 0)
        breakdown: dict[str, dict[str, int]] = {}
        for row in self.usage.history(caller.key.id, _period_start(period)):
            if _site(str(row["site"])) != site:
                continue
            month = breakdown.setdefault(str(row["month"]), dict.fromkeys(totals, 0))
            for name in totals:
                month[name] += int(row[name])
                totals[name] += int(row[name])
        exchange.answer = "json"
        stats = Stats(**totals, breakdown=breakdown)
        return _Response(200, stats.to_json().encode("utf-8"), "application/json")

    def _deactivate(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        """The plugin is being deactivated on the site: nothing to undo here; the key stays valid."""
        self._caller(self._form(environ), environ, exchange, need_blog=True)
        exchange.answer = protocol.DEACTIVATED
        return _text(protocol.DEACTIVATED)

    def _activate(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        """Undocumented by Akismet and called by no plugin we know: answered as verify-key is."""
        return self._verify_key(environ, exchange)

    def _connectivity_test(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        exchange.answer = protocol.CONNECTED
        return _text(protocol.CONNECTED)

    # --- for every platform -----------------------------------------------------------------

    def _notice(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        """The data-processing notice for this service, in the language asked for (``lang``, else
        the ``Accept-Language`` header), as HTML (``format=text`` or ``markdown`` for those)."""
        params = self._form(environ)
        lang = single(params, "lang")
        if lang is not None and not _LANGUAGE_CODE.fullmatch(lang.strip()):
            raise _HttpError(400, f"lang must be a language code such as de or pt-BR, got {lang[:40]!r}.")
        fmt = (single(params, "format") or "html").lower()
        if fmt not in _NOTICE_TYPES:
            raise _HttpError(400, f"format must be one of {', '.join(_NOTICE_TYPES)}, got {fmt[:40]!r}.")
        code = (normalize_language(lang) or "en") if lang else negotiate_language(environ.get("HTTP_ACCEPT_LANGUAGE"))
        text = disclosure(code, service=self.notice_service, privacy_url=self.privacy_url, fmt=fmt,  # type: ignore[arg-type]
                          display="display")
        exchange.answer = code
        return _Response(200, text.encode("utf-8"), _NOTICE_TYPES[fmt],
                         (("Content-Language", code), ("Cache-Control", "public, max-age=3600")))

    # --- operations endpoints ---------------------------------------------------------------

    def _health(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        exchange.answer = "ok"
        return _json({
            "status": "ok",
            "version": __version__,
            "model": self.model_info,
            "keys": "any" if self.keys is None else sum(not k.revoked for k in self.keys.entries()),
            "uptime_seconds": round(time.monotonic() - self._started, 1),
        })

    def _metrics(self, environ: dict[str, Any], exchange: _Exchange) -> _Response:
        exchange.answer = "ok"
        return _Response(200, self.metrics.render().encode("utf-8"), "text/plain; version=0.0.4; charset=utf-8")


# --- helpers -------------------------------------------------------------------------------


_REQUIRED = frozenset({"user_ip", "comment_content", "content"})


def _refusal(data: dict[str, Any], leave_out: str, limit: int) -> str | None:
    """The field a comment without ``leave_out`` is refused for, or None when it is accepted."""
    del data[leave_out]
    try:
        Comment.from_mapping(data, max_content_chars=limit)
    except InvalidCommentError as exc:
        return exc.field
    return None


def _site(url: str) -> str | None:
    """A site URL as :func:`normalize_site` gives it, or None when it is not one."""
    try:
        return normalize_site(url)
    except ValueError:
        return None


def _utc_date(text: str) -> _dt.datetime | None | bool:
    """A date parameter as an aware datetime: ISO 8601, naive meaning UTC (the ``_gmt`` names say so),
    or Unix seconds. None for no date (blank, or WordPress's ``0000-00-00 00:00:00``); False when
    it cannot be read."""
    raw = text.strip()
    if not raw or raw.startswith("0000-00-00"):
        return None
    try:
        if raw.isdigit() and len(raw) <= 12:
            return _dt.datetime.fromtimestamp(int(raw), _dt.timezone.utc)
        if raw[-1] in "Zz":
            raw = raw[:-1] + "+00:00"
        value = _dt.datetime.fromisoformat(raw)
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        value.astimezone(_dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return False
    return value


def _period_start(period: str, today: _dt.date | None = None) -> str | None:
    """The first month (``YYYY-MM``) of a get-stats period; None for ``all``."""
    today = today or _dt.datetime.now(_dt.timezone.utc).date()
    if period == "all":
        return None
    if period == "60-days":
        start = today - _dt.timedelta(days=60)
        return f"{start.year:04d}-{start.month:02d}"
    months = today.year * 12 + today.month - 1 - 5  # this month and the five before it
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


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
    access_log: AccessLog | Any | None = None,
    key_failures: int | None = DEFAULT_KEY_FAILURES,
    trusted_proxies: TrustedProxies | Iterable[Any] | str | None = (),
    notice_service: ServiceSpec = "local",
    privacy_url: str | None = None,
) -> AkismetApp:
    """Build the Akismet-compatible WSGI application.

    ``classifier`` judges comments (default: the shipped local model, ``LocalModel.load()``).
    ``keys`` is a :class:`KeyStore`, the path of a keys file, or a ``postgresql://`` URL
    (keys, usage and limits shared by every server using that database); without one, pass
    ``allow_any_key=True`` to accept any non-empty key (for a server only your own sites
    can reach). ``feedback`` receives submit-spam/submit-ham reports (a
    :class:`spamguard.FeedbackStore` or its path); without it they are acknowledged and
    only counted. ``usage`` counts calls per key and month (default: where the key store
    says, :meth:`KeyStore.open_usage`: a SQLite file beside the keys file, or the database's
    table; memory in open mode). Limits: ``max_body_bytes`` (413 beyond it),
    ``rate_limit`` requests a second per key with bursts of ``burst`` (429; ``None``
    turns it off), ``key_failures`` failed key attempts a minute per client address (429
    beyond; ``None`` turns it off): both counted in this process, or shared by every server
    on a PostgreSQL key store (see :meth:`KeyStore.rate_limiter`); ``max_content_chars`` for
    comment text (longer text is cut; default: the process-wide limit). Comment-checks in flight at the same time are
    judged together, up to ``max_batch`` per ``check_many`` call (1: one by one).

    ``access_log`` is an :class:`AccessLog` or a text stream (``sys.stderr``, an open file)
    that gets one line per request; ``None``: no request log. ``trusted_proxies`` are the
    reverse proxies in front of the service, whose ``X-Forwarded-For`` names the client
    (for the failed-attempt limit and the log; default: none, the peer is the client).
    ``notice_service`` and ``privacy_url`` say what ``GET /notice`` tells a site's visitors:
    ``"local"`` (the default: the site checks comments on its own server, as a service run
    by the site's owner does) or a :class:`spamguard.notice.Service` naming whoever runs
    this service for the site; ``privacy_url`` is the page the notice links to.
    """
    _check_settings(keys, allow_any_key, discard_threshold, max_body_bytes, max_content_chars)
    try:
        disclosure("en", service=notice_service, privacy_url=privacy_url, display="display")
    except InvalidNoticeSettingError as exc:
        raise ConfigurationError(f"the service's notice: {exc}") from None
    try:
        proxies = TrustedProxies.parse(trusted_proxies if trusted_proxies is not None else ())
    except ValueError as exc:
        raise ConfigurationError(f"trusted_proxies: {exc}") from None
    store = keys if isinstance(keys, KeyStore) or keys is None else KeyStore(keys)
    limiter, failures = _limits(store, rate_limit, burst, key_failures)
    if classifier is None:
        from .. import LocalModel  # the local model ships with spamguard

        classifier = LocalModel.load()
    recorder = _recorder(feedback)
    if usage is None:
        usage = store.open_usage() if store is not None else UsageStore(None)
    if access_log is not None and not isinstance(access_log, AccessLog):
        access_log = AccessLog(access_log)
    assert classifier is not None
    app = AkismetApp(
        classifier=classifier,
        keys=store,
        usage=usage,
        feedback=recorder,
        discard_threshold=discard_threshold,
        max_body_bytes=max_body_bytes,
        limiter=limiter,
        max_content_chars=max_content_chars or _settings.process_max_content_chars(DEFAULT_MAX_CONTENT_CHARS),
        max_batch=max_batch,
        access_log=access_log,
        key_failures=failures,
        trusted_proxies=proxies,
        notice_service=notice_service,
        privacy_url=privacy_url,
    )
    if isinstance(feedback, (str, os.PathLike)):
        app._own_feedback = recorder
    return app


def _check_settings(keys: Any, allow_any_key: bool, discard_threshold: float | None, max_body_bytes: int,
                    max_content_chars: int | None) -> None:
    """make_app's plain settings, each refused with a ConfigurationError that says what would do."""
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
    if max_content_chars is not None and max_content_chars <= 0:
        raise ConfigurationError(f"max_content_chars must be positive, got {max_content_chars!r}")


def _limits(store: KeyStore | None, rate_limit: float | None, burst: float | None,
            key_failures: int | None) -> tuple[Any, Any]:
    """The rate limiter and the failed-key limit: the key store's (shared by every server on a
    PostgreSQL store), or this process's own in open mode; ``None`` for one that is off."""
    limiter = failures = None
    if rate_limit is not None:
        try:
            limiter = store.rate_limiter(rate_limit, burst) if store is not None else RateLimiter(rate_limit, burst)
        except ValueError as exc:
            raise ConfigurationError(f"rate limit: {exc}") from None
    if key_failures is not None:
        try:
            failures = store.key_failures(key_failures) if store is not None else KeyFailures(key_failures)
        except ValueError as exc:
            raise ConfigurationError(f"key_failures: {exc}") from None
    return limiter, failures


def _recorder(feedback: FeedbackRecorder | str | os.PathLike[str] | None) -> FeedbackRecorder | None:
    """Where submit-spam and submit-ham are recorded: a FeedbackStore opened from a path or URL, or as given."""
    if isinstance(feedback, (str, os.PathLike)):
        from .. import FeedbackStore

        return FeedbackStore(feedback)
    if feedback is None:
        _log.warning("no feedback store: submit-spam and submit-ham are acknowledged and counted but not stored")
    return feedback
