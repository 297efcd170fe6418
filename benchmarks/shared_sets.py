"""What the real-handwriting benchmarks share: where the data sets are, how a set is read, how errors end a run.

Each set is a folder of ``../shared/datasets`` with a ``labels.csv`` (``file,label`` columns at
least). ``unipen_digits`` and ``unipen_letters`` are the digits and the letters of ``unipen_chars``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Callable

from inkread.errors import InkreadError

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"


def load_set(data: Path, name: str, limit: int | None = None) -> tuple[list[Path], list[str]]:
    """Image paths and true labels of an evaluation set, in ``labels.csv`` order (the first ``limit``)."""
    folder = data / ("unipen_chars" if name in ("unipen_digits", "unipen_letters") else name)
    table = folder / "labels.csv"
    if not table.exists():
        raise InkreadError(f"{table} not found: pass --data pointing at the shared datasets folder")
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if name == "unipen_digits":
        rows = [r for r in rows if r["label"].isdigit()]
    elif name == "unipen_letters":
        rows = [r for r in rows if r["label"].isalpha()]
    rows = rows[:limit] if limit else rows
    return [folder / r["file"] for r in rows], [r["label"] for r in rows]


def print_report(script: str, make_report: Callable[[], str]) -> int:
    """Print the report ``make_report`` returns: exit code 0, or 2 with a one-line error on stderr."""
    try:
        print(make_report())
    except InkreadError as error:
        print(f"{script}: error: {error}", file=sys.stderr)
        return 2
    return 0


DIGIT_SETS = ("mnist", "hwd1000", "unipen_digits")


def set_names(option: str, known) -> list[str]:
    """The set names of a comma-separated ``--sets`` option; InkreadError for one not in ``known``."""
    sets = [name.strip() for name in option.split(",") if name.strip()]
    unknown = sorted(set(sets) - set(known))
    if unknown:
        raise InkreadError(f"unknown sets {', '.join(unknown)}: choose from {', '.join(known)}")
    return sets


def digit_strings_main(script: str, description: str, run: Callable[[list[str], Path, int, str], str],
                       argv: list[str] | None = None) -> int:
    """The command line of the benchmarks that read composed digit strings (touching, punctuation).

    ``run(sets, data, strings, model)`` returns the report; options: --sets, --data, --strings, --model.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sets", default=",".join(DIGIT_SETS), help="comma-separated: " + ", ".join(DIGIT_SETS))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--strings", type=int, default=100, help="strings per cell of the table")
    parser.add_argument("--model", default="digits", help="model bundle (default: digits)")
    args = parser.parse_args(argv)

    def report() -> str:
        sets = set_names(args.sets, DIGIT_SETS)
        if args.strings < 1:
            raise InkreadError("--strings must be at least 1")
        return run(sets, args.data, args.strings, args.model)

    return print_report(script, report)
