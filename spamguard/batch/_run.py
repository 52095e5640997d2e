"""The rescore run: :func:`rescore`, its :class:`Summary`, and the loop that joins the parts."""

from __future__ import annotations

import collections
import contextlib
import gzip
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import IO, Any

import attrs

from ..classifier import Classifier
from ..dumps import dump_format, open_binary, source_name
from ..errors import CheckpointError, TooManyRejectsError
from . import _checkpoint
from ._chunks import Chunker, Meta, repack, skip_bytes
from ._executors import Throttled, make_executor
from ._options import RunOptions
from ._worker import Result, Task, classifier_for
from ._write import writer_for

__all__ = ["rescore", "Summary"]

log = logging.getLogger(__name__)

_FLUSH_BYTES = 1 << 20
_FLUSH_SECONDS = 1.0
_LOGGED_REJECTS = 10


@attrs.frozen(kw_only=True)
class Summary:
    """What a :func:`rescore` run did (counts include the runs it resumed).

    ``records`` were judged, ``spam`` of them judged spam, ``changed`` of them differ from the
    status the dump recorded, ``rejects`` could not be read or judged, ``written`` output
    records were written (fewer than ``records`` with ``only_changed``). ``elapsed`` is this
    run's time in seconds and ``rate`` its records (judged and rejected) per second.
    """

    records: int
    spam: int
    changed: int
    rejects: int
    written: int
    elapsed: float
    rate: float
    actions: Mapping[str, int] = attrs.field(factory=dict, converter=dict)
    resumed_from: int = 0
    output: str | None = None
    rejects_file: str | None = None

    @property
    def ham(self) -> int:
        """Records judged not spam."""
        return self.records - self.spam

    @property
    def spam_rate(self) -> float:
        """The share of judged records that are spam (0 when none were judged)."""
        return self.spam / self.records if self.records else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the summary, ``ham`` and ``spam_rate`` included."""
        data = attrs.asdict(self)
        data["ham"] = self.ham
        data["spam_rate"] = round(self.spam_rate, 6)
        data["elapsed"] = round(self.elapsed, 3)
        data["rate"] = round(self.rate, 1)
        return data

    def __str__(self) -> str:
        text = (
            f"rescored {self.records:,} records: {self.spam:,} spam ({100 * self.spam_rate:.1f}%), "
            f"{self.changed:,} changed, {self.rejects:,} rejected; {self.written:,} written"
        )
        if self.output:
            text += f" to {self.output}"
        text += f" in {self.elapsed:.1f} s ({self.rate:,.0f} records/s)"
        if self.resumed_from:
            text += f"; resumed after record {self.resumed_from:,}"
        return text


def rescore(
    input: str | os.PathLike[str] | IO[bytes],
    output: str | os.PathLike[str] | IO[bytes] | None = None,
    *,
    format: str | None = None,
    output_format: str | None = None,
    backend: str = "local",
    classifier: Classifier | None = None,
    model: str | os.PathLike[str] | None = None,
    resume: bool = False,
    workers: int | None = None,
    executor: str | None = None,
    dask_scheduler: Any = None,
    rejects: str | os.PathLike[str] | None = None,
    max_rejects: int | None = None,
    only_changed: bool = False,
    rate: float | None = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
) -> Summary:
    """Judge every comment of a dump again and write one output record per input record.

    ``input`` is a path, ``"-"`` (standard input) or a binary file; ``format`` is one of
    ``jsonl``, ``csv``, ``tsv``, ``wxr`` (detected when not given). ``output`` is a path
    (``.csv`` writes CSV, anything else JSONL; ``.gz`` compresses), ``"-"``/``None`` for
    standard output, or a binary file; ``output_format`` overrides the suffix.

    ``backend`` picks the classifier: ``local`` (the local model, ``model`` or
    ``SPAMGUARD_MODEL`` or the default one), ``akismet`` (``AkismetClient.from_env()``) or
    ``auto`` (``Guard.from_env()``: remote first, local when it fails); or pass your own
    ``classifier``. ``executor`` is ``processes`` (the default for the local model),
    ``threads`` (the default for remote backends: ``workers`` calls in flight, 16 by
    default), ``dask`` (``dask_scheduler``: an address such as ``tcp://host:8786``, a
    ``distributed.Client``, or None for the current client or a local cluster) or ``serial``.
    ``rate`` caps remote calls per second.

    ``resume=True`` continues an interrupted run into the same output (see the module
    docstring); without it an existing checkpoint is an error rather than silently dropped.
    ``rejects`` is a JSONL file for the records that could not be read or judged;
    ``max_rejects`` makes more than that many a :class:`~spamguard.TooManyRejectsError`.
    ``only_changed`` writes only records whose verdict differs from the dump's status.
    ``progress`` shows a bar on stderr (default: when stderr is a terminal).
    """
    options = RunOptions.decide(
        input=input, output=output, format=format, output_format=output_format, backend=backend,
        classifier=classifier, model=model, resume=resume, workers=workers, executor=executor,
        dask_scheduler=dask_scheduler, rejects=rejects, max_rejects=max_rejects, only_changed=only_changed,
        rate=rate, chunk_size=chunk_size, progress=progress,
    )
    run = _Run(options)
    return run.execute()


# --- the run ------------------------------------------------------------------------------------


class _Run:
    def __init__(self, options: RunOptions) -> None:
        self.o = options
        self.in_path = options.input_path
        self.out_path = options.output_path
        self.out_format = options.output_format
        self.out_gzip = options.output_gzip
        self.counts: dict[str, Any] = {"records": 0, "spam": 0, "changed": 0, "written": 0, "rejects": 0,
                                       "actions": {}}
        self.position = 0  # last input position fully handled
        self.line = 0
        self.offset: int | None = 0  # input bytes consumed (raw JSONL only)
        self.resumed_from = 0
        self.logged_rejects = 0
        self._out_buffer: list[bytes] = []
        self._rej_buffer: list[bytes] = []
        self._buffered = 0
        self._last_flush = time.monotonic()
        self._out: IO[bytes] | None = None
        self._rej: IO[bytes] | None = None
        self._out_offset = 0
        self._rej_offset = 0
        self._bar: Any = None
        self.policy = _policy()
        # False while a chunk's result or a flush is half applied: a failure then must not save a
        # checkpoint (the one on disk is still right; the half-applied work is simply redone).
        self._consistent = True
        self._stop = False  # set by Ctrl-C; the run stops at the next chunk boundary
        self._saved_position = 0  # the position the checkpoint on disk covers

    # --- the whole run ---------------------------------------------------------------------

    def execute(self) -> Summary:
        started = time.monotonic()
        o = self.o
        stream, head = open_binary(o.input)
        try:
            name = source_name(o.input)
            self.fmt = o.format or dump_format(head, o.input)
            self.source = name
            done = self._open_outputs()
            if done is not None:
                return done
            self.raw = self.fmt == "jsonl"
            self.chunker = Chunker(size=o.chunk_size, source=name, out_format=self.out_format,
                                   only_changed=o.only_changed, spec=self.o.worker_spec(), policy=self.policy)
            if self.raw:
                if self.position:
                    skip_bytes(stream, self.offset or 0)
                tasks = self.chunker.raw(stream, offset=self.offset or 0, line=self.line, position=self.position)
            elif self.fmt == "wxr":
                tasks = self.chunker.wxr(stream, after=self.resumed_from)
            else:
                tasks = self.chunker.records(stream, self.fmt, after=self.resumed_from, line=self.line)
            self._progress_start(stream)
            try:
                with self._deferred_interrupt():
                    self._pump(tasks)
            except BaseException:
                self._save_progress_after_failure()
                raise
            self._finish()
        finally:
            stream.close()
            self._close_files()
            if self._bar is not None:
                self._bar.close()
        elapsed = time.monotonic() - started
        handled = self.counts["records"] + self.counts["rejects"] - self._earlier
        return self._summary(elapsed, handled / elapsed if elapsed > 0 else 0.0)

    def _summary(self, elapsed: float, rate: float) -> Summary:
        c = self.counts
        return Summary(
            records=c["records"], spam=c["spam"], changed=c["changed"], rejects=c["rejects"],
            written=c["written"], elapsed=elapsed, rate=rate, actions=c["actions"],
            resumed_from=self.resumed_from, output=self.out_path, rejects_file=self.rej_path,
        )

    # --- outputs, checkpoint and resume ------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        o = self.o
        return {
            "format": self.fmt, "output_format": self.out_format, "output_gzip": self.out_gzip,
            "backend": o.backend if o.classifier is None else type(o.classifier).__name__,
            "model": o.model,
            "only_changed": o.only_changed, "rejects": self.rej_path,
        }

    def _open_outputs(self) -> Summary | None:
        o = self.o
        self.rej_path = o.rejects
        self._earlier = 0
        if self.out_path is None:
            given = o.output if not isinstance(o.output, (str, os.PathLike)) else None
            self._out = given if given is not None else _binary_stdout()
            self._stream_out = True
            self._start_fresh_rejects()
            self._write_out(writer_for(self.out_format).header())
            return None
        self._stream_out = False
        self.partial = self.out_path + ".partial"
        self.ckpt = self.out_path + ".checkpoint"
        self.identity = _checkpoint.input_identity(self.in_path) if self.in_path else None
        saved = _checkpoint.load(self.ckpt)
        if saved is not None and not o.resume:
            raise CheckpointError(
                f"{self.ckpt} is there from an interrupted run: run again with --resume (resume=True) to "
                f"continue it, or delete it and {self.partial} to start over"
            )
        if saved is not None:
            return self._resume_from(saved)
        if o.resume:
            log.warning("no checkpoint at %s: nothing to resume, starting from the beginning", self.ckpt)
        self._out = open(self.partial, "wb")  # noqa: SIM115 - closed in _close_files
        self._start_fresh_rejects()
        self._write_out(writer_for(self.out_format).header())
        self._flush(force=True)
        return None

    def _resume_from(self, saved: dict[str, Any]) -> Summary | None:
        problem = _checkpoint.mismatch(saved.get("input", {}), self.identity or {})
        if problem:
            raise CheckpointError(f"cannot resume: the input is not the one the interrupted run read ({problem})")
        problem = _checkpoint.mismatch(saved.get("settings", {}), self._settings())
        if problem:
            raise CheckpointError(f"cannot resume with different settings: {problem}; use the same options")
        self.counts = saved["counts"]
        self.position, self.line, self.offset = saved["position"], saved["line"], saved["offset"]
        self.resumed_from = self._saved_position = self.position
        self._earlier = self.counts["records"] + self.counts["rejects"]
        if saved.get("done"):
            if os.path.exists(self.partial):
                self._publish()  # the rename was interrupted: finish it
            _checkpoint.remove(self.ckpt)
            return self._summary(0.0, 0.0)
        try:
            size = os.path.getsize(self.partial)
        except OSError:
            size = -1
        if size < saved["output_offset"]:
            raise CheckpointError(
                f"cannot resume: {self.partial} is missing or shorter than the checkpoint says "
                f"({size} < {saved['output_offset']} bytes); delete {self.ckpt} to start over"
            )
        if self.rej_path is not None:
            kept = os.path.getsize(self.rej_path) if os.path.exists(self.rej_path) else -1
            if kept < saved["rejects_offset"]:
                raise CheckpointError(
                    f"cannot resume: the rejects file {self.rej_path} is missing or shorter than the checkpoint "
                    f"says ({kept} < {saved['rejects_offset']} bytes); delete {self.ckpt} to start over"
                )
        os.truncate(self.partial, saved["output_offset"])
        self._out = open(self.partial, "ab")  # noqa: SIM115 - closed in _close_files
        self._out_offset = saved["output_offset"]
        if self.rej_path is not None:
            os.truncate(self.rej_path, saved["rejects_offset"])
            self._rej = open(self.rej_path, "ab")  # noqa: SIM115 - closed in _close_files
            self._rej_offset = saved["rejects_offset"]
        log.info("resuming after record %d (line %d)", self.position, self.line)
        return None

    def _start_fresh_rejects(self) -> None:
        if self.rej_path is not None:
            self._rej = open(self.rej_path, "wb")  # noqa: SIM115 - closed in _close_files

    def _write_out(self, data: bytes) -> None:
        if not data:
            return
        if self._stream_out:
            assert self._out is not None
            self._out.write(data)
        else:
            self._out_buffer.append(data)
            self._buffered += len(data)

    def _flush(self, *, force: bool = False) -> None:
        """Write buffered output and rejects, make them durable, then advance the checkpoint."""
        if self._stream_out:
            if self._out is not None:
                self._out.flush()
            self._flush_rejects()
            return
        if not force and self._buffered < _FLUSH_BYTES and time.monotonic() - self._last_flush < _FLUSH_SECONDS:
            return
        assert self._out is not None
        self._consistent = False
        data = b"".join(self._out_buffer)
        if data and self.out_gzip:
            data = gzip.compress(data, mtime=0)  # one gzip member per flush: a cut at a flush is clean
        self._out.write(data)
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out_offset += len(data)
        self._out_buffer.clear()
        self._buffered = 0
        self._flush_rejects()
        _checkpoint.save(self.ckpt, self._state())
        self._saved_position = self.position
        self._last_flush = time.monotonic()
        self._consistent = True

    def _flush_rejects(self) -> None:
        if self._rej is None or not self._rej_buffer:
            return
        data = b"".join(self._rej_buffer)
        self._rej.write(data)
        self._rej.flush()
        if not self._stream_out:
            os.fsync(self._rej.fileno())
        self._rej_offset += len(data)
        self._rej_buffer.clear()

    def _state(self, done: bool = False) -> dict[str, Any]:
        return {
            "input": self.identity, "settings": self._settings(), "counts": self.counts,
            "position": self.position, "line": self.line, "offset": self.offset,
            "output_offset": self._out_offset, "rejects_offset": self._rej_offset, "done": done,
        }

    def _save_progress_after_failure(self) -> None:
        """Keep what is done: flush the chunks already handled and advance the checkpoint to them.

        When the failure struck half-way through applying a chunk or a flush, the checkpoint on
        disk is left as it is: it is still right, and resuming redoes the rest.
        """
        if self._consistent:
            try:
                self._flush(force=True)
            except Exception:  # noqa: BLE001 - the original failure matters more
                log.exception("could not save the latest progress")
        if not self._stream_out:
            log.warning(
                "progress saved after record %d; run again with --resume (resume=True) to continue",
                self._saved_position,
            )

    @contextlib.contextmanager
    def _deferred_interrupt(self) -> Iterator[None]:
        """Ctrl-C stops the run between chunks, not inside a library call; a second Ctrl-C stops it at once.

        Only in the main thread, and only when SIGINT has Python's default handler (an
        application's own handler, or SIGINT ignored, is left alone).
        """
        if threading.current_thread() is not threading.main_thread() or (
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield
            return

        def on_sigint(signum: int, frame: Any) -> None:
            if self._stop:
                raise KeyboardInterrupt
            self._stop = True

        signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def _check_stop(self) -> None:
        if self._stop:
            raise KeyboardInterrupt

    def _finish(self) -> None:
        self._flush(force=True)
        if self._stream_out:
            return
        _checkpoint.save(self.ckpt, self._state(done=True))
        self._close_files()
        self._publish()
        _checkpoint.remove(self.ckpt)

    def _publish(self) -> None:
        """Rename the finished partial output into place, durably."""
        assert self.out_path is not None
        os.replace(self.partial, self.out_path)
        _checkpoint.fsync_dir(self.out_path)

    def _close_files(self) -> None:
        for name in ("_out", "_rej"):
            f = getattr(self, name)
            if f is not None and f is not sys.stdout and not (self._stream_out and name == "_out"):
                f.close()
            setattr(self, name, None)

    # --- judging: executors --------------------------------------------------------------------

    def _pump(self, tasks: Iterator[tuple[Task | None, Meta]]) -> None:
        """Send chunks to the executor, a bounded number in flight, and handle results in input order."""
        o = self.o
        first = list(_take(tasks, 2))
        executor = o.executor if len(first) > 1 else "serial"  # one chunk: not worth starting workers
        if executor in ("processes", "dask") and self.fmt not in ("jsonl", "wxr"):
            self.chunker.packing = True
        classifier = self._in_process_classifier() if executor in ("serial", "threads") else None
        submit, close = make_executor(executor, workers=o.workers, classifier=classifier,
                                      given=o.classifier, dask_scheduler=o.dask_scheduler)
        if executor in ("processes", "dask") and not self.raw:
            # chunks made before the executor was chosen carry Records; workers need plain values
            first = [(repack(t), m) for t, m in first]
        max_in_flight = 2 * o.workers if executor != "serial" else 1
        pending: collections.deque[tuple[Meta, Any]] = collections.deque()
        try:
            for task, meta in _chain(first, tasks):
                self._check_stop()
                pending.append((meta, submit(task) if task is not None else None))
                while len(pending) >= max_in_flight:
                    self._handle(*pending.popleft())
                    self._check_stop()
            while pending:
                self._handle(*pending.popleft())
                self._check_stop()
        except BaseException:
            for _, future in pending:
                if future is not None and hasattr(future, "cancel"):
                    future.cancel()
            close(abort=True)
            raise
        close(abort=False)

    def _in_process_classifier(self) -> Classifier:
        o = self.o
        clf: Classifier
        if o.classifier is not None:
            clf = o.classifier
        elif o.backend == "local":
            clf = classifier_for(self.o.worker_spec())
        elif o.backend == "akismet":
            from ..akismet import AkismetClient

            clf = AkismetClient.from_env(pool_size=max(o.workers, 1))
        else:
            from ..guard import Guard

            clf = Guard.from_env(feedback=False)  # re-scoring is not moderation: nothing to record
        if o.rate is not None:
            clf = Throttled(clf, float(o.rate))
        return clf

    # --- writing: results in order --------------------------------------------------------------

    def _handle(self, meta: Meta, future: Any) -> None:
        result: Result | None = future.result() if future is not None else None
        rejects = meta.reader_rejects
        self._consistent = False
        if result is not None:
            if result.rejects:
                rejects = sorted(rejects + result.rejects, key=lambda r: r["position"])
            self._write_out(result.data)
            c = self.counts
            c["records"] += result.records
            c["spam"] += result.spam
            c["changed"] += result.changed
            c["written"] += result.written
            for action, n in result.actions.items():
                c["actions"][action] = c["actions"].get(action, 0) + n
        if rejects:
            self._note_rejects(rejects)
        self.position, self.line = meta.end_position, meta.end_line
        if self.raw:
            self.offset = meta.end_offset
        else:
            self.offset = None
        self._consistent = True
        if self._bar is not None:
            self._progress_update(meta)
        limit = self.o.max_rejects
        if limit is not None and self.counts["rejects"] > limit:
            where = f"; they are in {self.rej_path}" if self.rej_path else ""
            raise TooManyRejectsError(
                f"{self.counts['rejects']:,} records were rejected, more than the {limit:,} allowed "
                f"(max_rejects){where}. Fix the input or allow more."
            )
        self._flush()

    def _note_rejects(self, rejects: list[dict[str, Any]]) -> None:
        self.counts["rejects"] += len(rejects)
        if self._rej is not None:
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects).encode("utf-8", "replace")
            self._rej_buffer.append(data)
            return
        for r in rejects:
            if self.logged_rejects < _LOGGED_REJECTS:
                log.warning("skipped %s:%s: %s", r["source"], r["line"], r["reason"])
            elif self.logged_rejects == _LOGGED_REJECTS:
                log.warning("more records skipped; give a rejects file to keep them all")
            self.logged_rejects += 1

    # --- progress ---------------------------------------------------------------------------------

    def _progress_start(self, stream: IO[bytes]) -> None:
        wanted = self.o.progress
        if wanted is None:
            wanted = sys.stderr.isatty()
        if not wanted:
            return
        from tqdm import tqdm

        total = os.path.getsize(self.in_path) if self.in_path else None
        self._fd = _fileno(stream)
        # Plain JSONL: the bytes handled so far are known exactly; otherwise the file position
        # (a little ahead of the work: chunks in flight) stands in for it.
        self._exact = self.raw and not isinstance(stream, gzip.GzipFile)
        self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="rescore",
                         file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
        self._bar_started = time.monotonic()
        self._bar_records = 0

    def _progress_update(self, meta: Meta) -> None:
        done = None
        if self._exact and meta.end_offset is not None:
            done = meta.end_offset
        elif self._fd is not None:
            try:
                done = os.lseek(self._fd, 0, os.SEEK_CUR)
            except OSError:
                done = None
        if done is not None:
            self._bar.update(max(0, done - self._bar.n))
        self._bar_records = self.counts["records"] + self.counts["rejects"]
        seconds = max(time.monotonic() - self._bar_started, 1e-9)
        self._bar.set_postfix_str(
            f"{self._bar_records:,} records, {(self._bar_records - self._earlier) / seconds:,.0f}/s", refresh=False
        )


# --- helpers ----------------------------------------------------------------------------------------


def _policy() -> Any:
    """The Guard's policy (from the environment): local verdicts get the actions a Guard would give."""
    from ..policy import Policy

    return Policy.from_env()


def _take(it: Iterator[Any], n: int) -> Iterator[Any]:
    for _ in range(n):
        try:
            yield next(it)
        except StopIteration:
            return


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


def _binary_stdout() -> IO[bytes]:
    return sys.stdout.buffer


def _fileno(stream: IO[bytes]) -> int | None:
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None
