"""The WordPress end-to-end fixtures: the site set up as examples/wordpress/README.md says, then
a site owner's, a visitor's and a moderator's steps, each recorded for the tests to check.

The scenario fixtures record what happened rather than assert, so that each test checks one
behaviour and one missing server feature fails one test, not all of them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import requests
from _wordpress import (
    AKISMET,
    ENGLISH,
    GERMAN,
    HAM_DE,
    HAM_EN,
    PAGE,
    REPO,
    SPAM,
    WORDPRESS,
    Browser,
    Comments,
    MariaDB,
    Moderation,
    Owner,
    Process,
    WordPress,
    assignments,
    bash,
    classify,
    cleanup_stale_configs,
    free_port,
    missing_requirements,
    page_blocks,
    shell_env,
    tail,
    which,
)

# The page's example values, which the test replaces with its own in the PHP block.
PAGE_SERVICE_URL = "http://127.0.0.1:8080"
PAGE_KEY = "abcdef123456"

TEST_PLUGIN = """<?php
/* Written by the spamguard end-to-end test (tests/wordpress), not part of the example. */
// WordPress refuses a second comment from one address within 15 s; the test posts three at once.
add_filter( 'comment_flood_filter', '__return_false', 20 );
// Every HTTP request WordPress makes, with the answer: what the test can see of the traffic.
add_action( 'http_api_debug', function ( $response, $context, $class, $args, $url ) {
	$entry = array(
		'method' => isset( $args['method'] ) ? $args['method'] : 'GET',
		'url'    => $url,
		'body'   => is_string( $args['body'] ) ? $args['body'] : http_build_query( (array) $args['body'] ),
	);
	if ( is_wp_error( $response ) ) {
		$entry['error'] = $response->get_error_message();
	} else {
		$entry['status']     = wp_remote_retrieve_response_code( $response );
		$entry['response']   = substr( wp_remote_retrieve_body( $response ), 0, 2000 );
		$entry['debug_help'] = wp_remote_retrieve_header( $response, 'x-akismet-debug-help' );
	}
	file_put_contents( %(log)r, wp_json_encode( $entry ) . "\\n", FILE_APPEND | LOCK_EX );
}, 10, 5 );
"""


@pytest.fixture(scope="module")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WordPress]:
    """WordPress 6.1 with Akismet 5.0.2 from Debian's packages, pointed at `spamguard serve` by the
    page's commands; everything on 127.0.0.1, everything stopped and removed afterwards."""
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    cleanup_stale_configs()
    root = tmp_path_factory.mktemp("wp")
    site = WordPress(
        root, port=free_port(), service_port=free_port(),
        config_name=f"spamguard-test-{os.getpid()}-{secrets.token_hex(4)}",
    )
    with contextlib.ExitStack() as cleanup:
        _stop_cleanly_on_sigterm(cleanup)
        database = MariaDB(root / "db")
        cleanup.callback(database.stop)
        database.start()
        db_password = secrets.token_urlsafe(12)
        database.sql(
            "CREATE DATABASE wordpress; "
            f"CREATE USER 'wordpress'@'127.0.0.1' IDENTIFIED BY '{db_password}'; "
            "GRANT ALL ON wordpress.* TO 'wordpress'@'127.0.0.1';"
        )

        # A private wp-content: Debian's Akismet plugin and theme linked in, nothing written under /var/lib.
        for folder in ("plugins", "themes", "uploads"):
            (site.content / folder).mkdir(parents=True)
        (site.content / "plugins" / "akismet").symlink_to(AKISMET)
        for theme in (WORDPRESS / "wp-content" / "themes").iterdir():
            (site.content / "themes" / theme.name).symlink_to(theme)
        (site.content / "languages").symlink_to(WORDPRESS / "wp-content" / "languages")

        # The site's own configuration, before the page's steps add to it.
        cleanup.callback(site.config_path.unlink, missing_ok=True)
        site.config_path.write_text(
            "<?php\n"
            "/* Written by the spamguard end-to-end test (tests/wordpress); removed when it ends. */\n"
            "define( 'DB_NAME', 'wordpress' );\n"
            "define( 'DB_USER', 'wordpress' );\n"
            f"define( 'DB_PASSWORD', '{db_password}' );\n"
            f"define( 'DB_HOST', '127.0.0.1:{database.port}' );\n"
            f"define( 'WP_CONTENT_DIR', '{site.content}' );\n"
            "define( 'WP_HTTP_BLOCK_EXTERNAL', true );  // nothing leaves 127.0.0.1\n"
            "define( 'AUTOMATIC_UPDATER_DISABLED', true );\n"
            "define( 'DISABLE_WP_CRON', true );\n"
            "define( 'WP_DEBUG', true );\n"
            f"define( 'WP_DEBUG_LOG', '{root / 'wp-debug.log'}' );\n"
            "define( 'WP_DEBUG_DISPLAY', false );\n"
        )

        _follow_the_page(site, cleanup)

        (site.content / "mu-plugins" / "zz-spamguard-test.php").write_text(TEST_PLUGIN % {"log": str(site.http_log)})
        prepend = root / "prepend.php"  # php -S puts no environment in $_SERVER: name the config file here
        prepend.write_text(f"<?php $_SERVER['WORDPRESS_CONFIG'] = '{site.config_name}';\n")
        php = Process(
            "php -S",
            [which("php") or "php", "-d", f"auto_prepend_file={prepend}", "-S", f"127.0.0.1:{site.port}",
             "-t", str(WORDPRESS)],
            log=root / "php.log", env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"},
        )
        cleanup.callback(php.stop)
        php.wait_for_port(site.port)
        _install(site)
        yield site


def _stop_cleanly_on_sigterm(cleanup: contextlib.ExitStack) -> None:
    """While the site runs, SIGTERM (a CI timeout, say) interrupts the run like Ctrl-C does, so the
    teardown still stops every process and removes the configuration file from /etc/wordpress."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    cleanup.callback(signal.signal, signal.SIGTERM, signal.SIG_DFL)


def _follow_the_page(site: WordPress, cleanup: contextlib.ExitStack) -> None:
    """Run the page's commands in order, with the test's values in place of the owner's."""
    env = shell_env()
    overrides = {
        "SITE": site.url, "WP_CONTENT": str(site.content), "SPAMGUARD_DIR": str(site.spamguard_dir),
        "SPAMGUARD_PORT": str(site.service_port),
    }
    blocks = page_blocks(PAGE)
    settings = next(text for lang, text in blocks if classify(lang, text) == "settings")
    prefix = settings + assignments(overrides)
    for lang, text in blocks:
        kind = classify(lang, text)
        if kind in ("settings", "install", "check", "other"):
            site.page_values.setdefault(kind, text)
        elif kind == "run":
            result = bash(prefix + text, env=env)
            if result.returncode != 0:
                raise RuntimeError(f"the page's command failed ({result.returncode}):\n{text}\n{result.stderr}")
        elif kind == "serve":
            command = text.strip()
            script = prefix + ("exec " + command if "\n" not in command else command)
            serve = Process("spamguard serve", ["/bin/bash", "-euo", "pipefail", "-c", script],
                            log=site.serve_log, env=env, cwd=REPO)
            cleanup.callback(serve.stop)
            serve.wait_for_port(site.service_port)
            _wait_for_health(site, serve)
        elif kind == "config":
            site.key = (site.spamguard_dir / "blog.key").read_text().strip()
            if PAGE_SERVICE_URL not in text or PAGE_KEY not in text:
                raise RuntimeError(f"the page's PHP block no longer holds {PAGE_SERVICE_URL} and {PAGE_KEY}:\n{text}")
            with open(site.config_path, "a") as config:
                config.write(text.replace(PAGE_SERVICE_URL, site.service_url).replace(PAGE_KEY, site.key))


def _wait_for_health(site: WordPress, serve: Process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(site.service_url + "/health", timeout=2).ok:
                return
        time.sleep(0.1)
    raise RuntimeError(f"spamguard serve did not answer /health:\n{tail(serve.log)}")


def _install(site: WordPress) -> None:
    """WordPress's five-minute install, by POST, as its installer page would send it."""
    response = requests.post(
        site.url + "/wp-admin/install.php?step=2",
        data={"weblog_title": "spamguard test blog", "user_name": site.admin_user,
              "admin_password": site.admin_password, "admin_password2": site.admin_password, "pw_weak": "on",
              "admin_email": "admin@blog.example", "blog_public": "0", "language": ""},
        timeout=120,
    )
    if response.status_code != 200 or "Success!" not in response.text:
        raise RuntimeError(f"installing WordPress failed ({response.status_code}):\n{response.text[:3000]}")


@pytest.fixture(scope="module")
def owner(wordpress: WordPress) -> Owner:
    """The owner activates Akismet, opens Settings > Akismet, turns the notice on with spam kept for
    review, saves, and runs the page's check commands."""
    seen = Owner()
    admin = Browser(wordpress.url)
    wordpress.login(admin)
    plugins = admin.page("/wp-admin/plugins.php")
    activate = plugins.link("action=activate", "plugin=akismet%2Fakismet.php")
    if activate:
        admin.get(activate, timeout=60)
    seen.activated = wordpress.php(
        "require_once ABSPATH . 'wp-admin/includes/plugin.php'; return is_plugin_active( 'akismet/akismet.php' );"
    )
    page = admin.page("/wp-admin/options-general.php?page=akismet-key-config")
    seen.settings_before = page.text
    form = page.form_with("akismet_comment_form_privacy_notice")
    if form is not None:
        data = form.values()
        data.update(akismet_comment_form_privacy_notice="display", akismet_strictness="0")
        response = admin.post(urljoin(page.url, form.action), data=data, timeout=60)
        seen.settings_after = response.text
        seen.settings_saved = (
            wordpress.php("return get_option( 'akismet_comment_form_privacy_notice' );") == "display"
        )
    check = next((text for lang, text in page_blocks(PAGE) if classify(lang, text) == "check"), "")
    settings = wordpress.page_values["settings"]
    result = bash(settings + assignments({"SPAMGUARD_DIR": str(wordpress.spamguard_dir),
                                          "SPAMGUARD_PORT": str(wordpress.service_port)}) + check, env=shell_env())
    seen.check_output, seen.check_error = result.stdout, result.stderr
    return seen


@pytest.fixture(scope="module")
def comments(wordpress: WordPress, owner: Owner) -> Comments:
    """A visitor posts the spam and the English comment, another the German one, through the post
    page's form; then an English and a German reader open the post."""
    visitor = Browser(wordpress.url, ENGLISH)
    ids = (
        wordpress.post_comment(visitor, **SPAM),
        wordpress.post_comment(visitor, **HAM_EN),
        wordpress.post_comment(Browser(wordpress.url, GERMAN), **HAM_DE),
    )
    return Comments(
        *ids, states={i: wordpress.comment(i) for i in ids},
        page_en=Browser(wordpress.url, ENGLISH).page("/?p=1").text,
        page_de=Browser(wordpress.url, GERMAN).page("/?p=1").text,
    )


@pytest.fixture(scope="module")
def moderation(wordpress: WordPress, comments: Comments) -> Moderation:
    """A moderator follows "Spam" under the English comment and "Not Spam" under the spam one."""
    admin = Browser(wordpress.url)
    wordpress.login(admin)
    errors = []
    for comment_id, action, listing in ((comments.ham_en, "spamcomment", "all"),
                                        (comments.spam, "unspamcomment", "spam")):
        try:
            wordpress.moderate(admin, comment_id, action, listing)
        except RuntimeError as exc:
            errors.append(f"{action} on comment {comment_id}: {str(exc).splitlines()[0]}")
    return Moderation(wordpress.comment(comments.ham_en), wordpress.comment(comments.spam), errors)
