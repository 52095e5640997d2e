"""The options of one rescore run, checked in one place before any file is opened: :class:`RunOptions`.

:meth:`RunOptions.decide` takes :func:`~spamguard.batch.rescore`'s keyword arguments, refuses
any it cannot use with an :class:`~spamguard.errors.InvalidOptionError` that names the option
and says what is allowed, and decides the defaults the caller left open (executor, workers,
chunk size, output format). The run then reads typed attributes, never a dict of options.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any

import attrs

from .._spelling import option
from ..akismet import AkismetClient
from ..classifier import Classifier
from ..dumps import DUMP_FORMATS
from ..errors import InvalidOptionError
from ..guard import Guard
from ._write import OUTPUT_FORMATS, output_format_for

__all__ = ["RunOptions", "BACKENDS", "EXECUTORS", "Input", "Output"]

BACKENDS = ("local", "akismet", "auto")
"""``local``: the local model; ``akismet``: the Akismet-compatible service; ``auto``: a Guard
(remote first, local fallback)."""
EXECUTORS = ("processes", "threads", "dask", "serial")
"""Where chunks are judged."""

LOCAL_CHUNK = 500
"""Records a chunk for the local model: large enough that a model call's fixed cost vanishes."""
REMOTE_CHUNK = 1
"""Records a chunk for remote backends: one call each, so ``workers`` calls are in flight."""
REMOTE_WORKERS = 16
"""Calls in flight for remote backends unless ``workers`` says otherwise."""

Input = str | os.PathLike[str] | IO[bytes]
"""A dump to read: a path, ``"-"`` for standard input, or a binary file."""
Output = str | os.PathLike[str] | IO[bytes] | None
"""Where verdicts go: a path, ``"-"``/None for standard output, or a binary file."""

_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _one_of(what: str, choices: tuple[str, ...]) -> _Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and value not in choices:
            raise InvalidOptionError(f"unknown {what} {value!r}; use one of {', '.join(choices)}")

    return check


def _whole(least: int) -> _Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and (not isinstance(value, int) or value < least):
            raise InvalidOptionError(
                f"{option(attribute.name)} must be a whole number of at least {least}, got {value!r}"
            )

    return check


def _calls_a_second(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (isinstance(value, (int, float)) and value > 0):
        raise InvalidOptionError(f"{option('rate')} must be a positive number of calls per second, got {value!r}")


def _fspath_or_none(value: str | os.PathLike[str] | None) -> str | None:
    return os.fspath(value) if value is not None else None


def _absolute_or_none(value: str | os.PathLike[str] | None) -> str | None:
    return os.path.abspath(os.fspath(value)) if value is not None else None


@attrs.frozen(kw_only=True)
class RunOptions:
    """Everything one rescore run was asked to do, checked, with every default decided.

    The attributes are :func:`~spamguard.batch.rescore`'s arguments (see its docstring), with
    ``executor``, ``workers``, ``chunk_size`` and ``output_format`` always set, ``model`` as a
    string and ``rejects`` as an absolute path. Build one with :meth:`decide`.
    """

    input: Input
    output: Output
    backend: str = attrs.field(validator=_one_of("backend", BACKENDS))
    executor: str = attrs.field(validator=_one_of("executor", EXECUTORS))
    format: str | None = attrs.field(validator=_one_of("input format", DUMP_FORMATS))
    output_format: str = attrs.field(validator=_one_of("output format", OUTPUT_FORMATS))
    workers: int = attrs.field(validator=_whole(1))
    chunk_size: int = attrs.field(validator=_whole(1))
    max_rejects: int | None = attrs.field(validator=_whole(0))
    rate: float | None = attrs.field(validator=_calls_a_second)
    classifier: Classifier | None
    model: str | None = attrs.field(converter=_fspath_or_none)
    dask_scheduler: Any
    resume: bool = attrs.field(converter=bool)
    rejects: str | None = attrs.field(converter=_absolute_or_none)
    only_changed: bool = attrs.field(converter=bool)
    progress: bool | None

    def __attrs_post_init__(self) -> None:
        if self.classifier is None and self.backend != "local" and self.executor in ("processes", "dask"):
            raise InvalidOptionError(
                f"{option('backend', self.backend)} waits on the network and runs on threads; "
                f"use {option('executor', 'threads')} (or leave it out), not {option('executor', self.executor)}"
            )
        if self.resume and (self.input_path is None or self.output_path is None):
            raise InvalidOptionError(
                f"{option('resume')} needs an input file and an output file (not standard input/output or a stream)"
            )
        self._check_no_file_is_written_over_another()

    def _check_no_file_is_written_over_another(self) -> None:
        """Refuse paths that would make the run write over its input (emptied when opened) or its own files."""
        written: dict[str, str] = {}  # absolute path -> what the run writes there
        if self.output_path:
            for suffix in ("", ".partial", ".checkpoint", ".checkpoint.tmp"):
                written[os.path.abspath(self.output_path + suffix)] = f"the output {self.output_path + suffix!r}"
        source = os.path.abspath(self.input_path) if self.input_path else None
        if source in written:
            raise InvalidOptionError(f"{written[source]} is the input; choose another output file")
        if self.rejects and self.rejects in written:
            what = written[self.rejects]
            raise InvalidOptionError(f"the rejects file {self.rejects!r} is {what}; choose another file")
        if self.rejects and self.rejects == source:
            raise InvalidOptionError(f"the rejects file {self.rejects!r} is the input; choose another file")

    @classmethod
    def decide(
        cls,
        *,
        input: Input,
        output: Output = None,
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
    ) -> RunOptions:
        """Check :func:`~spamguard.batch.rescore`'s arguments and decide the defaults they leave open.

        Raises :class:`~spamguard.errors.InvalidOptionError` for the first option that cannot be used.
        """
        if dask_scheduler is not None and executor is None:
            executor = "dask"
        elif dask_scheduler is not None and executor != "dask" and executor in EXECUTORS:
            raise InvalidOptionError(
                f"{option('dask_scheduler')} is given but {option('executor', executor)} too; "
                f"leave {option('executor')} out"
            )
        remote = _waits_on_network(backend, classifier)
        if executor is None:
            executor = "threads" if remote or classifier is not None else "processes"
        if workers is None:
            workers = (os.cpu_count() or 1) if executor in ("processes", "dask") else REMOTE_WORKERS
        if chunk_size is None:
            chunk_size = REMOTE_CHUNK if remote else LOCAL_CHUNK
        return cls(
            input=input, output=output, backend=backend, executor=executor, format=format,
            output_format=output_format or output_format_for(_path_or_none(output)), workers=workers,
            chunk_size=chunk_size, max_rejects=max_rejects, rate=rate, classifier=classifier, model=model,
            dask_scheduler=dask_scheduler, resume=resume, rejects=rejects, only_changed=only_changed,
            progress=progress,
        )

    @property
    def input_path(self) -> str | None:
        """The input's path; None for standard input or a stream."""
        return _path_or_none(self.input)

    @property
    def output_path(self) -> str | None:
        """The output's path; None for standard output or a stream."""
        return _path_or_none(self.output)

    @property
    def output_gzip(self) -> bool:
        """True when the output file is to be gzip-compressed (its name ends in ``.gz``)."""
        return bool(self.output_path and self.output_path.lower().endswith(".gz"))

    @property
    def remote(self) -> bool:
        """True when judging waits on the network: a remote backend, or an Akismet client or Guard passed in."""
        return _waits_on_network(self.backend, self.classifier)

    def worker_spec(self) -> tuple[Any, ...]:
        """What names the classifier on a worker: the one installed there, or ``("local", model path or None)``."""
        if self.classifier is not None:
            return ("installed",)
        return ("local", self.model)


def _waits_on_network(backend: str, classifier: Classifier | None) -> bool:
    if classifier is None:
        return backend != "local"
    remote = (AkismetClient, Guard)
    # A wrapper that keeps the classifier it wraps as .inner (a rate limiter, say) waits as long as it does.
    return isinstance(classifier, remote) or isinstance(getattr(classifier, "inner", None), remote)


def _path_or_none(value: Any) -> str | None:
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        return None if text == "-" else str(text)
    return None
