"""``folder:PATH`` data sets: your own images, preprocessed exactly as inference preprocesses them.

Layouts (checked in this order):
- ``PATH/labels.csv`` with at least the columns ``file,label`` (file names relative to PATH),
  as in ../shared/datasets/hwd1000;
- ``PATH/train/`` and ``PATH/test/``, each in one of the layouts here: the test folder is the test
  split, a seeded ``val_fraction`` of train is the validation split;
- one sub-folder per class, named by its label: ``PATH/7/any-name.png``.
Without a test folder, the images are split train/val/test 80/10/10 by their pixels and the seed:
adding images later never moves the others from one part to another.
Labels are the exact characters (case-sensitive). Given a model's label set, they are mapped into
it with ``labels.merge_case``: a "c" folder is class "C" of a 47-class model.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from inkread.data.splits import TEST_FRACTION, DatasetSplits, ImageSet, default_recipe, index_labels, split_images
from inkread.errors import DatasetError, InkreadError, first_few

LABELS_CSV = "labels.csv"
_LAYOUT_HELP = "use one sub-folder per class (e.g. 7/a.png) or a labels.csv with file,label columns"


def load_folder(path: str | Path, *, labels: tuple[str, ...] | None, recipe: str | None, seed: int,
                val_fraction: float, split_by: str = "content") -> DatasetSplits:
    """Load, label and preprocess the images of a folder data set (see the module docstring).

    ``split_by``: how the parts are drawn (``splits.split_images``): by content, or by position
    for models trained before 2026-12-04.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder: for folder:PATH, {_LAYOUT_HELP}")
    has_test = not (root / LABELS_CSV).exists() and (root / "train").is_dir() and (root / "test").is_dir()
    lone = [name for name in ("train", "test") if (root / name).is_dir()]
    if not (root / LABELS_CSV).exists() and len(lone) == 1:  # else its class folders would be one class "train"
        other = "test" if lone[0] == "train" else "train"
        raise DatasetError(f"{root} has a {lone[0]}/ folder but no {other}/ beside it: add {other}/ in the same layout, "
                           f"or move the class folders out of {lone[0]}/ to be split by seed")
    if has_test:
        train_items, test_items = list_images(root / "train"), list_images(root / "test")
    else:
        train_items, test_items = list_images(root), []
    label_set, targets, merged = index_labels([label for _, label in train_items + test_items], labels, root)
    recipe = recipe or default_recipe(label_set)

    pixels = preprocess_files([file for file, _ in train_items + test_items], recipe)
    images = ImageSet(pixels[:len(train_items)], targets[:len(train_items)])
    if has_test:
        train, val, _ = split_images(images, seed, val_fraction, 0.0, split_by)
        test = ImageSet(pixels[len(train_items):], targets[len(train_items):]) if test_items else ImageSet.empty()
    else:
        train, val, test = split_images(images, seed, val_fraction, TEST_FRACTION, split_by)
    layout = "train/test folders" if has_test else ("labels.csv" if (root / LABELS_CSV).exists() else "class folders")
    return DatasetSplits(f"folder:{root.name}", label_set, recipe, train, val, test,
                         source={"spec": f"folder:{root}", "layout": layout, "split_by": split_by,
                                 "images": len(train_items) + len(test_items), "labels_given": labels is not None,
                                 **({"merged_classes": merged} if merged else {})})  # "c->C": reports say so


def list_images(root: Path) -> list[tuple[Path, str]]:
    """(image path, label) pairs of ``root``, from its labels.csv or its class sub-folders."""
    from inkread.imaging.decode import is_image_name  # the same rule as inkread predict's (imports Pillow)

    if (root / LABELS_CSV).exists():
        items = _read_labels_csv(root / LABELS_CSV)
    else:
        # A class folder's images may sit in sub-folders of it (7/batch-2/a.png is a 7); hidden
        # files and folders (.DS_Store, macOS's ._a.png, .git) are not data.
        items = [(file, folder.name)
                 for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
                 for file in sorted(folder.rglob("*"))
                 if is_image_name(file) and not any(part.startswith(".") for part in file.relative_to(folder).parts)
                 and (file.is_file() or _broken_link(file))]
    if not items:
        raise DatasetError(f"no images in {root}: {_LAYOUT_HELP}")
    return items


def _broken_link(path: Path) -> bool:
    """A symbolic link to nothing: listed, so that reading it fails with its name, not skipped unseen."""
    return path.is_symlink() and not path.exists()


def _read_labels_csv(path: Path) -> list[tuple[Path, str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: tolerate a BOM from Excel
            rows = list(csv.DictReader(handle))
            columns = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"cannot read {path} ({error}): it must be a UTF-8 CSV with file,label columns") from None
    if not rows or "file" not in columns or "label" not in columns:
        raise DatasetError(f"{path} must have a header line with 'file' and 'label' columns and at least one row")
    items = []
    for line, row in enumerate(rows, start=2):
        file, label = (row.get("file") or "").strip(), (row.get("label") or "").strip()
        if not file or not label:
            raise DatasetError(f"{path} line {line} has an empty file or label: fill it in or remove the line")
        image = path.parent / file
        if not image.is_file():
            raise DatasetError(f"{path} line {line} names {file}, which is not in {path.parent}: fix the name or remove the line")
        items.append((image, label))
    return items


def preprocess_files(paths: list[Path], recipe: str) -> np.ndarray:
    """``preprocess_file`` of each path, stacked (N, 28, 28); every unusable image is named in one error.

    A folder of thousands of images may hold several bad ones: a user fixes them all in one go, not
    one per run.
    """
    images, bad = [], []
    for path in paths:
        try:
            images.append(preprocess_file(path, recipe))
        except DatasetError as error:
            bad.append((path, error))
    if len(bad) == 1:
        raise bad[0][1]
    if bad:
        others = first_few([str(path) for path, _ in bad[1:]], 3)
        raise DatasetError(f"{len(bad)} images of the data set cannot be used: {bad[0][1]} (the others: {others})")
    return np.stack(images)


def preprocess_file(path: Path, recipe: str) -> np.ndarray:
    """One image file as uint8 (28, 28), ink high, through the shared inference preprocessing."""
    try:
        from inkread.imaging.preprocess import preprocess_image
    except ImportError:
        raise DatasetError("folder: data sets need inkread.imaging.preprocess, which is missing: reinstall inkread") from None
    try:
        image = preprocess_image(path, recipe=recipe)
    except InkreadError as error:
        # The hint after the problem is written for someone predicting one image ("save or export
        # it again"); in a training folder the fix is to the data set.
        raise DatasetError(f"{_problem(str(error), path)}: replace the image or remove it from the data set") from None
    except (OSError, ValueError) as error:  # an image library error that slipped through
        raise DatasetError(f"cannot read the image {path} ({error}): replace or remove it") from None
    return np.clip(np.rint(np.asarray(image, dtype=np.float32) * 255), 0, 255).astype(np.uint8)


def _problem(message: str, path: Path) -> str:
    """An image error's problem without its hint, naming the image: '<path> is truncated or corrupt (...)'."""
    problem = message.rsplit(": ", 1)[0]
    if problem == f"cannot read {path}":  # the part after it is the reason (permission denied...), not a hint
        return message
    return problem if str(path) in problem else f"{path}: {problem}"
