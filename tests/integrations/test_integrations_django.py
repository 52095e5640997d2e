"""The notice in a real Django template, rendered in a subprocess with its own settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from spamguard.notice import disclosure, policy_text

pytest.importorskip("django")

SCRIPT = textwrap.dedent(
    """
    import json
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["spamguard.integrations.django"],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        LANGUAGE_CODE="en-us",
        SPAMGUARD_NOTICE={"service": "local", "privacy_url": "https://blog.example/privacy"},
        SPAMGUARD_POLICY={"retention_days": 14},
    )
    django.setup()
    from django.template import engines
    from django.test import RequestFactory

    engine = engines["django"]
    template = engine.from_string(
        "{% load spamguard_tags %}<form></form>{% spamguard_notice %}"
    )
    fixed = engine.from_string("{% load spamguard_tags %}{% spamguard_notice 'ja' fmt='text' %}")
    policy = engine.from_string("{% load spamguard_tags %}{% spamguard_policy 'de' %}")
    factory = RequestFactory()
    by_header = factory.get("/", HTTP_ACCEPT_LANGUAGE="nl-BE,nl;q=0.9,en;q=0.5")
    by_middleware = factory.get("/", HTTP_ACCEPT_LANGUAGE="nl")
    by_middleware.LANGUAGE_CODE = "pt-br"
    print(json.dumps({
        "header": template.render({}, by_header),
        "middleware": by_middleware and template.render({}, by_middleware),
        "no_request": template.render({}),
        "fixed": fixed.render({}),
        "policy": policy.render({}),
    }))
    """
)


@pytest.fixture(autouse=True)
def _no_display_override(monkeypatch):
    """The notice is shown by default; a SPAMGUARD_NOTICE_DISPLAY in the caller's shell must not leak in."""
    monkeypatch.delenv("SPAMGUARD_NOTICE_DISPLAY", raising=False)


@pytest.fixture(scope="module")
def rendered():
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "SPAMGUARD_NOTICE_DISPLAY"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_tag_takes_the_language_from_accept_language(rendered):
    """{% spamguard_notice %} negotiates the request's Accept-Language, with SPAMGUARD_NOTICE settings."""
    expected = disclosure("nl", service="local", privacy_url="https://blog.example/privacy")
    assert rendered["header"] == "<form></form>" + expected
    assert 'lang="nl"' in rendered["header"]


def test_tag_prefers_the_request_language_code(rendered):
    """LocaleMiddleware's request.LANGUAGE_CODE wins over the header."""
    assert rendered["middleware"] == "<form></form>" + disclosure(
        "pt", service="local", privacy_url="https://blog.example/privacy"
    )


def test_tag_without_request_uses_settings_language(rendered):
    """With no request in the context, settings.LANGUAGE_CODE decides."""
    assert rendered["no_request"] == "<form></form>" + disclosure(
        "en", service="local", privacy_url="https://blog.example/privacy"
    )


def test_tag_arguments_win_and_text_is_autoescaped(rendered):
    """A fixed language and format on the tag; text output goes through Django's escaping."""
    expected = disclosure("ja", service="local", privacy_url="https://blog.example/privacy", fmt="text")
    assert rendered["fixed"] == expected


def test_policy_tag_uses_both_settings(rendered):
    """{% spamguard_policy %} takes the service from SPAMGUARD_NOTICE and retention from SPAMGUARD_POLICY."""
    assert rendered["policy"] == policy_text("de", service="local", retention_days=14)
