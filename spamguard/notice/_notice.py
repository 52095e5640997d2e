"""The notice itself: who processes comment data, rendered as HTML, text or Markdown."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Literal

import attrs

from .. import _settings
from .._settings import is_http_url
from ..errors import InvalidNoticeSettingError
from . import _messages as M
from ._catalog import translations
from ._language import DEFAULT_LANGUAGE, negotiate_language, normalize_language

__all__ = [
    "AKISMET",
    "DEFAULT_CSS_CLASS",
    "DEFAULT_DISPLAY",
    "DISPLAY_ENV",
    "FORMATS",
    "Service",
    "ServiceSpec",
    "disclosure",
    "disclosure_for",
    "policy_text",
    "resolve_service",
]

Format = Literal["html", "text", "markdown"]
Display = Literal["display", "hide"]
#: The formats :func:`disclosure` and :func:`policy_text` write.
FORMATS: tuple[str, ...] = ("html", "text", "markdown")
#: Shown unless a site hides it: see :func:`disclosure` for why.
DEFAULT_DISPLAY: Display = "display"
DEFAULT_CSS_CLASS = "spamguard-notice"
DEFAULT_POLICY_CSS_CLASS = "spamguard-policy"
_DISPLAYS = ("display", "hide")
#: Environment variable read when ``display`` is not passed (arguments first, then environment).
DISPLAY_ENV = _settings.NOTICE_DISPLAY
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_MAX_NAME = 200
# Languages written without spaces between sentences.
_NO_SPACE_LANGUAGES = frozenset({"ja", "zh"})


def _check_url(setting: str, value: object) -> str:
    """An absolute http(s) URL, or :class:`InvalidNoticeSettingError` naming the value."""
    if not isinstance(value, str):
        raise InvalidNoticeSettingError(setting, f"expected a URL string, got {value!r}")
    if not is_http_url(value):
        raise InvalidNoticeSettingError(
            setting,
            f"{value!r} is not an absolute http(s) URL; a notice links only to http:// or https:// pages "
            "(javascript:, data: and relative URLs are refused)",
        )
    if value != value.strip() or any(ch.isspace() for ch in value) or _CONTROL.search(value):
        raise InvalidNoticeSettingError(
            setting, f"{value!r} contains spaces or control characters; percent-encode them"
        )
    return value


def _check_name(setting: str, value: object) -> str:
    """A short one-line display name, or :class:`InvalidNoticeSettingError` naming the value."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidNoticeSettingError(setting, f"expected a non-empty name, got {value!r}")
    if _CONTROL.search(value) or len(value) > _MAX_NAME:
        raise InvalidNoticeSettingError(
            setting, f"{value!r} must be one line of at most {_MAX_NAME} characters without control characters"
        )
    return value.strip()


def _validate_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    _check_name(f"Service.{attribute.name}", value)


def _validate_url(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    _check_url(f"Service.{attribute.name}", value)


@attrs.frozen
class Service:
    """An Akismet-compatible spam service that receives comment data, by name and privacy page.

    ``Service("TypePad AntiSpam", "https://www.typepad.com/privacy")`` makes the notice name
    that service and link to its privacy page. The name is shown as given (escaped per format);
    the URL must be http(s). Without one (``Service("spam.example.net")``) the notice names the
    service without a link, unless the call gives ``privacy_url``; :func:`policy_text` needs one.
    """

    name: str = attrs.field(validator=_validate_name)
    privacy_url: str | None = attrs.field(default=None, validator=attrs.validators.optional(_validate_url))


#: Akismet, the default service, with its privacy page.
AKISMET = Service("Akismet", "https://akismet.com/privacy/")

#: What ``service=`` accepts: ``"akismet"``, ``"local"`` (the site itself) or a :class:`Service`.
ServiceSpec = str | Service


def resolve_service(service: ServiceSpec) -> Service | None:
    """The :class:`Service` a ``service=`` value names; ``None`` means the site itself (``"local"``)."""
    if isinstance(service, Service):
        return service
    if isinstance(service, str) and service.strip().lower() == "akismet":
        return AKISMET
    if isinstance(service, str) and service.strip().lower() == "local":
        return None
    raise InvalidNoticeSettingError(
        "service",
        f"{service!r} is not a service; use 'akismet', 'local' or spamguard.notice.Service(name, privacy_url)",
    )


def fill(template: str, **values: str) -> str:
    """Replace ``{name}`` placeholders by plain lookup (no attribute access, unlike ``str.format``)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _escape_html(text: str) -> str:
    return html.escape(text, quote=True)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>()#|~!&])")


def _escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _escape_text(text: str) -> str:
    return text


_ESCAPERS: dict[str, Callable[[str], str]] = {
    "html": _escape_html,
    "markdown": _escape_markdown,
    "text": _escape_text,
}


def _markdown_url(url: str) -> str:
    for char, code in (("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    return url


def _resolve_display(display: object) -> Display:
    setting = "display"
    if display is None:
        setting, display = DISPLAY_ENV, _settings.notice_display() or DEFAULT_DISPLAY
    if display not in _DISPLAYS:
        raise InvalidNoticeSettingError(setting, f"{display!r} is not a display setting; use 'display' or 'hide'")
    return display  # type: ignore[return-value]


def _check_format(fmt: object) -> Format:
    if fmt not in FORMATS:
        raise InvalidNoticeSettingError("fmt", f"{fmt!r} is not a format; use one of {', '.join(FORMATS)}")
    return fmt  # type: ignore[return-value]


def _language(lang: object) -> str:
    return normalize_language(lang) or DEFAULT_LANGUAGE


def _link(fmt: Format, lang: str, text: str, url: str, target: str | None, *, rel: bool = True) -> str:
    """A link in the format; ``text`` is already escaped for it, ``url`` already checked."""
    if fmt == "html":
        target_attr = f' target="{_escape_html(target)}"' if target else ""
        rel_attr = ' rel="nofollow noopener"' if rel else ""
        return f'<a href="{_escape_html(url)}"{target_attr}{rel_attr}>{text}</a>'
    if fmt == "markdown":
        return f"[{text}]({_markdown_url(url)})"
    return fill(translations(lang).gettext(M.TEXT_LINK), text=text, url=url)


def _paragraph(fmt: Format, body: str, lang: str, css_class: str | None) -> str:
    if fmt != "html":
        return body
    class_attr = f' class="{_escape_html(css_class)}"' if css_class else ""
    return f'<p{class_attr} lang="{lang}">{body}</p>'


def disclosure(
    lang: str | None = DEFAULT_LANGUAGE,
    *,
    service: ServiceSpec = "akismet",
    privacy_url: str | None = None,
    fmt: Format = "html",
    target: str | None = "_blank",
    css_class: str | None = DEFAULT_CSS_CLASS,
    site_name: str | None = None,
    display: Display | None = None,
) -> str:
    """The one-line data-processing notice to show next to a comment form.

    It says who checks the comment data for spam: Akismet (``service="akismet"``, linking to
    Akismet's privacy page), another Akismet-compatible service (``service=Service(name,
    url)``), or the site itself (``service="local"``: the data stays on the site's server).

    ``lang`` is a language code; regions fall back to their language (``"de-AT"`` gives
    German) and an unsupported or missing code gives English, so a template can pass whatever
    its framework knows. ``privacy_url`` replaces the page the notice links to; for ``"local"``
    it is the site's own privacy page, and without it the local notice has no link (there is
    no outside party to point to, and the notice itself says the data stays on the site).
    ``site_name`` names the site in the local notice instead of "this site". ``fmt`` is
    ``"html"`` (a ``<p>`` with ``css_class``, the link with ``rel="nofollow noopener"`` and
    ``target``, every caller value escaped), ``"text"`` or ``"markdown"``.

    ``display`` is ``"display"`` or ``"hide"`` (which returns ``""``); when not given, the
    ``SPAMGUARD_NOTICE_DISPLAY`` environment variable decides, else ``"display"``. Shown is
    the default because a site that sends visitors' data to a third party owes them the
    notice (GDPR Art. 13): forgetting to configure it should err towards telling them, and
    hiding it is a deliberate choice (say, when the privacy policy next to the form already
    covers it). Settings are checked even when hidden, so a mistake shows up at once.

    Raises :class:`~spamguard.InvalidNoticeSettingError` (a ``ValueError``) for a non-http(s)
    URL, an unknown service, format or display value, or a name with control characters.
    """
    display = _resolve_display(display)
    fmt = _check_format(fmt)
    code = _language(lang)
    resolved = resolve_service(service)
    url = _check_url("privacy_url", privacy_url) if privacy_url is not None else None
    site = _check_name("site_name", site_name) if site_name is not None else None
    if target is not None and not isinstance(target, str):
        raise InvalidNoticeSettingError("target", f"expected a string or None, got {target!r}")
    if display == "hide":
        return ""
    catalog = translations(code)
    escape = _ESCAPERS[fmt]
    values: dict[str, str] = {}
    if resolved is not None:
        url = url or resolved.privacy_url
        values["service"] = escape(resolved.name)
        sentence = catalog.gettext(M.DISCLOSURE_REMOTE)
        link_text = fill(escape(catalog.gettext(M.DISCLOSURE_REMOTE_LINK)), **values)
    else:
        sentence = catalog.gettext(M.DISCLOSURE_LOCAL_SITE if site else M.DISCLOSURE_LOCAL)
        if site:
            values["site"] = escape(site)
        link_text = escape(catalog.gettext(M.DISCLOSURE_LOCAL_LINK))
    values["link"] = _link(fmt, code, link_text, url, target) if url else ""
    return _paragraph(fmt, fill(escape(sentence), **values).strip(), code, css_class)


def disclosure_for(
    accept_language: str | None = None,
    *,
    service: ServiceSpec = "akismet",
    privacy_url: str | None = None,
    fmt: Format = "html",
    target: str | None = "_blank",
    css_class: str | None = DEFAULT_CSS_CLASS,
    site_name: str | None = None,
    display: Display | None = None,
) -> str:
    """:func:`disclosure` in the language an ``Accept-Language`` header asks for.

    The header is read by :func:`negotiate_language` (q-values honoured, regions fall back to
    their language, anything unknown or malformed gives English; it never raises).
    """
    return disclosure(
        negotiate_language(accept_language),
        service=service,
        privacy_url=privacy_url,
        fmt=fmt,
        target=target,
        css_class=css_class,
        site_name=site_name,
        display=display,
    )


def policy_text(
    lang: str | None = DEFAULT_LANGUAGE,
    *,
    service: ServiceSpec = "akismet",
    privacy_url: str | None = None,
    retention_days: int | None = None,
    erasure_contact: str | None = None,
    fmt: Format = "html",
    css_class: str | None = DEFAULT_POLICY_CSS_CLASS,
) -> str:
    """The longer paragraph about comment spam checks for the site's privacy policy.

    It says which data is checked (IP address, user agent, referrer, name, email address,
    website, the comment), why (spam prevention, legitimate interest), where it goes (the
    service and its privacy page, or nowhere for ``"local"``), how long the site keeps
    moderators' spam/ham feedback (when ``retention_days`` is given: the Guard's feedback
    retention) and whom to ask for erasure (``erasure_contact``, such as an email address or
    a page; otherwise "the operator of this site"). ``privacy_url`` replaces the service's
    privacy page; it is not used for ``"local"`` (the text *is* the site's privacy policy).
    """
    fmt = _check_format(fmt)
    code = _language(lang)
    resolved = resolve_service(service)
    url = _check_url("privacy_url", privacy_url) if privacy_url is not None else None
    if retention_days is not None and (
        isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 1
    ):
        raise InvalidNoticeSettingError(
            "retention_days", f"expected a whole number of days >= 1, got {retention_days!r}"
        )
    contact = _check_name("erasure_contact", erasure_contact) if erasure_contact is not None else None
    catalog = translations(code)
    escape = _ESCAPERS[fmt]
    sentences = [escape(catalog.gettext(M.POLICY_DATA)), escape(catalog.gettext(M.POLICY_PURPOSE))]
    if resolved is not None:
        url = url or resolved.privacy_url
        if url is None:
            raise InvalidNoticeSettingError(
                "privacy_url",
                f"{resolved.name!r} has no privacy page, which the policy text links to; pass privacy_url=",
            )
        link = _link(fmt, code, escape(url), url, None, rel=False) if fmt != "text" else url
        sentences.append(fill(escape(catalog.gettext(M.POLICY_REMOTE)), service=escape(resolved.name), link=link))
    else:
        sentences.append(escape(catalog.gettext(M.POLICY_LOCAL)))
    if retention_days is not None:
        singular, plural = M.POLICY_RETENTION
        sentences.append(fill(escape(catalog.ngettext(singular, plural, retention_days)), days=str(retention_days)))
    if contact is not None:
        sentences.append(fill(escape(catalog.gettext(M.POLICY_ERASURE)), contact=escape(contact)))
    else:
        sentences.append(escape(catalog.gettext(M.POLICY_ERASURE_DEFAULT)))
    joiner = "" if code in _NO_SPACE_LANGUAGES else " "
    return _paragraph(fmt, joiner.join(sentences), code, css_class)
