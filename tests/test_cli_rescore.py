"""``spamguard rescore`` on the command line: output, summary, exit statuses, stdin/stdout."""

from __future__ import annotations

import gzip
import json
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
        (["-o", "OUT", "--backend", "akismet", "--executor", "processes"], "backend 'akismet' waits on the network"),
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
    assert "dask_scheduler 'nonsense' is not a scheduler address" in capsys.readouterr().err


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
