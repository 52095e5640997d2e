"""The feedback store: moderators' spam/ham decisions, kept for retraining.

A :class:`FeedbackStore` lives in an SQLite file (the embedded default, standard library
``sqlite3``) or in a PostgreSQL database (``postgresql://`` URL, ``psycopg`` 3 and its pool,
the ``spamguard[postgres]`` extra), chosen by where you point it::

    FeedbackStore("/var/lib/blog/feedback.sqlite3")          # or "sqlite:////var/lib/blog/feedback.sqlite3"
    FeedbackStore("postgresql://blog:PASSWORD@db.internal/blog")
    # or SPAMGUARD_FEEDBACK_DB=postgresql://... and FeedbackStore()

Both behave the same: one logic (``_store.py``) over two small backends (``_sqlite.py``,
``_postgres.py``) that hold the connections and the SQL dialect. Many web worker processes
and their threads may write at once (SQLite: WAL, a busy timeout, a connection per thread;
PostgreSQL: a pool of 1 to 10 connections per process, shared by every host that points at the
database). The schema carries a version (SQLite: ``PRAGMA user_version``; PostgreSQL: a row of
the store's settings table) and older stores are migrated when opened, by the same code. A
location that is not a feedback store (another application's SQLite database, a binary file, a
directory, PostgreSQL tables with the store's names that are not one) is refused with
:class:`~spamguard.FeedbackStoreError` and left untouched. In PostgreSQL the tables are
``spamguard_feedback`` and ``spamguard_feedback_settings`` in the connection's current schema
(the first of its ``search_path``; give the store a schema of its own with
``?options=-csearch_path%3Dspamguard`` in the URL); the password in a URL never appears in a
repr, a log line or an error (:attr:`FeedbackStore.location` shows it as ``***``).

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
makes once and keeps in its own settings table. The trade-off: a key kept in the store needs
no setup and still lets ``erase(email=...)`` find a person's rows, but whoever can read the
store (the file; in PostgreSQL, any role that may read the settings table) holds the key and
could test guesses (the IPv4 space is small); a key kept outside (the environment variable, a
secrets manager) means the store alone reveals nothing, but the key must stay the same for
the life of the store or erasure stops matching old rows (the store refuses to open with a
different key).

:meth:`FeedbackStore.erase` deletes a person's rows and then what the database keeps of them.
SQLite: the rows are overwritten (``secure_delete``) and the write-ahead log checkpointed and
truncated, so the text is gone from the file and the log. PostgreSQL has no such switch and no
WAL file to scrub: a deleted row stays in the table as a dead row version until ``VACUUM``
prunes it, and ``VACUUM`` may not prune it while a transaction older than the delete may still
read it. So erase() waits until no such transaction is left (nor a replication slot or a
prepared transaction holding one back), then runs ``VACUUM`` on the table. What PostgreSQL
still holds afterwards, out of any query's reach: the bytes of pruned rows in the free space of
the table's pages until new rows overwrite them (``VACUUM`` compacts a page, it does not zero
it), and the write-ahead log (``pg_wal``, until its segments are recycled after the next
checkpoints; and whatever was copied from it: WAL archives, replicas, backups). Encrypt the
disk, and keep archives and backups no longer than the retention period. Both backends raise
:class:`~spamguard.FeedbackBusyError` when such a reader outlasts the store's ``timeout``
(SQLite: an open read blocks the checkpoint); erasing again once it finishes completes the
job. ``retention_days`` (or
``SPAMGUARD_FEEDBACK_RETENTION_DAYS``) is the age beyond which :meth:`FeedbackStore.purge`
deletes rows when called without an age; run it from cron (``spamguard feedback purge``).
"""

from ._personal import comment_to_dict
from ._schema import SCHEMA_VERSION
from ._store import FeedbackStore, default_feedback_path, default_feedback_store

__all__ = ["FeedbackStore", "default_feedback_path", "default_feedback_store", "SCHEMA_VERSION", "comment_to_dict"]
