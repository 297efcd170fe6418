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
