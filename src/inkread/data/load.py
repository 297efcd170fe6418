"""``load_dataset(spec)``: one entry point for every data set spec."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from inkread.data.csvfile import load_csv
from inkread.data.folder import load_folder
from inkread.data.mapping import SPLITS, candidates, class_in
from inkread.data.official import load_emnist_split, load_mnist
from inkread.data.pool import TARGETS, load_pool
from inkread.data.splits import SPLIT_BY, TEST_FRACTION, DatasetSplits, ImageSet, apply_limit, merge_notes
from inkread.errors import DatasetError, first_few

SPECS = ("mnist", *(f"emnist-{split}" for split in SPLITS), *TARGETS.values(), "folder:PATH", "csv:PATH")


def load_dataset(spec: str, data_dir: str | os.PathLike | None = None, *, seed: int = 0, val_fraction: float = 0.1,
                 limit: int | None = None, labels: tuple[str, ...] | list[str] | None = None,
                 recipe: str | None = None, test_only: bool = False, split_by: str = SPLIT_BY) -> DatasetSplits:
    """Load the data set named by ``spec`` and split it into train/val/test.

    spec: "mnist", "emnist-SPLIT" (balanced, byclass, bymerge, letters, digits, mnist),
    "emnist-pool" (47 classes), "emnist-pool:byclass" (62), "folder:PATH" or "csv:PATH".
    data_dir: where mnist/ and emnist/ are (default: $INKREAD_DATA_DIR, else the user cache dir).
    seed, val_fraction: the seeded validation split (taken from train where a test split exists).
    limit: keep the first ``limit`` training images; val and test shrink by the same proportion.
    labels: the label set to use (e.g. a model's, for fine-tuning); folder/csv labels must lie in
    it, other data sets are re-indexed into it. Default: the data set's own.
    recipe: the normalization recipe for folder: images (default: "mnist" for digits, else "emnist").
    split_by: how folder:/csv: data sets are split (``splits.SPLIT_BY``, or what an older run recorded;
    see ``splits.split_images``).
    test_only: only the test split is wanted. Official MNIST/EMNIST splits then leave train and val
    empty and need only their test files (evaluation on a machine that holds just those); data
    sets that are split here (pools, folders, CSVs) are loaded whole, as the split needs them all.
    """
    if not 0 <= val_fraction < 1 - TEST_FRACTION:
        raise DatasetError(f"val_fraction must be between 0 and {1 - TEST_FRACTION}, got {val_fraction}")
    labels = tuple(labels) if labels is not None else None
    spec = dataset_spec(spec)
    kind, _, argument = spec.partition(":")
    if spec == "mnist":
        splits = load_mnist(data_dir, seed, val_fraction, test_only)
    elif spec.startswith("emnist-") and spec[len("emnist-"):] in SPLITS:
        splits = load_emnist_split(spec[len("emnist-"):], data_dir, seed, val_fraction, test_only)
    elif spec in TARGETS.values():
        target = next(name for name, pool_spec in TARGETS.items() if pool_spec == spec)
        splits = load_pool(target, data_dir, seed, val_fraction, TEST_FRACTION)
    elif kind in ("folder", "csv") and argument:
        loader = load_folder if kind == "folder" else load_csv
        splits = loader(argument, labels=labels, recipe=recipe, seed=seed, val_fraction=val_fraction, split_by=split_by)
    else:
        raise DatasetError(f"unknown data set {spec!r}: use one of {', '.join(SPECS)}{_did_you_mean(spec)}")
    if labels is not None and labels != splits.labels:
        splits = relabel(splits, labels)
    splits.source.update(seed=seed, val_fraction=val_fraction, counts=splits.counts())
    return apply_limit(splits, limit)


def dataset_spec(spec: str | os.PathLike) -> str:
    """``spec`` as a data set spec string: a path object (``Path("my_digits")``) names a folder: or csv: data set."""
    if isinstance(spec, os.PathLike):
        path = os.fspath(spec)
        return f"{'csv' if path.lower().endswith('.csv') and not os.path.isdir(path) else 'folder'}:{path}"
    if not isinstance(spec, str):
        raise DatasetError(f"a data set is named by a string such as 'mnist' or 'folder:PATH', got {spec!r} "
                           f"({type(spec).__name__})")
    # names in any case ("MNIST", "Folder:my_digits" were refused as unknown); a path keeps its own
    kind, colon, argument = spec.partition(":")
    if colon and kind.lower() in ("folder", "csv"):
        return f"{kind.lower()}:{argument}"
    return spec.lower() if spec.lower() in SPECS else spec


def _did_you_mean(spec: str) -> str:
    """A hint for a path given without its folder: or csv: prefix ('' if ``spec`` is no such path)."""
    if os.path.isdir(spec):
        return f" (for the images in that folder: folder:{spec})"
    if os.path.isfile(spec) and spec.lower().endswith(".csv"):
        return f" (for that CSV file: csv:{spec})"
    return ""


def relabel(splits: DatasetSplits, labels: tuple[str, ...]) -> DatasetSplits:
    """Re-index the targets of ``splits`` into ``labels`` (e.g. a model's label set).

    Each class must fall into exactly one class of ``labels``, whatever case it stands for:
    byclass "c" goes to "C" of a 47-class set, but a letters "A" (A or a) cannot go into the
    62-class set, where A and a are different classes.
    """
    table, unfit = [], []
    for char in splits.labels:
        classes = {class_in(exact, labels) for exact in candidates(char, splits.labels)}
        if len(classes) == 1 and None not in classes:
            table.append(labels.index(classes.pop()))
        else:
            unfit.append(char)
    if unfit:
        raise DatasetError(f"{splits.name} has classes that fit no single class of the given label set: "
                           f"{first_few(unfit)}: "
                           "choose a model or data set with matching labels")
    for name in ("train", "val", "test"):
        part = getattr(splits, name)
        setattr(splits, name, ImageSet(part.images, np.array(table, dtype=np.int64)[part.targets], part.names))
    merged = merge_notes(zip(splits.labels, table), labels)
    if merged:
        splits.source["merged_classes"] = merged  # e.g. byclass "c" read as "C": reports say so
    splits.labels = labels
    return splits


def training_split(training: dict, spec: str) -> dict:
    """How to split ``spec`` as a model's training run did, as ``load_dataset`` keyword arguments
    (``seed``, ``val_fraction``, ``split_by``): the run's own if it used ``spec``.

    Pools, folders and CSV files are split here by seed, so a model trained with ``--split-seed 1``
    has a different test split from the default seed 0 one: evaluating it on that would score
    it partly on its own training images. Folders and CSV files trained on before 2026-12-04 were
    split by position (their record has no ``split_by``). Other data sets get seed 0, a tenth for
    validation, and today's split (``SPLIT_BY``).
    """
    source = training.get("data_source") or {}
    if same_data_set(source.get("spec"), spec) or same_data_set(training.get("dataset"), spec):
        # the split seed the loader recorded; the oldest bundles split by the recipe's --seed
        seed = source.get("seed", (training.get("recipe") or {}).get("seed", 0))
        return {"seed": int(seed), "val_fraction": float(source.get("val_fraction", 0.1)),
                "split_by": source.get("split_by", "position")}
    return {"seed": 0, "val_fraction": 0.1, "split_by": SPLIT_BY}


def training_data_dir(training: dict, given: str | os.PathLike | None) -> str | os.PathLike | None:
    """The data directory to read a model's data sets from: ``given`` (``--data-dir``), else the one its training
    run was given (recorded in its recipe), as ``inkread train --resume`` does; None: the default."""
    recipe = training.get("recipe")
    return given or (recipe.get("data_dir") if isinstance(recipe, dict) else None)


def absolute_spec(spec: str) -> str:
    """``spec`` with a folder:/csv: path made absolute, so that a run's record of it works from any directory."""
    kind, _, path = spec.partition(":")
    if kind in ("folder", "csv") and path:
        return f"{kind}:{Path(path).expanduser().resolve()}"
    return spec


def same_data_set(recorded: str | None, spec: str | None) -> bool:
    """Whether a recorded data set spec names the data set ``spec`` does; folder:/csv: paths are compared resolved."""
    if not recorded or not spec:
        return False
    if recorded == spec:
        return True
    kind, _, path = recorded.partition(":")
    other_kind, _, other_path = spec.partition(":")
    if kind not in ("folder", "csv") or kind != other_kind or not path or not other_path:
        return False
    return Path(path).expanduser().resolve() == Path(other_path).expanduser().resolve()
