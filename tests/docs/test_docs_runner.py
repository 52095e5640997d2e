"""The docs runner itself: each of its checks fails when a page is wrong (on small pages of our own)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import _docs_session
import pytest
from _docblocks import blocks
from _docrun import Unit, all_blocks, directive_problems, plan
from _docs_claims import claim_problem, claims, text_matches
from _docs_session import DocsFailure, session
from _docs_shell import commands, name_problems, pip_problems, simple_commands

FENCE = "```"


def page(tmp_path: Path, text: str) -> list:
    """The blocks of a Markdown page with ``text`` (``~~~`` stands for a fence)."""
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "page.md"
    path.write_text(text.replace("~~~", FENCE), encoding="utf-8")
    return blocks(path)


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> _docs_session.Session:
    """Run every block of a page as one unit; the session, for a look at what it left."""
    found = page(tmp_path, text)
    (tmp_path / "run").mkdir()
    with session(tmp_path / "run", monkeypatch) as reader:
        reader.run(Unit("page", tuple(b for b in found if plan(b).kind in ("python", "sh", "output"))))
    return reader


@dataclasses.dataclass
class Point:
    x: float
    label: str
    tags: tuple[str, ...] = ()


# --- value claims


@pytest.mark.parametrize(("claim", "problem"), [
    ("Point(x=0.92, label='a', ...)", None),
    ("Point(x=0.9, ...)", None),
    ("Point(x=0.93, ...)", "the value.x is 0.917, which is not 0.93 at 2 decimal(s)"),
    ("Point(label='b', ...)", "the value.label is 'a', the comment shows 'b'"),
    ("Point(colour='red', ...)", "the value has no field 'colour'"),
    ("Verdict(x=0.92, ...)", "the value is a Point, not a Verdict"),
    ("Point(x=..., label=..., tags=('p', ...))", None),
    ("Point(x=..., label=..., tags=('p', 'q'))", "the value.tags has 3 item(s), the comment shows 2"),
])
def test_a_claim_shows_fields_at_the_precision_written(claim: str, problem: str | None) -> None:
    """A claim written as a call compares the fields it names; a number to the decimals shown;
    `...` is any value or the rest."""
    found = claim_problem(claim, Point(0.917, "a", ("p", "q", "r")), {})
    assert (found or "").startswith(problem or "") and (found is None) == (problem is None)


def test_text_claims_match_the_repr_with_elisions() -> None:
    """A claim that is not Python (`0.99...`) must match repr (str for strings), `...` any text."""
    assert claim_problem("(True, 0.99...)", (True, 0.9913), {}) is None
    assert claim_problem("(True, 0.98...)", (True, 0.9913), {}) == "shows '(True, 0.98...)', but the value is " \
        "'(True, 0.9913)'"
    assert claim_problem("<p>Hallo ...</p>", "<p>Hallo Welt</p>", {}) is None


def test_claims_are_trailing_comments_that_look_like_values() -> None:
    """Only an expression statement's or an assignment's trailing comment that starts like a repr
    is a claim; prose after a bracketed claim is not part of it; aligned comment lines continue it."""
    source = (
        "x = f()            # Point(x=1, ...): the prose after it is not checked\n"
        "x.y                # (1, 2)\n"
        "g()                # a remark, not a claim\n"
        "assert h()         # (path, fields) received\n"
        "'a' + 'b'          # <p>first\n"
        "                   #   second</p>\n"
    )
    assert {line: c.text for line, c in claims(source).items()} == {
        1: "Point(x=1, ...)", 2: "(1, 2)", 5: "<p>first second</p>",
    }


def test_the_pages_have_value_claims_and_all_are_checked() -> None:
    """The claims the README's Python blocks make (so the check is not silently doing nothing)."""
    found = [c.text for b in all_blocks() if b.lang == "python" for c in claims("\n" * b.line + b.text).values()]
    assert len(found) >= 6
    assert any(text.startswith("Verdict(spam=True, score=") for text in found)


@pytest.mark.parametrize(("expected", "actual", "numbers_aside", "matches"), [
    ("ham  source=local  score=0.005", "ham source=local score=0.005\n", False, True),
    ("spam ... reasons: 1 link; ...", "spam source=local reasons: 1 link; links to x", False, True),
    ("ham score=0.005", "ham score=0.006", False, False),
    ("rescored 20,000 records in 8.2 s", "rescored 40 records in 0.1 s", True, True),
    ("rescored 20,000 records in 8.2 s", "rescored 40 comments in 0.1 s", True, False),
])
def test_text_matches(expected: str, actual: str, numbers_aside: bool, matches: bool) -> None:
    """`...` is any text, spaces any whitespace, numbers-aside lets numbers differ, nothing else may."""
    assert text_matches(expected, actual, numbers_aside=numbers_aside) is matches


# --- reading shell blocks


def test_commands_keep_continuations_and_heredocs_and_collect_what_they_show(tmp_path: Path) -> None:
    """A command is what a reader pastes: backslash lines and a heredoc included; the comment lines
    right after it are what it shows."""
    text = "~~~sh\n# a heading\nspamguard check \\\n  hi\n# ham\n\npython - <<'PY'\nprint(1)\nPY\n~~~\n"
    (block,) = page(tmp_path, text)
    found = commands(block)
    assert [(c.text, c.line, c.shows) for c in found] == [
        ("spamguard check \\\n  hi", 3, ["ham"]),
        ("python - <<'PY'\nprint(1)\nPY", 7, []),
    ]
    assert simple_commands(found[0]) == [["spamguard", "check", "hi"]]


def test_names_that_do_not_exist_are_found(tmp_path: Path) -> None:
    """Unknown programs, commands that do not parse, missing repository files, spamguard from PyPI,
    a Python name spamguard lacks."""
    found = page(tmp_path, (
        "~~~sh\nfrobnicate --now\nspamguard check --no-such-option hi\npython benchmarks/no_such.py\n"
        "pip install spamguard\nSPAMGUARD_MODEL=x spamguard rescore in.jsonl -o models/new/m.joblib\n~~~\n"
        "~~~python\nfrom spamguard import Guard, NoSuchThing\n~~~\n"
    ))
    problems = [p.split(": ", 2)[-1] for b in found for p in name_problems(b)]
    assert problems == [
        "the runner does not know the program 'frobnicate' (KNOWN_PROGRAMS)",
        "does not parse: spamguard check: error: unrecognized arguments: --no-such-option",
        "no file 'benchmarks/no_such.py' in the repository",
        "installs 'spamguard': spamguard is not on PyPI; install the checkout ('.' or '.[extra]')",
        "spamguard has no 'NoSuchThing'",
    ]


def test_pip_lines_must_name_the_checkout_and_extras_it_has() -> None:
    """`pip install -e '.[server]'` passes; an extra setup.cfg lacks does not."""
    assert pip_problems(["pip", "install", "-e", ".[server]"]) == []
    assert pip_problems(["pip", "install", ".[serverr]"])[0].startswith("no extra 'serverr' in setup.cfg")


def test_directives_are_checked(tmp_path: Path) -> None:
    """Unknown or misplaced directives, a replace that finds nothing, an unknown sample file."""
    found = page(tmp_path, (
        "<!-- docs-test: skipp: typo -->\n<!-- docs-test: replace `nothing` with `x` -->\n"
        "<!-- docs-test: files no-such.csv -->\n~~~sh\necho hi\n~~~\n"
        "<!-- docs-test: outputs -->\n~~~python\nx = 1\n~~~\n~~~\nbare\n~~~\n"
    ))
    problems = [p.split(": ", 1)[1] for b in found for p in directive_problems(b)]
    assert [p.split(" (")[0] for p in problems] == [
        "unknown directive 'skipp'",
        "`replace` finds no 'nothing' in the block",
        "no sample file no-such.csv",
        "'outputs' is for shell blocks",
    ]
    assert plan(found[2]).kind == "unhandled"


# --- running


def test_a_wrong_exit_status_or_output_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`outputs`: the comment is the output and `(exit N)` the status; a ham shown as spam fails."""
    text = '<!-- docs-test: outputs -->\n~~~sh\nspamguard check "Thanks, that fixed my build."\n# spam  (exit 3)\n~~~\n'
    with pytest.raises(DocsFailure, match=r"page.md:3: 'spamguard check \"Thanks, that fixed my build.\"' exited 0, "
                                          r"not 3"):
        run(tmp_path, monkeypatch, text)


def test_output_is_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comment after a command must match what it printed."""
    with pytest.raises(DocsFailure, match="not what the page shows:\ngoodbye"):
        run(tmp_path, monkeypatch, "<!-- docs-test: outputs -->\n~~~sh\necho hello\n# goodbye\n~~~\n")


def test_a_failing_command_fails_and_variables_carry_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command must exit 0; a variable exported by one is there for the next."""
    reader = run(tmp_path, monkeypatch, "~~~sh\nexport GREETING=hi\necho \"$GREETING there\" > out.txt\n~~~\n")
    assert (reader.root / "out.txt").read_text() == "hi there\n"
    with pytest.raises(DocsFailure, match=r"page.md:3: 'false' exited 1, not 0"):
        run(tmp_path / "again", monkeypatch, "~~~sh\ntrue\nfalse\n~~~\n")


def test_a_wrong_value_claim_fails_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python block's claim is checked against the value, and the failure names the page's line."""
    with pytest.raises(DocsFailure, match=r"page.md:4: the comment '3' is wrong: the value is 2"):
        run(tmp_path, monkeypatch, "text\n~~~python\nx = 1\nx + 1    # 3\n~~~\n")


def test_a_python_error_points_at_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception in a block has the page's file and line in its traceback."""
    with pytest.raises(NameError) as raised:
        run(tmp_path, monkeypatch, "~~~python\nx = 1\nundefined_name\n~~~\n")
    assert (raised.traceback[-1].path, raised.traceback[-1].lineno + 1) == (tmp_path / "page.md", 3)


def test_output_blocks_are_compared_and_rewritten_on_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare `output head FILE` block must be the start of FILE; SPAMGUARD_DOCS_UPDATE=1 rewrites it."""
    text = "~~~sh\nprintf 'a\\nb\\nc\\n' > f.txt\n~~~\n<!-- docs-test: output head f.txt -->\n~~~\na\nx\n~~~\n"
    with pytest.raises(DocsFailure, match="but the start of f.txt is\na\nb\n"):
        run(tmp_path, monkeypatch, text)
    monkeypatch.setattr(_docs_session, "UPDATE", True)
    with pytest.raises(DocsFailure, match="rewritten"):
        run(tmp_path / "again", monkeypatch, text)
    assert (tmp_path / "again" / "page.md").read_text().endswith(f"{FENCE}\na\nb\n{FENCE}\n")


def test_a_server_is_started_checked_and_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`spamguard serve` runs in the background on a free port (the page's is replaced), is asked
    until it answers, serves the block's next commands, and is stopped."""
    reader = run(tmp_path, monkeypatch, (
        "~~~sh\nspamguard serve --open --port 8080 --quiet\ncurl -s http://127.0.0.1:8080/1.1/test > answer.txt\n~~~\n"
    ))
    assert (reader.root / "answer.txt").read_text() == "connected"
