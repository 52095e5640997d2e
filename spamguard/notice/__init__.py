"""The data-processing notice: the disclosure shown next to comment forms, in many languages.

Sites that send comment data to a spam service owe their visitors a word about it. This
package writes that word for the backend really in use (Akismet, another Akismet-compatible
service, or the site's own server) in the visitor's language, from standard gettext catalogs
(``locale/<lang>/LC_MESSAGES/spamguard.po``, compiled to ``.mo`` when the wheel is built)::

    from spamguard.notice import disclosure, disclosure_for, policy_text

    disclosure("de")                                  # <p class="spamguard-notice" lang="de">...
    disclosure_for("fr-CH, fr;q=0.9, en;q=0.5", fmt="text")
    disclosure(service="local", privacy_url="https://blog.example/privacy")
    policy_text("en", retention_days=90, erasure_contact="privacy@blog.example")
"""

from __future__ import annotations

from ._language import DEFAULT_LANGUAGE, LANGUAGES, negotiate_language, normalize_language
from ._notice import (
    AKISMET,
    DEFAULT_CSS_CLASS,
    DEFAULT_DISPLAY,
    DISPLAY_ENV,
    FORMATS,
    Service,
    ServiceSpec,
    disclosure,
    disclosure_for,
    policy_text,
    resolve_service,
    service_at,
)

__all__ = [
    "AKISMET",
    "DEFAULT_CSS_CLASS",
    "DEFAULT_DISPLAY",
    "DEFAULT_LANGUAGE",
    "DISPLAY_ENV",
    "FORMATS",
    "LANGUAGES",
    "Service",
    "ServiceSpec",
    "disclosure",
    "disclosure_for",
    "negotiate_language",
    "normalize_language",
    "policy_text",
    "resolve_service",
    "service_at",
]
