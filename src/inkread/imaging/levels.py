"""Gray levels: 256-bin histograms and what is read from them (Otsu's threshold, the paper's level and
grain, the stroke cores), and the one multiply-add that maps levels to ink.

Shared by ``ink.py`` (finding the ink), ``page.py`` (finding a page on a table) and the rest of
``imaging``. Statistics come from histograms, counted in Pillow's C code, rather than from sorting
pixels: a 280x280 canvas costs only a few passes over its pixels.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

MIN_CONTRAST = 0.08  # ink must be at least 8% darker (or lighter) than the paper, or the image is blank


def histogram(levels: np.ndarray) -> np.ndarray:
    """256-bin histogram of a uint8 (H, W) image (of every other row of large images: statistics only).

    Counted by Pillow's C loop (np.bincount first widens every level to int64). Counting loops stall
    on long runs of one value, and a drawing is mostly one level, the paper's: when a sample says so,
    that level is counted with a vectorized comparison and only the other pixels one by one.
    """
    if levels.size > 200_000:
        levels = levels[::2]
    levels = np.ascontiguousarray(levels, dtype=np.uint8)
    sample = np.bincount(levels[::16, ::16].ravel(), minlength=256)
    common = int(sample.argmax())
    counted = levels if 2 * sample[common] < sample.sum() else levels[levels != common]
    row = Image.frombuffer("L", (counted.size, 1), counted, "raw", "L", 0, 1)  # shares the array's memory
    hist = np.array(row.histogram(), dtype=np.int64)
    hist[common] += levels.size - counted.size
    return hist


def otsu(hist: np.ndarray) -> float | None:
    """Otsu's threshold of a histogram, in bin units (between two bins); None if it has one level."""
    # Called three times per image on 256 bins: written with as few numpy calls as possible.
    hist = np.asarray(hist, dtype=np.float64)
    weight0 = hist.cumsum()
    weight1 = weight0[-1] - weight0
    mass0 = (hist * np.arange(hist.size)).cumsum()
    mean0 = mass0 / np.maximum(weight0, 1e-12)
    mean1 = (mass0[-1] - mass0) / np.maximum(weight1, 1e-12)
    between = weight0 * weight1 * (mean0 - mean1) ** 2  # 0 where either side is empty: never the best
    peak = between.max()
    if peak <= 0:
        return None
    best = np.flatnonzero(between >= peak * (1 - 1e-9))
    return int(best.sum()) / best.size + 0.5  # the mean of the best thresholds


def robust_spread(hist: np.ndarray) -> tuple[float, float]:
    """(median, sigma) of the levels a histogram counts, sigma estimated as 1.4826 * MAD."""
    levels = np.arange(hist.size)
    median = weighted_median(levels, hist)
    return median, 1.4826 * weighted_median(np.abs(levels - median), hist)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of ``values`` each repeated ``weights`` times (0.0 if no weight).

    An area-weighted median of the marks' heights is a line's character height: dots and fragments
    hardly count.
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(np.asarray(weights)[order])
    if cumulative.size == 0 or cumulative[-1] <= 0:
        return 0.0
    return float(np.asarray(values)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def percentiles(values: np.ndarray, *percents: float) -> list[float]:
    """np.percentile(values, percents) (linear interpolation) without its ~50 us of overhead."""
    ordered = np.sort(values, axis=None)
    positions = np.float64(percents) / 100.0 * (ordered.size - 1)
    return np.interp(positions, np.arange(ordered.size), ordered).tolist()


def stretch(ink: np.ndarray) -> np.ndarray:
    """Scale a float ink map (0..1) so its stroke cores reach 1.0 (clipped); zeros if blank.

    The stroke core level is the median of the pixels above Otsu's threshold; nothing standing
    out by ``MIN_CONTRAST`` counts as blank.
    """
    levels = to_uint8(np.asarray(ink, dtype=np.float32), 255.0)
    return stretched(levels, histogram(levels))


def stretched(levels: np.ndarray, hist: np.ndarray, low: float = 0.0, threshold: float | None = None) -> np.ndarray:
    """Ink in 0..1 from uint8 contrast levels: ``low`` -> 0, stroke cores -> 1; zeros if blank."""
    found = stretch_levels(hist, low, threshold)
    if found is None:
        return np.zeros(levels.shape, np.float32)
    low, high = found
    return affine(levels, 1.0 / (high - low), -low / (high - low))


def stretch_levels(hist: np.ndarray, low: float = 0.0, threshold: float | None = None) -> tuple[float, float] | None:
    """(low, stroke core level) in contrast levels; None if the ink does not stand out."""
    if threshold is None:
        # One level only (a solid crop): every non-zero pixel is stroke.
        threshold = otsu(hist) or 0.5
    high = core_level(hist, threshold)
    if high < MIN_CONTRAST * 255 or high - low < MIN_CONTRAST * 255 / 2:
        return None
    return low, high


def core_level(hist: np.ndarray, threshold: float) -> float:
    """The median level of the pixels above ``threshold``: the stroke cores (or a haze's level)."""
    first = math.ceil(threshold)
    return weighted_median(np.arange(first, 256), hist[first:])


def affine(levels: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """clip(levels * scale + offset, 0, 1) as float32, computed in place."""
    out = np.multiply(levels, np.float32(scale), dtype=np.float32)  # converts as it goes: no astype pass
    out += np.float32(offset)
    return np.clip(out, 0.0, 1.0, out=out)


def to_uint8(values: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """``values * scale`` rounded and clipped to 0..255, as uint8."""
    scaled = np.multiply(values, scale)
    np.rint(scaled, out=scaled)  # in place: one temporary array instead of three
    return np.clip(scaled, 0, 255, out=scaled).astype(np.uint8)


def border_pixels(image: np.ndarray, width: int | None = None) -> np.ndarray:
    """The pixels of a frame ``width`` pixels wide (default: about 3% of the size, at least one pixel)."""
    h, w = image.shape
    k = width or max(1, round(0.03 * min(h, w)))
    return np.concatenate([image[:k].ravel(), image[-k:].ravel(), image[k:-k, :k].ravel(), image[k:-k, -k:].ravel()])
