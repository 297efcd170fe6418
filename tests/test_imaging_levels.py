"""Gray-level statistics (``imaging/levels.py``): each fast path against the plain numpy it stands for."""

from __future__ import annotations

import numpy as np
import pytest

from inkread.imaging.levels import (MIN_CONTRAST, border_pixels, histogram, otsu, percentiles, robust_spread, stretch,
                                    stretch_levels, to_uint8, weighted_median)


@pytest.mark.parametrize("kind", ["drawing", "noise", "large"])
def test_histogram_counts_what_bincount_counts(kind):
    """A drawing (mostly one level: counted apart), noise (counted whole), and a large image (every other row)."""
    rng = np.random.default_rng(0)
    if kind == "drawing":
        image = np.full((280, 280), 255, np.uint8)
        image[100:180, 130:140] = rng.integers(0, 60, (80, 10))
    elif kind == "noise":
        image = rng.integers(0, 256, (120, 90)).astype(np.uint8)
    else:
        image = rng.integers(0, 256, (1000, 700)).astype(np.uint8)
    expected = np.bincount((image[::2] if kind == "large" else image).ravel(), minlength=256)
    assert np.array_equal(histogram(image), expected)


def test_otsu_splits_two_levels_and_matches_the_best_between_class_variance():
    two = np.zeros(256)
    two[40], two[200] = 300, 700
    assert 40 < otsu(two) < 201
    rng = np.random.default_rng(1)
    hist = np.bincount(np.clip(np.concatenate([rng.normal(60, 12, 4000), rng.normal(190, 20, 9000)]), 0, 255)
                       .astype(int), minlength=256).astype(float)
    levels = np.arange(256)

    def between(t: int) -> float:  # split after bin t
        w0, w1 = hist[: t + 1].sum(), hist[t + 1:].sum()
        if w0 == 0 or w1 == 0:
            return 0.0
        m0, m1 = (hist[: t + 1] * levels[: t + 1]).sum() / w0, (hist[t + 1:] * levels[t + 1:]).sum() / w1
        return w0 * w1 * (m0 - m1) ** 2

    best = max(range(255), key=between)
    assert otsu(hist) == pytest.approx(best + 0.5, abs=1.0)
    one = np.zeros(256)
    one[128] = 50
    assert otsu(one) is None  # one level: nothing to split


def test_robust_spread_is_the_median_and_the_sigma_of_normal_levels():
    rng = np.random.default_rng(2)
    hist = np.bincount(np.clip(rng.normal(100, 8, 50_000), 0, 255).round().astype(int), minlength=256)
    median, sigma = robust_spread(hist)
    assert median == pytest.approx(100, abs=1)
    assert sigma == pytest.approx(8, rel=0.1)


def test_weighted_median_and_percentiles():
    assert weighted_median(np.array([1.0, 2.0, 3.0]), np.array([1, 1, 10])) == 3.0
    assert weighted_median(np.array([5.0, 1.0]), np.array([3, 1])) == 5.0
    assert weighted_median(np.array([1.0, 2.0]), np.array([0, 0])) == 0.0  # no weight
    assert weighted_median(np.array([]), np.array([])) == 0.0
    values = np.random.default_rng(3).normal(0, 1, 999)
    assert percentiles(values, 5, 50, 95) == pytest.approx(np.percentile(values, [5, 50, 95]).tolist())


def test_to_uint8_rounds_and_clips():
    assert to_uint8(np.array([-3.0, 0.4, 0.6, 254.5, 300.0])).tolist() == [0, 0, 1, 254, 255]
    assert to_uint8(np.array([0.5, 1.0]), 255.0).tolist() == [128, 255]


def test_stretch_brings_stroke_cores_to_one_and_leaves_too_faint_ink_blank():
    faint = np.zeros((40, 40), np.float32)
    faint[10:30, 18:22] = 0.4  # a pale stroke: its core becomes full ink
    stretched = stretch(faint)
    assert stretched[20, 20] == pytest.approx(1.0) and stretched[0, 0] == 0.0
    too_faint = np.zeros((40, 40), np.float32)
    too_faint[10:30, 18:22] = MIN_CONTRAST / 2  # below the least contrast ink has: blank
    assert not stretch(too_faint).any()
    hist = np.zeros(256)
    hist[0], hist[200] = 900, 100
    assert stretch_levels(hist) == (0.0, 200.0)


def test_border_pixels_is_a_frame_three_percent_wide():
    image = np.zeros((100, 200), np.uint8)
    image[3:-3, 3:-3] = 1  # inside the 3-pixel frame (3% of the shorter side)
    frame = border_pixels(image)
    assert frame.size == 100 * 200 - 94 * 194 and not frame.any()
    assert border_pixels(np.ones((5, 5), np.uint8)).size == 16  # at least one pixel wide
