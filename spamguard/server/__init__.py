"""An Akismet-compatible web service backed by the local model: ``spamguard serve``.

Sites point any Akismet client at it by changing only the server address; nothing about
their commenters leaves the machine. :func:`make_app` builds the WSGI application (PEP 3333,
so it runs under any WSGI server); :class:`KeyStore` holds the API keys it accepts.

A package rather than one module, so that each part reads in one sitting: the endpoints and
the one place errors become answers (``_app``), request parsing (``_form``), keys
(``_keys``; where they are kept: ``_keys_file``, the default, or ``_postgres``, shared by
several servers), usage counts (``_usage``),
recent answers for reports (``_verdicts``), limits (``_limits``), the request log
(``_access``), metrics (``_metrics``), and how the model is asked (``_model``, ``_batch``).
What the protocol says (paths, answers, headers, test values, key-sites) comes from
:mod:`spamguard.akismet.protocol`, which the client speaks too; what a verdict means (spam,
discard) from :class:`spamguard.Policy`.

Example::

    import sys
    from wsgiref.simple_server import make_server
    from spamguard.server import KeyStore, make_app

    app = make_app(keys=KeyStore("keys.json"), feedback="feedback.sqlite", access_log=sys.stderr)
    make_server("127.0.0.1", 8080, app).serve_forever()
"""

from __future__ import annotations

from ._access import AccessLog
from ._app import (
    DEFAULT_DISCARD_THRESHOLD,
    DEFAULT_KEY_FAILURES,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_RATE_LIMIT,
    THANKS,
    AkismetApp,
    FeedbackRecorder,
    make_app,
)
from ._keys import DEFAULT_KEY_LENGTH, MAX_KEY_LENGTH, MIN_KEY_LENGTH, ApiKey, KeyStore, normalize_site
from ._metrics import Metrics
from ._usage import UsageStore, current_month

__all__ = [
    "AccessLog",
    "AkismetApp",
    "ApiKey",
    "DEFAULT_DISCARD_THRESHOLD",
    "DEFAULT_KEY_FAILURES",
    "DEFAULT_KEY_LENGTH",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_RATE_LIMIT",
    "FeedbackRecorder",
    "KeyStore",
    "MAX_KEY_LENGTH",
    "MIN_KEY_LENGTH",
    "Metrics",
    "THANKS",
    "UsageStore",
    "current_month",
    "make_app",
    "normalize_site",
]
