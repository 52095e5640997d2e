"""Settings of the django-contrib-comments example: a one-app blog whose comments spamguard moderates.

Environment: ``DJANGO_COMMENTS_DB`` (the SQLite file; default in the temp folder),
``DJANGO_SECRET_KEY``, ``DJANGO_DEBUG=0`` (on by default: this is a local demo); spamguard's
own ``SPAMGUARD_*`` settings (an Akismet key, ``SPAMGUARD_TRUSTED_PROXIES``) apply as everywhere.
"""

import os
import tempfile
from pathlib import Path

from spamguard.akismet import akismet_configured

BASE_DIR = Path(__file__).resolve().parent.parent

# An example, run on 127.0.0.1: a fixed development key unless one is given.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret-change-me")  # noqa: S105
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"  # a local demo: on (admin styles load) unless DJANGO_DEBUG=0
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django_comments",
    "spamguard.integrations.django",  # {% load spamguard_tags %}{% spamguard_notice %}
    "blog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "blogsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = "blogsite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_COMMENTS_DB")
        or os.path.join(tempfile.gettempdir(), "spamguard-django-comments.sqlite3"),
    }
}

SITE_ID = 1
LANGUAGE_CODE = "en"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The notice names the service the Guard really uses: Akismet when a key is set, else this server.
SPAMGUARD_NOTICE = {"service": "akismet" if akismet_configured() else "local"}

LOGGING = {"version": 1, "disable_existing_loggers": False}
