"""Fuzzing the dump readers: for any bytes, records and rejects, or one documented error; never a crash or a hang.

The dumps come from ``tests/_hostile.py``: random bytes, and JSONL, CSV, TSV, plain lines and
WordPress exports built with hostile values, plain or gzipped (whole, cut, damaged). A fixed
number of examples a test in CI; ``SPAMGUARD_FUZZ_EXAMPLES=N`` for more (CONTRIBUTING.md).
"""

from __future__ import annotations

import gzip

import attrs
from _hostile import (
    DOCUMENTED_ERRORS,
    any_dump,
    check_items,
    csv_dumps,
    fuzz_settings,
    jsonl_dumps,
    lines_dumps,
    plain_dumps,
    random_dumps,
    read_everything,
    time_limit,
    tsv_dumps,
    wxr_dumps,
)
from hypothesis import given
from hypothesis import strategies as st

from spamguard.dumps import dump_format, open_binary, read_records


def format_read(dump, path):
    """The format read_dump reads the dump as (None when it cannot tell, or cannot open it)."""
    if dump.format is not None:
        return dump.format
    try:
        stream, head = open_binary(path)
    except DOCUMENTED_ERRORS:
        return None
    try:
        return dump_format(head, path)
    except DOCUMENTED_ERRORS:
        return None
    finally:
        stream.close()


def without_source(items):
    return [attrs.evolve(item, source=None) for item in items]


def check_dump(dump, directory):
    path = dump.write(directory)
    items, error = read_everything(path, dump.format)
    fmt = format_read(dump, path)
    check_items(items, dump.text_bytes, fmt or "")
    if fmt == "wxr":
        assert len(items) <= dump.text_bytes.count(b"comment") + dump.text_bytes.count("comment".encode("utf-16-le"))
    elif fmt is not None or dump.format is None:
        # read_records reads the same, item for item, and tells the same formats (WXR is read_dump's alone)
        with time_limit():
            try:
                again = list(read_records(path, fmt))
            except DOCUMENTED_ERRORS as exc:
                assert error is not None and type(exc) is type(error)
                return
        assert error is None and again == items
    if error is not None:
        assert str(error) and (dump.name in str(error) or "format" in str(error) or "dump" in str(error))


@fuzz_settings(ci_examples=60)
@given(dump=random_dumps())
def test_random_bytes_read_as_records_rejects_or_one_documented_error(tmp_path_factory, dump):
    """Any bytes, any name, any format forced or none."""
    check_dump(dump, tmp_path_factory.mktemp("fuzz"))


@fuzz_settings(ci_examples=60)
@given(dump=jsonl_dumps())
def test_hostile_jsonl(tmp_path_factory, dump):
    """JSONL records with hostile values: deep nesting, long numbers, lone surrogates, NULs, odd line ends."""
    check_dump(dump, tmp_path_factory.mktemp("fuzz"))


@fuzz_settings(ci_examples=60)
@given(dump=csv_dumps())
def test_hostile_csv(tmp_path_factory, dump):
    """CSV with hostile fields, over-long fields, stray quotes and every line end."""
    check_dump(dump, tmp_path_factory.mktemp("fuzz"))


@fuzz_settings(ci_examples=40)
@given(dump=st.one_of(tsv_dumps(), lines_dumps()))
def test_hostile_tsv_and_lines(tmp_path_factory, dump):
    """label<TAB>text lines and one-comment-a-line files with hostile text."""
    check_dump(dump, tmp_path_factory.mktemp("fuzz"))


@fuzz_settings(ci_examples=60)
@given(dump=wxr_dumps())
def test_hostile_wordpress_exports(tmp_path_factory, dump):
    """WXR with hostile comments, declared encodings good and bad, DOCTYPEs and entities, damage."""
    check_dump(dump, tmp_path_factory.mktemp("fuzz"))


@fuzz_settings(ci_examples=60)
@given(dump=any_dump)
def test_any_dump_plain_or_gzipped(tmp_path_factory, dump):
    """Any of the above, a third of them gzipped (whole, cut short, a bit flipped, junk after)."""
    check_dump(dump, tmp_path_factory.mktemp("fuzz"))


@fuzz_settings(ci_examples=40)
@given(dump=plain_dumps, cut=st.floats(0, 1))
def test_gzip_is_transparent_and_a_cut_gzip_gives_a_prefix_then_an_error(tmp_path_factory, dump, cut):
    """Gzipped, a dump reads exactly as plain; cut short, it reads a prefix of that, then a DumpFormatError."""
    directory = tmp_path_factory.mktemp("fuzz")
    plain, plain_error = read_everything(dump.write(directory), dump.format)
    data = gzip.compress(dump.data, mtime=0)
    whole = attrs.evolve(dump, data=data, name=dump.name + ".gz", plain=dump.data)
    items, error = read_everything(whole.write(directory), dump.format)
    assert without_source(items) == without_source(plain)
    assert type(error) is type(plain_error)
    short = attrs.evolve(whole, data=data[: 2 + int(cut * (len(data) - 3))], name="short-" + whole.name)
    items, error = read_everything(short.write(directory), dump.format)
    assert without_source(items) == without_source(plain)[: len(items)]
    assert error is not None
