"""The Akismet wire protocol over ``requests``: :class:`AkismetClient`.

Three parts, as in every well-kept service client:

* configuration: :class:`AkismetConfig`, a frozen attrs class (the key is masked in its repr);
* protocol: pure functions turning a :class:`~spamguard.Comment` into form fields and a
  response (status, headers, body) into a :class:`~spamguard.Verdict` or an exception;
* transport: one pooled ``requests.Session`` per client and one private ``_request()`` that
  retries connection errors and 5xx answers and turns every failure into a spamguard error.

It speaks to Akismet itself or to any service that implements the protocol at another
address (``base_url``, which may carry a path prefix).
"""

from __future__ import annotations

import json
import logging
import random
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn
from urllib.parse import quote_plus

import attrs
import requests
from requests.adapters import HTTPAdapter

from .. import _settings
from .._settings import is_http_url
from ..comment import Comment
from ..errors import (
    BackendUnavailableError,
    ConfigurationError,
    InvalidCommentError,
    InvalidKeyError,
    InvalidRequestError,
)
from ..verdict import Verdict

__all__ = [
    "AkismetClient",
    "AkismetConfig",
    "KeySites",
    "SiteActivity",
    "UsageLimit",
    "akismet_configured",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_RETRIES",
]

log = logging.getLogger("spamguard.akismet")

DEFAULT_BASE_URL = "https://rest.akismet.com"
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 5.0)
"""Seconds to connect and to wait for the answer: finite, so a hung service cannot hang you."""
DEFAULT_RETRIES = 2
"""Extra attempts after a connection error or a 5xx answer (never after ``invalid``)."""
DEFAULT_BACKOFF = 0.25
"""Seconds before the first retry; doubled (with jitter) for each further retry."""

THANKS = "Thanks for making the web a better place."
"""The body submit-spam and submit-ham answer with."""

KEY_ENV = _settings.AKISMET_KEY
BLOG_ENV = _settings.BLOG_URL
URL_ENV = _settings.AKISMET_URL
TIMEOUT_ENV = _settings.AKISMET_TIMEOUT

_PATHS = {
    "verify-key": "/1.1/verify-key",
    "comment-check": "/1.1/comment-check",
    "submit-spam": "/1.1/submit-spam",
    "submit-ham": "/1.1/submit-ham",
    "usage-limit": "/1.2/usage-limit",
    "key-sites": "/1.2/key-sites",
}


# --- configuration ----------------------------------------------------------------------


def mask_key(key: str) -> str:
    """The key as it may be shown: ``***`` plus its last four characters for long keys."""
    return f"***{key[-4:]}" if len(key) >= 12 else "***"


def _check_url(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} must be an http(s) URL, got {value!r}")
    if not is_http_url(value.strip()):
        raise ConfigurationError(
            f"{name} must be a full http:// or https:// URL (for example 'https://blog.example/'), got {value!r}"
        )
    return value.strip()


def _to_timeout(value: float | tuple[float, float] | None) -> tuple[float, float]:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        pair: tuple[float, float] = (float(value), float(value))
    elif isinstance(value, tuple) and len(value) == 2:
        pair = (float(value[0]), float(value[1]))
    else:
        raise ConfigurationError(f"timeout must be seconds or a (connect, read) pair, got {value!r}")
    if not all(t > 0 for t in pair):
        raise ConfigurationError(f"timeout must be positive (finite), got {value!r}")
    return pair


def _check_key(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            "The Akismet API key is empty; pass api_key= or set SPAMGUARD_AKISMET_KEY"
        )


def _check_retries(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"retries must be a whole number >= 0, got {value!r}")


@attrs.frozen(kw_only=True, repr=False)
class AkismetConfig:
    """How to reach an Akismet-compatible service. The key never shows in the repr."""

    api_key: str = attrs.field(validator=_check_key)
    blog: str = attrs.field(converter=lambda v: _check_url("blog", v))
    base_url: str = attrs.field(
        default=DEFAULT_BASE_URL, converter=lambda v: _check_url("base_url", v).rstrip("/")
    )
    timeout: tuple[float, float] = attrs.field(default=DEFAULT_TIMEOUT, converter=_to_timeout)
    retries: int = attrs.field(default=DEFAULT_RETRIES, validator=_check_retries)
    backoff: float = DEFAULT_BACKOFF
    user_agent: str | None = None
    is_test: bool = False

    def __repr__(self) -> str:
        return (
            f"AkismetConfig(api_key={mask_key(self.api_key)!r}, blog={self.blog!r}, "
            f"base_url={self.base_url!r}, timeout={self.timeout!r}, retries={self.retries!r}, "
            f"user_agent={self.user_agent!r}, is_test={self.is_test!r})"
        )

    def url(self, endpoint: str) -> str:
        """The full URL of one endpoint (``"comment-check"``, ...) under ``base_url``."""
        return self.base_url + _PATHS[endpoint]

    def user_agent_header(self) -> str:
        """``App/Version | spamguard/Version``, as Akismet asks clients to identify themselves."""
        app = self.user_agent or f"Python/{sys.version_info.major}.{sys.version_info.minor}"
        return f"{app} | spamguard/{_version()}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spamguard")
    except PackageNotFoundError:  # pragma: no cover - source tree not installed
        return "0.0.0"


def akismet_configured() -> bool:
    """True when an Akismet API key is set in the environment (``SPAMGUARD_AKISMET_KEY``)."""
    return _settings.akismet_key() is not None


# --- parsed answers ---------------------------------------------------------------------


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a count, got {value!r}")
    return int(value)


@attrs.frozen
class UsageLimit:
    """The key's API usage this month (``/1.2/usage-limit``); ``limit`` is None when unlimited."""

    limit: int | None
    usage: int
    percentage: str
    throttled: bool


@attrs.frozen
class SiteActivity:
    """One site's activity under the key in one month (a row of ``/1.2/key-sites``)."""

    site: str
    api_calls: int
    spam: int
    ham: int
    missed_spam: int
    false_positives: int
    is_revoked: bool


@attrs.frozen
class KeySites:
    """The sites using the key, by month (``YYYY-MM``), with the paging Akismet reports."""

    months: Mapping[str, tuple[SiteActivity, ...]]
    limit: int | None
    offset: int | None
    total: int | None


# --- protocol: pure functions -----------------------------------------------------------


def comment_fields(comment: Comment, config: AkismetConfig) -> dict[str, str | list[str]]:
    """The form fields of a comment-check / submit-* request (key and blog included).

    Raises :class:`~spamguard.InvalidCommentError` when the comment has no ``user_ip``,
    which Akismet requires.
    """
    if not isinstance(comment, Comment):
        raise TypeError(f"expected a spamguard.Comment, got {type(comment).__name__}")
    if comment.user_ip is None:
        raise InvalidCommentError(
            "user_ip", "is required by Akismet: pass the commenter's IP address (the real client, not a proxy)"
        )
    fields: dict[str, str | list[str]] = {"api_key": config.api_key, "blog": config.blog}
    fields.update(comment.to_akismet())
    if config.is_test:
        fields["is_test"] = "1"
    return fields


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # requests' headers are case-insensitive already; plain dicts (tests) may not be.
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, item in headers.items():
            if key.lower() == lowered:
                return item
    return value


def _body_excerpt(body: str) -> str:
    text = body.strip().replace("\n", " ")
    return repr(text[:60] + ("..." if len(text) > 60 else ""))


def raise_for_invalid(endpoint: str, headers: Mapping[str, str], config: AkismetConfig) -> None:
    """Raise the right error for an ``invalid`` answer (always raises)."""
    debug_help = _header(headers, "X-akismet-debug-help")
    if debug_help is not None:
        debug_help = _scrub(debug_help, config.api_key)
    detail = (
        f" (the service said: {debug_help})" if debug_help
        else " (no debug help given; `spamguard verify-key` tells whether the key is the problem)"
    )
    if endpoint == "verify-key" or (debug_help is not None and "key" in debug_help.lower()):
        raise InvalidKeyError(
            f"The Akismet API key {mask_key(config.api_key)} is not valid for {config.blog}{detail}; "
            "check SPAMGUARD_AKISMET_KEY and SPAMGUARD_BLOG_URL (spamguard verify-key tests them)"
        )
    raise InvalidRequestError(
        f"Akismet rejected the {endpoint} request as invalid{detail}", debug_help=debug_help
    )


def parse_check(status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> Verdict:
    """Turn a comment-check answer into a :class:`~spamguard.Verdict` (or raise)."""
    answer = _expect_text(status, body, "comment-check")
    if answer == "invalid":
        raise_for_invalid("comment-check", headers, config)
    if answer not in ("true", "false"):
        raise BackendUnavailableError(
            f"Akismet comment-check answered {_body_excerpt(body)}, which is not 'true', 'false' or 'invalid'"
        )
    spam = answer == "true"
    recheck_after: int | None = None
    raw_recheck = _header(headers, "X-akismet-recheck-after")
    if raw_recheck is not None:
        try:
            recheck_after = int(raw_recheck.strip())
        except ValueError:
            log.warning("ignoring X-akismet-recheck-after %r: not a number of seconds", raw_recheck)
    alerts: dict[str, str] = {}
    code = _header(headers, "X-akismet-alert-code")
    if code is not None:
        alerts["code"] = code
        alerts["msg"] = _header(headers, "X-akismet-alert-msg") or ""
        log.warning("Akismet account alert %s: %s", code, alerts["msg"])
    pro_tip = (_header(headers, "X-akismet-pro-tip") or "").strip().lower()
    return Verdict(
        spam=spam,
        score=None,
        discard=spam and pro_tip == "discard",
        source="akismet",
        recheck_after=recheck_after,
        guid=_header(headers, "X-akismet-guid"),
        alerts=alerts,
    )


def parse_verify(status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> bool:
    """``valid`` -> True, ``invalid`` -> False; anything else raises BackendUnavailableError."""
    answer = _expect_text(status, body, "verify-key")
    if answer == "valid":
        return True
    if answer == "invalid":
        debug_help = _header(headers, "X-akismet-debug-help")
        log.warning(
            "Akismet says the key %s is not valid for %s%s",
            mask_key(config.api_key),
            config.blog,
            f": {_scrub(debug_help, config.api_key)}" if debug_help else "",
        )
        return False
    raise BackendUnavailableError(
        f"Akismet verify-key answered {_body_excerpt(body)}, which is not 'valid' or 'invalid'"
    )


def parse_submit(endpoint: str, status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> None:
    """Accept the thank-you answer of submit-spam / submit-ham (or raise)."""
    answer = _expect_text(status, body, endpoint)
    if answer == "invalid":
        raise_for_invalid(endpoint, headers, config)
    if answer != THANKS:
        raise BackendUnavailableError(f"Akismet {endpoint} answered {_body_excerpt(body)} instead of thanks")


def parse_usage_limit(status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> UsageLimit:
    """Turn the usage-limit JSON into a :class:`UsageLimit` (or raise)."""
    data = _expect_json(status, headers, body, "usage-limit", config)
    try:
        raw_limit = data["limit"]
        limit = None if isinstance(raw_limit, str) and raw_limit.strip().lower() == "none" else _to_int(raw_limit)
        throttled = data.get("throttled", False)
        if isinstance(throttled, str):
            throttled = throttled.strip().lower() in ("true", "1")
        return UsageLimit(
            limit=limit,
            usage=_to_int(data["usage"]),
            percentage=str(data.get("percentage", "")),
            throttled=bool(throttled),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BackendUnavailableError(f"Akismet usage-limit answered JSON of an unexpected shape: {exc}") from exc


def parse_key_sites(status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> KeySites:
    """Turn the key-sites JSON into :class:`KeySites`; counts may be numbers or strings."""
    data = _expect_json(status, headers, body, "key-sites", config)
    try:
        months: dict[str, tuple[SiteActivity, ...]] = {}
        paging: dict[str, int | None] = {"limit": None, "offset": None, "total": None}
        for key, value in data.items():
            if key in paging:
                paging[key] = None if value is None else _to_int(value)
            elif isinstance(value, list):
                months[key] = tuple(
                    SiteActivity(
                        site=str(row["site"]),
                        api_calls=_to_int(row.get("api_calls", 0)),
                        spam=_to_int(row.get("spam", 0)),
                        ham=_to_int(row.get("ham", 0)),
                        missed_spam=_to_int(row.get("missed_spam", 0)),
                        false_positives=_to_int(row.get("false_positives", 0)),
                        is_revoked=row.get("is_revoked") in (True, "true", "1", 1),
                    )
                    for row in value
                )
        return KeySites(months=months, limit=paging["limit"], offset=paging["offset"], total=paging["total"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BackendUnavailableError(f"Akismet key-sites answered JSON of an unexpected shape: {exc}") from exc


def _expect_text(status: int, body: str, endpoint: str) -> str:
    if status != 200:
        raise BackendUnavailableError(f"Akismet {endpoint} answered HTTP {status} {_body_excerpt(body)}")
    return body.strip()


def _expect_json(
    status: int, headers: Mapping[str, str], body: str, endpoint: str, config: AkismetConfig
) -> dict[str, Any]:
    text = _expect_text(status, body, endpoint)
    if text == "invalid":
        raise_for_invalid(endpoint, headers, config)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BackendUnavailableError(f"Akismet {endpoint} answered {_body_excerpt(body)}, which is not JSON") from exc
    if not isinstance(data, dict):
        raise BackendUnavailableError(f"Akismet {endpoint} answered JSON that is not an object")
    return data


def _scrub(text: str, key: str) -> str:
    """``text`` with the key (plain or URL-encoded) replaced by its masked form."""
    masked = mask_key(key)
    for form in {key, quote_plus(key), quote_plus(key, safe="")}:
        if form:
            text = text.replace(form, masked)
    return text


def _sanitized(exc: BaseException, key: str) -> BaseException:
    """The exception itself, or a copy of the same type whose message has the key masked."""
    text = str(exc)
    if key not in text and quote_plus(key) not in text:
        return exc
    clean = _scrub(text, key)
    try:
        copy = type(exc)(clean)
    except Exception:  # an exception type with an unusual constructor
        copy = RuntimeError(f"{type(exc).__name__}: {clean}")
    return copy


# --- transport --------------------------------------------------------------------------


class AkismetClient:
    """A client of Akismet, or of any service speaking its protocol (a :class:`~spamguard.Classifier`).

    ``api_key`` and ``blog`` (the site's front page URL) are required; ``base_url`` may carry a
    path prefix. ``timeout`` is seconds or a ``(connect, read)`` pair; ``retries`` extra attempts
    are made, with backoff, after connection errors and 5xx answers only. ``user_agent`` is
    your application's ``Name/Version``. ``is_test=True`` marks the traffic as tests so it does
    not train Akismet. ``session`` lets you pass your own ``requests.Session`` (proxies,
    certificates); by default one pooled session is made per client, and proxies come from the
    usual environment variables. A client is safe to share between threads.
    """

    def __init__(
        self,
        api_key: str,
        blog: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        user_agent: str | None = None,
        is_test: bool = False,
        session: requests.Session | None = None,
        backoff: float = DEFAULT_BACKOFF,
        pool_size: int = 16,
    ) -> None:
        self.config = AkismetConfig(
            api_key=api_key,
            blog=blog,
            base_url=base_url,
            timeout=timeout,  # the converter takes seconds or a pair
            retries=retries,
            backoff=backoff,
            user_agent=user_agent,
            is_test=is_test,
        )
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self._closed = threading.Event()

    @classmethod
    def from_env(cls, **overrides: Any) -> AkismetClient:
        """A client configured from ``SPAMGUARD_*`` environment variables (see the README).

        ``SPAMGUARD_AKISMET_KEY`` (or ``PYTHON_AKISMET_API_KEY``) and ``SPAMGUARD_BLOG_URL``
        (or ``PYTHON_AKISMET_BLOG_URL``) are required; ``SPAMGUARD_AKISMET_URL`` and
        ``SPAMGUARD_AKISMET_TIMEOUT`` are optional. Keyword arguments override them.
        """
        kwargs = _settings.akismet()
        kwargs.update(overrides)
        if "api_key" not in kwargs:
            raise ConfigurationError(
                "No Akismet API key: set SPAMGUARD_AKISMET_KEY (or PYTHON_AKISMET_API_KEY) in the environment"
            )
        if "blog" not in kwargs:
            raise ConfigurationError(
                "No site URL for Akismet: set SPAMGUARD_BLOG_URL (or PYTHON_AKISMET_BLOG_URL) to your "
                "site's front page, e.g. https://blog.example/"
            )
        return cls(**kwargs)

    def __repr__(self) -> str:
        c = self.config
        return f"AkismetClient(api_key={mask_key(c.api_key)!r}, blog={c.blog!r}, base_url={c.base_url!r})"

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled connections (only of a session the client made itself)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> AkismetClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the API ------------------------------------------------------------------------

    def verify_key(self) -> bool:
        """True when the service accepts the key for ``blog``; False when it says ``invalid``."""
        c = self.config
        fields = {"api_key": c.api_key, "key": c.api_key, "blog": c.blog}
        return parse_verify(*self._request("verify-key", fields), c)

    def comment_check(self, comment: Comment) -> Verdict:
        """Ask whether ``comment`` is spam; the :class:`~spamguard.Verdict` has ``source="akismet"``."""
        fields = comment_fields(comment, self.config)
        return parse_check(*self._request("comment-check", fields), self.config)

    check = comment_check

    def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        """Check comments one after another (Akismet has no batch call); verdicts in input order."""
        if isinstance(comments, (str, Comment)):
            raise TypeError("check_many() takes an iterable of Comment objects; use check() for one comment")
        return [self.comment_check(c) for c in comments]

    def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report spam Akismet missed (or confirm spam); send the original ``verdict`` when you have it."""
        self._submit("submit-spam", comment, verdict)

    def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report a comment wrongly held as spam (a false positive); send the original ``verdict``."""
        self._submit("submit-ham", comment, verdict)

    def usage_limit(self) -> UsageLimit:
        """This month's API calls against the key's plan limit (``/1.2/usage-limit``)."""
        fields = {"api_key": self.config.api_key}
        return parse_usage_limit(*self._request("usage-limit", fields), self.config)

    def key_sites(
        self,
        month: str | None = None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        order: str | None = None,
        filter: str | None = None,  # noqa: A002 - Akismet's parameter name
    ) -> KeySites:
        """The sites using the key and their activity (``/1.2/key-sites``); ``month`` is ``YYYY-MM``."""
        fields: dict[str, str] = {"api_key": self.config.api_key, "format": "json"}
        for name, value in (("month", month), ("limit", limit), ("offset", offset), ("order", order),
                            ("filter", filter)):
            if value is not None:
                fields[name] = str(value)
        return parse_key_sites(*self._request("key-sites", fields), self.config)

    def _submit(self, endpoint: str, comment: Comment, verdict: Verdict | None) -> None:
        fields = comment_fields(comment, self.config)
        if verdict is not None:
            fields["comment_check_response"] = "true" if verdict.spam else "false"
        parse_submit(endpoint, *self._request(endpoint, fields), self.config)

    def _request(self, endpoint: str, fields: Mapping[str, str | list[str]]) -> tuple[int, Mapping[str, str], str]:
        """POST ``fields`` to ``endpoint``; return (status, headers, body) of a non-5xx answer.

        Connection errors and 5xx answers are retried ``retries`` times with backoff; read
        timeouts are not (the service may be working on it). Every failure becomes a
        :class:`~spamguard.BackendUnavailableError` whose text never holds the key.
        """
        c = self.config
        url = c.url(endpoint)
        headers = {"User-Agent": c.user_agent_header()}
        attempts = c.retries + 1
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                response = self._session.post(url, data=fields, headers=headers, timeout=c.timeout)
                body = response.text
            except requests.ConnectionError as exc:
                problem: BaseException = exc
                what = "could not connect" if not isinstance(exc, requests.ConnectTimeout) else "connect timed out"
                if attempt < attempts:
                    self._pause(endpoint, attempt, f"{what} ({type(exc).__name__})")
                    continue
                self._fail(endpoint, f"{what} to {c.base_url} after {attempts} attempt(s)", problem)
            except requests.Timeout as exc:
                self._fail(endpoint, f"no answer from {c.base_url} within {c.timeout[1]:g} s", exc)
            except requests.RequestException as exc:
                self._fail(endpoint, f"the request to {c.base_url} failed ({type(exc).__name__})", exc)
            log.debug(
                "akismet %s -> HTTP %s in %.0f ms (attempt %d)",
                endpoint, response.status_code, 1000 * (time.monotonic() - started), attempt,
            )
            if response.status_code >= 500:
                if attempt < attempts:
                    self._pause(endpoint, attempt, f"HTTP {response.status_code}")
                    continue
                raise BackendUnavailableError(
                    f"Akismet {endpoint} failed: {c.base_url} answered HTTP {response.status_code} "
                    f"after {attempts} attempt(s)"
                )
            return response.status_code, response.headers, body
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, endpoint: str, attempt: int, why: str) -> None:
        delay = self.config.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        log.info("akismet %s: %s; retrying in %.2f s", endpoint, why, delay)
        time.sleep(delay)

    def _fail(self, endpoint: str, message: str, exc: BaseException) -> NoReturn:
        cause = _sanitized(exc, self.config.api_key)
        text = _scrub(f"Akismet {endpoint} failed: {message}", self.config.api_key)
        log.info("%s", text)  # the exception carries it; callers decide how loud to be
        raise BackendUnavailableError(text, cause=cause) from cause
