"""Connected components of a binary image, vectorized with numpy (no scipy, no pixel loops).

Run-length labelling: every horizontal run of ink in a row is a node; runs in adjacent rows that
touch (8-connectivity, so diagonal strokes stay whole) are edges. The edges are merged with a
vectorized union-find (hook each root to the smaller root, then pointer-jump until flat). The work
grows with the number of runs, not of pixels, so a 1024x1024 page takes a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inkread.errors import InputImageError

MAX_MARKS = 500  # more marks than this is not a character to read (ruled paper, a grid, noise)
MAX_SPECKS = 500  # more specks (smaller than half a pen dot) than this is noise, not writing


@dataclass
class Components:
    """The connected components of a mask.

    ``labels`` is an int32 image, 0 on background and 1..count on the components, numbered in
    raster order of their first pixel. Per-component arrays are indexed by ``label - 1``:
    ``areas`` (pixels) and ``boxes`` (x0, y0, x1, y1 with exclusive ends).
    """

    labels: np.ndarray
    count: int
    areas: np.ndarray
    boxes: np.ndarray

    def longest_sides(self) -> np.ndarray:
        """The longer side (pixels) of each component's box."""
        return np.maximum(self.boxes[:, 2] - self.boxes[:, 0], self.boxes[:, 3] - self.boxes[:, 1])


def label(mask: np.ndarray) -> Components:
    """Label the 8-connected components of a 2-D boolean mask."""
    mask = np.asarray(mask, dtype=bool)
    height, width = mask.shape
    labels = np.zeros((height, width), np.int32)
    rows, starts, ends = _runs(mask)
    if rows.size == 0:
        return Components(labels, 0, np.zeros(0, np.int64), np.zeros((0, 4), np.int64))

    root = _union_find(rows.size, *_touching_runs(rows, starts, ends, width))
    _, comp = np.unique(root, return_inverse=True)  # roots are first runs: raster order
    comp = comp.ravel()
    count = int(comp.max()) + 1

    lengths = ends - starts
    areas = np.bincount(comp, weights=lengths, minlength=count).astype(np.int64)
    boxes = np.empty((count, 4), np.int64)
    boxes[:, 0] = _group_reduce(np.minimum, starts, comp, count, width)
    boxes[:, 1] = _group_reduce(np.minimum, rows, comp, count, height)
    boxes[:, 2] = _group_reduce(np.maximum, ends, comp, count, 0)
    boxes[:, 3] = _group_reduce(np.maximum, rows + 1, comp, count, 0)

    # Paint the runs: flat pixel index of every run pixel, without a Python loop.
    total = int(lengths.sum())
    first = np.repeat(rows.astype(np.int64) * width + starts, lengths)
    offset = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    labels.ravel()[first + offset] = np.repeat(comp + 1, lengths)
    return Components(labels, count, areas, boxes)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, start column and end column (exclusive) of every horizontal run, in raster order."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)  # same order as the starts: one end per start in each row
    return rows, starts, ends


def _touching_runs(rows, starts, ends, width) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b) of runs where b is in the row below a and touches it (8-connectivity)."""
    key = width + 2  # a row-major key that keeps rows apart: row * key + column
    start_keys = rows * key + starts
    end_keys = rows * key + ends
    below = (rows + 1) * key
    # Runs of the next row touching [s, e): end_b >= s and start_b <= e; both bounds are
    # contiguous ranges in raster order, found by binary search.
    lo = np.searchsorted(end_keys, below + starts, side="left")
    hi = np.searchsorted(start_keys, below + ends, side="right")
    counts = np.maximum(hi - lo, 0)
    a = np.repeat(np.arange(rows.size), counts)
    b = np.repeat(lo, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return a, b


def _union_find(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The root (smallest member) of every node after merging the edges (a, b)."""
    parent = np.arange(n)
    while a.size:
        pa, pb = parent[a], parent[b]
        open_edges = pa != pb
        if not open_edges.any():
            break
        a, b, pa, pb = a[open_edges], b[open_edges], pa[open_edges], pb[open_edges]
        # Roots only ever point to smaller roots, so no cycles can form.
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
        while True:  # pointer jumping until every node points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def _group_reduce(ufunc, values, groups, count, initial) -> np.ndarray:
    """``ufunc`` of ``values`` within each group 0..count-1."""
    out = np.full(count, initial, np.int64)
    ufunc.at(out, groups, values)
    return out


def too_many_marks() -> InputImageError:
    """The error for an image of more than MAX_MARKS marks: a page's grid or noise, not writing."""
    return InputImageError(f"more than {MAX_MARKS} marks to read (ruled or squared paper, a grid, noise?): "
                           "crop the image to the handwriting, on plain paper")


def too_many_specks() -> InputImageError:
    """The error for an image of more than MAX_SPECKS specks of ink: noise, not writing."""
    return InputImageError(f"more than {MAX_SPECKS} specks of ink (noise, grain, a textured paper?): "
                           "scan or photograph the handwriting on plain paper, in good light")


def check_mark_count(mask: np.ndarray) -> None:
    """Raise ``too_many_marks()`` if ``mask`` holds more than MAX_MARKS marks.

    The marks are labelled only if the mask has that many horizontal runs (each mark has at least
    one): a drawing has a few hundred at most, so for it this costs one pass over the mask.
    """
    if count_runs(mask) > MAX_MARKS and label(mask).count > MAX_MARKS:
        raise too_many_marks()


def count_runs(mask: np.ndarray) -> int:
    """The number of runs of True along the last axis (in every row of a 2-D mask, together)."""
    mask = np.asarray(mask, dtype=bool)
    return int(np.count_nonzero(mask[..., 1:] & ~mask[..., :-1]) + np.count_nonzero(mask[..., 0]))
