"""Property tests of the service's form parser: for any request, parameters or one of two refusals.

``parse_form`` gets a method, a Content-Type, a Content-Length (right, wrong, absent, garbage), a
query string and a body of any bytes; the outcome is a dict of text (``comment_context[]`` a
list), or :class:`Invalid` (answered ``invalid`` with debug help), or :class:`BodyTooLarge`
(413): never another exception. Examples: ``SPAMGUARD_FUZZ_EXAMPLES`` (default 300, the same ones
every run; a number given explores new ones each run).
"""

from __future__ import annotations

import io
import os
from urllib.parse import quote_plus, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spamguard.server._form import Invalid, parse_form
from spamguard.server._limits import BodyTooLarge

EXAMPLES = int(os.environ.get("SPAMGUARD_FUZZ_EXAMPLES") or 300)
LIMIT = 4096
# CI runs the same examples every time (a failure there is never luck); asking for a number explores anew.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize=not os.environ.get("SPAMGUARD_FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CHARSETS = ["utf-8", "UTF-8", "iso-8859-1", "latin1", "cp1252", "utf-16", "utf-16-le", "utf-7", "shift_jis",
            "gb18030", "koi8-r", "punycode", "idna", "undefined", "base64", "rot13", "hex", "zlib", "uu",
            "unicode_escape", "raw_unicode_escape", "klingon", "", " ", "utf-8\x00", '"utf-8"', "utf-8;q=1"]
content_types = st.one_of(
    st.just("application/x-www-form-urlencoded"),
    st.builds(lambda c: f"application/x-www-form-urlencoded; charset={c}", st.sampled_from(CHARSETS)),
    st.sampled_from(["", "application/json", "text/plain", "multipart/form-data; boundary=x", ";;;", "charset="]),
    st.text(max_size=60),
)
pieces = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"=", b"&", b"%", b"%zz", b"%ff", b"%00", b"+", b";", b"comment_context[]=",
                     b"comment_context[7]=", b"blog_charset=", b"blog_charset=punycode", b"blog_charset=utf-16",
                     b"api_key=", b"\xff\xfe"]),
    st.text(max_size=50).map(lambda t: quote_plus(t).encode()),
)
bodies = st.lists(pieces, max_size=20).map(b"".join)
lengths = st.one_of(st.none(), st.just("right"), st.integers(-5, LIMIT * 2).map(str),
                    st.sampled_from(["", "abc", "1e3", " 12 ", "-0", "99999999999999999999"]))


def _environ(method, content_type, length, query, body, terminated):
    environ = {"REQUEST_METHOD": method, "QUERY_STRING": query, "wsgi.input": io.BytesIO(body),
               "wsgi.input_terminated": terminated}
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if length == "right":
        environ["CONTENT_LENGTH"] = str(len(body))
    elif length is not None:
        environ["CONTENT_LENGTH"] = length
    return environ


def _well_formed(params):
    for name, value in params.items():
        assert isinstance(name, str)
        if name == "comment_context[]":
            assert isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            assert isinstance(value, str)


@FUZZ
@given(method=st.sampled_from(["POST", "GET", "HEAD", "PUT", "post", ""]), content_type=st.none() | content_types,
       length=lengths, query=st.text(max_size=80) | bodies.map(lambda b: b.decode("latin-1")), body=bodies,
       terminated=st.booleans())
def test_any_request_gives_parameters_or_a_refusal(method, content_type, length, query, body, terminated):
    """Whatever arrives, parse_form returns text parameters or raises Invalid / BodyTooLarge."""
    try:
        params = parse_form(_environ(method, content_type, length, query, body, terminated), LIMIT)
    except Invalid as exc:
        assert exc.debug_help and "Traceback" not in exc.debug_help
    except BodyTooLarge as exc:
        assert exc.limit == LIMIT
    else:
        _well_formed(params)


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@FUZZ
@given(fields=st.dictionaries(texts.filter(lambda k: not k.startswith("comment_context") and k != "blog_charset"),
                              texts, max_size=10),
       context=st.lists(texts, max_size=4),
       charset=st.sampled_from(["utf-8", "utf-16", "gb18030", "utf-7"]))
def test_what_a_client_encodes_is_what_the_service_reads(fields, context, charset):
    """A form encoded in any charset that can hold the text, named in the Content-Type, reads back the same."""
    pairs = [*fields.items(), *(("comment_context[]", c) for c in context)]
    body = urlencode(pairs, encoding=charset).encode("ascii")
    environ = _environ("POST", f"application/x-www-form-urlencoded; charset={charset}", "right", "", body, False)
    expected = dict(fields)
    if context:
        expected["comment_context[]"] = context
    assert parse_form(environ, 1 << 20) == expected
