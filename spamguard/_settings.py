"""Settings from the environment, read in this one module by one set of rules.

Settings come from arguments first, then environment variables, then defaults. The classes
that read the environment (``AkismetConfig.from_env``, ``Guard.from_env``,
``Policy.from_env``, ``FeedbackStore``...) ask this module for the values the environment
sets and let their own arguments win; every other module takes explicit arguments. Each
variable is named here once, and read when it is asked for: a ``from_env`` call sees the
environment as it is at that moment. The one exception is the longest comment ``Comment``
accepts, a process-wide default read when the first comment is checked (see
:func:`process_max_content_chars`).

One rule for each kind of value:

* unset or blank: not set, so the default applies;
* switches: ``1``/``0``, ``true``/``false``, ``yes``/``no``, ``on``/``off`` (any case);
* numbers: decimal and finite, within the setting's range; a setting that can be switched
  off (a threshold, the latency budget, the retention) also takes ``off`` or ``none``;
* text: as given, without surrounding blanks (a secret: exactly as given, blanks included).

A bad value raises :class:`~spamguard.ConfigurationError` naming the variable and the value.

Also here, because settings and comments share it: the one test of "an absolute http(s)
URL" (:func:`is_http_url`), and the one way a database URL's password is hidden in messages
(:func:`masked_url`).
"""

from __future__ import annotations

import enum
import math
import os
import re
import threading
from pathlib import Path
from typing import Any, Literal, TypeGuard
from urllib.parse import urlsplit

from .errors import ConfigurationError

# --- the variables --------------------------------------------------------------------------------

AKISMET_KEY = ("SPAMGUARD_AKISMET_KEY", "PYTHON_AKISMET_API_KEY")
"""The Akismet API key (the second name is the one the PyPI ``akismet`` client reads)."""
BLOG_URL = ("SPAMGUARD_BLOG_URL", "PYTHON_AKISMET_BLOG_URL")
"""The site's front page, Akismet's ``blog``."""
AKISMET_URL = "SPAMGUARD_AKISMET_URL"
AKISMET_TIMEOUT = "SPAMGUARD_AKISMET_TIMEOUT"
MAX_CONTENT_CHARS = "SPAMGUARD_MAX_CONTENT_CHARS"
GUARD_MODE = "SPAMGUARD_GUARD_MODE"
LATENCY_BUDGET = "SPAMGUARD_LATENCY_BUDGET"
STRICT = "SPAMGUARD_STRICT"
DISCARD_THRESHOLD = "SPAMGUARD_DISCARD_THRESHOLD"
HOLD_THRESHOLD = "SPAMGUARD_HOLD_THRESHOLD"
HOLD_FALLBACK_HAMS = "SPAMGUARD_HOLD_FALLBACK_HAMS"
FEEDBACK_DB = "SPAMGUARD_FEEDBACK_DB"
FEEDBACK_SECRET = "SPAMGUARD_FEEDBACK_SECRET"  # noqa: S105 - the variable's name, not a secret
FEEDBACK_RETENTION_DAYS = "SPAMGUARD_FEEDBACK_RETENTION_DAYS"
KEYS_FILE = "SPAMGUARD_KEYS_FILE"
SERVER_STORE = "SPAMGUARD_SERVER_STORE"
MODEL = "SPAMGUARD_MODEL"
TRUSTED_PROXIES = "SPAMGUARD_TRUSTED_PROXIES"
NOTICE_DISPLAY = "SPAMGUARD_NOTICE_DISPLAY"

VARIABLES = (
    *AKISMET_KEY, *BLOG_URL, AKISMET_URL, AKISMET_TIMEOUT, MAX_CONTENT_CHARS, GUARD_MODE, LATENCY_BUDGET, STRICT,
    DISCARD_THRESHOLD, HOLD_THRESHOLD, HOLD_FALLBACK_HAMS, FEEDBACK_DB, FEEDBACK_SECRET, FEEDBACK_RETENTION_DAYS,
    KEYS_FILE, SERVER_STORE, MODEL, TRUSTED_PROXIES, NOTICE_DISPLAY,
)
"""Every environment variable spamguard reads (the README's configuration table lists them all)."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_OFF = frozenset({"off", "none"})


# --- the rules ------------------------------------------------------------------------------------


def text(*names: str) -> str | None:
    """The value of the first of ``names`` that is set, without surrounding blanks; None if none is."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def switch(name: str) -> bool | None:
    """A switch: True for 1/true/yes/on, False for 0/false/no/off, None when not set."""
    raw = text(name)
    if raw is None:
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be 1/0, true/false, yes/no or on/off, got {raw!r}")


class Off(enum.Enum):
    """What :func:`number` gives for ``off``/``none``, so that "switched off" differs from "not set"."""

    OFF = "off"


OFF = Off.OFF


def number(
    name: str, *, what: str, low: float = 0.0, high: float = math.inf, low_ok: bool = False, can_be_off: bool = False,
) -> float | None | Literal[Off.OFF]:
    """A finite number above ``low`` (or at it, with ``low_ok``) and at most ``high``.

    None when not set; raises when the value is not such a number. A setting that can be
    switched off (``can_be_off``) reads ``off`` or ``none`` as :data:`OFF`.
    """
    raw = text(name)
    if raw is None:
        return None
    if can_be_off and raw.lower() in _OFF:
        return OFF
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if math.isfinite(value) and (low < value or (low_ok and value == low)) and value <= high:
        return value
    off = " (or 'off')" if can_be_off else ""
    raise ConfigurationError(f"{name} must be {what}{off}, got {raw!r}")


def whole(name: str, *, what: str, low: int = 1) -> int | None:
    """A whole number of at least ``low``; None when not set."""
    raw = text(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low:
        raise ConfigurationError(f"{name} must be {what}, got {raw!r}")
    return value


def choice(name: str, allowed: tuple[str, ...]) -> str | None:
    """One of ``allowed`` (as given); None when not set."""
    raw = text(name)
    if raw is not None and raw not in allowed:
        raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _set(found: dict[str, Any], key: str, value: Any) -> None:
    """Keep a value that is set; a setting switched off becomes the argument ``None``."""
    if value is not None:
        found[key] = None if value is OFF else value


# --- the settings, by who reads them ---------------------------------------------------------------


def akismet_key() -> str | None:
    """The Akismet API key, when one is set."""
    return text(*AKISMET_KEY)


def akismet() -> dict[str, Any]:
    """``AkismetConfig`` keyword arguments the environment sets: api_key, blog, base_url, timeout."""
    found: dict[str, Any] = {}
    _set(found, "api_key", akismet_key())
    _set(found, "blog", text(*BLOG_URL))
    _set(found, "base_url", text(AKISMET_URL))
    _set(found, "timeout", number(AKISMET_TIMEOUT, what="a positive number of seconds"))
    return found


def guard(modes: tuple[str, ...]) -> dict[str, Any]:
    """``Guard`` keyword arguments the environment sets: mode (one of ``modes``), latency_budget, strict."""
    found: dict[str, Any] = {}
    _set(found, "mode", choice(GUARD_MODE, modes))
    _set(found, "latency_budget", number(LATENCY_BUDGET, what="a positive number of seconds", can_be_off=True))
    _set(found, "strict", switch(STRICT))
    return found


def policy() -> dict[str, Any]:
    """``Policy`` keyword arguments the environment sets: the two thresholds and hold_fallback_hams."""
    found: dict[str, Any] = {}
    fraction = "a number between 0 and 1"
    _set(found, "discard_threshold", number(DISCARD_THRESHOLD, what=fraction, low_ok=True, high=1.0, can_be_off=True))
    _set(found, "hold_threshold", number(HOLD_THRESHOLD, what=fraction, low_ok=True, high=1.0, can_be_off=True))
    _set(found, "hold_fallback_hams", switch(HOLD_FALLBACK_HAMS))
    return found


def feedback_db() -> str | None:
    """The feedback store's file or URL (``postgresql://...``), when set."""
    return text(FEEDBACK_DB)


def feedback_secret() -> str | None:
    """The feedback store's pseudonymisation secret, exactly as set (blanks around it included), or None."""
    raw = os.environ.get(FEEDBACK_SECRET, "")
    return raw if raw.strip() else None


def feedback_retention_days() -> float | None:
    """Days after which ``purge()`` deletes feedback, when set (``off``: None, keep until purged)."""
    value = number(FEEDBACK_RETENTION_DAYS, what="a positive number of days", can_be_off=True)
    return None if value is OFF else value


def data_home() -> Path:
    """The user's data folder: ``$XDG_DATA_HOME``, else ``~/.local/share`` (``%LOCALAPPDATA%`` on Windows)."""
    if os.name == "nt" and text("LOCALAPPDATA"):  # pragma: no cover - not tested on Windows
        return Path(os.environ["LOCALAPPDATA"])
    return Path(text("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def server_store() -> str | None:
    """Where ``spamguard serve`` / ``spamguard keys`` keep keys, usage and limits, when set:
    ``SPAMGUARD_SERVER_STORE`` (a ``postgresql://`` URL, or a keys file's path), else
    ``SPAMGUARD_KEYS_FILE`` (a keys file). Both set is a :class:`~spamguard.ConfigurationError`."""
    store, keys = text(SERVER_STORE), text(KEYS_FILE)
    if store is not None and keys is not None:
        raise ConfigurationError(
            f"{SERVER_STORE} and {KEYS_FILE} are both set; unset one ({SERVER_STORE} takes a keys file's path too)"
        )
    return store if store is not None else keys


def model_path() -> str | None:
    """The local model file to load instead of the shipped one, when set."""
    return text(MODEL)


def trusted_proxies() -> str:
    """The trusted proxies' addresses and networks as written (comma- or space-separated); "" when unset."""
    return text(TRUSTED_PROXIES) or ""


def notice_display() -> str | None:
    """Whether to show the data-processing notice (``display``/``hide``, lower-cased), when set."""
    raw = text(NOTICE_DISPLAY)
    return raw.lower() if raw is not None else None


def max_content_chars() -> int | None:
    """The longest comment text accepted, when set."""
    return whole(MAX_CONTENT_CHARS, what="a positive whole number")


_process_max_content: int | None = None
_process_lock = threading.Lock()


def process_max_content_chars(default: int) -> int:
    """The process-wide content limit: ``SPAMGUARD_MAX_CONTENT_CHARS`` or ``default``.

    Read once, the first time it is asked for (``Comment`` asks when it checks its first
    comment), and kept for the life of the process, so that a comment valid once stays
    valid. A bad value is not kept: it raises every time until it is fixed.
    """
    global _process_max_content
    if _process_max_content is None:
        with _process_lock:
            if _process_max_content is None:
                value = max_content_chars()
                _process_max_content = value if value is not None else default
    return _process_max_content


# --- URLs -----------------------------------------------------------------------------------------


def is_http_url(value: str) -> bool:
    """True for an absolute ``http://`` or ``https://`` URL with a host.

    Text that ``urlsplit`` cannot read at all (``http://[not-an-ipv6``) is simply not one,
    so callers raise their own error naming the field instead of a bare ``ValueError``.
    """
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


_URL_PASSWORD = re.compile(r"\A([A-Za-z][A-Za-z0-9+.-]*://[^:@/]*:)[^/]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def masked_url(url: str) -> str:
    """``url`` with its password, if any, shown as ``***``: fit for reprs, logs and errors.

    Both places a database URL carries one are masked: ``scheme://user:PASSWORD@host/...``
    (everything up to the last ``@`` before the path, so a password with a stray ``@`` does not
    half-show) and a ``password=`` query parameter.
    """
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", url))


POSTGRES_SCHEMES = ("postgresql", "postgres")
"""URL schemes that name a PostgreSQL store (the feedback store's, the server's keys and usage)."""


def is_postgres_url(location: object) -> TypeGuard[str]:
    """True when a store location is a ``postgresql://`` (or ``postgres://``) URL."""
    return (isinstance(location, str) and "://" in location
            and location.split("://", 1)[0].lower() in POSTGRES_SCHEMES)


def postgres_unavailable(what: str, location: str, exc: ImportError) -> str:
    """What to say when a PostgreSQL store is asked for and psycopg did not import (password masked)."""
    return (
        f"{what} ({masked_url(location)}) needs psycopg 3 and its pool, which did not import ({exc}): "
        "pip install 'spamguard[postgres]' (with libpq installed, or add psycopg[binary])"
    )

