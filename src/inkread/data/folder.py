"""``folder:PATH`` data sets: your own images, preprocessed exactly as inference preprocesses them.

Layouts (checked in this order):
- ``PATH/labels.csv`` with at least the columns ``file,label`` (file names relative to PATH),
  as in ../shared/datasets/hwd1000 (header names in any case; ``,`` ``;`` or a tab between columns);
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
import io
import os
import unicodedata
from pathlib import Path

import numpy as np

from inkread.data.splits import SPLIT_BY, TEST_FRACTION, DatasetSplits, ImageSet, default_recipe, digests, index_labels, split_images
from inkread.errors import DatasetError, InkreadError, first_few, plural, warn
from inkread.files import is_litter

LABELS_CSV = "labels.csv"
_LAYOUT_HELP = "use one sub-folder per class (e.g. 7/a.png) or a labels.csv with file,label columns"


def load_folder(path: str | Path, *, labels: tuple[str, ...] | None, recipe: str | None, seed: int,
                val_fraction: float, split_by: str = SPLIT_BY) -> DatasetSplits:
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
    if not (root / LABELS_CSV).exists() and not has_test:
        _check_split_folders(root)
    if has_test:
        train_items, test_items = list_images(root / "train"), list_images(root / "test")
    else:
        train_items, test_items = list_images(root), []
    where = root / LABELS_CSV if (root / LABELS_CSV).exists() else root  # the file to fix, when labels are in one
    label_set, targets, merged = index_labels([label for _, label in train_items + test_items], labels, where)
    recipe = recipe or default_recipe(label_set)

    files = [file for file, _ in train_items + test_items]
    pixels, decoded = preprocess_files(files, recipe)
    _warn_relabelled(root, files, decoded, targets, label_set)
    # each image's file, relative to the folder: a report names the ones misread (a mislabeled image is found so)
    names = np.array([Path(os.path.relpath(file, root)).as_posix() for file, _ in train_items + test_items], dtype=object)
    images = ImageSet(pixels[:len(train_items)], targets[:len(train_items)], names[:len(train_items)])
    sources = decoded[:len(train_items)] if split_by == "source+class" else None
    if has_test:
        train, val, _ = split_images(images, seed, val_fraction, 0.0, split_by, sources)
        test = (ImageSet(pixels[len(train_items):], targets[len(train_items):], names[len(train_items):])
                if test_items else ImageSet.empty())
    else:
        train, val, test = split_images(images, seed, val_fraction, TEST_FRACTION, split_by, sources)
    layout = "train/test folders" if has_test else ("labels.csv" if (root / LABELS_CSV).exists() else "class folders")
    return DatasetSplits(f"folder:{root.name}", label_set, recipe, train, val, test,
                         source={"spec": f"folder:{root}", "layout": layout, "split_by": split_by,
                                 "images": len(train_items) + len(test_items), "labels_given": labels is not None,
                                 **({"merged_classes": merged} if merged else {})})  # "c->C": reports say so


# Folders that name a part of a data set, not a class: other spellings of train/ and test/.
SPLIT_FOLDER_NAMES = {"training", "testing", "validation", "val", "valid", "train", "test"}


def _check_split_folders(root: Path) -> None:
    """Refuse class folders that are a data set's parts under other names (training/, testing/ holding
    class folders): they would be read as classes named "training" and "testing"."""
    parts = sorted(child.name for child in root.iterdir()
                   if child.is_dir() and child.name.lower() in SPLIT_FOLDER_NAMES
                   and any(grandchild.is_dir() for grandchild in child.iterdir()))
    if parts:
        raise DatasetError(f"{root} has {', '.join(p + '/' for p in parts)} holding class folders, which would be read as "
                           "classes: name them train/ and test/ for a data set split in two, or move their class "
                           "folders up into " + str(root))


def list_images(root: Path) -> list[tuple[Path, str]]:
    """(image path, label) pairs of ``root``, from its labels.csv or its class sub-folders."""
    items = _read_labels_csv(root / LABELS_CSV) if (root / LABELS_CSV).exists() else _class_folder_images(root)
    if not items:
        raise DatasetError(f"no images in {root}: {_LAYOUT_HELP}")
    if (root / LABELS_CSV).exists():
        _warn_folders_disagree(root, items)
    return items


def _warn_folders_disagree(root: Path, items: list[tuple[Path, str]]) -> None:
    """Warn of images in a folder named as a class (3/a.png) that the labels.csv gives another label: the CSV's
    label is the one used, and a user who laid out class folders beside an old CSV would never know."""
    labels = {label for _, label in items}
    disagree = []
    for image, label in items:
        parts = Path(os.path.relpath(image, root)).parts
        if len(parts) > 1 and parts[0] in labels and parts[0] != label:
            disagree.append(f"{Path(*parts).as_posix()} as {label!r}")
    if disagree:
        warn(f"{root / LABELS_CSV} gives {plural(len(disagree), 'image', 'images')} in a class's folder another "
             f"class ({first_few(disagree, 3, quote=False)}): its labels are the ones used; fix them, or remove "
             f"{LABELS_CSV} to use the folders' names")


def _class_folder_images(root: Path) -> list[tuple[Path, str]]:
    """(image path, label) pairs of the class sub-folders of ``root``; says what it leaves out.

    A class folder's images may sit in sub-folders of it (7/batch-2/a.png is a 7); hidden files
    and folders (.DS_Store, macOS's ._a.png, .git) are not data. Images beside the class folders
    have no label: they are left out with a warning, or, with no class folder at all, refused
    with the layout to use (a flat folder of images is a common first try).
    """
    from inkread.imaging.decode import is_image_name  # the same rule as inkread predict's (imports Pillow)

    def images_in(files) -> list[Path]:
        """The image files among ``files`` (broken links too: reading them names them)."""
        return [file for file in files if is_image_name(file) and (file.is_file() or _broken_link(file))]

    items, empty, others = [], [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = [file for file in sorted(folder.rglob("*"))
                 if not any(part.startswith(".") for part in file.relative_to(folder).parts)]
        found = images_in(files)
        if found:  # (a folder without images is an empty class, said below)
            images = set(found)
            others += [file for file in files if file not in images and file.is_file() and not is_litter(file.name)]
        items += [(file, folder.name) for file in found]
        if not found:
            empty.append(folder.name)
    loose = images_in(sorted(root.iterdir()))
    if loose and not items:
        raise DatasetError(f"{root} holds {plural(len(loose), 'image', 'images')} but no class sub-folders and no "
                           f"{LABELS_CSV}: move each image into a sub-folder named by its label (7/{loose[0].name}), "
                           f"or list them in a {LABELS_CSV} with file,label columns")
    if loose:
        warn(f"{plural(len(loose), 'image', 'images')} at the top of {root} {'is' if len(loose) == 1 else 'are'} left out "
             f"({first_few([p.name for p in loose], 3)}): only images in a class sub-folder have a label; "
             f"move them into theirs (e.g. 7/{loose[0].name})")
    if others and items:  # an iPhone's .HEIC, notes: a user who thinks them used would never know
        warn(f"{plural(len(others), 'file', 'files')} in the class folders of {root} {'is' if len(others) == 1 else 'are'} "
             f"not an image and left out ({first_few([str(p.relative_to(root)) for p in others], 3)}): save images as PNG "
             "or JPEG to use them")
    if empty and items:
        warn(f"class folders of {root} hold no images and are left out ({first_few(empty)}): "
             "add images of those classes, or remove the folders")
    return items


def _warn_relabelled(root: Path, files: list[Path], decoded: np.ndarray, targets: np.ndarray,
                     label_set: tuple[str, ...]) -> None:
    """Warn of images of the same pixels under two labels: the model is taught both, and only the user can
    tell which is right (emnist-pool drops such conflicts; a labels.csv listing one file twice is refused)."""
    first: dict[bytes, int] = {}
    pairs = []
    for index, digest in enumerate(decoded):
        seen = first.setdefault(digest.tobytes(), index)
        if targets[seen] != targets[index]:
            pairs.append((seen, index))
    if pairs:
        (a, b), name = pairs[0], lambda i: Path(os.path.relpath(files[i], root)).as_posix()
        warn(f"{plural(len(pairs), 'image', 'images')} of {root} {'has' if len(pairs) == 1 else 'have'} the same pixels as one "
             f"under another label (e.g. {name(a)} as {label_set[targets[a]]!r}, {name(b)} as {label_set[targets[b]]!r}): "
             "each is trained as both; keep the right one, remove the other")


def _broken_link(path: Path) -> bool:
    """A symbolic link to nothing: listed, so that reading it fails with its name, not skipped unseen."""
    return path.is_symlink() and not path.exists()


# A labels.csv saved by a spreadsheet in a comma-decimal locale uses ";" (or a tab) between columns.
_DELIMITERS = (",", ";", "\t")


def _read_labels_csv(path: Path) -> list[tuple[Path, str]]:
    """(image path, label) pairs listed by a labels.csv; every row is checked, a bad one named by its line.

    Header names are matched ignoring case and surrounding spaces ("File, Label"); the delimiter
    is the first of , ; tab that makes them found. File names written on Windows (imgs\\a.png)
    are read with / when the name as written does not exist (a backslash is legal in a name here).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: tolerate a BOM from Excel
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {path} ({error}): it must be a UTF-8 CSV with file,label columns") from None
    # newline=None: lines ended by \r alone (old Mac spreadsheets) are lines too, as csv:PATH reads them
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=_csv_delimiter(path, text))
    try:
        items = _listed_images(path, reader)
    except csv.Error as error:
        raise DatasetError(f"cannot read {path} line {reader.line_num} ({error}): fix the quoting of that line") from None
    if not items:
        raise DatasetError(f"{path} has a header line but no rows: add a file,label line per image")
    _warn_unlisted(path, {image.resolve() for image, _ in items})  # resolved: a name listed as an absolute path too
    return items


def _csv_delimiter(path: Path, text: str) -> str:
    """The first of , ; tab with which the header line names a file and a label column."""
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = next((d for d in _DELIMITERS if {"file", "label"} <= set(_column_names(first, d))), None)
    if delimiter is None:
        likely = max(_DELIMITERS, key=lambda d: len(_column_names(first, d)))  # the one that splits it most
        found = ", ".join(map(repr, _column_names(first, likely))) or "nothing"
        raise DatasetError(f"{path} must have a header line with 'file' and 'label' columns and at least one row "
                           f"(its first line has {found}): write file,label as its first line")
    return delimiter


def _listed_images(path: Path, reader) -> list[tuple[Path, str]]:
    """The (image, label) rows after the header, each checked: both filled in, the file there, one label per image."""
    columns = _column_names(next(reader), None)
    file_column, label_column = columns.index("file"), columns.index("label")
    items, seen, repeated, by_nfc = [], {}, [], None
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # a blank line, as spreadsheets leave at the end
        line = reader.line_num
        file, label = (row[i].strip() if i < len(row) else "" for i in (file_column, label_column))
        if not file or not label:
            raise DatasetError(f"{path} line {line} has an empty file or label: fill it in or remove the line")
        image = path.parent / file
        if not image.is_file() and "\\" in file:
            image = path.parent / file.replace("\\", "/")
        if not image.is_file():
            by_nfc = _files_by_nfc(path.parent) if by_nfc is None else by_nfc
            image = by_nfc.get(_nfc_name(image, path.parent), image)
        if not image.is_file():
            raise DatasetError(f"{path} line {line} names {file}, which is not in {path.parent}: "
                               "fix the name or remove the line")
        # The same image under two labels teaches the model both: the user must say which is right.
        key = os.path.normpath(image)
        if key in seen and seen[key][1] != label:
            raise DatasetError(f"{path} lists {file} twice with different labels ({seen[key][1]!r} on line "
                               f"{seen[key][0]}, {label!r} on line {line}): keep the right one, remove the other")
        if key in seen:  # listed again with the same label: read once (twice, it was trained, and maybe tested, twice)
            repeated.append(line)
            continue
        seen[key] = (line, label)
        items.append((image, label))
    if repeated:
        warn(f"{path} lists {plural(len(repeated), 'file', 'files')} again with the same label (line "
             f"{first_few(repeated, quote=False)}): each is read once")
    return items


def _files_by_nfc(folder: Path) -> dict[str, Path]:
    """The files below ``folder`` by their names relative to it in Unicode's NFC: macOS may write a name
    decomposed ("e" + an accent, NFD) where a labels.csv typed by hand holds "é" (NFC)."""
    return {_nfc_name(file, folder): file for file in folder.rglob("*") if file.is_file()}


def _nfc_name(file: Path, folder: Path) -> str:
    """``file``'s name relative to ``folder``, in Unicode's NFC."""
    return unicodedata.normalize("NFC", Path(os.path.relpath(file, folder)).as_posix())


def _warn_unlisted(path: Path, listed: set[Path]) -> None:
    """Warn of images beside the labels.csv that it does not list: they are not used, and a user who
    added files and forgot the CSV would otherwise never know."""
    from inkread.imaging.decode import is_image_name

    # (not in hidden folders, nor in a report or a model bundle saved inside the data set's folder)
    def other_files(folder: Path) -> bool:
        return any(part.startswith(".") for part in folder.relative_to(path.parent).parts) or \
            (folder / "report.html").exists() or (folder / "model.json").exists()

    unlisted = sorted(str(image.relative_to(path.parent)) for image in path.parent.rglob("*")
                      if is_image_name(image) and image.is_file() and not other_files(image.parent)
                      and image.resolve() not in listed)
    if unlisted:
        warn(f"{plural(len(unlisted), 'image', 'images')} in {path.parent} "
             f"{'are' if len(unlisted) != 1 else 'is'} not listed in {path.name} and left out ({first_few(unlisted, 3)}): "
             "add a file,label line for each to use them")


def _column_names(header: str | list[str], delimiter: str | None) -> list[str]:
    """The column names of a header line (or of its fields, as a list), lower-case and stripped."""
    fields = next(csv.reader([header], delimiter=delimiter), []) if isinstance(header, str) else header
    return [name.strip().lower() for name in fields]


def preprocess_files(paths: list[Path], recipe: str) -> tuple[np.ndarray, np.ndarray]:
    """``preprocess_file`` of each path: the images stacked (N, 28, 28) and the hashes of their pixels as
    decoded (``splits.digests``, uint64 (N, 2)); every unusable image is named in one error.

    A folder of thousands of images may hold several bad ones: a user fixes them all in one go, not
    one per run.
    """
    images, decoded, bad = [], [], []
    for path in paths:
        try:
            image, pixels = preprocess_file(path, recipe)
            images.append(image)
            decoded.append(pixels)
        except DatasetError as error:
            bad.append((path, error))
    if len(bad) == 1:
        raise bad[0][1]
    if bad:
        others = first_few([str(path) for path, _ in bad[1:]], 3)
        raise DatasetError(f"{len(bad)} images of the data set cannot be used: {bad[0][1]} (the others: {others})")
    return np.stack(images), digests(decoded)


def preprocess_file(path: Path, recipe: str) -> tuple[np.ndarray, bytes]:
    """One image file as uint8 (28, 28), ink high, through the shared inference preprocessing, and its
    pixels as decoded, before any preprocessing (mode, size and every band), to be hashed.

    Splitting by their hash ("source+class"), a folder's parts are the same whatever the recipe: a digits
    model and a characters model fine-tuned on it are tested on the same images. (The files' bytes would
    do that too, but copies of one image saved twice would then fall into different parts; the decoded
    pixels, integers, hash the same on any machine, where float preprocessing could round differently.)
    """
    from inkread.imaging.decode import open_image
    from inkread.imaging.levels import to_uint8  # here: importing inkread.data needs numpy only
    from inkread.imaging.preprocess import preprocess_image

    try:
        decoded = open_image(path)  # decoded once: its pixels are hashed, then preprocessed
        # (all its bands: a drawing on a transparent canvas is in its alpha)
        pixels = f"{decoded.mode} {decoded.width}x{decoded.height}".encode() + decoded.tobytes()
        image = preprocess_image(decoded, recipe=recipe)
    except InkreadError as error:
        # The hint after the problem is written for someone predicting one image ("save or export
        # it again"); in a training folder the fix is to the data set.
        raise DatasetError(f"{_problem(str(error), path)}: replace the image or remove it from the data set") from None
    except (OSError, ValueError) as error:  # an image library error that slipped through
        raise DatasetError(f"cannot read the image {path} ({error}): replace or remove it") from None
    return to_uint8(image, 255.0), pixels


def _problem(message: str, path: Path) -> str:
    """An image error's problem without its hint, naming the image: '<path> is truncated or corrupt (...)'."""
    problem = message.rsplit(": ", 1)[0]
    if problem == f"cannot read {path}":  # the part after it is the reason (permission denied...), not a hint
        return message
    return problem if str(path) in problem else f"{path}: {problem}"
