"""Shared helpers for the local-model tests: small synthetic labelled data and where the real data lives."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from spamguard import Comment

REPO = Path(__file__).resolve().parent.parent

SPAM_TEMPLATES = [
    "check out my channel {url} and subscribe please",
    "FREE entry to win a prize! text WIN to 8{num} now",
    "make money fast from home, visit {url}",
    "Hey guys check out my new video {url} please like and subscribe!!!",
    "cheap pills no prescription {url} {url}",
    "URGENT! You have won a {num} cash prize, call 09{num} now",
    "Зарабатывай от {num} рублей в день, пиши в личку {url}",
    "Kostenlos Geld verdienen, jetzt klicken {url}",
]
HAM_TEMPLATES = [
    "I love this song, it never gets old",
    "this video brings back so many memories of {year}",
    "ok see you at the station at {num}",
    "great post, thanks for explaining the details so clearly",
    "who is still listening in {year}?",
    "sorry I missed your call, can we talk later",
    "Спасибо за статью, очень полезно",
    "Danke für den Beitrag, sehr hilfreich",
]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        url=f"http://{rng.choice(['bit.ly', 'cheap-deals', 'win-now', 'tube'])}{rng.randint(1, 99)}.example/x",
        num=rng.randint(100, 99999),
        year=rng.randint(2009, 2024),
    )


def synthetic(n: int = 120, seed: int = 0) -> tuple[list[Comment], list[bool]]:
    """``n`` comments, about half spam, from templates in English, German and Russian."""
    rng = random.Random(seed)
    comments, labels = [], []
    for i in range(n):
        spam = i % 2 == 0
        template = rng.choice(SPAM_TEMPLATES if spam else HAM_TEMPLATES)
        comments.append(Comment(content=_fill(template, rng), author=f"user{rng.randint(1, 500)}"))
        labels.append(spam)
    return comments, labels


def data_dir() -> Path:
    """The shared labelled data folder, or skip the test when it is absent."""
    path = Path(os.environ.get("SPAMGUARD_DATA_DIR") or REPO.parent / "shared" / "data")
    if not (path / "youtube-spam").is_dir():
        pytest.skip(f"the shared data folder {path} is absent (set SPAMGUARD_DATA_DIR to use another)")
    return path
