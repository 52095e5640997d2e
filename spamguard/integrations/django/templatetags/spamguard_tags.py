"""``{% spamguard_notice %}`` and ``{% spamguard_policy %}``: the notice in Django templates.

The language comes from the tag's argument, else the request's ``LANGUAGE_CODE`` (set by
``LocaleMiddleware``), else its ``Accept-Language`` header, else ``settings.LANGUAGE_CODE``.
Defaults come from the ``SPAMGUARD_NOTICE`` and ``SPAMGUARD_POLICY`` settings (dicts of
keyword arguments); keyword arguments on the tag win.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from ....notice import disclosure, negotiate_language, normalize_language, policy_text

register = template.Library()


def _request_language(context: template.Context) -> str:
    # A RequestContext carries the request itself; a plain context may hold it as a variable.
    request = getattr(context, "request", None) or context.get("request")
    if request is not None:
        code = normalize_language(getattr(request, "LANGUAGE_CODE", None))
        if code:
            return code
        header = request.META.get("HTTP_ACCEPT_LANGUAGE")
        if header:
            return negotiate_language(header)
    return normalize_language(getattr(settings, "LANGUAGE_CODE", None)) or "en"


def _safe(text: str, fmt: str) -> SafeString | str:
    # disclosure()/policy_text() escape every caller value in HTML, so the markup is safe.
    return mark_safe(text) if fmt == "html" else text  # noqa: S308


@register.simple_tag(takes_context=True)
def spamguard_notice(context: template.Context, lang: str | None = None, **options: Any) -> SafeString | str:
    """The one-line notice for a comment form (see :func:`spamguard.notice.disclosure`)."""
    settings_dict = {**getattr(settings, "SPAMGUARD_NOTICE", {}), **options}
    text = disclosure(lang or _request_language(context), **settings_dict)
    return _safe(text, settings_dict.get("fmt", "html"))


@register.simple_tag(takes_context=True)
def spamguard_policy(context: template.Context, lang: str | None = None, **options: Any) -> SafeString | str:
    """The privacy-policy paragraph (see :func:`spamguard.notice.policy_text`)."""
    notice = getattr(settings, "SPAMGUARD_NOTICE", {})
    base = {"service": notice.get("service", "akismet"), **getattr(settings, "SPAMGUARD_POLICY", {})}
    settings_dict = {**base, **options}
    text = policy_text(lang or _request_language(context), **settings_dict)
    return _safe(text, settings_dict.get("fmt", "html"))
