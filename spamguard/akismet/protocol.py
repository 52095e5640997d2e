"""The Akismet protocol, written once: names, paths, answers, headers, test values and pure functions.

Everything that speaks Akismet in spamguard uses this module: the client
(:class:`~spamguard.AkismetClient`), the Akismet-compatible service (:mod:`spamguard.server`)
and the test server (:class:`spamguard.testing.FakeAkismet`). Nothing here does any I/O:

* the wire vocabulary: endpoint names and their :data:`PATHS`, the plain-text answers
  (:data:`TRUE`, :data:`FALSE`, :data:`VALID`, :data:`INVALID`, :data:`THANKS`), the
  ``X-akismet-*`` header names, and Akismet's documented test values;
* request building: the form fields of each call, from a :class:`~spamguard.Comment` and an
  :class:`~spamguard.akismet.AkismetConfig`;
* answer parsing: an answer's status, headers and body become a :class:`~spamguard.Verdict`,
  a :class:`UsageLimit`, :class:`KeySites`, or the spamguard error it means;
* answer rendering for servers: key-sites as JSON or CSV, get-subscription and get-stats as
  JSON, the usage alert headers; and where a legacy client puts its key (the host name).

So any transport (``requests`` today, an async client tomorrow) needs only to send the fields
and hand back what came back.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import attrs

from ..comment import Comment
from ..errors import BackendResponseError, InvalidCommentError, InvalidKeyError, InvalidRequestError
from ..verdict import Source, Verdict

if TYPE_CHECKING:
    from ._config import AkismetConfig

__all__ = [
    "VERIFY_KEY", "COMMENT_CHECK", "SUBMIT_SPAM", "SUBMIT_HAM", "USAGE_LIMIT", "KEY_SITES", "GET_SUBSCRIPTION",
    "GET_STATS", "DEACTIVATE", "ACTIVATE", "CONNECTIVITY_TEST", "PATHS",
    "TRUE", "FALSE", "VALID", "INVALID", "THANKS", "DEACTIVATED", "CONNECTED",
    "DEBUG_HELP", "GUID", "PRO_TIP", "DISCARD_TIP", "RECHECK_AFTER", "ALERT_CODE", "ALERT_MSG",
    "ALERT_API_CALLS", "ALERT_USAGE_LIMIT", "FIRST_MONTH_OVER_LIMIT", "usage_alert_headers",
    "GUARANTEED_SPAM_AUTHOR", "GUARANTEED_SPAM_EMAIL", "HAM_ROLE", "answer_for_test_values",
    "DATE_FIELDS", "STATS_PERIODS", "DEFAULT_STATS_PERIOD",
    "UsageLimit", "SiteActivity", "KeySites", "KEY_SITES_COLUMNS", "Subscription", "Stats",
    "mask_key", "scrub_key", "key_from_host",
    "comment_fields", "submit_fields", "verify_key_fields", "usage_limit_fields", "key_sites_fields",
    "raise_for_invalid", "parse_check", "parse_verify", "parse_submit", "parse_usage_limit", "parse_key_sites",
    "key_sites_json", "key_sites_csv",
]

log = logging.getLogger("spamguard.akismet")

# --- the wire vocabulary -------------------------------------------------------------------------

VERIFY_KEY = "verify-key"
COMMENT_CHECK = "comment-check"
SUBMIT_SPAM = "submit-spam"
SUBMIT_HAM = "submit-ham"
USAGE_LIMIT = "usage-limit"
KEY_SITES = "key-sites"
# What the WordPress plugin calls besides the documented API (read from Akismet 5.0.2's PHP).
GET_SUBSCRIPTION = "get-subscription"
"""The key's account, as JSON: the plugin's settings page calls it with ``key`` and ``blog``."""
GET_STATS = "get-stats"
"""Counts for the settings page, as JSON, for ``from`` = one of :data:`STATS_PERIODS`."""
DEACTIVATE = "deactivate"
"""The plugin tells the service it is being deactivated (``key``, ``blog``): :data:`DEACTIVATED`."""
ACTIVATE = "activate"
"""No plugin version we know calls it, and Akismet documents none: answered like verify-key."""
CONNECTIVITY_TEST = "test"
"""``GET /1.1/test``, the plugin's connectivity check: :data:`CONNECTED`."""

PATHS: Mapping[str, str] = {
    VERIFY_KEY: "/1.1/verify-key",
    COMMENT_CHECK: "/1.1/comment-check",
    SUBMIT_SPAM: "/1.1/submit-spam",
    SUBMIT_HAM: "/1.1/submit-ham",
    USAGE_LIMIT: "/1.2/usage-limit",
    KEY_SITES: "/1.2/key-sites",
    GET_SUBSCRIPTION: "/1.1/get-subscription",
    GET_STATS: "/1.1/get-stats",
    DEACTIVATE: "/1.1/deactivate",
    ACTIVATE: "/1.1/activate",
    CONNECTIVITY_TEST: "/1.1/test",
}
"""Each endpoint's path under the service's base URL."""

TRUE = "true"
"""comment-check: the comment is spam."""
FALSE = "false"
"""comment-check: the comment is not spam."""
VALID = "valid"
"""verify-key: the key is good for the site."""
INVALID = "invalid"
"""Any call: the request was refused (``X-akismet-debug-help`` says why)."""
THANKS = "Thanks for making the web a better place."
"""The body submit-spam and submit-ham answer with."""
DEACTIVATED = "deactivated"
"""deactivate: done (the plugin takes any other body as a failure)."""
CONNECTED = "connected"
"""``GET /1.1/test``: the service is reachable (the plugin compares the body with this)."""

DEBUG_HELP = "X-akismet-debug-help"
GUID = "X-akismet-guid"
PRO_TIP = "X-akismet-pro-tip"
DISCARD_TIP = "discard"
"""The :data:`PRO_TIP` value for blatant spam that can be dropped unseen."""
RECHECK_AFTER = "X-akismet-recheck-after"
ALERT_CODE = "X-akismet-alert-code"
ALERT_MSG = "X-akismet-alert-msg"
ALERT_API_CALLS = "X-akismet-alert-api-calls"
ALERT_USAGE_LIMIT = "X-akismet-alert-usage-limit"
FIRST_MONTH_OVER_LIMIT = 10501
"""The usage alert code for "over the limit this month" (the plugin's FIRST_MONTH_OVER_LIMIT notice).

Akismet's other usage codes (10502, 10504, 10508, 10516) announce or report an account
restricted for months over its limit; a service that never restricts a key must not send them."""

DATE_FIELDS = ("comment_date_gmt", "comment_post_modified_gmt")
"""The date parameters; in UTC by their names, so a date without a zone (WordPress sends
``2026-11-29 05:21:33``) is UTC."""
STATS_PERIODS = ("60-days", "6-months", "all")
"""The periods get-stats takes as ``from``."""
DEFAULT_STATS_PERIOD = "6-months"

GUARANTEED_SPAM_AUTHOR = "akismet-guaranteed-spam"
"""A ``comment_author`` that comment-check always calls spam (Akismet's test value)."""
GUARANTEED_SPAM_EMAIL = "akismet-guaranteed-spam@example.com"
"""A ``comment_author_email`` that comment-check always calls spam."""
HAM_ROLE = "administrator"
"""A ``user_role`` that comment-check always calls ham."""


def answer_for_test_values(author: str | None, author_email: str | None, user_role: str | None) -> bool | None:
    """What comment-check must answer for Akismet's test values: True (spam), False (ham), or None
    when the comment carries none and is judged as usual."""
    if author == GUARANTEED_SPAM_AUTHOR or author_email == GUARANTEED_SPAM_EMAIL:
        return True
    if user_role and HAM_ROLE in {role.strip().lower() for role in user_role.split(",")}:
        return False
    return None


# --- the answers' data ---------------------------------------------------------------------------

KEY_SITES_COLUMNS = ("api_calls", "spam", "ham", "missed_spam", "false_positives")
"""The counts key-sites reports for each site, in its order."""
_KEY_SITES_CSV_HEADER = ("Site", "Total API Calls", "Spam", "Ham", "Missed Spam", "False Positives", "Is Revoked")


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


@attrs.frozen
class Subscription:
    """The key's account as get-subscription reports it (what the plugin's settings page shows).

    ``status`` is ``active`` for a working key (the plugin also knows ``cancelled``,
    ``suspended``, ``missing``, ``no-sub``); ``next_billing_date`` is a Unix time or None
    (no row shown); ``limit_reached`` is ``yellow``/``red`` for Akismet's "more sites than
    your subscription allows" notice, else None.
    """

    status: str
    account_type: str
    account_name: str
    next_billing_date: int | None = None
    limit_reached: str | None = None

    def to_json(self) -> str:
        """The get-subscription answer."""
        return json.dumps({
            "status": self.status, "account_type": self.account_type, "account_name": self.account_name,
            "next_billing_date": self.next_billing_date, "limit_reached": self.limit_reached,
        })


@attrs.frozen
class Stats:
    """A key's counts on one site for a period, as get-stats reports them.

    ``spam`` and ``ham`` are comment-check answers; ``missed_spam`` and ``false_positives``
    are reports (submit-spam, submit-ham) that said an answer was wrong; ``accuracy`` is the
    percentage of answers not reported wrong (None before any answer); ``time_saved`` is
    Akismet's estimate of moderators' seconds saved, None where nobody estimates it.
    ``breakdown`` holds the same counts per month (``YYYY-MM``).
    """

    spam: int
    ham: int
    missed_spam: int
    false_positives: int
    breakdown: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    time_saved: int | None = None

    @property
    def accuracy(self) -> float | None:
        """100 x (answers - reported wrong) / answers, rounded to 2 places; None before any answer."""
        answers = self.spam + self.ham
        if answers == 0:
            return None
        wrong = min(answers, self.missed_spam + self.false_positives)
        return round(100.0 * (answers - wrong) / answers, 2)

    def to_json(self) -> str:
        """The get-stats answer."""
        return json.dumps({
            "spam": self.spam, "ham": self.ham, "missed_spam": self.missed_spam,
            "false_positives": self.false_positives, "accuracy": self.accuracy, "time_saved": self.time_saved,
            "breakdown": {month: {"da": month, **dict(counts)} for month, counts in self.breakdown.items()},
        })


def usage_alert_headers(calls: int, limit: int | None, month_start: str) -> list[tuple[str, str]]:
    """The alert headers for a key over its monthly limit (none when it is within it, or unlimited).

    Akismet's plugin keeps whatever alert the last answer carried and clears it when an answer
    carries none, so every answer to a key over its limit must carry them.
    """
    if limit is None or calls <= limit:
        return []
    message = f"This key made {calls:,} API calls since {month_start}; its limit is {limit:,} a month."
    return [(ALERT_CODE, str(FIRST_MONTH_OVER_LIMIT)), (ALERT_MSG, message),
            (ALERT_API_CALLS, str(calls)), (ALERT_USAGE_LIMIT, str(limit))]


# --- keys in text ----------------------------------------------------------------------------------


def key_from_host(host: str | None) -> str | None:
    """The API key in a legacy key-in-subdomain host name (``KEY.rest.akismet.com``), or None.

    Old clients (the npm ``akismet-api`` client among them) send comment-check and submit-*
    to ``https://KEY.rest.akismet.com`` with no key in the body. The first label of the
    ``Host`` header is taken as the key when the name has at least three labels, is not an
    IP address, and the label is 8 to 64 letters and digits (a real key's shape; ``www`` or
    ``rest`` are not keys).
    """
    if not host:
        return None
    name = host.strip().lower()
    if name.startswith("["):
        return None  # an IPv6 literal
    name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    labels = name.split(".")
    if len(labels) < 3 or all(label.isdigit() for label in labels):
        return None
    first = host.strip().split(".", 1)[0]
    if 8 <= len(first) <= 64 and first.isascii() and first.isalnum():
        return first
    return None


def mask_key(key: str) -> str:
    """The key as it may be shown: ``***`` plus its last four characters for long keys."""
    return f"***{key[-4:]}" if len(key) >= 12 else "***"


def scrub_key(text: str, key: str) -> str:
    """``text`` with the key (plain or URL-encoded) replaced by its masked form."""
    masked = mask_key(key)
    for form in {key, quote_plus(key), quote_plus(key, safe="")}:
        if form:
            text = text.replace(form, masked)
    return text


# --- requests: pure functions ----------------------------------------------------------------------


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


def submit_fields(comment: Comment, config: AkismetConfig, verdict: Verdict | None) -> dict[str, str | list[str]]:
    """The form fields of submit-spam / submit-ham: the comment's, and the earlier answer when known."""
    fields = comment_fields(comment, config)
    if verdict is not None:
        fields["comment_check_response"] = TRUE if verdict.spam else FALSE
    return fields


def verify_key_fields(config: AkismetConfig) -> dict[str, str]:
    """The form fields of verify-key (the key under both names clients use)."""
    return {"api_key": config.api_key, "key": config.api_key, "blog": config.blog}


def usage_limit_fields(config: AkismetConfig) -> dict[str, str]:
    """The form fields of usage-limit."""
    return {"api_key": config.api_key}


def key_sites_fields(
    config: AkismetConfig,
    month: str | None = None,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order: str | None = None,
    filter: str | None = None,  # noqa: A002 - Akismet's parameter name
) -> dict[str, str]:
    """The form fields of key-sites (JSON answer); options left as None are not sent."""
    fields: dict[str, str] = {"api_key": config.api_key, "format": "json"}
    for name, value in (("month", month), ("limit", limit), ("offset", offset), ("order", order),
                        ("filter", filter)):
        if value is not None:
            fields[name] = str(value)
    return fields


# --- answers: pure functions -----------------------------------------------------------------------


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
    debug_help = _header(headers, DEBUG_HELP)
    if debug_help is not None:
        debug_help = scrub_key(debug_help, config.api_key)
    detail = (
        f" (the service said: {debug_help})" if debug_help
        else " (no debug help given; `spamguard verify-key` tells whether the key is the problem)"
    )
    if endpoint == VERIFY_KEY or (debug_help is not None and "key" in debug_help.lower()):
        raise InvalidKeyError(
            f"The Akismet API key {mask_key(config.api_key)} is not valid for {config.blog}{detail}; "
            "check SPAMGUARD_AKISMET_KEY and SPAMGUARD_BLOG_URL (spamguard verify-key tests them)"
        )
    raise InvalidRequestError(
        f"Akismet rejected the {endpoint} request as invalid{detail}", debug_help=debug_help
    )


def parse_check(status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> Verdict:
    """Turn a comment-check answer into a :class:`~spamguard.Verdict` (or raise)."""
    answer = _expect_text(status, body, COMMENT_CHECK)
    if answer == INVALID:
        raise_for_invalid(COMMENT_CHECK, headers, config)
    if answer not in (TRUE, FALSE):
        raise BackendResponseError(
            f"Akismet comment-check answered {_body_excerpt(body)}, which is not 'true', 'false' or 'invalid'"
        )
    spam = answer == TRUE
    recheck_after: int | None = None
    raw_recheck = _header(headers, RECHECK_AFTER)
    if raw_recheck is not None:
        try:
            recheck_after = int(raw_recheck.strip())
        except ValueError:
            log.warning("ignoring X-akismet-recheck-after %r: not a number of seconds", raw_recheck)
    alerts: dict[str, str] = {}
    code = _header(headers, ALERT_CODE)
    if code is not None:
        alerts["code"] = code
        alerts["msg"] = _header(headers, ALERT_MSG) or ""
        log.warning("Akismet account alert %s: %s", code, alerts["msg"])
    pro_tip = (_header(headers, PRO_TIP) or "").strip().lower()
    return Verdict(
        spam=spam,
        score=None,
        discard=spam and pro_tip == DISCARD_TIP,
        source=Source.AKISMET,
        recheck_after=recheck_after,
        guid=_header(headers, GUID),
        alerts=alerts,
    )


def parse_verify(status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> bool:
    """``valid`` -> True, ``invalid`` -> False; anything else raises BackendResponseError."""
    answer = _expect_text(status, body, VERIFY_KEY)
    if answer == VALID:
        return True
    if answer == INVALID:
        debug_help = _header(headers, DEBUG_HELP)
        log.warning(
            "Akismet says the key %s is not valid for %s%s",
            mask_key(config.api_key),
            config.blog,
            f": {scrub_key(debug_help, config.api_key)}" if debug_help else "",
        )
        return False
    raise BackendResponseError(
        f"Akismet verify-key answered {_body_excerpt(body)}, which is not 'valid' or 'invalid'"
    )


def parse_submit(endpoint: str, status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> None:
    """Accept the thank-you answer of submit-spam / submit-ham (or raise)."""
    answer = _expect_text(status, body, endpoint)
    if answer == INVALID:
        raise_for_invalid(endpoint, headers, config)
    if answer != THANKS:
        raise BackendResponseError(f"Akismet {endpoint} answered {_body_excerpt(body)} instead of thanks")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a count, got {value!r}")
    return int(value)


def parse_usage_limit(status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> UsageLimit:
    """Turn the usage-limit JSON into a :class:`UsageLimit` (or raise)."""
    data = _expect_json(status, headers, body, USAGE_LIMIT, config)
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
        raise BackendResponseError(f"Akismet usage-limit answered JSON of an unexpected shape: {exc}") from exc


def parse_key_sites(status: int, headers: Mapping[str, str], body: str, config: AkismetConfig) -> KeySites:
    """Turn the key-sites JSON into :class:`KeySites`; counts may be numbers or strings."""
    data = _expect_json(status, headers, body, KEY_SITES, config)
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
                        **{name: _to_int(row.get(name, 0)) for name in KEY_SITES_COLUMNS},
                        is_revoked=row.get("is_revoked") in (True, "true", "1", 1),
                    )
                    for row in value
                )
        return KeySites(months=months, limit=paging["limit"], offset=paging["offset"], total=paging["total"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BackendResponseError(f"Akismet key-sites answered JSON of an unexpected shape: {exc}") from exc


def _expect_text(status: int, body: str, endpoint: str) -> str:
    if status != 200:
        raise BackendResponseError(f"Akismet {endpoint} answered HTTP {status} {_body_excerpt(body)}")
    return body.strip()


def _expect_json(
    status: int, headers: Mapping[str, str], body: str, endpoint: str, config: AkismetConfig
) -> dict[str, Any]:
    text = _expect_text(status, body, endpoint)
    if text == INVALID:
        raise_for_invalid(endpoint, headers, config)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BackendResponseError(f"Akismet {endpoint} answered {_body_excerpt(body)}, which is not JSON") from exc
    if not isinstance(data, dict):
        raise BackendResponseError(f"Akismet {endpoint} answered JSON that is not an object")
    return data


# --- answers, for servers --------------------------------------------------------------------------


def key_sites_json(
    month: str, sites: Iterable[SiteActivity], *, limit: int, offset: int, total: int, counts_as_text: bool = False,
) -> str:
    """The key-sites answer as JSON: the month's rows and the paging.

    ``counts_as_text`` writes the counts as strings, as Akismet's own documentation shows
    them (clients must read both).
    """
    rows = []
    for activity in sites:
        row: dict[str, Any] = {"site": activity.site}
        for name in KEY_SITES_COLUMNS:
            count = getattr(activity, name)
            row[name] = str(count) if counts_as_text else count
        row["is_revoked"] = activity.is_revoked
        rows.append(row)
    return json.dumps({month: rows, "limit": limit, "offset": offset, "total": total})


def key_sites_csv(key_label: str, month: str, sites: Iterable[SiteActivity], *, limit: int, offset: int,
                  total: int) -> str:
    """The key-sites answer as CSV (``format=csv``): Akismet's title line, a header, a row per site."""
    out = io.StringIO()
    out.write(f"Active sites for {key_label} during {month} (limit:{limit}, offset: {offset}, total: {total})\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_KEY_SITES_CSV_HEADER)
    for activity in sites:
        writer.writerow([activity.site, *(getattr(activity, name) for name in KEY_SITES_COLUMNS),
                         "true" if activity.is_revoked else "false"])
    return out.getvalue()
