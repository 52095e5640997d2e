"""The docs runner: the Python and shell blocks of README.md and examples/*.md, run as a reader would.

What it does with a block (CONTRIBUTING.md says the same for writers):

* ``python``: run in this process, statement by statement, in a fresh temporary folder made to
  look like the repository root (its files linked in, ``models/`` copied, so a block may write
  there); tracebacks point at the page's own lines. A trailing comment that shows a value
  (``verdict.score  # 0.99...``, ``# Verdict(spam=True, score=0.92, ...)``) is checked
  (``_docs_claims.py``).
* ``sh``: run command by command with ``/bin/bash`` in such a folder, the checkout's
  ``spamguard`` and ``python`` first on PATH, ``HOME``/``TMPDIR`` inside the folder, no
  spamguard settings or keys from the machine, and proxies that go nowhere (so nothing reaches
  the network). Variables a command sets carry on to the next, as in a reader's shell. Each
  command must exit 0, unless the ``outputs`` directive shows another status. A command that
  starts a server (``_docs_shell.SERVERS``) runs in the background on a free port (the page's port is
  replaced, in the whole block), must answer, and is stopped when the block ends. ``pip
  install`` is not run (it would need the network): ``_docs_shell.pip_problems`` checks it.
* a bare block (no language) with an ``output`` directive is checked against what the block
  before it printed or wrote; ``jinja``/``django`` blocks are templates, not run;
  ``examples/wordpress/README.md`` is run by ``tests/wordpress/`` (see :data:`RUN_ELSEWHERE`).

README blocks each start afresh, unless marked ``continues`` (then they share the block before's
folder, shell variables and Python names). A walk-through, ``examples/*.md``, runs as one reader
following it: every block in order, one folder, one shell, one Python namespace.

Directives, HTML comments directly above a block (``<!-- docs-test: NAME ARG -->``):

``skip: REASON``               not run (tests list every one, so they stay few)
``ci FILE``                    not run here: each command is a line of FILE, which CI runs
``slow: REASON``               marked slow (blocks that use ``../shared/data`` are, by rule)
``continues``                  shares the folder, shell and namespace of the README block before
``outputs``                    (sh) comment lines right after a command show its output, checked;
                               ``(exit N)`` at their end is its exit status
``output [head FILE | FILE] [numbers-aside]``
                               (bare block) what the previous command printed (stdout and
                               stderr as a terminal shows them), or the start of FILE, or FILE
``akismet KEY``                a FakeAkismet accepting KEY: ``SPAMGUARD_AKISMET_URL`` points at
                               it, ``SPAMGUARD_AKISMET_KEY=KEY``, ``SPAMGUARD_BLOG_URL`` is set
``postgres``                   each ``postgresql://`` URL becomes a fresh schema on the test
                               server holding sample feedback; skips without one
``files NAME ...``             sample files put in the folder first (``_docs_files.SAMPLE_FILES``)
``given CODE``                 code (the block's language) run first, unseen: what a framework or
                               a form would give the block (``request``, ``text``...)
``replace `OLD` with `NEW```   run the block with that change (``{akismet_url}`` is the fake's URL)
``without PROGRAM: REASON``    commands using PROGRAM are not run (e.g. ``wp``: WP-CLI)

In every output comparison ``...`` stands for any text and a run of spaces for any whitespace;
``numbers-aside`` also lets every number differ. ``SPAMGUARD_DOCS_UPDATE=1`` rewrites an
``output`` block that has no ``...`` with what was really printed (and says so by failing).

The modules: this one (which blocks, what they are, the directives), ``_docs_shell.py`` (commands,
servers, what blocks name), ``_docs_claims.py`` (comparing what pages show), ``_docs_files.py``
(sample files) and ``_docs_session.py`` (running them); the parser is ``tests/_docblocks.py``.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys

from _docblocks import REPO, Block, blocks
from _docs_files import SAMPLE_FILES

PAGES = [REPO / "README.md", *sorted(REPO.glob("examples/*.md")), *sorted(REPO.glob("examples/*/README.md"))]
WALK_THROUGH_DIR = REPO / "examples"  # examples/*.md: one reader following the page
RUN_ELSEWHERE = {
    "examples/wordpress/README.md": (
        "run by tests/wordpress/ in page order against a real WordPress (its install line is checked here)"
    ),
}
TEMPLATE_LANGUAGES = {"jinja": "a Jinja2 template", "django": "a Django template"}
DIRECTIVES = {
    "skip", "ci", "slow", "continues", "outputs", "output", "akismet", "postgres", "files", "given", "replace",
    "without",
}
DATA_MARK = "../shared/data"


# --- what a block is -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the runner does with a block: ``python``, ``sh``, ``output`` (run, or checked), ``ci``,
    ``skip``, ``template``, ``elsewhere`` (not run here, for ``reason``) or ``unhandled``."""

    kind: str
    reason: str = ""


def all_blocks() -> list[Block]:
    """Every fenced block of every page the runner covers."""
    return [block for page in PAGES for block in blocks(page)]


def is_walk_through(block: Block) -> bool:
    return block.path.parent == WALK_THROUGH_DIR


def plan(block: Block) -> Plan:
    """What the runner does with ``block``; ``unhandled`` (with why) makes the inventory test fail."""
    elsewhere = RUN_ELSEWHERE.get(block.page)
    if elsewhere is not None and _wordpress_kind(block) != "install":
        return Plan("elsewhere", elsewhere)
    if (skip := block.directive("skip")) is not None:
        return Plan("skip", skip.arg) if skip.arg else Plan("unhandled", "`skip` needs a reason")
    if block.lang == "python":
        return Plan("python")
    if block.lang == "sh":
        if (ci := block.directive("ci")) is not None:
            return Plan("ci", f"each command is a line of {ci.arg}")
        return Plan("sh")
    if block.lang == "" and block.directive("output") is not None:
        return Plan("output")
    if block.lang == "":
        return Plan("unhandled", "a bare block needs `output ...` (what it shows is checked) or `skip: REASON`")
    if block.lang in TEMPLATE_LANGUAGES:
        return Plan("template", f"{TEMPLATE_LANGUAGES[block.lang]}: its tags and filters are tested in "
                                "tests/integrations/")
    return Plan("unhandled", f"no runner for ```{block.lang} blocks")


def _wordpress_kind(block: Block) -> str:
    """What tests/wordpress/ does with a block of its page (its own ``classify``)."""
    module = sys.modules.get("_wordpress")
    if module is None:
        spec = importlib.util.spec_from_file_location("_wordpress", REPO / "tests" / "wordpress" / "_wordpress.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["_wordpress"] = module
        spec.loader.exec_module(module)
    return str(module.classify(block.lang, block.text))


def needs_data(block: Block) -> bool:
    return DATA_MARK in block.text


def is_slow(block: Block) -> bool:
    return block.directive("slow") is not None or needs_data(block)


# --- units: what one test runs -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Unit:
    """Blocks run together, in order, in one folder: a README block (with those that continue it),
    a whole walk-through, or a page's block run here."""

    name: str
    blocks: tuple[Block, ...]

    @property
    def slow(self) -> bool:
        return any(is_slow(b) for b in self.blocks)


def units() -> list[Unit]:
    """Every test unit of the runnable blocks (python, sh, output), in page order."""
    found: list[Unit] = []
    for page in PAGES:
        runnable = [b for b in blocks(page) if plan(b).kind in ("python", "sh", "output")]
        if not runnable:
            continue
        if runnable[0].path.parent == WALK_THROUGH_DIR:
            found.append(Unit(runnable[0].page, tuple(runnable)))
            continue
        for block in runnable:
            if (block.directive("continues") or plan(block).kind == "output") and found and found[-1].blocks[
                -1
            ].path == block.path:
                found[-1] = Unit(found[-1].name, (*found[-1].blocks, block))
            else:
                found.append(Unit(block.where, (block,)))
    return found

def parse_replace(arg: str) -> tuple[str, str]:
    """``replace `OLD` with `NEW```: (OLD, NEW)."""
    match = re.fullmatch(r"`(.+?)`\s+with\s+`(.*)`", arg.strip())
    if match is None:
        raise ValueError(f"a replace directive reads `OLD` with `NEW`, not {arg!r}")
    return match.group(1), match.group(2)


def directive_problems(block: Block) -> list[str]:
    """Directives that are unknown, misspelt or of no use where they are."""
    problems = []
    kind = plan(block).kind
    for d in block.directives:
        where = f"{block.page}:{d.line}"
        if d.name not in DIRECTIVES:
            problems.append(f"{where}: unknown directive {d.name!r} (known: {', '.join(sorted(DIRECTIVES))})")
        elif d.name in ("outputs", "without") and block.lang != "sh":
            problems.append(f"{where}: {d.name!r} is for shell blocks")
        elif d.name == "output" and block.lang != "":
            problems.append(f"{where}: 'output' is for bare blocks (what a command printed)")
        elif d.name == "continues" and is_walk_through(block):
            problems.append(f"{where}: every block of a walk-through continues the one before; no need to say so")
        elif d.name == "files" and (unknown := [n for n in d.arg.split() if n not in SAMPLE_FILES]):
            problems.append(f"{where}: no sample file {', '.join(unknown)} (SAMPLE_FILES: {', '.join(SAMPLE_FILES)})")
        elif d.name == "replace":
            try:
                old, _ = parse_replace(d.arg)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
            else:
                if old not in block.text:
                    problems.append(f"{where}: `replace` finds no {old!r} in the block")
        elif d.name == "without" and ":" not in d.arg:
            problems.append(f"{where}: write `without PROGRAM: REASON`")
        elif d.name == "ci" and not (REPO / d.arg).is_file():
            problems.append(f"{where}: no file {d.arg!r}")
        elif d.name in ("skip", "slow") and not d.arg:
            problems.append(f"{where}: {d.name!r} needs a reason")
        if kind in ("skip", "elsewhere", "template") and d.name not in ("skip",):
            problems.append(f"{where}: {d.name!r} does nothing on a block that is not run here ({kind})")
    return problems
