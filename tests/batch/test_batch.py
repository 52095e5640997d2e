"""The re-scoring engine: one output record per input record, rejects, checkpoints, resume, executors."""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import threading
import time

import pytest
from wxr_samples import comment_xml, item_xml, write

from spamguard import BackendUnavailableError, CheckpointError, TooManyRejectsError, Verdict
from spamguard.batch import Summary, rescore
from spamguard.dumps import Record, Reject, read_dump


class Keyword:
    """A tiny deterministic classifier: a link makes spam. Fails, or presses Ctrl-C, when told to."""

    def __init__(self, fail_at: str | None = None, interrupt_at: str | None = None) -> None:
        self.fail_at = fail_at
        self.interrupt_at = interrupt_at

    def check(self, comment):
        return self.check_many([comment])[0]

    def check_many(self, comments):
        out = []
        for c in comments:
            if self.interrupt_at is not None and self.interrupt_at in c.content:
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does
            if self.fail_at is not None and self.fail_at in c.content:
                raise BackendUnavailableError("the test backend went away")
            spam = "http" in c.content
            out.append(Verdict(spam=spam, score=0.9 if spam else 0.1, source="keyword",
                               reasons=("has a link",) if spam else ()))
        return out

    def submit_spam(self, comment, verdict=None):
        pass

    def submit_ham(self, comment, verdict=None):
        pass


def make_jsonl(path, n, *, bad=()):
    """n comments (every third with a link); lines listed in ``bad`` are broken on purpose."""
    with open(path, "wb") as f:
        for i in range(1, n + 1):
            if i in bad:
                f.write(b"{not json\n")
                continue
            text = f"comment {i} see http://x.example/{i}" if i % 3 == 0 else f"comment {i} thanks"
            f.write(json.dumps({"id": f"c{i}", "comment_content": text, "label": "spam" if i % 3 == 0 else "ham"})
                    .encode() + b"\n")
    return path


def read_jsonl(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.splitlines()]


def test_every_input_record_gets_an_output_record_with_its_verdict(tmp_path):
    """JSONL in, JSONL out: id, position and the verdict fields, in input order."""
    src = make_jsonl(tmp_path / "in.jsonl", 4)
    summary = rescore(src, tmp_path / "out.jsonl", classifier=Keyword(), executor="serial")
    assert read_jsonl(tmp_path / "out.jsonl") == [
        {"position": 1, "id": "c1", "spam": False, "score": 0.1, "action": "approve", "source": "keyword",
         "reasons": [], "old_status": None, "changed": False},
        {"position": 2, "id": "c2", "spam": False, "score": 0.1, "action": "approve", "source": "keyword",
         "reasons": [], "old_status": None, "changed": False},
        {"position": 3, "id": "c3", "spam": True, "score": 0.9, "action": "spam", "source": "keyword",
         "reasons": ["has a link"], "old_status": None, "changed": False},
        {"position": 4, "id": "c4", "spam": False, "score": 0.1, "action": "approve", "source": "keyword",
         "reasons": [], "old_status": None, "changed": False},
    ]
    assert attrs_without_time(summary) == {
        "records": 4, "spam": 1, "ham": 3, "changed": 0, "rejects": 0, "written": 4,
        "actions": {"approve": 3, "spam": 1}, "resumed_from": 0, "spam_rate": 0.25,
        "output": str(tmp_path / "out.jsonl"), "rejects_file": None,
    }
    assert not os.path.exists(tmp_path / "out.jsonl.partial")
    assert not os.path.exists(tmp_path / "out.jsonl.checkpoint")


def attrs_without_time(summary: Summary) -> dict:
    data = summary.to_dict()
    del data["elapsed"], data["rate"]
    return data


def test_bad_records_go_to_the_rejects_file_and_the_run_goes_on(tmp_path):
    """A broken JSON line, a record without content and invalid UTF-8: rejected with line and reason."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": 1, "content": "fine"}\n'
        b"{broken\n"
        b"\n"
        b'{"id": 3, "content": ""}\n'
        b'{"id": 4, "content": "caf\xe9"}\n'
        b'{"id": 5, "content": "also fine"}\n'
    )
    summary = rescore(src, tmp_path / "out.jsonl", classifier=Keyword(), executor="serial",
                      rejects=tmp_path / "rejects.jsonl")
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["1", "5"]
    rejects = read_jsonl(tmp_path / "rejects.jsonl")
    assert [(r["position"], r["line"], r["reason"]) for r in rejects] == [
        (2, 2, "broken JSON: Expecting property name enclosed in double quotes at column 2"),
        (3, 4, "no content"),
        (4, 5, "invalid UTF-8"),
    ]
    assert rejects[0]["raw"] == "{broken" and rejects[0]["source"] == str(src)
    assert (summary.records, summary.rejects) == (2, 3)


def test_too_many_rejects_fail_the_run_and_keep_the_progress(tmp_path):
    """max_rejects: one more reject than allowed is a failure; the checkpoint stays for a resume."""
    src = make_jsonl(tmp_path / "in.jsonl", 50, bad=(10, 20, 30))
    out = tmp_path / "out.jsonl"
    with pytest.raises(TooManyRejectsError, match=r"3 records were rejected, more than the 2 allowed"):
        rescore(src, out, classifier=Keyword(), executor="serial", chunk_size=5, max_rejects=2)
    assert os.path.exists(str(out) + ".checkpoint") and not os.path.exists(out)
    summary = rescore(src, out, classifier=Keyword(), executor="serial", chunk_size=5, resume=True)
    assert (summary.records, summary.rejects) == (47, 3)
    assert [r["position"] for r in read_jsonl(out)] == [i for i in range(1, 51) if i not in (10, 20, 30)]


def test_csv_output_has_a_header_and_one_row_per_record(tmp_path):
    """A .csv output is CSV: the header, then reasons joined by '; '."""
    src = make_jsonl(tmp_path / "in.jsonl", 3)
    rescore(src, tmp_path / "out.csv", classifier=Keyword(), executor="serial")
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "position,id,spam,score,action,source,reasons,old_status,changed",
        "1,c1,false,0.1,approve,keyword,,,false",
        "2,c2,false,0.1,approve,keyword,,,false",
        "3,c3,true,0.9,spam,keyword,has a link,,false",
    ]


def test_gzip_in_and_gzip_out(tmp_path):
    """A .gz input is read transparently and a .gz output is written compressed."""
    plain = make_jsonl(tmp_path / "in.jsonl", 30)
    packed = tmp_path / "in.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    rescore(plain, tmp_path / "a.jsonl", classifier=Keyword(), executor="serial", chunk_size=7)
    rescore(packed, tmp_path / "b.jsonl.gz", classifier=Keyword(), executor="serial", chunk_size=7)
    assert read_jsonl(tmp_path / "b.jsonl.gz") == read_jsonl(tmp_path / "a.jsonl")


def test_streams_in_and_out(tmp_path):
    """A binary file object in and out (what the CLI does with - for stdin and stdout)."""
    src = make_jsonl(tmp_path / "in.jsonl", 5)
    sink = io.BytesIO()
    with open(src, "rb") as f:
        summary = rescore(f, sink, classifier=Keyword(), executor="serial")
    assert [json.loads(line)["position"] for line in sink.getvalue().splitlines()] == [1, 2, 3, 4, 5]
    assert summary.output is None


def test_wxr_output_says_the_old_status_and_only_changed_keeps_the_changes(tmp_path):
    """For a WordPress export the old status comes along; only_changed keeps the ones that change."""
    src = write(tmp_path, item_xml(
        "https://blog.example/p/",
        comment_xml(1, "thanks", "1"),                    # approved, stays approved
        comment_xml(2, "buy at http://x.example", "1"),   # approved, now spam: changed
        comment_xml(3, "thanks again", "spam"),           # spam, now approved: changed
        comment_xml(4, "more http://y.example", "spam"),  # spam, stays spam
        comment_xml(5, "meh", "trash"),                   # trash is a deletion, not a verdict
    ))
    summary = rescore(src, tmp_path / "all.jsonl", classifier=Keyword(), executor="serial")
    rows = read_jsonl(tmp_path / "all.jsonl")
    assert [(r["id"], r["old_status"], r["action"], r["changed"]) for r in rows] == [
        ("1", "approved", "approve", False), ("2", "approved", "spam", True), ("3", "spam", "approve", True),
        ("4", "spam", "spam", False), ("5", "trash", "approve", None),
    ]
    assert summary.changed == 2
    changed = rescore(src, tmp_path / "changed.jsonl", classifier=Keyword(), executor="serial", only_changed=True)
    assert [r["id"] for r in read_jsonl(tmp_path / "changed.jsonl")] == ["2", "3"]
    assert (changed.records, changed.written) == (5, 2)


def test_executors_write_the_same_output(tmp_path):
    """Serial and threads (several chunks in flight) give byte-identical output."""
    src = make_jsonl(tmp_path / "in.jsonl", 500, bad=(77,))
    rescore(src, tmp_path / "serial.jsonl", classifier=Keyword(), executor="serial", chunk_size=40)
    rescore(src, tmp_path / "threads.jsonl", classifier=Keyword(), executor="threads", workers=4, chunk_size=40)
    assert (tmp_path / "threads.jsonl").read_bytes() == (tmp_path / "serial.jsonl").read_bytes()


def test_a_failed_run_resumes_to_the_same_output_as_a_clean_run(tmp_path):
    """A backend that goes away mid-run stops it with progress saved; resume finishes it exactly once."""
    src = make_jsonl(tmp_path / "in.jsonl", 300, bad=(5, 250))
    rescore(src, tmp_path / "clean.jsonl", classifier=Keyword(), executor="serial", chunk_size=10,
            rejects=tmp_path / "clean-rejects.jsonl")
    out = tmp_path / "out.jsonl"
    with pytest.raises(BackendUnavailableError):
        rescore(src, out, classifier=Keyword(fail_at="comment 150 "), executor="threads", workers=3,
                chunk_size=10, rejects=tmp_path / "rejects.jsonl")
    assert not out.exists() and (tmp_path / "out.jsonl.partial").exists()
    summary = rescore(src, out, classifier=Keyword(), executor="threads", workers=3, chunk_size=10,
                      rejects=tmp_path / "rejects.jsonl", resume=True)
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
    assert (tmp_path / "rejects.jsonl").read_bytes() == (tmp_path / "clean-rejects.jsonl").read_bytes()
    assert summary.resumed_from > 0 and (summary.records, summary.rejects) == (298, 2)


def test_resume_after_a_crash_between_checkpoints_cuts_the_extra_output(tmp_path):
    """Output written after the last checkpoint (a crash before it advanced) is cut off, not duplicated."""
    src = make_jsonl(tmp_path / "in.jsonl", 100)
    rescore(src, tmp_path / "clean.jsonl", classifier=Keyword(), executor="serial", chunk_size=10)
    out = tmp_path / "out.jsonl"
    with pytest.raises(BackendUnavailableError):
        rescore(src, out, classifier=Keyword(fail_at="comment 55 "), executor="serial", chunk_size=10)
    with open(str(out) + ".partial", "ab") as f:
        f.write(b'{"position": 999, "half a line')  # bytes the checkpoint does not cover
    rescore(src, out, classifier=Keyword(), executor="serial", chunk_size=10, resume=True)
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()


def test_a_left_checkpoint_needs_resume_and_the_same_input_and_settings(tmp_path):
    """Without resume an interrupted run is not silently overwritten; resume refuses a changed input or settings."""
    src = make_jsonl(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    with pytest.raises(BackendUnavailableError):
        rescore(src, out, classifier=Keyword(fail_at="comment 20 "), executor="serial", chunk_size=5)
    with pytest.raises(CheckpointError, match=r"out\.jsonl\.checkpoint is there from an interrupted run"):
        rescore(src, out, classifier=Keyword(), executor="serial", chunk_size=5)
    with pytest.raises(CheckpointError, match="different settings: only_changed was False, now True"):
        rescore(src, out, classifier=Keyword(), executor="serial", only_changed=True, resume=True)
    make_jsonl(src, 41)
    with pytest.raises(CheckpointError, match="the input is not the one the interrupted run read"):
        rescore(src, out, classifier=Keyword(), executor="serial", resume=True)


def test_resume_refuses_an_input_edited_past_its_first_64_kb_with_its_size_kept(tmp_path):
    """One byte changed deep inside the input, the size kept: the checkpoint's digest of the whole file refuses it."""
    src = make_jsonl(tmp_path / "in.jsonl", 3000)
    out = tmp_path / "out.jsonl"
    with pytest.raises(BackendUnavailableError):
        rescore(src, out, classifier=Keyword(fail_at="comment 20 "), executor="serial", chunk_size=5)
    data = bytearray(src.read_bytes())
    at = data.index(b"comment 2500 thanks")
    assert at > 3 * 65_536
    data[at:at + 19] = b"comment 2500 THANKS"
    src.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"the input is not the one the interrupted run read \(its sha256 was "):
        rescore(src, out, classifier=Keyword(), executor="serial", resume=True)


def test_a_checkpoint_from_an_older_version_is_refused_with_what_to_do(tmp_path):
    """A version-1 checkpoint (it knew the input by its first 64 KB) is not resumed; the error says to delete it."""
    src = make_jsonl(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.checkpoint").write_text(json.dumps({"version": 1, "input": {"head_sha256": "0" * 64}}))
    with pytest.raises(CheckpointError, match="is not a checkpoint this version of spamguard writes; delete it"):
        rescore(src, out, classifier=Keyword(), executor="serial", resume=True)


def test_resume_with_no_checkpoint_starts_from_the_beginning(tmp_path):
    """--resume on a run that never started (or already finished) simply does the whole run."""
    src = make_jsonl(tmp_path / "in.jsonl", 12)
    summary = rescore(src, tmp_path / "out.jsonl", classifier=Keyword(), executor="serial", resume=True)
    assert (summary.records, summary.resumed_from) == (12, 0)


class Slow:
    """A classifier that takes a while per call and counts how many calls overlap."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.calls: list[float] = []

    def check(self, comment):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.calls.append(time.monotonic())
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        return Verdict(spam=False, score=None, source="slow")

    def check_many(self, comments):
        return [self.check(c) for c in comments]

    def submit_spam(self, comment, verdict=None):
        pass

    def submit_ham(self, comment, verdict=None):
        pass


def test_remote_style_work_keeps_the_asked_number_of_calls_in_flight(tmp_path):
    """threads with workers=16 and one record a chunk: exactly 16 calls overlap, never more."""
    src = make_jsonl(tmp_path / "in.jsonl", 64)
    slow = Slow(0.05)
    rescore(src, tmp_path / "out.jsonl", classifier=slow, executor="threads", workers=16, chunk_size=1)
    assert slow.most == 16
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 64


def test_rate_caps_calls_per_second(tmp_path):
    """rate=N spaces the calls N a second across all threads."""
    src = make_jsonl(tmp_path / "in.jsonl", 11)
    slow = Slow(0.0)
    started = time.monotonic()
    rescore(src, tmp_path / "out.jsonl", classifier=slow, executor="threads", workers=8, chunk_size=1, rate=50)
    # each call waits for its own 20 ms slot, so the i-th call cannot come before i slots have passed
    calls = sorted(slow.calls)
    assert len(calls) == 11
    assert all(t >= started + i * 0.02 for i, t in enumerate(calls))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backend": "nope"}, "unknown backend 'nope'"),
        ({"executor": "gpu"}, "unknown executor 'gpu'"),
        ({"workers": 0}, "workers must be a whole number of at least 1, got 0"),
        ({"max_rejects": -1}, "max_rejects must be a whole number of at least 0, got -1"),
        ({"rate": 0}, "rate must be a positive number of calls per second, got 0"),
        ({"backend": "akismet", "executor": "processes"}, "backend='akismet' waits on the network"),
        ({"format": "xls"}, "unknown input format 'xls'"),
    ],
)
def test_bad_options_are_value_errors_that_say_what_is_allowed(tmp_path, options, message):
    """Every wrong option is refused before anything is read or written."""
    src = make_jsonl(tmp_path / "in.jsonl", 2)
    with pytest.raises(ValueError, match=message):
        rescore(src, tmp_path / "out.jsonl", **options)
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_resume_needs_files(tmp_path):
    """Resuming needs a checkpoint beside an output file, so standard output cannot resume."""
    src = make_jsonl(tmp_path / "in.jsonl", 2)
    with pytest.raises(ValueError, match="resume needs an input file and an output file"):
        rescore(src, "-", classifier=Keyword(), resume=True)


def test_a_bare_carriage_return_ends_a_line_as_read_dump_reads_it(tmp_path):
    """A bare CR ends a line, as for read_dump: here it cuts a record in two broken halves; later positions follow."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": 1, "content": "one"}\n{"id": 2, "content": "t\rwo"}\n{"id": 3, "content": "three"}\n')
    summary = rescore(src, tmp_path / "out.jsonl", classifier=Keyword(), executor="serial",
                      rejects=tmp_path / "rejects.jsonl")
    assert [(r["position"], r["id"]) for r in read_jsonl(tmp_path / "out.jsonl")] == [(1, "1"), (4, "3")]
    assert [(r["position"], r["line"]) for r in read_jsonl(tmp_path / "rejects.jsonl")] == [(2, 2), (3, 3)]
    assert (summary.records, summary.rejects) == (2, 2)
    assert [(item.position, item.line, type(item).__name__) for item in read_dump(src)] == [
        (1, 1, "Record"), (2, 2, "Reject"), (3, 3, "Reject"), (4, 4, "Record")]


@pytest.mark.parametrize("ends", [b"\r", b"\r\n", b"\n"], ids=["CR", "CRLF", "LF"])
@pytest.mark.parametrize("chunk_size", [1, 2, 500])
def test_rescore_places_records_where_read_dump_does_whatever_the_line_ends(tmp_path, ends, chunk_size):
    """CR, CRLF or LF line ends, blank-looking lines, a BOM: rescore's positions and lines are read_dump's."""
    lines = [b'\xef\xbb\xbf{"id": "a", "content": "one"}', b'{"id": "b", "content": "two"}', b"", b"\x1c \t",
             b"{oops", b'{"id": "c", "content": "caf\xc3\xa9"}', b'{"id": "d", "content": "last"}']
    src = tmp_path / "in.jsonl"
    src.write_bytes(ends.join(lines) + ends)
    rescore(src, tmp_path / "out.jsonl", classifier=Keyword(), executor="serial", chunk_size=chunk_size,
            rejects=tmp_path / "rejects.jsonl")
    got = [(r["position"], r["id"]) for r in read_jsonl(tmp_path / "out.jsonl")]
    got_rejects = [(r["position"], r["line"]) for r in read_jsonl(tmp_path / "rejects.jsonl")]
    expected = [(item.position, item.id) for item in read_dump(src) if isinstance(item, Record)]
    expected_rejects = [(item.position, item.line) for item in read_dump(src) if isinstance(item, Reject)]
    assert (got, got_rejects) == (expected, expected_rejects) == ([(1, "a"), (2, "b"), (4, "c"), (5, "d")], [(3, 5)])


def test_local_model_on_worker_processes_writes_what_the_serial_run_writes(tmp_path):
    """The default model on two loky worker processes (loaded once each) gives the serial run's bytes."""
    src = make_jsonl(tmp_path / "in.jsonl", 3000, bad=(1234,))
    rescore(src, tmp_path / "serial.jsonl", executor="serial", chunk_size=250)
    summary = rescore(src, tmp_path / "processes.jsonl", executor="processes", workers=2, chunk_size=250)
    assert (tmp_path / "processes.jsonl").read_bytes() == (tmp_path / "serial.jsonl").read_bytes()
    assert {row["source"] for row in read_jsonl(tmp_path / "processes.jsonl")} == {"local"}
    assert (summary.records, summary.rejects) == (2999, 1)


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path, capsys):
    """progress=True draws a tqdm bar on stderr; by default (stderr not a terminal) nothing is drawn."""
    src = make_jsonl(tmp_path / "in.jsonl", 20)
    rescore(src, tmp_path / "a.jsonl", classifier=Keyword(), executor="serial")
    assert capsys.readouterr().err == ""
    rescore(src, tmp_path / "b.jsonl", classifier=Keyword(), executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "rescore: 100%" in err and "20 records" in err


def test_csv_tsv_and_plain_lines_inputs_are_detected_and_read(tmp_path):
    """CSV (by suffix), TSV and one-comment-a-line text (by content and name) all re-score."""
    (tmp_path / "in.csv").write_text('id,content,label\n7,"hello, see http://x.example",spam\n8,thanks,ham\n')
    (tmp_path / "in.tsv").write_text("spam\tvisit http://x.example\nham\tnice one\n")
    (tmp_path / "spam-sample.txt").write_text("win http://x.example\n\nfree http://y.example\n")
    got = {}
    for name in ("in.csv", "in.tsv", "spam-sample.txt"):
        rescore(tmp_path / name, tmp_path / f"{name}.out.jsonl", classifier=Keyword(), executor="threads",
                workers=2, chunk_size=1)
        got[name] = [(r["id"], r["spam"], r["changed"]) for r in read_jsonl(tmp_path / f"{name}.out.jsonl")]
    assert got == {
        "in.csv": [("7", True, False), ("8", False, False)],
        "in.tsv": [(None, True, False), (None, False, False)],
        "spam-sample.txt": [(None, True, False), (None, True, False)],
    }


def test_wordpress_export_on_worker_processes_writes_what_the_serial_run_writes(tmp_path):
    """WXR: the XML is parsed in the parent, the comments built and judged on workers; same bytes as serial."""
    comments = [comment_xml(i, f"comment {i} http://x.example" if i % 3 else f"comment {i}", "1" if i % 2 else "spam")
                for i in range(1, 301)]
    comments[41] = comment_xml(42, "  ")  # a reject
    src = write(tmp_path, item_xml("https://blog.example/a/", *comments[:150]) +
                item_xml("https://blog.example/b/", *comments[150:]))
    rescore(src, tmp_path / "serial.jsonl", executor="serial", chunk_size=40, rejects=tmp_path / "r1.jsonl")
    summary = rescore(src, tmp_path / "processes.jsonl", executor="processes", workers=2, chunk_size=40,
                      rejects=tmp_path / "r2.jsonl")
    assert (tmp_path / "processes.jsonl").read_bytes() == (tmp_path / "serial.jsonl").read_bytes()
    assert (tmp_path / "r2.jsonl").read_bytes() == (tmp_path / "r1.jsonl").read_bytes()
    assert [r["position"] for r in read_jsonl(tmp_path / "r2.jsonl")] == [42]
    assert (summary.records, summary.rejects) == (299, 1)


@pytest.mark.parametrize("lost", ["out.jsonl.partial", "rejects.jsonl"])
def test_resume_refuses_when_a_file_the_checkpoint_covers_is_gone(tmp_path, lost):
    """If the partial output or the rejects file went missing, resuming would lose records: refuse."""
    src = make_jsonl(tmp_path / "in.jsonl", 40, bad=(3,))
    out = tmp_path / "out.jsonl"
    with pytest.raises(BackendUnavailableError):
        rescore(src, out, classifier=Keyword(fail_at="comment 30 "), executor="serial", chunk_size=5,
                rejects=tmp_path / "rejects.jsonl")
    (tmp_path / lost).unlink()
    with pytest.raises(CheckpointError, match=f"{lost} is missing or shorter than the checkpoint says"):
        rescore(src, out, classifier=Keyword(), executor="serial", chunk_size=5, rejects=tmp_path / "rejects.jsonl",
                resume=True)


def test_ctrl_c_stops_between_chunks_and_the_run_resumes_exactly(tmp_path, caplog):
    """Ctrl-C lets the chunk in hand finish, saves progress, raises KeyboardInterrupt; resume completes."""
    src = make_jsonl(tmp_path / "in.jsonl", 60)
    rescore(src, tmp_path / "clean.jsonl", classifier=Keyword(), executor="serial", chunk_size=10)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        rescore(src, out, classifier=Keyword(interrupt_at="comment 25 "), executor="serial", chunk_size=10)
    assert "progress saved after record 30; run again with resume=True to continue" in caplog.text
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler given back
    summary = rescore(src, out, classifier=Keyword(), executor="serial", chunk_size=10, resume=True)
    assert summary.resumed_from == 30
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()


class Unsure(Keyword):
    """Says ham, with a score in the band where the Guard's policy holds a comment."""

    def check_many(self, comments):
        return [Verdict(spam=False, score=0.4, source="local") for _ in comments]


def test_verdicts_without_an_action_get_the_guards_policy(tmp_path, monkeypatch):
    """A borderline ham is held, as a Guard would hold it; SPAMGUARD_HOLD_THRESHOLD=off approves it."""
    src = make_jsonl(tmp_path / "in.jsonl", 2)
    rescore(src, tmp_path / "a.jsonl", classifier=Unsure(), executor="serial")
    assert [r["action"] for r in read_jsonl(tmp_path / "a.jsonl")] == ["hold", "hold"]
    monkeypatch.setenv("SPAMGUARD_HOLD_THRESHOLD", "off")
    rescore(src, tmp_path / "b.jsonl", classifier=Unsure(), executor="serial")
    assert [r["action"] for r in read_jsonl(tmp_path / "b.jsonl")] == ["approve", "approve"]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 100])
def test_raw_chunks_are_read_as_the_dump_reader_reads_the_whole_file(tmp_path, chunk_size):
    """CRLF ends, a BOM, blank and odd lines, bad UTF-8: every chunk size gives read_records' positions and lines."""
    from spamguard.dumps import read_records

    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'\xef\xbb\xbf{"id": 1, "content": "bom first"}\r\n'
        b'{"id": 2, "content": "crlf"}\r\n'
        b"\r\n"
        b"   \n"
        b'{"id": 3, "content": "caf\xc3\xa9 \xe2\x80\x94 fine"}\n'
        b'{"id": 4, "content": "caf\xe9"}\n'
        b'\xef\xbb\xbf{"id": 5, "content": "a BOM inside the file"}\n'
        b'{"id": 6, "content": "  "}\n'
        b"[1, 2]\n"
        b'{"id": 7, "content": "spam http://x.example", "label": " SPAM "}\n'
        b'{"id": 8, "content": "last, no line end"}'
    )
    summary = rescore(src, tmp_path / "out.jsonl", classifier=Keyword(), executor="serial", chunk_size=chunk_size,
                      rejects=tmp_path / "rejects.jsonl")
    expected = list(read_records(src))
    kept = [(r.position, r.id) for r in expected if hasattr(r, "comment")]
    refused = [(r.position, r.line, r.reason) for r in expected if not hasattr(r, "comment")]
    assert [(r["position"], r["id"]) for r in read_jsonl(tmp_path / "out.jsonl")] == kept
    assert [(r["position"], r["line"], r["reason"]) for r in read_jsonl(tmp_path / "rejects.jsonl")] == refused
    assert kept == [(1, "1"), (2, "2"), (3, "3"), (8, "7"), (9, "8")]
    assert (summary.records, summary.rejects) == (5, 4)
