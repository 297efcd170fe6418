"""The official MNIST and EMNIST splits, from their IDX files (downloaded when missing)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from inkread.data.download import EMNIST_ARCHIVE, emnist_file_names, locate, read_checked
from inkread.data.mapping import mapping_name, split_label_set, split_mapping
from inkread.data.splits import DatasetSplits, ImageSet, split_train
from inkread.errors import DatasetError
from inkread.files import default_data_dir
from inkread.labels import DIGITS

MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def label_table(mapping: dict[int, str], labels: tuple[str, ...]) -> np.ndarray:
    """A lookup table from file label numbers (0..255) to class indices in ``labels``; -1 = unknown."""
    table = np.full(256, -1, dtype=np.int64)
    for number, char in mapping.items():
        if 0 <= number < 256 and char in labels:
            table[number] = labels.index(char)
    return table


def read_pair(images_path: Path, labels_path: Path, table: np.ndarray) -> ImageSet:
    """Images and class indices from an IDX images/labels pair, labels mapped through ``table``."""
    images, raw = read_checked(images_path), read_checked(labels_path)
    if len(images) != len(raw):
        raise DatasetError(f"{images_path.name} has {len(images)} images but {labels_path.name} has {len(raw)} labels: "
                           "delete both and run again to re-download them")
    targets = table[raw]
    if len(targets) and targets.min() < 0:
        bad = int(raw[np.argmax(targets < 0)])
        raise DatasetError(f"{labels_path} has label {bad}, which its label set does not have: "
                           "delete it and run again to re-download it")
    return ImageSet(np.array(images), targets)  # np.array copies: the parsed IDX buffer is read-only


def load_mnist(data_dir: str | os.PathLike | None, seed: int, val_fraction: float,
               test_only: bool = False) -> DatasetSplits:
    """MNIST: 60,000 training images (a seeded ``val_fraction`` of them for validation), 10,000 test.

    ``test_only``: leave train and val empty, and do not look for (or download) their files.
    """
    paths = [locate(name, data_dir) for name in _needed(MNIST_FILES, test_only)]
    table = label_table({i: d for i, d in enumerate(DIGITS)}, DIGITS)
    train, val = _train_and_val(paths, table, seed, val_fraction, test_only)
    test = read_pair(paths[-2], paths[-1], table)
    return DatasetSplits("mnist", DIGITS, "mnist", train, val, test,
                         source={"spec": "mnist", "files": [p.name for p in paths]})


def load_emnist_split(split: str, data_dir: str | os.PathLike | None, seed: int,
                      val_fraction: float, test_only: bool = False) -> DatasetSplits:
    """An official EMNIST split (train/test files), transposed upright, labels from the mapping file.

    ``test_only``: leave train and val empty, and do not look for (or download) their files.
    """
    paths = [locate(name, data_dir) for name in _needed(emnist_file_names(split), test_only)]
    folder = default_data_dir(data_dir) / "emnist"
    if not (folder / mapping_name(split)).exists() and (folder / EMNIST_ARCHIVE.name).exists():
        locate(mapping_name(split), data_dir)  # cheap: extracted from the archive already there
    labels = split_label_set(split)
    table = label_table(split_mapping(split, folder), labels)
    train, val = _train_and_val(paths, table, seed, val_fraction, test_only, transform=upright)
    test = upright(read_pair(paths[-2], paths[-1], table))
    return DatasetSplits(f"emnist-{split}", labels, "emnist", train, val, test,
                         source={"spec": f"emnist-{split}", "files": [p.name for p in paths]})


def _needed(files: tuple[str, ...] | list[str], test_only: bool) -> list[str]:
    """The files to read: train images, train labels, test images, test labels (the last two if ``test_only``)."""
    return list(files[2:] if test_only else files)


def _train_and_val(paths: list[Path], table: np.ndarray, seed: int, val_fraction: float, test_only: bool,
                   transform=lambda images: images) -> tuple[ImageSet, ImageSet]:
    """The seeded train/val split of the training files (``paths[0:2]``), or two empty sets if ``test_only``."""
    if test_only:
        return ImageSet.empty(), ImageSet.empty()
    return split_train(transform(read_pair(paths[0], paths[1], table)), seed, val_fraction)


def upright(images: ImageSet) -> ImageSet:
    """EMNIST files store each image transposed (column-major); transpose it back."""
    return ImageSet(np.ascontiguousarray(images.images.transpose(0, 2, 1)), images.targets)
