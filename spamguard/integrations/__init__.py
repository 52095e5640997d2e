"""spamguard inside web apps: a Comment from a request, trusted proxies, the honeypot field.

Nothing here imports Flask or Django; the framework-specific pieces live in submodules
(``spamguard.integrations.django``) that import their framework when used.
"""

from __future__ import annotations

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
    "client_ip",
    "comment_from_django",
    "comment_from_flask",
    "comment_from_request",
    "comment_from_werkzeug",
    "comment_from_wsgi",
    "honeypot_html",
    "read_honeypot",
]
