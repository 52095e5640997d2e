"""What runs on a batch worker (a process, a thread or a Dask worker): one chunk in, output bytes out.

A :class:`Task` carries either raw JSONL bytes (parsed here, so reading is spread over the
workers too) or records already read; :func:`score_chunk` judges them and returns the encoded
output rows, the rejects and the counts as a :class:`Result`. The classifier is built once per
worker process and kept (:func:`classifier_for`).
"""

from __future__ import annotations

import io
import os
import pickle  # noqa: S403 - only our own classifier, handed from the parent process
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from .classifier import Classifier
from .comment import Comment
from .dumps._records import Record, Reject
from .dumps._write import writer_for
from .errors import BackendUnavailableError, ConfigurationError, SpamGuardError
from .verdict import Action, Verdict

__all__ = ["Task", "Result", "score_chunk", "classifier_for", "init_worker", "install_classifier", "pack_record"]

_NEW_STATUS = {"approve": "approved", "hold": "hold", "spam": "spam", "discard": "spam"}
_COMPARABLE = frozenset({"approved", "hold", "spam"})


@attrs.frozen
class Task:
    """One chunk of work: ``kind`` is ``"raw"`` (JSONL bytes), ``"wxr"`` (WXR comments as read) or ``"records"``."""

    kind: str
    base_position: int  # position of the first record in the chunk
    base_line: int  # line of the first byte of a raw chunk
    payload: Any
    expected: int  # records in a raw chunk, as the reader counts them
    source: str
    out_format: str
    only_changed: bool
    spec: tuple[Any, ...]
    policy: Any = None  # a spamguard Policy: the action for verdicts that come without one


@attrs.frozen
class Result:
    """What a chunk gave: encoded output rows, rejects (JSON-ready dicts) and counts."""

    data: bytes
    rejects: list[dict[str, Any]]
    records: int
    spam: int
    changed: int
    written: int
    actions: dict[str, int]


# --- the classifier, once per worker ----------------------------------------------------------

_CACHE: dict[tuple[Any, ...], Classifier] = {}
_CACHE_LOCK = threading.Lock()
_INSTALLED: Classifier | None = None


def init_worker(parent: int, pickled: bytes | None = None) -> None:
    """Worker process initializer: keep the classifier handed over (pickled), and follow the parent.

    A worker exits on its own within a second once its parent process is gone, so a run
    killed with SIGKILL leaves no worker behind.
    """
    if pickled is not None:
        install_classifier(pickled)
    # Ctrl-C reaches the whole process group; the parent stops the run between chunks and then
    # stops the workers, so a worker must not die half-way through a chunk on its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_follow_parent, args=(parent,), daemon=True, name="spamguard-parent-watch").start()


def _follow_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def install_classifier(pickled: bytes) -> None:
    """Keep the classifier the parent process handed over (pickled) for :func:`classifier_for`."""
    global _INSTALLED
    _INSTALLED = pickle.loads(pickled)  # noqa: S301 - made by our own parent process


def classifier_for(spec: tuple[Any, ...]) -> Classifier:
    """The classifier a spec names, loaded on first use and kept: ``("local", path_or_None)``."""
    if spec[0] == "installed":
        if _INSTALLED is None:
            raise ConfigurationError("no classifier was installed in this worker")
        return _INSTALLED
    with _CACHE_LOCK:
        found = _CACHE.get(spec)
        if found is None:
            if spec[0] != "local":
                raise ConfigurationError(f"unknown classifier spec {spec[0]!r}")
            from .local import LocalModel

            found = _CACHE[spec] = LocalModel.load(spec[1])
        return found


# --- records on the wire -----------------------------------------------------------------------


def pack_record(record: Record) -> tuple[Any, ...]:
    """A Record as plain picklable values (its comment as a field dict)."""
    fields = attrs.asdict(record.comment, recurse=False)
    fields["extra"] = dict(fields["extra"])
    return (record.position, record.line, record.id, record.status, record.label, record.source, fields)


def _unpack(item: Record | tuple[Any, ...]) -> Record:
    if isinstance(item, Record):
        return item
    position, line, ident, status, label, source, fields = item
    return Record(position=position, line=line, comment=Comment(**fields), id=ident, status=status,
                  label=label, source=source)


# --- scoring -----------------------------------------------------------------------------------


def score_chunk(task: Task, classifier: Classifier | None = None) -> Result:
    """Read (raw chunks), judge and encode one chunk; bad records become rejects."""
    clf = classifier if classifier is not None else classifier_for(task.spec)
    dp = dl = 0  # what to add to the reader's positions and lines (a raw chunk counts from 1)
    if task.kind == "raw":
        items, dp, dl = _parse_raw(task)
    elif task.kind == "wxr":
        from .dumps.wxr import build_record

        items = [build_record(*raw) for raw in task.payload]
    else:
        items = [_unpack(item) for item in task.payload]
    records = [item for item in items if isinstance(item, Record)]
    rejects = [_reject_dict(item, dp, dl) for item in items if isinstance(item, Reject)]
    verdicts = _judge(clf, records)
    rows = []
    spam = changed = 0
    actions: dict[str, int] = {}
    scored = 0
    for record, verdict in zip(records, verdicts, strict=True):
        if isinstance(verdict, str):
            rejects.append({"position": record.position + dp, "line": record.line + dl, "reason": verdict,
                            "raw": repr(record.comment)[:200], "source": record.source})
            continue
        decided = (task.policy.decide(verdict, record.comment)  # the comment too: the honeypot rule needs it
                   if verdict.action is None and task.policy is not None else None)
        row = output_row(record, verdict, dp, decided)
        scored += 1
        spam += bool(verdict.spam)
        changed += bool(row["changed"])
        actions[row["action"]] = actions.get(row["action"], 0) + 1
        if not task.only_changed or row["changed"]:
            rows.append(row)
    rejects.sort(key=lambda r: r["position"])
    data = writer_for(task.out_format).encode(rows) if rows else b""
    return Result(data=data, rejects=rejects, records=scored, spam=spam, changed=changed,
                  written=len(rows), actions=actions)


def output_row(record: Record, verdict: Verdict, shift: int = 0, action_: Action | None = None) -> dict[str, Any]:
    """The output fields for one judged record (see ``spamguard.dumps._write.OUTPUT_FIELDS``).

    ``shift`` is added to the record's position (records read from a chunk count from 1);
    ``action_`` is the action a policy gave a verdict that came without one.
    """
    chosen = verdict.action if verdict.action is not None else action_
    if chosen is not None:
        action = chosen.value
    else:
        action = "discard" if verdict.discard else "spam" if verdict.spam else "approve"
    if record.status in _COMPARABLE:
        changed: bool | None = _NEW_STATUS[action] != record.status
    elif record.status is None and record.label is not None:
        changed = record.label != bool(verdict.spam)
    else:
        changed = None
    return {
        "position": record.position + shift,
        "id": record.id,
        "spam": bool(verdict.spam),
        "score": None if verdict.score is None else round(float(verdict.score), 6),
        "action": action,
        "source": verdict.source,
        "reasons": list(verdict.reasons),
        "old_status": record.status,
        "changed": changed,
    }


def _judge(clf: Classifier, records: Sequence[Record]) -> list[Verdict | str]:
    """Verdicts in order; a record the classifier refuses gets the reason (a str) instead."""
    if not records:
        return []
    comments = [r.comment for r in records]
    try:
        return list(clf.check_many(comments))
    except BackendUnavailableError:
        raise
    except (SpamGuardError, ValueError):
        pass  # one bad comment spoils the batch call: judge them one by one to find it
    out: list[Verdict | str] = []
    for comment in comments:
        try:
            out.append(clf.check(comment))
        except BackendUnavailableError:
            raise
        except (SpamGuardError, ValueError) as exc:
            out.append(f"the classifier refused it: {exc}")
    return out


def _reject_dict(reject: Reject, dp: int = 0, dl: int = 0) -> dict[str, Any]:
    return {"position": reject.position + dp, "line": reject.line + dl, "reason": reject.reason, "raw": reject.raw,
            "source": reject.source}


def _parse_raw(task: Task) -> tuple[list[Record | Reject], int, int]:
    from .dumps._read import jsonl_item, read_records

    payload: bytes = task.payload
    # The common case, read here in one pass: no carriage returns but in CRLF line ends, so lines
    # end where the parent counted them (at b"\n") and where read_records would end them.
    if payload.count(b"\r") == payload.count(b"\r\n"):
        text = payload.decode("utf-8", "surrogateescape")
        if task.base_line == 1:
            text = text.removeprefix("\ufeff")  # what read_records' utf-8-sig takes off a file's start
        out: list[Record | Reject] = []
        position, source = task.base_position, task.source
        for number, line in enumerate(text.split("\n"), start=task.base_line):
            if not line or line.isspace():
                continue
            out.append(jsonl_item(line.rstrip("\r\n"), position, number, source))
            position += 1
        if len(out) == task.expected:
            return out, 0, 0
    items = list(read_records(io.BytesIO(task.payload), format="jsonl", source=task.source))
    if len(items) != task.expected:
        # The reader split lines differently (a bare carriage return inside a line, say): read
        # line by line so positions still match what the parent counted.
        return _parse_lines(task, read_records), 0, 0
    return items, task.base_position - 1, task.base_line - 1


def _parse_lines(task: Task, read: Callable[..., Iterable[Record | Reject]]) -> list[Record | Reject]:
    out: list[Record | Reject] = []
    position = task.base_position
    for offset, line in enumerate(task.payload.split(b"\n")):
        if not is_record_line(line, first=task.base_line == 1 and offset == 0):
            continue
        number = task.base_line + offset
        got = list(read(io.BytesIO(line), format="jsonl", source=task.source))
        if len(got) == 1:
            out.append(_shift(got[0], position - 1, number - 1))
        else:
            out.append(Reject(position=position, line=number, source=task.source,
                              reason="a carriage return or blank-looking character splits this line",
                              raw=line[:200].decode("utf-8", "replace")))
        position += 1
    return out


def is_record_line(line: bytes, *, first: bool = False) -> bool:
    """True when the JSONL reader counts this line as a record (anything but white space)."""
    if first:
        line = line.removeprefix(b"\xef\xbb\xbf")
    if line.isascii():
        return bool(line.strip())
    return bool(line.decode("utf-8", "surrogateescape").strip())


def _shift(item: Record | Reject, positions: int, lines: int) -> Record | Reject:
    if not positions and not lines:
        return item
    return attrs.evolve(item, position=item.position + positions, line=item.line + lines)
