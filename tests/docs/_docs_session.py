"""Running blocks: a reader's session (a folder like the repository root, a shell, a Python
namespace), the servers blocks start, and the output checks. The rules are in ``_docrun.py``."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _docblocks import REPO, Block
from _docrun import DATA_MARK, Unit, needs_data, parse_replace, plan
from _docs_claims import claim_problem, claims, text_matches
from _docs_files import SAMPLE_FILES, fill_feedback
from _docs_shell import Command, commands, pip_problems, program, server_of, simple_commands

UPDATE_VARIABLE = "SPAMGUARD_DOCS_UPDATE"
UPDATE = os.environ.get(UPDATE_VARIABLE) == "1"  # read now: a session clears SPAMGUARD_* from the environment
BLOG_URL = "https://blog.example/"
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: any request that tries to leave the machine fails at once
COMMAND_TIMEOUT = 240.0
SERVER_TIMEOUT = 90.0
_DATA = Path(os.environ.get("SPAMGUARD_DATA_DIR") or REPO.parent / "shared" / "data")  # read before a session clears it


def data_dir() -> Path | None:
    """The labelled data (``SPAMGUARD_DATA_DIR``, else ``../shared/data`` beside the checkout), or None."""
    return _DATA if (_DATA / "youtube-spam").is_dir() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class Ran:
    """A command that ran: its exit status and what the terminal showed (stdout and stderr)."""

    command: Command
    status: int
    output: str


class DocsFailure(AssertionError):
    """A block did not do what its page says."""


class Server:
    """A server a block started, in a process group of its own (stopping it stops its children)."""

    def __init__(self, command: Command, script: str, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.command = command
        self.log = log
        with open(log, "wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603
                ["/bin/bash", "-c", script], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=env, cwd=cwd, start_new_session=True,
            )

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-25:])

    def wait_until_it_answers(self, check: str, port: int) -> None:
        deadline = time.monotonic() + SERVER_TIMEOUT
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise DocsFailure(f"the server exited with status {self.popen.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                if check == "tcp":
                    return
                try:
                    with opener.open(f"http://127.0.0.1:{port}/", timeout=10) as answer:
                        status = answer.status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                if status < 500:
                    return
                raise DocsFailure(f"the server answered GET / with {status}:\n{self.tail()}")
            time.sleep(0.1)
        raise DocsFailure(f"the server did not answer on port {port} within {SERVER_TIMEOUT:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=15)
                return
            except subprocess.TimeoutExpired:
                continue


class Session:
    """One reader at a shell and a Python prompt: a folder like the repository root, an environment,
    the variables and names blocks leave behind, and what the last command printed."""

    def __init__(self, tmp: Path, stack: contextlib.ExitStack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp
        self.stack = stack
        self.monkeypatch = monkeypatch
        self.root = tmp / "checkout"
        self.root.mkdir()
        for entry in REPO.iterdir():
            if entry.name in (".git", "models") or entry.name.endswith(".egg-info") or (
                entry.name.startswith(".") and entry.name != ".ci"
            ) or entry.name in ("build", "dist", "test-output", "htmlcov"):
                continue
            (self.root / entry.name).symlink_to(entry)
        shutil.copytree(REPO / "models", self.root / "models")  # blocks may write models there
        for folder in ("home", "tmp", "scratch", "logs"):
            (tmp / folder).mkdir()
        self.state = tmp / "shell-state"
        self.state.write_text("")
        self.cwd_file = tmp / "shell-cwd"
        self.cwd_file.write_text(str(self.root))
        self.namespace: dict[str, Any] = {"__name__": "__docs__"}
        self.last: Ran | None = None
        self.akismet: Any = None
        self.env = self._base_env()
        self._apply_env_in_process()
        monkeypatch.chdir(self.root)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp / "tmp"))

    def _base_env(self) -> dict[str, str]:
        keep = ("LANG", "LC_ALL", "TERM", "SPAMGUARD_TEST_POSTGRES_URL")
        env = {name: os.environ[name] for name in keep if name in os.environ}
        bin_dir = os.path.dirname(sys.executable)
        env.update(
            PATH=os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
            HOME=str(self.tmp / "home"), TMPDIR=str(self.tmp / "tmp"), PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1", NO_COLOR="1",
            http_proxy=DEAD_PROXY, https_proxy=DEAD_PROXY, HTTP_PROXY=DEAD_PROXY, HTTPS_PROXY=DEAD_PROXY,
            no_proxy="127.0.0.1,localhost,::1", NO_PROXY="127.0.0.1,localhost,::1",
        )
        env.setdefault("LANG", "C.UTF-8")
        return env

    def _apply_env_in_process(self) -> None:
        """The same environment for Python blocks, which run in this process."""
        for name in list(os.environ):
            if name.startswith(("SPAMGUARD_", "PYTHON_AKISMET_", "FLASK_BLOG_", "DJANGO_COMMENTS_", "STARLETTE_BLOG_",
                                "XDG_")) and name != "SPAMGUARD_TEST_POSTGRES_URL":
                self.monkeypatch.delenv(name)
        for name, value in self.env.items():
            if name != "PATH":
                self.monkeypatch.setenv(name, value)

    def setenv(self, **values: str) -> None:
        self.env.update(values)
        for name, value in values.items():
            self.monkeypatch.setenv(name, value)

    # --- a block's context

    def prepare(self, block: Block, text: str) -> str:
        """Start what the block's directives ask for; the block's text as it will run."""
        if (akismet := block.directive("akismet")) is not None:
            self._start_akismet(akismet.arg or "test-key")
        for directive in block.all("files"):
            for name in directive.arg.split():
                target = self.root / name
                if not target.exists():
                    SAMPLE_FILES[name](target)
        if block.directive("postgres") is not None:
            text = self._postgres(text)
        for directive in block.all("replace"):
            old, new = parse_replace(directive.arg)
            new = new.replace("{akismet_url}", self.akismet.url if self.akismet else "{akismet_url}")
            if old not in text:
                raise DocsFailure(f"{block.page}:{directive.line}: `replace` finds no {old!r} in the block")
            text = text.replace(old, new)
        return text

    def _start_akismet(self, key: str) -> None:
        from spamguard.testing import FakeAkismet

        if self.akismet is None:
            self.akismet = self.stack.enter_context(FakeAkismet(valid_keys={key}))
        self.akismet.valid_keys.add(key)
        self.setenv(SPAMGUARD_AKISMET_URL=self.akismet.url, SPAMGUARD_AKISMET_KEY=key, SPAMGUARD_BLOG_URL=BLOG_URL)

    def _postgres(self, text: str) -> str:
        from _postgres import fresh_schema

        url = self.stack.enter_context(fresh_schema())  # skips the test when there is no server
        fill_feedback(url, self.tmp / "scratch")
        return re.sub(r"postgresql://[^\s'\"]+", url, text)

    # --- Python

    def run_python(self, block: Block, text: str) -> None:
        if (given := block.directive("given")) is not None:
            exec(compile(given.arg, f"{block.page} (given)", "exec"), self.namespace)  # noqa: S102
        source = "\n" * block.line + text
        filename = str(block.path)
        found = claims(source)
        for stmt in ast.parse(source, filename).body:
            claim = found.get(stmt.lineno)
            if claim is not None and isinstance(stmt, ast.Expr):
                value = eval(compile(ast.Expression(stmt.value), filename, "eval"), self.namespace)  # noqa: S307
            else:
                exec(compile(ast.Module([stmt], []), filename, "exec"), self.namespace)  # noqa: S102
                value = self.namespace.get(stmt.targets[0].id) if isinstance(stmt, ast.Assign) and claim else None
            if claim is not None and (problem := claim_problem(claim.text, value, self.namespace)):
                raise DocsFailure(f"{block.page}:{claim.line}: the comment {claim.text!r} is wrong: {problem}")

    # --- shell

    def run_shell(self, block: Block, text: str) -> None:
        servers: list[tuple[Server, str | None, int | None]] = []
        for command in commands(block, text):
            port_server = server_of(command)
            if port_server is not None and port_server[1] is not None:
                new_port = free_port()
                text = re.sub(rf"\b{port_server[1]}\b", str(new_port), text)
        skipped = {d.arg.split(":")[0].strip(): d.arg for d in block.all("without")}
        given = block.directive("given")
        todo = ([Command(given.arg, block.line)] if given else []) + commands(block, text)
        try:
            for command in todo:
                programs = [program(argv) for argv in simple_commands(command)]
                if any(p in skipped for p in programs):
                    continue
                if "pip" in programs:
                    self._check_pip(block, command, programs)
                    continue
                kind = server_of(command)
                if kind is not None:
                    server = self._start(command)
                    servers.append((server, *kind))
                    if kind[0] is not None and kind[1] is not None:
                        server.wait_until_it_answers(kind[0], kind[1])
                    continue
                self._run_command(block, command)
            for server, _, port in servers:
                if port is None and server.popen.poll() is not None:
                    raise DocsFailure(f"{block.page}:{server.command.line}: {server.command.first_line!r} exited "
                                      f"(status {server.popen.returncode}) before the block ended:\n{server.tail()}")
        finally:
            for server, _, _ in reversed(servers):  # a dask worker before its scheduler
                server.stop()

    def _script(self, command: Command) -> str:
        return (
            f"set -a -o pipefail\nsource {shlex.quote(str(self.state))}\n"
            f"cd \"$(cat {shlex.quote(str(self.cwd_file))})\"\n{command.text}\n"
        )

    def _run_command(self, block: Block, command: Command) -> None:
        script = self._script(command) + (
            f"__docs_status=$?\nexport -p > {shlex.quote(str(self.state))}\npwd > {shlex.quote(str(self.cwd_file))}\n"
            "exit $__docs_status\n"
        )
        try:
            result = subprocess.run(  # noqa: S603
                ["/bin/bash", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=self.env, cwd=self.root, timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            raise DocsFailure(f"{block.page}:{command.line}: {command.first_line!r} ran longer than "
                              f"{COMMAND_TIMEOUT:.0f} s") from exc
        output = result.stdout.decode("utf-8", "replace")
        self.last = Ran(command, result.returncode, output)
        expected_status, expected_output = 0, None
        if block.directive("outputs") is not None and command.shows:
            shown = "\n".join(command.shows)
            status = re.search(r"\s*\(exit (\d+)\)\s*$", shown)
            if status:
                expected_status, shown = int(status.group(1)), shown[: status.start()]
            expected_output = shown
        if result.returncode != expected_status:
            raise DocsFailure(f"{block.page}:{command.line}: {command.first_line!r} exited {result.returncode}, "
                              f"not {expected_status}:\n{output[-3000:]}")
        if expected_output is not None and not text_matches(expected_output, output):
            raise DocsFailure(f"{block.page}:{command.line}: {command.first_line!r} printed\n{output}\nnot what the "
                              f"page shows:\n{expected_output}")

    def _check_pip(self, block: Block, command: Command, programs: list[str]) -> None:
        if programs != ["pip"]:
            raise DocsFailure(f"{block.page}:{command.line}: a pip install is checked, not run, so it must be a "
                              f"command of its own: {command.first_line!r}")
        problems = pip_problems(simple_commands(command)[0])
        if problems:
            raise DocsFailure(f"{block.page}:{command.line}: {command.first_line!r}: " + "; ".join(problems))

    def _start(self, command: Command) -> Server:
        log = self.tmp / "logs" / f"server-{command.line}.log"
        server = Server(command, self._script(command), self.env, self.root, log)
        self.stack.callback(server.stop)
        return server

    # --- output blocks

    def check_output(self, block: Block) -> None:
        directive = block.directive("output")
        assert directive is not None
        words = directive.arg.split()
        numbers_aside = "numbers-aside" in words
        words = [w for w in words if w != "numbers-aside"]
        expected = block.text
        if not words:
            if self.last is None:
                raise DocsFailure(f"{block.where}: `output` shows what the command before printed, and none ran")
            actual, what = self.last.output, f"what {self.last.command.first_line!r} printed"
        else:
            head = words[0] == "head"
            path = self.root / (words[1] if head else words[0])
            if not path.is_file():
                raise DocsFailure(f"{block.where}: shows {path.name}, which the blocks before did not write")
            lines = path.read_text(encoding="utf-8").splitlines()
            if head:
                lines = lines[: len(expected.splitlines())]
            actual, what = "\n".join(lines) + "\n", f"{'the start of ' if head else ''}{path.name}"
        if text_matches(expected, actual, numbers_aside=numbers_aside):
            return
        if UPDATE and "..." not in expected and not numbers_aside:
            _rewrite_block(block, actual)
            raise DocsFailure(f"{block.where}: rewritten with {what} ({UPDATE_VARIABLE}=1); check the diff")
        raise DocsFailure(f"{block.where}: the page shows\n{expected}\nbut {what} is\n{actual}\n"
                          f"({UPDATE_VARIABLE}=1 rewrites the block when nothing in it is elided)")

    # --- a unit

    def run(self, unit: Unit) -> None:
        wanting = [b.where for b in unit.blocks if needs_data(b)]
        if wanting:
            data = data_dir()
            if data is None:
                pytest.skip(f"{', '.join(wanting)} need(s) {DATA_MARK} (the labelled data beside the checkout, or "
                            "SPAMGUARD_DATA_DIR); it is not here")
            (self.tmp / "shared").mkdir()
            (self.tmp / "shared" / "data").symlink_to(data)
        for block in unit.blocks:
            kind = plan(block).kind
            if kind == "output":
                self.check_output(block)
                continue
            text = self.prepare(block, block.text)
            if kind == "python":
                self.run_python(block, text)
            else:
                self.run_shell(block, text)


def _rewrite_block(block: Block, actual: str) -> None:
    lines = block.path.read_text(encoding="utf-8").splitlines(keepends=True)
    count = len(block.text.splitlines())
    lines[block.line: block.line + count] = [actual if actual.endswith("\n") else actual + "\n"]
    block.path.write_text("".join(lines), encoding="utf-8")


@contextlib.contextmanager
def session(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A fresh :class:`Session` in ``tmp``; everything it started is stopped on the way out."""
    with contextlib.ExitStack() as stack:
        yield Session(tmp, stack, monkeypatch)

