"""What the model reads of a comment besides its n-grams: the prepared text, links, lures, metadata.

:func:`prepare` normalises a batch of comments once (:mod:`._normalize`), sorts their links
into evidence and non-evidence, and keeps what the n-gram hashers and :func:`meta_matrix` need;
the scikit-learn transformers and the compiled scorer both go through it, so they see the
same features.

Links are evidence, not a verdict: a link to the comment's own site (its ``permalink``'s host)
or to a well-known documentation or code host (:data:`SAFE_HOSTS`) is taken out of the text
the n-grams read and counted apart (``safe_links``); URL shorteners and messenger links are a
signal of their own (``hidden_links``).
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import numpy as np

from ..comment import Comment
from ._hashing import _ALPHA, _UPPER, SMALL_BATCH, TextBatch, _classes, _code_array, _word_pattern, normalize_text
from ._lexicon import CONCEPTS, concept_counts, concept_counts_of_words
from ._normalize import clean_texts

__all__ = [
    "META_FEATURES",
    "SAFE_HOSTS",
    "SHORTENERS",
    "Prepared",
    "link_hosts",
    "meta_matrix",
    "prepare",
    "without_links",
]

SAFE_HOSTS = frozenset({
    "python.org", "github.com", "gitlab.com", "bitbucket.org", "stackoverflow.com", "stackexchange.com",
    "superuser.com", "serverfault.com", "askubuntu.com", "wikipedia.org", "wikimedia.org", "mozilla.org",
    "readthedocs.io", "readthedocs.org", "pypi.org", "npmjs.com", "djangoproject.com", "microsoft.com",
    "oracle.com", "man7.org", "w3.org", "ietf.org", "rfc-editor.org", "kernel.org", "debian.org",
    "ubuntu.com", "archlinux.org", "docs.rs", "crates.io", "go.dev", "rust-lang.org", "php.net",
    "nodejs.org", "arxiv.org", "doi.org", "wordpress.org", "apache.org", "postgresql.org", "mysql.com",
    "sqlite.org", "gnu.org",
})
"""Documentation and code hosts whose links are no sign of spam (subdomains included: en.wikipedia.org)."""

SHORTENERS = frozenset({
    "bit.ly", "bitly.com", "tinyurl.com", "goo.gl", "t.co", "ow.ly", "is.gd", "v.gd", "buff.ly", "cutt.ly",
    "rb.gy", "shorturl.at", "tiny.cc", "rebrand.ly", "bl.ink", "t.ly", "s.id", "lnkd.in", "shorte.st", "adf.ly",
    "bc.vc", "ouo.io", "linktr.ee", "clck.ru", "qps.ru", "u.to", "goo.su", "tiny.one", "short.io",
    # messenger links: "talk to me elsewhere"
    "t.me", "telegram.me", "wa.me", "api.whatsapp.com", "chat.whatsapp.com", "m.me", "discord.gg",
})
"""URL shorteners and messenger links: the link hides where it goes, or takes the reader off to chat."""

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|"
                  r"ru|ly|me|co|io|tk|xyz|top|cc|us|uk|de|in|tv|gl|gd|link|site|online|ltd|fr)\b(?:/[^\s]*)?",
                  re.IGNORECASE)
# What every link _URL finds holds (a cheap search over a whole batch).
_MAYBE_LINK = re.compile(r"://|[wW]{3}\.|\.[A-Za-z]{2,6}\b")
_HOST = re.compile(r"^(?:https?://)?(?:www\.)?([^/:?#\s]+)", re.IGNORECASE)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[a-z]{2,}", re.IGNORECASE)

# On the normalised text (lower case, digits folded to 0, single spaces, texts between NULs).
_HANDLE = re.compile(r"@(?<![\w@].)(?=[\w.]*[^\W\d_])\w[\w.]*")  # the look-behind after the "@" is faster
_LEADING_HANDLES = re.compile(r"(?:^|\x00) ((?:@\w[\w.]*[\s,:;]*)+)")
_HASHTAG = re.compile(r"#(?<![\w&#].)(?=\w*[^\W\d_])\w+")
# Sums of money: a currency sign before or after a number, or a currency's name after it.
_MONEY = re.compile(r"[$€£₽¥₹]\s?0|0\s?(?:[$€£₽¥₹]|(?:usd|usdt|eur|gbp|btc|eth|dollars?|euros?|pounds|bucks|руб\w*"
                    r"|k)\b)")
_PHONE = re.compile(r"0[0 ()\-]{5,}0(?![\w.:/])")
_DATE = re.compile(r"0000-00-00|00-00-0000")

META_FEATURES: tuple[str, ...] = (
    "links",
    "has_link",
    "link_domains",
    "hidden_links",
    "safe_links",
    "email_in_text",
    "handles",
    "hashtags",
    "phone_numbers",
    "money_amounts",
    *(f"{name}_words" for name in CONCEPTS),
    "disguised",
    "uppercase_ratio",
    "repetition_ratio",
    "length",
    "digit_ratio",
    "no_letters",
    "author_is_url",
    "author_has_email",
    "author_url",
    "honeypot_filled",
    "user_agent_missing",
    "not_a_comment",
)
"""Names of the metadata columns, in order."""

_COLUMN = {name: j for j, name in enumerate(META_FEATURES)}
_CONCEPT_COLUMNS = [_COLUMN[f"{name}_words"] for name in CONCEPTS]
_COMMENT_TYPES = frozenset({"comment", "reply", "forum-post", "message", ""})


def link_hosts(text: str) -> list[str]:
    """Host names of the links in a text, lower-cased, ``www.`` removed, in order."""
    hosts = []
    for url in _URL.findall(text):
        match = _HOST.match(url)
        if match:
            hosts.append(match.group(1).lower().rstrip("."))
    return hosts


def without_links(text: str) -> str:
    """The text with its links (as :func:`link_hosts` finds them) replaced by spaces."""
    return _URL.sub(" ", text) if "." in text else text


def _is_safe(host: str, own: str | None) -> bool:
    """A link to the comment's own site or to a documentation or code host."""
    if own and (host == own or host.endswith("." + own)):
        return True
    parts = host.split(".")
    return any(".".join(parts[i:]) in SAFE_HOSTS for i in range(len(parts) - 1))


def _own_host(permalink: str | None) -> str | None:
    if not permalink:
        return None
    host = (urlsplit(permalink).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host or None


class Prepared:
    """A batch of comments made ready for the features: normalised text, links sorted, the text batch."""

    def __init__(self, comments: Sequence[Comment]) -> None:
        self.comments = comments
        texts, self.disguised = clean_texts([c.content.replace("\x00", " ") if "\x00" in c.content else c.content
                                             for c in comments])
        self.hosts: list[list[str]] = [[] for _ in comments]
        self.safe_links = [0] * len(comments)
        joined = "\x00".join(texts)
        found = [m.start() for m in _MAYBE_LINK.finditer(joined)]
        if found:  # only texts that may hold a link are searched for links
            ends = list(itertools.accumulate(len(text) + 1 for text in texts))
            for i in sorted({bisect.bisect_right(ends, at) for at in found}):
                texts[i] = self._sort_links(i, texts[i], _own_host(comments[i].permalink))
        self.texts = texts
        self._batch: TextBatch | None = None

    def _sort_links(self, i: int, text: str, own: str | None) -> str:
        """Record text ``i``'s link hosts; return it without its safe links."""
        safe = False
        for match in _URL.finditer(text):
            host = _HOST.match(match.group())
            if not host:
                continue
            name = host.group(1).lower().rstrip(".")
            if _is_safe(name, own):
                self.safe_links[i] += 1
                safe = True
            else:
                self.hosts[i].append(name)
        if not safe:
            return text
        return _URL.sub(lambda m: " " if _is_safe(_host_of(m.group()), own) else m.group(), text)

    @property
    def batch(self) -> TextBatch:
        """The normalised texts as a :class:`TextBatch` (what the n-gram hashers read)."""
        if self._batch is None:
            self._batch = TextBatch(self.texts)
        return self._batch


def _host_of(url: str) -> str:
    match = _HOST.match(url)
    return match.group(1).lower().rstrip(".") if match else ""


def prepare(comments: Sequence[Comment]) -> Prepared:
    """Normalise a batch of comments for the features (see :class:`Prepared`)."""
    return Prepared(comments)


def _count_matches(pattern: re.Pattern[str], joined: str, doc: np.ndarray, n: int) -> np.ndarray:
    """How often ``pattern`` occurs in each text of a normalised batch (``doc``: the text of each position)."""
    starts = [m.start() for m in pattern.finditer(joined)]
    if not starts:
        return np.zeros(n)
    return np.bincount(doc[starts], minlength=n).astype(np.float64)


def _handles(joined: str, doc: np.ndarray, n: int) -> np.ndarray:
    """@handles per text, less those that open it (a reply names whom it answers)."""
    handles = _count_matches(_HANDLE, joined, doc, n)
    for match in _LEADING_HANDLES.finditer(joined):
        handles[doc[match.start(1)]] -= match.group(1).count("@")
    return np.maximum(handles, 0.0)


def _phones(joined: str, doc: np.ndarray, n: int) -> np.ndarray:
    """Phone numbers per text: 7 or more digits in groups (one of at least 3), not a date, not in a word or URL."""
    out = np.zeros(n)
    for match in _PHONE.finditer(joined):
        before = joined[match.start() - 1] if match.start() else " "
        number = match.group()
        if before.isalnum() or before in "._:/-":
            continue
        groups = [g for g in re.split(r"[ ()\-]+", number) if g]
        if number.count("0") >= 7 and max(map(len, groups)) >= 3 and not _DATE.search(number):
            out[doc[match.start()]] += 1
    return out


def _comment_row(c: Comment, hosts: list[str], safe: int, text: str) -> tuple[float, ...]:
    """The columns read from one comment's fields and links (see :data:`_ROW_COLUMNS`)."""
    if hosts or safe:
        links: tuple[float, ...] = (math.log1p(len(hosts)), 1.0 if hosts else 0.0, math.log1p(len(set(hosts))),
                                    math.log1p(sum(1 for h in hosts if h in SHORTENERS)), math.log1p(safe))
    else:
        links = _NO_LINKS
    author = c.author
    return (
        *links,
        1.0 if "@" in text and _EMAIL.search(text) else 0.0,
        1.0 if author and ("://" in author or link_hosts(author)) else 0.0,
        1.0 if author and "@" in author and _EMAIL.search(author) else 0.0,
        1.0 if c.author_url else 0.0,
        1.0 if c.honeypot_value and c.honeypot_filled else 0.0,
        1.0 if c.user_ip is not None and not c.user_agent else 0.0,
        0.0 if c.type in _COMMENT_TYPES else 1.0,
    )


_NO_LINKS = (0.0, 0.0, 0.0, 0.0, 0.0)
_ROW_COLUMNS = [_COLUMN[name] for name in (
    "links", "has_link", "link_domains", "hidden_links", "safe_links", "email_in_text", "author_is_url",
    "author_has_email", "author_url", "honeypot_filled", "user_agent_missing", "not_a_comment",
)]


def _text_columns(p: Prepared, out: np.ndarray) -> None:
    """Fill the columns measured on the normalised text: lures, concepts, case, repetition, length, digits."""
    batch, n, col = p.batch, len(p.texts), _COLUMN
    joined, doc = batch.joined, batch.doc
    counts = np.zeros((n, len(_COUNTED)))  # columns that are log(1 + a count), filled in _COUNTED's order
    if "@" in joined:
        counts[:, 0] = _handles(joined, doc, n)
    if "#" in joined:
        counts[:, 1] = _count_matches(_HASHTAG, joined, doc, n)
    if "000" in joined:  # a phone number has 7 digits or more, in groups of which one is at least 3 long
        counts[:, 2] = _phones(joined, doc, n)
    if "0" in joined:  # every sum of money has a digit
        counts[:, 3] = _count_matches(_MONEY, joined, doc, n)
    counts[:, 4:-1] = concept_counts(batch)
    authors = [c.author or "" for c in p.comments]
    if any(authors):  # the author name's words count as the text's: bots put their pitch in the name
        if n <= SMALL_BATCH:
            counts[:, 4:-1] += concept_counts_of_words([_word_pattern().findall(normalize_text(a)) for a in authors])
        else:
            counts[:, 4:-1] += concept_counts(TextBatch(authors))
    counts[:, -1] = p.disguised
    out[:, _COUNTED] = np.log1p(counts)
    if n <= SMALL_BATCH and all(not text or max(text) <= _LAST_BMP for text in p.texts):
        _ratio_columns_few(p, out)
        return
    letters, upper, digits, length = _character_counts(p)
    out[:, col["uppercase_ratio"]] = np.where(letters >= 5, upper / np.maximum(letters, 1), 0.0)
    out[:, col["repetition_ratio"]] = batch.repetition()
    # Length up to 200 characters: past that a comment is not more likely spam for being longer (error
    # logs, detailed answers).
    out[:, col["length"]] = np.log1p(np.minimum(length, _LONG)) / 10.0
    out[:, col["digit_ratio"]] = np.where(letters >= 10, digits / np.maximum(length, 1), 0.0)
    out[:, col["no_letters"]] = (letters == 0) & (length > 0)


def _character_counts(p: Prepared) -> tuple[np.ndarray, ...]:
    """Per text: letters and capital letters (in the BMP) and characters of the cleaned text, and
    digits of the normalised one."""
    n, batch = len(p.texts), p.batch
    raw = _code_array(p.texts)
    where = np.concatenate(([0], np.cumsum(raw == 0)))[:-1]
    letters = np.bincount(where, weights=_classes(raw, _ALPHA), minlength=n + 1)[:n]
    upper = np.bincount(where, weights=_classes(raw, _UPPER), minlength=n + 1)[:n]
    digits = np.bincount(batch.doc, weights=batch.codes == _ZERO, minlength=n + 1)[:n]
    length = np.bincount(where, minlength=n + 1)[:n] - 1.0  # minus the separator
    return letters, upper, digits, length


def _ratio_columns_few(p: Prepared, out: np.ndarray) -> None:
    """The case, repetition, length and digit columns of a text or two (all in the BMP) with str
    methods and plain floats: the values the vectorised path gives, without numpy's cost per call."""
    repetition = p.batch.repetition().tolist()
    col = _COLUMN
    for i, text in enumerate(p.texts):
        letters, upper, length = sum(map(str.isalpha, text)), sum(map(str.isupper, text)), len(text)
        digits = p.batch.text(i).count("0")
        row = out[i]
        row[col["uppercase_ratio"]] = upper / max(letters, 1) if letters >= 5 else 0.0
        row[col["repetition_ratio"]] = repetition[i]
        row[col["length"]] = _LENGTH_COLUMN[min(length, _LONG)]
        row[col["digit_ratio"]] = digits / max(length, 1) if letters >= 10 else 0.0
        row[col["no_letters"]] = 1.0 if letters == 0 and length > 0 else 0.0


_LAST_BMP = "\uffff"
_ZERO = ord("0")
_LONG = 200
_LENGTH_COLUMN = (np.log1p(np.arange(_LONG + 1, dtype=np.float64)) / 10.0).tolist()  # by length, as computed
_COUNTED = [_COLUMN[name] for name in ("handles", "hashtags", "phone_numbers", "money_amounts")] + _CONCEPT_COLUMNS + [
    _COLUMN["disguised"]]


def meta_matrix(comments: Sequence[Comment], prepared: Prepared | None = None) -> np.ndarray:
    """The metadata features (:data:`META_FEATURES`) of comments, one row a comment.

    ``prepared`` is the comments' :class:`Prepared` batch if one was made already.
    """
    n = len(comments)
    out = np.zeros((n, len(META_FEATURES)))
    if not n:
        return out
    p = prepared if prepared is not None else Prepared(comments)
    out[:, _ROW_COLUMNS] = [_comment_row(c, hosts, safe, text)
                            for c, hosts, safe, text in zip(comments, p.hosts, p.safe_links, p.texts, strict=True)]
    _text_columns(p, out)
    return out
