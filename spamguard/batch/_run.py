"""The rescore run: :func:`rescore` and the loop that joins the parts.

Options are checked (:mod:`._options`), the input is cut into chunks (:mod:`._chunks`), the
chunks are judged by an executor (:mod:`._executors`, running :mod:`._worker`), and the
results, in input order, go to the output (:mod:`._output`, which owns the files and the
checkpoint). This module only keeps a bounded number of chunks in flight and counts.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Iterator
from typing import IO, Any

from .._spelling import option
from ..classifier import Classifier
from ..dumps import dump_format, open_binary, source_name
from ..errors import TooManyRejectsError
from ..policy import Policy
from ._bar import ProgressBar
from ._chunks import Chunker, Meta, repack, skip_bytes
from ._executors import Close, Submit, make_executor
from ._interrupt import DeferredInterrupt
from ._options import RunOptions
from ._output import Output
from ._summary import Progress, Summary
from ._task import Result, Task

__all__ = ["rescore"]


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

    ``resume=True`` continues an interrupted run into the same output (see
    :mod:`spamguard.batch`); without it an existing checkpoint is an error rather than silently dropped.
    ``rejects`` is a JSONL file for the records that could not be read or judged;
    ``max_rejects`` makes more than that many a :class:`~spamguard.TooManyRejectsError`.
    ``only_changed`` writes only records whose verdict differs from the dump's status.
    ``progress`` shows a bar on stderr (default: when stderr is a terminal).

    An option it cannot use raises :class:`~spamguard.InvalidOptionError` (a ``ValueError``)
    that names it, before any file is opened.
    """
    options = RunOptions.decide(
        input=input, output=output, format=format, output_format=output_format, backend=backend,
        classifier=classifier, model=model, resume=resume, workers=workers, executor=executor,
        dask_scheduler=dask_scheduler, rejects=rejects, max_rejects=max_rejects, only_changed=only_changed,
        rate=rate, chunk_size=chunk_size, progress=progress,
    )
    run = _Run(options)
    return run.execute()


class _Run:
    """One run: chunks in, a bounded number in flight, results handed to the output in input order."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.progress = Progress()
        self.output = Output(options, self.progress)
        # Local verdicts get the actions a Guard would give them, under the same settings.
        self.policy = Policy.from_env()
        self.interrupt = DeferredInterrupt()
        self.bar: ProgressBar | None = None
        self.resumed_from = 0  # the input position an earlier run had reached
        self.earlier = 0  # records the earlier runs handled

    def execute(self) -> Summary:
        """Run to the end (or to a failure, with the progress saved) and say what was done.

        Everything that can be checked is checked before a file is created: the output and
        rejects paths, the input (opened, its format told, its first chunks read), the
        checkpoint when resuming and the classifier (the executor is started). A run that
        fails before its checkpoint covers a record, or because its input cannot be read,
        leaves no file behind (see :meth:`Output.after_failure`).
        """
        started = time.monotonic()
        o = self.options
        self.output.check_paths()
        stream, head = open_binary(o.input)
        try:
            fmt = o.format or dump_format(head, o.input)
            finished = self.output.prepare(fmt)
            self.resumed_from, self.earlier = self.progress.position, self.progress.counts.handled
            if finished:
                return self._summary(0.0, 0.0)  # the checkpoint says an earlier run had finished
            self.raw = fmt == "jsonl"
            tasks = self._tasks(stream, fmt, source_name(o.input))
            first = list(_take(tasks, 2))  # a header or encoding the reader refuses shows up here
            kind, submit, close = self._start(first, fmt)
            if kind in ("processes", "dask") and not self.raw:
                # chunks made before the executor was chosen carry Records; workers need plain values
                first = [(repack(t), m) for t, m in first]
            try:
                self._open_output(stream, close)
                with self.interrupt.installed():
                    self._pump(_chain(first, tasks), submit, close, in_flight=2 * o.workers if kind != "serial" else 1)
                self.output.finish()
            except BaseException as exc:
                self.output.after_failure(exc)
                raise
        finally:
            stream.close()
            self.output.close()
            if self.bar is not None:
                self.bar.close()
        elapsed = time.monotonic() - started
        handled = self.progress.counts.handled - self.earlier
        return self._summary(elapsed, handled / elapsed if elapsed > 0 else 0.0)

    def _summary(self, elapsed: float, rate: float) -> Summary:
        c = self.progress.counts
        return Summary(
            records=c.records, spam=c.spam, changed=c.changed, rejects=c.rejects, written=c.written,
            elapsed=elapsed, rate=rate, actions=c.actions, resumed_from=self.resumed_from,
            output=self.options.output_path, rejects_file=self.options.rejects,
        )

    def _tasks(self, stream: IO[bytes], fmt: str, source: str) -> Iterator[tuple[Task | None, Meta]]:
        """The chunks of work, from where an earlier run stopped."""
        o, p = self.options, self.progress
        self.chunker = Chunker(size=o.chunk_size, source=source, out_format=o.output_format,
                               only_changed=o.only_changed, spec=o.worker_spec(), policy=self.policy)
        if self.raw:
            if p.position:
                skip_bytes(stream, p.offset or 0)
            return self.chunker.raw(stream, offset=p.offset or 0, line=p.line, position=p.position)
        if fmt == "wxr":
            return self.chunker.wxr(stream, after=self.resumed_from)
        return self.chunker.records(stream, fmt, after=self.resumed_from, line=p.line)

    def _start(self, first: list[tuple[Task | None, Meta]], fmt: str) -> tuple[str, Submit, Close]:
        """Choose and start the executor (one chunk in all: judged here, not worth starting workers)."""
        o = self.options
        kind = o.executor if len(first) > 1 else "serial"
        if kind in ("processes", "dask") and fmt not in ("jsonl", "wxr"):
            self.chunker.packing = True
        submit, close = make_executor(kind, o)
        return kind, submit, close

    def _open_output(self, stream: IO[bytes], close: Close) -> None:
        """Create the output files (or reopen them to resume) and the progress bar; on failure, stop the executor."""
        o = self.options
        try:
            self.output.open()
            if ProgressBar.wanted(o.progress):
                self.bar = ProgressBar(stream, input_path=o.input_path, raw=self.raw, earlier=self.earlier)
        except BaseException:
            close(True, [])
            raise

    def _pump(self, tasks: Iterator[tuple[Task | None, Meta]], submit: Submit, close: Close, *, in_flight: int) -> None:
        """Send chunks to the executor, at most ``in_flight`` at a time, and handle results in input order."""
        pending: collections.deque[tuple[Meta, Any]] = collections.deque()
        try:
            for task, meta in tasks:
                self.interrupt.check()
                pending.append((meta, submit(task) if task is not None else None))
                while len(pending) >= in_flight:
                    self._handle(*pending.popleft())
                    self.interrupt.check()
            while pending:
                self._handle(*pending.popleft())
                self.interrupt.check()
        except BaseException:
            close(True, [future for _, future in pending if future is not None])
            raise
        close(False, [])

    def _handle(self, meta: Meta, future: Any) -> None:
        """Count a chunk's result and hand its rows and rejects to the output."""
        result: Result | None = future.result() if future is not None else None
        rejects = meta.reader_rejects
        if result is not None and result.rejects:
            rejects = sorted(rejects + result.rejects, key=lambda r: r["position"])
        with self.output.changing():
            if result is not None:
                self.output.write(result.data)
                self.progress.counts.add(result)
            if rejects:
                self.progress.counts.rejects += len(rejects)
                self.output.reject(rejects)
            self.progress.passed(meta, raw=self.raw)
        if self.bar is not None:
            self.bar.update(meta, self.progress.counts.handled)
        limit = self.options.max_rejects
        if limit is not None and self.progress.counts.rejects > limit:
            where = f"; they are in {self.options.rejects}" if self.options.rejects else ""
            raise TooManyRejectsError(
                f"{self.progress.counts.rejects:,} records were rejected, more than the {limit:,} allowed "
                f"({option('max_rejects', limit)}){where}. Fix the input or allow more."
            )
        self.output.maybe_commit()


def _take(it: Iterator[Any], n: int) -> Iterator[Any]:
    for _ in range(n):
        try:
            yield next(it)
        except StopIteration:
            return


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest
