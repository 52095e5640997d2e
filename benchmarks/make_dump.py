"""Write a large synthetic comment dump for benchmarks (not for training: the text is made up).

    python benchmarks/make_dump.py 1000000 -o /tmp/dump.jsonl            # JSONL, Akismet field names
    python benchmarks/make_dump.py 100000 -o /tmp/export.xml --format wxr   # a WordPress export
    python benchmarks/make_dump.py 50000 -o /tmp/dump.jsonl.gz --seed 7     # gzip by suffix

The same N and seed always give the same file. About a third of the comments look like spam.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Iterator
from typing import IO

HAM = [
    "Thanks for writing this, the part about {topic} finally made it click for me.",
    "I tried the {topic} approach last week and it worked, though step two took a while.",
    "Great post. Do you have a follow-up planned on {topic}?",
    "I disagree a little: {topic} is harder in practice than the post suggests.",
    "My team ran into the same {topic} problem; we ended up rewriting the config.",
    "Small typo in the second paragraph, otherwise a clear explanation of {topic}.",
    "Could you share the code for the {topic} example? The link seems broken.",
    "This is the best introduction to {topic} I have read so far, bookmarked.",
]
SPAM = [
    "Cheap {product} online, no prescription needed! Visit http://{host}/buy now",
    "Great article!!! Earn $500 a day from home, click http://{host}/?ref={n}",
    "Best {product} deals at http://{host} - free shipping worldwide, order today",
    "Hello, I like your blog. Check my site http://{host}/{product} for cheap {product}",
    "Make money fast with crypto signals, join http://{host} and get 300% bonus",
    "{product} {product} {product} best price http://{host} http://{host}/sale",
]
TOPICS = ["caching", "unit tests", "database indexes", "the garden layout", "sourdough", "async code",
          "type hints", "the bike repair", "SQL joins", "the travel plan", "deployment", "color grading"]
PRODUCTS = ["viagra", "cialis", "replica watches", "payday loans", "weight loss pills", "casino bonus", "essay writing"]
HOSTS = ["cheap-meds.example", "best-deals.example", "win-big.example", "pills4u.example", "loans-now.example"]
NAMES = ["Ann", "Bob", "Chen", "Dana", "Eve", "Femi", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "Mozilla/5.0 (Macintosh) Safari/605.1.15",
          "Mozilla/5.0 (Windows NT 10.0) Chrome/126.0"]


def comments(n: int, seed: int) -> Iterator[dict[str, object]]:
    """``n`` synthetic comments as dicts with short field names plus ``id`` and ``label``."""
    rng = random.Random(seed)
    for i in range(1, n + 1):
        spam = rng.random() < 0.33
        name = rng.choice(NAMES)
        if spam:
            text = rng.choice(SPAM).format(product=rng.choice(PRODUCTS), host=rng.choice(HOSTS), n=rng.randint(1, 999))
        else:
            text = rng.choice(HAM).format(topic=rng.choice(TOPICS))
        day = 1 + i % 28
        yield {
            "id": i,
            "content": text,
            "author": name if not spam else f"{name}{rng.randint(10, 99)}",
            "author_email": f"{name.lower()}{i % 997}@mail.example",
            "user_ip": f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "user_agent": rng.choice(AGENTS),
            "permalink": f"https://blog.example/posts/{i % 5000}/",
            "date": f"2023-{1 + i % 12:02d}-{day:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "label": "spam" if spam else "ham",
        }


def write_jsonl(out: IO[str], n: int, seed: int) -> None:
    dumps = json.dumps
    for c in comments(n, seed):
        out.write(dumps(c) + "\n")


def write_wxr(out: IO[str], n: int, seed: int, per_post: int = 20) -> None:
    out.write(
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n<title>Synthetic</title>\n'
        "<link>https://blog.example</link>\n"
    )
    post = 0
    for c in comments(n, seed):
        i = int(c["id"])  # type: ignore[call-overload]
        if (i - 1) % per_post == 0:
            if post:
                out.write("</item>\n")
            post += 1
            out.write(f"<item>\n<title>Post {post}</title>\n<link>https://blog.example/posts/{post}/</link>\n"
                      f"<content:encoded><![CDATA[Body of post {post}.]]></content:encoded>\n")
        approved = "spam" if c["label"] == "spam" and i % 4 else ("0" if i % 17 == 0 else "1")
        date = str(c["date"]).replace("T", " ").rstrip("Z")
        out.write(
            "<wp:comment>\n"
            f"<wp:comment_id>{i}</wp:comment_id>\n"
            f"<wp:comment_author><![CDATA[{c['author']}]]></wp:comment_author>\n"
            f"<wp:comment_author_email><![CDATA[{c['author_email']}]]></wp:comment_author_email>\n"
            "<wp:comment_author_url></wp:comment_author_url>\n"
            f"<wp:comment_author_IP><![CDATA[{c['user_ip']}]]></wp:comment_author_IP>\n"
            f"<wp:comment_date_gmt><![CDATA[{date}]]></wp:comment_date_gmt>\n"
            f"<wp:comment_content><![CDATA[{c['content']}]]></wp:comment_content>\n"
            f"<wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>\n"
            "<wp:comment_type><![CDATA[comment]]></wp:comment_type>\n"
            "<wp:comment_parent>0</wp:comment_parent>\n"
            "</wp:comment>\n"
        )
    if post:
        out.write("</item>\n")
    out.write("</channel>\n</rss>\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help="number of comments")
    parser.add_argument("-o", "--output", default="-", help="file to write (.gz compresses); default stdout")
    parser.add_argument("--format", choices=["jsonl", "wxr"], help="default: wxr for .xml, else jsonl")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    fmt = args.format or ("wxr" if args.output.removesuffix(".gz").endswith((".xml", ".wxr")) else "jsonl")
    if args.output == "-":
        out: IO[str] = sys.stdout
    elif args.output.endswith(".gz"):
        out = gzip.open(args.output, "wt", encoding="utf-8", compresslevel=1)  # noqa: SIM115 - closed below
    else:
        out = open(args.output, "w", encoding="utf-8", buffering=1 << 20)  # noqa: SIM115 - closed below
    try:
        (write_wxr if fmt == "wxr" else write_jsonl)(out, args.n, args.seed)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
