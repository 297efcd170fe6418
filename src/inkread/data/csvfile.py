"""``csv:PATH`` data sets in the Kaggle MNIST layout: ``label,pixel0,...,pixel783`` per line.

The pixels are already 28x28 MNIST-style images (row-major, upright, ink high, 0..255), so they
are used as they are, without preprocessing. The label column holds the character (a digit for
Kaggle MNIST). A header line is optional. The rows are split train/val/test 80/10/10 by their pixels and the seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkread.data.splits import TEST_FRACTION, DatasetSplits, ImageSet, default_recipe, index_labels, split_images
from inkread.errors import DatasetError

PIXELS = 28 * 28


def load_csv(path: str | Path, *, labels: tuple[str, ...] | None, recipe: str | None, seed: int,
             val_fraction: float, split_by: str = "content") -> DatasetSplits:
    """Load a Kaggle-style MNIST CSV file (see the module docstring); ``split_by`` as for folders."""
    path = Path(path).expanduser()
    lines = _read_lines(path)
    header = 1 if lines and _is_header(lines[0]) else 0
    rows = [(number, line) for number, line in enumerate(lines[header:], start=header + 1) if line.strip()]
    if not rows:
        raise DatasetError(f"{path} has no data rows: expected lines of label,pixel0,...,pixel783")
    found = [line.split(",", 1)[0].strip() for _, line in rows]
    pixels = _parse_pixels(path, rows)
    label_set, targets, merged = index_labels(found, labels, path)
    images = ImageSet(pixels.reshape(-1, 28, 28), targets)
    train, val, test = split_images(images, seed, val_fraction, TEST_FRACTION, split_by)
    recipe = recipe or default_recipe(label_set)
    return DatasetSplits(f"csv:{path.name}", label_set, recipe, train, val, test,
                         source={"spec": f"csv:{path}", "rows": len(rows), "header": bool(header), "split_by": split_by,
                                 **({"merged_classes": merged} if merged else {})})  # reports say so


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"{path} not found: csv:PATH needs a CSV file of label,pixel0,...,pixel783 lines") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {path} ({error}): csv:PATH needs a text CSV file") from None


def _is_header(line: str) -> bool:
    """A header names its columns: "label" first (Kaggle's pixel0..., pandas' 0, 1, ...), or most
    fields are not numbers. A data row with one bad pixel is data, refused with its line number."""
    fields = [field.strip() for field in line.split(",")]
    if fields[0].lower() in ("label", "labels", "class", "target", "y"):
        return True
    return sum(not field.isdigit() for field in fields[1:]) > len(fields[1:]) / 2


def _parse_pixels(path: Path, rows: list[tuple[int, str]]) -> np.ndarray:
    """uint8 (N, 784) pixels; the first bad row raises ``DatasetError`` with its line number."""
    try:
        # Fast path: numpy's C parser (a Kaggle file has 42,000 rows x 785 numbers).
        values = np.loadtxt((line for _, line in rows), delimiter=",", dtype=np.int64, usecols=range(1, PIXELS + 1),
                            ndmin=2)
        if values.shape[1] == PIXELS and values.min() >= 0 and values.max() <= 255 \
                and all(line.count(",") == PIXELS and line.split(",", 1)[0].strip() for _, line in rows):
            return values.astype(np.uint8)
    except ValueError:
        pass  # find and report the bad line below
    for number, line in rows:
        fields = line.split(",")
        if len(fields) != PIXELS + 1:
            raise DatasetError(f"{path} line {number} has {len(fields)} values, expected {PIXELS + 1} "
                               f"(label, pixel0..pixel{PIXELS - 1}): fix or remove that line")
        if not fields[0].strip():
            raise DatasetError(f"{path} line {number} has an empty label: fix or remove that line")
        for column, field in enumerate(fields[1:]):
            if not (field.strip().isascii() and field.strip().isdigit()) or int(field) > 255:
                raise DatasetError(f"{path} line {number}: pixel{column} is {field.strip()!r}, expected an integer 0..255: "
                                   "fix or remove that line")
    raise DatasetError(f"{path} could not be parsed as label,pixel0,...,pixel783 lines")  # not reached in practice
