"""The IDX reader: good files (gz and raw) and every way a file can be broken."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from inkread.data.idx import IMAGES_MAGIC, LABELS_MAGIC, encode_idx, read_images, read_labels, write_idx
from inkread.errors import DatasetError


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("name", ["x-images-idx3-ubyte.gz", "x-images-idx3-ubyte"])
def test_reads_back_what_was_written(tmp_path, images, name):
    path = tmp_path / name
    write_idx(path, images)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    loaded = read_images(path)
    assert loaded.dtype == np.uint8 and loaded.shape == (5, 28, 28)
    np.testing.assert_array_equal(loaded, images)


def test_labels_and_header_layout(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    write_idx(tmp_path / "l.gz", labels)
    np.testing.assert_array_equal(read_labels(tmp_path / "l.gz"), labels)
    # The header is the big-endian magic then one uint32 per dimension.
    assert encode_idx(labels)[:8] == struct.pack(">iI", LABELS_MAGIC, 5)
    assert struct.unpack(">i", encode_idx(np.zeros((2, 28, 28), np.uint8))[:4])[0] == IMAGES_MAGIC


def test_gzip_detected_by_content_not_name(tmp_path, images):
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(encode_idx(images)))
    np.testing.assert_array_equal(read_images(path), images)


def test_truncated_payload(tmp_path, images):
    path = tmp_path / "short-images-idx3-ubyte"
    path.write_bytes(encode_idx(images)[:-100])
    with pytest.raises(DatasetError, match="short-images-idx3-ubyte is truncated.*delete it"):
        read_images(path)


def test_payload_longer_than_header(tmp_path, images):
    path = tmp_path / "long"
    path.write_bytes(encode_idx(images) + b"\0" * 10)
    with pytest.raises(DatasetError, match="longer than its header"):
        read_images(path)


def test_truncated_gzip_stream(tmp_path, images):
    path = tmp_path / "cut.gz"
    data = gzip.compress(encode_idx(images))
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="cut.gz is not a valid gzip file.*re-download"):
        read_images(path)


def test_shorter_than_header(tmp_path):
    path = tmp_path / "tiny"
    path.write_bytes(b"\0\0\x08")
    with pytest.raises(DatasetError, match="truncated"):
        read_images(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "labels-as-images"
    write_idx(path, np.zeros(4, np.uint8))
    with pytest.raises(DatasetError, match="labels-as-images is not an IDX images file.*2049.*2051"):
        read_images(path)
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)  # a zip file, say
    with pytest.raises(DatasetError, match="not an IDX labels file"):
        read_labels(path)


def test_wrong_dimensions(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(struct.pack(">iIII", IMAGES_MAGIC, 2, 32, 32) + bytes(2 * 32 * 32))
    with pytest.raises(DatasetError, match="32x32 images, expected 28x28"):
        read_images(path)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        read_images(tmp_path / "nope.gz")
