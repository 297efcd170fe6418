"""Read and write IDX files, the format of MNIST and EMNIST (gzip-compressed or raw).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the payload. inkread only uses unsigned bytes (type
0x08): images are magic 2051 (N, rows, cols), labels magic 2049 (N,).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from inkread.errors import DatasetError
from inkread.files import write_bytes_atomic

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_GZIP_MAGIC = b"\x1f\x8b"
REDOWNLOAD_HINT = "delete it and run again to re-download it"


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The uncompressed content of an IDX file (gunzipped if it is gzip, whatever its name)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path} not found: run `inkread data fetch` or set INKREAD_DATA_DIR") from None
    except OSError as error:
        raise DatasetError(f"cannot read {path}: {error.strerror or error}") from None
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as error:  # truncated or corrupt gzip stream
        raise DatasetError(f"{path} is not a valid gzip file ({error}): {REDOWNLOAD_HINT}") from None


def content_hash(data: bytes, algorithm: str) -> str:
    """Hex digest of ``data`` ("md5" or "sha256"), used to check the uncompressed IDX payload."""
    return hashlib.new(algorithm, data).hexdigest()


def parse_idx(data: bytes, magic: int, where: str | os.PathLike = "IDX data") -> np.ndarray:
    """Parse uncompressed IDX ``data`` whose magic must be ``magic``; a read-only uint8 array.

    Images must be 28x28. The payload length must match the header exactly: a truncated (or
    padded) file raises ``DatasetError`` naming ``where``.
    """
    ndim = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}[magic]
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    header_size = 4 + 4 * ndim
    found = struct.unpack(">i", data[:4])[0] if len(data) >= 4 else None
    if found is not None and found != magic:
        raise DatasetError(f"{where} is not an IDX {kind} file (magic number {found}, expected {magic}): {REDOWNLOAD_HINT}")
    if len(data) < header_size:
        raise DatasetError(f"{where} is truncated ({len(data)} bytes, shorter than an IDX header): {REDOWNLOAD_HINT}")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    if magic == IMAGES_MAGIC and shape[1:] != (28, 28):
        raise DatasetError(f"{where} holds {shape[1]}x{shape[2]} images, expected 28x28: {REDOWNLOAD_HINT}")
    expected = int(np.prod(shape, dtype=np.int64))
    payload = len(data) - header_size
    if payload != expected:
        problem = "truncated" if payload < expected else "longer than its header says"
        raise DatasetError(
            f"{where} is {problem} (header: {shape[0]} {kind}, {expected} bytes; file: {payload} bytes): {REDOWNLOAD_HINT}"
        )
    # frombuffer shares memory with ``data`` (no copy): fast, and read-only, which is what we want.
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """Read an IDX file (gz or raw) whose magic must be ``magic`` (IMAGES_MAGIC or LABELS_MAGIC)."""
    return parse_idx(read_idx_bytes(path), magic, where=path)


def read_images(path: str | os.PathLike) -> np.ndarray:
    """uint8 (N, 28, 28) images from an IDX images file, in the file's orientation."""
    return read_idx(path, IMAGES_MAGIC)


def read_labels(path: str | os.PathLike) -> np.ndarray:
    """uint8 (N,) labels from an IDX labels file."""
    return read_idx(path, LABELS_MAGIC)


def encode_idx(array: np.ndarray) -> bytes:
    """Uncompressed IDX bytes for uint8 images (N, 28, 28) or labels (N,)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = {3: IMAGES_MAGIC, 1: LABELS_MAGIC}[array.ndim]
    return struct.pack(f">i{array.ndim}I", magic, *array.shape) + array.tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed if ``path`` ends with ``.gz`` (atomically)."""
    data = encode_idx(array)
    if str(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    write_bytes_atomic(path, data)
