"""Every Python and shell block of README.md and examples/*.md runs, and does what its page says.

The runner is ``_docrun.py`` and the modules its docstring names, with its rules. These tests run
each unit (a README block, or a whole walk-through) and check the inventory: every block is one
the runner handles, the skipped ones are listed here, and what the blocks name exists.
"""

from __future__ import annotations

from pathlib import Path

import _docrun
import pytest
from _docblocks import REPO, fence_lines, stray_directives
from _docrun import Plan, all_blocks, plan, units
from _docs_session import session
from _docs_shell import commands, name_problems

# Every block the runner does not run, by page and first line, with why: adding one means adding it here.
NOT_RUN = {
    ("README.md", "python -m pip install -e '.[test]'    # install spamguard and what its tests need"):
        Plan("ci", "each command is a line of .ci/run"),
    ("README.md", '{{ spamguard_notice("de") }}'):
        Plan("template", "a Jinja2 template: its tags and filters are tested in tests/integrations/"),
    ("README.md", "{% load spamguard_tags %}"):
        Plan("template", "a Django template: its tags and filters are tested in tests/integrations/"),
    ("README.md", "2026-11-29T07:17:35Z 127.0.0.1 POST /1.1/comment-check key=***66d8 200 discard 2.7ms"):
        Plan("skip", "two lines of a request log, read field by field below"),
    ("examples/rescore_wordpress.md", "wp export --dir=/tmp/export" + " " * 18 + "# comments are included by default"):
        Plan("skip", "needs WP-CLI and a WordPress site"),
}


def _param(unit: _docrun.Unit) -> object:
    return pytest.param(unit, id=unit.name, marks=[pytest.mark.slow] if unit.slow else [])


@pytest.mark.parametrize("unit", [_param(u) for u in units()])
def test_block_runs_as_its_page_says(unit: _docrun.Unit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unit's blocks run in a fresh folder like the repository root; commands exit as shown,
    printed values and outputs are what the page shows, servers answer."""
    with session(tmp_path, monkeypatch) as reader:
        reader.run(unit)


def test_every_block_is_one_the_runner_handles() -> None:
    """No block is of a kind the runner cannot run or check (a new language, a bare block with no
    `output` directive): a new block cannot slip in untested."""
    unhandled = {b.where: plan(b).reason for b in all_blocks() if plan(b).kind == "unhandled"}
    assert unhandled == {}


def test_the_blocks_not_run_here_are_these() -> None:
    """Skipped, CI-only and template blocks are few and listed above; the WordPress page's blocks
    are run by tests/wordpress/ (all but its install line, which runs here)."""
    not_run = {(b.page, b.text.splitlines()[0]): plan(b) for b in all_blocks()
               if plan(b).kind in ("skip", "ci", "template")}
    assert not_run == NOT_RUN
    elsewhere = [b for b in all_blocks() if plan(b).kind == "elsewhere"]
    assert {b.page for b in elsewhere} == {"examples/wordpress/README.md"}


def test_every_runnable_block_is_in_a_unit() -> None:
    """Each python, sh and output block is run by exactly one unit."""
    in_units = [b.where for u in units() for b in u.blocks]
    runnable = [b.where for b in all_blocks() if plan(b).kind in ("python", "sh", "output")]
    assert sorted(in_units) == sorted(runnable)


@pytest.mark.parametrize("page", _docrun.PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_fence_is_parsed_and_every_directive_attached(page: Path) -> None:
    """The parser finds every fenced block of the page (indented ones too), and every docs-test
    directive sits directly above a block."""
    assert fence_lines(page) == 2 * len([b for b in all_blocks() if b.path == page])
    assert stray_directives(page) == []


def test_directives_are_known_and_of_use() -> None:
    """Every directive is one the runner knows, written as it reads it, where it does something."""
    assert [p for b in all_blocks() for p in _docrun.directive_problems(b)] == []


def test_blocks_name_only_what_exists() -> None:
    """Every program a shell block runs is known; every `spamguard` command line parses (commands,
    options, choices); scripts and files of the repository exist; `pip install`s name this
    checkout and its extras; Python blocks import only names spamguard has. Skipped blocks too."""
    problems = [p for b in all_blocks() if plan(b).kind != "elsewhere" for p in name_problems(b)]
    assert problems == []


def test_ci_blocks_are_lines_of_the_ci_script() -> None:
    """A block marked `ci FILE` is not run here (it installs, or runs the whole suite): each of its
    commands is a line of FILE, which CI runs as it is."""
    checked = 0
    for block in all_blocks():
        if (ci := block.directive("ci")) is None:
            continue
        script = {line.strip() for line in (REPO / ci.arg).read_text().splitlines()}
        for command in commands(block):
            line = command.first_line.split("  #")[0].strip()
            assert line in script, f"{block.page}:{command.line}: {line!r} is not a line of {ci.arg}"
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("content", ["", "  "])
def test_the_web_apps_snippet_refuses_an_empty_comment_with_a_400(content: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Flask snippet, run as written, answers an empty comment with 400 naming the
    field (it used to be a 500), and takes a real one."""
    (block,) = [b for b in all_blocks() if b.lang == "python" and "comment_from_flask" in b.text]
    with session(tmp_path, monkeypatch) as reader:
        reader.run(_docrun.Unit(block.where, (block,)))
        client = reader.namespace["app"].test_client()
        empty = client.post("/posts/1/comments", data={"author": "Ann", "content": content})
        real = client.post("/posts/1/comments", data={"author": "Ann", "content": "Great post, thanks!"})
    assert (empty.status_code, empty.get_data(as_text=True)) == (
        400, "Your comment was not sent: content: is empty: there is no text to judge")
    assert (real.status_code, real.headers["Location"]) == (303, "/posts/1")
