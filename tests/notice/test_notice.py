"""The data-processing notice: every language, service kind and format; escaping; settings."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from spamguard import InvalidNoticeSettingError, SpamGuardError
from spamguard.notice import (
    AKISMET,
    DEFAULT_DISPLAY,
    FORMATS,
    LANGUAGES,
    Service,
    disclosure,
    disclosure_for,
    policy_text,
    resolve_service,
)


@pytest.fixture(autouse=True)
def _no_display_override(monkeypatch):
    """The notice is shown by default; a SPAMGUARD_NOTICE_DISPLAY in the caller's shell must not leak in."""
    monkeypatch.delenv("SPAMGUARD_NOTICE_DISPLAY", raising=False)


HOSTILE = '"><script>alert(1)</script>'
SITE_PRIVACY = "https://blog.example/privacy?lang=de&v=2"
TYPEPAD = Service("TypePad AntiSpam", "https://antispam.example/privacy")

# Each service kind, with the link the notice must carry (None: no link at all).
SERVICE_KINDS = {
    "akismet": ({"service": "akismet"}, AKISMET.privacy_url),
    "other-service": ({"service": TYPEPAD}, TYPEPAD.privacy_url),
    "local-with-privacy-page": ({"service": "local", "privacy_url": SITE_PRIVACY}, SITE_PRIVACY),
    "local-without-privacy-page": ({"service": "local"}, None),
}


def parse_html(fragment: str) -> ET.Element:
    """Parse an HTML fragment strictly (as XML): unbalanced or unescaped markup fails here."""
    return ET.fromstring(fragment)  # noqa: S314 - our own output, not untrusted input


def visible_text(element: ET.Element) -> str:
    return "".join(element.itertext())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", sorted(SERVICE_KINDS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_renders_for_every_service_kind_and_format(lang, kind, fmt):
    """Each combination renders fully: placeholders filled, the right link, HTML well-formed."""
    options, link = SERVICE_KINDS[kind]
    notice = disclosure(lang, fmt=fmt, **options)

    assert notice.strip() == notice and notice
    assert not re.search(r"\{\w+\}", notice), "a placeholder was left unfilled"
    if lang != "en":
        assert notice != disclosure("en", fmt=fmt, **options), "the translation was not used"
    if fmt == "html":
        root = parse_html(notice)
        assert root.tag == "p"
        assert root.attrib == {"class": "spamguard-notice", "lang": lang}
        links = root.findall(".//a")
        assert len(links) == (1 if link else 0)
        if link:
            assert links[0].attrib == {"href": link, "target": "_blank", "rel": "nofollow noopener"}
            assert visible_text(links[0]).strip()
        assert visible_text(root).strip()
    elif fmt == "markdown":
        links = re.findall(r"\]\((https?://[^)\s]+)\)", notice)
        assert links == ([link] if link else [])
        assert "<" not in notice
    else:
        assert "<" not in notice and "](" not in notice
        assert notice.count("https://") == (1 if link else 0)
        if link:
            assert link in notice
    if "service" in options and options["service"] != "local":
        shown = visible_text(parse_html(notice)) if fmt == "html" else notice
        assert resolve_service(options["service"]).name in shown


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_policy_text_renders_in_every_language_and_format(lang, fmt):
    """The privacy-policy paragraph fills every placeholder, including the plural retention line."""
    text = policy_text(lang, fmt=fmt, retention_days=30, erasure_contact="privacy@blog.example")
    assert not re.search(r"\{\w+\}", text)
    assert "30" in text and "privacy@blog.example" in text and AKISMET.privacy_url in text
    if fmt == "html":
        root = parse_html(text)
        assert root.attrib == {"class": "spamguard-policy", "lang": lang}
        assert [a.get("href") for a in root.findall(".//a")] == [AKISMET.privacy_url]
    if lang != "en":
        assert text != policy_text("en", fmt=fmt, retention_days=30, erasure_contact="privacy@blog.example")


def test_english_disclosure_reads_as_expected():
    """The default notice: Akismet, its privacy page, a new tab, nofollow noopener."""
    assert disclosure() == (
        '<p class="spamguard-notice" lang="en">To fight spam, this site sends your comment, name, email address '
        "and IP address to Akismet for checking. "
        '<a href="https://akismet.com/privacy/" target="_blank" rel="nofollow noopener">'
        "How Akismet handles your data</a></p>"
    )


def test_german_notice_comes_from_the_german_catalog():
    """German is really German: words from the catalog, not the English msgid."""
    text = disclosure("de", fmt="text")
    assert text == (
        "Zum Schutz vor Spam sendet diese Website Ihren Kommentar, Ihren Namen, Ihre E-Mail-Adresse und "
        "Ihre IP-Adresse zur Prüfung an Akismet. Wie Akismet Ihre Daten verarbeitet: https://akismet.com/privacy/"
    )


def test_local_notice_says_the_data_stays_on_the_site():
    """service='local' names no outside party; site_name replaces 'this site'."""
    assert disclosure(service="local", fmt="text") == (
        "To fight spam, this site checks your comment on its own server; "
        "your data is not sent to any outside service."
    )
    assert disclosure(service="local", site_name="Bob's Blog", privacy_url=SITE_PRIVACY, fmt="markdown") == (
        "To fight spam, Bob's Blog checks your comment on its own server; "
        f"your data is not sent to any outside service. [Privacy policy]({SITE_PRIVACY})"
    )


def test_privacy_url_replaces_the_services_page():
    """A site may point the link at its own page about Akismet."""
    root = parse_html(disclosure(privacy_url="https://blog.example/akismet"))
    assert root.find("a").get("href") == "https://blog.example/akismet"


def test_hostile_site_and_service_names_come_out_inert_in_html():
    """Caller names are escaped: the markup stays one paragraph with one link and no script."""
    for notice in (
        disclosure("de", service="local", site_name=HOSTILE, privacy_url=SITE_PRIVACY),
        disclosure("ja", service=Service(HOSTILE, "https://x.example/p")),
        disclosure(service="local", css_class=HOSTILE, target=HOSTILE, privacy_url=SITE_PRIVACY),
    ):
        assert "<script" not in notice
        root = parse_html(notice)
        assert root.findall(".//script") == []
        assert len(root.findall(".//a")) == 1
    root = parse_html(disclosure(service="local", site_name=HOSTILE))
    assert HOSTILE in visible_text(root)  # shown as text, exactly as given


def test_hostile_names_are_escaped_in_markdown():
    """Markdown specials in a name cannot open a link or an HTML tag."""
    name = "[click](javascript:alert(1)) <b>"
    text = disclosure(service=Service(name, "https://x.example/p"), fmt="markdown")
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\) \\<b\\>" in text
    assert re.findall(r"(?<!\\)\]\(([^)]*)\)", text) == ["https://x.example/p"]


def test_urls_are_escaped_in_html_and_markdown():
    """Ampersands and parentheses in a URL stay inside the attribute or the link target."""
    url = "https://x.example/p?a=1&b=(2)"
    assert 'href="https://x.example/p?a=1&amp;b=(2)"' in disclosure(privacy_url=url)
    assert "(https://x.example/p?a=1&b=%282%29)" in disclosure(privacy_url=url, fmt="markdown")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "ftp://files.example/privacy",
        "//evil.example/privacy",
        "/privacy",
        "https://",
        "https://x.example/a b",
        "https://x.example/\nSet-Cookie:1",
        "http://[::1/privacy",
        42,
    ],
)
def test_unsafe_urls_are_refused_naming_the_value(url):
    """Only absolute http(s) URLs may be linked; the error names the setting and the value."""
    for call in (
        lambda: disclosure(privacy_url=url),
        lambda: disclosure(service=Service("X", url)),
        lambda: policy_text(privacy_url=url),
    ):
        with pytest.raises(InvalidNoticeSettingError) as caught:
            call()
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, SpamGuardError)
        assert repr(url) in str(caught.value)


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"service": "typepad"}, "service"),
        ({"service": None}, "service"),
        ({"fmt": "pdf"}, "fmt"),
        ({"display": "maybe"}, "display"),
        ({"site_name": ""}, "site_name"),
        ({"site_name": "two\nlines"}, "site_name"),
        ({"target": 3}, "target"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(options, setting):
    """A wrong setting fails with the setting's name, even when the notice is hidden."""
    with pytest.raises(InvalidNoticeSettingError, match=f"^{setting}: ") as caught:
        disclosure(**options)
    assert caught.value.setting == setting
    if setting != "display":
        with pytest.raises(InvalidNoticeSettingError):
            disclosure(display="hide", **options)


@pytest.mark.parametrize("days", [0, -1, True, 2.5, "30"])
def test_policy_refuses_a_bad_retention(days):
    """retention_days is a whole number of days, at least one."""
    with pytest.raises(InvalidNoticeSettingError, match="retention_days"):
        policy_text(retention_days=days)


def test_display_defaults_to_display_and_hide_gives_nothing(monkeypatch):
    """Shown by default (sites owe visitors the notice); 'hide' is an explicit opt-out."""
    monkeypatch.delenv("SPAMGUARD_NOTICE_DISPLAY", raising=False)
    assert DEFAULT_DISPLAY == "display"
    assert disclosure().startswith("<p ")
    assert disclosure(display="hide") == ""
    assert disclosure_for("de", display="hide") == ""


def test_display_setting_comes_from_the_environment_when_not_passed(monkeypatch):
    """SPAMGUARD_NOTICE_DISPLAY hides the notice site-wide; an argument still wins."""
    monkeypatch.setenv("SPAMGUARD_NOTICE_DISPLAY", " Hide ")
    assert disclosure() == ""
    assert disclosure(display="display").startswith("<p ")
    monkeypatch.setenv("SPAMGUARD_NOTICE_DISPLAY", "sometimes")
    with pytest.raises(InvalidNoticeSettingError, match="^SPAMGUARD_NOTICE_DISPLAY: 'sometimes'"):
        disclosure()


def test_unknown_and_regional_languages():
    """Regions fall back to their language; unknown or missing codes give English."""
    assert disclosure("de-AT") == disclosure("de") == disclosure("DE_de")
    assert disclosure("pt-BR") == disclosure("pt")
    assert disclosure("zh-Hant-TW") == disclosure("zh")
    assert disclosure("xx") == disclosure(None) == disclosure("") == disclosure("en")


def test_html_options_shape_the_markup():
    """css_class and target may be changed or left out."""
    root = parse_html(disclosure(css_class="note small", target=None))
    assert root.get("class") == "note small"
    assert "target" not in root.find("a").attrib
    assert "class" not in parse_html(disclosure(css_class=None)).attrib


def test_disclosure_for_picks_the_language_from_the_header():
    """The Accept-Language header decides the language; a broken header gives English."""
    assert disclosure_for("fr-CH, fr;q=0.9, en;q=0.8") == disclosure("fr")
    assert disclosure_for("xx, ;;;q=abc") == disclosure("en")
    assert disclosure_for(None, service="local", fmt="text") == disclosure("en", service="local", fmt="text")


def test_policy_text_names_data_purpose_destination_retention_and_erasure():
    """The English policy paragraph says every part the issue asks for."""
    text = policy_text(retention_days=1, erasure_contact="privacy@blog.example", fmt="text")
    for phrase in (
        "IP address",
        "user agent",
        "referrer",
        "name, email address and website",
        "text of your comment",
        "legitimate interest",
        "sent to Akismet",
        "(https://akismet.com/privacy/)",
        "for 1 day ",
        "contact privacy@blog.example.",
    ):
        assert phrase in text
    assert "for 2 days " in policy_text(retention_days=2, fmt="text")
    local = policy_text(service="local", fmt="text")
    assert "own server" in local and "https://" not in local and "operator of this site" in local
    assert "retention" not in local.lower() and "keeps that decision" not in local


@pytest.mark.parametrize(("days", "word"), [(1, "день"), (3, "дня"), (5, "дней"), (11, "дней"), (21, "день")])
def test_russian_retention_uses_the_catalogs_plural_forms(days, word):
    """Plural-Forms in the catalog picks день/дня/дней the Russian way."""
    assert f" {days} {word}," in policy_text("ru", retention_days=days, fmt="text")


def test_policy_erasure_contact_is_escaped():
    """A contact is the caller's text: escaped in HTML."""
    html_text = policy_text(erasure_contact=HOSTILE)
    assert "<script" not in html_text
    assert HOSTILE in visible_text(parse_html(html_text))


@pytest.mark.parametrize(("url", "expected"), [
    ("https://rest.akismet.com", "akismet"),
    ("https://0123456789ab.rest.akismet.com/", "akismet"),
    ("http://127.0.0.1:8080", "local"),
    ("http://[::1]:8080/spam", "local"),
    ("http://localhost:8080", "local"),
    ("https://spam.example.net/base/", Service("spam.example.net")),
    ("https://notakismet.com", Service("notakismet.com")),
])
def test_service_for_remote_names_where_a_base_url_sends_comment_data(url, expected):
    """Akismet's hosts are Akismet; the site's own machine is local; any other host is named as it is."""
    from spamguard.notice import service_for_remote

    assert service_for_remote(url) == expected


def test_a_service_without_a_privacy_page_is_named_without_a_link():
    """Service(name) alone: the notice names it and links nowhere, unless the call gives privacy_url;
    the policy text, which must link to the service's policy, asks for one."""
    service = Service("spam.example.net")
    assert disclosure("en", service=service, fmt="text") == (
        "To fight spam, this site sends your comment, name, email address and IP address to spam.example.net "
        "for checking."
    )
    linked = disclosure("en", service=service, privacy_url="https://spam.example.net/privacy", fmt="markdown")
    assert linked.endswith("[How spam.example.net handles your data](https://spam.example.net/privacy)")
    with pytest.raises(InvalidNoticeSettingError, match="privacy_url"):
        policy_text("en", service=service)
