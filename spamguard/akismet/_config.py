"""How to reach an Akismet-compatible service: :class:`AkismetConfig`, shared by every client."""

from __future__ import annotations

import functools
import random
import sys
from typing import Any

import attrs

from .. import _settings
from .._settings import is_http_url
from ..errors import ConfigurationError
from .protocol import PATHS, mask_key

__all__ = ["AkismetConfig", "akismet_configured", "DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "DEFAULT_RETRIES",
           "DEFAULT_BACKOFF"]

DEFAULT_BASE_URL = "https://rest.akismet.com"
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 5.0)
"""Seconds to connect and to wait for the answer: finite, so a hung service cannot hang you."""
DEFAULT_RETRIES = 2
"""Extra attempts after a connection error or a 5xx answer (never after ``invalid``)."""
DEFAULT_BACKOFF = 0.25
"""Seconds before the first retry; doubled (with jitter) for each further retry."""


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
    """How to reach an Akismet-compatible service. The key never shows in the repr.

    ``api_key`` and ``blog`` (the site's front page URL) are required; ``base_url`` may carry
    a path prefix. ``timeout`` is seconds or a ``(connect, read)`` pair; ``retries`` extra
    attempts are made, ``backoff`` seconds apart at first, after connection errors and 5xx
    answers only. ``user_agent`` is your application's ``Name/Version``; ``is_test=True``
    marks the traffic as tests. Give it to :meth:`AkismetClient.from_config
    <spamguard.AkismetClient.from_config>`, or let :meth:`from_env` read it.
    """

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

    @classmethod
    def from_env(cls, **overrides: Any) -> AkismetConfig:
        """A configuration from ``SPAMGUARD_*`` environment variables (see the README); keyword arguments win.

        ``SPAMGUARD_AKISMET_KEY`` (or ``PYTHON_AKISMET_API_KEY``) and ``SPAMGUARD_BLOG_URL``
        (or ``PYTHON_AKISMET_BLOG_URL``) are required unless given; ``SPAMGUARD_AKISMET_URL``
        and ``SPAMGUARD_AKISMET_TIMEOUT`` are optional.
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
        return (
            f"AkismetConfig(api_key={mask_key(self.api_key)!r}, blog={self.blog!r}, "
            f"base_url={self.base_url!r}, timeout={self.timeout!r}, retries={self.retries!r}, "
            f"user_agent={self.user_agent!r}, is_test={self.is_test!r})"
        )

    def url(self, endpoint: str) -> str:
        """The full URL of one endpoint (``"comment-check"``, ...) under ``base_url``."""
        return self.base_url + PATHS[endpoint]

    def user_agent_header(self) -> str:
        """``App/Version | spamguard/Version``, as Akismet asks clients to identify themselves."""
        app = self.user_agent or f"Python/{sys.version_info.major}.{sys.version_info.minor}"
        return f"{app} | spamguard/{_version()}"

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1): ``backoff`` doubled each time, jittered."""
        return self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)


@functools.cache  # importlib.metadata reads the installed metadata: 1-2 ms, and it is asked on every request
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spamguard")
    except PackageNotFoundError:  # pragma: no cover - source tree not installed
        return "0.0.0"


def akismet_configured() -> bool:
    """True when an Akismet API key is set in the environment (``SPAMGUARD_AKISMET_KEY``)."""
    return _settings.akismet_key() is not None
