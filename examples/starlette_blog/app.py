"""A small Starlette blog whose comments go through spamguard's asyncio path.

Run it with ``python examples/starlette_blog/app.py --port 8002`` and open http://127.0.0.1:8002/.
It does what ``examples/flask_blog`` does, as an ASGI app: with no key it judges comments with
the local model that ships with spamguard; set ``SPAMGUARD_AKISMET_KEY`` (or
``PYTHON_AKISMET_API_KEY``) and the blog URL to ask Akismet first, awaited on the event loop
(``Guard.from_env(asynchronous=True)``: ``acheck`` and ``areport_*`` use an
``AsyncAkismetClient``).

What it shows: a comment form with a honeypot field and the data-processing notice under it
(in the visitor's language), the check on submit (``await guard.acheck(...)``: published, held
for moderation, marked as spam or refused), and a moderation page whose "Spam" / "Not spam"
buttons report the moderator's decision back (``await guard.areport_spam/areport_ham``).
Comments live in SQLite, written off the event loop: ``STARLETTE_BLOG_DB`` names the file
(default: ``spamguard-starlette-blog.sqlite3`` in the temp folder). Set
``STARLETTE_BLOG_MODERATOR_PASSWORD`` to put the moderation page behind HTTP basic auth,
``STARLETTE_BLOG_SECRET_KEY`` when several worker processes serve it (the session cookie
carries the form token), and ``SPAMGUARD_TRUSTED_PROXIES`` when it runs behind a reverse
proxy (then also run uvicorn with ``--no-proxy-headers``, or give it the same proxies with
``--forwarded-allow-ips``: uvicorn rewrites the client address before spamguard sees it).

It is a Starlette app; a FastAPI app takes the same calls (its ``Request`` is Starlette's).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hmac
import json
import os
import secrets
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from spamguard import Action, Comment, Guard, InvalidCommentError, SpamGuardError, Verdict
from spamguard.integrations import comment_from_starlette, honeypot_html
from spamguard.notice import negotiate_language

HERE = Path(__file__).resolve().parent

POSTS = {
    1: {
        "title": "Baking sourdough at home",
        "body": "Flour, water, salt and patience: the starter does the rest. "
        "Feed it twice a day for a week and it will raise a loaf with a crackling crust.",
    },
    2: {
        "title": "Why we switched to bicycles",
        "body": "Our commute got shorter, our mornings calmer, and the parking problem vanished.",
    },
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL,
    author TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('published', 'held', 'spam')),
    created TEXT NOT NULL,
    source TEXT,
    score REAL,
    reasons TEXT NOT NULL DEFAULT '[]',
    comment_json TEXT NOT NULL,
    verdict_json TEXT
);
"""

STATUS_FOR_ACTION = {Action.APPROVE: "published", Action.HOLD: "held", Action.SPAM: "spam"}


def default_db_path() -> str:
    """Where comments are kept unless ``STARLETTE_BLOG_DB`` says otherwise."""
    return os.environ.get("STARLETTE_BLOG_DB") or os.path.join(
        tempfile.gettempdir(), "spamguard-starlette-blog.sqlite3")


class Comments:
    """The comments table; every call is a coroutine that runs SQLite in a worker thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ready = False

    def _run(self, sql: str, params: tuple[Any, ...] = (), *, fetch: bool = False) -> list[sqlite3.Row]:
        con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        try:
            with con:
                if not self._ready:
                    con.executescript(SCHEMA)
                    self._ready = True
                cursor = con.execute(sql, params)
                return cursor.fetchall() if fetch else []
        finally:
            con.close()

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return await asyncio.to_thread(self._run, sql, params, fetch=True)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        await asyncio.to_thread(self._run, sql, params)


def create_app(*, db_path: str | None = None, guard: Guard | None = None, trusted_proxies: Any = None) -> Starlette:
    """The blog app. ``guard`` defaults to ``Guard.from_env(asynchronous=True, feedback=True)``, made
    when the app starts and closed when it stops."""
    comments = Comments(db_path or default_db_path())
    templates = Jinja2Templates(directory=HERE / "templates")
    moderator_password = os.environ.get("STARLETTE_BLOG_MODERATOR_PASSWORD") or None
    state: dict[str, Any] = {"guard": guard}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        made = state["guard"] is None
        if made:  # loading the model reads files: off the event loop
            state["guard"] = await asyncio.to_thread(Guard.from_env, asynchronous=True, feedback=True)
        try:
            yield
        finally:
            if made:
                await state["guard"].aclose()

    def the_guard() -> Guard:
        return state["guard"]  # type: ignore[no-any-return]

    # --- small safety nets an example should still have -----------------------------

    def csrf_token(request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = secrets.token_urlsafe(24)
        return str(request.session["csrf"])

    async def form_with_valid_token(request: Request) -> Any:
        form = await request.form()
        sent, expected = form.get("csrf_token", ""), request.session.get("csrf", "")
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            raise HTTPException(400, "The form expired; reload the page and try again.")
        return form

    def require_moderator(request: Request) -> None:
        if moderator_password is None:
            return
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            password = base64.b64decode(encoded).decode().partition(":")[2] if scheme.lower() == "basic" else ""
        except ValueError:
            password = ""
        if not hmac.compare_digest(password, moderator_password):
            raise HTTPException(401, "Moderators only", headers={"WWW-Authenticate": 'Basic realm="moderation"'})

    def flash(request: Request, message: str, category: str = "ok") -> None:
        request.session.setdefault("flash", []).append([category, message])

    def render(request: Request, name: str, **context: Any) -> Response:
        context.update(flashes=request.session.pop("flash", []), csrf_token=csrf_token(request),
                       honeypot=honeypot_html())
        return templates.TemplateResponse(request, name, context)

    def notice_html(request: Request) -> Markup:
        """The data-processing notice in the visitor's language (from Accept-Language)."""
        lang = negotiate_language(request.headers.get("Accept-Language") or "en")
        return Markup(the_guard().notice(lang))  # noqa: S704 - the notice escapes what it inserts

    def post_id_of(request: Request) -> int:
        post_id = int(request.path_params["post_id"])
        if post_id not in POSTS:
            raise HTTPException(404)
        return post_id

    # --- pages ------------------------------------------------------------------------

    async def index(request: Request) -> Response:
        return render(request, "index.html", posts=POSTS)

    async def post(request: Request) -> Response:
        post_id = post_id_of(request)
        rows = await comments.query(
            "SELECT * FROM comments WHERE post_id = ? AND status = 'published' ORDER BY id", (post_id,))
        return render(request, "post.html", post_id=post_id, post=POSTS[post_id], comments=rows,
                      form=request.session.pop("form", {}), notice=notice_html(request))

    async def add_comment(request: Request) -> Response:
        post_id = post_id_of(request)
        form = await form_with_valid_token(request)
        back = str(request.url_for("post", post_id=post_id))
        try:
            candidate = await comment_from_starlette(request, permalink=back, trusted_proxies=trusted_proxies)
        except InvalidCommentError as exc:
            flash(request, f"Your comment was not sent: {exc}", "error")
            request.session["form"] = {k: str(form.get(k, "")) for k in ("author", "email", "url", "content")}
            return RedirectResponse(back + "#comment-form", status_code=303)
        try:
            verdict = await the_guard().acheck(candidate)
        except SpamGuardError as exc:  # every backend failed: keep it for a person to decide
            verdict = Verdict(spam=False, action=Action.HOLD, source="none", fallback_reason=str(exc))
        action = verdict.action or (Action.SPAM if verdict.spam else Action.APPROVE)
        if action is Action.DISCARD:
            flash(request, "Your comment was rejected as spam.", "error")
            return RedirectResponse(back + "#comments", status_code=303)
        status = STATUS_FOR_ACTION[action]
        await comments.execute(
            "INSERT INTO comments (post_id, author, content, status, created, source, score, reasons,"
            " comment_json, verdict_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (post_id, candidate.author or "Anonymous", candidate.content, status,
             dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), verdict.source, verdict.score,
             json.dumps(list(verdict.reasons)), json.dumps(candidate.to_akismet()), json.dumps(verdict.to_dict())),
        )
        if status == "published":
            flash(request, "Thank you! Your comment is published.")
        else:
            flash(request, "Thank you! Your comment is awaiting moderation.")
        return RedirectResponse(back + "#comments", status_code=303)

    async def moderate(request: Request) -> Response:
        require_moderator(request)
        rows = await comments.query("SELECT * FROM comments WHERE status != 'published' ORDER BY id DESC")
        return render(request, "moderate.html", held=[r for r in rows if r["status"] == "held"],
                      spam=[r for r in rows if r["status"] == "spam"], posts=POSTS, loads=json.loads)

    async def decide(request: Request) -> Response:
        require_moderator(request)
        await form_with_valid_token(request)
        comment_id, decision = int(request.path_params["comment_id"]), request.path_params["decision"]
        if decision not in ("spam", "ham"):
            raise HTTPException(404)
        rows = await comments.query("SELECT * FROM comments WHERE id = ?", (comment_id,))
        if not rows:
            raise HTTPException(404)
        stored = Comment.from_mapping(json.loads(rows[0]["comment_json"]))
        verdict = _verdict_from_json(rows[0]["verdict_json"])
        report: Callable[..., Any] = the_guard().areport_spam if decision == "spam" else the_guard().areport_ham
        try:
            await report(stored, verdict)
            reported = True
        except SpamGuardError:
            reported = False
        await comments.execute("UPDATE comments SET status = ? WHERE id = ?",
                               ("spam" if decision == "spam" else "published", comment_id))
        label = "spam" if decision == "spam" else "not spam (published)"
        flash(request, f"Comment {comment_id} marked as {label}" + ("." if reported else "; the report failed."))
        return RedirectResponse(str(request.url_for("moderate")), status_code=303)

    routes = [
        Route("/", index, name="index"),
        Route("/posts/{post_id:int}", post, name="post"),
        Route("/posts/{post_id:int}/comments", add_comment, methods=["POST"], name="add_comment"),
        Route("/moderate", moderate, name="moderate"),
        Route("/moderate/{comment_id:int}/{decision}", decide, methods=["POST"], name="decide"),
    ]
    secret = os.environ.get("STARLETTE_BLOG_SECRET_KEY") or secrets.token_hex(32)
    return Starlette(routes=routes, middleware=[Middleware(SessionMiddleware, secret_key=secret)], lifespan=lifespan)


def _verdict_from_json(text: str | None) -> Verdict | None:
    if not text:
        return None
    data = json.loads(text)
    data["action"] = Action(data["action"]) if data.get("action") else None
    return Verdict(**data)


app = create_app()


def main(argv: list[str] | None = None) -> int:
    """``python examples/starlette_blog/app.py --port 8002``: serve the blog on 127.0.0.1 with uvicorn."""
    import uvicorn

    parser = argparse.ArgumentParser(description="A Starlette blog whose comments spamguard checks, asynchronously.")
    parser.add_argument("--port", type=int, default=8002, help="port to listen on (default 8002)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    args = parser.parse_args(argv)
    print(f"Blog on http://{args.host}:{args.port}/  (moderation: /moderate; comments in {default_db_path()})")
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
