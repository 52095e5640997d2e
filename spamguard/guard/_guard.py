"""The :class:`Guard`: the remote service first, the local model when it fails, a policy on top.

One Guard per process, shared by all its threads (and its event loop: ``acheck``,
``areport_spam``, ``areport_ham`` await an async remote natively). It never lets a spam-service
outage break commenting: a remote that times out, refuses, answers 5xx or garbage, or rejects
the key is replaced by the local model's verdict (``fallback_reason`` says why), a latency
budget bounds every check, and a circuit breaker stops calling a remote that keeps failing.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from .. import _settings
from ..classifier import AsyncClassifier, Classifier
from ..comment import Comment
from ..errors import (
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigurationError,
    InvalidCommentError,
    InvalidKeyError,
    InvalidRequestError,
)
from ..feedback import FeedbackStore
from ..policy import Policy
from ..verdict import Source, Verdict
from ._async import AsyncPath
from ._circuit import CircuitBreaker

__all__ = ["Guard", "MODES", "DEFAULT_LATENCY_BUDGET"]

log = logging.getLogger("spamguard.guard")

MODES = ("auto", "remote-first", "local-only", "both", "shadow")
DEFAULT_LATENCY_BUDGET = 2.0
"""Seconds one check may take, remote call and fallback included, unless configured."""

_NO_ANSWER_REASON = "no classifier could answer; held for a person to look at"
_ASYNC_ONLY = (
    "This Guard's remote is asynchronous (aremote=) and it has no remote= for blocking calls: use "
    "`await guard.{acall}(...)` instead of {call}(), or give it both (Guard.from_env(asynchronous=True) does)"
)


@attrs.frozen
class _RemoteCall:
    future: concurrent.futures.Future[Verdict] | None = None
    thunk: Callable[[], Verdict] | None = None
    refused: str | None = None  # the fallback reason when the call was not made


class Guard:
    """Judges comments with a remote service and/or the local model, and applies a :class:`Policy`.

    ``remote`` is a remote classifier (an :class:`~spamguard.AkismetClient`), ``local`` the
    local one (a :class:`~spamguard.LocalModel`); either may be ``None`` where the mode allows.

    Modes:

    * ``"remote-first"`` (what ``"auto"`` picks when there is a remote): ask the remote; when
      it fails, the local model decides and ``fallback_reason`` says why (``"timeout"``,
      ``"unavailable"``, ``"invalid-key"``, ``"configuration"``, ``"remote-error"``,
      ``"circuit-open"``).
    * ``"local-only"`` (what ``"auto"`` picks without a remote): the local model decides.
    * ``"both"``: ask both at once and combine: spam when either says spam; ``discard`` only
      from the remote's tip; ``score`` and ``reasons`` from the local model; ``recheck_after``,
      ``guid`` and ``alerts`` from the remote; ``source`` like ``"akismet+local"``. When the
      remote fails, the local verdict stands, with ``fallback_reason``.
    * ``"shadow"``: ``shadow_primary`` (``"remote"`` by default) decides, the other is asked
      too and disagreements are logged at INFO and counted in :meth:`stats` (a way to try
      the local model before trusting it). A remote shadow runs in the background.

    ``latency_budget`` (seconds, default 2.0, ``SPAMGUARD_LATENCY_BUDGET`` via
    :meth:`from_env`) bounds a whole check: the remote call runs on a small thread pool
    (``max_remote_calls`` threads) and the Guard stops waiting for it in time to let the
    local model answer. ``None`` calls the remote in the caller's thread, bounded only by its
    own timeout. After ``failure_threshold`` failures in a row the circuit opens and the
    remote is not called for ``cooldown`` seconds; then one probe goes through, and its
    success closes the circuit. A rejected key is logged once at ERROR (never the key
    itself); with ``strict=True`` it raises :class:`~spamguard.InvalidKeyError` instead.
    ``feedback`` is a :class:`~spamguard.FeedbackStore` (or ``True`` for the default one)
    that :meth:`report_spam` and :meth:`report_ham` write to. Without one they record
    nothing (the first report logs a warning saying so; ``feedback=False`` means you know).

    Thread-safe, no global state. From async code, do not call :meth:`check` on the event
    loop: ``await guard.acheck(c)``. With ``aremote`` (an :class:`~spamguard.AsyncAkismetClient`,
    or any :class:`~spamguard.AsyncClassifier`) :meth:`acheck`, :meth:`areport_spam` and
    :meth:`areport_ham` await it on the event loop, with the same fallback, circuit breaker
    (shared with ``remote``: both name the same service) and latency budget
    (``asyncio.timeout``); the local model runs inline, the checks of one loop turn sharing
    one ``check_many`` call, which is quicker than a hand-off to a thread. Without an
    ``aremote``, :meth:`acheck` runs :meth:`check` in a worker thread. A Guard may
    hold both ``remote`` (for :meth:`check`) and ``aremote`` (for :meth:`acheck`):
    ``Guard.from_env(asynchronous=True)`` makes both.
    """

    def __init__(
        self,
        remote: Classifier | None = None,
        local: Classifier | None = None,
        *,
        aremote: AsyncClassifier | None = None,
        mode: str = "auto",
        policy: Policy | None = None,
        feedback: FeedbackStore | bool | None = None,
        latency_budget: float | None = DEFAULT_LATENCY_BUDGET,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        strict: bool = False,
        shadow_primary: str = "remote",
        max_remote_calls: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in MODES:
            raise ConfigurationError(f"Guard mode {mode!r} is not one of {', '.join(MODES)}")
        has_remote = remote is not None or aremote is not None
        if mode == "auto":
            mode = "remote-first" if has_remote else "local-only"
        if mode in ("remote-first", "both", "shadow") and not has_remote:
            raise ConfigurationError(
                f"Guard mode {mode!r} needs a remote classifier; configure an Akismet key or use mode='local-only'"
            )
        if mode in ("local-only", "both", "shadow") and local is None:
            raise ConfigurationError(f"Guard mode {mode!r} needs a local classifier (LocalModel.load())")
        if shadow_primary not in ("remote", "local"):
            raise ConfigurationError(f"shadow_primary must be 'remote' or 'local', got {shadow_primary!r}")
        if latency_budget is not None and latency_budget <= 0:
            raise ConfigurationError(f"latency_budget must be a positive number of seconds or None, "
                                     f"got {latency_budget!r}")
        if max_remote_calls < 1:
            raise ConfigurationError(f"max_remote_calls must be at least 1, got {max_remote_calls!r}")
        self.remote = remote
        self.aremote = aremote
        self._own_aclient: Any = None  # an AsyncAkismetClient from_env made: aclose() closes it
        self._async = AsyncPath(self)
        self.local = local
        self.mode = mode
        self.policy = policy if policy is not None else Policy()
        self._owns_feedback = feedback is True
        self._warn_unrecorded = feedback is None  # not chosen: say once that reports are not kept
        self.feedback: FeedbackStore | None = (
            FeedbackStore() if feedback is True else feedback if isinstance(feedback, FeedbackStore) else None
        )
        self.latency_budget = latency_budget
        self.strict = strict
        self.shadow_primary = shadow_primary
        self.max_remote_calls = max_remote_calls
        self.breaker = CircuitBreaker(failure_threshold, cooldown, name="remote spam service", clock=clock)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()
        self._key_rejected = False

    def __repr__(self) -> str:
        aremote = f"aremote={type(self.aremote).__name__}, " if self.aremote is not None else ""
        return (
            f"Guard(mode={self.mode!r}, remote={type(self.remote).__name__ if self.remote else None}, {aremote}"
            f"local={type(self.local).__name__ if self.local else None}, circuit={self.breaker.state!r})"
        )

    # --- construction from the environment ------------------------------------------------

    @classmethod
    def from_env(
        cls, *, feedback: FeedbackStore | bool | None = None, asynchronous: bool = False, **overrides: Any
    ) -> Guard:
        """A Guard configured from the environment; keyword arguments win.

        The remote is :meth:`AkismetClient.from_env` when an Akismet key is configured, with
        its timeout inside the latency budget and no retries (the fallback is the retry);
        ``asynchronous=True`` adds the same as an :class:`~spamguard.AsyncAkismetClient`
        (``aremote``, closed by :meth:`aclose`; needs ``pip install 'spamguard[async]'``) for
        :meth:`acheck` to await. The local model is :meth:`LocalModel.load`
        (``SPAMGUARD_MODEL`` or the shipped default).
        The feedback store is opened when ``SPAMGUARD_FEEDBACK_DB`` is set or ``feedback=True``.
        Also read: ``SPAMGUARD_GUARD_MODE``, ``SPAMGUARD_LATENCY_BUDGET``, ``SPAMGUARD_STRICT``
        and the :meth:`Policy.from_env` thresholds.
        """
        from ..local import LocalModel

        settings = _settings.guard(MODES)
        settings.update(overrides)
        if "policy" not in settings:
            settings["policy"] = Policy.from_env()
        budget = settings.get("latency_budget", DEFAULT_LATENCY_BUDGET)
        if "remote" not in settings:
            settings["remote"] = _remote_from_env("AkismetClient", budget)
        made_aremote = asynchronous and "aremote" not in settings
        if made_aremote:  # httpx is imported only when there is a key to use it with
            settings["aremote"] = _remote_from_env("AsyncAkismetClient", budget)
        if "local" not in settings:
            settings["local"] = LocalModel.load()
        if feedback is None and _settings.feedback_db() is not None:
            feedback = True
        guard = cls(feedback=feedback, **settings)
        if made_aremote:
            guard._own_aclient = settings["aremote"]
        return guard

    # --- the remote call ------------------------------------------------------------------

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        max_workers=self.max_remote_calls, thread_name_prefix="spamguard-remote"
                    )
                pool = self._pool
        return pool

    def _start_remote(self, comment: Comment) -> _RemoteCall:
        if self.remote is None:
            raise ConfigurationError(_ASYNC_ONLY.format(call="check", acall="acheck"))
        if not self.breaker.allow():
            return _RemoteCall(refused="circuit-open")
        if self.latency_budget is None:
            remote = self.remote
            return _RemoteCall(thunk=lambda: remote.check(comment))
        return _RemoteCall(future=self._executor().submit(self.remote.check, comment))

    def _finish_remote(self, call: _RemoteCall, started: float) -> tuple[Verdict | None, str | None]:
        """Wait for a started remote call within the budget; (verdict, None) or (None, reason)."""
        if call.refused is not None:
            return None, call.refused
        try:
            if call.future is not None:
                try:
                    verdict = call.future.result(timeout=self._budget_left(started))
                except concurrent.futures.TimeoutError:
                    call.future.cancel()
                    self.breaker.failure("timeout")
                    return None, "timeout"
            else:
                assert call.thunk is not None
                verdict = call.thunk()
        except BaseException as exc:
            return None, self._remote_failed(exc)
        self._remote_answered()
        return verdict, None

    def _budget_left(self, started: float) -> float:
        """Seconds the remote may still take, keeping back time for the local model to answer."""
        assert self.latency_budget is not None
        reserve = min(0.05, self.latency_budget * 0.1)
        return max(0.0, self.latency_budget - reserve - (time.perf_counter() - started))

    def _remote_answered(self) -> None:
        self.breaker.success()
        with self._lock:
            was_rejected, self._key_rejected = self._key_rejected, False
        if was_rejected:
            log.warning("the remote spam service accepts its configuration again")

    def _remote_failed(self, exc: BaseException) -> str:
        """Record a failed remote call; the fallback reason (or raise, in strict mode)."""
        if isinstance(exc, InvalidRequestError):  # the service answered; this comment was the problem
            self.breaker.success()
            log.warning("the remote spam service refused the request: %s", exc)
            return "invalid-request"
        if isinstance(exc, InvalidCommentError):  # the remote cannot take this comment (no user_ip, say)
            log.warning("the remote spam service cannot check this comment (%s); the local model decides", exc)
            return "invalid-comment"
        if isinstance(exc, ConfigurationError):
            reason = "invalid-key" if isinstance(exc, InvalidKeyError) else "configuration"
            self.breaker.failure(reason)
            if self.strict:
                raise exc
            with self._lock:
                first, self._key_rejected = not self._key_rejected, True
            if first:
                log.error(
                    "THE REMOTE SPAM SERVICE REJECTS ITS CONFIGURATION (%s): %s. Comments are being judged "
                    "by the local model only until this is fixed; check the API key and blog URL settings.",
                    reason, exc,
                )
            return reason
        if isinstance(exc, BackendUnavailableError):
            reason = "timeout" if isinstance(exc, BackendTimeoutError) else "unavailable"
            self.breaker.failure(reason)
            log.debug("remote spam service failed (%s): %s", reason, exc)
            return reason
        if not isinstance(exc, Exception):
            raise exc  # KeyboardInterrupt and friends
        self.breaker.failure("remote-error")
        log.exception("the remote spam service raised an unexpected error; falling back to the local model")
        return "remote-error"

    # --- checking -------------------------------------------------------------------------

    def _ask_local(self, comment: Comment) -> Verdict | None:
        if self.local is None:
            return None
        try:
            return self.local.check(comment)
        except Exception:
            log.exception("the local model failed on a comment")
            self._count("local-error")
            return None

    def _fallback(self, comment: Comment, reason: str, local: Verdict | None = None) -> Verdict:
        self._count(f"fallback:{reason}")
        if local is None:
            local = self._ask_local(comment)
        if local is None:
            return _verdict(spam=False, source=Source.GUARD, reasons=(_NO_ANSWER_REASON,), fallback_reason=reason)
        return attrs.evolve(local, fallback_reason=reason)

    def _records_remote(self) -> bool:
        return self.feedback is not None and self.feedback.record_remote_verdicts

    def _record_remote(self, comment: Comment, verdict: Verdict) -> None:
        """Keep the remote's verdict in the feedback store (when it asks for them: ``_records_remote``)."""
        assert self.feedback is not None
        try:
            self.feedback.record_verdict(comment, verdict)
        except Exception:
            log.exception("could not record the remote verdict in the feedback store")

    def _local_only(self, comment: Comment) -> Verdict:
        verdict = self._ask_local(comment)
        return verdict if verdict is not None else self._fallback(comment, "local-error")

    def _merge(self, comment: Comment, remote: Verdict | None, reason: str | None, local: Verdict | None) -> Verdict:
        """The verdict of remote-first, both and shadow (remote primary) once the remote answered or
        failed (``reason``); ``local`` is the local verdict when it was asked already. No I/O."""
        if remote is None:
            return self._fallback(comment, reason or "unavailable", local)
        self._count("remote")
        if self.mode == "remote-first" or local is None:
            return remote
        if self.mode == "both":
            return _combine(remote, local)
        self._compare(primary=remote, shadow=local)
        return remote

    def _decide(self, comment: Comment) -> Verdict:
        started = time.perf_counter()
        if self.mode == "local-only":
            return self._local_only(comment)
        if self.mode == "shadow" and self.shadow_primary == "local":
            return self._shadow_local_primary(comment)
        call = self._start_remote(comment)
        local = self._ask_local(comment) if self.mode != "remote-first" else None  # while the remote works
        remote, reason = self._finish_remote(call, started)
        verdict = self._merge(comment, remote, reason, local)
        if remote is not None and self._records_remote():
            self._record_remote(comment, remote)
        return verdict

    def _shadow_local_primary(self, comment: Comment) -> Verdict:
        local = self._ask_local(comment)
        call = self._start_remote(comment)
        if local is None:
            if call.future is not None:
                call.future.add_done_callback(lambda _: self._settled(call))
            return self._fallback(comment, "local-error")
        if call.future is not None:  # the remote shadow finishes in the background

            def compare(_: object) -> None:
                remote = self._settled(call)
                if remote is not None:
                    self._compare(primary=local, shadow=remote)

            call.future.add_done_callback(compare)
        elif call.thunk is not None:
            remote, _reason = self._finish_remote(call, time.perf_counter())
            if remote is not None:
                self._compare(primary=local, shadow=remote)
        return local

    def _settled(self, call: _RemoteCall) -> Verdict | None:
        """Record the outcome of a background remote call that has finished."""
        assert call.future is not None
        try:
            verdict = call.future.result(timeout=0)
        except concurrent.futures.CancelledError:
            self.breaker.release()
            return None
        except BaseException as exc:
            with contextlib.suppress(Exception):  # strict mode: nobody to raise to in a callback; it was logged
                self._remote_failed(exc)
            return None
        self._remote_answered()
        return verdict

    def _compare(self, *, primary: Verdict, shadow: Verdict) -> None:
        with self._lock:
            self._counts["shadow:compared"] += 1
            if primary.spam != shadow.spam:
                self._counts["shadow:disagreements"] += 1
                self._counts[f"shadow:{primary.source}-{_word(primary)}-{shadow.source}-{_word(shadow)}"] += 1
        if primary.spam != shadow.spam:
            log.info(
                "shadow disagreement: %s says %s, %s says %s (score %s)",
                primary.source, _word(primary), shadow.source, _word(shadow),
                shadow.score if shadow.score is not None else primary.score,
            )

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def check(self, comment: Comment) -> Verdict:
        """Judge one comment; the verdict has ``action`` set by the policy.

        Never raises because a backend failed (the exception: an invalid key with
        ``strict=True``); when no backend can answer the comment is held.
        """
        if not isinstance(comment, Comment):
            raise TypeError(f"Guard.check() takes a Comment, got {type(comment).__name__}")
        self._count("checks")
        return self.policy.apply(self._decide(comment), comment)

    def check_many(self, comments: Iterable[Comment]) -> list[Verdict]:
        """Judge many comments; verdicts in input order.

        Local-only mode scores them as one batch; the other modes check them one after
        another (each within the budget). For throughput against a remote, call :meth:`check`
        from several threads: the Guard is made to be shared.
        """
        if isinstance(comments, (str, Comment)):
            raise TypeError("check_many() takes an iterable of Comments, not a single comment or text")
        comments = list(comments)
        if self.mode == "local-only" and self.local is not None:
            try:
                verdicts = self.local.check_many(comments)
            except Exception:
                log.exception("the local model failed on a batch; checking the comments one by one")
            else:
                self._count_n("checks", len(comments))
                return [self.policy.apply(v, c) for v, c in zip(verdicts, comments, strict=True)]
        return [self.check(c) for c in comments]

    def _count_n(self, key: str, n: int) -> None:
        with self._lock:
            self._counts[key] += n

    # --- asyncio (the work is in _async.AsyncPath) -------------------------------------

    async def acheck(self, comment: Comment) -> Verdict:
        """:meth:`check` for async code, with the same modes, fallback, circuit breaker and budget.

        With an ``aremote`` it is awaited on the event loop (the budget by ``asyncio.timeout``),
        and so is a local-only Guard's model, inline; a Guard whose remote is blocking
        (``remote=`` only) runs :meth:`check` in a worker thread instead.
        """
        if not isinstance(comment, Comment):
            raise TypeError(f"Guard.acheck() takes a Comment, got {type(comment).__name__}")
        if self.aremote is None and self.mode != "local-only":
            return await asyncio.to_thread(self.check, comment)
        self._count("checks")
        return self.policy.apply(await self._async.decide(comment), comment)

    async def areport_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """:meth:`report_spam` for async code: awaits the async remote (or runs :meth:`report_spam`
        in a worker thread for a blocking one); the feedback store is written off the event loop."""
        await self._async.report(comment, True, verdict)

    async def areport_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """:meth:`report_ham` for async code (see :meth:`areport_spam`)."""
        await self._async.report(comment, False, verdict)

    async def aclose(self) -> None:
        """:meth:`close`, and also stop the background remote shadows and close an ``aremote`` that
        :meth:`from_env` made."""
        await self._async.close()
        if self._own_aclient is not None:
            await self._own_aclient.aclose()
        self.close()

    async def __aenter__(self) -> Guard:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- feedback -------------------------------------------------------------------------

    def report_spam(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """A moderator says ``comment`` is spam: tell the remote (with the original verdict) and
        record it in the feedback store. A remote failure is logged, not raised."""
        self._report(comment, True, verdict)

    def report_ham(self, comment: Comment, verdict: Verdict | None = None) -> None:
        """A moderator says ``comment`` is not spam: tell the remote and record it (see :meth:`report_spam`)."""
        self._report(comment, False, verdict)

    submit_spam = report_spam
    submit_ham = report_ham

    def _report(self, comment: Comment, spam: bool, verdict: Verdict | None) -> None:
        kind = "spam" if spam else "ham"
        if self.remote is None and self.aremote is not None:
            raise ConfigurationError(_ASYNC_ONLY.format(call=f"report_{kind}", acall=f"areport_{kind}"))
        for backend in (self.remote, self.local):
            if backend is None or (backend is self.remote and not self._may_report(kind)):
                continue
            try:
                (backend.submit_spam if spam else backend.submit_ham)(comment, verdict)
            except Exception as exc:
                self._report_failed(exc, kind, backend)
        self._store_report(comment, spam, verdict)

    def _store_report(self, comment: Comment, spam: bool, verdict: Verdict | None) -> None:
        """Record a moderator's label in the feedback store; with none chosen, say once that nothing is kept."""
        if self.feedback is not None:
            self.feedback.record(comment, spam, source="moderator", verdict=verdict)
        elif self._warn_unrecorded:
            self._warn_unrecorded = False
            log.warning("moderators' reports are not recorded: this Guard has no feedback store (set "
                        "SPAMGUARD_FEEDBACK_DB, or pass feedback=FeedbackStore(path); feedback=False hides this)")

    def _may_report(self, kind: str) -> bool:
        if self.breaker.state == "open":
            log.warning("submit-%s not sent: the remote spam service is unavailable (circuit open)", kind)
            return False
        return True

    def _report_failed(self, exc: Exception, kind: str, backend: object) -> None:
        """Log a failed submit-spam/ham (a rejected configuration loudly); in strict mode re-raise that."""
        if isinstance(exc, ConfigurationError):
            if self.strict:
                raise exc
            log.error("submit-%s not sent: the remote rejects its configuration: %s", kind, exc)
        else:
            log.warning("submit-%s to %s failed: %s", kind, type(backend).__name__, exc)

    # --- state ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters since the Guard was made: checks, remote answers, fallbacks by reason,
        shadow comparisons and disagreements, and the circuit's state."""
        with self._lock:
            counts = dict(self._counts)
        fallbacks = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("fallback:")}
        shadow = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("shadow:")}
        return {
            "mode": self.mode,
            "checks": counts.get("checks", 0),
            "remote_answers": counts.get("remote", 0),
            "fallbacks": fallbacks,
            "shadow": shadow,
            "circuit": self.breaker.state,
            "circuit_opened": self.breaker.times_opened,
        }

    @property
    def backend(self) -> str:
        """Where comment data goes: ``Source.AKISMET`` (``"akismet"``) when a remote takes part in
        decisions (remote-first, both, shadow), else ``Source.LOCAL`` (``"local"``)."""
        if (self.remote is not None or self.aremote is not None) and self.mode in ("remote-first", "both", "shadow"):
            return Source.AKISMET
        return Source.LOCAL

    def notice(self, lang: str | None = "en", **kwargs: Any) -> str:
        """The data-processing notice for the comment form, for the backend in use.

        :func:`spamguard.notice.disclosure` with ``service`` set from :attr:`backend` and where
        the remote is: when comment data goes to the remote (remote-first, both, shadow), an
        Akismet client's base URL decides (:func:`spamguard.notice.service_for_remote`): Akismet for
        rest.akismet.com; the site itself (``"local"``) for a service on its own machine
        (``http://127.0.0.1:8080``); otherwise the service's host name, without a privacy link
        unless ``privacy_url`` is given. Otherwise ``"local"``. Other keyword arguments
        (``privacy_url``, ``fmt``, ``site_name``...) pass through; ``service=`` (say,
        ``spamguard.notice.Service(name, url)`` for a service run by someone you can name) wins.
        """
        from ..notice import disclosure, service_for_remote

        if "service" not in kwargs:
            service: Any = self.backend
            base_url = getattr(getattr(self.remote, "config", None), "base_url", None)
            if service == Source.AKISMET and isinstance(base_url, str):
                service = service_for_remote(base_url)
            kwargs["service"] = service
        return disclosure(lang, **kwargs)

    def close(self) -> None:
        """Stop the remote thread pool (without waiting) and close a feedback store the Guard opened."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if self._owns_feedback and self.feedback is not None:
            self.feedback.close()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- helpers ----------------------------------------------------------------------------


def _combine(remote: Verdict, local: Verdict) -> Verdict:
    """``both`` mode: spam if either says spam; discard only from the remote; score from local."""
    spam = remote.spam or local.spam
    reasons = ((f"{remote.source} says spam",) if remote.spam else ()) + tuple(local.reasons)
    return _verdict(
        spam=spam,
        score=local.score,
        discard=remote.discard and remote.spam,
        source=f"{remote.source}+{local.source}",
        reasons=reasons,
        recheck_after=None if spam else remote.recheck_after,
        guid=remote.guid,
        alerts=remote.alerts,
    )


def _verdict(**fields: Any) -> Verdict:
    return Verdict(**fields)


def _word(verdict: Verdict) -> str:
    return "spam" if verdict.spam else "ham"


def _remote_from_env(client_class: str, budget: float | None) -> Any:
    """``from_env()`` of the client class named (AkismetClient or AsyncAkismetClient, imported here)
    when a key is configured, else None.

    Unless ``SPAMGUARD_AKISMET_TIMEOUT`` says otherwise, the client's timeout sits inside the
    latency budget, and it does not retry: the Guard's fallback is the retry.
    """
    from .. import akismet

    if not akismet.akismet_configured():
        return None
    overrides: dict[str, Any] = {"retries": 0}
    if budget is not None and _settings.text(_settings.AKISMET_TIMEOUT) is None:
        overrides["timeout"] = budget
    return getattr(akismet, client_class).from_env(**overrides)
