"""A real ``spamguard rescore`` killed mid-run (SIGKILL, SIGINT) and resumed: every record exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from spamguard.batch import rescore

N = 40_000


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    """A dump big enough to take a few seconds, with a few broken lines, and its clean re-scoring."""
    here = tmp_path_factory.mktemp("resume")
    src = here / "in.jsonl"
    with open(src, "w") as f:
        for i in range(1, N + 1):
            if i % 9973 == 0:
                f.write("{broken\n")
                continue
            text = f"Cheap meds at http://meds.example/{i} order now" if i % 3 == 0 else f"Good point about {i} things"
            f.write(json.dumps({"id": i, "comment_content": text, "comment_author": f"user{i % 50}"}) + "\n")
    clean = here / "clean.jsonl"
    rescore(src, clean, rejects=here / "clean-rejects.jsonl", workers=2, progress=False)
    return src, clean, here / "clean-rejects.jsonl"


def start(src, out, rejects, *extra):
    return subprocess.Popen(  # noqa: S603 - our own command line, built from test paths
        [sys.executable, "-m", "spamguard", "rescore", str(src), "-o", str(out), "--rejects", str(rejects),
         "--no-progress", "--workers", "2", "--chunk-size", "500", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )


def wait_for_progress(proc, checkpoint, at_least):
    """Wait until the checkpoint says at least ``at_least`` records are done (the run is mid-way)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        with contextlib.suppress(OSError, ValueError), open(checkpoint) as f:
            if json.load(f)["position"] >= at_least:
                return
        time.sleep(0.02)
    raise AssertionError("the run made no progress in 60 s")


def finish(proc):
    """Reap the process, and any worker it left, so nothing outlives the test."""
    try:
        proc.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def resume(src, out, rejects):
    proc = subprocess.run(  # noqa: S603 - our own command line, built from test paths
        [sys.executable, "-m", "spamguard", "rescore", str(src), "-o", str(out), "--rejects", str(rejects),
         "--no-progress", "--workers", "2", "--chunk-size", "500", "--resume", "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_same_as_clean(out, rejects, clean, clean_rejects):
    rows = out.read_bytes().splitlines()
    positions = [json.loads(r)["position"] for r in rows]
    assert len(positions) == len(set(positions)), "a record was written twice"
    assert out.read_bytes() == clean.read_bytes()
    assert rejects.read_bytes() == clean_rejects.read_bytes()
    assert not os.path.exists(str(out) + ".partial") and not os.path.exists(str(out) + ".checkpoint")


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_gives_every_record_exactly_once(dump, tmp_path):
    """SIGKILL (no chance to clean up) mid-run; --resume finishes with the clean run's output, byte for byte."""
    src, clean, clean_rejects = dump
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    psutil = pytest.importorskip("psutil")
    proc = start(src, out, rejects)
    wait_for_progress(proc, str(out) + ".checkpoint", 3_000)
    workers = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    _, alive = psutil.wait_procs(workers, timeout=5)
    finish(proc)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists(), "the run finished before it was killed; the test proves nothing"
    assert workers and not alive, "worker processes outlived the killed run"
    summary = resume(src, out, rejects)
    assert summary["resumed_from"] >= 3_000
    assert (summary["records"], summary["rejects"]) == (N - N // 9973, N // 9973)
    assert_same_as_clean(out, rejects, clean, clean_rejects)


@pytest.mark.slow
def test_ctrl_c_mid_run_saves_progress_then_resume_finishes(dump, tmp_path):
    """SIGINT stops the run with exit 130 and a note to resume; --resume then finishes it exactly once."""
    src, clean, clean_rejects = dump
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    proc = start(src, out, rejects)
    wait_for_progress(proc, str(out) + ".checkpoint", 3_000)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        finish(proc)
    assert proc.returncode == 130, err
    assert b"run again with --resume" in err
    assert not out.exists()
    summary = resume(src, out, rejects)
    assert summary["resumed_from"] >= 3_000
    assert_same_as_clean(out, rejects, clean, clean_rejects)
