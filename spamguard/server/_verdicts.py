"""What the service answered recently, so that a later report can say whether the answer was wrong.

The WordPress plugin sends submit-spam and submit-ham without the earlier answer
(``comment_check_response``), so the service remembers its own: for each comment-check, a
keyed hash of (key, site, visitor address, text) and whether it said spam. A report for the
same comment then counts as a missed spam (submit-spam after ``false``) or a false positive
(submit-ham after ``true``), and is recorded in the feedback store with that answer.

Only a 16-byte keyed hash (the key a secret of the process) and one bit are kept per check,
in memory, for the last :data:`DEFAULT_SIZE` checks: nothing of the comment can be read back,
and a restart forgets them all.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict

__all__ = ["RecentVerdicts", "DEFAULT_SIZE"]

DEFAULT_SIZE = 50_000
"""Checks remembered (about 8 MB)."""


class RecentVerdicts:
    """The answers to the last ``size`` comment-checks, by a keyed hash of who sent what."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._answers: OrderedDict[bytes, bool] = OrderedDict()

    def _fingerprint(self, key_id: str, site: str, user_ip: str | None, content: str) -> bytes:
        h = hashlib.blake2b(key=self._secret, digest_size=16)
        for part in (key_id, site.rstrip("/").lower(), user_ip or "", content):
            data = part.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)
        return h.digest()

    def remember(self, key_id: str, site: str, user_ip: str | None, content: str, spam: bool) -> None:
        """Keep the answer to one comment-check."""
        tag = self._fingerprint(key_id, site, user_ip, content)
        with self._lock:
            self._answers[tag] = spam
            self._answers.move_to_end(tag)
            if len(self._answers) > self.size:
                self._answers.popitem(last=False)

    def recall(self, key_id: str, site: str, user_ip: str | None, content: str) -> bool | None:
        """The last answer for this comment (True: spam), or None when it is not remembered."""
        tag = self._fingerprint(key_id, site, user_ip, content)
        with self._lock:
            return self._answers.get(tag)
