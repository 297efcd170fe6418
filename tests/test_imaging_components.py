"""Connected-component labelling (vectorized union-find) against a plain flood fill."""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from inkread.imaging.components import label
from inkread.imaging.stroke import stroke_width


def flood_fill_labels(mask: np.ndarray) -> np.ndarray:
    """Reference 8-connected labelling, numbered in raster order of each component's first pixel."""
    height, width = mask.shape
    labels = np.zeros(mask.shape, int)
    count = 0
    for y in range(height):
        for x in range(width):
            if mask[y, x] and not labels[y, x]:
                count += 1
                labels[y, x] = count
                queue = deque([(y, x)])
                while queue:
                    cy, cx = queue.popleft()
                    for ny in range(max(0, cy - 1), min(height, cy + 2)):
                        for nx in range(max(0, cx - 1), min(width, cx + 2)):
                            if mask[ny, nx] and not labels[ny, nx]:
                                labels[ny, nx] = count
                                queue.append((ny, nx))
    return labels


@given(arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.booleans()))
@settings(max_examples=150, deadline=None)
def test_labels_match_flood_fill(mask):
    found = label(mask)
    expected = flood_fill_labels(mask)
    assert found.count == expected.max()
    assert np.array_equal(found.labels, expected)
    for index in range(found.count):
        ys, xs = np.nonzero(expected == index + 1)
        assert tuple(found.boxes[index]) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert found.areas[index] == ys.size


def test_serpentine_is_one_component():
    # a long snake is the hard case for union-find by rounds: its runs chain end to end
    mask = np.zeros((81, 61), bool)
    mask[::4, 1:-1] = True
    for row in range(0, 80, 4):
        column = 59 if row // 4 % 2 == 0 else 1  # connect alternately at the right and the left end
        mask[row:row + 5, column] = True
    found = label(mask)
    assert found.count == 1 and found.areas[0] == mask.sum()


def test_empty_and_full():
    assert label(np.zeros((5, 7), bool)).count == 0
    full = label(np.ones((5, 7), bool))
    assert full.count == 1 and full.areas[0] == 35 and tuple(full.boxes[0]) == (0, 0, 7, 5)


def test_stroke_width_of_bars():
    for width in (1, 3, 8):
        mask = np.zeros((200, 200), bool)
        mask[20:180, 100:100 + width] = True
        assert abs(stroke_width(mask) - width) < 0.1 * width + 0.05
    assert stroke_width(np.zeros((5, 5), bool)) == 0.0
