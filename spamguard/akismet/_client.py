"""The Akismet client over ``requests``: :class:`AkismetClient`.

Three parts, as in every well-kept service client:

* configuration: :class:`~spamguard.akismet.AkismetConfig` (``_config``), a frozen attrs
  class whose repr masks the key;
* protocol: :mod:`spamguard.akismet.protocol`, pure functions from a
  :class:`~spamguard.Comment` to form fields and from an answer (status, headers, body) to a
  :class:`~spamguard.Verdict` or an exception, shared with the server and the test server;
  ``_calls`` (what each method sends and how its answer is read) and ``_retry`` (what is
  retried, how long to wait, which error a failure becomes), shared with the async client;
* transport: this module, one pooled ``requests.Session`` per client and one private
  ``_request()`` that sends, names each ``requests`` failure for ``_retry`` and sleeps
  between attempts.

It speaks to Akismet itself or to any service that implements the protocol at another
address (``base_url``, which may carry a path prefix).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from ..comment import Comment
from ..verdict import Verdict
from . import _calls, protocol
from ._config import DEFAULT_BACKOFF, DEFAULT_BASE_URL, DEFAULT_RETRIES, DEFAULT_TIMEOUT, AkismetConfig
from ._retry import Attempts, Failure
from .protocol import KeySites, UsageLimit, mask_key

__all__ = ["AkismetClient"]

T = TypeVar("T")

# Answers that arrived but could not be read: the service answered, badly.
_BROKEN_ANSWERS = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
                   requests.TooManyRedirects)


def _failure(exc: requests.RequestException) -> Failure:
    """What a ``requests`` exception means, in ``_retry``'s terms."""
    if isinstance(exc, requests.ConnectTimeout):
        return Failure.CONNECT_TIMEOUT
    if isinstance(exc, requests.ConnectionError):  # refused, reset, DNS, TLS, proxy
        return Failure.CONNECT
    if isinstance(exc, requests.Timeout):
        return Failure.READ_TIMEOUT
    if isinstance(exc, _BROKEN_ANSWERS):
        return Failure.BROKEN_ANSWER
    return Failure.REQUEST_FAILED


class AkismetClient:
    """A client of Akismet, or of any service speaking its protocol (a :class:`~spamguard.Classifier`).

    ``api_key`` and ``blog`` (the site's front page URL) are required; ``base_url`` may carry a
    path prefix. ``timeout`` is seconds or a ``(connect, read)`` pair; ``retries`` extra attempts
    are made, with backoff, after connection errors and 5xx answers only. ``user_agent`` is
    your application's ``Name/Version``. ``is_test=True`` marks the traffic as tests so it does
    not train Akismet. These settings make the client's :attr:`config`, an
    :class:`~spamguard.akismet.AkismetConfig`; a configuration you already have goes in whole
    with :meth:`from_config`. ``session`` lets you pass your own ``requests.Session`` (proxies,
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
        config = AkismetConfig(
            api_key=api_key,
            blog=blog,
            base_url=base_url,
            timeout=timeout,  # the converter takes seconds or a pair
            retries=retries,
            backoff=backoff,
            user_agent=user_agent,
            is_test=is_test,
        )
        self._connect(config, session, pool_size)

    def _connect(self, config: AkismetConfig, session: requests.Session | None, pool_size: int) -> None:
        self.config = config
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session

    @classmethod
    def from_config(
        cls, config: AkismetConfig, *, session: requests.Session | None = None, pool_size: int = 16
    ) -> AkismetClient:
        """A client for an :class:`~spamguard.akismet.AkismetConfig` you already have (``session`` and
        ``pool_size`` as in the constructor)::

            config = AkismetConfig(api_key=KEY, blog="https://blog.example/", timeout=2.0)
            client = AkismetClient.from_config(config)
        """
        if not isinstance(config, AkismetConfig):
            raise TypeError(f"from_config() takes an AkismetConfig, got {type(config).__name__}")
        client = cls.__new__(cls)
        client._connect(config, session, pool_size)
        return client

    @classmethod
    def from_env(cls, **overrides: Any) -> AkismetClient:
        """A client configured from ``SPAMGUARD_*`` environment variables (see the README).

        ``SPAMGUARD_AKISMET_KEY`` (or ``PYTHON_AKISMET_API_KEY``) and ``SPAMGUARD_BLOG_URL``
        (or ``PYTHON_AKISMET_BLOG_URL``) are required; ``SPAMGUARD_AKISMET_URL`` and
        ``SPAMGUARD_AKISMET_TIMEOUT`` are optional. Keyword arguments override them
        (:meth:`AkismetConfig.from_env <spamguard.akismet.AkismetConfig.from_env>` reads them);
        ``session`` and ``pool_size`` go to the client.
        """
        options = {name: overrides.pop(name) for name in ("session", "pool_size") if name in overrides}
        return cls.from_config(AkismetConfig.from_env(**overrides), **options)

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
        return self._send(_calls.verify_key(self.config))

    def comment_check(self, comment: Comment) -> Verdict:
        """Ask whether ``comment`` is spam; the :class:`~spamguard.Verdict` has ``source="akismet"``."""
        return self._send(_calls.comment_check(self.config, comment))

    check = comment_check

    def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        """Check comments one after another (Akismet has no batch call); verdicts in input order."""
        if isinstance(comments, (str, Comment)):
            raise TypeError("check_many() takes an iterable of Comment objects; use check() for one comment")
        return [self.comment_check(c) for c in comments]

    def submit_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report spam Akismet missed (or confirm spam); send the original ``verdict`` when you have it."""
        self._send(_calls.submit(self.config, protocol.SUBMIT_SPAM, comment, verdict))

    def submit_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """Report a comment wrongly held as spam (a false positive); send the original ``verdict``."""
        self._send(_calls.submit(self.config, protocol.SUBMIT_HAM, comment, verdict))

    def usage_limit(self) -> UsageLimit:
        """This month's API calls against the key's plan limit (``/1.2/usage-limit``)."""
        return self._send(_calls.usage_limit(self.config))

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
        return self._send(_calls.key_sites(self.config, month, limit=limit, offset=offset, order=order,
                                           filter=filter))

    def _send(self, call: _calls.Call[T]) -> T:
        return call.read(*self._request(call.endpoint, call.fields))

    def _request(self, endpoint: str, fields: Mapping[str, str | list[str]]) -> tuple[int, Mapping[str, str], str]:
        """POST ``fields`` to ``endpoint``; return (status, headers, body) of a non-5xx answer.

        ``_retry.Attempts`` decides what is retried and which
        :class:`~spamguard.BackendUnavailableError` a failure becomes (its text never holds the
        key); this method only sends and sleeps.
        """
        c = self.config
        url = c.url(endpoint)
        headers = {"User-Agent": c.user_agent_header()}
        attempts = Attempts(c, endpoint)
        for attempt in attempts.numbers():
            started = time.monotonic()
            pause: float | None
            try:
                response = self._session.post(url, data=fields, headers=headers, timeout=c.timeout)
                body = response.text
            except requests.RequestException as exc:
                pause = attempts.after_failure(attempt, _failure(exc), exc)
            else:
                pause = attempts.after_answer(attempt, response.status_code, time.monotonic() - started)
                if pause is None:
                    return response.status_code, response.headers, body
            time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises
