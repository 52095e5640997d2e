"""A Comment from an ASGI request (spamguard.integrations._asgi): a raw scope, and a real Starlette app.

The rules are the WSGI helpers' (trusted proxies, header policy, honeypot); the trusted-proxy
cases are the WSGI tests' own table, run through an ASGI scope.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _webapps import serve_asgi
from test_integrations_request import FORWARDED_CASES

from spamguard import Comment, InvalidCommentError
from spamguard.integrations import HeaderPolicy, asgi_environ, comment_from_asgi, comment_from_starlette


def scope(client: tuple[str, int] | None = ("198.51.100.20", 50123), **headers: str | list[str]) -> dict[str, Any]:
    """An ASGI HTTP scope from ``client`` with headers given as name=value (underscores for dashes; a
    list repeats the header)."""
    raw: list[tuple[bytes, bytes]] = []
    for name, value in headers.items():
        for one in value if isinstance(value, list) else [value]:
            raw.append((name.replace("_", "-").lower().encode("latin-1"), one.encode("latin-1")))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "https", "path": "/posts/1/comments", "query_string": b"", "root_path": "",
            "headers": raw, "client": client, "server": ("127.0.0.1", 8000)}


def test_form_and_request_fields_fill_the_comment() -> None:
    """The same comment as from WSGI: form fields, user agent, referrer, headers under HTTP_ names."""
    s = scope(user_agent="Mozilla/5.0 (X11; Linux x86_64)", referer="https://blog.example/p/1",
              accept_language="de-DE,de;q=0.9", content_type="application/x-www-form-urlencoded",
              cookie="session=secret")
    form = {"comment": "Nice post", "name": "Ana", "email": "ana@example.org", "url": "https://ana.example"}

    comment = comment_from_asgi(s, form, permalink="https://blog.example/p/1", type="reply")

    assert comment == Comment(
        content="Nice post", author="Ana", author_email="ana@example.org", author_url="https://ana.example",
        user_ip="198.51.100.20", user_agent="Mozilla/5.0 (X11; Linux x86_64)",
        referrer="https://blog.example/p/1", permalink="https://blog.example/p/1", type="reply",
        extra={"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9", "HTTP_REFERER": "https://blog.example/p/1",
               "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64)"},
    )


def test_the_scope_as_a_wsgi_environ() -> None:
    """asgi_environ: the peer as REMOTE_ADDR, headers as HTTP_*, content type and length as in WSGI,
    a repeated header joined with commas (latin-1, as ASGI sends them)."""
    s = scope(x_forwarded_for=["1.1.1.1", "203.0.113.9"], content_type="text/plain", content_length="5",
              x_note="caf\u00e9")

    assert asgi_environ(s) == {"REMOTE_ADDR": "198.51.100.20", "HTTP_X_FORWARDED_FOR": "1.1.1.1,203.0.113.9",
                               "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "5", "HTTP_X_NOTE": "caf\u00e9"}
    assert asgi_environ(scope(client=None)) == {}


@pytest.mark.parametrize(("remote", "forwarded", "trusted", "expected"), FORWARDED_CASES)
def test_trusted_proxies_as_for_wsgi(remote: str, forwarded: str, trusted: list[str], expected: str) -> None:
    """X-Forwarded-For is walked right to left and believed only from trusted peers, exactly as for WSGI."""
    comment = comment_from_asgi(scope((remote, 443), x_forwarded_for=forwarded), {"content": "hi"},
                                trusted_proxies=trusted)

    assert comment.user_ip == expected


def test_header_policy_and_honeypot_as_for_wsgi() -> None:
    """The header policy chooses the headers; a filled honeypot goes along under its name."""
    s = scope(accept="text/html", x_csrftoken="secret", authorization="Bearer secret", x_requested_with="fetch")

    comment = comment_from_asgi(s, {"content": "hi", "spamguard_hp": "http://bot.example"},
                                header_policy=HeaderPolicy(deny=["Accept"]))

    assert dict(comment.extra) == {"HTTP_X_CSRFTOKEN": "secret", "HTTP_X_REQUESTED_WITH": "fetch"}
    assert (comment.honeypot_field_name, comment.honeypot_value) == ("spamguard_hp", "http://bot.example")
    assert "HTTP_ACCEPT" not in comment_from_asgi(s, {"content": "hi"}, header_policy=None).extra


def test_bad_input_is_named() -> None:
    """No content is an InvalidCommentError naming the field; a scope that is not HTTP, or a form that is
    not a mapping, is a TypeError saying what was expected."""
    with pytest.raises(InvalidCommentError, match="content"):
        comment_from_asgi(scope(), {"author": "Ana"})
    with pytest.raises(TypeError, match="an ASGI HTTP scope .type 'http'., got 'websocket'"):
        comment_from_asgi({"type": "websocket"}, {"content": "hi"})
    with pytest.raises(TypeError, match="form must be a mapping"):
        comment_from_asgi(scope(), "content=hi")


def test_a_starlette_request() -> None:
    """comment_from_starlette awaits the form of a real Starlette request served by uvicorn (urlencoded
    and multipart, repeated fields and uploads included) and reads the peer and headers of its scope."""
    pytest.importorskip("starlette", reason="pip install -e '.[test]' installs starlette")
    pytest.importorskip("multipart", reason="pip install -e '.[test]' installs python-multipart")
    import requests
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def comment(request: Request) -> JSONResponse:
        c = await comment_from_starlette(request, trusted_proxies=["127.0.0.1"], permalink="https://blog.example/p")
        return JSONResponse({"content": c.content, "author": c.author, "user_ip": c.user_ip,
                             "honeypot": [c.honeypot_field_name, c.honeypot_value], "extra": dict(c.extra)})

    app = Starlette(routes=[Route("/c", comment, methods=["POST"])])
    with serve_asgi(app) as base, requests.Session() as http:
        urlencoded = http.post(f"{base}/c", data={"content": "Hello", "name": "Ana", "spamguard_hp": ""}, timeout=10,
                               headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "Firefox",
                                        "Cookie": "session=secret"}).json()
        multipart = http.post(f"{base}/c", data={"comment": ["first", "second"], "author": "Bo"}, timeout=10,
                              files={"attachment": ("a.txt", b"file body")}).json()
    assert urlencoded == {
        "content": "Hello", "author": "Ana", "user_ip": "203.0.113.9",
        "honeypot": ["spamguard_hp", None],  # an empty honeypot: a person
        "extra": {"HTTP_ACCEPT": "*/*", "HTTP_ACCEPT_ENCODING": "gzip, deflate", "HTTP_CONNECTION": "keep-alive",
                  "HTTP_HOST": base.removeprefix("http://"), "HTTP_USER_AGENT": "Firefox",
                  "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
    }
    assert (multipart["content"], multipart["author"], multipart["user_ip"]) == ("first", "Bo", "127.0.0.1")


def test_a_starlette_style_request_without_starlette() -> None:
    """Any object with .scope and an awaitable .form() will do (FastAPI's Request is Starlette's)."""

    class Request:
        scope = scope(user_agent="curl/8")

        async def form(self) -> dict[str, str]:
            return {"content": "hi"}

    comment = asyncio.run(comment_from_starlette(Request()))
    assert (comment.content, comment.user_ip, comment.user_agent) == ("hi", "198.51.100.20", "curl/8")
