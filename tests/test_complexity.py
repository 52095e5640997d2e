"""No function in spamguard is more tangled than cyclomatic complexity 25, as radon counts it (issue 15, item 7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parent.parent / "spamguard"
LIMIT = 25


def _blocks(blocks: list[Any]) -> Iterator[Any]:
    """Every function and method, closures and nested classes included."""
    for block in blocks:
        if hasattr(block, "methods"):  # a class: its methods and inner classes
            yield from _blocks(list(block.methods) + list(getattr(block, "inner_classes", [])))
        else:
            yield block
            yield from _blocks(list(getattr(block, "closures", [])))


def test_no_function_is_above_the_complexity_limit() -> None:
    """Every function and method in the package has a cyclomatic complexity of at most 25."""
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{block.lineno} {block.fullname} ({block.complexity})"
        for path in sorted(PACKAGE.rglob("*.py"))
        for block in _blocks(cc_visit(path.read_text(encoding="utf-8")))
        if block.complexity > LIMIT
    ]
    assert found == []


def test_the_check_sees_nested_functions_and_methods() -> None:
    """A method and a closure over the limit are found (the test above cannot pass by looking at too little)."""
    branches = "\n".join(f"        if x == {i}:\n            return {i}" for i in range(LIMIT + 1))
    source = (
        "class A:\n    def method(self, x):\n" + branches + "\n        return -1\n\n"
        "def outer():\n    def inner(x):\n" + branches + "\n        return -1\n    return inner\n"
    )
    names = {block.fullname: block.complexity for block in _blocks(cc_visit(source))}
    assert names["A.method"] > LIMIT and names["inner"] > LIMIT
