"""The django-contrib-comments example: its own Django test suite, and the documented one command.

Django's settings are process-wide, so the example runs in a subprocess with its own settings,
a scratch database and no spamguard configuration from the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _webapps import EXAMPLES

MANAGE = EXAMPLES / "django_comments" / "manage.py"


def run_manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip(
        "django_comments",
        reason="the Django example needs django-contrib-comments: pip install -e '.[test]'",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPAMGUARD_", "PYTHON_AKISMET_", "DJANGO_"))}
    env.update(
        DJANGO_COMMENTS_DB=str(tmp_path / "site.sqlite3"),
        SPAMGUARD_FEEDBACK_DB=str(tmp_path / "feedback.sqlite3"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return subprocess.run(  # noqa: S603 - our own interpreter running the example
        [sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_the_django_example_suite_passes(tmp_path: Path) -> None:
    """Ham published, spam held, honeypot caught, notice language, proxies, discard, admin actions."""
    result = run_manage(tmp_path, "test", "blog", "--noinput", "-v", "2")

    assert result.returncode == 0, result.stderr[-4000:]
    assert "Ran 9 tests" in result.stderr and result.stderr.rstrip().splitlines()[-2] == "OK"


@pytest.mark.slow
def test_migrate_sets_up_the_site_from_nothing(tmp_path: Path) -> None:
    """`manage.py migrate` (the README's first half) makes the database with a first entry."""
    result = run_manage(tmp_path, "migrate", "--noinput")

    assert result.returncode == 0, result.stderr
    check = run_manage(tmp_path, "shell", "-c", "from blog.models import Entry; print(Entry.objects.count())")
    assert check.stdout.strip().splitlines()[-1:] == ["1"], check.stderr
