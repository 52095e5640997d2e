"""The data-processing notice in Jinja2 templates.

::

    from jinja2 import Environment
    from spamguard.integrations import jinja as spamguard_jinja

    env = Environment(autoescape=True)
    spamguard_jinja.install(env, service="akismet", target="_blank")

    {{ spamguard_notice("de") }}                       {# by language code #}
    {{ spamguard_notice(accept_language=request.headers.get("Accept-Language")) }}
    {{ request.headers.get("Accept-Language") | spamguard_notice }}
    {{ spamguard_policy("de", retention_days=90) }}

HTML comes back as :class:`markupsafe.Markup` (already escaped, so autoescaping leaves it
alone); text and Markdown come back as plain strings and are escaped like any other value.
Jinja2 is not a dependency of spamguard: this module imports nothing of it, and needs only
an environment object with ``globals`` and ``filters`` mappings.
"""

from __future__ import annotations

from typing import Any

from ..notice import disclosure, negotiate_language, normalize_language, policy_text

__all__ = ["install"]


def _markup(text: str, fmt: str) -> Any:
    if fmt != "html":
        return text
    from markupsafe import Markup  # comes with Jinja2

    return Markup(text)  # noqa: S704 - disclosure() escapes every caller value itself


def install(env: Any, **defaults: Any) -> Any:
    """Add ``spamguard_notice``/``spamguard_policy`` globals and a ``spamguard_notice`` filter.

    ``defaults`` are keyword arguments of :func:`spamguard.notice.disclosure` (``service``,
    ``privacy_url``, ``fmt``, ``display``...) used by every call unless the template gives
    its own; ``policy_defaults`` inside them, a dict, goes to :func:`policy_text`. They are
    checked now, so a bad URL fails at start-up rather than on the first page view.
    Returns ``env``.
    """
    policy_defaults = dict(defaults.pop("policy_defaults", {}))
    policy_defaults.setdefault("service", defaults.get("service", "akismet"))
    disclosure("en", **defaults)  # fail early on bad settings
    policy_text("en", **policy_defaults)

    def spamguard_notice(lang: str | None = None, *, accept_language: str | None = None, **options: Any) -> Any:
        settings = {**defaults, **options}
        if lang is None:
            lang = negotiate_language(accept_language)
        return _markup(disclosure(lang, **settings), settings.get("fmt", "html"))

    def spamguard_policy(lang: str | None = None, **options: Any) -> Any:
        settings = {**policy_defaults, **options}
        return _markup(policy_text(lang, **settings), settings.get("fmt", "html"))

    def notice_filter(value: str | None, **options: Any) -> Any:
        """``value`` is a language code or a whole Accept-Language header."""
        lang = normalize_language(value) or negotiate_language(value)
        return spamguard_notice(lang, **options)

    env.globals["spamguard_notice"] = spamguard_notice
    env.globals["spamguard_policy"] = spamguard_policy
    env.filters["spamguard_notice"] = notice_filter
    return env
