"""Shell blocks, as the docs runner reads them: commands, the programs they run, the servers they
start, and what they name (which must exist)."""

from __future__ import annotations

import ast
import configparser
import contextlib
import dataclasses
import importlib
import importlib.metadata
import importlib.util
import io
import os
import re
import shlex

from _docblocks import REPO, Block

# --- shell commands ----------------------------------------------------------------------------


@dataclasses.dataclass
class Command:
    """One command of a shell block as a reader would paste it (continuation lines and heredocs
    included), its page line, and the comment lines right after it (what ``outputs`` checks)."""

    text: str
    line: int
    shows: list[str] = dataclasses.field(default_factory=list)

    @property
    def first_line(self) -> str:
        """The command without its heredoc body, continuation lines joined."""
        lines = []
        for line in self.text.splitlines():
            lines.append(line[:-1] if line.rstrip().endswith("\\") else line)
            if _HEREDOC.search(line):
                break
        return " ".join(lines)


_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


def commands(block: Block, text: str | None = None) -> list[Command]:
    """The commands of a shell block, in order."""
    lines = (block.text if text is None else text).splitlines()
    found: list[Command] = []
    after_command = False
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped:
            after_command = False
        elif stripped.startswith("#"):
            if after_command:
                found[-1].shows.append(stripped[1:].strip())
        else:
            start, parts = i, [lines[i]]
            while parts[-1].rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                parts.append(lines[i])
            heredoc = _HEREDOC.search(" ".join(parts))
            if heredoc:
                while i + 1 < len(lines):
                    i += 1
                    parts.append(lines[i])
                    if lines[i].strip() == heredoc.group(2):
                        break
            found.append(Command("\n".join(parts), block.first_text_line + start))
            after_command = True
        i += 1
    return found


_SEPARATORS = {"|", "||", "&&", ";", "&", "(", ")", "$", "$("}
_REDIRECTS = {">", ">>", "<", "<<", "<<-", "2>", "&>", ">&"}


def simple_commands(command: Command) -> list[list[str]]:
    """The argument lists of the simple commands in ``command`` (pipes, ``&&``, ``$(...)`` split),
    each up to its first redirection; leading ``NAME=value`` assignments dropped."""
    lexer = shlex.shlex(command.first_line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    found: list[list[str]] = []
    current: list[str] = []
    redirected = False
    for token in lexer:
        if token in _SEPARATORS or set(token) <= set("();|&$"):
            if current:
                found.append(current)
            current, redirected = [], False
        elif token in _REDIRECTS or set(token) <= set("<>&"):
            redirected = True
        elif not redirected and not (not current and re.match(r"^[A-Za-z_]\w*=", token)):
            current.append(token)
    if current:
        found.append(current)
    return found


def program(argv: list[str]) -> str:
    """The program a simple command runs, by name: ``~/env/bin/pip`` is ``pip``, ``python3`` is
    ``python``; ``python -m pip`` is ``pip``."""
    name = os.path.basename(argv[0]) if argv else ""
    if name.startswith("python"):
        if argv[1:3] == ["-m", "pip"]:
            return "pip"
        return "python"
    return name


def outputs_of(argv: list[str]) -> set[str]:
    """Paths a command names as what it writes (``-o PATH``)."""
    return {argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("-o", "--output")}


# Programs a block may run; anything else is a new kind of command the runner must learn first.
KNOWN_PROGRAMS = {
    "spamguard": "the checkout's command",
    "python": "this interpreter",
    "pip": "checked, not run (pip_problems)",
    "dask": "dask's scheduler and worker (the dask extra)",
    "export": "shell", "echo": "shell", "cd": "shell",
    "head": "coreutils", "cat": "coreutils", "mkdir": "coreutils", "cp": "coreutils", "gzip": "gzip",
    "curl": "curl",
    "wp": "WP-CLI: never run here (`without wp`)",
}

# Commands that start a server: (pattern, how to tell it answers, the port it uses unless told).
SERVERS: list[tuple[re.Pattern[str], str | None, int | None]] = [
    (re.compile(r"\bspamguard serve\b"), "http", 8080),
    (re.compile(r"\bpython3? examples/\w+/app\.py\b"), "http", 8000),
    (re.compile(r"\bmanage\.py runserver\b"), "http", 8000),
    (re.compile(r"\bdask scheduler\b"), "tcp", 8786),
    (re.compile(r"\bdask worker\b"), None, None),  # no port: it must still be running when the block ends
]


def server_of(command: Command) -> tuple[str | None, int | None] | None:
    """(how to tell it answers, its port) when ``command`` starts a server, else None."""
    for pattern, check, default in SERVERS:
        if pattern.search(command.first_line):
            port = re.search(r"--port[ =]+(\d+)|runserver\s+[\w.\[\]:]*?:(\d+)", command.first_line)
            return check, int(next(g for g in port.groups() if g)) if port else default
    return None


# --- static checks: what a block names must exist --------------------------------------------------

_REPO_PATH = re.compile(r"^(?:examples|benchmarks|models|tests|spamguard|\.ci)/[\w./-]*$")


def name_problems(block: Block) -> list[str]:
    """What ``block`` names that does not exist: programs, spamguard commands and options (parsed
    by the real parser), scripts and files of the repository, Python names imported from spamguard."""
    if block.lang == "python":
        return _python_name_problems(block)
    if block.lang != "sh":
        return []
    problems: list[str] = []
    for command in commands(block):
        for argv in simple_commands(command):
            name = program(argv)
            where = f"{block.page}:{command.line}: {' '.join(argv)}"
            if name not in KNOWN_PROGRAMS and not _REPO_PATH.match(argv[0]):
                problems.append(f"{where}: the runner does not know the program {argv[0]!r} (KNOWN_PROGRAMS)")
            elif name == "spamguard":
                problems += [f"{where}: {p}" for p in _spamguard_problems(argv[1:])]
            elif name == "pip":
                problems += [f"{where}: {p}" for p in pip_problems(argv)]
            elif name == "python" and argv[1:2] == ["-m"] and not importlib.util.find_spec(argv[2]):
                problems.append(f"{where}: no module {argv[2]!r}")
            written = outputs_of(argv)
            for arg in argv:
                if _REPO_PATH.match(arg) and arg not in written and not (REPO / arg).exists():
                    problems.append(f"{where}: no file {arg!r} in the repository")
    return problems


def _spamguard_problems(argv: list[str]) -> list[str]:
    """Whether ``spamguard ARGV`` parses (commands, options, choices), without running it."""
    from spamguard.cli import build_parser

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            if exc.code not in (0, None):
                return [f"does not parse: {err.getvalue().strip().splitlines()[-1]}"]
    return []


def _python_name_problems(block: Block) -> list[str]:
    try:
        tree = ast.parse(block.text)
    except SyntaxError as exc:
        return [f"{block.page}:{block.line + (exc.lineno or 0)}: not Python: {exc.msg}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "spamguard":
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name) and importlib.util.find_spec(f"{node.module}.{alias.name}") is None:
                    problems.append(f"{block.page}:{block.line + node.lineno}: {node.module} has no {alias.name!r}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "spamguard" and importlib.util.find_spec(alias.name) is None:
                    problems.append(f"{block.page}:{block.line + node.lineno}: no module {alias.name!r}")
    return problems


def _setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    return config


def _requirements(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def pip_problems(argv: list[str]) -> list[str]:
    """Why a documented ``pip install`` would not work from a checkout, or []. It is not run (it
    would need the network); instead: every requirement is this checkout (``.``, ``-e .``,
    ``'.[extra,...]'``, as spamguard is not on PyPI), its extras exist in setup.cfg, and what
    the package and those extras require is installed here, at versions they accept."""
    from packaging.requirements import Requirement

    args = argv[argv.index("install") + 1:] if "install" in argv else []
    targets = [a for a in args if not a.startswith("-")]
    if not targets:
        return ["not a `pip install` of anything"]
    config = _setup_cfg()
    extras_declared = dict(config.items("options.extras_require"))
    needed = _requirements(config.get("options", "install_requires"))
    problems = []
    for target in targets:
        match = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", target)
        if match is None:
            problems.append(f"installs {target!r}: spamguard is not on PyPI; install the checkout ('.' or '.[extra]')")
            continue
        for extra in filter(None, (match.group(1) or "").split(",")):
            if extra not in extras_declared:
                problems.append(f"no extra {extra!r} in setup.cfg (extras: {', '.join(sorted(extras_declared))})")
            else:
                needed += _requirements(extras_declared[extra])
    for line in needed:
        requirement = Requirement(line)
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"requires {line!r}, which is not installed here")
            continue
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"requires {line!r}; {requirement.name} {version} is installed")
    return problems

