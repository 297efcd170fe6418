"""``csv:PATH`` data sets in the Kaggle MNIST layout: ``label,pixel0,...,pixel783`` per line.

The pixels are already 28x28 MNIST-style images (row-major, upright, ink high), so they are used
as they are, without preprocessing: numbers 0..255 (decimals are rounded), or 0..1 as numpy and
pandas users often save them (scaled to 0..255 when every pixel of the file lies within 0..1, round-off above 1 allowed;
a file mixing lines of both scales is refused).
The label column holds the character (a digit for Kaggle MNIST). A header line is optional; with
one, the column named label (or labels, class, target, y) is the label column wherever it is
(``pixel0,...,pixel783,label`` too), else the first column is, with a warning (refused if the
first column is named as a pixel: ``pixel0,...,digit,...`` would read pixels as labels). Quoted fields (``"0"``, as R's write.csv
and Excel's "quote all" save them) are read without their quotes. The rows are split
train/val/test 80/10/10 by their pixels and the seed.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from inkread.data.splits import SPLIT_BY, TEST_FRACTION, DatasetSplits, ImageSet, default_recipe, index_labels, split_images
from inkread.errors import DatasetError, first_few, warn

PIXELS = 28 * 28
LABEL_NAMES = ("label", "labels", "class", "target", "y")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)  # ASCII only: float() would take "1_0" and "٣"
_LAYOUT = f"label,pixel0,...,pixel{PIXELS - 1}"
_PIXEL_NAME = re.compile(r"(pixel|px|p)?_?\d+", re.ASCII)  # pixel0, px12, 0: how pixel columns are named


def load_csv(path: str | Path, *, labels: tuple[str, ...] | None, recipe: str | None, seed: int,
             val_fraction: float, split_by: str = SPLIT_BY) -> DatasetSplits:
    """Load a Kaggle-style MNIST CSV file (see the module docstring); ``split_by`` as for folders."""
    path = Path(path).expanduser()
    lines = _read_lines(path)
    if lines and all(line.endswith(",") for line in lines if line.strip()):  # a comma after the last field, as some
        lines = [line[:-1] for line in lines]  # exports write: an empty column, not a value
    header = lines[0] if lines and _is_header(lines[0]) else None
    label_column = _label_column(path, header)
    start = 1 if header is not None else 0
    rows = [(number, line) for number, line in enumerate(lines[start:], start=start + 1) if line.strip()]
    if not rows:
        raise DatasetError(f"{path} has no data rows: expected lines of {_LAYOUT}")
    found, pixels, scaled = _parse_rows(path, rows, label_column, header)
    _warn_inverted(path, rows, pixels)
    label_set, targets, merged = index_labels(found, labels, path)
    # each row's line number in the file: a report names the rows misread (a mislabeled row is found so)
    images = ImageSet(pixels.reshape(-1, 28, 28), targets, np.array([f"line {number}" for number, _ in rows], dtype=object))
    train, val, test = split_images(images, seed, val_fraction, TEST_FRACTION, split_by)
    recipe = recipe or default_recipe(label_set)
    return DatasetSplits(f"csv:{path.name}", label_set, recipe, train, val, test,
                         source={"spec": f"csv:{path}", "rows": len(rows), "header": header is not None,
                                 "split_by": split_by, **({"label_column": label_column} if label_column else {}),
                                 **({"pixels": "0-1, scaled to 0-255"} if scaled else {}),
                                 **({"merged_classes": merged} if merged else {})})  # reports say so


def _warn_inverted(path: Path, rows: list[tuple[int, str]], pixels: np.ndarray) -> None:
    """Warn of images of dark ink on a light background: they are used as they are, not preprocessed, and
    a model taught on them reads MNIST-style (light ink on black) images, and real ones, worse."""
    images = pixels.reshape(-1, 28, 28)
    ring = sum(part.sum(axis=(1, 2), dtype=np.int32) for part in
               (images[:, :2], images[:, -2:], images[:, 2:-2, :2], images[:, 2:-2, -2:]))  # the 2-pixel border
    light = np.flatnonzero(ring > 128 * (28 * 28 - 24 * 24))  # the border is background: light there, a light background
    if light.size:
        lines = first_few([rows[row][0] for row in light], 3, quote=False)
        warn(f"{path}: {light.size:,} of {len(images):,} images are dark ink on a light background (line {lines}): "
             "the model expects light ink on black, as MNIST's; save 255 - pixel for them")


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"{path} not found: csv:PATH needs a CSV file of {_LAYOUT} lines") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {path} ({error}): csv:PATH needs a text CSV file") from None


def _is_header(line: str) -> bool:
    """A header names its columns: most fields are not numbers (Kaggle's label,pixel0,...), or they
    are pandas' column numbers 0, 1, 2, ... beside a label name. A data row with one bad pixel is
    data, refused with its line number; so is a row whose label happens to be "y"."""
    fields = _names(line)
    if len(fields) < 2:  # a line of ; or tab separated values: reported as a data line that has 1 value
        return False
    others = [field for field in fields if field not in LABEL_NAMES]
    if len(others) < len(fields) and others == [str(column) for column in range(len(others))]:
        return True
    return sum(not _NUMBER.fullmatch(field) for field in fields) > len(fields) / 2


def _label_column(path: Path, header: str | None) -> int:
    """The label column's index: the header's label-named column, else the first."""
    if header is None:
        return 0
    names = _names(header)
    named = [column for column, name in enumerate(names) if name in LABEL_NAMES]
    if named:
        return named[0]
    if len(names) == PIXELS:
        raise DatasetError(_no_labels(path, f"its header names {PIXELS} columns, one per pixel, and no label column"))
    if _PIXEL_NAME.fullmatch(names[0]):  # "pixel0,...,digit,...": the first column is a pixel, not the label
        raise DatasetError(f"{path}'s header names no label column (one of {', '.join(LABEL_NAMES)}) and its first "
                           f"column, {names[0]!r}, is a pixel: rename the label column to label")
    warn(f"{path}'s header names no label column (one of {', '.join(LABEL_NAMES)}): its first column, {names[0]!r}, "
         "is taken as the labels; rename it to label to say so")
    return 0


def _names(line: str) -> list[str]:
    """The fields of a (header) line, stripped and lower-case, as column names are compared."""
    return [field.strip().lower() for field in _fields(line)]


def _fields(line: str) -> list[str]:
    """The fields of a line, their quotes removed: R's write.csv quotes the header and the labels ("0"),
    Excel's "quote all" every field."""
    if '"' not in line:
        return line.split(",")  # the csv module is only needed for quotes, and is slower
    return next(csv.reader([line], skipinitialspace=True), [""])


def _no_labels(path: Path, why: str) -> str:
    """The error message for a file without labels (``why`` says how that shows), pointing at Kaggle's mix-up."""
    return (f"{path} has no labels ({why}): training needs {_LAYOUT} lines; Kaggle's test.csv has no labels "
            "(train on its train.csv)")


def _parse_rows(path: Path, rows: list[tuple[int, str]], label_column: int,
                header: str | None) -> tuple[list[str], np.ndarray, bool]:
    """The labels, uint8 (N, 784) pixels, and whether they were 0..1 (scaled); the first bad row
    raises ``DatasetError`` with its line number."""
    pixel_columns = [column for column in range(PIXELS + 1) if column != label_column]
    found, values = [], None
    if all(line.count(",") == PIXELS for _, line in rows):
        found = [_field(line, label_column) for _, line in rows]
        # Fast path: numpy's C parser (a Kaggle file has 42,000 rows x 785 numbers), integers first:
        # it parses them 5 times faster than decimals, and a decimal fails it on the first row.
        for dtype in (np.int64, np.float64):
            try:
                values = np.loadtxt((line for _, line in rows), delimiter=",", dtype=dtype, usecols=pixel_columns,
                                    ndmin=2, quotechar='"')
                break
            except ValueError:
                pass  # decimals: parsed as such next; anything else: found and reported below
    if values is None or not all(found) or not np.isfinite(values).all() or values.min() < 0 or values.max() > 255:
        found, values = _parse_slowly(path, rows, label_column, header)
    scaled = _unit_scale(path, rows, values)
    if scaled:
        values = np.minimum(values * 255.0, 255.0)
    if values.dtype.kind == "f":
        values = np.rint(values)
    return found, values.astype(np.uint8), scaled


# How far above 1 a 0..1 pixel may lie: float32 round-off (1.0000001) of images normalized by 255.
_ROUND_OFF = 1e-3


def _unit_scale(path: Path, rows: list[tuple[int, str]], values: np.ndarray) -> bool:
    """Whether the pixels are 0..1 (floats, or 0/1 binarized images), to be scaled: as 0..255 values they
    would be black. Lines on both scales are refused: either kind would be trained on as near-blank."""
    row_max = values.max(axis=1)
    unit = (row_max > 0) & (row_max <= 1 + _ROUND_OFF)  # blank lines are blank on either scale
    if not unit.any() or unit.sum() == np.count_nonzero(row_max):
        return bool(unit.any())
    lines = [str(rows[row][0]) for row in np.flatnonzero(unit)]
    raise DatasetError(f"{path} mixes pixel scales: {'line' if len(lines) == 1 else 'lines'} {first_few(lines, quote=False)}"
                       f" {'lies' if len(lines) == 1 else 'lie'} within 0..1, other lines reach {row_max.max():g}: "
                       "save every line on one scale, 0..255 or 0..1")


def _field(line: str, column: int) -> str:
    """Field ``column`` of a line of PIXELS + 1 fields, without splitting it all when it is the first or last."""
    piece = line.split(",", 1)[0] if column == 0 else line.rsplit(",", 1)[1] if column == PIXELS else None
    if piece is None or piece.count('"') % 2:  # an odd quote: the comma cut a quoted field ("a,b"), parse it all
        return _fields(line)[column].strip()
    return _fields(piece)[0].strip()


def _parse_slowly(path: Path, rows: list[tuple[int, str]], label_column: int,
                  header: str | None) -> tuple[list[str], np.ndarray]:
    """Labels and float pixels, row by row: the first bad row raises ``DatasetError`` saying what is wrong."""
    found, values = [], np.empty((len(rows), PIXELS), np.float64)
    for row, (number, line) in enumerate(rows):
        fields = [field.strip() for field in _fields(line)]
        if len(fields) == PIXELS and all(other.count(",") == PIXELS - 1 for _, other in rows):  # no line has a label
            raise DatasetError(_no_labels(path, f"line {number} has {PIXELS} values, one per pixel"))
        if len(fields) != PIXELS + 1:
            pandas_index = len(fields) == PIXELS + 2 and header is not None and _names(header)[0] in ("", "unnamed: 0")
            separator = next((name for char, name in ((";", "semicolons"), ("\t", "tabs"))
                              if line.count(char) >= PIXELS), None)
            names = _names(header) if header is not None else []
            # the file's own layout, not a bad line: its header names columns besides the label and the pixels
            extra = [name for column, name in enumerate(names) if column != label_column and not _PIXEL_NAME.fullmatch(name)] \
                if len(names) == len(fields) > PIXELS + 1 else []
            why = ("; its first column is the row index pandas writes: save it with to_csv(index=False)" if pandas_index
                   else f"; its values are separated by {separator}: save it with commas" if separator
                   else f"; its header names columns besides the label and the pixels ({first_few(extra, 3)}): remove them"
                   if extra else ": fix or remove that line")
            raise DatasetError(f"{path} line {number} has {len(fields)} values, expected {PIXELS + 1} "
                               f"({_LAYOUT}){why}")
        label = fields.pop(label_column)
        if not label:
            raise DatasetError(f"{path} line {number} has an empty label: fix or remove that line")
        for column, field in enumerate(fields):
            if not _NUMBER.fullmatch(field) or not 0 <= float(field) <= 255:
                raise DatasetError(f"{path} line {number}: pixel{column} is {field!r}, expected a number 0..255 "
                                   "(or 0..1 throughout the file): fix or remove that line")
        found.append(label)
        values[row] = [float(field) for field in fields]
    return found, values
