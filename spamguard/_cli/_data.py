"""Reading the DATA arguments of ``train`` and ``evaluate``: files, directories, rejects on stderr."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence

from ..dumps import FORMATS, Record, read_records

_DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".txt")


def expand(paths: Sequence[str]) -> list[str]:
    """The data files named: files as given, directories as their dump files (sorted)."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(
                os.path.join(path, name) for name in os.listdir(path)
                if name.lower().removesuffix(".gz").endswith(_DATA_SUFFIXES)
            )
            if not found:
                raise FileNotFoundError(f"{path}: the directory holds no data files ({', '.join(_DATA_SUFFIXES)})")
            files.extend(found)
        else:
            files.append(path)
    return files


class LabelledRecords:
    """The Records of the DATA files, in order; Rejects are counted and reported on stderr (file:line: reason)."""

    def __init__(self, files: Sequence[str], fmt: str | None) -> None:
        self.files = files
        self.format = fmt
        self.rejected = 0

    def __iter__(self) -> Iterator[Record]:
        for path in self.files:
            for item in read_records(path, self.format):
                if isinstance(item, Record):
                    yield item
                else:
                    self.rejected += 1
                    print(f"spamguard: skipped {item}", file=sys.stderr)


def add_data_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """DATA... and --format, shared by train and evaluate (``required=False``: DATA may be left out)."""
    parser.add_argument(
        "data", nargs="+" if required else "*", metavar="DATA",
        help="labelled dump files (JSONL, CSV, TSV, or .txt lines labelled by file name; gzip ok) or directories",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default=None, help="force the input format (default: detected per file)",
    )
