"""Comment: validation naming the field, and round trips through Akismet's form fields."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamguard import Comment, InvalidCommentError
from spamguard.comment import MAX_FIELD_CHARS, comment_limits

NAIVE = dt.datetime(2026, 1, 1, 12, 0)
UTC_MIN = dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=5)))

# (field named in the error, constructor kwargs)
BAD: list[tuple[str, dict[str, Any]]] = [
    ("content", {"content": 42}),
    ("content", {"content": b"bytes"}),
    ("content", {"content": None}),
    ("author", {"author": 7}),
    ("author_email", {"author_email": "x" * (MAX_FIELD_CHARS + 1)}),
    ("user_agent", {"user_agent": ["Mozilla"]}),
    ("user_ip", {"user_ip": "300.1.2.3"}),
    ("user_ip", {"user_ip": "localhost"}),
    ("user_ip", {"user_ip": 17}),
    ("author_url", {"author_url": "javascript:alert(1)"}),
    ("author_url", {"author_url": "http://[not-an-ipv6"}),
    ("referrer", {"referrer": "ftp://files.example/"}),
    ("permalink", {"permalink": "https://"}),
    ("date", {"date": NAIVE}),
    ("date", {"date": "2026-01-01"}),
    ("date", {"date": UTC_MIN}),
    ("post_modified", {"post_modified": NAIVE}),
    ("parent", {"parent": True}),
    ("lang", {"lang": 1.5}),
    ("charset", {"charset": object()}),
    ("user_role", {"user_role": 3}),
    ("recheck_reason", {"recheck_reason": 3}),
    ("type", {"type": 5}),
    ("context", {"context": ["ok", 5]}),
    ("context", {"context": 5}),
    ("extra", {"extra": "not a mapping"}),
    ("extra", {"extra": {"comment_author": "x"}}),
    ("extra", {"extra": {"extra": "x"}}),
    ("extra", {"extra": {"": "x"}}),
    ("extra", {"extra": {f"k{i}": "v" for i in range(300)}}),
    ("extra['HTTP_X']", {"extra": {"HTTP_X": 5}}),
    ("honeypot_value", {"honeypot_value": "filled"}),
    ("honeypot_field_name", {"honeypot_field_name": "comment_content"}),
    ("honeypot_field_name", {"honeypot_field_name": "hp", "extra": {"hp": "x"}}),
    ("honeypot_field_name", {"honeypot_field_name": 9}),
]


@pytest.mark.parametrize(("field", "kwargs"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)])
def test_bad_field_names_the_field(field: str, kwargs: dict[str, Any]) -> None:
    """Every validation rule raises InvalidCommentError (a ValueError) naming the field."""
    args: dict[str, Any] = {"content": "hello"}
    args.update(kwargs)
    with pytest.raises(InvalidCommentError) as info:
        Comment(**args)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"{field}: ")


def test_content_limit_is_configurable() -> None:
    """comment_limits raises or lowers the content limit for the block."""
    with comment_limits(max_content_chars=5), pytest.raises(InvalidCommentError, match="limit is 5"):
        Comment(content="123456")
    assert len(Comment(content="x" * 65_536).content) == 65_536  # the default limit
    with pytest.raises(InvalidCommentError, match="content"):
        Comment.from_mapping({"content": "123456"}, max_content_chars=5)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"author": "x"}, "content"),
        ({"content": "a", "comment_content": "b"}, "content"),
        ({"content": "a", "comment_date_gmt": "yesterday"}, "date"),
        ({"content": "a", "HTTP_X": [1]}, "extra['HTTP_X']"),
        ({"content": "a", "extra": ["x"]}, "extra"),
        (["content"], "comment"),
    ],
)
def test_from_mapping_errors(data: Any, field: str) -> None:
    """from_mapping names the field that is missing, doubled or unreadable."""
    with pytest.raises(InvalidCommentError) as info:
        Comment.from_mapping(data)
    assert info.value.field == field


def test_from_mapping_drops_request_parameters() -> None:
    """api_key, blog, is_test and comment_check_response are request data, not comment data."""
    c = Comment.from_mapping({"comment_content": "hi", "api_key": "k", "blog": "https://b.example",
                              "is_test": "1", "comment_check_response": "true", "HTTP_ACCEPT": "*/*"})
    assert c == Comment(content="hi", extra={"HTTP_ACCEPT": "*/*"})


def test_empty_type_is_the_default() -> None:
    """An empty or missing comment type means 'comment', the same on both sides of a round trip."""
    assert Comment(content="x", type="").type == "comment"
    assert Comment(content="x", type=None).type == "comment"  # type: ignore[arg-type]


def test_to_akismet_shapes() -> None:
    """Dates go out as ISO 8601 UTC, context as a list, honeypot under its own name."""
    c = Comment(content="hi", date=dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
                context="one", honeypot_field_name="hp", parent=12)
    assert c.to_akismet() == {"comment_content": "hi", "comment_type": "comment",
                              "comment_date_gmt": "2026-03-01T04:00:00Z", "comment_parent": "12",
                              "comment_context[]": ["one"], "honeypot_field_name": "hp", "hp": ""}
    assert not c.honeypot_filled


# --- round trips -------------------------------------------------------------------------------

text = st.text(max_size=40)
optional_text = st.none() | text
ips = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https", "HTTPS"]),
    st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    st.text(max_size=20),
)
zones = st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=5, minutes=30)),
                         dt.timezone(dt.timedelta(hours=-8))])
dates = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=zones)
RESERVED = {"comment_check_response", "extra", "key", "api_key", "blog", "is_test"}
names = st.text(min_size=1, max_size=15).filter(
    lambda k: not k.startswith(("comment_", "user_", "blog", "honeypot")) and k not in RESERVED
    and k not in {"content", "author", "author_email", "author_url", "user_agent", "referrer", "referer",
                  "permalink", "type", "date", "post_modified", "parent", "lang", "charset",
                  "recheck_reason", "context"}
)


@st.composite
def comments(draw: st.DrawFn) -> Comment:
    extra = draw(st.dictionaries(names, text, max_size=4))
    honeypot_name = draw(st.none() | names.filter(lambda n: n not in extra))
    return Comment(
        content=draw(st.text(max_size=200)),
        author=draw(optional_text),
        author_email=draw(optional_text),
        author_url=draw(st.none() | urls),
        user_ip=draw(st.none() | ips),
        user_agent=draw(optional_text),
        referrer=draw(st.none() | urls),
        permalink=draw(st.none() | urls),
        type=draw(st.sampled_from(["comment", "reply", "forum-post"]) | text),
        date=draw(st.none() | dates),
        post_modified=draw(st.none() | dates),
        parent=draw(st.none() | text | st.integers(0, 10**9)),
        lang=draw(optional_text),
        charset=draw(optional_text),
        user_role=draw(optional_text),
        recheck_reason=draw(optional_text),
        honeypot_field_name=honeypot_name,
        honeypot_value=draw(optional_text) if honeypot_name else None,
        context=draw(st.lists(text, max_size=4)),
        extra=extra,
    )


@settings(max_examples=300, deadline=None)
@given(comments())
def test_round_trip_through_akismet_fields(c: Comment) -> None:
    """Comment.from_mapping(c.to_akismet()) == c for any Unicode text in every field."""
    back = Comment.from_mapping(c.to_akismet())
    assert back == c
    assert back.to_akismet() == c.to_akismet()


@settings(max_examples=100, deadline=None)
@given(comments())
def test_round_trip_through_short_names(c: Comment) -> None:
    """The short-name spelling round-trips too (what JSON dumps and the CLI accept)."""
    data: dict[str, Any] = {
        "content": c.content, "author": c.author, "author_email": c.author_email, "author_url": c.author_url,
        "user_ip": c.user_ip, "user_agent": c.user_agent, "referrer": c.referrer, "permalink": c.permalink,
        "type": c.type, "date": c.date.isoformat() if c.date else None,
        "post_modified": c.post_modified.isoformat() if c.post_modified else None, "parent": c.parent,
        "lang": c.lang, "charset": c.charset, "user_role": c.user_role, "recheck_reason": c.recheck_reason,
        "honeypot_field_name": c.honeypot_field_name, "honeypot_value": c.honeypot_value,
        "context": list(c.context), "extra": dict(c.extra),
    }
    assert Comment.from_mapping(data) == c


@given(ips)
def test_any_ip_address_is_accepted(ip: str) -> None:
    """Every IPv4 and IPv6 address is a valid user_ip."""
    assert ipaddress.ip_address(Comment(content="x", user_ip=ip).user_ip)


# --- from_mapping's quick build agrees with the constructor ----------------------------------------

from spamguard.comment import _SETTERS, _build_checked  # noqa: E402

_UNSET = object()


def _slots(comment: Comment) -> list[tuple[str, type, Any]]:
    """Every slot of the object as stored: name, type and value (an unset slot shows as unset)."""
    names = [name for klass in type(comment).__mro__ for name in getattr(klass, "__slots__", ())]
    return [(name, type(value), value) for name in names if (value := getattr(comment, name, _UNSET)) is not _UNSET]


def test_the_quick_build_knows_how_attrs_lays_out_comment() -> None:
    """Fails loudly if attrs (whatever version is installed) lays out Comment's slots another way.

    The quick build writes each field's slot with the slot's own setter, as the attrs __init__ of a
    frozen slotted class does; it relies on one plain slot a field, in field order, and no other state.
    If that ever changes, from_mapping falls back to the constructor (correct but slower), and this fails.
    """
    names = [field.name for field in attrs.fields(Comment)]
    assert _SETTERS is not None, f"attrs {attrs.__version__} lays out Comment differently: see comment._slot_setters"
    assert Comment.__mro__ == (Comment, object)
    assert [name for name in Comment.__slots__ if name != "__weakref__"] == names
    assert all(type(Comment.__dict__[name]).__name__ == "member_descriptor" for name in names)
    assert [setter.__self__.__name__ for setter in _SETTERS] == names
    every_field = {
        "content": "hello", "author": "Ann", "author_email": "ann@example.com", "author_url": "https://ann.example",
        "user_ip": "2001:db8::1", "user_agent": "Mozilla/5.0", "referrer": "https://blog.example/",
        "permalink": "https://blog.example/p/1", "type": "reply", "parent": 12, "lang": "en",
        "date": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        "post_modified": dt.datetime(2025, 12, 31, tzinfo=dt.timezone.utc),
        "charset": "UTF-8", "user_role": "editor", "recheck_reason": "edit", "honeypot_field_name": "hp",
        "honeypot_value": "", "context": ["a", "b"], "extra": {"HTTP_ACCEPT": "*/*"},
    }
    assert set(every_field) == set(names)
    quick, made = _build_checked(dict(every_field), 65_536), Comment(**every_field)
    assert quick is not None and _slots(quick) == _slots(made)
    assert (quick == made, hash(quick) == hash(made), repr(quick) == repr(made)) == (True, True, True)
    assert _slots(quick.replace(lang="de")) == _slots(made.replace(lang="de"))

TRICKY = ["", " ", "javascript:alert(1)", "http://", "http:///x", "HTTP://a.example", "https://a.example/x?q#f",
          "http://a b/", "http://[::1", "http://[::1]:80/", "https://h\u2100st/", "1.2.3.4", "01.2.3.4", "::1",
          "fe80::1%eth0", "fe80::1%" + "e" * 60, "256.0.0.1", "1.2.3.4\n", "x" * (MAX_FIELD_CHARS + 1),
          "x" * 65_537, True, 0, -3, 2**40, 1.5, b"bytes", ["a", 1], ("a", "b"), NAIVE, UTC_MIN,
          {"hp": "x"}, {"comment_author": "x"}]
anything = st.sampled_from(TRICKY) | st.none() | st.text(max_size=12) | st.integers(-5, 10**6) \
    | st.lists(st.text(max_size=5) | st.integers(), max_size=3) | dates \
    | st.dictionaries(st.text(max_size=8), st.text(max_size=5) | st.integers(), max_size=3)
FIELD_NAMES = ["author", "author_email", "author_url", "user_ip", "user_agent", "referrer",
                               "permalink", "type", "date", "post_modified", "parent", "lang", "charset",
                               "user_role", "recheck_reason", "honeypot_field_name", "honeypot_value",
                               "context", "extra", "no_such_field"]
field_names = st.sampled_from(FIELD_NAMES)


def _outcome(make: Any) -> Any:
    try:
        return ("ok", make())
    except InvalidCommentError as exc:
        return ("error", exc.field, str(exc))
    except (TypeError, ValueError) as exc:
        return ("error", type(exc).__name__, str(exc))


@settings(max_examples=1000, deadline=None)
@given(comments(), st.text(max_size=30) | anything, st.dictionaries(field_names, anything, max_size=2))
def test_quick_build_equals_the_constructor(base: Comment, content: Any, fields: dict[str, Any]) -> None:
    """Whatever the values, the quick build gives the constructor's comment, or defers to it."""
    kwargs = {name: value for name, value in attrs.asdict(base, recurse=False).items() if value is not None}
    kwargs["extra"] = dict(kwargs["extra"])
    kwargs.update(fields)
    if not isinstance(content, dict):
        kwargs["content"] = content
    expected = _outcome(lambda: Comment(**kwargs))
    quick = _outcome(lambda: _build_checked(dict(kwargs), 65_536))
    if quick == ("ok", None):
        return  # deferred: from_mapping calls the constructor
    assert quick == expected
    if expected[0] == "ok":
        assert repr(quick[1]) == repr(expected[1]) and hash(quick[1]) == hash(expected[1])
        assert _slots(quick[1]) == _slots(expected[1])


@pytest.mark.parametrize(("field", "kwargs"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)])
def test_from_mapping_names_the_same_field(field: str, kwargs: dict[str, Any]) -> None:
    """from_mapping rejects every bad value the constructor rejects, naming the same field."""
    args: dict[str, Any] = {"content": "hello"}
    args.update(kwargs)
    with pytest.raises(InvalidCommentError) as info:
        Comment.from_mapping(args)
    assert info.value.field == field


def test_quick_build_equals_the_constructor_for_every_tricky_value() -> None:
    """Each borderline value in each field: the quick build gives the constructor's result or defers."""
    base = {"content": "hello", "author": "Ann", "user_ip": "192.0.2.1", "permalink": "https://b.example/p/1",
            "date": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), "honeypot_field_name": "hp",
            "honeypot_value": "", "extra": {"HTTP_ACCEPT": "*/*"}}
    checked = 0
    for name in ["content", *FIELD_NAMES]:
        for value in TRICKY:
            kwargs = {**base, name: value}
            expected = _outcome(lambda kwargs=kwargs: Comment(**kwargs))
            quick = _outcome(lambda kwargs=kwargs: _build_checked(dict(kwargs), 65_536))
            if quick != ("ok", None):
                assert quick == expected, (name, value)
                checked += 1
    assert checked > 200  # most cases are decided by the quick build itself


def test_content_limit_from_the_environment_is_read_once_per_process() -> None:
    """SPAMGUARD_MAX_CONTENT_CHARS sets the default limit; changing it later in the process has no effect."""
    import os
    import subprocess
    import sys

    script = (
        "import os\n"
        "from spamguard import Comment, InvalidCommentError\n"
        "Comment(content='x' * 10)\n"
        "try:\n"
        "    Comment.from_mapping({'content': 'x' * 11})\n"
        "except InvalidCommentError as exc:\n"
        "    print('refused:', exc)\n"
        "os.environ['SPAMGUARD_MAX_CONTENT_CHARS'] = '100'\n"
        "try:\n"
        "    Comment(content='x' * 11)\n"
        "except InvalidCommentError:\n"
        "    print('still 10')\n"
    )
    env = {**os.environ, "SPAMGUARD_MAX_CONTENT_CHARS": "10"}
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["refused: content: is 11 characters long; the limit is 10", "still 10"]
