"""``spamguard check``: judge one comment, given as text or as a JSON object on stdin."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..akismet import akismet_configured
from ..classifier import Classifier
from ..comment import Comment
from ..errors import ConfigurationError, InvalidCommentError, SpamGuardError
from ..guard import Guard
from ..local import LocalModel
from ..verdict import Verdict
from ._args import email_address
from ._help import HelpFormatter, examples

EXIT_HAM, EXIT_FAILURE, EXIT_USAGE, EXIT_SPAM = 0, 1, 2, 3

# option -> (flag, short name, Akismet name): an option replaces the field in a JSON comment
_OPTIONS = {
    "author": ("--author", "author", "comment_author"),
    "email": ("--email", "author_email", "comment_author_email"),
    "url": ("--url", "author_url", "comment_author_url"),
    "ip": ("--ip", "user_ip", "user_ip"),
    "user_agent": ("--user-agent", "user_agent", "user_agent"),
    "referrer": ("--referrer", "referrer", "referrer"),
    "permalink": ("--permalink", "permalink", "permalink"),
    "type": ("--type", "type", "comment_type"),
}


def register(subparsers: Any) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="say whether one comment is spam",
        description=(
            "Judge one comment: TEXT is its content, or, without TEXT (or with '-'), read one JSON "
            "object from stdin with Akismet names (comment_content, comment_author, user_ip, ...) "
            "or short names (content, author, user_ip, ...); the options set those fields. Uses "
            "Akismet when SPAMGUARD_AKISMET_KEY is set, with the local model as the fallback when "
            "Akismet fails; else the local model.\n\n"
            "Exit status: 0 not spam, 3 spam, 1 failure (no backend, bad input), 2 usage error."
        ),
        epilog=examples(
            "spamguard check --ip 203.0.113.7 \"Great post, visit http://cheap.example\"",
            "spamguard check --user-agent \"Mozilla/5.0\" --referrer https://blog.example/p/1 --type reply \"Thanks!\"",
            "echo '{\"comment_content\": \"hi\", \"user_ip\": \"203.0.113.7\"}' | spamguard check --json",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("text", nargs="?", metavar="TEXT", help="the comment's content; '-' or none: JSON on stdin")
    parser.add_argument("--author", metavar="NAME", help="the commenter's name")
    parser.add_argument("--email", metavar="ADDRESS", type=email_address, help="the commenter's e-mail address")
    parser.add_argument("--url", metavar="URL", help="the commenter's web site (http or https)")
    parser.add_argument("--ip", metavar="ADDRESS", help="the commenter's IP address (Akismet requires it)")
    parser.add_argument("--user-agent", metavar="TEXT", help="the commenter's browser user agent")
    parser.add_argument("--referrer", metavar="URL", help="the page the commenter came from (http or https)")
    parser.add_argument("--permalink", metavar="URL", help="the page the comment was posted on (http or https)")
    parser.add_argument("--type", metavar="TYPE",
                        help="the kind of comment: comment (default), reply, forum-post, blog-post, contact-form, "
                        "signup, message")
    parser.add_argument("--json", action="store_true", help="print the verdict as a JSON object")
    parser.set_defaults(handler=run, parser=parser)


def choose_backend() -> Classifier:
    """The Guard from the environment: Akismet first when a key is configured, the local model always.

    With a key but no loadable local model the Guard asks Akismet alone; with neither there is
    nothing to ask and a ConfigurationError says what to configure.
    """
    try:
        local: Classifier | None = LocalModel.load()
        why = ""
    except SpamGuardError as exc:
        local, why = None, f"the local model could not be loaded: {exc}"
    if not akismet_configured():
        if local is None:
            raise ConfigurationError(
                "no spam-checking backend is available: set SPAMGUARD_AKISMET_KEY and SPAMGUARD_BLOG_URL "
                f"to use Akismet, or fix the local model ({why})"
            )
        return Guard.from_env(local=local, remote=None, mode="local-only")
    if local is None:
        return Guard.from_env(local=None, mode="remote-first")
    return Guard.from_env(local=local)


def read_comment(args: argparse.Namespace) -> Comment:
    """The comment from TEXT or stdin, with the options applied.

    A value an option gave that the comment refuses is a usage error naming the option; bad
    input on stdin (broken JSON, a bad field, no content) is an InvalidCommentError.
    """
    if args.text is not None and args.text != "-":
        data: dict[str, Any] = {"content": args.text}
    else:
        raw = sys.stdin.read()
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidCommentError(
                "stdin", f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        if not isinstance(parsed, dict):
            raise InvalidCommentError(
                "stdin", f"must hold one JSON object (a comment), got {type(parsed).__name__}"
            )
        data = parsed
    flags: dict[str, str] = {}
    for option, (flag, *names) in _OPTIONS.items():
        value = getattr(args, option)
        if value is not None:
            for name in names:
                data.pop(name, None)
            data[names[0]] = value
            flags[names[0]] = flag
    try:
        comment = Comment.from_mapping(data)
    except InvalidCommentError as exc:
        if exc.field not in flags:
            raise
        args.parser.error(f"argument {flags[exc.field]}: {str(exc).removeprefix(exc.field + ': ')}")
    if not comment.content.strip():
        raise InvalidCommentError("stdin", "the comment's content is empty; there is nothing to judge")
    return comment


def format_verdict(verdict: Verdict) -> str:
    """One line a person reads: ``spam`` or ``ham`` and what else the backend said."""
    parts = ["spam" if verdict.spam else "ham", f"source={verdict.source}"]
    if verdict.action is not None:
        parts.append(f"action={verdict.action.value}")
    if verdict.fallback_reason:
        parts.append(f"fallback={verdict.fallback_reason}")
    if verdict.score is not None:
        parts.append(f"score={verdict.score:.3f}")
    if verdict.discard:
        parts.append("discard")
    if verdict.recheck_after is not None:
        parts.append(f"provisional (recheck after {verdict.recheck_after} s)")
    if verdict.reasons:
        parts.append("reasons: " + "; ".join(verdict.reasons))
    if verdict.alerts:
        parts.append(f"alert {verdict.alerts.get('code')}: {verdict.alerts.get('msg')}")
    return "  ".join(parts)


def run(args: argparse.Namespace) -> int:
    """Check the comment; 0 ham, 3 spam."""
    if args.text is not None and args.text != "-" and not args.text.strip():
        args.parser.error("TEXT is empty: give the comment's text, or '-' to read a JSON comment from stdin")
    if (args.text is None or args.text == "-") and sys.stdin.isatty():
        args.parser.error("give TEXT, or pipe a JSON comment on stdin")
    comment = read_comment(args)
    backend = choose_backend()
    verdict = backend.check(comment)
    close = getattr(backend, "close", None)
    if callable(close):
        close()
    if args.json:
        print(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        print(format_verdict(verdict))
    return EXIT_SPAM if verdict.spam else EXIT_HAM
