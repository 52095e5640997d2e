"""The output side of a rescore run, and the commit protocol that makes it resumable: :class:`Output`.

To a file, output goes to ``OUTPUT.partial``, rejects to the rejects file, and both are
buffered. A *commit* writes the buffers, flushes and fsyncs them, and only then saves the
checkpoint (``OUTPUT.checkpoint``: the run's :class:`~spamguard.batch._summary.Progress` and
the two files' sizes), so after a crash the files hold at least what the checkpoint says.
Resuming cuts them back to those sizes and the run reads on from the recorded position; the
finished output is renamed into place (durably) and the checkpoint removed. To standard
output or a stream nothing is buffered or checkpointed: the rows go out as they come.

A run that fails before its checkpoint covers any record leaves nothing behind (there is
nothing to resume, and a checkpoint would only refuse the next run); so does one whose input
cannot be read (a damaged or unsafe dump: resuming would meet the same fault). Any other
failure keeps the output and checkpoint for ``resume``. A failure to write (a full disk) is an
:class:`~spamguard.errors.OutputError` that names the file and says what to do next.

Every file a run creates, truncates, renames or removes is handled here and nowhere else.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from .._spelling import option
from ..dumps import DumpFormatError
from ..errors import CheckpointError, OutputError, UnsafeXMLError
from . import _checkpoint
from ._options import RunOptions
from ._summary import Progress
from ._write import writer_for

__all__ = ["Output"]

log = logging.getLogger(__name__)

_FLUSH_BYTES = 1 << 20
"""Commit once this much output is buffered..."""
_FLUSH_SECONDS = 1.0
"""... or this long after the last commit, whichever comes first."""
_LOGGED_REJECTS = 10
"""Without a rejects file, the first rejects are logged, then one line says there are more."""


class Output:
    """The verdicts file (or stream), the rejects file and the checkpoint of one run.

    The run calls :meth:`check_paths` and :meth:`prepare` before it creates anything, then
    :meth:`open`; it writes each chunk's rows with :meth:`write` and its rejects with
    :meth:`reject` inside :meth:`changing` (while it also advances ``progress``), then calls
    :meth:`maybe_commit`; at the end :meth:`finish`, after a failure :meth:`after_failure`,
    and always :meth:`close`.
    """

    def __init__(self, options: RunOptions, progress: Progress) -> None:
        self._options = options
        self._progress = progress
        self.path = options.output_path
        self.rejects_path = options.rejects
        self._streaming = self.path is None
        self.partial = f"{self.path}.partial"
        self.checkpoint = f"{self.path}.checkpoint"
        self._out: IO[bytes] | None = None
        self._rej: IO[bytes] | None = None
        self._out_buffer: list[bytes] = []
        self._rej_buffer: list[bytes] = []
        self._buffered = 0
        self._out_offset = 0
        self._rej_offset = 0
        self._last_commit = time.monotonic()
        self._logged_rejects = 0
        self._identity: dict[str, Any] | None = None
        self._settings: dict[str, Any] = {}
        self._saved: dict[str, Any] | None = None  # the checkpoint this run resumes
        self._fresh_rejects = False  # the rejects file was created (or emptied) by this run
        # False while a chunk or a commit is half applied: a failure then must not save a checkpoint
        # (the one on disk is still right; the half-applied work is simply redone when resuming).
        self._consistent = True
        self.committed_position = 0
        """The input position the checkpoint on disk covers."""

    # --- before any file is created ------------------------------------------------------

    def check_paths(self) -> None:
        """Refuse an output or rejects path the run could not write, before any file is created.

        Raises :class:`~spamguard.errors.OutputError` naming the path as it was given.
        """
        if self.path is not None:
            _check_writable(self.path, "output")
        if self.rejects_path is not None:
            _check_writable(self.rejects_path, "rejects file")

    def prepare(self, input_format: str) -> bool:
        """Read and check the checkpoint, creating nothing; True when it says an earlier run had finished.

        A finished run interrupted while renaming its output is completed here. Raises
        :class:`~spamguard.errors.CheckpointError` for a checkpoint left without ``resume``, or
        one from another input or other settings.
        """
        o = self._options
        self._settings = self._resume_settings(input_format)
        if self._streaming:
            return False
        self._identity = _checkpoint.input_identity(o.input_path) if o.input_path else None
        saved = _checkpoint.load(self.checkpoint)
        if saved is not None and not o.resume:
            raise CheckpointError(
                f"{self.checkpoint} is there from an interrupted run: run again with {option('resume', True)} to "
                f"continue it, or delete it and {self.partial} to start over"
            )
        if saved is None:
            if o.resume:
                log.warning("no checkpoint at %s: nothing to resume, starting from the beginning", self.checkpoint)
            return False
        return self._check_resume(saved)

    # --- opening ---------------------------------------------------------------------------

    def open(self) -> None:
        """Create the output files, or reopen them to resume the run :meth:`prepare` found."""
        o = self._options
        if self._streaming:
            self._out = _stream(o.output)
            self._open_fresh_rejects()
            self.write(writer_for(o.output_format).header())
            return
        if self._saved is not None:
            self._reopen(self._saved)
            return
        with self._writing(self._output_name):
            self._out = open(self.partial, "wb")  # noqa: SIM115 - closed in close()
        self._open_fresh_rejects()
        self.write(writer_for(o.output_format).header())
        self.commit()

    def _resume_settings(self, input_format: str) -> dict[str, Any]:
        """What must be the same for a run to resume another."""
        o = self._options
        return {
            "format": input_format, "output_format": o.output_format, "output_gzip": o.output_gzip,
            "backend": o.backend if o.classifier is None else type(o.classifier).__name__,
            "model": o.model, "only_changed": o.only_changed, "rejects": o.rejects,
        }

    def _check_resume(self, saved: dict[str, Any]) -> bool:
        changed = _checkpoint.mismatch(saved.get("input", {}), self._identity or {})
        if changed:
            key, was, now = changed
            raise CheckpointError(
                f"cannot resume: the input is not the one the interrupted run read (its {key} was {was!r}, now "
                f"{now!r}); delete {self.checkpoint} and {self.partial} to start over"
            )
        changed = _checkpoint.mismatch(saved.get("settings", {}), self._settings)
        if changed:
            key, was, now = changed
            name = "a .gz output name" if key == "output_gzip" else option(key)
            raise CheckpointError(
                f"cannot resume with different settings: {name} was {was!r}, now {now!r}; use the same options"
            )
        self._progress.restore(saved)
        self.committed_position = self._progress.position
        if saved.get("done"):
            if os.path.exists(self.partial):
                self._publish()  # the rename was interrupted: finish it
            _checkpoint.remove(self.checkpoint)
            return True
        self._check_kept(self.partial, saved["output_offset"], "")
        if self.rejects_path is not None:
            self._check_kept(self.rejects_path, saved["rejects_offset"], "the rejects file ")
        self._saved = saved
        return False

    def _reopen(self, saved: dict[str, Any]) -> None:
        with self._writing(self._output_name):
            os.truncate(self.partial, saved["output_offset"])
            self._out = open(self.partial, "ab")  # noqa: SIM115 - closed in close()
        self._out_offset = saved["output_offset"]
        if self.rejects_path is not None:
            with self._writing(f"the rejects file {self.rejects_path}"):
                os.truncate(self.rejects_path, saved["rejects_offset"])
                self._rej = open(self.rejects_path, "ab")  # noqa: SIM115 - closed in close()
            self._rej_offset = saved["rejects_offset"]
        log.info("resuming after record %d (line %d)", self._progress.position, self._progress.line)

    def _check_kept(self, path: str, size: int, what: str) -> None:
        kept = os.path.getsize(path) if os.path.exists(path) else -1
        if kept < size:
            raise CheckpointError(
                f"cannot resume: {what}{path} is missing or shorter than the checkpoint says "
                f"({kept} < {size} bytes); delete {self.checkpoint} to start over"
            )

    def _open_fresh_rejects(self) -> None:
        if self.rejects_path is not None:
            with self._writing(f"the rejects file {self.rejects_path}"):
                self._rej = open(self.rejects_path, "wb")  # noqa: SIM115 - closed in close()
            self._fresh_rejects = True

    # --- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def changing(self) -> Iterator[None]:
        """Mark output and progress as half updated until the block ends; a failure inside leaves them marked.

        :meth:`after_failure` then keeps the checkpoint on disk as it is.
        """
        self._consistent = False
        yield
        self._consistent = True

    def write(self, data: bytes) -> None:
        """Add encoded output rows (buffered until the next commit, or written at once to a stream)."""
        if not data:
            return
        if self._streaming:
            assert self._out is not None
            with self._writing(self._output_name):
                self._out.write(data)
        else:
            self._out_buffer.append(data)
            self._buffered += len(data)

    def reject(self, rejects: list[dict[str, Any]]) -> None:
        """Keep rejects (JSON-ready dicts) for the rejects file; without one, log the first few."""
        if self._rej is not None:
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects).encode("utf-8", "replace")
            self._rej_buffer.append(data)
            return
        for r in rejects:
            if self._logged_rejects < _LOGGED_REJECTS:
                log.warning("skipped %s:%s: %s", r["source"], r["line"], r["reason"])
            elif self._logged_rejects == _LOGGED_REJECTS:
                log.warning("more records skipped; give a rejects file to keep them all")
            self._logged_rejects += 1

    # --- committing --------------------------------------------------------------------------

    def maybe_commit(self) -> None:
        """Commit when enough output is buffered or enough time has passed (a stream: flush now)."""
        if (
            not self._streaming
            and self._buffered < _FLUSH_BYTES
            and time.monotonic() - self._last_commit < _FLUSH_SECONDS
        ):
            return
        self.commit()

    def commit(self) -> None:
        """Write the buffered output and rejects, make them durable, then advance the checkpoint to the progress."""
        if self._streaming:
            if self._out is not None:
                with self._writing(self._output_name):
                    self._out.flush()
            self._write_rejects()
            return
        assert self._out is not None
        self._consistent = False
        data = b"".join(self._out_buffer)
        if data and self._options.output_gzip:
            data = gzip.compress(data, mtime=0)  # one gzip member per commit: a cut at a commit is clean
        with self._writing(self._output_name):
            self._out.write(data)
            self._out.flush()
            os.fsync(self._out.fileno())
        self._out_offset += len(data)
        self._out_buffer.clear()
        self._buffered = 0
        self._write_rejects()
        with self._writing(f"the checkpoint beside the output {self.path}"):
            _checkpoint.save(self.checkpoint, self._state())
        self.committed_position = self._progress.position
        self._last_commit = time.monotonic()
        self._consistent = True

    def _write_rejects(self) -> None:
        if self._rej is None or not self._rej_buffer:
            return
        data = b"".join(self._rej_buffer)
        with self._writing(f"the rejects file {self.rejects_path}"):
            self._rej.write(data)
            self._rej.flush()
            if not self._streaming:
                os.fsync(self._rej.fileno())
        self._rej_offset += len(data)
        self._rej_buffer.clear()

    def _state(self, done: bool = False) -> dict[str, Any]:
        return {
            "input": self._identity, "settings": self._settings, **self._progress.to_state(),
            "output_offset": self._out_offset, "rejects_offset": self._rej_offset, "done": done,
        }

    def after_failure(self, exc: BaseException) -> None:
        """Keep what is done for ``resume``, or leave nothing behind when there is nothing to resume.

        The chunks already handled are committed, unless the failure struck half-way through
        one: then the checkpoint on disk is left as it is (it is still right; resuming redoes
        the rest). Nothing is left when, after that, the checkpoint covers no record and this
        run created the files, or when the input cannot be read (resuming would meet the same
        fault).
        """
        if not self._streaming and isinstance(exc, (DumpFormatError, UnsafeXMLError)):
            self._abandon()
            return
        if self._consistent:
            try:
                self.commit()
            except Exception:  # noqa: BLE001 - the original failure matters more
                log.exception("could not save the latest progress")
        covered = self._progress.position if self._streaming else self.committed_position
        if self._saved is None and covered == 0:
            self._abandon()
            return
        if not self._streaming and not isinstance(exc, OutputError):  # an OutputError says it itself
            log.warning(
                "progress saved after record %d; run again with %s to continue",
                self.committed_position, option("resume", True),
            )

    def _abandon(self) -> None:
        """Remove every file this run (or the run it resumed) made: the partial output, its checkpoint, the rejects."""
        self.close()
        names = [] if self._streaming else [self.partial, self.checkpoint, self.checkpoint + ".tmp"]
        if self.rejects_path is not None and (self._fresh_rejects or self._saved is not None):
            names.append(self.rejects_path)
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    # --- finishing ---------------------------------------------------------------------------

    def finish(self) -> None:
        """Commit the rest; for a file, mark the checkpoint done, rename the output into place and remove it."""
        self.commit()
        if self._streaming:
            return
        self._consistent = False  # from here on, only resuming completes the run (the checkpoint says done)
        with self._writing(f"the checkpoint beside the output {self.path}"):
            _checkpoint.save(self.checkpoint, self._state(done=True))
        self.close()
        self._publish()
        _checkpoint.remove(self.checkpoint)

    def _publish(self) -> None:
        """Rename the finished partial output into place, durably."""
        assert self.path is not None
        with self._writing(self._output_name):
            os.replace(self.partial, self.path)
        _checkpoint.fsync_dir(self.path)

    def close(self) -> None:
        """Close the files this object opened (never standard output or a stream the caller gave).

        What a commit wrote is already flushed and fsynced; after a failed write the files'
        buffers still hold what could not be written, and closing them fails the same way: that
        second error is dropped.
        """
        for stream in (self._out if not self._streaming else None, self._rej):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._out = self._rej = None

    # --- errors ------------------------------------------------------------------------------

    @property
    def _output_name(self) -> str:
        return "standard output" if self.path is None else f"the output {self.path}"

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """Turn an OSError while writing ``what`` into an OutputError that names it and says what to do next."""
        try:
            yield
        except OSError as exc:
            raise OutputError(self._cannot_write(what, exc)) from exc

    def _cannot_write(self, what: str, exc: OSError) -> str:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            reason = "the disk is full" if exc.errno == errno.ENOSPC else "the disk quota is used up"
            fix = "free some space"
        else:
            reason, fix = exc.strerror or str(exc), "fix that"
        if self._streaming or (self._saved is None and self.committed_position == 0):
            return f"cannot write {what}: {reason}; {fix} and run again"
        return (
            f"cannot write {what}: {reason}. The progress up to record {self.committed_position:,} is saved: "
            f"{fix}, then run the same command with {option('resume', True)} to continue"
        )


def _check_writable(path: str, what: str) -> None:
    if os.path.isdir(path):
        raise OutputError(f"the {what} {path} is a directory; give the name of a file to write, e.g. {path}/out.jsonl")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise OutputError(f"cannot write the {what} {path}: there is no directory {directory}; create it first")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write the {what} {path}: no permission to create files in {directory}")


def _stream(output: Any) -> IO[bytes]:
    """The binary stream for an output that is not a path: the caller's stream, or standard output."""
    if output is None or isinstance(output, (str, os.PathLike)):
        return sys.stdout.buffer
    stream: IO[bytes] = output
    return stream
