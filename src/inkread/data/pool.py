"""``emnist-pool``: one training pool from whatever EMNIST IDX files the data dir holds.

The EMNIST splits are different cuts of the same NIST images, so the files overlap: the pool
removes exact duplicates (same pixels) and splits what is left into train/val/test, so that no
val or test image is in train.

Labels. Each file's label numbers become characters through its split's mapping. A character is
then a *set of candidates* among the 62 byclass characters: byclass "c" is {c}, a bymerge "C" is
{C, c} (bymerge merges the case of 15 letters), a letters "A" is {A, a}. Duplicates of one image
intersect their candidate sets, so a bymerge "C" that byclass also holds as "c" is known to be "c".
An image is then labelled in the target set (47 classes by default, 62 with ``emnist-pool:byclass``)
with ``labels.merge_case``, if its candidates name one class there:
- *ambiguous* images (candidates in two target classes: a letters "A" for the 47-class target,
  where "A" and "a" are different classes; a bymerge "C" for the 62-class target) are dropped;
- *conflicts* (duplicates whose labels share no candidate, i.e. NIST labelled the same pixels
  differently) are dropped too: we cannot tell which label is right.
Both are counted in ``source``.

Splits. Each image's split (default 80/10/10) and its order within the split are decided by its
pixel hash and the seed, not by its position: adding EMNIST files later never moves an image
from test to train.

Cache. Decompressing and hashing ~250,000 images takes seconds, so the de-duplicated pool is
cached as ``emnist-pool-<key>.npz`` (key: the folder's resolved path, the input files' names, sizes and
modification times) in ``<data_dir>/cache``,
or, when the data dir is read-only, in the user cache dir (platformdirs) ``.../inkread/cache``.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inkread.data.download import is_writable, read_checked
from inkread.data.mapping import SPLITS, candidates, mapping_name, split_label_set, split_mapping
from inkread.data.splits import DatasetSplits, ImageSet, assign_splits, pixel_digests
from inkread.errors import DatasetError, InkreadError, option
from inkread.files import atomic_write, default_data_dir
from inkread.labels import LABEL_SETS, merge_case

TARGETS = {"bymerge": "emnist-pool", "byclass": "emnist-pool:byclass"}
CACHE_VERSION = 1  # bump when the cached arrays change meaning
_CHARS = LABEL_SETS["byclass"]  # candidate sets are bit masks over these 62 characters
_BIT = {char: 1 << i for i, char in enumerate(_CHARS)}


@dataclass
class Pool:
    """De-duplicated EMNIST images (upright), the candidate mask of each (0: conflict), their hashes."""

    images: np.ndarray  # uint8 (U, 28, 28)
    masks: np.ndarray  # uint64 (U,)
    digests: np.ndarray  # uint64 (U, 2): 128-bit pixel hash
    stats: dict[str, Any]


def load_pool(target: str, data_dir: str | os.PathLike | None, seed: int, val_fraction: float,
              test_fraction: float = 0.1) -> DatasetSplits:
    """The emnist-pool data set for the label set ``target`` ("bymerge": 47 classes, or "byclass": 62)."""
    data_dir = default_data_dir(data_dir)
    pool, cache_path = cached_pool(data_dir)
    labels = LABEL_SETS[target]
    targets = resolve(pool.masks, labels)
    usable = np.flatnonzero(targets >= 0)
    train, val, test = assign_splits(pool.digests[usable], seed, val_fraction, test_fraction)
    parts = [usable[part] for part in (train, val, test)]
    _check_disjoint(pool.digests, parts[0], np.concatenate(parts[1:]))
    sets = [ImageSet(pool.images[part], targets[part]) for part in parts]
    source = {
        "spec": TARGETS[target], **pool.stats,
        "conflicts_dropped": int(np.count_nonzero(targets == -2)),
        "ambiguous_dropped": int(np.count_nonzero(targets == -1)),
        "split": f"by pixel hash and seed: {1 - val_fraction - test_fraction:.2f}/{val_fraction:.2f}/{test_fraction:.2f}",
        "cache": str(cache_path) if cache_path else None,
    }
    return DatasetSplits(TARGETS[target], labels, "emnist", *sets, source=source)


def pool_files(folder: Path) -> list[tuple[str, Path, Path]]:
    """(split, images path, labels path) for every EMNIST IDX images file in ``folder``."""
    found = {}
    for pattern in ("emnist-*-images-idx3-ubyte.gz", "emnist-*-images-idx3-ubyte"):
        for images in sorted(folder.glob(pattern)):
            stem = images.name.removesuffix(".gz")
            if stem in found:  # the same file both gzipped and not: use one
                continue
            split = stem.split("-")[1]
            if split not in SPLITS:
                continue
            labels = images.with_name(images.name.replace("-images-idx3-", "-labels-idx1-"))
            if not labels.exists():
                raise DatasetError(f"{images} has no labels file {labels.name} beside it: add it or remove the images file")
            found[stem] = (split, images, labels)
    return [found[key] for key in sorted(found)]


def cached_pool(data_dir: Path) -> tuple[Pool, Path | None]:
    """The pool of ``<data_dir>/emnist``, from the cache if its input files are unchanged."""
    folder = data_dir / "emnist"
    files = pool_files(folder)
    if not files:
        raise DatasetError(f"no EMNIST IDX files (emnist-*-images-idx3-ubyte.gz) in {folder}: "
                           f"run `inkread data fetch emnist-byclass`, or set INKREAD_DATA_DIR or pass {option('data_dir')}")
    inputs = [path for _, images, labels in files for path in (images, labels)]
    inputs += [folder / mapping_name(split) for split in sorted({s for s, _, _ in files})
               if (folder / mapping_name(split)).exists()]
    # The folder and each file's size and modification time: a cache in the user cache dir is shared by every
    # read-only data dir, and a file replaced by another of the same name and size must not be served its pool.
    key = hashlib.sha256(json.dumps([CACHE_VERSION, str(folder.resolve())] + sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in inputs)).encode()).hexdigest()[:16]
    name = f"emnist-pool-{key}.npz"
    for directory in _cache_dirs(data_dir):
        pool = _read_cache(directory / name)
        if pool is not None:
            return pool, directory / name
    pool = build_pool(files, folder)
    for directory in _cache_dirs(data_dir):
        if is_writable(directory):
            try:
                _write_cache(directory / name, pool)
                return pool, directory / name
            except InkreadError:  # e.g. the disk is full: the pool is still good, just not cached
                break
    return pool, None


def build_pool(files: list[tuple[str, Path, Path]], folder: Path) -> Pool:
    """Read the files, drop exact duplicate images, and intersect the candidates of each duplicate."""
    images, masks, per_file = [], [], []
    for split, images_path, labels_path in files:
        table = _mask_table(split, folder)
        pixels, raw = read_checked(images_path), read_checked(labels_path)
        if len(pixels) != len(raw):
            raise DatasetError(f"{images_path.name} has {len(pixels)} images but {labels_path.name} has {len(raw)} labels: "
                               "delete both and fetch them again")
        file_masks = table[raw]
        if np.any(file_masks == 0):
            bad = int(raw[np.argmax(file_masks == 0)])
            raise DatasetError(f"{labels_path} has label {bad}, which the {split} mapping lacks: delete it and fetch it again")
        images.append(pixels)
        masks.append(file_masks)
        per_file.append({"file": images_path.name, "split": split, "images": len(pixels)})
    pixels = np.concatenate(images)
    masks = np.concatenate(masks)
    digests = pixel_digests(pixels)
    _, first, inverse, counts = np.unique(digests.view(np.dtype((np.void, 16))).ravel(),
                                          return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    merged = np.bitwise_and.reduceat(masks[order], starts)  # candidates every copy agrees on
    stats = {
        "files": per_file,
        "images_read": int(len(pixels)),
        "unique_images": int(len(first)),
        "duplicates_removed": int(len(pixels) - len(first)),
        "conflict_examples": _conflict_examples(merged, masks, order, starts, counts),
    }
    upright = np.ascontiguousarray(pixels[first].transpose(0, 2, 1))  # EMNIST files are transposed
    return Pool(upright, merged, digests[first], stats)


def resolve(masks: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Class index in ``labels`` of each candidate mask; -1 if ambiguous there, -2 for a conflict (0)."""
    targets = np.full(len(masks), -1, dtype=np.int64)
    targets[masks == 0] = -2
    for mask in np.unique(masks[masks != 0]):  # at most a few hundred distinct masks
        classes = {merge_case(char, labels) for char in _chars_of(int(mask))}
        if len(classes) == 1:
            targets[masks == mask] = labels.index(classes.pop())
    return targets


def _mask_table(split: str, folder: Path) -> np.ndarray:
    """Candidate mask of each label number of ``split`` (0 for numbers the mapping lacks)."""
    split_labels = split_label_set(split)
    table = np.zeros(256, dtype=np.uint64)
    for number, char in split_mapping(split, folder).items():
        table[number] = np.uint64(sum(_BIT[exact] for exact in candidates(char, split_labels)))
    return table


def _chars_of(mask: int) -> list[str]:
    return [char for char in _CHARS if mask & _BIT[char]]


def _conflict_examples(merged, masks, order, starts, counts, limit: int = 10) -> dict[str, int]:
    """The most frequent label disagreements among conflicts, e.g. {"0/O": 12}."""
    examples: Counter[str] = Counter()
    for group in np.flatnonzero(merged == 0):
        group_masks = masks[order[starts[group]:starts[group] + counts[group]]]
        names = sorted({"".join(_chars_of(int(m))) for m in group_masks})
        examples["/".join(names)] += 1
    return dict(examples.most_common(limit))


def _check_disjoint(digests: np.ndarray, train: np.ndarray, held_out: np.ndarray) -> None:
    """The promise of the pool: no validation or test image also appears in train."""
    as_void = np.dtype((np.void, 16))
    overlap = np.intersect1d(digests[train].view(as_void).ravel(), digests[held_out].view(as_void).ravel())
    if overlap.size:
        raise AssertionError(f"emnist-pool split leaks {overlap.size} images from val/test into train")


def _cache_dirs(data_dir: Path) -> list[Path]:
    from platformdirs import user_cache_dir  # only needed here

    return [data_dir / "cache", Path(user_cache_dir("inkread")) / "cache"]


def _read_cache(path: Path) -> Pool | None:
    """The cached pool at ``path``, or None if it is missing or unreadable (it is then rebuilt)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            pool = Pool(saved["images"], saved["masks"], saved["digests"], json.loads(str(saved["stats"])))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    count = pool.stats.get("unique_images") if isinstance(pool.stats, dict) else None
    consistent = (pool.images.shape == (count, 28, 28) and pool.images.dtype == np.uint8
                  and pool.masks.shape == (count,) and pool.digests.shape == (count, 2))
    return pool if consistent else None  # a damaged or tampered cache is rebuilt, never half-used


def _write_cache(path: Path, pool: Pool) -> None:
    with atomic_write(path, "wb") as handle:
        # Uncompressed: loading 170 MB from disk is faster than decompressing it.
        np.savez(handle, images=pool.images, masks=pool.masks, digests=pool.digests,
                 stats=np.array(json.dumps(pool.stats)))
