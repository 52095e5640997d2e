"""The fenced code blocks of the project's Markdown pages, with the ``docs-test`` directives above them.

One parser for every test that runs documentation: the docs runner (``tests/docs/``) and the
WordPress end-to-end test (``tests/wordpress/``, through :func:`page_blocks`).

A directive is an HTML comment (invisible when the page is rendered) on a line of its own,
directly above a fence; several may be stacked::

    <!-- docs-test: akismet your-api-key -->
    <!-- docs-test: skip: needs WP-CLI and a WordPress site -->
    ```sh
    ...
    ```

``NAME`` is the first word (a ``:`` after it is optional); the rest is its argument. What each
name means is the docs runner's business (``tests/docs/_docrun.py``); here they are only read.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# A fence may be indented (inside a list item); the closing fence has the same indentation.
_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n`]*\n(?P<text>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<name>[\w-]+):?\s*(?P<arg>.*?)\s*-->\s*$")
_ANY_FENCE_LINE = re.compile(r"^\s*```")


@dataclasses.dataclass(frozen=True)
class Directive:
    """``<!-- docs-test: NAME ARG -->``: its name, its argument (may be empty) and its line."""

    name: str
    arg: str
    line: int


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language (``""`` for a bare fence), its text
    (dedented, ending in a newline) and the directives directly above it."""

    path: Path
    line: int  # the opening fence's line, from 1
    lang: str
    text: str
    directives: tuple[Directive, ...] = ()

    @property
    def page(self) -> str:
        """The page's path relative to the repository, e.g. ``examples/rescore_wordpress.md``."""
        try:
            return self.path.resolve().relative_to(REPO).as_posix()
        except ValueError:
            return self.path.as_posix()

    @property
    def where(self) -> str:
        """``README.md:36``: the page and the line of the opening fence."""
        return f"{self.page}:{self.line}"

    @property
    def first_text_line(self) -> int:
        """The page's line number of the block's first line of text."""
        return self.line + 1

    def directive(self, name: str) -> Directive | None:
        """The first directive called ``name``, or None."""
        return next((d for d in self.directives if d.name == name), None)

    def all(self, name: str) -> list[Directive]:
        """Every directive called ``name``, in page order."""
        return [d for d in self.directives if d.name == name]


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order, each with its directives."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        directives: list[Directive] = []
        above = line - 2  # index of the line above the fence
        while above >= 0 and (d := _DIRECTIVE.match(lines[above])):
            directives.insert(0, Directive(d.group("name"), d.group("arg"), above + 1))
            above -= 1
        body = textwrap.dedent(match.group("text")) if match.group("indent") else match.group("text")
        found.append(Block(path, line, match.group("lang"), body, tuple(directives)))
    return found


def page_blocks(path: Path) -> list[tuple[str, str]]:
    """The fenced code blocks of a Markdown page: (language, text), in order."""
    return [(b.lang, b.text) for b in blocks(path)]


def fence_lines(path: Path) -> int:
    """How many lines of the page start a or end a fence (``` at any indentation): twice the blocks."""
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if _ANY_FENCE_LINE.match(line))


def stray_directives(path: Path) -> list[int]:
    """Lines holding a ``docs-test`` directive that is not directly above a fence (it would do nothing)."""
    attached = {d.line for b in blocks(path) for d in b.directives}
    return [
        number
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "docs-test" in line and number not in attached
    ]
