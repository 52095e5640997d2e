"""The WordPress example's files: the must-use plugin is valid PHP, and the page's commands are all
ones the end-to-end test runs."""

from __future__ import annotations

import re
import subprocess
from importlib.metadata import requires

import pytest
from _wordpress import APT_HINT, PAGE, PLUGIN, classify, page_blocks, which


def test_plugin_passes_php_lint():
    """`php -l` finds no syntax error in examples/wordpress/spamguard.php."""
    php = which("php")
    if php is None:
        pytest.skip(f"no php to lint the plugin with: {APT_HINT}")
    result = subprocess.run([php, "-l", str(PLUGIN)], capture_output=True, text=True, timeout=60)  # noqa: S603
    assert (result.returncode, result.stdout.strip()) == (0, f"No syntax errors detected in {PLUGIN}"), result.stderr


def test_every_block_on_the_page_is_one_the_end_to_end_test_runs():
    """Each code block of the page is the owner's settings, the install line, a command run in page
    order, the service, the PHP configuration or the checks: nothing the test leaves out."""
    kinds = [classify(lang, text) for lang, text in page_blocks(PAGE)]
    assert "other" not in kinds
    assert sorted(set(kinds)) == ["check", "config", "install", "run", "serve", "settings"]
    assert [k for k in kinds if k != "run"] == ["settings", "install", "serve", "config", "check"]


def test_settings_block_names_every_value_the_commands_use():
    """The first block sets exactly the variables the later blocks read (the test overrides them)."""
    blocks = page_blocks(PAGE)
    settings = next(text for lang, text in blocks if classify(lang, text) == "settings")
    names = set(re.findall(r"^(\w+)=", settings, re.M))
    used = {name for lang, text in blocks if lang == "sh" for name in re.findall(r"\$\{?(\w+)", text)}
    assert names == used == {"SITE", "WP_CONTENT", "SPAMGUARD_DIR", "SPAMGUARD_PORT"}


def test_install_line_names_the_extra_that_brings_the_server():
    """The one command the test does not run (the test runs the checkout it is part of; the docs
    runner checks the line) installs the checkout with the `server` extra, which brings waitress."""
    (install,) = [text for lang, text in page_blocks(PAGE) if classify(lang, text) == "install"]
    assert install.strip() == "python3 -m pip install '.[server]'"
    assert any(r.startswith("waitress") and 'extra == "server"' in r for r in requires("spamguard") or [])
