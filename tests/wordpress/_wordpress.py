"""A private WordPress with its stock Akismet plugin, from Debian's packages, for the end-to-end test.

Everything runs on 127.0.0.1 under one temporary folder: a MariaDB server with its own data
directory, socket and port; ``php -S`` serving ``/usr/share/wordpress``; a private
``wp-content`` (the Debian plugin and theme linked in, ``mu-plugins`` of its own). The one
file outside it is the Debian configuration file ``/etc/wordpress/config-NAME.php``, with a
name of its own (``spamguard-test-PID-RANDOM``, chosen through ``WORDPRESS_CONFIG``), which
:func:`cleanup_stale_configs` and the fixture's teardown remove.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import _docblocks
import requests

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "examples" / "wordpress" / "README.md"
PLUGIN = REPO / "examples" / "wordpress" / "spamguard.php"

WORDPRESS = Path("/usr/share/wordpress")
AKISMET = WORDPRESS / "wp-content" / "plugins" / "akismet"
DEBIAN_CONFIG_DIR = Path("/etc/wordpress")
CONFIG_PREFIX = "spamguard-test-"
APT_PACKAGES = "wordpress mariadb-server php-cli php-mysql curl"
APT_HINT = f"apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y {APT_PACKAGES}"
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)
_SBIN = os.pathsep.join(["/usr/local/sbin", "/usr/sbin", "/sbin"])


def which(tool: str) -> str | None:
    """A program on PATH, or in the sbin folders a non-root PATH often lacks (mariadbd lives there)."""
    return shutil.which(tool, path=os.environ.get("PATH", "") + os.pathsep + _SBIN)


def missing_requirements() -> str | None:
    """Why this machine cannot run the test (naming the apt-get command), or None."""
    names = ("php", "mariadbd", "mariadb-install-db", "mariadb", "mariadb-admin", "curl")
    tools = {name: which(name) for name in names}
    absent = [name for name, path in tools.items() if path is None]
    if absent or not (WORDPRESS / "wp-config.php").is_file() or not (AKISMET / "akismet.php").is_file():
        what = ", ".join(absent) if absent else f"{WORDPRESS} with the Akismet plugin"
        return f"the WordPress end-to-end test needs Debian's {APT_PACKAGES} (missing: {what}): {APT_HINT}"
    mysqli = subprocess.run(  # noqa: S603
        [tools["php"], "-r", "exit(extension_loaded('mysqli') ? 0 : 1);"], capture_output=True, timeout=30
    )
    if mysqli.returncode != 0:
        return f"PHP has no mysqli extension (package php-mysql): {APT_HINT}"
    if not os.access(DEBIAN_CONFIG_DIR, os.W_OK):
        return (
            f"Debian's WordPress reads its configuration from {DEBIAN_CONFIG_DIR}, which this user cannot "
            "write: run the test as root (CI does)"
        )
    return None


def cleanup_stale_configs() -> list[Path]:
    """Remove configuration files an earlier run left behind when it was killed (its PID is gone)."""
    removed = []
    for path in DEBIAN_CONFIG_DIR.glob(f"config-{CONFIG_PREFIX}*.php"):
        match = re.fullmatch(rf"config-{CONFIG_PREFIX}(\d+)-[0-9a-f]+\.php", path.name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Process:
    """A program started in a session of its own, so that stopping it stops its children too
    (``php -S`` with workers forks them; the workers outlive a master killed alone)."""

    def __init__(self, name: str, argv: list[str], *, log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=env, cwd=cwd, start_new_session=True,
            )
        self.pid = self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to the process group this process leads, SIGKILL after ``timeout``; waits for it."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            try:
                self.popen.wait(timeout=timeout)
                # the group may outlive its leader for a moment (php -S workers)
                deadline = time.monotonic() + timeout
                while _group_alive(self.pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if not _group_alive(self.pid):
                    return
            except subprocess.TimeoutExpired:
                pass

    def wait_for_port(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited with status {self.popen.returncode}:\n{tail(self.log)}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen on 127.0.0.1:{port} within {timeout} s:\n{tail(self.log)}")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # zombies (already dead, waiting for a parent that is gone) still count: skip them
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


class MariaDB:
    """A MariaDB server of its own: data directory, socket and TCP port (127.0.0.1) under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.datadir = root / "data"
        self.socket = root / "mysqld.sock"
        self.port = free_port()
        self.process: Process | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        user = ["--user=root"] if os.geteuid() == 0 else []  # mariadbd refuses to run as root unless told
        install = subprocess.run(  # noqa: S603
            [which("mariadb-install-db") or "mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}",
             "--auth-root-authentication-method=normal", "--skip-test-db", *user],
            capture_output=True, text=True, timeout=120,
        )
        if install.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{install.stdout}\n{install.stderr}")
        self.process = Process(
            "mariadbd",
            [which("mariadbd") or "mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
             f"--port={self.port}", "--bind-address=127.0.0.1", f"--pid-file={self.root / 'mariadbd.pid'}",
             "--skip-log-bin", "--innodb-buffer-pool-size=32M", *user],
            log=self.root / "mariadbd.log",
        )
        self.process.wait_for_port(self.port, timeout=60)

    def sql(self, statement: str) -> str:
        result = subprocess.run(  # noqa: S603
            [which("mariadb") or "mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-B",
             "-e", statement],
            capture_output=True, text=True, timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"mariadb: {statement!r} failed: {result.stderr.strip()}")
        return result.stdout

    def stop(self) -> None:
        if self.process is None or not self.process.running():
            return
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            subprocess.run(  # noqa: S603
                [which("mariadb-admin") or "mariadb-admin", "--no-defaults", f"--socket={self.socket}", "-uroot",
                 "shutdown"], capture_output=True, timeout=30,
            )
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.popen.wait(timeout=20)
        self.process.stop()


# --- the page's shell blocks -----------------------------------------------------------------

def page_blocks(path: Path = PAGE) -> list[tuple[str, str]]:
    """The fenced code blocks of a Markdown page: (language, text), in order (the parser the docs
    runner uses too, ``tests/_docblocks.py``)."""
    return _docblocks.page_blocks(path)


def classify(lang: str, text: str) -> str:
    """What the end-to-end fixture does with a block of the WordPress page.

    ``settings``: the site owner's values (run first, then the test's own values over them);
    ``install``: ``pip install`` (not run: the test runs the checkout it is part of; the docs
    runner, tests/docs/, checks the line); ``serve``: started in the background; ``config``: the PHP lines appended
    to the WordPress configuration with the test's service address and key; ``check``: run
    once the owner's settings are saved; ``run``: run as it is, in page order.
    """
    if lang == "php":
        return "config"
    if lang != "sh":
        return "other"
    if text.lstrip().startswith("SITE="):
        return "settings"
    if "pip install" in text:
        return "install"
    if "spamguard serve" in text:
        return "serve"
    if "curl " in text:
        return "check"
    return "run"


def bash(script: str, *, env: dict[str, str], cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        ["/bin/bash", "-euo", "pipefail", "-c", script], env=env, cwd=cwd,
        capture_output=True, text=True, timeout=timeout,
    )


def shell_env() -> dict[str, str]:
    """The environment for the page's commands: this interpreter's ``spamguard`` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("SPAMGUARD_KEYS_FILE", None)
    return env


def assignments(values: dict[str, str]) -> str:
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items())


# --- HTML ------------------------------------------------------------------------------------


class Form:
    """A form of a page: where it goes and the values a browser would send by default."""

    def __init__(self, attrs: dict[str, str]) -> None:
        self.attrs = attrs
        self.fields: list[tuple[str, str]] = []
        self.names: set[str] = set()

    @property
    def action(self) -> str:
        return self.attrs.get("action", "")

    def values(self) -> dict[str, str]:
        return dict(self.fields)


class Page(HTMLParser):
    """The forms and links of an HTML page (what a browser without scripts would see)."""

    def __init__(self, text: str, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.text = text
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "a" and "href" in attrs:
            self.links.append(urljoin(self.url, attrs["href"]))
        elif tag == "form":
            self._form = Form(attrs)
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and attrs.get("name"):
            self._form.names.add(attrs["name"])
            kind = attrs.get("type", "text").lower()
            if kind in ("radio", "checkbox") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "image", "reset", "file"):
                self._form.fields.append((attrs["name"], attrs.get("value", "")))
        elif self._form is not None and tag == "textarea" and attrs.get("name"):
            self._form.names.add(attrs["name"])
            self._textarea = (attrs["name"], [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], "".join(self._textarea[1])))
            self._textarea = None
        elif tag == "form":
            self._form = None

    def form_with(self, field: str) -> Form | None:
        return next((f for f in self.forms if field in f.names), None)

    def link(self, *parts: str) -> str | None:
        """The first link whose address contains every one of ``parts``."""
        return next((link for link in self.links if all(p in link for p in parts)), None)


def notices(text: str) -> list[str]:
    """The spamguard notice paragraphs in a page, as HTML."""
    return re.findall(r'<p class="spamguard-notice"[^>]*>.*?</p>', text, re.S)


# --- the scenario ---------------------------------------------------------------------------

SPAM = dict(
    author="Cheap Pills", email="deals@cheap-pills.example", url="http://cheap-pills.example",
    text="BEST CASINO BONUS!!! Buy cheap pills online, no prescription: http://cheap-pills.example/buy "
    "http://casino-bonus.example/free-spins http://best-casino.example/jackpot http://pills4less.example/viagra "
    "- 500% casino bonus and free spins today",
)
HAM_EN = dict(
    author="Anna Smith", email="anna@mail.example", url="",
    text="Thanks for the write-up. The second example fixed my build, although I had to upgrade setuptools first.",
)
HAM_DE = dict(
    author="Jonas Becker", email="jonas@post.example", url="",
    text="Danke für den Artikel! Das zweite Beispiel hat bei mir funktioniert, nachdem ich die "
    "Abhängigkeiten aktualisiert hatte.",
)
ENGLISH = "en-US,en;q=0.9"
GERMAN = "de-DE,de;q=0.9,en;q=0.5"


@dataclasses.dataclass
class Owner:
    """What the site owner saw: whether Akismet got active, the Akismet settings page before and
    after saving it, and the output of the page's check commands."""

    activated: bool = False
    settings_before: str = ""
    settings_saved: bool = False
    settings_after: str = ""
    check_output: str = ""
    check_error: str = ""


@dataclasses.dataclass
class Comments:
    """The three comments a visitor posted (ids), their state right after posting, and the post
    page as an English and a German reader saw it."""

    spam: int
    ham_en: int
    ham_de: int
    states: dict[int, dict[str, Any]]
    page_en: str
    page_de: str


@dataclasses.dataclass
class Moderation:
    """The two comments after a moderator marked the English one as spam and the spam as not
    spam; ``errors`` says which of the two clicks could not be made (no such link on the page)."""

    ham_en: dict[str, Any]
    spam: dict[str, Any]
    errors: list[str]


# --- the site --------------------------------------------------------------------------------


class Browser(requests.Session):
    """A visitor's or moderator's browser: cookies, a browser's User-Agent and languages."""

    def __init__(self, base: str, accept_language: str = "en-US,en;q=0.9") -> None:
        super().__init__()
        self.base = base
        self.headers.update({"User-Agent": BROWSER_UA, "Accept-Language": accept_language,
                             "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})

    def page(self, path_or_url: str, **kwargs: Any) -> Page:
        response = self.get(urljoin(self.base + "/", path_or_url), timeout=60, **kwargs)
        return Page(response.text, response.url)


class WordPress:
    """The running site, the service behind it, and what the test can read of both."""

    def __init__(self, root: Path, *, port: int, service_port: int, config_name: str) -> None:
        self.root = root
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.service_url = f"http://127.0.0.1:{service_port}"
        self.service_port = service_port
        self.config_name = config_name
        self.config_path = DEBIAN_CONFIG_DIR / f"config-{config_name}.php"
        self.content = root / "wp-content"
        self.spamguard_dir = root / "spamguard"
        self.keys_file = self.spamguard_dir / "keys.json"
        self.feedback_db = self.spamguard_dir / "feedback.sqlite"
        self.serve_log = root / "serve.log"
        self.http_log = root / "wordpress-http.jsonl"
        self.admin_user = "admin"
        self.admin_password = secrets.token_urlsafe(12)
        self.key = ""
        self.page_values: dict[str, str] = {}
        self._evals = 0

    def php(self, code: str, timeout: float = 60) -> Any:
        """Run PHP inside this WordPress (wp-load.php, as a request to the site); return its JSON result."""
        self._evals += 1
        script = self.root / f"eval-{self._evals}.php"
        script.write_text(
            "<?php\n"
            f"$_SERVER['HTTP_HOST'] = '127.0.0.1:{self.port}';\n"
            "$_SERVER['SERVER_NAME'] = '127.0.0.1';\n"
            f"$_SERVER['SERVER_PORT'] = '{self.port}';\n"
            "$_SERVER['REQUEST_URI'] = '/';\n"
            "$_SERVER['REQUEST_METHOD'] = 'GET';\n"
            "$_SERVER['REMOTE_ADDR'] = '127.0.0.1';\n"
            f"$_SERVER['WORDPRESS_CONFIG'] = '{self.config_name}';\n"
            f"require '{WORDPRESS}/wp-load.php';\n"
            f"$spamguard_test_result = ( function () {{\n{code}\n}} )();\n"
            "echo \"\\n@@RESULT@@\" . wp_json_encode( $spamguard_test_result );\n"
        )
        result = subprocess.run(  # noqa: S603
            [which("php") or "php", str(script)], capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        out, marker, data = result.stdout.rpartition("@@RESULT@@")
        if result.returncode != 0 or not marker:
            raise RuntimeError(
                f"PHP in WordPress failed ({result.returncode}):\n{code}\n{result.stdout[-1500:]}\n{result.stderr}\n"
                f"WordPress's debug log:\n{tail(self.root / 'wp-debug.log', 10)}"
            )
        return json.loads(data)

    def comment(self, comment_id: int) -> dict[str, Any]:
        """A comment's status, content and Akismet metadata, from the database."""
        result: dict[str, Any] = self.php(
            f"$c = get_comment( {int(comment_id)} );\n"
            "return array( 'approved' => $c->comment_approved, 'content' => $c->comment_content,\n"
            f"  'akismet_result' => get_comment_meta( {int(comment_id)}, 'akismet_result', true ),\n"
            f"  'akismet_error' => get_comment_meta( {int(comment_id)}, 'akismet_error', true ),\n"
            f"  'akismet_user_result' => get_comment_meta( {int(comment_id)}, 'akismet_user_result', true ),\n"
            f"  'history' => array_map( function ( $h ) {{ return $h['event']; }},\n"
            f"    (array) get_comment_meta( {int(comment_id)}, 'akismet_history', false ) ) );"
        )
        return result

    def http_calls(self) -> list[dict[str, Any]]:
        """Every HTTP request WordPress made (logged by the test's must-use plugin): method, url,
        request body, and the status, body and X-akismet-debug-help of the answer."""
        if not self.http_log.exists():
            return []
        return [json.loads(line) for line in self.http_log.read_text().splitlines() if line.strip()]

    def service_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.http_calls() if c["url"].startswith(self.service_url + "/")]

    def metrics(self) -> dict[tuple[str, ...], float]:
        """The service's /metrics as {(name, label values...): value}."""
        text = requests.get(self.service_url + "/metrics", timeout=10).text
        found: dict[tuple[str, ...], float] = {}
        for line in text.splitlines():
            match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
            if match and not line.startswith("#"):
                labels = tuple(v for v in re.findall(r'="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
                found[(match.group(1), *labels)] = float(match.group(3))
        return found

    def login(self, browser: Browser) -> None:
        browser.get(self.url + "/wp-login.php", timeout=60)  # sets WordPress's test cookie
        response = browser.post(
            self.url + "/wp-login.php",
            data={"log": self.admin_user, "pwd": self.admin_password, "wp-submit": "Log In",
                  "redirect_to": self.url + "/wp-admin/", "testcookie": "1"},
            allow_redirects=False, timeout=60,
        )
        if response.status_code != 302 or not any(c.name.startswith("wordpress_logged_in") for c in browser.cookies):
            raise RuntimeError(f"logging in to wp-admin failed ({response.status_code}):\n{response.text[:2000]}")

    def post_comment(self, browser: Browser, *, author: str, email: str, url: str, text: str,
                     post: str = "/?p=1") -> int:
        """Post a comment through the post page's form, as a browser with scripts on would; its id."""
        page = browser.page(post)
        form = page.form_with("comment_post_ID")
        if form is None:
            raise RuntimeError(f"no comment form on {page.url}:\n{page.text[:2000]}")
        data = form.values()
        if "akismet_comment_nonce" not in data or "ak_js" not in data:
            raise RuntimeError(f"the Akismet plugin's hidden fields are not in the comment form: {sorted(data)}")
        data.update(author=author, email=email, url=url, comment=text)
        data["ak_js"] = str(int(time.time() * 1000))  # what the plugin's inline script writes
        response = browser.post(urljoin(page.url, form.action), data=data, allow_redirects=False,
                                headers={"Referer": page.url}, timeout=60)
        match = re.search(r"#comment-(\d+)$", response.headers.get("Location", ""))
        if response.status_code != 302 or not match:
            raise RuntimeError(
                f"posting the comment failed ({response.status_code}, Location "
                f"{response.headers.get('Location')!r}):\n{response.text[:2000]}"
            )
        return int(match.group(1))

    def moderate(self, browser: Browser, comment_id: int, action: str, listing: str) -> None:
        """Follow a comment's action link (spamcomment, unspamcomment) from wp-admin's Comments list."""
        page = browser.page(f"/wp-admin/edit-comments.php?comment_status={listing}")
        link = page.link(f"c={comment_id}&", f"action={action}", "_wpnonce=")
        if link is None:
            state = self.comment(comment_id)
            raise RuntimeError(
                f"no {action} link for comment {comment_id} in the {listing!r} comments (the comment's "
                f"status is {state['approved']!r}, akismet_result {state['akismet_result']!r})"
            )
        response = browser.get(html.unescape(link), timeout=60)
        response.raise_for_status()


def iter_lines(path: Path) -> Iterator[str]:
    if path.exists():
        yield from path.read_text(errors="replace").splitlines()
