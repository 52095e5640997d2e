"""The output side of a run: commits make output durable before the checkpoint says so; publishing; rejects."""

from __future__ import annotations

import gzip
import json
import logging
import os
import pathlib

import pytest

from spamguard import Verdict
from spamguard.batch import rescore
from spamguard.batch._options import RunOptions
from spamguard.batch._output import Output
from spamguard.batch._summary import Progress

ROWS = b'{"position": 1}\n{"position": 2}\n'
MORE = b'{"position": 3}\n{"position": 4}\n'


class Keyword:
    """Spam when the comment has a link."""

    def check(self, comment):
        return self.check_many([comment])[0]

    def check_many(self, comments):
        return [Verdict(spam="http" in c.content, score=0.5, source="keyword") for c in comments]

    def submit_spam(self, comment, verdict=None):
        pass

    def submit_ham(self, comment, verdict=None):
        pass


def opened(tmp_path, name="out.jsonl", **arguments):
    src = tmp_path / "in.jsonl"
    if not src.exists():
        src.write_text('{"content": "one"}\n{"content": "two"}\n')
    options = RunOptions.decide(input=src, output=tmp_path / name, classifier=Keyword(), executor="serial",
                                **arguments)
    progress = Progress()
    output = Output(options, progress)
    assert output.prepare("jsonl") is False
    output.open()
    return output, progress


def saved(output):
    with open(output.checkpoint, encoding="utf-8") as f:
        return json.load(f)


def test_a_commit_makes_the_output_durable_before_the_checkpoint_says_so(tmp_path):
    """Rows wait in memory until a commit; then the partial file holds them and the checkpoint covers exactly them."""
    output, progress = opened(tmp_path)
    with output.changing():
        output.write(ROWS)
        progress.position, progress.line, progress.offset = 2, 2, 38
    assert os.path.getsize(output.partial) == 0
    assert (saved(output)["position"], saved(output)["output_offset"]) == (0, 0)
    output.commit()
    state = saved(output)
    assert pathlib.Path(output.partial).read_bytes() == ROWS
    assert {k: state[k] for k in ("position", "line", "offset", "output_offset", "done")} == {
        "position": 2, "line": 2, "offset": 38, "output_offset": len(ROWS), "done": False}
    output.close()


def test_a_failure_half_way_through_a_chunk_leaves_the_checkpoint_where_it_was(tmp_path):
    """Inside changing() a failure saves nothing (resuming redoes the chunk); after it, what was handled is saved."""
    output, progress = opened(tmp_path)
    with output.changing():
        output.write(ROWS)
        progress.position = 2
    output.commit()
    with pytest.raises(RuntimeError), output.changing():
        output.write(MORE)
        raise RuntimeError("the chunk broke half-way")
    output.after_failure(RuntimeError("the chunk broke half-way"))
    assert (saved(output)["position"], os.path.getsize(output.partial)) == (2, len(ROWS))
    output.close()

    output, progress = opened(tmp_path, name="other.jsonl")
    with output.changing():
        output.write(ROWS)
        progress.position = 2
    output.after_failure(RuntimeError("between chunks"))  # a failure between chunks: the chunk handled is kept
    assert (saved(output)["position"], os.path.getsize(output.partial)) == (2, len(ROWS))
    output.close()


def test_gzip_output_is_one_member_a_commit_so_a_cut_at_the_checkpoint_reads_cleanly(tmp_path):
    """Each commit appends a whole gzip member: cut at any checkpoint's size, the file decompresses to the rows."""
    output, progress = opened(tmp_path, name="out.jsonl.gz")
    expected = b""
    for data in (ROWS, MORE):
        with output.changing():
            output.write(data)
            progress.position += 2
        output.commit()
        expected += data
        with open(output.partial, "rb") as f:
            assert gzip.decompress(f.read(saved(output)["output_offset"])) == expected
    output.close()


def test_a_run_stopped_between_its_last_checkpoint_and_the_rename_is_finished_by_resume(tmp_path, monkeypatch):
    """A checkpoint marked done with the partial file still there: resume renames it into place and reports the run."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "content": f"comment {i} http://x"}) + "\n" for i in range(7)))
    out = tmp_path / "out.jsonl"
    rescore(src, tmp_path / "clean.jsonl", classifier=Keyword(), executor="serial")
    real_replace = os.replace

    def crash_at_the_rename(src_path, dst_path):
        if str(src_path).endswith(".partial"):
            raise OSError("the machine stopped here")
        real_replace(src_path, dst_path)

    monkeypatch.setattr(os, "replace", crash_at_the_rename)
    with pytest.raises(OSError, match="the machine stopped here"):
        rescore(src, out, classifier=Keyword(), executor="serial")
    monkeypatch.setattr(os, "replace", real_replace)
    with open(f"{out}.checkpoint", encoding="utf-8") as f:
        assert json.load(f)["done"] is True
    assert not out.exists()
    summary = rescore(src, out, classifier=Keyword(), executor="serial", resume=True)
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
    assert (summary.records, summary.spam, summary.resumed_from) == (7, 7, 7)
    assert sorted(os.listdir(tmp_path)) == ["clean.jsonl", "in.jsonl", "out.jsonl"]


def test_without_a_rejects_file_the_first_ten_rejects_are_logged_then_one_line_says_there_are_more(
    tmp_path, caplog
):
    """Rejects are never silent: ten warnings name file and line, then one says to give a rejects file."""
    src = tmp_path / "in.jsonl"
    src.write_text("{broken\n" * 13 + '{"content": "fine"}\n')
    with caplog.at_level(logging.WARNING, logger="spamguard.batch"):
        summary = rescore(src, tmp_path / "out.jsonl", classifier=Keyword(), executor="serial")
    assert (summary.records, summary.rejects) == (1, 13)
    assert [r.getMessage().split(": broken")[0] for r in caplog.records] == [
        *(f"skipped {src}:{line}" for line in range(1, 11)),
        "more records skipped; give a rejects file to keep them all",
    ]
