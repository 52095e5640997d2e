"""``spamguard rescore`` on the command line: output, summary, exit statuses, stdin/stdout."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest

from spamguard.cli import main


def make_jsonl(path, n, *, bad=()):
    lines = []
    for i in range(1, n + 1):
        if i in bad:
            lines.append("{oops")
        else:
            text = f"Buy cheap pills at http://pills.example/{i} now" if i % 2 else f"Thanks for the post, {i}"
            lines.append(json.dumps({"id": i, "comment_content": text, "user_ip": "203.0.113.5"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_help_shows_an_example():
    """rescore -h exits 0 and its help carries examples."""
    proc = subprocess.run([sys.executable, "-m", "spamguard", "rescore", "-h"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0
    assert "spamguard rescore comments.jsonl -o verdicts.jsonl" in proc.stdout
    assert "--dask-scheduler ADDRESS" in proc.stdout


def test_writes_the_output_file_and_a_summary_on_stderr(tmp_path, capsys):
    """-o gets one record per input record; stdout stays empty; the summary goes to stderr."""
    src = make_jsonl(tmp_path / "in.jsonl", 6)
    status = main(["rescore", str(src), "-o", str(tmp_path / "out.jsonl"), "--executor", "serial"])
    out, err = capsys.readouterr()
    assert status == 0 and out == ""
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert all(r["source"] == "local" and 0 <= r["score"] <= 1 for r in rows)
    assert err.startswith("spamguard: rescored 6 records: ")
    assert f"6 written to {tmp_path / 'out.jsonl'}" in err


def test_json_summary_on_stdout(tmp_path, capsys, caplog):
    """--json prints the summary as JSON on stdout (the verdicts go to -o)."""
    src = make_jsonl(tmp_path / "in.jsonl", 5, bad=(3,))
    status = main(["rescore", str(src), "-o", str(tmp_path / "out.csv"), "--json", "--executor", "serial"])
    out, _ = capsys.readouterr()
    summary = json.loads(out)
    assert status == 0
    assert {k: summary[k] for k in ("records", "rejects", "written", "output")} == {
        "records": 4, "rejects": 1, "written": 4, "output": str(tmp_path / "out.csv")}
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == (
        "position,id,spam,score,action,source,reasons,old_status,changed")
    assert f"skipped {src}:3: broken JSON" in caplog.text  # no --rejects file: the reject is logged


def test_stdin_to_stdout_with_gzip(tmp_path):
    """- reads standard input (gzip undone) and the verdicts go to standard output."""
    src = make_jsonl(tmp_path / "in.jsonl", 4)
    proc = subprocess.run(
        [sys.executable, "-m", "spamguard", "rescore", "-", "--no-progress"],
        input=gzip.compress(src.read_bytes()), capture_output=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["position"] for line in proc.stdout.splitlines()] == [1, 2, 3, 4]
    assert b"rescored 4 records" in proc.stderr


def test_too_many_rejects_exit_1(tmp_path, capsys):
    """--max-rejects N: more rejects than N is a failure, exit 1, with the reason on stderr."""
    src = make_jsonl(tmp_path / "in.jsonl", 6, bad=(2, 4))
    status = main(["rescore", str(src), "-o", str(tmp_path / "out.jsonl"), "--max-rejects", "1",
                   "--rejects", str(tmp_path / "rejects.jsonl"), "--executor", "serial"])
    _, err = capsys.readouterr()
    assert status == 1
    assert "2 records were rejected, more than the 1 allowed" in err
    assert len((tmp_path / "rejects.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rescore", "IN", "--json"], "--json prints the summary on stdout"),
        (["rescore", "-", "-o", "OUT", "--resume"], "--resume needs an input file and an output file"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, argv, message):
    """Options that cannot work together are usage errors (exit 2) that say why."""
    argv = [a.replace("IN", str(tmp_path / "in.jsonl")).replace("OUT", str(tmp_path / "o.jsonl")) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "IN"], "is the input; choose another output file"),
        (["-o", "OUT", "--backend", "akismet", "--executor", "processes"],
         "--backend akismet waits on the network and runs on threads; use --executor threads"),
    ],
)
def test_options_the_library_refuses_are_usage_errors(tmp_path, capsys, extra, message):
    """An InvalidOptionError from rescore() is a usage error: exit 2 and the reason, on stderr."""
    src = make_jsonl(tmp_path / "in.jsonl", 2)
    extra = [str(src) if a == "IN" else str(tmp_path / "o.jsonl") if a == "OUT" else a for a in extra]
    assert main(["rescore", str(src), *extra]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_a_dask_scheduler_address_that_cannot_be_parsed_is_a_usage_error(tmp_path, capsys):
    """--dask-scheduler with no port is refused as a usage error naming the address."""
    pytest.importorskip("distributed")
    src = make_jsonl(tmp_path / "in.jsonl", 3)  # more than one chunk: a single chunk is judged in process
    argv = ["rescore", str(src), "-o", str(tmp_path / "o.jsonl"), "--dask-scheduler", "nonsense", "--chunk-size", "1"]
    assert main(argv) == 2
    assert "--dask-scheduler nonsense is not a scheduler address" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # the run never started: no checkpoint


def test_bad_numbers_are_usage_errors(capsys):
    """--workers 0 is refused by the parser (exit 2)."""
    with pytest.raises(SystemExit) as info:
        main(["rescore", "x.jsonl", "--workers", "0"])
    assert info.value.code == 2
    assert "'0' must be at least 1" in capsys.readouterr().err


def test_missing_input_exit_1(tmp_path, capsys):
    """A missing input file is a failure naming the file."""
    assert main(["rescore", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")]) == 1
    assert f"cannot open '{tmp_path / 'nope.jsonl'}': No such file or directory" in capsys.readouterr().err


def test_unsafe_xml_exit_1(tmp_path, capsys):
    """A WXR file with an entity declaration is refused: exit 1 and the reason."""
    src = tmp_path / "lol.xml"
    src.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss>&a;</rss>')
    assert main(["rescore", str(src), "-o", str(tmp_path / "o.jsonl")]) == 1
    assert "refused: the XML declares the entity 'a'" in capsys.readouterr().err


def test_unreadable_json_records_are_rejects_and_the_run_goes_on(tmp_path, capsys):
    """Nesting 100,000 deep, a 5,000-digit integer and an escaped lone surrogate: three rejects, exit 0."""
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        '{"id": 1, "content": "Thanks for the post"}',
        '{"content": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"content": "x", "id": ' + "9" * 5000 + "}",
        '{"content": "x", "id": "\\ud800"}',
        '{"id": 5, "content": "See you soon"}',
    ]) + "\n")
    status = main(["rescore", str(src), "-o", str(tmp_path / "out.jsonl"), "--rejects", str(tmp_path / "rej.jsonl"),
                   "--executor", "serial", "--no-progress"])
    _, err = capsys.readouterr()
    assert status == 0, err
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == ["1", "5"]
    rejects = [json.loads(line) for line in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert [(r["position"], r["reason"]) for r in rejects] == [
        (2, "unreadable JSON: nested too deeply"),
        (3, "unreadable JSON: a number with too many digits"),
        (4, "field 'id' holds a lone surrogate (a \\ud800-\\udfff escape), which is not text"),
    ]
    assert "rescored 2 records: " in err and "3 rejected" in err


def damaged_gzip(path):
    data = gzip.compress(b"".join(b'{"content": "comment %d here"}\n' % i for i in range(3000)), mtime=0)
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("make", "argv", "message"),
    [
        (lambda d: (d / "dumps").mkdir(), ["dumps", "-o", "out.jsonl"],
         "cannot read 'dumps': it is a directory; give the path of a dump file"),
        (lambda d: (d / "verdicts").mkdir(), ["in.jsonl", "-o", "verdicts"],
         "the output verdicts is a directory; give the name of a file to write, e.g. verdicts/out.jsonl"),
        (None, ["in.jsonl", "-o", "nodir/out.jsonl"],
         "cannot write the output nodir/out.jsonl: there is no directory {tmp}/nodir; create it first"),
        (None, ["in.jsonl", "-o", "out.jsonl", "--rejects", "nodir/rejects.jsonl"],
         "cannot write the rejects file {tmp}/nodir/rejects.jsonl: there is no directory {tmp}/nodir; create it first"),
        (lambda d: (d / "nocontent.csv").write_text("a,b\n1,2\n"), ["nocontent.csv", "-o", "out.jsonl"],
         "nocontent.csv:1: the CSV header ['a', 'b'] has no content column"),
        (lambda d: (d / "bogus.xml").write_text('<?xml version="1.0" encoding="bogus-enc"?>\n<rss/>\n'),
         ["bogus.xml", "-o", "out.jsonl"], "bogus.xml:1: the XML declaration names the encoding 'bogus-enc'"),
        (lambda d: damaged_gzip(d / "cut.jsonl.gz"), ["cut.jsonl.gz", "-o", "out.jsonl", "--rejects", "r.jsonl"],
         "cut.jsonl.gz: the gzip data ends early (the file is truncated) after "),
        (None, ["in.jsonl", "-o", "out.jsonl", "--model", "nope.joblib"], "no model file at 'nope.joblib'"),
        (None, ["in.jsonl", "-o", "out.jsonl", "--backend", "akismet", "--rejects", "r.jsonl"], "No Akismet API key"),
    ],
    ids=["input is a directory", "output is a directory", "no output directory", "no rejects directory",
         "csv without content", "unknown xml encoding", "truncated gzip", "missing model", "akismet without key"],
)
def test_a_run_that_cannot_start_says_why_in_one_line_and_leaves_nothing(tmp_path, monkeypatch, make, argv, message):
    """Bad paths, an unreadable input, a missing model or key: exit 1, one line naming the culprit, no file left."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPAMGUARD_AKISMET_KEY", raising=False)
    monkeypatch.delenv("PYTHON_AKISMET_API_KEY", raising=False)
    make_jsonl(tmp_path / "in.jsonl", 1200)  # three chunks: the local model runs on worker processes
    if make is not None:
        make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = subprocess.run(  # noqa: S603 - our own interpreter running our own package
        [sys.executable, "-m", "spamguard", "rescore", *argv, "--no-progress"],
        capture_output=True, text=True, check=False, timeout=120)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("spamguard: error: "), proc.stderr
    assert message.format(tmp=tmp_path) in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_after_a_run_that_could_not_start_the_next_ordinary_run_works(tmp_path, capsys):
    """A failed start leaves no checkpoint, so the next run (here on another file) is not refused."""
    (tmp_path / "nocontent.csv").write_text("a,b\n1,2\n")
    out = str(tmp_path / "out.jsonl")
    assert main(["rescore", str(tmp_path / "nocontent.csv"), "-o", out, "--executor", "serial"]) == 1
    src = make_jsonl(tmp_path / "in.jsonl", 3)
    assert main(["rescore", str(src), "-o", out, "--executor", "serial"]) == 0
    assert "rescored 3 records" in capsys.readouterr().err


def small_disk_works():
    probe = "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && umount \"$d\"; rmdir \"$d\""
    try:
        unshare = ["unshare", "-rm", "sh", "-c", probe]  # noqa: S607 - util-linux's unshare, found on PATH
        return subprocess.run(unshare, capture_output=True, check=False, timeout=30).returncode == 0  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not small_disk_works(), reason="needs unshare -rm and tmpfs (a user and mount namespace)")
def test_a_full_disk_stops_the_run_in_one_line_and_resume_finishes_after_space_is_freed(tmp_path):
    """ENOSPC on a real (1.4 MB tmpfs) disk: exit 1, one line saying --resume works; with room, --resume finishes."""
    src = make_jsonl(tmp_path / "in.jsonl", 20_000)
    clean = tmp_path / "clean.jsonl"
    assert main(["rescore", str(src), "-o", str(clean), "--executor", "serial", "--no-progress"]) == 0
    disk = tmp_path / "disk"
    disk.mkdir()
    script = f"""
        mount -t tmpfs -o size=1400k tmpfs {disk}
        {sys.executable} -m spamguard rescore {src} -o {disk}/out.jsonl --executor serial --no-progress \\
            2> {tmp_path}/first.err
        echo $? > {tmp_path}/first.status
        ls {disk} > {tmp_path}/first.files
        mount -o remount,size=64m {disk}
        {sys.executable} -m spamguard rescore {src} -o {disk}/out.jsonl --executor serial --no-progress --resume \\
            2> {tmp_path}/second.err
        echo $? > {tmp_path}/second.status
        cp {disk}/out.jsonl {tmp_path}/resumed.jsonl
    """
    subprocess.run(["unshare", "-rm", "sh", "-c", script], check=True, timeout=600)  # noqa: S603, S607 - as above
    first = (tmp_path / "first.err").read_text()
    assert (tmp_path / "first.status").read_text().strip() == "1"
    assert first.count("\n") == 1, first
    assert first.startswith(f"spamguard: error: cannot write the output {disk}/out.jsonl: the disk is full. "
                            "The progress up to record ")
    assert first.rstrip().endswith("is saved: free some space, then run the same command with --resume to continue")
    assert (tmp_path / "first.files").read_text().split() == ["out.jsonl.checkpoint", "out.jsonl.partial"]
    assert (tmp_path / "second.status").read_text().strip() == "0", (tmp_path / "second.err").read_text()
    assert (tmp_path / "resumed.jsonl").read_bytes() == clean.read_bytes()


def test_a_full_standard_output_is_one_line_and_exit_1(tmp_path):
    """Verdicts sent to /dev/full: exit 1 with one line, not a traceback."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    src = make_jsonl(tmp_path / "in.jsonl", 3)
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(  # noqa: S603 - our own interpreter running our own package
            [sys.executable, "-m", "spamguard", "rescore", str(src), "--executor", "serial", "--no-progress"],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("spamguard: error: cannot write standard output: the disk is full; "
                           "free some space and run again\n")


def test_messages_name_the_flags_the_user_typed_not_python_arguments(tmp_path, capsys, caplog):
    """On the command line, errors say --format, --resume, --max-rejects; the library says format=, resume=True."""
    (tmp_path / "notes.dat").write_text("just some prose\n")
    assert main(["rescore", str(tmp_path / "notes.dat"), "-o", str(tmp_path / "a.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "give the format, e.g. --format csv (one of jsonl, csv, tsv, lines)" in err and "format=" not in err

    src = make_jsonl(tmp_path / "in.jsonl", 6, bad=(2, 4))
    argv = ["rescore", str(src), "-o", str(tmp_path / "b.jsonl"), "--executor", "serial", "--chunk-size", "2"]
    assert main([*argv, "--max-rejects", "1"]) == 1
    err = capsys.readouterr().err
    assert "more than the 1 allowed (--max-rejects 1)" in err
    assert "progress saved after record 4; run again with --resume to continue" in caplog.text
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "is there from an interrupted run: run again with --resume to continue it" in err
    assert "resume=True" not in err
    assert main([*argv, "--resume", "--only-changed"]) == 1
    assert "cannot resume with different settings: --only-changed was False, now True" in capsys.readouterr().err


def test_an_empty_input_says_there_were_no_records_and_exits_0(tmp_path, capsys):
    """An empty dump is not an error, but the run says it found nothing to rescore."""
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["rescore", str(tmp_path / "empty.jsonl"), "-o", str(tmp_path / "out.jsonl")]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"spamguard rescore: note: no records in {tmp_path / 'empty.jsonl'}: nothing to rescore\n")
    assert (tmp_path / "out.jsonl").read_text() == ""
