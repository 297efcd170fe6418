"""Rules of lined and squared paper taken out of the ink (``imaging.rules``), and read through."""

from __future__ import annotations

import numpy as np

from inkread.imaging.rules import remove_rules
from inkread.imaging.segment import segment


def ring(ink: np.ndarray, x: int, y: int, size: int = 40, pen: int = 4) -> None:
    """A square ring (a stand-in character) with its top-left corner at (x, y)."""
    ink[y:y + size, x:x + size] = 1.0
    ink[y + pen:y + size - pen, x + pen:x + size - pen] = 0.0


def lined_page(rule_rows=(59, 100), level: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Three rings on a page with faint full-width rules: (ink, the rings alone)."""
    rings = np.zeros((140, 300), np.float32)
    for x in (30, 120, 210):
        ring(rings, x, 20)
    ink = rings.copy()
    for row in rule_rows:
        ink[row:row + 2, :] = np.maximum(ink[row:row + 2, :], level)
    return ink, rings


def test_rules_are_erased_and_the_characters_kept():
    ink, rings = lined_page()
    clean = remove_rules(ink)
    rule = np.zeros(ink.shape, bool)
    rule[59:61, :] = rule[100:102, :] = True
    assert np.array_equal((clean > 0.2) & ~rule, (rings > 0.2) & ~rule) and not (clean[100:102] > 0).any()
    # the rings stand on the rule at row 59: under them it stays (their feet), between them it goes
    assert (clean[59:61, 30:70] > 0.2).all() and not (clean[59:61, 75:115] > 0).any()
    assert [len(line) for line in segment(ink)] == [3]


def test_a_rule_touching_the_characters_no_longer_joins_them():
    ink, _ = lined_page(rule_rows=(58,), level=1.0)  # the rings' bottoms are rows 56-59
    assert [len(line) for line in segment(ink)] == [3]
    kept = remove_rules(ink)[58:60]
    assert kept[:, 30:70].any() and not kept[:, 80:110].any()  # under a ring kept, between rings erased


def test_a_slightly_tilted_rule_and_squared_paper():
    ink, rings = lined_page(rule_rows=())
    for x in range(300):  # a rule 1 degree off the horizontal
        y = 110 + int(x * 0.017)
        ink[y:y + 2, x] = 0.6
    assert np.array_equal(remove_rules(ink) > 0.2, rings > 0.2)
    grid, _ = lined_page(rule_rows=range(5, 140, 12), level=0.5)
    grid[:, 6::12] = np.maximum(grid[:, 6::12], 0.5)
    assert [len(line) for line in segment(grid)] == [3]  # not hundreds of squares


def test_the_writing_itself_is_never_a_rule():
    one = np.zeros((60, 8), np.float32)
    one[:, 2:6] = 1.0  # a 1 cropped to its ink: a stroke the whole height of the image
    assert np.array_equal(remove_rules(one), one)
    seven = np.zeros((40, 30), np.float32)
    seven[0:4, :] = 1.0  # a 7 cropped to its ink: the bar runs all the way across
    for y in range(4, 40):
        seven[y, 26 - y // 2:30 - y // 2] = 1.0
    assert np.array_equal(remove_rules(seven), seven)
    dash = np.zeros((20, 200), np.float32)
    dash[7:13, 5:195] = 1.0  # nothing else on the page: a long dash drawn with a pen, not a rule
    assert np.array_equal(remove_rules(dash), dash)


def test_blank_lined_paper_is_blank():
    page = np.zeros((400, 600), np.float32)
    page[40::40] = 0.7  # hairlines across the page, nothing written
    assert not remove_rules(page).any() and segment(page) == []
