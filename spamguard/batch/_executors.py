"""Where a batch run's chunks are judged: in process, on threads, on loky processes or on Dask.

:func:`make_executor` gives a ``submit(task) -> future`` function (futures have ``result()``)
and a ``close(abort, pending)`` function, the same shape for every kind, so the run itself only
keeps a bounded queue of futures and handles them in input order. ``close(abort=True,
pending=...)`` drops the work still in flight the way each kind allows, and returns promptly.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import pickle  # noqa: S403 - pickles our own classifier for our own worker processes
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .._spelling import option
from ..akismet import AkismetClient
from ..classifier import Classifier
from ..errors import ConfigurationError, InvalidOptionError, SpamGuardError
from ..guard import Guard
from ._options import RunOptions
from ._task import Result, Task
from ._throttle import Throttled
from ._worker import classifier_for, init_worker, score_chunk

__all__ = ["make_executor", "in_process_classifier", "Submit", "Close"]

log = logging.getLogger(__name__)

Submit = Callable[[Task], Any]
Close = Callable[[bool, Sequence[Any]], None]


def make_executor(kind: str, options: RunOptions) -> tuple[Submit, Close]:
    """``submit`` and ``close`` for ``kind`` (``serial``, ``threads``, ``processes`` or ``dask``).

    ``serial`` and ``threads`` judge with a classifier made here (:func:`in_process_classifier`);
    ``processes`` and ``dask`` ship the classifier the caller passed (``options.classifier``)
    to each worker once, or, without one, the workers load the local model named by the task's
    spec, once per worker.
    """
    if kind == "serial":
        classifier = in_process_classifier(options)
        return (lambda task: _Done(score_chunk, task, classifier)), (lambda abort, pending: None)
    if kind == "threads":
        classifier = in_process_classifier(options)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="spamguard")

        def close_threads(abort: bool, pending: Sequence[Any]) -> None:
            # Aborting: calls not started are cancelled; those under way end within their timeouts.
            pool.shutdown(wait=not abort, cancel_futures=abort)

        return (lambda task: pool.submit(score_chunk, task, classifier)), close_threads
    if kind == "processes":
        return _loky(options.workers, options.classifier)
    return _dask(options.workers, options.classifier, options.dask_scheduler)


def in_process_classifier(options: RunOptions) -> Classifier:
    """The classifier to judge with in this process: the one passed in, the local model, Akismet or a Guard.

    Rate-limited to ``options.rate`` calls a second when that is set.
    """
    clf: Classifier
    if options.classifier is not None:
        clf = options.classifier
    elif options.backend == "local":
        clf = classifier_for(options.worker_spec())
    elif options.backend == "akismet":
        clf = AkismetClient.from_env(pool_size=max(options.workers, 1))
    else:
        clf = Guard.from_env(feedback=False)  # re-scoring is not moderation: nothing to record
    if options.rate is not None:
        clf = Throttled(clf, float(options.rate))
    return clf


_MALLOC_KEEP = {
    "MALLOC_MMAP_THRESHOLD_": str(1 << 30),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
    "MALLOC_TOP_PAD_": str(1 << 28),
}


def _loky(workers: int, given: Classifier | None) -> tuple[Submit, Close]:
    from joblib.externals.loky import get_reusable_executor

    init_args = (os.getpid(), pickle.dumps(given) if given is not None else None)
    # Reusable: a second run in the same process (tests, notebooks) skips the start-up; idle
    # workers exit after a minute.
    # One BLAS/OpenMP thread a worker: the workers already fill the cores.
    single = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    # glibc's malloc hands the scorer's large per-chunk numpy buffers back to the OS after
    # every chunk and faults them in again on the next (about 4 us a record); keep them.
    single.update(_MALLOC_KEEP)
    pool = get_reusable_executor(max_workers=workers, timeout=60, env=single, initializer=init_worker,
                                 initargs=init_args)

    def close(abort: bool, pending: Sequence[Any]) -> None:
        if abort:
            # Kill the workers and let loky fail the futures in flight itself. Cancelling them first
            # made loky's manager thread die on InvalidStateError (it sets an exception on each),
            # before it killed the workers, and the process then waited 60-90 s at exit for them.
            with _quiet_manager_keyerror():
                pool.shutdown(wait=True, kill_workers=True)

    return (lambda task: pool.submit(score_chunk, task)), close


@contextlib.contextmanager
def _quiet_manager_keyerror() -> Iterator[None]:
    """Keep loky's manager thread from printing a traceback over an abort's one-line error.

    With ``kill_workers=True`` loky empties its pending work, kills the workers, and then looks
    up the ids of work still queued for the workers: a KeyError that ends its manager thread
    (seen when a run aborts with more chunks submitted than the workers' queue holds). The
    workers are dead by then and the futures failed, as asked; only the traceback is dropped.
    """
    previous = threading.excepthook

    def hook(args: Any) -> None:
        if args.exc_type is KeyError and args.thread is not None and args.thread.name == "ExecutorManagerThread":
            log.debug("loky's manager thread stopped on %r while shutting down", args.exc_value)
            return
        previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def _dask(workers: int, given: Classifier | None, scheduler: Any) -> tuple[Submit, Close]:
    try:
        import distributed
    except ImportError:
        raise SpamGuardError("the dask executor needs Dask distributed: pip install 'spamguard[dask]'") from None
    owned: list[Any] = []
    if isinstance(scheduler, distributed.Client):
        client = scheduler
    elif scheduler is not None:
        try:
            client = distributed.Client(scheduler)
        except ValueError as exc:  # distributed's word for an address it cannot parse
            raise InvalidOptionError(
                f"{option('dask_scheduler', scheduler)} is not a scheduler address ({exc}); "
                "give one such as tcp://HOST:8786"
            ) from exc
        except OSError as exc:  # distributed's word for a scheduler it could not reach in time
            raise ConfigurationError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); check the address, and that the "
                "scheduler is running and reachable from here"
            ) from exc
        owned.append(client)
    else:
        try:
            client = distributed.get_client()
        except ValueError:
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
            client = distributed.Client(cluster)
            owned += [client, cluster]
    shared = client.scatter(given, broadcast=True) if given is not None else None

    def submit(task: Task) -> Any:
        if shared is not None:
            return client.submit(score_chunk, task, shared, pure=False)
        return client.submit(score_chunk, task, pure=False)

    def close(abort: bool, pending: Sequence[Any]) -> None:
        if abort:
            for future in pending:
                future.cancel()  # the cluster may be the caller's: stop our work on it
        for thing in owned:
            thing.close()

    return submit, close


class _Done:
    """A finished 'future' for the serial executor (the work runs when submitted)."""

    def __init__(self, fn: Callable[..., Result], *args: Any) -> None:
        try:
            self._value: Result | None = fn(*args)
            self._error: BaseException | None = None
        except Exception as exc:  # noqa: BLE001 - handed back by result(), like a real future
            self._value, self._error = None, exc

    def result(self) -> Result | None:
        if self._error is not None:
            raise self._error
        return self._value
