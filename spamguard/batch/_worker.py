"""What runs on a batch worker (a process, a thread or a Dask worker): one chunk in, output bytes out.

A :class:`~spamguard.batch._task.Task` carries either raw JSONL bytes (read here, by
:mod:`._jsonl`, so reading is spread over the workers too), WXR comments as parsed, or records
already read; :func:`score_chunk` judges them and returns the encoded output rows, the rejects
and the counts as a :class:`~spamguard.batch._task.Result`. The classifier is built once per
worker process and kept (:func:`classifier_for`).
"""

from __future__ import annotations

import os
import pickle  # noqa: S403 - only our own classifier, handed from the parent process
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any

from ..classifier import Classifier
from ..dumps import Record, Reject, build_record
from ..errors import BackendUnavailableError, ConfigurationError, SpamGuardError
from ..verdict import Action, Verdict
from ._jsonl import parse_raw
from ._task import Result, Task, unpack_record
from ._write import writer_for

__all__ = ["score_chunk", "output_row", "classifier_for", "init_worker", "install_classifier"]

_NEW_STATUS = {"approve": "approved", "hold": "hold", "spam": "spam", "discard": "spam"}
_COMPARABLE = frozenset({"approved", "hold", "spam"})


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
            from ..local import LocalModel

            found = _CACHE[spec] = LocalModel.load(spec[1])
        return found


# --- scoring -----------------------------------------------------------------------------------


def score_chunk(task: Task, classifier: Classifier | None = None) -> Result:
    """Read (raw chunks), judge and encode one chunk; bad records become rejects."""
    clf = classifier if classifier is not None else classifier_for(task.spec)
    if task.kind == "raw":
        items = parse_raw(task)
    elif task.kind == "wxr":
        items = [build_record(*raw) for raw in task.payload]
    else:
        items = [unpack_record(item) for item in task.payload]
    records = [item for item in items if isinstance(item, Record)]
    rejects = [_reject_dict(item) for item in items if isinstance(item, Reject)]
    verdicts = _judge(clf, records)
    rows = []
    spam = changed = 0
    actions: dict[str, int] = {}
    scored = 0
    for record, verdict in zip(records, verdicts, strict=True):
        if isinstance(verdict, str):
            rejects.append({"position": record.position, "line": record.line, "reason": verdict,
                            "raw": repr(record.comment)[:200], "source": record.source})
            continue
        # The comment goes along: the honeypot rule needs it.
        action = verdict.action if verdict.action is not None else task.policy.decide(verdict, record.comment)
        row = output_row(record, verdict, action)
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


def output_row(record: Record, verdict: Verdict, action: Action) -> dict[str, Any]:
    """The output fields for one judged record (see ``spamguard.batch._write.OUTPUT_FIELDS``).

    ``action`` is the verdict's own, or the one the run's Policy gave a verdict that came
    without one.
    """
    if record.status in _COMPARABLE:
        changed: bool | None = _NEW_STATUS[action.value] != record.status
    elif record.status is None and record.label is not None:
        changed = record.label != bool(verdict.spam)
    else:
        changed = None
    return {
        "position": record.position,
        "id": record.id,
        "spam": bool(verdict.spam),
        "score": None if verdict.score is None else round(float(verdict.score), 6),
        "action": action.value,
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


def _reject_dict(reject: Reject) -> dict[str, Any]:
    return {"position": reject.position, "line": reject.line, "reason": reject.reason, "raw": reject.raw,
            "source": reject.source}


