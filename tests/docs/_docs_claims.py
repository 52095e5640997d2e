"""What the pages show, checked: values in Python comments, and text (outputs) with ``...`` in it."""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import tokenize
from typing import Any

# --- value claims in Python comments -------------------------------------------------------------

_CLAIM_START = re.compile(r"""^(?:[(\[{'"<]|-?\d|(?:True|False|None)\b|[A-Z]\w*\()""")


@dataclasses.dataclass(frozen=True)
class Claim:
    """A trailing comment that shows a statement's value: the statement's first line, the text."""

    line: int
    text: str


def claims(source: str) -> dict[int, Claim]:
    """The value claims of padded Python source (line numbers are the page's), by the line of the
    top-level statement they belong to: a trailing comment on an expression statement or an
    assignment to one name, when it starts as a value's repr does (``(``, ``[``, ``{``, a quote,
    ``<``, a number, True/False/None, or ``Name(``). Comment-only lines right below it, with the
    ``#`` in the same column, continue it."""
    comments: dict[int, tuple[int, str, bool]] = {}  # line -> (column, text, alone on its line)
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            comments[row] = (col, token.string[1:].strip(), not lines[row - 1][:col].strip())
    found: dict[int, Claim] = {}
    for stmt in ast.parse(source).body:
        if not (isinstance(stmt, ast.Expr) or (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                                               and isinstance(stmt.targets[0], ast.Name))):
            continue
        end = stmt.end_lineno or stmt.lineno
        for row in range(stmt.lineno, end + 1):
            comment = comments.get(row)
            if comment is None or comment[2] or not _CLAIM_START.match(comment[1]):
                continue
            text, column, below = comment[1], comment[0], end + 1
            while (more := comments.get(below)) is not None and more[2] and more[0] == column:
                text += " " + more[1]
                below += 1
            found[stmt.lineno] = Claim(row, _value_part(text))
            break
    return found


def _value_part(text: str) -> str:
    """The value a claim shows, without the prose after it: a bracketed claim (``(True, 0.99...):
    score is ...``) ends at its closing bracket; any other claim is the whole comment."""
    opening = re.match(r"[A-Z]\w*\(|[(\[{]", text)
    if opening is None:
        return text
    depth, quote = 0, ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[: i + 1]
    return text


def claim_problem(claim: str, value: Any, namespace: dict[str, Any]) -> str | None:
    """Why ``value`` is not what the comment ``claim`` shows, or None.

    A claim that is a Python expression is compared by structure: ``Verdict(spam=True,
    score=0.92, ...)`` means an object of a class called ``Verdict`` whose ``spam`` is True and
    whose ``score`` is 0.92 at the two decimals shown; ``...`` is any value (or, last in a call,
    tuple or list, any further fields or items); names (``Action.SPAM``) are the block's. Any
    other claim is text: it must match ``repr(value)`` (``str`` for a string), ``...`` standing for
    any text.
    """
    try:
        tree = ast.parse(_rest_of_fields(claim), mode="eval")
    except SyntaxError:
        shown = value if isinstance(value, str) else repr(value)
        return None if text_matches(claim, shown) else f"shows {claim!r}, but the value is {shown!r}"
    return _compare(tree.body, value, claim, namespace, "the value")


def _rest_of_fields(claim: str) -> str:
    """``Verdict(spam=True, ...)`` as Python can parse it: a last ``...`` in a call, after named
    fields, becomes ``**...`` (positional arguments may not follow keywords)."""
    out, calls, quote = [], [], ""
    i = 0
    while i < len(claim):
        char = claim[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            calls.append(bool(re.search(r"\w$", "".join(out))))
        elif char == ")" and calls:
            calls.pop()
        elif claim.startswith("...", i) and calls and calls[-1] and re.match(r"\s*\)", claim[i + 3:]) \
                and "".join(out).rstrip().endswith(",") and "=" in "".join(out).rsplit("(", 1)[-1]:
            out.append("**...")
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _compare(node: ast.expr, value: Any, source: str, namespace: dict[str, Any], what: str) -> str | None:
    if isinstance(node, ast.Constant) and node.value is Ellipsis:
        return None
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "?")
        if type(value).__name__ != name:
            return f"{what} is a {type(value).__name__}, not a {name}: {value!r}"
        if any(not (isinstance(a, ast.Constant) and a.value is Ellipsis) for a in node.args):
            return f"{what}: write fields as name=value, or ... for the rest"
        for keyword in node.keywords:
            if keyword.arg is None and isinstance(keyword.value, ast.Constant) and keyword.value.value is Ellipsis:
                continue  # a last `...`: the other fields, whatever they are
            if keyword.arg is None or not hasattr(value, keyword.arg):
                return f"{what} has no field {keyword.arg!r}: {value!r}"
            problem = _compare(keyword.value, getattr(value, keyword.arg), source, namespace, f"{what}.{keyword.arg}")
            if problem:
                return problem
        return None
    if isinstance(node, (ast.Tuple, ast.List)):
        if not isinstance(value, (tuple, list)):
            return f"{what} is not a tuple or list: {value!r}"
        items = list(node.elts)
        more = bool(items) and isinstance(items[-1], ast.Constant) and items[-1].value is Ellipsis
        if more:
            items.pop()
        if len(value) < len(items) or (not more and len(value) != len(items)):
            shown = f"{len(items)}{' or more' if more else ''}"
            return f"{what} has {len(value)} item(s), the comment shows {shown}: {value!r}"
        for i, (item, actual) in enumerate(zip(items, value[: len(items)], strict=True)):
            if problem := _compare(item, actual, source, namespace, f"{what}[{i}]"):
                return problem
        return None
    if isinstance(node, ast.Dict):
        if not isinstance(value, dict) and not hasattr(value, "keys"):
            return f"{what} is not a mapping: {value!r}"
        for key_node, item in zip(node.keys, node.values, strict=True):
            key = ast.literal_eval(key_node) if key_node is not None else None
            if key not in value:
                return f"{what} has no key {key!r}: {value!r}"
            if problem := _compare(item, value[key], source, namespace, f"{what}[{key!r}]"):
                return problem
        return None
    expected = eval(compile(ast.Expression(node), "<claim>", "eval"), dict(namespace))  # noqa: S307 - the page's own text
    if isinstance(expected, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = ast.get_source_segment(source, node) or repr(expected)
        decimals = len(shown.split(".")[1]) if "." in shown else 0
        if round(float(value), decimals) != expected:
            return f"{what} is {value!r}, which is not {shown} at {decimals} decimal(s)"
        return None
    if value != expected:
        return f"{what} is {value!r}, the comment shows {expected!r}"
    return None


# --- text comparisons ------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _pattern(expected: str) -> re.Pattern[str]:
    parts = [r"\s+".join(re.escape(word) for word in part.split()) for part in expected.strip().split("...")]
    return re.compile(".*?".join(parts), re.S)


def text_matches(expected: str, actual: str, *, numbers_aside: bool = False) -> bool:
    """Whether ``actual`` is what ``expected`` shows: ``...`` is any text, a run of whitespace any
    whitespace; with ``numbers_aside`` every number may differ too."""
    if numbers_aside:
        expected, actual = _NUMBER.sub("0", expected), _NUMBER.sub("0", actual)
    return _pattern(expected).fullmatch(actual.strip()) is not None

