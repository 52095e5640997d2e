"""Build a :class:`~spamguard.Comment` from an ASGI request: any ASGI ``scope``, or a Starlette/FastAPI request.

No framework is imported. The scope's client address and headers are put in the shape of a
WSGI ``environ`` (``REMOTE_ADDR``, ``HTTP_*``) and handed to :func:`comment_from_wsgi`, so the
trusted-proxy rules, the header policy, the form fields and the honeypot are the WSGI
helpers' own, written once in ``_request``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..comment import Comment
from ._request import comment_from_wsgi

__all__ = ["asgi_environ", "comment_from_asgi", "comment_from_starlette"]

_NOT_HTTP_PREFIXED = {"CONTENT_TYPE", "CONTENT_LENGTH"}  # as in WSGI (PEP 3333)


def asgi_environ(scope: Mapping[str, Any]) -> dict[str, str]:
    """The WSGI-style view of an ASGI HTTP ``scope``: ``REMOTE_ADDR`` from ``scope["client"]`` and
    each header as ``HTTP_NAME`` (``CONTENT_TYPE``/``CONTENT_LENGTH`` without the prefix); a header
    sent several times is joined with commas, as WSGI servers do."""
    if not isinstance(scope, Mapping) or scope.get("type") != "http":
        kind = scope.get("type") if isinstance(scope, Mapping) else type(scope).__name__
        raise TypeError(f"expected an ASGI HTTP scope (type 'http'), got {kind!r}")
    environ: dict[str, str] = {}
    client = scope.get("client")
    if client:  # (host, port); None over a unix socket
        environ["REMOTE_ADDR"] = str(client[0])
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers") or ()
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").strip().upper().replace("-", "_")
        key = name if name in _NOT_HTTP_PREFIXED else f"HTTP_{name}"
        value = raw_value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _form_lists(form: Any) -> dict[str, list[str]]:
    """The text fields of a posted form, each as a list of values (uploaded files left out)."""
    if hasattr(form, "multi_items"):  # Starlette's FormData, a multidict
        items: Iterable[tuple[str, Any]] = form.multi_items()
    elif isinstance(form, Mapping):
        items = [(k, v) for k, values in form.items() for v in (values if isinstance(values, list) else [values])]
    else:
        raise TypeError(f"form must be a mapping of the posted fields, got {type(form).__name__}")
    fields: dict[str, list[str]] = {}
    for name, value in items:
        if isinstance(value, str):
            fields.setdefault(str(name), []).append(value)
    return fields


def comment_from_asgi(scope: Mapping[str, Any], form: Any, **options: Any) -> Comment:
    """A :class:`~spamguard.Comment` for the comment posted in an ASGI request.

    ``scope`` is the request's ASGI scope; ``form`` the posted fields, already read (a mapping,
    or a multidict such as Starlette's ``await request.form()``): reading an ASGI body takes an
    ``await``, which this function leaves to you. Everything else is
    :func:`comment_from_wsgi`'s: ``trusted_proxies`` (``scope["client"]`` is the direct peer,
    whose ``X-Forwarded-For`` is believed only if it is one of them), ``header_policy``,
    ``honeypot_field``, ``form_fields``, ``permalink`` and any comment field as a keyword.
    Raises :class:`~spamguard.InvalidCommentError` naming the field when the posted data is not
    a valid comment.
    """
    return comment_from_wsgi(asgi_environ(scope), _form_lists(form), **options)


async def comment_from_starlette(request: Any, **options: Any) -> Comment:
    """:func:`comment_from_asgi` for a Starlette (or FastAPI) ``Request``: awaits its form.

    Starlette reads forms with the ``python-multipart`` package, which your app then needs.
    """
    form = await request.form()
    return comment_from_asgi(request.scope, form, **options)
