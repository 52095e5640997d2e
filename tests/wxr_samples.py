"""Building small WordPress WXR exports for tests."""

from __future__ import annotations

HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
 <title>A blog</title>
 <link>https://blog.example</link>
"""
TAIL = """</channel>
</rss>
"""


def comment_xml(cid: int, content: str = "Nice post", approved: str = "1", **fields: str) -> str:
    values = {
        "comment_author": "Ann", "comment_author_email": "ann@example.com",
        "comment_author_url": "https://ann.example", "comment_author_IP": "203.0.113.9",
        "comment_date_gmt": "2021-05-06 07:08:09", "comment_type": "", "comment_parent": "0",
    }
    values.update(fields)
    inner = "".join(f"   <wp:{k}><![CDATA[{v}]]></wp:{k}>\n" for k, v in values.items())
    return (
        "  <wp:comment>\n"
        f"   <wp:comment_id>{cid}</wp:comment_id>\n"
        f"{inner}"
        f"   <wp:comment_content><![CDATA[{content}]]></wp:comment_content>\n"
        f"   <wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>\n"
        "  </wp:comment>\n"
    )


def item_xml(link: str, *comments: str) -> str:
    return (
        " <item>\n  <title>Post</title>\n"
        f"  <link>{link}</link>\n"
        "  <content:encoded><![CDATA[The post itself, which is not a comment.]]></content:encoded>\n"
        + "".join(comments)
        + " </item>\n"
    )


def write(tmp_path, body: str, name: str = "export.xml"):
    path = tmp_path / name
    path.write_text(HEAD + body + TAIL, encoding="utf-8")
    return path
