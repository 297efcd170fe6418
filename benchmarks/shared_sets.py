"""What the real-handwriting benchmarks share: where the data sets are, how a set is read, how errors end a run.

Each set is a folder of ``../shared/datasets`` with a ``labels.csv`` (``file,label`` columns at
least). ``unipen_digits`` and ``unipen_letters`` are the digits and the letters of ``unipen_chars``.
"""

from __future__ import annotations

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
