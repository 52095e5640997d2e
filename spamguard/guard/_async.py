"""The Guard's asyncio path: :meth:`Guard.acheck` and ``areport_*`` awaiting an async remote (``aremote``).

The decisions are the Guard's own and are not repeated here: the fallback and its reasons
(``_fallback``, ``_remote_failed``), the circuit breaker, how remote and local verdicts merge
(``_merge``), the shadow comparison and the policy. This module holds only what awaiting
changes:

* the latency budget is ``asyncio.timeout`` (``wait_for`` before Python 3.11), which cancels
  the remote call in time (the blocking path stops waiting for a worker thread instead);
* a caller cancelled while its call was the circuit's half-open probe (a visitor who went
  away) frees the probe slot, so the circuit is not left waiting for a report that never comes;
* the local model runs inline on the event loop, and the checks waiting for it in the same
  turn of the loop share one ``check_many`` call (:class:`LocalBatch`): one comment costs what
  ``check`` costs, without a hand-off to a thread; 200 at once take one batch (about 20 ms of
  the loop) instead of 200 calls (about 140 ms inline, 90 ms in worker threads; measured by
  ``benchmarks/async_burst.py``);
* a remote shadow (``shadow_primary="local"``) is a task, stopped by :meth:`Guard.aclose`;
* the feedback store (SQLite) is written in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from ..comment import Comment
from ..verdict import Verdict

if TYPE_CHECKING:
    from ._guard import Guard

__all__ = ["AsyncPath", "LocalBatch"]

log = logging.getLogger("spamguard.guard")


async def _within(seconds: float, call: Coroutine[Any, Any, Verdict]) -> Verdict:
    """``call``'s result, or ``asyncio.TimeoutError`` after ``seconds`` (the call is cancelled)."""
    if sys.version_info >= (3, 11):  # a deadline on this task, without a task of its own
        async with asyncio.timeout(seconds):
            return await call
    return await asyncio.wait_for(call, seconds)


class LocalBatch:
    """The Guard's local model for coroutines: the checks asked for in one turn of an event loop are
    judged together, in one ``check_many`` call at the start of the next turn, on the loop.

    A lone check waits one turn (microseconds); a burst shares a batch, which the model scores
    many times faster than one by one. A failing batch is retried comment by comment
    (``Guard._ask_local``, which logs and counts failures). Safe with several loops: each has
    its own pending batch.
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self._pending: dict[asyncio.AbstractEventLoop, list[tuple[Comment, asyncio.Future[Verdict | None]]]] = {}

    async def check(self, comment: Comment) -> Verdict | None:
        """The local verdict, or None when there is no local model or it failed (as ``_ask_local``)."""
        if self.guard.local is None:
            return None
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Verdict | None] = loop.create_future()
        pending = self._pending.setdefault(loop, [])
        pending.append((comment, answer))
        if len(pending) == 1:
            loop.call_soon(self._judge, loop)
        return await answer

    def _judge(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = [(c, answer) for c, answer in self._pending.pop(loop, []) if not answer.done()]
        if not batch:
            return
        guard = self.guard
        assert guard.local is not None
        verdicts: list[Verdict | None]
        try:
            verdicts = list(guard.local.check_many([c for c, _ in batch]))
            if len(verdicts) != len(batch):
                raise ValueError(f"check_many gave {len(verdicts)} verdicts for {len(batch)} comments")
        except Exception:
            log.exception("the local model failed on a batch of %d; judging them one by one", len(batch))
            verdicts = [guard._ask_local(c) for c, _ in batch]
        for (_, answer), verdict in zip(batch, verdicts, strict=True):
            if not answer.done():  # its caller may have gone away meanwhile
                answer.set_result(verdict)


class AsyncPath:
    """The asyncio half of one :class:`Guard` (it keeps the Guard's background shadow tasks)."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.local = LocalBatch(guard)
        self.shadows: set[asyncio.Task[None]] = set()

    async def decide(self, comment: Comment) -> Verdict:
        """The verdict before the policy, as ``Guard._decide`` gives it on the blocking path."""
        guard = self.guard
        started = time.perf_counter()
        if guard.mode == "local-only":
            verdict = await self.local.check(comment)
            return verdict if verdict is not None else guard._fallback(comment, "local-error")
        if guard.mode == "shadow" and guard.shadow_primary == "local":
            return await self._shadow_local_primary(comment)
        if guard.mode == "remote-first":
            remote, reason = await self._ask_remote(comment, started)
            local = await self.local.check(comment) if remote is None else None
        else:  # both, shadow: the local model while the remote works
            remote_call = asyncio.ensure_future(self._ask_remote(comment, started))
            try:
                local = await self.local.check(comment)
            except BaseException:  # cancelled: the remote call goes too
                remote_call.cancel()
                raise
            remote, reason = await remote_call
        verdict = guard._merge(comment, remote, reason, local)
        if remote is not None and guard._records_remote():
            await asyncio.to_thread(guard._record_remote, comment, remote)
        return verdict

    async def _ask_remote(self, comment: Comment, started: float) -> tuple[Verdict | None, str | None]:
        """Await the remote within the budget; (verdict, None) or (None, the fallback reason)."""
        guard = self.guard
        assert guard.aremote is not None
        if not guard.breaker.allow():
            return None, "circuit-open"
        try:
            if guard.latency_budget is None:
                verdict = await guard.aremote.check(comment)
            else:
                try:
                    verdict = await _within(guard._budget_left(started), guard.aremote.check(comment))
                except asyncio.TimeoutError:
                    guard.breaker.failure("timeout")
                    return None, "timeout"
        except asyncio.CancelledError:  # the caller went away: this says nothing about the remote's health
            guard.breaker.release()
            raise
        except BaseException as exc:
            return None, guard._remote_failed(exc)
        guard._remote_answered()
        return verdict, None

    async def _shadow_local_primary(self, comment: Comment) -> Verdict:
        guard = self.guard
        local = await self.local.check(comment)
        if guard.breaker.allow():  # the remote shadow finishes in the background
            task = asyncio.get_running_loop().create_task(self._shadow(comment, local))
            self.shadows.add(task)
            task.add_done_callback(self._shadow_done)
        return local if local is not None else guard._fallback(comment, "local-error")

    async def _shadow(self, comment: Comment, local: Verdict | None) -> None:
        guard = self.guard
        assert guard.aremote is not None
        try:
            remote = await guard.aremote.check(comment)
        except Exception as exc:
            with contextlib.suppress(Exception):  # strict mode: nobody to raise to; it was logged
                guard._remote_failed(exc)
            return
        guard._remote_answered()
        if local is not None:
            guard._compare(primary=local, shadow=remote)

    def _shadow_done(self, task: asyncio.Task[None]) -> None:
        self.shadows.discard(task)
        if task.cancelled():  # aclose(), or a loop shutting down: free the probe slot it may hold
            self.guard.breaker.release()

    async def report(self, comment: Comment, spam: bool, verdict: Verdict | None) -> None:
        """``Guard._report`` awaited: the remote, the local model, then the feedback store (in a thread)."""
        guard = self.guard
        if guard.aremote is None:
            await asyncio.to_thread(guard._report, comment, spam, verdict)
            return
        kind = "spam" if spam else "ham"
        if guard._may_report(kind):
            try:
                await (guard.aremote.submit_spam if spam else guard.aremote.submit_ham)(comment, verdict)
            except Exception as exc:
                guard._report_failed(exc, kind, guard.aremote)
        if guard.local is not None:
            try:
                (guard.local.submit_spam if spam else guard.local.submit_ham)(comment, verdict)
            except Exception as exc:
                guard._report_failed(exc, kind, guard.local)
        if guard.feedback is not None:  # SQLite writes wait on locks: off the event loop
            await asyncio.to_thread(guard._store_report, comment, spam, verdict)
        else:
            guard._store_report(comment, spam, verdict)

    async def close(self) -> None:
        """Stop the background shadows and wait until they have."""
        shadows = list(self.shadows)
        for task in shadows:
            task.cancel()
        if shadows:
            await asyncio.gather(*shadows, return_exceptions=True)
