"""Dot-grid (bullet-journal) paper: its printed dots taken out of the ink (``imaging.dots``), and read through."""

from __future__ import annotations

import numpy as np
import pytest

from inkread.imaging import components
from inkread.imaging.dots import find_dot_grid, remove_dot_grid, remove_known_grid
from inkread.imaging.rules import remove_rules
from inkread.imaging.segment import segment


def ring(ink: np.ndarray, x: int, y: int, size: int = 60, pen: int = 6) -> None:
    """A square ring (a stand-in character) with its top-left corner at (x, y)."""
    ink[y:y + size, x:x + size] = 1.0
    ink[y + pen:y + size - pen, x + pen:x + size - pen] = 0.0


def dotted(shape=(300, 400), step: float = 20.0, dot: int = 3, level: float = 0.6, survive: float = 1.0,
           degrees: float = 0.0, seed: int = 0) -> np.ndarray:
    """Printed dots ``dot`` px across every ``step`` px (the grid turned by ``degrees``); ``survive`` of them kept."""
    rng = np.random.default_rng(seed)
    height, width = shape
    turn = np.radians(degrees)
    across, down = np.array([np.cos(turn), np.sin(turn)]) * step, np.array([-np.sin(turn), np.cos(turn)]) * step
    reach = int(max(shape) / step) + 2
    ink = np.zeros(shape, np.float32)
    for k in range(-reach, reach + 1):
        for m in range(-reach, reach + 1):
            x, y = np.array([7.0, 5.0]) + k * across + m * down
            x, y = int(round(x)), int(round(y))
            if 0 <= x <= width - dot and 0 <= y <= height - dot and rng.random() < survive:
                ink[y:y + dot, x:x + dot] = level
    return ink


def rings_on(paper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Three rings written over ``paper``: (the page, its marks that hold a ring: the rings and the dots they touch)."""
    rings = np.zeros(paper.shape, np.float32)
    for x in (40, 160, 280):
        ring(rings, x, 100)
    page = np.maximum(paper, rings)
    marks = components.label(page > 0)
    written = np.unique(marks.labels[rings > 0])
    return page, np.where(np.isin(marks.labels, written), page, 0)


@pytest.mark.parametrize("survive, degrees", [(1.0, 0.0), (0.3, 0.0), (1.0, 7.0), (0.5, -4.0)])
def test_the_dots_go_and_the_writing_stays(survive, degrees):
    """A full grid, one whose dots mostly fell below the ink map's floor, a grid photographed askew."""
    page, rings = rings_on(dotted(survive=survive, degrees=degrees))
    clean = remove_dot_grid(page)
    assert np.array_equal(clean > 0, rings > 0)  # the rings whole (a dot they touch is part of them), every other dot gone
    assert [len(line) for line in segment(page)] == [3]
    assert np.array_equal(remove_rules(page) > 0, rings > 0)  # the rule search takes dots out too


def test_a_dot_joined_to_a_stroke_by_its_faint_rim_goes_where_the_reader_sees_it():
    """At the reader's ink level it is a mark of its own, read as a full stop: it goes; the stroke stays."""
    page, rings = rings_on(dotted())
    assert (page[145:148, 107:110] == 0.6).all() and not page[145:148, 100:107].any()  # a grid dot 7 px right of a ring
    page[145:148, 100:107] = 0.3  # joined to the ring by faint ink
    clean = remove_dot_grid(page, ink_threshold=0.5)
    assert not (clean[145:148, 107:110] > 0.5).any()
    assert np.array_equal(clean[rings > 0], page[rings > 0])


def test_random_specks_and_punctuation_are_not_a_grid():
    rng = np.random.default_rng(1)
    specks = np.zeros((300, 400), np.float32)
    for x, y in zip(rng.integers(0, 397, 120), rng.integers(0, 297, 120)):
        specks[y:y + 3, x:x + 3] = 0.8
    assert remove_dot_grid(specks) is specks
    leaders = np.zeros((300, 400), np.float32)  # dotted leaders of a form: rows of dots, far apart
    leaders[60:63, 20:380:8] = leaders[200:203, 20:380:8] = 0.8
    written, _ = rings_on(leaders)
    assert np.array_equal(remove_dot_grid(written), written)


def test_full_stops_between_the_grid_dots_stay():
    """Punctuation off the grid's points keeps its place; only marks where the grid puts a dot go."""
    page, rings = rings_on(dotted())
    stops = [(168, 112), (168, 232), (170, 352)]  # beside each ring's foot, 5 px or more from any grid dot
    for y, x in stops:
        page[y:y + 4, x:x + 4] = 1.0
    clean = remove_dot_grid(page)
    for y, x in stops:
        assert (clean[y:y + 4, x:x + 4] == 1.0).all(), (y, x)


def test_a_drawing_without_dots_comes_back_as_it_is():
    page, _ = rings_on(np.zeros((300, 400), np.float32))
    assert remove_dot_grid(page) is page


def test_characters_set_on_a_grid_are_not_dots():
    """A sudoku's givens or a practice sheet's digits sit on a lattice too, small beside its step: they
    are strokes that fill little of their box (or long thin ones), not round solid dots."""
    page = np.zeros((700, 900), np.float32)
    for row in range(6):
        for column in range(8):
            x, y = 20 + 110 * column, 20 + 110 * row
            if (row + column) % 3:
                ring(page, x, y, size=32, pen=4)  # a 0
            else:
                page[y:y + 34, x + 12:x + 17] = 1.0  # a 1
    assert remove_dot_grid(page) is page


def test_decimal_points_of_a_table_in_aligned_columns_stay():
    """The points line up on a lattice, but only beside the writing: a dot grid shows in the open too."""
    page = np.zeros((520, 700), np.float32)
    for row in range(8):
        for column in range(7):
            x, y = 10 + 90 * column, 10 + 60 * row
            if x + 92 <= 700:  # "0.0", 36 px tall
                ring(page, x, y, size=36, pen=4)
                page[y + 31:y + 36, x + 40:x + 45] = 1.0  # the decimal point
                ring(page, x + 49, y, size=36, pen=4)
    assert remove_dot_grid(page) is page


def test_a_region_looked_at_closer_loses_the_dots_of_the_grid_found_on_the_page():
    """A region holds too few dots to find the grid in: the page's grid, moved to the region's pixels, is taken out."""
    page, rings = rings_on(dotted())
    grid = find_dot_grid(page)
    assert grid is not None and sorted(np.round(np.abs(np.concatenate(grid.steps))).tolist()) == [0, 0, 20, 20]
    top, left = 90, 140  # a region around the second ring, decoded at twice the page's scale
    region, region_rings = (np.kron(ink[top:top + 90, left:left + 100], np.ones((2, 2), np.float32)) for ink in (page, rings))
    assert remove_dot_grid(region) is region  # 20 dots: too few to find a grid in
    clean = remove_known_grid(region, grid.seen_at(2.0, (2 * left, 2 * top)))
    assert np.array_equal(clean > 0, region_rings > 0)


def test_a_grid_photographed_at_an_angle_is_found():
    """Perspective spreads each step over several pixels' lengths across the page (here 20% wider at the
    bottom than at the top, a photo taken at an angle): the steps are found from offsets counted together
    within 6% of a step of each other (within a pixel, no grid was found)."""
    ink = np.zeros((768, 1024), np.float32)
    for row in range(-2, 16):
        for column in range(-4, 24):
            x, y = 512 + (7 + 56.0 * column - 512) * (0.9 + 0.2 * (5 + 56.0 * row) / 768), 5 + 56.0 * row
            x, y = int(round(x)), int(round(y * (0.93 + 0.13 * y / 768)))
            if 0 <= x <= 1020 and 0 <= y <= 764:
                ink[y:y + 4, x:x + 4] = 0.6
    page, rings = rings_on(ink)
    assert find_dot_grid(page) is not None
    assert np.array_equal(remove_dot_grid(page) > 0, rings > 0)


@pytest.mark.xfail(strict=True, reason="a full stop 0.19-0.28 of a step from a grid dot on a small map is taken for "
                   "one (README: Not yet reached); strict, so a change that keeps it is noticed")
def test_a_full_stop_a_quarter_of_a_step_from_a_grid_dot_stays():
    """On a small map (dots 15 px apart) a full stop 2.5 px across and down from a grid dot, 0.24 of a step, is
    off the grid's points (a dot goes within 0.15 of one), but in the search's square window, rounded to pixels:
    taken for a grid dot, a region read closer was anchored at it and lost the full stop ("6.35" read "635")."""
    page = dotted(step=15.0, dot=1)
    ring(page, 100, 100, size=40, pen=4)
    y, x = 5 + 15 * 10, 7 + 15 * 15  # a dot of the grid
    page[y + 2:y + 4, x + 2:x + 4] = 1.0
    assert remove_dot_grid(page)[y + 2:y + 4, x + 2:x + 4].min() == 1.0
