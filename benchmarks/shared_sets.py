"""What the real-handwriting benchmarks share: where the data sets are, how a set is read, how errors end a run.

Each set is a folder of ``../shared/datasets`` with a ``labels.csv`` (``file,label`` columns at
least). ``unipen_digits`` and ``unipen_letters`` are the digits and the letters of ``unipen_chars``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PhotoSetting:
    """Where composed writing is set: on a ``size`` (width, height) photo, ``height`` px tall, on dotted paper or plain."""

    size: tuple[int, int]
    height: int
    dotted: bool = False


def photo_size(option: str) -> tuple[int, int]:
    """(width, height) of a ``--photo WIDTHxHEIGHT`` option; InkreadError for anything else."""
    try:
        size = tuple(int(side) for side in option.lower().split("x"))
    except ValueError:
        size = ()
    if len(size) != 2 or min(size) < 16:
        raise InkreadError(f"--photo {option!r}: give WIDTHxHEIGHT in pixels, as 4000x3000")
    return size


def digit_strings_main(script: str, description: str, run: Callable[..., str], argv: list[str] | None = None,
                       photos: bool = False) -> int:
    """The command line of the benchmarks that read composed digit strings (touching, punctuation).

    ``run(sets, data, strings, model)`` returns the report; options: --sets, --data, --strings, --model.
    With ``photos``, also --photo, --height and --paper: given --photo, ``run`` gets a ``PhotoSetting`` too.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sets", default=",".join(DIGIT_SETS), help="comma-separated: " + ", ".join(DIGIT_SETS))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--strings", type=int, default=100, help="strings per cell of the table")
    parser.add_argument("--model", default="digits", help="model bundle (default: digits)")
    if photos:
        parser.add_argument("--photo", help="set each string on a JPEG photo of paper this size, WIDTHxHEIGHT")
        parser.add_argument("--height", type=int, default=60, help="...this many pixels tall (default: 60)")
        parser.add_argument("--paper", choices=["plain", "dotted"], default="plain", help="...of plain or dotted paper")
    args = parser.parse_args(argv)

    def report() -> str:
        sets = set_names(args.sets, DIGIT_SETS)
        if args.strings < 1:
            raise InkreadError("--strings must be at least 1")
        if photos and args.photo:
            if args.height < 4:
                raise InkreadError("--height must be at least 4 px")
            setting = PhotoSetting(photo_size(args.photo), args.height, args.paper == "dotted")
            return run(sets, args.data, args.strings, args.model, setting)
        return run(sets, args.data, args.strings, args.model)

    return print_report(script, report)
