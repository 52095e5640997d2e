"""The feedback store: moderators' spam/ham decisions kept in SQLite, for retraining.

The logic lives once in ``_store.py`` (:class:`FeedbackStore`: pseudonymisation, rows, export),
the schema versions and migrations in ``_schema.py``, the personal-data rules in
``_personal.py``, and the connections and SQL dialect in a backend (``_backend.py`` says what
one must do; ``_sqlite.py`` is the one there is).

A :class:`FeedbackStore` is one SQLite file (standard library ``sqlite3``) that several web
worker processes and their threads may write to at once: WAL journal, a busy timeout, one
connection per thread and short ``BEGIN IMMEDIATE`` write transactions. The schema carries a
version (``PRAGMA user_version``) and older files are migrated when opened. A file that is not
a feedback store (another application's database, a binary file, a directory) is refused with
:class:`~spamguard.FeedbackStoreError` and left untouched.

Personal data. Unless ``pseudonymise=False``, no IP or e-mail address is kept in clear: a
comment's ``author_email`` and ``user_ip`` are stored as keyed hashes (HMAC-SHA256); headers
in ``extra`` whose only job is to carry an address or credentials (``X-Forwarded-For``,
``X-Client-IP``, ``Forwarded``, cookies...) are dropped; and every other string kept (the URLs,
the user agent, the remaining headers and their names, the honeypot...) is scanned for IPv4,
IPv6 and e-mail addresses (``mailto:``, ``?email=``, ``%40``...), each replaced by a stand-in
made from the same keyed hash: ``<16 hex>@pseudonymised.invalid`` or
``ip-<16 hex>.pseudonymised.invalid``. A field that no longer fits its limits once replaced is
dropped. The comment text and the author's name are kept as written: they are what the model
learns from. Exports (:meth:`FeedbackStore.export_jsonl`, :meth:`FeedbackStore.records`) of a
pseudonymising store apply the same rules to every row, including rows written by an older
spamguard or with ``pseudonymise=False``.

The key comes from ``secret=``, else ``SPAMGUARD_FEEDBACK_SECRET``, else a random key the store
makes once and keeps in its own ``settings`` table. The trade-off: a key kept in the file needs
no setup and still lets ``erase(email=...)`` find a person's rows, but whoever holds the file
holds the key and could test guesses (the IPv4 space is small); a key kept outside (the
environment variable, a secrets manager) means the file alone reveals nothing, but the key
must stay the same for the life of the file or erasure stops matching old rows (the store
refuses to open with a different key). :meth:`FeedbackStore.erase` deletes a person's rows,
overwrites them (SQLite's ``secure_delete``) and checkpoints the write-ahead log, or raises
:class:`~spamguard.FeedbackBusyError` when a reader keeps the text on disk.
``retention_days`` (or ``SPAMGUARD_FEEDBACK_RETENTION_DAYS``) is the age beyond which
:meth:`FeedbackStore.purge` deletes rows when called without an age; run it from cron
(``spamguard feedback purge``).
"""

from ._personal import comment_to_dict
from ._schema import SCHEMA_VERSION
from ._store import FeedbackStore, default_feedback_path, default_feedback_store

__all__ = ["FeedbackStore", "default_feedback_path", "default_feedback_store", "SCHEMA_VERSION", "comment_to_dict"]
