"""Official EMNIST splits: orientation, label numbering, mapping files."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from helpers import shared_subfolder
from inkread.data import DatasetSplits, ImageSet, load_dataset
from inkread.data.download import BASE_URL_ENV, read_checked
from inkread.data.idx import write_idx
from inkread.data.load import relabel
from inkread.data.mapping import SPLITS, read_mapping, split_label_set, split_mapping
from inkread.errors import DatasetError
from inkread.labels import LABEL_SETS, UPPER


def _write_split(folder, split, images, labels, test_images=None, test_labels=None):
    """Official-name train/test IDX files of ``split`` in ``folder`` (the test files default to train's)."""
    folder.mkdir(parents=True, exist_ok=True)
    for part, imgs, labs in (("train", images, labels),
                             ("test", images if test_images is None else test_images,
                              labels if test_labels is None else test_labels)):
        write_idx(folder / f"emnist-{split}-{part}-images-idx3-ubyte.gz", imgs)
        write_idx(folder / f"emnist-{split}-{part}-labels-idx1-ubyte.gz", np.asarray(labs, np.uint8))


def test_images_are_transposed_upright(tmp_path):
    raw = np.zeros((47, 28, 28), np.uint8)
    raw[:, 5, 2:20] = 255  # a horizontal stroke in the file's (transposed) orientation
    _write_split(tmp_path / "emnist", "balanced", raw, np.arange(47))
    splits = load_dataset("emnist-balanced", tmp_path)
    assert splits.recipe == "emnist" and splits.labels == LABEL_SETS["balanced"]
    expected = raw[0].T  # upright: the stroke is vertical, in column 5
    assert np.all(splits.test.images == expected) and np.all(splits.train.images == expected)
    np.testing.assert_array_equal(splits.test.targets, np.arange(47))
    assert splits.train.images.flags.c_contiguous


def test_letters_are_numbered_1_to_26_and_become_0_to_25(tmp_path):
    folder = tmp_path / "emnist"
    labels = np.arange(1, 27)
    _write_split(folder, "letters", np.zeros((26, 28, 28), np.uint8), labels)
    # The official mapping file: "label upper lower", CRLF line endings.
    (folder / "emnist-letters-mapping.txt").write_bytes(
        b"".join(f"{n} {64 + n} {96 + n}\r\n".encode() for n in range(1, 27)))
    splits = load_dataset("emnist-letters", tmp_path, val_fraction=0.5)
    assert splits.labels == UPPER
    np.testing.assert_array_equal(splits.test.targets, labels - 1)
    assert splits.labels[splits.test.targets[0]] == "A" and splits.labels[splits.test.targets[-1]] == "Z"
    assert sorted(np.concatenate([splits.train.targets, splits.val.targets])) == list(range(26))


def test_label_outside_the_split_is_refused(tmp_path):
    _write_split(tmp_path / "emnist", "digits", np.zeros((3, 28, 28), np.uint8), [1, 2, 10])
    with pytest.raises(DatasetError, match="emnist-digits-train-labels-idx1-ubyte.gz has label 10"):
        load_dataset("emnist-digits", tmp_path)


def test_images_and_labels_must_have_the_same_count(tmp_path):
    _write_split(tmp_path / "emnist", "mnist", np.zeros((3, 28, 28), np.uint8), [1, 2])
    with pytest.raises(DatasetError, match="has 3 images but .* has 2 labels"):
        load_dataset("emnist-mnist", tmp_path)


def test_mapping_that_disagrees_with_inkread_labels_is_refused(tmp_path):
    folder = tmp_path / "emnist"
    folder.mkdir()
    (folder / "emnist-digits-mapping.txt").write_text("0 49\n1 48\n" + "".join(f"{d} {48 + d}\n" for d in range(2, 10)))
    with pytest.raises(DatasetError, match="emnist-digits-mapping.txt does not match the digits label set"):
        split_mapping("digits", folder)
    (folder / "emnist-digits-mapping.txt").write_text("0 forty-eight\n")
    with pytest.raises(DatasetError, match="line 1 is not 'label ascii_code'"):
        split_mapping("digits", folder)


def test_missing_split_without_network_says_what_to_do(tmp_path, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(DatasetError, match=f"emnist-byclass-train-images.*is not in {tmp_path / 'emnist'}.*gzip.zip"):
        load_dataset("emnist-byclass", tmp_path)


def test_test_split_alone_needs_only_the_test_files(tmp_path, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{port}")  # nothing may be downloaded
    folder = tmp_path / "emnist"
    test_images = np.zeros((4, 28, 28), np.uint8)
    test_images[:, 3, 1:9] = 255  # a stroke along a row of the (transposed) file
    _write_split(folder, "digits", np.zeros((2, 28, 28), np.uint8), [0, 1], test_images, [3, 4, 5, 6])
    for part in ("images-idx3", "labels-idx1"):
        (folder / f"emnist-digits-train-{part}-ubyte.gz").unlink()  # a user who holds only the test files

    splits = load_dataset("emnist-digits", tmp_path, test_only=True)
    assert len(splits.train) == 0 and len(splits.val) == 0
    np.testing.assert_array_equal(splits.test.targets, [3, 4, 5, 6])
    assert np.all(splits.test.images == test_images[0].T)  # upright, as always
    assert splits.source["files"] == ["emnist-digits-test-images-idx3-ubyte.gz", "emnist-digits-test-labels-idx1-ubyte.gz"]
    with pytest.raises(DatasetError, match="emnist-digits-train-images.*is not in"):
        load_dataset("emnist-digits", tmp_path)  # training does need them


def test_a_missing_shared_data_set_skips_the_test_saying_which():
    with pytest.raises(pytest.skip.Exception, match="needs the real no-such-set files in ../shared/datasets/no-such-set"):
        shared_subfolder("no-such-set")


def test_official_mapping_files_agree_with_inkread_labels():
    folder = shared_subfolder("emnist")
    present = [split for split in SPLITS if (folder / f"emnist-{split}-mapping.txt").exists()]
    assert {"byclass", "bymerge", "balanced", "letters"} <= set(present)
    for split in present:
        raw = read_mapping(folder / f"emnist-{split}-mapping.txt")
        assert len(raw) == len(split_label_set(split))
        mapping = split_mapping(split, folder)  # raises if it disagrees with inkread.labels
        assert tuple(mapping.values()) == split_label_set(split)
    assert read_mapping(folder / "emnist-letters-mapping.txt")[1] == "A"
    assert split_mapping("byclass", folder)[36] == "a" and split_mapping("bymerge", folder)[36] == "a"


def test_real_emnist_is_upright_after_transposing():
    folder = shared_subfolder("emnist")
    raw = read_checked(folder / "emnist-byclass-test-images-idx3-ubyte.gz")
    labels = read_checked(folder / "emnist-byclass-test-labels-idx1-ubyte.gz")
    upright = raw.transpose(0, 2, 1)
    chars = LABEL_SETS["byclass"]

    def extent(images: np.ndarray, axis: int) -> float:
        """Mean number of rows (axis=2) or columns (axis=1) that hold ink."""
        return float((images > 128).any(axis=axis).sum(axis=1).mean())

    for char in "1l":
        ones = upright[labels == chars.index(char)]
        assert extent(ones, axis=2) > 1.5 * extent(ones, axis=1), f"'{char}' should be taller than wide"

    mnist = load_dataset("mnist", shared_subfolder("mnist").parent).test
    better = 0
    for digit in range(10):
        reference = mnist.images[mnist.targets == digit].mean(axis=0).ravel()
        mean = upright[labels == digit].mean(axis=0)
        better += np.corrcoef(reference, mean.ravel())[0, 1] > np.corrcoef(reference, mean.T.ravel())[0, 1]
    assert better == 10


def test_relabel_into_a_model_label_set_respects_case(tmp_path):
    """byclass 'c' is class 'C' for a 47-class model; a letters 'A' (A or a) fits no 62-class class."""
    byclass = LABEL_SETS["byclass"]
    # (The official byclass file names have pinned checksums, so build the splits directly.)
    part = ImageSet(np.zeros((62, 28, 28), np.uint8), np.arange(62))
    splits = relabel(DatasetSplits("emnist-byclass", byclass, "emnist", part, part, part), LABEL_SETS["bymerge"])
    assert [LABEL_SETS["bymerge"][t] for t in splits.test.targets] == [
        c if c in LABEL_SETS["bymerge"] else c.upper() for c in byclass]
    merged = splits.source["merged_classes"]  # what reports show: 15 lower-case letters read as capitals
    assert len(merged) == 62 - 47 and "c->C" in merged and "o->O" in merged and not any("a" in m for m in merged)
    _write_split(tmp_path / "emnist", "letters", np.zeros((26, 28, 28), np.uint8), np.arange(1, 27))
    with pytest.raises(DatasetError, match="emnist-letters has classes that fit no single class.*'A', 'B'"):
        load_dataset("emnist-letters", tmp_path, labels=byclass)
    with pytest.raises(DatasetError, match="'A', 'B', 'D', 'E'"):  # A/a are two classes of the 47 too; C/c one
        load_dataset("emnist-letters", tmp_path, labels=LABEL_SETS["bymerge"])
