"""The notice in a real Jinja2 template."""

from __future__ import annotations

import pytest

jinja2 = pytest.importorskip("jinja2")

from spamguard import InvalidNoticeSettingError  # noqa: E402
from spamguard.integrations import jinja as spamguard_jinja  # noqa: E402
from spamguard.notice import disclosure, policy_text  # noqa: E402


@pytest.fixture(autouse=True)
def _no_display_override(monkeypatch):
    """The notice is shown by default; a SPAMGUARD_NOTICE_DISPLAY in the caller's shell must not leak in."""
    monkeypatch.delenv("SPAMGUARD_NOTICE_DISPLAY", raising=False)


def make_env(**defaults):
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return spamguard_jinja.install(env, **defaults)


def test_global_renders_html_unescaped_once():
    """The HTML notice is Markup: autoescaping does not escape it a second time."""
    template = make_env().from_string("<form></form>{{ spamguard_notice('de') }}")
    assert template.render() == "<form></form>" + disclosure("de")


def test_filter_takes_an_accept_language_header_and_defaults_apply():
    """Install-time defaults are used; the filter reads a language code or a whole header."""
    env = make_env(service="local", privacy_url="https://blog.example/privacy", target=None)
    template = env.from_string("{{ header | spamguard_notice }}|{{ 'sv' | spamguard_notice(fmt='text') }}")
    rendered = template.render(header="fr-CA,fr;q=0.8,en;q=0.5")
    expected_fr = disclosure("fr", service="local", privacy_url="https://blog.example/privacy", target=None)
    expected_sv = disclosure("sv", service="local", privacy_url="https://blog.example/privacy", fmt="text")
    assert rendered == f"{expected_fr}|{expected_sv}"


def test_text_format_is_escaped_like_any_value():
    """Plain text is not Markup, so a hostile site name is escaped by Jinja."""
    env = make_env(service="local", fmt="text", site_name="<b>x</b>")
    assert env.from_string("{{ spamguard_notice() }}").render().startswith("To fight spam, &lt;b&gt;x&lt;/b&gt;")


def test_accept_language_keyword_and_policy_global():
    """spamguard_notice(accept_language=...) negotiates; spamguard_policy renders the long text."""
    env = make_env(policy_defaults={"retention_days": 30})
    template = env.from_string("{{ spamguard_notice(accept_language=h) }}{{ spamguard_policy('it') }}")
    assert template.render(h="it-IT") == disclosure("it") + policy_text("it", retention_days=30)


def test_bad_defaults_fail_at_install():
    """A javascript: URL in the defaults fails when the environment is set up, not at render time."""
    with pytest.raises(InvalidNoticeSettingError, match="javascript"):
        make_env(privacy_url="javascript:alert(1)")
