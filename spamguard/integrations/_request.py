"""Build a :class:`~spamguard.Comment` from a web request: WSGI, Flask/Werkzeug or Django.

No framework is imported: the helpers read a WSGI ``environ`` (Werkzeug's
``request.environ``, Django's ``request.META``) and a form mapping (``request.form``,
``request.POST``). The visitor's address is ``REMOTE_ADDR`` unless the direct peer is one of
your trusted proxies; only then are ``X-Forwarded-For`` / ``X-Real-IP`` believed.
"""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

import attrs

from .. import _settings
from .._settings import is_http_url
from ..comment import MAX_FIELD_CHARS, Comment
from ..errors import ConfigurationError, InvalidCommentError
from ._honeypot import DEFAULT_HONEYPOT_FIELD, read_honeypot

__all__ = [
    "DEFAULT_FORM_FIELDS",
    "HeaderPolicy",
    "TrustedProxies",
    "client_ip",
    "comment_from_django",
    "comment_from_flask",
    "comment_from_request",
    "comment_from_werkzeug",
    "comment_from_wsgi",
]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

TRUSTED_PROXIES_ENV = _settings.TRUSTED_PROXIES

DEFAULT_FORM_FIELDS: Mapping[str, tuple[str, ...]] = {
    "content": ("content", "comment", "comment_content", "body", "text"),
    "author": ("author", "name", "comment_author"),
    "author_email": ("author_email", "email", "comment_author_email"),
    "author_url": ("author_url", "url", "website", "comment_author_url"),
    "parent": ("parent", "comment_parent"),
}
"""Which form fields fill which comment field: the first present, non-empty one wins."""

_MAX_HEADERS = 100
_MAX_FORM_BYTES = 1_048_576


# --- trusted proxies --------------------------------------------------------------------


def _parse_network(entry: Any, where: str) -> _Network:
    if isinstance(entry, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return entry
    if isinstance(entry, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ipaddress.ip_network(entry)
    text = str(entry).strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(
            f"{where}: {entry!r} is not an IP address or CIDR network (for example '10.0.0.1' or '10.0.0.0/8')"
        ) from None


def _ip(text: str | None) -> _Address | None:
    """An address from a header hop or REMOTE_ADDR: tolerates ports, brackets and quotes."""
    if not text:
        return None
    value = text.strip().strip('"')
    if value.startswith("["):  # [v6]:port
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    value = value.split("%", 1)[0]  # zone id
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@attrs.frozen
class TrustedProxies:
    """The reverse proxies whose forwarding headers are believed (addresses or CIDR networks).

    ``TrustedProxies.parse(["10.0.0.0/8", "127.0.0.1"])``; ``TrustedProxies.from_env()`` reads
    ``SPAMGUARD_TRUSTED_PROXIES`` (comma- or space-separated). Empty means: trust no one and
    use ``REMOTE_ADDR``.
    """

    networks: tuple[_Network, ...] = ()

    @classmethod
    def parse(cls, entries: ProxySpec, *, where: str = "trusted_proxies") -> TrustedProxies:
        """Proxies from addresses/networks (objects or text); ``None`` means from the environment."""
        if entries is None:
            return cls.from_env()
        if isinstance(entries, TrustedProxies):
            return entries
        if isinstance(entries, str):
            entries = entries.replace(",", " ").split()
        return cls(tuple(_parse_network(entry, where) for entry in entries))

    @classmethod
    def from_env(cls) -> TrustedProxies:
        """Proxies listed in ``SPAMGUARD_TRUSTED_PROXIES``, or none."""
        raw = _settings.trusted_proxies()
        try:
            return cls.parse(raw, where=TRUSTED_PROXIES_ENV)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    def __contains__(self, address: object) -> bool:
        if isinstance(address, str):
            address = _ip(address)
        if not isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return False
        return any(address.version == net.version and address in net for net in self.networks)


ProxySpec = TrustedProxies | Iterable[Any] | str | None
"""What ``trusted_proxies`` accepts: proxies, addresses/networks (objects or text), or ``None`` (environment)."""


def client_ip(environ: Mapping[str, Any], trusted_proxies: ProxySpec = None) -> str | None:
    """The visitor's IP address for a request, believing forwarding headers only from trusted proxies.

    When ``REMOTE_ADDR`` (the direct peer) is a trusted proxy, ``X-Forwarded-For`` is walked
    from right to left, skipping trusted hops, and the first untrusted address is the client;
    without that header ``X-Real-IP`` is used. A header from an untrusted peer is ignored:
    anybody can send one. ``None`` when there is no usable address.
    """
    proxies = TrustedProxies.parse(trusted_proxies)
    peer = _ip(environ.get("REMOTE_ADDR"))
    if peer is None or peer not in proxies:
        return None if peer is None else str(peer)
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        nearest: _Address = peer
        for hop in reversed(str(forwarded).split(",")):
            address = _ip(hop)
            if address is None:  # garbage from further out: stop at the last hop we could read
                return str(nearest)
            if address not in proxies:
                return str(address)
            nearest = address
        return str(nearest)  # every hop is ours: the farthest one is the client
    real_ip = _ip(environ.get("HTTP_X_REAL_IP"))
    return str(real_ip if real_ip is not None else peer)


# --- headers ----------------------------------------------------------------------------


def _wsgi_name(name: str) -> str:
    upper = name.strip().upper().replace("-", "_")
    return upper if upper.startswith("HTTP_") else f"HTTP_{upper}"


def _names(values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise TypeError(f"give a list of header names, not one string ({values!r})")
    return frozenset(_wsgi_name(v) for v in values)


DEFAULT_DENIED_HEADERS = frozenset({"HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION"})
"""Never sent, whatever the policy says: they carry sessions and credentials."""

SECRET_LOOKING_HEADERS = frozenset(
    {"HTTP_X_CSRFTOKEN", "HTTP_X_CSRF_TOKEN", "HTTP_X_XSRF_TOKEN", "HTTP_X_API_KEY", "HTTP_X_AUTH_TOKEN"}
)
"""Left out by default (``HeaderPolicy.deny``): tokens some frameworks and APIs send as headers."""


@attrs.frozen
class HeaderPolicy:
    """Which request headers go to the classifier as extra parameters (named ``HTTP_*`` as Akismet expects).

    ``allow`` (``None``: every header) and ``deny`` take header names in either spelling
    (``"X-Requested-With"`` or ``"HTTP_X_REQUESTED_WITH"``); ``deny`` defaults to
    :data:`SECRET_LOOKING_HEADERS` (CSRF and API tokens). ``Cookie``, ``Authorization`` and
    ``Proxy-Authorization`` are always left out, whatever ``allow`` says.
    """

    allow: frozenset[str] | None = attrs.field(default=None, converter=_names)
    deny: frozenset[str] = attrs.field(
        default=SECRET_LOOKING_HEADERS, converter=lambda v: _names(v) or frozenset()
    )

    def headers(self, environ: Mapping[str, Any]) -> dict[str, str]:
        """The headers of ``environ`` this policy lets through, values cut to the field limit."""
        chosen: dict[str, str] = {}
        for key in sorted(environ):
            if not isinstance(key, str) or not key.startswith("HTTP_"):
                continue
            if key in DEFAULT_DENIED_HEADERS or key in self.deny:
                continue
            if self.allow is not None and key not in self.allow:
                continue
            value = environ[key]
            if not isinstance(value, str):
                continue
            chosen[key] = value[:MAX_FIELD_CHARS]
            if len(chosen) >= _MAX_HEADERS:
                break
        return chosen


# --- the comment ------------------------------------------------------------------------


def _http_url(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
        return None
    return value if is_http_url(value) else None


def _first(form: Mapping[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        if name in form:
            value = form.get(name)
            if isinstance(value, list):
                value = value[0] if value else None
            if value not in (None, ""):
                return str(value)
    return None


def _read_wsgi_form(environ: dict[str, Any]) -> Mapping[str, list[str]]:
    """The urlencoded body of a POST; ``wsgi.input`` is put back so the app can read it again."""
    if not str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded"):
        return {}
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return {}
    if length <= 0 or length > _MAX_FORM_BYTES or "wsgi.input" not in environ:
        return {}
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def comment_from_wsgi(
    environ: Mapping[str, Any],
    form: Mapping[str, Any] | None = None,
    *,
    trusted_proxies: ProxySpec = None,
    header_policy: HeaderPolicy | None = HeaderPolicy(),  # noqa: B008 - immutable default
    honeypot_field: str | None = DEFAULT_HONEYPOT_FIELD,
    form_fields: Mapping[str, Iterable[str]] = DEFAULT_FORM_FIELDS,
    permalink: str | None = None,
    **fields: Any,
) -> Comment:
    """A :class:`~spamguard.Comment` for the comment posted in a WSGI request.

    - ``form``: the posted fields (``content``/``comment``, ``author``/``name``,
      ``author_email``/``email``, ``author_url``/``url``; see :data:`DEFAULT_FORM_FIELDS`).
      ``None`` reads a urlencoded body from ``environ`` and puts it back.
    - ``trusted_proxies``: addresses or CIDR networks of your reverse proxies (``None``: the
      ``SPAMGUARD_TRUSTED_PROXIES`` environment variable, else none); see :func:`client_ip`.
    - ``header_policy``: which HTTP headers go along as extra parameters (``None``: none);
      ``Cookie``, ``Authorization`` and ``Proxy-Authorization`` never do.
    - ``honeypot_field``: the hidden field rendered by :func:`honeypot_html` (``None``: no honeypot).
    - ``permalink``: the URL of the page commented on; ``**fields`` set or override any
      comment field (``type="reply"``, ``lang="de"``, ``content=...``).

    Raises :class:`~spamguard.InvalidCommentError` (a ``ValueError``) naming the field when
    the posted data is not a valid comment, for example no content or a non-http URL.
    Request data the visitor does not type (a malformed ``Referer``) is dropped instead.
    """
    if form is None:
        form = _read_wsgi_form(environ) if isinstance(environ, dict) else {}
    data: dict[str, Any] = {}
    for name, candidates in form_fields.items():
        value = _first(form, candidates)
        if value is not None:
            data[name] = value
    data["user_ip"] = client_ip(environ, trusted_proxies)
    user_agent = environ.get("HTTP_USER_AGENT")
    if isinstance(user_agent, str) and user_agent:
        data["user_agent"] = user_agent[:MAX_FIELD_CHARS]
    data["referrer"] = _http_url(environ.get("HTTP_REFERER"))
    data["permalink"] = permalink
    data.update(read_honeypot(form, honeypot_field))
    extra = header_policy.headers(environ) if header_policy is not None else {}
    extra.update(fields.pop("extra", None) or {})
    data.update(fields)
    if extra:
        data["extra"] = extra
    content = data.get("content")
    if content is None or not str(content).strip():
        candidates = form_fields.get("content", ())
        if content is not None or any(name in form for name in candidates):
            raise InvalidCommentError("content", "is empty: there is no text to judge")
        names = "', '".join(candidates)
        raise InvalidCommentError("content", f"is missing: the form has none of the fields '{names}'")
    return Comment(**{key: value for key, value in data.items() if value is not None})


def comment_from_werkzeug(request: Any, **options: Any) -> Comment:
    """:func:`comment_from_wsgi` for a Flask/Werkzeug ``request`` (its ``environ`` and ``form``)."""
    options.setdefault("form", request.form)
    return comment_from_wsgi(request.environ, **options)


comment_from_flask = comment_from_werkzeug


def comment_from_django(request: Any, **options: Any) -> Comment:
    """:func:`comment_from_wsgi` for a Django ``HttpRequest`` (its ``META`` and ``POST``)."""
    options.setdefault("form", request.POST)
    return comment_from_wsgi(request.META, **options)


def comment_from_request(request: Any, **options: Any) -> Comment:
    """A comment from a Django, Flask/Werkzeug request or a WSGI ``environ`` dict, whichever it is."""
    if hasattr(request, "META") and hasattr(request, "POST"):
        return comment_from_django(request, **options)
    if hasattr(request, "environ") and hasattr(request, "form"):
        return comment_from_werkzeug(request, **options)
    if isinstance(request, Mapping):
        return comment_from_wsgi(request, **options)
    raise TypeError(
        f"cannot read a comment from a {type(request).__name__}: give a Django or Werkzeug request, "
        "or a WSGI environ dict"
    )
