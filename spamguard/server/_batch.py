"""Judge concurrent comment-checks together: one ``check_many`` call for the requests in flight.

A model call has a fixed cost (building the feature arrays, one pass through the model)
that dwarfs the cost of one more comment: the shipped model takes about as long for 16
comments as for 4 one at a time. So requests that arrive while a batch is being judged wait
for the next one, which the first of them runs on its own thread ("flat combining"). A lone
request is judged at once; no request waits on a timer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..comment import Comment
from ..verdict import Verdict

__all__ = ["CheckBatcher"]


class _Slot:
    __slots__ = ("comment", "done", "lead", "verdict", "error")

    def __init__(self, comment: Comment) -> None:
        self.comment = comment
        # A held lock that is released once, to wake the waiting caller: cheaper than an
        # Event (a Condition around a lock), which showed in profiles under load.
        self.done = threading.Lock()
        self.done.acquire()
        self.lead = False
        self.verdict: Verdict | None = None
        self.error: BaseException | None = None


class CheckBatcher:
    """Callable like ``classifier.check``, but concurrent calls share ``check_many`` calls of up to ``max_batch``.

    ``on_batch(n)`` is called after each model call with the number of comments it judged.
    """

    def __init__(
        self,
        check_many: Callable[[list[Comment]], list[Verdict]],
        check: Callable[[Comment], Verdict],
        *,
        max_batch: int = 32,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be 1 or more, got {max_batch!r}")
        self._check_many = check_many
        self._check = check
        self.max_batch = max_batch
        self._on_batch = on_batch
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._running = False
        self.batches = 0
        self.checked = 0

    def __call__(self, comment: Comment) -> Verdict:
        slot = _Slot(comment)
        with self._lock:
            self._queue.append(slot)
            if not self._running:
                self._running = True
                slot.lead = True
        if not slot.lead:
            slot.done.acquire()  # until our verdict is in, or we are made the next leader
        if slot.lead and slot.verdict is None and slot.error is None:
            self._run_batch()
        if slot.error is not None:
            raise slot.error
        assert slot.verdict is not None
        return slot.verdict

    def _run_batch(self) -> None:
        """Judge what is queued (this thread's own comment among it), then pass the lead on."""
        with self._lock:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
        try:
            verdicts = self._check_many([s.comment for s in batch])
            if len(verdicts) != len(batch):
                raise RuntimeError(f"check_many returned {len(verdicts)} verdicts for {len(batch)} comments")
            for s, v in zip(batch, verdicts, strict=True):
                s.verdict = v
        except Exception:  # judge one by one, so one bad comment fails only its own request
            for s in batch:
                try:
                    s.verdict = self._check(s.comment)
                except Exception as exc:
                    s.error = exc
        self.batches += 1
        self.checked += len(batch)
        if self._on_batch is not None:
            self._on_batch(len(batch))
        with self._lock:
            if self._queue:
                nxt = self._queue[0]
                nxt.lead = True
            else:
                nxt = None
                self._running = False
        for s in batch:
            if not s.lead:  # a leader is not waiting: it is the thread running this
                s.done.release()
        if nxt is not None:
            nxt.done.release()  # wakes it as the next leader
