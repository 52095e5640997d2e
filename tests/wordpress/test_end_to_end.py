"""`spamguard serve` behind a stock WordPress: the Akismet plugin works unchanged (issue 13).

Debian's WordPress 6.1 with its Akismet 5.0.2 plugin, set up as examples/wordpress/README.md
says (the fixture runs the page's commands), on a private MariaDB, served by ``php -S``.
Comments go through ``wp-comments-post.php`` as a browser sends them; moderation goes through
wp-admin's links. What reached the service is read from the service itself (its /metrics, its
feedback store, its request log on stderr) and from WordPress's side (every HTTP request
WordPress made and its answer, logged by a must-use plugin of the test's own).

Needs ``apt-get install -y wordpress mariadb-server php-cli php-mysql`` (``.ci/run`` installs
them) and write access to /etc/wordpress; skips saying so otherwise.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from _wordpress import HAM_DE, HAM_EN, SPAM, Browser, Comments, Moderation, Owner, free_port, iter_lines, notices

from spamguard import FeedbackStore
from spamguard.notice import Service, disclosure

pytestmark = pytest.mark.slow

THANKS = "Thanks for making the web a better place."


def describe(calls):
    """The calls WordPress made to the service, one line each, the key masked."""
    lines = []
    for call in calls:
        path = urlsplit(call["url"]).path
        answer = call.get("error") or f"{call.get('status')} {call.get('response', '')[:80]!r}"
        help_ = f" (X-akismet-debug-help: {call['debug_help']})" if call.get("debug_help") else ""
        lines.append(f"{call['method']} {path} -> {answer}{help_}")
    return "\n".join(lines) or "(none)"


def calls_to(wordpress, path):
    return [c for c in wordpress.service_calls() if urlsplit(c["url"]).path == path]


def test_keys_add_prints_a_key_the_akismet_plugin_accepts(wordpress):
    """`spamguard keys add` (run as the page says) prints a 12-character key: the plugin refuses
    any other length without sending it (Akismet::verify_key)."""
    length = len(wordpress.key)
    assert length == 12, (
        f"spamguard keys add printed a {length}-character key; the Akismet plugin "
        "accepts only 12 characters"
    )


def test_plugins_key_check_says_valid(wordpress, owner: Owner):
    """Akismet::verify_key, the plugin's own key check, gets `valid` from the service."""
    assert owner.activated
    answer = wordpress.php("return Akismet::verify_key( Akismet::get_api_key() );")
    calls = calls_to(wordpress, "/1.1/verify-key")
    assert answer == "valid", (
        describe(calls) if calls else f"the plugin refused the {len(wordpress.key)}-character key without sending it"
    )


def test_plugins_connectivity_check_passes_over_https_first(wordpress, owner: Owner):
    """Akismet_Admin::check_server_connectivity (GET https://rest.akismet.com/1.1/test) is answered
    `connected`, and the plugin never fell back to plain http (akismet_ssl_disabled unset)."""
    result = wordpress.php(
        "require_once AKISMET__PLUGIN_DIR . 'class.akismet-admin.php';\n"
        "return array( Akismet_Admin::check_server_connectivity(), get_option( 'akismet_ssl_disabled' ) );"
    )
    assert result == [True, False], describe(calls_to(wordpress, "/1.1/test"))


def test_settings_page_shows_a_working_service(owner: Owner):
    """Settings > Akismet shows the settings form, without "can't connect" or "key no longer valid",
    and saving it (notice on, spam kept for review) works."""
    page = owner.settings_before
    problems = [text for text in ("connect to the Akismet servers", "Your API key is no longer valid",
                                  "The key you entered is invalid") if text in page]
    assert problems == [], f"the settings page says: {problems}"
    assert owner.settings_saved, "the settings form (Privacy, Strictness) was not on the page, or saving it failed"
    assert "connect to the Akismet servers" not in owner.settings_after


def test_settings_pages_send_nothing_to_akismets_tools(wordpress, moderation: Moderation):
    """The settings and stats pages embed frames from tools.akismet.com with the key in their
    address; the must-use plugin leaves them blank (about:blank)."""
    admin = Browser(wordpress.url)
    wordpress.login(admin)
    stats = admin.page("/wp-admin/options-general.php?page=akismet-key-config&view=stats").text
    settings = admin.page("/wp-admin/options-general.php?page=akismet-key-config").text
    assert re.findall(r"<iframe[^>]*src=\"([^\"]*)\"", stats) == ["about:blank"]
    assert "tools.akismet.com" not in stats and "tools.akismet.com" not in settings
    assert wordpress.key not in stats and wordpress.key not in settings


def test_link_stuffed_spam_ends_in_spam(wordpress, comments: Comments):
    """The pills/casino comment with four links is checked as spam and filed as spam."""
    state = comments.states[comments.spam]
    assert (state["approved"], state["akismet_result"], state["akismet_error"]) == ("spam", "true", ""), (
        f"{state}\n{describe(calls_to(wordpress, '/1.1/comment-check'))}"
    )
    assert state["content"] == SPAM["text"]


@pytest.mark.parametrize("which", ["ham_en", "ham_de"])
def test_ordinary_comments_are_not_spam(wordpress, comments: Comments, which):
    """An English and a German ordinary comment are checked as not spam (akismet_result false) and
    held for moderation only because they are first comments (WordPress's own rule)."""
    state = comments.states[getattr(comments, which)]
    assert (state["approved"], state["akismet_result"], state["akismet_error"]) == ("0", "false", ""), (
        f"{state}\n{describe(calls_to(wordpress, '/1.1/comment-check'))}"
    )
    assert state["content"] == {"ham_en": HAM_EN, "ham_de": HAM_DE}[which]["text"]


def _feedback(wordpress):
    store = FeedbackStore(wordpress.feedback_db)
    try:
        return [(r.comment.content, r.label) for r in store.records()]
    finally:
        store.close()


def test_moderators_spam_reaches_the_service_as_submit_spam(wordpress, moderation: Moderation):
    """"Spam" under the English comment in wp-admin sends submit-spam; the service thanks and
    records the report in its feedback store."""
    assert not [e for e in moderation.errors if "spamcomment" in e and "unspam" not in e], moderation.errors
    assert moderation.ham_en["approved"] == "spam"
    calls = calls_to(wordpress, "/1.1/submit-spam")
    assert [(c["status"], c["response"]) for c in calls] == [(200, THANKS)], describe(calls)
    assert (HAM_EN["text"], True) in _feedback(wordpress)


def test_moderators_not_spam_reaches_the_service_as_submit_ham(wordpress, moderation: Moderation):
    """"Not Spam" under the spam comment sends submit-ham; the service thanks and records it."""
    assert not [e for e in moderation.errors if "unspamcomment" in e], moderation.errors
    assert moderation.spam["approved"] in ("0", "1")
    calls = calls_to(wordpress, "/1.1/submit-ham")
    assert [(c["status"], c["response"]) for c in calls] == [(200, THANKS)], describe(calls)
    assert (SPAM["text"], False) in _feedback(wordpress)


@pytest.mark.parametrize(("which", "lang"), [("page_en", "en"), ("page_de", "de")])
def test_notice_is_the_services_in_the_visitors_language(wordpress, owner: Owner, comments: Comments, which, lang):
    """With the notice turned on, the comment form shows the notice `GET /notice?lang=..` gives,
    in the language the visitor's browser asks for, and nothing of Akismet's."""
    assert owner.settings_saved, "the notice could not be turned on: the settings form was missing"
    answer = requests.get(f"{wordpress.service_url}/notice?lang={lang}", timeout=10)
    assert answer.status_code == 200, f"GET /notice?lang={lang} answered {answer.status_code}: {answer.text!r}"
    page = getattr(comments, which)
    assert notices(page) == [answer.text.strip()]
    assert "akismet.com/privacy" not in page


def test_notice_falls_back_when_the_service_does_not_answer(wordpress, owner: Owner):
    """With nothing listening at the service's address, the plugin shows its generic sentence,
    which names no outside service."""
    dead = f"http://127.0.0.1:{free_port()}"
    shown, fallback = wordpress.php(
        f"return array( spamguard_service_notice( '{dead}', 'de' ), spamguard_fallback_notice() );"
    )
    assert shown == fallback
    assert fallback.startswith('<p class="spamguard-notice">') and "Akismet" not in fallback


def test_plugin_keeps_spamguards_notice_html_as_it_is(wordpress):
    """The plugin's HTML filter (wp_kses with its allowed tags) leaves spamguard's notices unchanged."""
    service = Service("Example spam filter", "https://blog.example/privacy?x=1&y='2'")
    for lang in ("en", "de", "ja"):
        html = disclosure(lang, service=service)
        kept = wordpress.php(
            f"return wp_kses( {_php_string(html)}, spamguard_notice_allowed_html() );"
        )
        assert kept == html


def _php_string(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("de-DE,de;q=0.9,en;q=0.5", "de"), ("en;q=0.5, fr-CH", "fr"), ("", "en"), ("*", "en"), ("pt_BR", "pt")],
)
def test_visitor_language_comes_from_accept_language_else_the_site(wordpress, header, expected):
    """The notice's language: the browser's highest-ranked language, else the site's (en_US here)."""
    assert wordpress.php(
        f"$_SERVER['HTTP_ACCEPT_LANGUAGE'] = {_php_string(header)}; return spamguard_visitor_language();"
    ) == expected


def test_pages_check_commands_show_the_service_answering(wordpress, owner: Owner):
    """The page's checks print `connected`, the German notice, and the key's line in `keys list`."""
    lines = owner.check_output.splitlines()
    assert lines[0] == "connected", owner.check_output + owner.check_error
    assert lines[1].startswith('<p class="spamguard-notice" lang="de">'), owner.check_output
    assert any(wordpress.url in line for line in lines[2:]), owner.check_output


def test_no_request_was_answered_404_or_invalid(wordpress, moderation: Moderation):
    """Of everything the plugin sent (key checks, settings page, comments, reports), nothing was
    answered 404 or `invalid`: seen from WordPress (its HTTP log) and from the service (/metrics)."""
    calls = wordpress.service_calls()
    assert calls, "WordPress made no request to the service"
    bad = [c for c in calls if c.get("error") or c.get("status") == 404 or c.get("response", "").strip() == "invalid"]
    metrics = wordpress.metrics()
    not_found = {k: v for k, v in metrics.items() if k[0] == "spamguard_requests_total" and k[2] == "404" and v}
    invalid = {k: v for k, v in metrics.items() if k[0] == "spamguard_invalid_total" and v}
    assert (describe(bad), not_found, invalid) == ("(none)", {}, {})


def test_akismet_calls_all_went_to_the_service(wordpress, moderation: Moderation):
    """No request WordPress made went to (or was blocked on its way to) an akismet.com host: the
    must-use plugin answered them all from the service."""
    to_akismet = [c["url"] for c in wordpress.http_calls() if "akismet.com" in (urlsplit(c["url"]).hostname or "")]
    assert to_akismet == []
    paths = {urlsplit(c["url"]).path for c in wordpress.service_calls()}
    assert {"/1.1/comment-check", "/1.1/get-subscription", "/1.1/test"} <= paths


def test_requests_reach_the_service_as_the_plugin_sent_them(wordpress, comments: Comments):
    """The forwarded comment-check carries the plugin's fields: the key, the site, the visitor's
    IP and browser, the comment, and WordPress's dates (UTC, no zone)."""
    (check, *_) = calls_to(wordpress, "/1.1/comment-check")
    fields = {k: v[-1] for k, v in parse_qs(check["body"]).items()}
    assert check["method"] == "POST"
    assert (fields["api_key"], fields["blog"], fields["user_ip"], fields["comment_content"]) == (
        wordpress.key, wordpress.url, "127.0.0.1", SPAM["text"]
    )
    assert fields["user_agent"].startswith("Mozilla/5.0")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", fields["comment_post_modified_gmt"])


def test_service_logs_each_request_with_the_key_masked(wordpress, moderation: Moderation):
    """The service's request log (stderr) has a line for each request WordPress made, with the key
    shown as *** and its last four characters, never whole."""
    log = list(iter_lines(wordpress.serve_log))
    assert not [line for line in log if wordpress.key in line], "the key appears whole in the request log"
    missing = []
    for call in wordpress.service_calls():
        path = urlsplit(call["url"]).path
        if not any(path in line and call["method"] in line for line in log):
            missing.append(f"{call['method']} {path}")
    assert missing == [], "no request-log line for: " + ", ".join(sorted(set(missing)))
    assert any("***" + wordpress.key[-4:] in line for line in log)
