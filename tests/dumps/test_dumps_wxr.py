"""Reading WordPress WXR exports: comments with their status, bad comments rejected, unsafe XML refused."""

from __future__ import annotations

import datetime as dt
import gzip
import time

import pytest
from wxr_samples import HEAD, TAIL, comment_xml, item_xml, write

from spamguard import Comment, UnsafeXMLError
from spamguard.dumps import DumpFormatError, Record, Reject
from spamguard.dumps.wxr import read_wxr


def test_reads_every_field_of_a_comment(tmp_path):
    """A wp:comment becomes a Record: the comment, its WordPress id, status and the post's link."""
    path = write(tmp_path, item_xml("https://blog.example/hello/", comment_xml(7, "Thanks & see you", "1",
                                                                               comment_author_url="ann.example")))
    (record,) = list(read_wxr(path))
    assert record == Record(
        position=1, line=11, id="7", status="approved", label=False, source=str(path),
        comment=Comment(
            content="Thanks & see you", author="Ann", author_email="ann@example.com",
            author_url="http://ann.example", user_ip="203.0.113.9", permalink="https://blog.example/hello/",
            date=dt.datetime(2021, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc),
        ),
    )


@pytest.mark.parametrize(
    ("approved", "status", "label"),
    [("1", "approved", False), ("0", "hold", None), ("spam", "spam", True), ("trash", "trash", None)],
)
def test_status_comes_from_comment_approved(tmp_path, approved, status, label):
    """wp:comment_approved 1/0/spam/trash reads as approved/hold/spam/trash."""
    path = write(tmp_path, item_xml("https://blog.example/p/", comment_xml(1, approved=approved)))
    (record,) = list(read_wxr(path))
    assert (record.status, record.label) == (status, label)


def test_comments_keep_their_own_post_link_and_type_and_parent(tmp_path):
    """Each comment gets the link of the item it sits in; pingbacks and replies keep type and parent."""
    body = item_xml("https://blog.example/a/", comment_xml(1)) + item_xml(
        "https://blog.example/b/", comment_xml(2, comment_type="pingback", comment_parent="1")
    )
    first, second = read_wxr(write(tmp_path, body))
    assert (first.comment.permalink, first.comment.type, first.comment.parent) == (
        "https://blog.example/a/", "comment", None)
    assert (second.comment.permalink, second.comment.type, second.comment.parent) == (
        "https://blog.example/b/", "pingback", "1")


def test_unusable_comments_are_rejected_with_line_and_reason_and_reading_goes_on(tmp_path):
    """No content, a bad address or a comment outside a post: a Reject each; good comments still read."""
    body = item_xml(
        "https://blog.example/p/",
        comment_xml(1, "fine"),
        comment_xml(2, "   "),
        comment_xml(3, "bad ip", comment_author_IP="not-an-ip"),
        comment_xml(4, "fine too"),
    ) + "<wp:comment><wp:comment_content>stray</wp:comment_content></wp:comment>\n"
    got = list(read_wxr(write(tmp_path, body)))
    assert [type(x).__name__ for x in got] == ["Record", "Reject", "Reject", "Record", "Reject"]
    assert [x.position for x in got] == [1, 2, 3, 4, 5]
    empty, bad_ip, stray = got[1], got[2], got[4]
    assert (empty.line, empty.reason) == (23, "no content (wp:comment_content is missing or empty)")
    assert bad_ip.reason == "user_ip: 'not-an-ip' is not an IPv4 or IPv6 address"
    assert "wp:comment_id='3'" in bad_ip.raw
    assert stray.reason == "<wp:comment> inside <channel>, not inside a post <item>"


def test_invalid_utf8_and_forbidden_characters_reject_only_that_comment(tmp_path):
    """Bytes that are not UTF-8 (or control characters XML forbids) spoil one comment, not the file."""
    body = item_xml("https://blog.example/p/", comment_xml(1, "before"), comment_xml(2, "BAD"),
                    comment_xml(3, "ctl\x0bchar"), comment_xml(4, "after"))
    path = tmp_path / "export.xml"
    path.write_bytes((HEAD + body + TAIL).encode("utf-8").replace(b"BAD", b"caf\xe9"))
    got = list(read_wxr(path))
    assert [x.comment.content for x in got if isinstance(x, Record)] == ["before", "after"]
    assert [x.reason for x in got if isinstance(x, Reject)] == [
        "invalid UTF-8 or a character XML does not allow in wp:comment_content"] * 2


def test_gzip_is_transparent(tmp_path):
    """A .xml.gz export reads like the plain one."""
    plain = write(tmp_path, item_xml("https://blog.example/p/", comment_xml(1), comment_xml(2, "two")))
    packed = tmp_path / "export.xml.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert [r.comment for r in read_wxr(packed)] == [r.comment for r in read_wxr(plain)]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><link>https://b.example/</link>
<wp:comment><wp:comment_content>&lol9;</wp:comment_content></wp:comment>
</item></channel></rss>
"""


def test_billion_laughs_is_refused_not_expanded(tmp_path):
    """Entity declarations are refused at once, with the file and line, before anything expands."""
    path = tmp_path / "lol.xml"
    path.write_text(BILLION_LAUGHS)
    started = time.monotonic()
    with pytest.raises(UnsafeXMLError) as info:
        list(read_wxr(path))
    assert time.monotonic() - started < 2
    assert str(info.value).startswith(f"{path}:3: refused: the XML declares the entity 'lol'.")
    assert isinstance(info.value, ValueError)


def test_external_entity_is_refused_and_nothing_is_read(tmp_path):
    """An external entity (XXE) is refused; the referenced file never shows up in a record."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY xxe SYSTEM "file://{secret}">\n]>\n'
        '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><link>https://b.example/</link>\n'
        "<wp:comment><wp:comment_content>&xxe;</wp:comment_content></wp:comment></item></channel></rss>\n"
    )
    with pytest.raises(UnsafeXMLError, match=r"xxe.xml:3: refused: the XML declares the entity 'xxe'"):
        list(read_wxr(path))


def test_broken_xml_fails_with_the_place_after_yielding_what_came_before(tmp_path):
    """XML that is not well-formed cannot be read past the fault: an error naming file:line:column."""
    path = tmp_path / "cut.xml"
    path.write_text(HEAD + item_xml("https://blog.example/p/", comment_xml(1)) + " <item><wp:comment>\n</item>")
    reader = read_wxr(path)
    assert isinstance(next(reader), Record)
    with pytest.raises(DumpFormatError, match=r"cut\.xml:25:3: the WordPress export is not well-formed XML"):
        next(reader)


def test_a_file_that_is_not_a_wordpress_export_is_an_error(tmp_path):
    """XML without an <rss> root is not a WXR file: say so rather than read nothing."""
    path = tmp_path / "other.xml"
    path.write_text("<?xml version='1.0'?><html><body/></html>")
    with pytest.raises(DumpFormatError, match="no WordPress export found"):
        list(read_wxr(path))
