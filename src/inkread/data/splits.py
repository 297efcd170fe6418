"""The data set types every loader returns, and the seeded train/val/test splitting they share."""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inkread.errors import DatasetError, first_few, option, warn
from inkread.labels import DIGITS, merge_case

TEST_FRACTION = 0.1  # the test part of data sets that come without a test split


@dataclass
class ImageSet:
    """Images as the models see them: uint8 (N, 28, 28), ink high, upright; int64 (N,) class indices.

    ``names``: where each image came from, for the user to find it (a folder: set's file path
    relative to the folder, a csv: set's "line 12"); ``None`` for data sets without such (MNIST).
    """

    images: np.ndarray
    targets: np.ndarray
    names: np.ndarray | None = None

    def __post_init__(self) -> None:
        # Checked here so that a loader bug fails at once, not deep inside a training loop.
        if self.images.dtype != np.uint8 or self.images.ndim != 3 or self.images.shape[1:] != (28, 28):
            raise ValueError(f"images must be uint8 (N, 28, 28), got {self.images.dtype} {self.images.shape}")
        self.targets = np.asarray(self.targets, dtype=np.int64)
        if self.targets.shape != (len(self.images),):
            raise ValueError(f"targets must have shape ({len(self.images)},), got {self.targets.shape}")
        if self.names is not None:
            self.names = np.asarray(self.names, dtype=object)
            if self.names.shape != (len(self.images),):
                raise ValueError(f"names must have shape ({len(self.images)},), got {self.names.shape}")

    def __len__(self) -> int:
        return len(self.images)

    def take(self, indices: np.ndarray | slice) -> "ImageSet":
        """The images at ``indices`` (an index array or a slice)."""
        return ImageSet(self.images[indices], self.targets[indices],
                        None if self.names is None else self.names[indices])

    @classmethod
    def concatenate(cls, parts: list["ImageSet"]) -> "ImageSet":
        """The images of ``parts`` one after another; named only if every non-empty part is."""
        named = all(part.names is not None for part in parts if len(part))
        return cls(np.concatenate([part.images for part in parts]), np.concatenate([part.targets for part in parts]),
                   np.concatenate([part.names if part.names is not None else np.zeros(0, object) for part in parts])
                   if named else None)

    @classmethod
    def empty(cls) -> "ImageSet":
        """An image set with no images."""
        return cls(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64))


@dataclass
class DatasetSplits:
    """A loaded data set: its label set, normalization recipe and train/val/test image sets.

    ``source`` describes where the images came from (files, counts, seed) for model.json.
    """

    name: str
    labels: tuple[str, ...]
    recipe: str
    train: ImageSet
    val: ImageSet
    test: ImageSet
    source: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of images per split."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def split_indices(n: int, seed: int, fractions: tuple[float, ...]) -> list[np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it into parts: one part per fraction, plus the rest first.

    ``split_indices(100, 0, (0.1, 0.1))`` gives [80 train, 10 val, 10 test] index arrays, each in
    a seeded random order (so taking the first N of a part is a random sample).
    """
    if any(f < 0 for f in fractions) or sum(fractions) >= 1:
        raise ValueError(f"split fractions must be >= 0 and sum to less than 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(n)
    sizes = [int(round(n * f)) for f in fractions]
    cuts = np.cumsum([n - sum(sizes)] + sizes)[:-1]
    return np.split(order, cuts)


def pixel_digests(pixels: np.ndarray) -> np.ndarray:
    """A 128-bit BLAKE2b hash of each image's bytes, as uint64 (N, 2)."""
    flat = np.ascontiguousarray(pixels).reshape(len(pixels), -1)
    view, size = memoryview(flat).cast("B"), flat.shape[1]
    return digests([view[i * size:(i + 1) * size] for i in range(len(flat))])


def digests(chunks: list) -> np.ndarray:
    """A 128-bit BLAKE2b hash of each bytes-like chunk, as uint64 (N, 2): the content hashes splits are drawn by."""
    joined = b"".join(hashlib.blake2b(chunk, digest_size=16).digest() for chunk in chunks)
    return np.frombuffer(joined, dtype=np.uint64).reshape(len(chunks), 2).copy()


# How folder: and csv: data sets are split (recorded in each run, so a resumed run or an evaluation
# splits the data as it was for training): "source+class"; runs of older versions recorded
# "content+class" (the same, hashing the images as the model's recipe preprocessed them), "content"
# (without the per-class hold-out) or "position" (before 2026-12-04).
SPLIT_BY = "source+class"
SPLIT_METHODS = ("source+class", "content+class", "content", "position")


def assign_splits(digests: np.ndarray, seed: int, val_fraction: float, test_fraction: float,
                  classes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays (train, val, test) into ``digests``, each ordered by a seeded hash (a random order).

    Each image's part is fixed by its seeded hash against the fractions. Given ``classes`` (each
    image's class), a class that the fractions leave with no validation (or test) image, but that
    has an image for each part, gives that part its training image whose hash lies nearest to the
    part's: on a small data set every class is then validated and tested, and only images of such
    classes ever move when images are added.
    """
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise DatasetError(f"val_fraction {val_fraction} and test fraction {test_fraction} must be >= 0 and sum below 1")
    # splitmix64 of the pixel hash mixed with the seed: a uniform number per image, fixed by its content.
    with np.errstate(over="ignore"):
        x = digests[:, 0] ^ (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15))
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    uniform = (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    part = np.searchsorted([1 - val_fraction - test_fraction, 1 - test_fraction], uniform, side="right")
    if classes is not None:
        _hold_out_every_class(part, uniform, np.asarray(classes), [p for p, f in ((2, test_fraction), (1, val_fraction)) if f > 0])
    order = np.argsort(uniform, kind="stable")
    return order[part[order] == 0], order[part[order] == 1], order[part[order] == 2]


def _hold_out_every_class(part: np.ndarray, uniform: np.ndarray, classes: np.ndarray, held_out: list[int]) -> None:
    """Move, in place, one training image of each class that has none in a held-out part (2 test, 1 val) to it."""
    for cls in np.unique(classes):
        members = np.flatnonzero(classes == cls)
        if len(members) < 1 + len(held_out):  # not enough images to train on one and hold one out per part
            continue
        for held in held_out:
            training = members[part[members] == 0]
            if np.any(part[members] == held) or len(training) < 2:
                continue
            nearest = training[uniform[training] == uniform[training].max()]  # copies of one image move together
            if len(nearest) < len(training):
                part[nearest] = held


def split_images(images: ImageSet, seed: int, val_fraction: float, test_fraction: float,
                 by: str = SPLIT_BY, sources: np.ndarray | None = None) -> tuple[ImageSet, ImageSet, ImageSet]:
    """(train, val, test) parts of a data set that comes without a split (folders, CSV files).

    ``by="source+class"`` (``SPLIT_BY``): as "content+class", with ``sources`` (uint64 (N, 2) hashes of
    the images as decoded, before a model's preprocessing) as the content, so that models of different
    recipes (a digits and a characters model fine-tuned on one folder) hold out the same images; without
    ``sources`` (CSV rows, which are the images as given), the pixels.
    ``by="content+class"``: each image's part is fixed by its pixels and the seed
    (``assign_splits``), so adding or removing images never moves the others from one part to another
    (except in a class too small to have an image in every part otherwise), and copies of an image
    land in the same part; every class with three images or more has one in validation and test.
    ``by="content"``: the same without that, as runs split before it. ``by="position"``: a seeded
    shuffle of the images in file order, as before 2026-12-04 (models record which: ``source["split_by"]``).
    """
    if by in ("source+class", "content+class", "content"):
        digests = sources if by == "source+class" and sources is not None else pixel_digests(images.images)
        parts = assign_splits(digests, seed, val_fraction, test_fraction, classes=None if by == "content" else images.targets)
    elif by == "position":
        parts = split_indices(len(images), seed, (val_fraction, test_fraction) if test_fraction else (val_fraction,))
    else:
        raise ValueError(f"split by {by!r}: use one of {', '.join(SPLIT_METHODS)}")
    train, val, *test = (images.take(part) for part in parts)
    return train, val, test[0] if test else ImageSet.empty()


def split_train(images: ImageSet, seed: int, val_fraction: float) -> tuple[ImageSet, ImageSet]:
    """Split an official training set into train and a seeded ``val_fraction`` validation part."""
    train, val = split_indices(len(images), seed, (val_fraction,))
    return images.take(train), images.take(val)


def apply_limit(splits: DatasetSplits, limit: int | None) -> DatasetSplits:
    """Keep the first ``limit`` training images; val and test shrink by the same proportion."""
    if limit is None or limit >= len(splits.train):
        return splits
    if limit < 1:
        raise DatasetError(f"limit must be at least 1, got {limit}: pass a positive number of training images")
    ratio = limit / len(splits.train)

    def shrink(part: ImageSet) -> ImageSet:
        return part.take(slice(0, min(len(part), math.ceil(len(part) * ratio))))

    splits.train, splits.val, splits.test = splits.train.take(slice(0, limit)), shrink(splits.val), shrink(splits.test)
    splits.source = {**splits.source, "limit": limit, "counts": splits.counts()}
    return splits


class LabelsOutsideSet(DatasetError):
    """A data set's labels that fit no class of the label set it must be read with (a model's)."""

    def __init__(self, where: Path | str, unknown: list[str], labels: tuple[str, ...]):
        self.unknown = unknown
        # a data set unzipped into a folder of its own: the one "class" is a folder of the classes
        self.hint = classes_one_level_down(Path(where), unknown)
        single = all(len(label) == 1 for label in labels)  # "0123456789", else "'cat', 'dog'"
        allowed = "".join(labels)[:62] if single else first_few(list(labels), 10)
        super().__init__(f"{where} has labels outside the model's label set: {first_few(unknown)}"
                         f" (allowed: {allowed}): {self.hint or 'rename or remove them'}")


def classes_one_level_down(root: Path, found: list[str]) -> str:
    """Where the class folders of ``root`` are one folder, ``found``, that holds sub-folders (data/my_digits/7/...,
    a data set unzipped into a folder of its own): how to name them; else ""."""
    lone = root / found[0] if len(found) == 1 and root.is_dir() else None
    inner = sorted(p.name for p in lone.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if lone is not None and lone.is_dir() else []
    if len(inner) < 2:
        return ""
    return f"its one folder holds sub-folders ({first_few(inner, 3)}): if they are the classes, use {option('dataset')} folder:{lone}"


def index_labels(found: list[str], labels: tuple[str, ...] | None,
                 where: Path | str) -> tuple[tuple[str, ...], np.ndarray, list[str]]:
    """The label set, the class index of each label in ``found``, and the merges made ("c->C").

    With ``labels`` given (e.g. the model's, to fine-tune or evaluate it), each found label is
    mapped into it with ``labels.merge_case`` (a "c" is class "C" of a 47-class set, as in EMNIST);
    a label that fits no class raises ``DatasetError`` listing a few. Otherwise the set is the
    sorted found labels, digits too: folders 1, 4 and 7 make a 3-class model, not a 10-class one
    with 7 classes it was never taught. ``check_labels`` vets the labels first.
    """
    # One spelling of each character: macOS names a folder "é" as "e" + a combining accent (NFD), a
    # labels.csv typed elsewhere spells it as one code point (NFC); they must be one class.
    # A model's labels are compared in NFC but kept as the model spells them (one trained before labels
    # were normalized may hold "e" + accent): its bundle, its reports and the data must agree.
    found = [unicodedata.normalize("NFC", label) for label in found]
    check_labels(found, where, new_set=labels is None)
    if labels is None:
        labels = tuple(sorted(set(found)))
    labels = tuple(labels)
    classes = {}
    for label in set(found):
        with contextlib.suppress(KeyError):
            classes[label] = labels.index(merge_case(label, labels))  # compares in NFC, gives the model's spelling
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise LabelsOutsideSet(where, unknown, labels)
    merged = sorted(merge_notes(classes.items(), labels))
    return labels, np.array([classes[label] for label in found], dtype=np.int64), merged


# "3.0": a whole number as pandas writes a float column (one that held a NaN, or went through a float array).
_FLOAT_WHOLE_NUMBER = re.compile(r"[+-]?\d+\.0+")


def check_labels(found: list[str], where: Path | str, *, new_set: bool) -> None:
    """Refuse labels that are surely a slip, and warn (one line each) about ones that may be.

    "3.0" is refused: it would be a class of its own, apart from "3", named "3.0" in the model for
    good; the file went through a float conversion, which the user should see and undo. Labels
    of several characters are legal (word-level classes), so they are only warned about, and only
    when they make a new label set (``new_set``): a given set (a model's) holds them on purpose.
    A class of one image cannot be both trained on and tested: warned about too.
    """
    blank = sorted({label for label in found if not label.strip()})
    if blank:  # a folder named " ": its class would be read as nothing, or as a space between words
        raise DatasetError(f"{where} has a class named only by spaces ({first_few(blank, 3)}): name it by the character "
                           "it holds (a folder per class, or the label column of labels.csv)")
    floats = sorted({label for label in found if _FLOAT_WHOLE_NUMBER.fullmatch(label)})
    if floats:
        whole = [str(int(label.split(".")[0])) for label in floats]
        raise DatasetError(f"{where} has labels written as decimal numbers ({first_few(floats, 3)}), as pandas writes a "
                           f"float column: write them as whole numbers ({first_few(whole, 3)}), e.g. with "
                           "df['label'].astype(int) before to_csv")
    counts = Counter(found)
    long = sorted(label for label in counts if len(label) > 1)  # found in NFC (index_labels)
    if new_set and long:
        warn(f"{where} has labels longer than one character ({first_few(long, 3)}): each is a class of its own, "
             "as for whole words; if they should be single characters, rename them")
    single = sorted(label for label, count in counts.items() if count < 2)
    if single:
        warn(f"{where} has classes with a single image ({first_few(single)}): too few to learn them and test them "
             "(the image is either trained on or tested); add images of them")


def merge_notes(class_of, labels: tuple[str, ...]) -> list[str]:
    """ "c->C" for each (label, class index) pair whose label is not its class's own (e.g. byclass "c" read as "C")."""
    return [f"{label}->{labels[index]}" for label, index in class_of if label != labels[index]]


def default_recipe(labels: tuple[str, ...]) -> str:
    """The normalization recipe for a label set: "mnist" for digits, "emnist" for anything else."""
    return "mnist" if set(labels) <= set(DIGITS) else "emnist"
