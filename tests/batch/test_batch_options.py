"""A rescore run's options: defaults decided from the backend and the files, bad ones refused before any file."""

from __future__ import annotations

import os

import pytest

from spamguard import AkismetClient, Guard, InvalidOptionError, SpamGuardError, Verdict
from spamguard.batch import rescore
from spamguard.batch._options import LOCAL_CHUNK, REMOTE_CHUNK, REMOTE_WORKERS, RunOptions


class Plain:
    """A classifier of the caller's own that judges in process (no network)."""

    def check(self, comment):
        return Verdict(spam=False, score=0.1, source="plain")

    def check_many(self, comments):
        return [self.check(c) for c in comments]

    def submit_spam(self, comment, verdict=None):
        pass

    def submit_ham(self, comment, verdict=None):
        pass


class Wrapper(Plain):
    """A caller's wrapper that keeps the classifier it wraps as ``inner`` (a rate limiter, say)."""

    def __init__(self, inner):
        self.inner = inner


CORES = os.cpu_count() or 1
AKISMET = AkismetClient("test-key", "https://blog.example/")
GUARD = Guard(remote=Plain(), local=Plain(), feedback=False)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, ("processes", CORES, LOCAL_CHUNK, False)),
        ({"backend": "akismet"}, ("threads", REMOTE_WORKERS, REMOTE_CHUNK, True)),
        ({"backend": "auto"}, ("threads", REMOTE_WORKERS, REMOTE_CHUNK, True)),
        ({"classifier": Plain()}, ("threads", REMOTE_WORKERS, LOCAL_CHUNK, False)),
        ({"classifier": AKISMET}, ("threads", REMOTE_WORKERS, REMOTE_CHUNK, True)),
        ({"classifier": GUARD}, ("threads", REMOTE_WORKERS, REMOTE_CHUNK, True)),
        ({"classifier": Wrapper(GUARD)}, ("threads", REMOTE_WORKERS, REMOTE_CHUNK, True)),
        ({"classifier": Wrapper(Plain())}, ("threads", REMOTE_WORKERS, LOCAL_CHUNK, False)),
        ({"dask_scheduler": "tcp://127.0.0.1:8786"}, ("dask", CORES, LOCAL_CHUNK, False)),
        ({"backend": "akismet", "workers": 4, "chunk_size": 3}, ("threads", 4, 3, True)),
    ],
)
def test_defaults_follow_whether_judging_waits_on_the_network(arguments, expected):
    """Remote backends, and remote classifiers passed in (by type, or wrapped), run on threads, one a chunk."""
    options = RunOptions.decide(input="in.jsonl", output="out.jsonl", **arguments)
    assert (options.executor, options.workers, options.chunk_size, options.remote) == expected


@pytest.mark.parametrize(
    ("output", "output_format", "expected"),
    [
        ("out.jsonl", None, ("jsonl", False, "out.jsonl")),
        ("OUT.CSV.GZ", None, ("csv", True, "OUT.CSV.GZ")),
        ("out.txt.gz", None, ("jsonl", True, "out.txt.gz")),
        ("out.jsonl", "csv", ("csv", False, "out.jsonl")),
        ("-", None, ("jsonl", False, None)),
        (None, "csv", ("csv", False, None)),
    ],
)
def test_the_output_format_comes_from_the_name_unless_given(output, output_format, expected):
    """``.csv`` (gzipped or not) writes CSV, anything else JSONL; ``-`` and None are standard output."""
    options = RunOptions.decide(input="in.jsonl", output=output, output_format=output_format)
    assert (options.output_format, options.output_gzip, options.output_path) == expected


def test_paths_are_kept_as_strings_and_the_rejects_file_as_an_absolute_path(tmp_path, monkeypatch):
    """The model path goes to workers and checkpoints as a string; a relative rejects path is made absolute."""
    monkeypatch.chdir(tmp_path)
    options = RunOptions.decide(input=tmp_path / "in.jsonl", output="out.jsonl", model=tmp_path / "m.joblib",
                                rejects="rejects.jsonl")
    assert (options.model, options.rejects, options.input_path) == (
        str(tmp_path / "m.joblib"), str(tmp_path / "rejects.jsonl"), str(tmp_path / "in.jsonl"))
    assert options.worker_spec() == ("local", str(tmp_path / "m.joblib"))
    assert RunOptions.decide(input="in.jsonl", classifier=Plain()).worker_spec() == ("installed",)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"output_format": "xml"}, "unknown output format 'xml'; use one of jsonl, csv"),
        ({"chunk_size": 0}, "chunk_size must be a whole number of at least 1, got 0"),
        ({"workers": 2.5}, "workers must be a whole number of at least 1, got 2.5"),
        ({"max_rejects": "10"}, "max_rejects must be a whole number of at least 0, got '10'"),
        ({"rate": -1}, "rate must be a positive number of calls per second, got -1"),
        ({"dask_scheduler": "tcp://h:8786", "executor": "threads"},
         "dask_scheduler is given but executor='threads' too; leave executor out"),
        ({"backend": "auto", "executor": "dask"}, "backend='auto' waits on the network and runs on threads"),
        ({"output": "IN"}, "is the input; choose another output file"),
        ({"rejects": "IN"}, "the rejects file .* is the input; choose another file"),
        ({"rejects": "OUT"}, "the rejects file .* is the output .*out.jsonl'; choose another file"),
        ({"rejects": "OUT.checkpoint"}, "the rejects file .* is the output .*out.jsonl.checkpoint'; choose another"),
        ({"output": "IN-without-.partial"}, r"the output .*in.jsonl.partial' is the input; choose another output file"),
        ({"resume": True, "output": None}, "resume needs an input file and an output file"),
    ],
)
def test_bad_options_raise_invalid_option_error_before_any_file_exists(tmp_path, arguments, message):
    """Each refusal is an InvalidOptionError (a SpamGuardError, a ValueError) naming the option; no file is made."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"content": "hello"}\n')
    arguments = {"output": tmp_path / "out.jsonl", **arguments}
    names = {"IN": str(src), "OUT": str(tmp_path / "out.jsonl"), "IN-without-.partial": str(tmp_path / "in.jsonl"),
             "OUT.checkpoint": str(tmp_path / "out.jsonl.checkpoint")}
    if arguments.get("output") == "IN-without-.partial":  # the input is named like the output's partial file
        src = src.rename(tmp_path / "in.jsonl.partial")
    arguments = {key: names.get(value, value) if isinstance(value, str) else value for key, value in arguments.items()}
    with pytest.raises(InvalidOptionError, match=message) as info:
        rescore(src, **arguments)
    assert isinstance(info.value, SpamGuardError) and isinstance(info.value, ValueError)
    assert sorted(os.listdir(tmp_path)) == [src.name]
    assert src.read_text() == '{"content": "hello"}\n'  # the input is never emptied
