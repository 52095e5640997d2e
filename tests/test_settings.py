"""Settings from the environment: one module reads them, by one rule for each kind of value."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spamguard import AkismetClient, ConfigurationError, FeedbackStore, Guard, LocalModel, Policy, _settings
from spamguard.integrations import TrustedProxies

ROOT = Path(__file__).resolve().parent.parent
KEY = "settings-test-key-1234"
BLOG = "https://blog.example/"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No spamguard variable from the caller's shell leaks into these tests."""
    for name in _settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(("raw", "value"), [
    ("1", True), ("true", True), ("YES", True), (" On ", True),
    ("0", False), ("False", False), ("no", False), ("OFF", False),
])
@pytest.mark.parametrize("variable", [_settings.STRICT, _settings.HOLD_FALLBACK_HAMS])
def test_every_switch_takes_the_same_words(clean_env: pytest.MonkeyPatch, variable: str, raw: str,
                                           value: bool) -> None:
    """1/0, true/false, yes/no and on/off, in any case and with blanks around, for every switch."""
    clean_env.setenv(variable, raw)
    assert _settings.switch(variable) is value


@pytest.mark.parametrize("raw", ["", "   "])
def test_blank_is_not_set(clean_env: pytest.MonkeyPatch, raw: str) -> None:
    """A variable set to nothing (or blanks) is as good as unset: the defaults apply."""
    for name in _settings.VARIABLES:
        clean_env.setenv(name, raw)
    assert (_settings.akismet(), _settings.policy(), _settings.guard(("auto",))) == ({}, {}, {})
    assert Policy.from_env() == Policy()
    assert (_settings.max_content_chars(), _settings.feedback_secret(), _settings.feedback_db()) == (None, None, None)


def test_a_secret_is_taken_exactly_as_given(clean_env: pytest.MonkeyPatch) -> None:
    """Text settings lose their surrounding blanks; a secret keeps them (they are part of the key)."""
    clean_env.setenv(_settings.FEEDBACK_SECRET, " s3cret ")
    clean_env.setenv(_settings.FEEDBACK_DB, " /srv/feedback.sqlite3 ")
    assert (_settings.feedback_secret(), _settings.feedback_db()) == (" s3cret ", "/srv/feedback.sqlite3")


# (variable, a bad value, what reads it): every setting that can be wrong names itself and the value.
BAD: list[tuple[str, str, Callable[[], Any]]] = [
    (_settings.AKISMET_TIMEOUT, "soon", lambda: AkismetClient.from_env(api_key=KEY, blog=BLOG)),
    (_settings.AKISMET_TIMEOUT, "inf", lambda: AkismetClient.from_env(api_key=KEY, blog=BLOG)),
    (_settings.MAX_CONTENT_CHARS, "0", _settings.max_content_chars),
    (_settings.MAX_CONTENT_CHARS, "1e3", _settings.max_content_chars),
    (_settings.GUARD_MODE, "fast", lambda: Guard.from_env(local=None)),
    (_settings.LATENCY_BUDGET, "-1", lambda: Guard.from_env(local=None)),
    (_settings.LATENCY_BUDGET, "nan", lambda: Guard.from_env(local=None)),
    (_settings.STRICT, "maybe", lambda: Guard.from_env(local=None)),
    (_settings.DISCARD_THRESHOLD, "high", Policy.from_env),
    (_settings.HOLD_THRESHOLD, "1.5", Policy.from_env),
    (_settings.HOLD_FALLBACK_HAMS, "sometimes", Policy.from_env),
    (_settings.FEEDBACK_RETENTION_DAYS, "0", lambda: FeedbackStore(":memory:")),
    (_settings.FEEDBACK_RETENTION_DAYS, "forever", lambda: FeedbackStore(":memory:")),
    (_settings.TRUSTED_PROXIES, "proxy.internal", TrustedProxies.from_env),
]


@pytest.mark.parametrize(("variable", "raw", "read"), BAD, ids=[f"{v}={r}" for v, r, _ in BAD])
def test_a_bad_value_names_the_variable_and_the_value(clean_env: pytest.MonkeyPatch, variable: str, raw: str,
                                                      read: Callable[[], Any]) -> None:
    """ConfigurationError, with the variable's name and the value as written."""
    clean_env.setenv(variable, raw)
    with pytest.raises(ConfigurationError) as info:
        read()
    assert variable in str(info.value) and repr(raw) in str(info.value)


@pytest.mark.parametrize("raw", ["off", "None", " OFF "])
def test_off_switches_off_what_can_be_switched_off(clean_env: pytest.MonkeyPatch, raw: str) -> None:
    """Thresholds, the latency budget and the retention take 'off' (or 'none'): the argument None."""
    for name in (_settings.DISCARD_THRESHOLD, _settings.HOLD_THRESHOLD, _settings.LATENCY_BUDGET,
                 _settings.FEEDBACK_RETENTION_DAYS):
        clean_env.setenv(name, raw)
    assert Policy.from_env() == Policy(discard_threshold=None, hold_threshold=None)
    assert _settings.guard(("auto",)) == {"latency_budget": None}
    assert _settings.feedback_retention_days() is None


def test_off_is_refused_where_it_means_nothing(clean_env: pytest.MonkeyPatch) -> None:
    """A timeout cannot be switched off (it is what keeps a hung service from hanging you)."""
    clean_env.setenv(_settings.AKISMET_TIMEOUT, "off")
    with pytest.raises(ConfigurationError, match="SPAMGUARD_AKISMET_TIMEOUT must be a positive number of seconds"):
        AkismetClient.from_env(api_key=KEY, blog=BLOG)


def test_the_environment_is_read_when_asked(clean_env: pytest.MonkeyPatch) -> None:
    """Each from_env sees the environment as it is then; arguments still win."""
    clean_env.setenv(_settings.DISCARD_THRESHOLD, "0.9")
    assert Policy.from_env().discard_threshold == 0.9
    clean_env.setenv(_settings.DISCARD_THRESHOLD, "0.95")
    assert Policy.from_env().discard_threshold == 0.95
    assert Policy.from_env(discard_threshold=0.99).discard_threshold == 0.99


def test_the_model_setting_names_the_model_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SPAMGUARD_MODEL is where LocalModel.load looks first."""
    clean_env.setenv(_settings.MODEL, str(tmp_path / "missing.joblib"))
    with pytest.raises(ConfigurationError, match="missing.joblib"):
        LocalModel.load()


def test_only_the_settings_module_reads_the_environment() -> None:
    """No other module of the package reads os.environ: arguments everywhere, settings in one place."""
    readers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "spamguard").rglob("*.py")
        if path.name != "_settings.py" and re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8"))
    )
    assert readers == []


def test_the_readme_lists_every_variable() -> None:
    """The README's configuration table names every variable spamguard reads, and no other."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`((?:SPAMGUARD|PYTHON_AKISMET)_[A-Z_]+)`", section))
    assert listed == set(_settings.VARIABLES)


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://blog:hunter2@db.example:5432/blog", "postgresql://blog:***@db.example:5432/blog"),
    ("postgresql://blog:hun@ter2@db.example/blog", "postgresql://blog:***@db.example/blog"),  # a stray '@'
    ("postgresql://blog:h%40nter2@db.example/blog?sslmode=require", "postgresql://blog:***@db.example/blog?sslmode=require"),
    ("postgresql:///blog?host=/run/postgresql&password=hunter2&user=blog",
     "postgresql:///blog?host=/run/postgresql&password=***&user=blog"),
    ("postgresql://blog@db.example/blog", "postgresql://blog@db.example/blog"),
    ("postgresql://db.example:5432/blog", "postgresql://db.example:5432/blog"),
])
def test_masked_url_hides_the_password_wherever_a_url_carries_it(url: str, shown: str) -> None:
    """A database URL's password shows as *** (in the user part, with a stray '@', or as a query parameter);
    a URL without one is unchanged."""
    assert _settings.masked_url(url) == shown


def test_postgres_locations_are_told_apart_and_a_missing_driver_is_explained_without_the_password():
    """One rule for every store that may live in PostgreSQL (feedback, keys, usage)."""
    assert _settings.is_postgres_url("postgresql://blog:pw@db/blog")
    assert _settings.is_postgres_url("POSTGRES://db/blog")
    assert not _settings.is_postgres_url("sqlite:///feedback.sqlite3")
    assert not _settings.is_postgres_url("postgresql.sqlite3")
    assert not _settings.is_postgres_url(None)
    message = _settings.postgres_unavailable("a PostgreSQL store", "postgresql://blog:s3cret@db/blog",
                                             ImportError("no module named 'psycopg'"))
    assert message.startswith("a PostgreSQL store (postgresql://blog:***@db/blog) needs psycopg 3")
    assert "s3cret" not in message and "pip install 'spamguard[postgres]'" in message
