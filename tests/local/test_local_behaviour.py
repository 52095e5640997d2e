"""What the shipped default model does with hand-written comments: behaviour tests in the CheckList style.

Ribeiro et al., "Beyond Accuracy: Behavioral Testing of NLP Models with CheckList" (ACL 2020):
invariance tests (a change that must not flip a verdict), directional tests (a change that
must move the score one way) and fixed cases. Every text here was written for these tests, in
English and German; none comes from a data set. Each fixed case stands for one pattern of
issue 12's list of what went wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from spamguard import Comment, LocalModel

SQL_QUESTION = "Could you share the code for the SQL joins example? The link seems broken."

HAMS = [
    SQL_QUESTION,
    "Thanks, the second example fixed my build.",
    "Great article, I learned a lot about how database indexes work.",
    "Nice write-up. I would add that the GIL matters much less for I/O-bound code.",
    "I tried this on my Raspberry Pi and it works, only the second step took a while.",
    "Danke für die Erklärung, das Beispiel mit den Joins hat mir sehr geholfen.",
    "Ich habe das Tutorial ausprobiert, aber bei Schritt 3 bekomme ich einen Fehler. Hat jemand eine Idee?",
    "Schöner Beitrag! Die Grafik zur Speicherverwaltung ist besonders verständlich.",
]

SHORTENED = "http://bit.ly/3xYz9Ab"


@pytest.fixture(scope="module")
def model() -> LocalModel:
    return LocalModel.load()


def _score(model: LocalModel, comment: Comment | str) -> float:
    return model.check(comment).score  # type: ignore[return-value]


# --- invariance: a ham stays ham -----------------------------------------------------------


@pytest.mark.parametrize("text", HAMS)
def test_base_hams_are_ham(model: LocalModel, text: str) -> None:
    """The hams the invariance tests start from are ham to begin with."""
    assert not model.check(text).spam


@pytest.mark.parametrize("text", HAMS)
def test_adding_an_ip_without_a_user_agent_does_not_flip_a_ham(model: LocalModel, text: str) -> None:
    """A visitor IP with no user agent (a signal no training row shows) is a bounded prior, not a verdict."""
    assert not model.check(Comment(content=text, user_ip="203.0.113.9")).spam


@pytest.mark.parametrize("text", HAMS)
def test_removing_the_user_agent_does_not_flip_a_ham(model: LocalModel, text: str) -> None:
    """The same comment with and without its browser's user agent: ham both times."""
    with_agent = Comment(content=text, user_ip="203.0.113.9", user_agent="Mozilla/5.0 (X11; Linux x86_64)")
    assert not model.check(with_agent).spam
    assert not model.check(with_agent.replace(user_agent=None)).spam


@pytest.mark.parametrize("text", HAMS)
@pytest.mark.parametrize("link", [
    "https://docs.python.org/3/library/sqlite3.html",
    "https://github.com/psf/requests/issues/6000",
    "https://stackoverflow.com/questions/38549/what-is-the-difference-between-inner-join-and-outer-join",
    "https://de.wikipedia.org/wiki/Join_(SQL)",
])
def test_adding_a_documentation_link_does_not_flip_a_ham(model: LocalModel, text: str, link: str) -> None:
    """A link to documentation or a code host is no evidence of spam."""
    assert not model.check(f"{text} See {link}").spam


@pytest.mark.parametrize("text", HAMS)
def test_a_link_to_the_site_itself_does_not_flip_a_ham(model: LocalModel, text: str) -> None:
    """A link to the comment's own site (the permalink's host) is no evidence of spam."""
    comment = Comment(content=f"{text} I wrote more in https://blog.example/posts/part-2",
                      permalink="https://blog.example/posts/part-1")
    assert not model.check(comment).spam


@pytest.mark.parametrize("text", HAMS)
@pytest.mark.parametrize(("name", "other"), [("Alice Smith", "Bob Jones"), ("Jürgen Müller", "Anna Schmidt"),
                                             ("dave", "Priya Raman")])
def test_changing_the_author_to_another_ordinary_name_does_not_flip_a_ham(
    model: LocalModel, text: str, name: str, other: str,
) -> None:
    """An ordinary author name is no evidence either way."""
    assert not model.check(Comment(content=text, author=name)).spam
    assert not model.check(Comment(content=text, author=other)).spam


def test_a_wordpress_export_without_user_agents_is_not_half_spam(model: LocalModel) -> None:
    """Comments as a WordPress export gives them (IP, author, e-mail and site, no user agent) stay ham."""
    comments = [
        Comment(content=text, author=author, author_email=f"{author.split()[0].lower()}@example.org",
                author_url=f"https://{author.split()[0].lower()}.example.org", user_ip=f"198.51.100.{i + 10}")
        for i, (text, author) in enumerate(zip(HAMS, ["Alice Smith", "Bob Jones", "Carla Diaz", "Dan Wu",
                                                      "Eva Berg", "Jürgen Müller", "Anna Schmidt", "Lena Vogel"],
                                               strict=True))
    ]
    assert [v.spam for v in model.check_many(comments)] == [False] * len(comments)


# --- directional: a lure raises the score ----------------------------------------------------


@pytest.mark.parametrize("text", HAMS)
def test_a_shortener_link_raises_the_score(model: LocalModel, text: str) -> None:
    """A link whose target is hidden behind a URL shortener is evidence of spam."""
    assert _score(model, f"{text} {SHORTENED}") > _score(model, text)


@pytest.mark.parametrize("text", HAMS)
@pytest.mark.parametrize("lure", ["contact @easy_profit_amy on WhatsApp", "schreib mir auf WhatsApp: @gewinn_max"])
def test_a_contact_lure_raises_the_score(model: LocalModel, text: str, lure: str) -> None:
    """"Contact @someone on WhatsApp" is a lure, in any language."""
    assert _score(model, f"{text} {lure}") > _score(model, text)


def test_pill_names_raise_the_score(model: LocalModel) -> None:
    """The issue's "Buy cheap viagra now" scores well above the same words about shoes.

    (On its own it stays below the cut-off: four words with no link, and short comments are
    ham in all the training sources; see the model card's limits.)
    """
    assert _score(model, "Buy cheap viagra now") > 3 * _score(model, "Buy cheap shoes now")


def test_a_pitch_in_the_author_name_raises_the_score(model: LocalModel) -> None:
    """Bots put the pitch in the name: the author name's words are read."""
    text = "Nice post, thanks for sharing"
    assert _score(model, Comment(content=text, author="Buy Cheap Followers Fast")) > _score(
        model, Comment(content=text, author="Alice Smith"))


# --- fixed cases: one or more for each pattern of issue 12 ------------------------------------

SPAMS = [
    # spam without a link: lures to contact a handle, recovery-scam testimonials, support numbers, pills
    "Buy cheap viagra now, no prescription needed",
    "Viagra und Cialis billig kaufen, ohne Rezept bestellen",
    "Contact @crypto_mentor_jane on Telegram to start earning $5,000 every week",
    "Kontaktiere @anlage_expertin auf WhatsApp und verdiene 3.000 € pro Woche von zuhause",
    "I lost $40,000 to a fake broker until I contacted @recovery_expert_mike, he got all my funds back. "
    "Highly recommend him!",
    "Ich habe 40.000 € an einen falschen Broker verloren, bis ich @geld_zurueck_hilfe kontaktiert habe. "
    "Seriös und schnell, sehr zu empfehlen!",
    "HP printer support number +1-888-555-0199, call now for instant help, toll free 24/7",
    "Drucker Support Hotline: rufen Sie jetzt kostenlos an unter 0800 123 4567, rund um die Uhr",
    "Make money from home, earn $500 a day, message me on WhatsApp #makemoney #crypto",
    # disguised links and words
    "Visit ｗｗｗ.cheap-pills.ｃom for the best prices on meds",
    "best deals at cheappills DOT com, order today",
    "check my video youtube. com/watch?v=abc123 and subscribe",
    "♥♥♥CheapFollowers.comI♥♥♥ get 1000 followers now",
    "S u b s c r i b e to my channel for free gift cards",
    "Frее bitсoin giveaway for everyone, claim your reward now",  # Cyrillic е and с among Latin letters
    "Gratis Bitcoin für alle: jetzt auf gewinn-sofort DOT com registrieren",
]


@pytest.mark.parametrize("text", SPAMS)
def test_spam_patterns_are_spam(model: LocalModel, text: str) -> None:
    """Each pattern the issue names is caught, with or without a link, disguised or not, English or German."""
    assert model.check(text).spam


NUMBERS_AND_TECHNICAL = [
    "14", "911", "10:40", "100%", "3.14", "+1",
    'Traceback (most recent call last):\n  File "/usr/lib/python3.11/site-packages/requests/api.py", line 59, '
    "in request\n    return session.request(method=method, url=url, **kwargs)\nrequests.exceptions.ConnectionError: "
    "HTTPConnectionPool(host='10.0.0.12', port=8080): Max retries exceeded with url: /api/v1/items\n"
    "I am on Python 3.11.4, requests 2.31.0, Ubuntu 22.04. Any idea?",
    "After upgrading from 4.2.1 to 4.2.3 the server at 192.168.1.20 no longer answers on port 5432; downgrading "
    "fixed it. PostgreSQL 15.4, psycopg 3.1.12, kernel 6.1.0-18-amd64.",
    "Nach dem Update auf Version 2.4.1 bekomme ich auf 10.0.0.5:8443 nur noch den Fehler 502. Mit 2.3.9 lief alles.",
]


@pytest.mark.parametrize("text", NUMBERS_AND_TECHNICAL)
def test_numbers_only_and_long_technical_comments_are_ham(model: LocalModel, text: str) -> None:
    """Comments that are only a number or a time, and long ones full of versions, addresses and logs, are ham."""
    assert not model.check(text).spam


def test_the_sql_question_with_an_ip_stays_ham_on_the_command_line() -> None:
    """The issue's own example: `spamguard check --ip 203.0.113.9 "Could you share the code ..."` is ham."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPAMGUARD_", "PYTHON_AKISMET_"))}
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "spamguard", "check", "--ip", "203.0.113.9", SQL_QUESTION],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert (result.returncode, result.stdout.split()[:2]) == (0, ["ham", "source=local"]), result.stderr
