"""Glue between spamguard and web apps; spamguard depends on no web framework.

Here: a :class:`~spamguard.Comment` from a WSGI, Flask/Werkzeug or Django request (trusted
proxies, forwarded headers, the honeypot field), or from an ASGI scope or a Starlette/FastAPI
request, by the same rules (``comment_from_asgi``, ``await comment_from_starlette(request)``).
Each submodule imports its framework only
when used: ``spamguard.integrations.jinja`` (a Jinja2 global and filter for the
data-processing notice) and ``spamguard.integrations.django`` (a Django app with the
``{% spamguard_notice %}`` template tag, and ``.moderation``: a django-contrib-comments
moderator and admin actions).
"""

from __future__ import annotations

from ._asgi import asgi_environ, comment_from_asgi, comment_from_starlette
from ._honeypot import DEFAULT_HONEYPOT_FIELD, Html, honeypot_html, read_honeypot
from ._request import (
    DEFAULT_FORM_FIELDS,
    HeaderPolicy,
    TrustedProxies,
    client_ip,
    comment_from_django,
    comment_from_flask,
    comment_from_request,
    comment_from_werkzeug,
    comment_from_wsgi,
)

__all__ = [
    "DEFAULT_FORM_FIELDS",
    "DEFAULT_HONEYPOT_FIELD",
    "HeaderPolicy",
    "Html",
    "TrustedProxies",
    "asgi_environ",
    "client_ip",
    "comment_from_asgi",
    "comment_from_django",
    "comment_from_flask",
    "comment_from_request",
    "comment_from_starlette",
    "comment_from_werkzeug",
    "comment_from_wsgi",
    "honeypot_html",
    "read_honeypot",
]
