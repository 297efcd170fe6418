"""emnist-pool: de-duplication, label resolution across splits, leak-free splits, the cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

from helpers import shared_subfolder
from inkread.data import load_dataset
from inkread.data import pool as pool_module
from inkread.data.idx import write_idx
from inkread.errors import DatasetError
from inkread.labels import LABEL_SETS

BYCLASS, BYMERGE = LABEL_SETS["byclass"], LABEL_SETS["bymerge"]


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch):
    """Keep the fallback cache (used when a data dir is read-only) inside the test's tmp dir."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache" / "inkread" / "cache"


def _write(folder, prefix, images, labels):
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", np.asarray(images, np.uint8))
    write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.asarray(labels, np.uint8))


def _key(image: np.ndarray) -> bytes:
    """How a raw (transposed) file image looks once loaded: upright."""
    return np.ascontiguousarray(image.T).tobytes()


@pytest.fixture
def synthetic(tmp_path):
    """A small EMNIST folder with overlaps between byclass, bymerge and a letters chunk.

    Returns (data_dir, expected 47-class label of each kept image keyed by upright bytes,
    expected 62-class labels likewise).
    """
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, size=(80, 28, 28), dtype=np.uint8)  # 80 distinct images
    folder = tmp_path / "data" / "emnist"
    # Not the official names (those have pinned checksums), like the chunks in ../shared.
    # byclass test: images 0..39, exact case; image 1 appears twice (a duplicate inside one file).
    byclass_chars = list("0123456789cCoOabAB" + "xyzXYZ" + "0123456789" + "lmnpqr")
    _write(folder, "emnist-byclass-test-part0to40", np.concatenate([img[:40], img[1:2]]),
           [BYCLASS.index(c) for c in byclass_chars] + [BYCLASS.index("1")])
    # bymerge test: images 0..9 again (same labels), 10 = byclass 'c' as merged 'C', 14 = 'a' (kept lower),
    # 5 with a conflicting label ('7' where byclass says '5'), and new images 40..59.
    bymerge_images = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14] + list(range(40, 60))
    bymerge_chars = list("0123456789") + ["C", "a"] + list("CCOOKKaaAB0123456789")
    bymerge_chars[5] = "7"
    _write(folder, "emnist-bymerge-test-part0to31", img[bymerge_images], [BYMERGE.index(c) for c in bymerge_chars])
    # A letters chunk with an odd name: 16 ('A' in byclass) again, then new 60..63: two ambiguous for 47 (A, B).
    _write(folder, "emnist-letters-train-kaggle-part1to5", img[[16, 60, 61, 62, 63]], [1, 1, 2, 3, 15])

    labels47, labels62 = {}, {}
    for index, char in enumerate(byclass_chars):
        if index != 5:  # the conflict
            labels62[_key(img[index])] = char
            labels47[_key(img[index])] = char if char in BYMERGE else char.upper()
    for index, char in zip(range(40, 60), "CCOOKKaaAB0123456789"):
        labels47[_key(img[index])] = char
        if char in "aAB0123456789":  # 'C', 'O', 'K' from bymerge could be either case: not in the 62 pool
            labels62[_key(img[index])] = char
    labels47[_key(img[62])] = "C"  # letters 'C' is C or c: one class of the 47
    labels47[_key(img[63])] = "O"
    return tmp_path / "data", labels47, labels62


def _loaded(splits) -> dict[bytes, str]:
    found = {}
    for part in (splits.train, splits.val, splits.test):
        for image, target in zip(part.images, part.targets):
            key = image.tobytes()
            assert key not in found, "an image appears twice in the pool"
            found[key] = splits.labels[target]
    return found


def test_duplicates_removed_and_labels_resolved(synthetic):
    data_dir, labels47, _ = synthetic
    splits = load_dataset("emnist-pool", data_dir)
    assert splits.name == "emnist-pool" and splits.labels == BYMERGE and splits.recipe == "emnist"
    source = splits.source
    assert source["images_read"] == 41 + 32 + 5
    assert source["unique_images"] == 64
    assert source["duplicates_removed"] == 78 - 64
    assert source["conflicts_dropped"] == 1 and source["conflict_examples"] == {"5/7": 1}
    assert source["ambiguous_dropped"] == 2  # letters 'A' and 'B' images seen only there
    assert _loaded(splits) == labels47


def test_byclass_target_uses_case_from_duplicates(synthetic):
    data_dir, _, labels62 = synthetic
    splits = load_dataset("emnist-pool:byclass", data_dir)
    assert splits.labels == BYCLASS
    loaded = _loaded(splits)
    assert loaded == labels62
    # Image 10 is 'C' in bymerge (C or c) and 'c' in byclass: resolved to 'c', not dropped.
    assert list(loaded.values()).count("c") == 1
    assert splits.source["ambiguous_dropped"] == 64 - 1 - len(labels62)


def test_splits_are_disjoint_seeded_and_stable(synthetic):
    data_dir, _, _ = synthetic
    first = load_dataset("emnist-pool", data_dir, seed=3)
    again = load_dataset("emnist-pool", data_dir, seed=3)
    other = load_dataset("emnist-pool", data_dir, seed=4)

    def members(splits):
        return [{image.tobytes() for image in part.images} for part in (splits.train, splits.val, splits.test)]

    train, val, test = members(first)
    assert not train & val and not train & test and not val & test
    assert members(again) == [train, val, test]
    np.testing.assert_array_equal(first.train.images, again.train.images)
    assert members(other) != [train, val, test]


def test_adding_files_never_moves_an_image_between_splits(synthetic):
    data_dir, _, _ = synthetic
    before = load_dataset("emnist-pool", data_dir)
    extra = np.random.default_rng(2).integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    _write(data_dir / "emnist", "emnist-balanced-train-part0to29", extra, np.arange(30))
    after = load_dataset("emnist-pool", data_dir)
    assert after.source["unique_images"] == before.source["unique_images"] + 30
    for name in ("train", "val", "test"):
        old = {image.tobytes() for image in getattr(before, name).images}
        new = {image.tobytes() for image in getattr(after, name).images}
        assert old <= new


def test_pool_is_cached_in_the_data_dir(synthetic, monkeypatch):
    data_dir, labels47, _ = synthetic
    cold = load_dataset("emnist-pool", data_dir)
    cache = data_dir / "cache"
    assert [p.name for p in cache.glob("emnist-pool-*.npz")] and cold.source["cache"].startswith(str(cache))

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the pool was rebuilt instead of read from the cache")

    monkeypatch.setattr(pool_module, "build_pool", no_rebuild)
    warm = load_dataset("emnist-pool", data_dir)
    np.testing.assert_array_equal(warm.train.images, cold.train.images)
    np.testing.assert_array_equal(warm.test.targets, cold.test.targets)
    assert warm.source["unique_images"] == cold.source["unique_images"]
    # A corrupt cache file is ignored and rebuilt, not trusted.
    monkeypatch.undo()
    next(cache.glob("emnist-pool-*.npz")).write_bytes(b"garbage")
    assert _loaded(load_dataset("emnist-pool", data_dir)) == labels47
    # So is one whose arrays were cut short (it would silently train on part of the pool).
    cached = next(cache.glob("emnist-pool-*.npz"))
    with np.load(cached) as saved:
        arrays = dict(saved)
    np.savez(cached, **{**arrays, "images": arrays["images"][:10]})
    rebuilt = load_dataset("emnist-pool", data_dir)
    assert rebuilt.source["unique_images"] == cold.source["unique_images"] == len(arrays["images"])
    assert rebuilt.counts() == cold.counts()


def test_read_only_data_dir_caches_in_the_user_cache(synthetic, user_cache):
    data_dir, _, _ = synthetic
    data_dir.chmod(0o555)
    try:
        splits = load_dataset("emnist-pool", data_dir)
    finally:
        data_dir.chmod(0o755)
    assert not (data_dir / "cache").exists()
    assert splits.source["cache"].startswith(str(user_cache)) and list(user_cache.glob("emnist-pool-*.npz"))


def test_limit_keeps_a_proportional_sample(synthetic):
    data_dir, _, _ = synthetic
    full = load_dataset("emnist-pool", data_dir)
    small = load_dataset("emnist-pool", data_dir, limit=10)
    assert len(small.train) == 10
    np.testing.assert_array_equal(small.train.images, full.train.images[:10])
    assert len(small.test) <= len(full.test) and small.source["limit"] == 10


def test_no_emnist_files(tmp_path):
    (tmp_path / "emnist").mkdir()
    with pytest.raises(DatasetError, match="no EMNIST IDX files.*inkread data fetch"):
        load_dataset("emnist-pool", tmp_path)


def test_images_without_labels_file(tmp_path):
    folder = tmp_path / "emnist"
    folder.mkdir()
    write_idx(folder / "emnist-byclass-test-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="has no labels file emnist-byclass-test-labels-idx1-ubyte.gz"):
        load_dataset("emnist-pool", tmp_path)


def test_real_pool(user_cache):
    emnist = shared_subfolder("emnist")
    before = sorted(p.name for p in emnist.iterdir())
    splits = load_dataset("emnist-pool", emnist.parent)
    source = splits.source
    assert source["images_read"] == 116_323 * 2 + 14_800 + 3_536 + 9_120 + 304
    assert 200_000 < source["unique_images"] < source["images_read"]
    assert source["duplicates_removed"] == source["images_read"] - source["unique_images"]
    total = sum(splits.counts().values())
    assert total == source["unique_images"] - source["conflicts_dropped"] - source["ambiguous_dropped"]
    assert abs(len(splits.test) / total - 0.1) < 0.01 and abs(len(splits.val) / total - 0.1) < 0.01
    # No image of val/test is in train, checked on the pixels themselves.
    train = {image.tobytes() for image in splits.train.images}
    assert not any(image.tobytes() in train for image in splits.val.images)
    assert not any(image.tobytes() in train for image in splits.test.images)
    # Every class of the 47 has training images; the read-only data dir was left alone.
    assert np.bincount(splits.train.targets, minlength=47).min() > 100
    assert source["cache"].startswith(str(user_cache))
    assert sorted(p.name for p in emnist.iterdir()) == before
    assert not (emnist.parent / "cache").exists()


def test_the_cache_serves_only_the_same_folder_and_unchanged_files(tmp_path, user_cache):
    """Two read-only data dirs share the user cache: files of the same names and sizes in another folder,
    or a file replaced in place, are never served the pool cached for the others."""
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)

    def data_dir(name: str, labels: list[int]):
        folder = tmp_path / name / "emnist"
        folder.mkdir(parents=True)
        # not gzipped: the files of both folders are of the same size whatever the labels
        write_idx(folder / "emnist-byclass-test-part-images-idx3-ubyte", images)
        write_idx(folder / "emnist-byclass-test-part-labels-idx1-ubyte", np.asarray(labels, np.uint8))
        (tmp_path / name).chmod(0o555)  # read-only: the pool is cached in the user cache dir
        return tmp_path / name

    def labels_of(folder) -> list[str]:
        return sorted(_loaded(load_dataset("emnist-pool:byclass", folder)).values())

    digits, letters = list(range(10)) + [0, 1], list(range(10, 22))
    first, second = data_dir("a", digits), data_dir("b", letters)
    try:
        assert labels_of(first) == sorted(BYCLASS[i] for i in digits)
        assert labels_of(second) == sorted(BYCLASS[i] for i in letters)
        labels_file = first / "emnist" / "emnist-byclass-test-part-labels-idx1-ubyte"
        (first / "emnist").chmod(0o755)
        stat = labels_file.stat()
        write_idx(labels_file, np.asarray(letters, np.uint8))  # replaced: same name, same size
        os.utime(labels_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        assert labels_of(first) == sorted(BYCLASS[i] for i in letters)
        assert len(list(user_cache.glob("emnist-pool-*.npz"))) == 3
    finally:
        for folder in (first, second):
            folder.chmod(0o755)
