"""Stroke width: measure it, and thicken or thin strokes to a target width.

A pen stroke of width w and length l covers w*l pixels and has a boundary about 2*l long, so
``area / (boundary / 2)`` estimates w for any shape, without a skeleton. The boundary is counted in
pixel edges, which overestimates diagonal boundaries a little; every width in inkread is measured
the same way, so the bias cancels out.
"""

from __future__ import annotations

import numpy as np


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width, in pixels, of the ink in a boolean mask (0.0 if empty)."""
    mask = np.asarray(mask, dtype=bool)
    area = int(mask.sum())
    if area == 0:
        return 0.0
    boundary = (
        np.count_nonzero(mask[1:] != mask[:-1]) + np.count_nonzero(mask[:, 1:] != mask[:, :-1])
        + np.count_nonzero(mask[0]) + np.count_nonzero(mask[-1])
        + np.count_nonzero(mask[:, 0]) + np.count_nonzero(mask[:, -1])
    )
    return area / (boundary / 2)


# A mark whose pen is this share of its height or more is a blob (a dot, a smudge), not a character: the
# real characters of hwd1000, semeion, optdigits and UNIPEN measure 0.04-0.22 at the 99th percentile (one
# optdigits bitmap of 4,596 reaches 0.30); a filled disc measures 0.39.
BLOB_PEN = 0.3


def is_blob(ink: np.ndarray, threshold: float = 0.5) -> bool:
    """Whether the ink above ``threshold`` is a blob: its pen ``BLOB_PEN`` of its height or more.

    Measured against the height, not the longer side, on purpose: a smear twice as wide as high is a
    blob too, and so is a thick flat bar (a dash or an underline in marker). Neither is a character to
    read alone or to cut in two; a dash between characters is read as a mark by its shape before
    this is asked. A thick upright stroke (a 1 in marker) is not a blob.
    """
    mask = np.asarray(ink) > threshold
    rows = np.flatnonzero(mask.any(axis=1))
    return rows.size > 0 and stroke_width(mask) >= BLOB_PEN * (rows[-1] - rows[0] + 1)


def thickness(mask: np.ndarray) -> int:
    """The ink's thickest place, in pixels: about the diameter of the largest disc inside it.

    ``stroke_width`` is a mean over the whole mark; this is its maximum: a comma's round head 3 pens wide
    measures 3 pens, its tail's one pen does not lower it. Measured by peeling the ink's edge a pixel at a
    time, across and down and diagonally by turns (an octagon, near enough a disc in every direction).
    """
    mask = np.asarray(mask, dtype=bool)
    peels = 0
    while mask.any():
        edged = np.pad(mask, 1)
        mask = mask & edged[:-2, 1:-1] & edged[2:, 1:-1] & edged[1:-1, :-2] & edged[1:-1, 2:]
        if peels % 2:
            mask &= edged[:-2, :-2] & edged[:-2, 2:] & edged[2:, :-2] & edged[2:, 2:]
        peels += 1
    return max(2 * peels - 1, 0)


def disc_share(mask: np.ndarray) -> float:
    """The share of the ink that the largest disc inside it covers (``thickness`` across): near 1 for a dot,
    about half for a comma pressed hard (a solid head, a thin tail), under a quarter for a character, whose
    thickest place is where two strokes meet. 0.0 if there is no ink."""
    mask = np.asarray(mask, dtype=bool)
    area = int(mask.sum())
    return float(np.pi / 4 * thickness(mask) ** 2 / area) if area else 0.0


def stroke_anisotropy(mask: np.ndarray, quantile: float = 25.0, min_pixels: int = 20) -> float:
    """How many times wider the strokes are horizontally than vertically (1.0 for a round pen).

    A round pen draws strokes equally wide in every direction; a bitmap stretched sideways by s
    has strokes s times wider across than down. Each ink pixel is counted in the direction in
    which its run of ink is shorter, which is the direction across its stroke: horizontal runs
    cross near-vertical strokes, vertical runs near-horizontal ones. The lower quantile of each
    picks the crossings nearest to perpendicular, whose length is the pen width. Returns 1.0
    when either direction has fewer than ``min_pixels`` pixels (a lone upright stroke).
    """
    mask = np.asarray(mask, dtype=bool)
    across = run_lengths(mask)
    down = run_lengths(mask.T).T
    horizontal = across[mask & (across < down)]
    vertical = down[mask & (down < across)]
    if min(horizontal.size, vertical.size) < min_pixels:
        return 1.0
    return float(np.percentile(horizontal, quantile) / np.percentile(vertical, quantile))


def run_lengths(mask: np.ndarray) -> np.ndarray:
    """For every pixel, the length of the horizontal run of True pixels it belongs to (0 if False).

    int32 (int64 past 2**31 pixels): a page's rules are found with several of these maps at once,
    and at 8 bytes a pixel they were most of the memory a page took to read.
    """
    index = np.int32 if mask.size < 2**31 else np.int64
    starts = mask.copy()
    starts[:, 1:] &= ~mask[:, :-1]
    run = np.cumsum(starts.ravel(), dtype=index)  # run number of every pixel, counting runs row by row
    run[~mask.ravel()] = 0
    lengths = np.bincount(run).astype(index)
    lengths[0] = 0
    return lengths[run].reshape(mask.shape)


def change_width(ink: np.ndarray, pixels: int) -> np.ndarray:
    """Thicken (``pixels`` > 0) or thin (< 0) the strokes of a float ink map by about 2*|pixels|.

    Gray-level dilation/erosion with a square keeps the anti-aliased edges soft. Thinning never
    removes a stroke completely: parts thinner than the erosion keep their original ink.
    """
    ink = np.asarray(ink, dtype=np.float32)
    if pixels > 0:
        return rank_filter(ink, pixels, np.maximum)
    if pixels == 0:
        return ink
    thinner = rank_filter(ink, -pixels, np.minimum)
    # Where erosion erased a thin part entirely (nothing of it is left nearby), keep the original.
    survives = rank_filter((thinner > 0.5).astype(np.float32), -pixels, np.maximum) > 0
    return np.where(survives, thinner, ink).astype(np.float32)


def rank_filter(ink: np.ndarray, radius: int, op=np.maximum) -> np.ndarray:
    """Max (dilation) or min (``op=np.minimum``, erosion) over a (2r+1)-square window.

    Separable: 4r whole-array numpy operations, much faster than Pillow's Max/MinFilter for
    large windows or images. Works on float or bool arrays (dtype kept). Pixels outside the
    image are ignored.
    """
    out = np.array(ink)
    for axis in (0, 1):
        src = out.copy()
        for shift in range(1, radius + 1):
            head = [slice(None)] * 2
            tail = [slice(None)] * 2
            head[axis], tail[axis] = slice(shift, None), slice(None, -shift)
            op(out[tuple(head)], src[tuple(tail)], out=out[tuple(head)])
            op(out[tuple(tail)], src[tuple(head)], out=out[tuple(tail)])
    return out


def window_sums(values: np.ndarray, side: int, dtype=np.float64) -> np.ndarray:
    """The sum of ``values`` over every ``side`` x ``side`` window that fits inside it, from one summed-area table:
    (H - side + 1, W - side + 1), each window's sum at its top-left corner, whatever the side."""
    summed = np.pad(values.cumsum(0, dtype=dtype).cumsum(1), ((1, 0), (1, 0)))
    return summed[side:, side:] - summed[:-side, side:] - summed[side:, :-side] + summed[:-side, :-side]
