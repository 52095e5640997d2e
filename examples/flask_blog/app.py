"""A small Flask blog whose comments go through spamguard.

Run it with ``python examples/flask_blog/app.py --port 8000`` and open http://127.0.0.1:8000/.
With no key it judges comments with the local model that ships with spamguard; set
``SPAMGUARD_AKISMET_KEY`` (or ``PYTHON_AKISMET_API_KEY``) and the blog URL to use Akismet first.

What it shows: a comment form with a honeypot field and the data-processing notice under it
(in the visitor's language), the check on submit (published, held for moderation, marked as
spam or refused), and a moderation page whose "spam" / "not spam" buttons report the
moderator's decision back (``report_spam`` / ``report_ham``). Comments live in SQLite:
``FLASK_BLOG_DB`` names the file (default: ``spamguard-flask-blog.sqlite3`` in the temp folder).
Set ``FLASK_BLOG_MODERATOR_PASSWORD`` to put the moderation page behind HTTP basic auth,
``FLASK_BLOG_SECRET_KEY`` when several worker processes serve it (the session cookie carries
the form token), and ``SPAMGUARD_TRUSTED_PROXIES`` when it runs behind a reverse proxy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hmac
import json
import os
import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, abort, flash, redirect, render_template, request, session, url_for
from markupsafe import Markup

from spamguard import Action, Comment, InvalidCommentError, SpamGuardError, Verdict
from spamguard.integrations import comment_from_flask, honeypot_html
from spamguard.notice import negotiate_language

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
    """Where comments are kept unless ``FLASK_BLOG_DB`` says otherwise."""
    return os.environ.get("FLASK_BLOG_DB") or os.path.join(tempfile.gettempdir(), "spamguard-flask-blog.sqlite3")


def create_app(*, db_path: str | None = None, guard: Any = None, trusted_proxies: Any = None) -> Flask:
    """The blog app. ``guard`` defaults to ``spamguard.Guard.from_env()``, made on the first comment."""
    app = Flask(__name__)
    app.config.update(
        DB_PATH=db_path or default_db_path(),
        SECRET_KEY=os.environ.get("FLASK_BLOG_SECRET_KEY") or secrets.token_hex(32),
        MODERATOR_PASSWORD=os.environ.get("FLASK_BLOG_MODERATOR_PASSWORD") or None,
        TRUSTED_PROXIES=trusted_proxies,
    )
    state: dict[str, Any] = {"guard": guard}
    lock = threading.Lock()

    def get_guard() -> Any:
        with lock:
            if state["guard"] is None:
                from spamguard import Guard

                state["guard"] = Guard.from_env(feedback=True)  # moderators' decisions kept for retraining
            return state["guard"]

    app.extensions["spamguard_guard"] = get_guard

    @contextmanager
    def db() -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(app.config["DB_PATH"], timeout=10)
        con.row_factory = sqlite3.Row
        if not state.get("schema"):
            con.executescript(SCHEMA)
            state["schema"] = True
        try:
            with con:
                yield con
        finally:
            con.close()

    # --- small safety nets an example should still have -----------------------------

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(24)
        return str(session["csrf"])

    @app.before_request
    def check_csrf() -> None:
        if request.method == "POST":
            sent, expected = request.form.get("csrf_token", ""), session.get("csrf", "")
            if not expected or not hmac.compare_digest(sent, expected):
                abort(400, "The form expired; reload the page and try again.")

    def require_moderator() -> None:
        password = app.config["MODERATOR_PASSWORD"]
        if password is None:
            return
        auth = request.authorization
        if auth is None or not hmac.compare_digest(auth.password or "", password):
            abort(401)

    @app.errorhandler(401)
    def unauthorized(error: Any) -> Any:
        return "Moderators only", 401, {"WWW-Authenticate": 'Basic realm="moderation"'}

    @app.context_processor
    def template_helpers() -> dict[str, Any]:
        return {"csrf_token": csrf_token, "honeypot": honeypot_html()}

    # --- the notice -------------------------------------------------------------------

    def notice_html() -> Markup:
        """The data-processing notice in the visitor's language (from Accept-Language)."""
        lang = negotiate_language(request.headers.get("Accept-Language") or "en")
        return Markup(get_guard().notice(lang))  # noqa: S704 - the notice escapes what it inserts

    # --- pages ------------------------------------------------------------------------

    @app.get("/")
    def index() -> Any:
        return render_template("index.html", posts=POSTS)

    @app.get("/posts/<int:post_id>")
    def post(post_id: int) -> Any:
        if post_id not in POSTS:
            abort(404)
        with db() as con:
            comments = con.execute(
                "SELECT * FROM comments WHERE post_id = ? AND status = 'published' ORDER BY id", (post_id,)
            ).fetchall()
        form = session.pop("form", {})
        return render_template(
            "post.html", post_id=post_id, post=POSTS[post_id], comments=comments, form=form, notice=notice_html()
        )

    @app.post("/posts/<int:post_id>/comments")
    def add_comment(post_id: int) -> Any:
        if post_id not in POSTS:
            abort(404)
        permalink = url_for("post", post_id=post_id, _external=True)
        try:
            candidate = comment_from_flask(
                request, permalink=permalink, trusted_proxies=app.config["TRUSTED_PROXIES"]
            )
        except InvalidCommentError as exc:
            flash(f"Your comment was not sent: {exc}", "error")
            session["form"] = {k: request.form.get(k, "") for k in ("author", "email", "url", "content")}
            return redirect(url_for("post", post_id=post_id) + "#comment-form")
        try:
            verdict = get_guard().check(candidate)
        except SpamGuardError as exc:  # every backend failed: keep it for a person to decide
            app.logger.warning("spam check failed, holding the comment: %s", exc)
            verdict = Verdict(spam=False, action=Action.HOLD, source="none", fallback_reason=str(exc))
        action = verdict.action or (Action.SPAM if verdict.spam else Action.APPROVE)
        if action is Action.DISCARD:
            flash("Your comment was rejected as spam.", "error")
            return redirect(url_for("post", post_id=post_id) + "#comments")
        status = STATUS_FOR_ACTION[action]
        with db() as con:
            con.execute(
                "INSERT INTO comments (post_id, author, content, status, created, source, score, reasons,"
                " comment_json, verdict_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    post_id,
                    candidate.author or "Anonymous",
                    candidate.content,
                    status,
                    dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    verdict.source,
                    verdict.score,
                    json.dumps(list(verdict.reasons)),
                    json.dumps(candidate.to_akismet()),
                    json.dumps(verdict.to_dict()),
                ),
            )
        if status == "published":
            flash("Thank you! Your comment is published.", "ok")
        else:
            flash("Thank you! Your comment is awaiting moderation.", "ok")
        return redirect(url_for("post", post_id=post_id) + "#comments")

    @app.get("/moderate")
    def moderate() -> Any:
        require_moderator()
        with db() as con:
            rows = con.execute("SELECT * FROM comments WHERE status != 'published' ORDER BY id DESC").fetchall()
        held = [r for r in rows if r["status"] == "held"]
        spam = [r for r in rows if r["status"] == "spam"]
        return render_template("moderate.html", held=held, spam=spam, posts=POSTS, loads=json.loads)

    @app.post("/moderate/<int:comment_id>/<decision>")
    def decide(comment_id: int, decision: str) -> Any:
        require_moderator()
        if decision not in ("spam", "ham"):
            abort(404)
        with db() as con:
            row = con.execute("SELECT * FROM comments WHERE id = ?", (comment_id,)).fetchone()
        if row is None:
            abort(404)
        stored = Comment.from_mapping(json.loads(row["comment_json"]))
        verdict = _verdict_from_json(row["verdict_json"])
        try:
            if decision == "spam":
                get_guard().report_spam(stored, verdict)
            else:
                get_guard().report_ham(stored, verdict)
            reported = True
        except SpamGuardError as exc:
            app.logger.warning("could not report comment %s: %s", comment_id, exc)
            reported = False
        status = "spam" if decision == "spam" else "published"
        with db() as con:
            con.execute("UPDATE comments SET status = ? WHERE id = ?", (status, comment_id))
        label = "spam" if decision == "spam" else "not spam (published)"
        flash(f"Comment {comment_id} marked as {label}" + ("." if reported else "; the report failed."), "ok")
        return redirect(url_for("moderate"))

    return app


def _verdict_from_json(text: str | None) -> Verdict | None:
    if not text:
        return None
    data = json.loads(text)
    data["action"] = Action(data["action"]) if data.get("action") else None
    return Verdict(**data)


app = create_app()


def main(argv: list[str] | None = None) -> int:
    """``python examples/flask_blog/app.py --port 8000``: serve the blog on 127.0.0.1."""
    parser = argparse.ArgumentParser(description="A Flask blog whose comments spamguard checks.")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    args = parser.parse_args(argv)
    print(f"Blog on http://{args.host}:{args.port}/  (moderation: /moderate; comments in {app.config['DB_PATH']})")
    app.run(host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
