"""Fuzzing rescore end to end: whatever the dump, it agrees with read_dump, or fails in one line leaving nothing.

Each hostile dump (``tests/_hostile.py``) is read with read_dump and re-scored: the output
holds one row per Record read_dump gives, at its position, and the rejects file one line per
Reject; or both stop on the same documented error, and the run leaves no file behind. Never
another exception, never a hang. The library runs in-process with a tiny classifier (many
examples, chunk sizes that cut the input anywhere); the ``spamguard rescore`` command with the
local model on fewer.
"""

from __future__ import annotations

import contextlib
import io
import json
import os

from _hostile import DOCUMENTED_ERRORS, any_dump, fuzz_settings, read_everything, time_limit
from hypothesis import given
from hypothesis import strategies as st

from spamguard import Action, Verdict
from spamguard._spelling import command_line
from spamguard.batch import rescore
from spamguard.cli import main
from spamguard.dumps import Record, Reject


class Links:
    """Spam when the comment has a link: fast and deterministic, so the run is what is tested."""

    def check(self, comment):
        return self.check_many([comment])[0]

    def check_many(self, comments):
        return [Verdict(spam="http" in c.content, score=0.9 if "http" in c.content else 0.1, source="links",
                        action=Action.SPAM if "http" in c.content else Action.APPROVE) for c in comments]

    def submit_spam(self, comment, verdict=None):
        pass

    def submit_ham(self, comment, verdict=None):
        pass


def rows(path):
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def expected(items):
    records = [(i.position, i.id) for i in items if isinstance(i, Record)]
    rejects = [(i.position, i.line, i.reason) for i in items if isinstance(i, Reject)]
    return records, rejects


@fuzz_settings(ci_examples=100)
@given(dump=any_dump, chunk_size=st.sampled_from([1, 2, 3, 500]))
def test_rescore_writes_what_read_dump_reads_or_fails_leaving_nothing(tmp_path_factory, dump, chunk_size):
    """Output rows and rejects match read_dump's Records and Rejects, position for position, at any chunk size."""
    directory = tmp_path_factory.mktemp("fuzz")
    path = dump.write(directory)
    items, error = read_everything(path, dump.format)
    out, rejects = directory / "out.jsonl", directory / "rejects.jsonl"
    try:
        with time_limit():
            summary = rescore(path, out, format=dump.format, classifier=Links(), executor="serial",
                              chunk_size=chunk_size, rejects=rejects)
    except DOCUMENTED_ERRORS as exc:
        assert error is not None and type(exc) is type(error)
        assert sorted(os.listdir(directory)) == [dump.name]
        return
    assert error is None, f"read_dump stopped with {error!r}; rescore finished"
    records, rejected = expected(items)
    assert [(r["position"], r["id"]) for r in rows(out)] == records
    assert [(r["position"], r["line"], r["reason"]) for r in rows(rejects)] == rejected
    assert (summary.records, summary.rejects) == (len(records), len(rejected))
    assert sorted(os.listdir(directory)) == sorted([dump.name, "out.jsonl", "rejects.jsonl"])


@fuzz_settings(ci_examples=25)
@given(dump=any_dump)
def test_the_rescore_command_exits_0_or_1_in_one_line_never_a_traceback(tmp_path_factory, dump):
    """spamguard rescore with the local model: exit 0 and read_dump's records, or exit 1 and one line; never 2."""
    directory = tmp_path_factory.mktemp("fuzz")
    path = dump.write(directory)
    with command_line():  # the messages the command prints name its flags
        items, error = read_everything(path, dump.format)
    out, rejects = directory / "out.jsonl", directory / "rejects.jsonl"
    argv = ["rescore", str(path), "-o", str(out), "--rejects", str(rejects), "--executor", "serial", "--no-progress"]
    if dump.format:
        argv += ["--format", dump.format]
    stderr, stdout = io.StringIO(), io.StringIO()
    with time_limit(), contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        status = main(argv)
    assert stdout.getvalue() == ""
    if error is not None:
        assert status == 1
        assert stderr.getvalue() == f"spamguard: error: {error}\n"
        assert sorted(os.listdir(directory)) == [dump.name]
        return
    assert status == 0, stderr.getvalue()
    records, rejected = expected(items)
    assert [(r["position"], r["id"]) for r in rows(out)] == records
    assert [(r["position"], r["line"], r["reason"]) for r in rows(rejects)] == rejected
    assert all(r["source"] == "local" and 0 <= r["score"] <= 1 for r in rows(out))
