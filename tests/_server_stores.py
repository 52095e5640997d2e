"""The stores `spamguard serve` keeps keys, usage and limits in, for the tests that run on each.

``@both_stores`` runs a test with the ``store_kind`` fixture (``tests/server/conftest.py``) set to
"file" (a keys file, usage in SQLite beside it, limits in the process) and to "postgresql" (a
fresh schema on the test server; skipped, naming the script that starts one, without
``SPAMGUARD_TEST_POSTGRES_URL``). Tests take ``store_location`` (a path or a URL) or ``key_store``.
"""

from __future__ import annotations

import pytest

STORE_KINDS = ["file", "postgresql"]

both_stores = pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
