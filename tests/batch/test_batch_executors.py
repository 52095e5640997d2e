"""Where chunks are judged: aborting a run's executor drops the work in flight at once."""

from __future__ import annotations

import threading
import time

import pytest

from spamguard import Action, Verdict
from spamguard.batch._executors import make_executor
from spamguard.batch._options import RunOptions
from spamguard.batch._task import Task
from spamguard.comment import Comment


class Sleepy:
    """Takes ``seconds`` to judge a chunk: chunks stay queued behind the one being judged."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def check(self, comment):
        return self.check_many([comment])[0]

    def check_many(self, comments):
        time.sleep(self.seconds)
        return [Verdict(spam=False, score=0.1, action=Action.APPROVE, source="sleepy") for _ in comments]

    def submit_spam(self, comment, verdict=None):
        pass

    def submit_ham(self, comment, verdict=None):
        pass


def task(position: int) -> Task:
    record = (position, position, str(position), None, None, "in.jsonl", {"content": f"comment {position}"})
    return Task("records", position, position, [record], 1, "in.jsonl", "jsonl", False, ("installed",), None)


def loky_workers(psutil):
    return [p for p in psutil.Process().children(recursive=True) if "LokyProcess" in " ".join(p.cmdline())]


@pytest.mark.slow
def test_aborting_worker_processes_with_chunks_queued_ends_at_once_and_leaves_no_worker(tmp_path):
    """Six chunks queued behind a busy worker: close(abort) returns in seconds, no loky thread dies, no worker lives on.

    Cancelling the queued futures before shutting the pool down, as the run once did, killed loky's
    manager thread (InvalidStateError) before it stopped the worker, and the process waited 60-90 s
    for it at exit.
    """
    psutil = pytest.importorskip("psutil")
    src = tmp_path / "in.jsonl"
    src.write_text('{"content": "x"}\n')
    assert Comment(content="comment 1")  # what the tasks carry is a valid comment
    options = RunOptions.decide(input=src, output=tmp_path / "out.jsonl", classifier=Sleepy(1.0),
                                executor="processes", workers=1)
    died: list[BaseException] = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: died.append(args.exc_value)
    try:
        submit, close = make_executor("processes", options)
        pending = [submit(task(i)) for i in range(1, 8)]
        pending[0].result(timeout=60)  # the worker is up and busy with the second chunk
        started = time.monotonic()
        close(True, pending[1:])
        took = time.monotonic() - started
        time.sleep(0.5)  # a dying manager thread reports here
    finally:
        threading.excepthook = previous_hook
    _, alive = psutil.wait_procs(loky_workers(psutil), timeout=5)
    assert (died, alive) == ([], [])
    assert took < 5, f"aborting took {took:.1f} s"


def test_an_abort_keeps_lokys_manager_thread_traceback_off_the_terminal():
    """loky's manager thread may die on a KeyError while an abort kills the workers: that traceback
    is dropped (the run reports its own one-line error); any other thread's still shows."""
    from spamguard.batch._executors import _quiet_manager_keyerror

    seen: list[str] = []
    previous = threading.excepthook
    def ours(args):
        seen.append(f"{args.thread.name}: {args.exc_type.__name__}")

    threading.excepthook = ours
    try:
        with _quiet_manager_keyerror():
            for name, error in [("ExecutorManagerThread", KeyError), ("ExecutorManagerThread", ValueError),
                                ("worker", KeyError)]:
                thread = threading.Thread(target=lambda e=error: (_ for _ in ()).throw(e(1)), name=name)
                thread.start()
                thread.join()
        assert threading.excepthook is ours  # the filter is gone once the shutdown is over
    finally:
        threading.excepthook = previous
    assert seen == ["ExecutorManagerThread: ValueError", "worker: KeyError"]
