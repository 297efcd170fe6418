"""Dot-grid paper: take the printed dots of a dotted page (a bullet journal's) out of an ink map.

Left in, every dot of the grid was a mark, and a page was read as rows of tiny characters (a digit
on dotted paper as "1111161111"). A dot grid is told from writing by its lattice, not by the dots'
size alone (a full stop or the dot of an i is as small). The small, round, solid marks are taken;
the grid's two steps (``a``, ``b``) are the two shortest offsets between them that come back about as
often as the commonest one (the autocorrelation of their centres); a small mark is a grid dot if at
least two others lie where the grid puts dots around it (``k a + m b``, up to ``REACH`` steps each
way). Grain and noise, dense enough to find such neighbours by chance, find as many halfway between
the grid's points, and are no grid; marks that line up only beside the writing (a table's decimal
points) are no grid either: a grid shows in the open. A full stop off the grid's points has no
neighbour on the lattice however many dots there are, and stays (one within TOLERANCE of a step of a
grid point goes with it). A dot that touches a stroke is part of the stroke's mark and stays.

A region of a page looked at closer (``inference/closer.py``) holds too few dots to find the grid in:
the grid found on the whole page (``find_dot_grid``) is moved to the region's pixels and its dots
taken out there (``remove_known_grid``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inkread.imaging import components
from inkread.imaging.stroke import rank_filter, window_sums

DOT_INK = 0.2  # printed dots are often fainter than the writing: found (and erased) down to this ink level
MIN_DOTS = 24  # fewer small marks than this hold no dot grid (a 5x5 patch of one does), and half as many must be its dots
MAX_DOT_SIDE = 0.05  # a candidate dot's box is at most this share of the image's longer side...
DOT_VS_STEP = 0.33  # ...and at most this share of the grid's step (printed dots: a tenth or so)
MAX_ASPECT = 2.0  # a dot's box is at most this many times longer than wide...
MIN_FILL = 0.5  # ...and its ink fills at least this share of it (a disc 0.79, a small dot blurred to a diamond 0.5; a 0 of a pen an eighth of its size 0.44)
SAMPLE = 200  # marks whose offsets to the others give the grid's steps
BLOCK = 32  # ...taken this many at a time (a block's offsets to 13,000 dots: 3 MB)
SEARCH_MARKS = 5_000  # at most this many marks (drawn at random) are the others whose offsets are counted
OFFSET_REACH = 3.0  # offsets up to this many times the typical distance to the nearest mark are looked at
OFFSET_BLUR = 0.06  # offsets within this share of the typical nearest distance of each other count as one
MIN_REPEATS = 4  # a grid's step comes back at least this often among the offsets...
PEAKED = 3.0  # ...and at least this many times as often as an offset does on average
STRONG = 0.3  # a grid's step comes back at least this share as often as the commonest offset (few dots: chance moves it)
REACH = 3  # grid dots are looked for up to this many steps away in each direction (many dots of a faint
           # grid fall below the ink map's floor: a dot's next neighbours may all be missing)
TOLERANCE = 0.15  # a neighbour within this share of a step of where the lattice puts it is there
KNOWN_DOT_GROWTH = 1.5  # looked at closer, a grid's dot is at most this much larger than its typical one on the page
CORE_TOLERANCE = 0.12  # a dot joined to a stroke by its rim is within this share of a step of its place
BY_CHANCE = 4  # a grid's dots find each other where the lattice puts them this many times more often than halfway between
NEAR_WRITING = 0.3  # a dot within this share of a step of a larger mark is beside the writing...
ALONE_SHARE = 0.5  # ...and at least this share of a grid's dots are not
MIN_SHARE = 0.5  # at least this share of the small marks must be grid dots (else: specks, not a grid)
MIN_APART_DEG = 50  # the grid's second direction is at least this far from the first


@dataclass(frozen=True)
class DotGrid:
    """A dot grid found on an ink map: its two steps (x, y vectors), its dots' centres, their typical (median) side."""

    steps: tuple[np.ndarray, np.ndarray]
    centres: np.ndarray
    dot_side: float

    def seen_at(self, factor: float, origin: tuple[float, float]) -> "DotGrid":
        """This grid on another map of the same image, where a pixel ``p`` of this one is at ``p * factor - origin``."""
        return DotGrid((self.steps[0] * factor, self.steps[1] * factor),
                       self.centres * factor - np.asarray(origin, np.float64), self.dot_side * factor)


def remove_dot_grid(ink: np.ndarray, ink_threshold: float = 0.5) -> np.ndarray:
    """``ink`` without the dots of a dot grid (``ink`` itself if it has none).

    ``ink_threshold`` is where the caller's ink begins: a dot whose faint rim touches a stroke is a
    mark of its own there, and goes too if it sits where the grid puts a dot.
    """
    found = _search(ink)
    if found is None:
        return ink
    marks, dots, grid = found
    return _erased(ink, marks, dots, grid, ink_threshold)


def find_dot_grid(ink: np.ndarray) -> DotGrid | None:
    """The dot grid of ``ink``, as ``remove_dot_grid`` finds it, or None."""
    found = _search(ink)
    return None if found is None else found[2]


def remove_known_grid(ink: np.ndarray, grid: DotGrid, ink_threshold: float = 0.5) -> np.ndarray:
    """``ink`` without the small round marks where ``grid`` (in ``ink``'s pixels) puts a dot.

    For a region of a page looked at closer: it holds too few of the grid's dots to find the grid in (the
    ink map of a small region takes most of them for dust), and those left were read as characters.
    """
    marks = components.label(ink > DOT_INK)
    sides = _round_and_solid_sides(marks)
    small = np.flatnonzero(sides <= max(3, KNOWN_DOT_GROWTH * grid.dot_side))
    if small.size == 0:
        return ink
    centre = np.array([ink.shape[1], ink.shape[0]], np.float64) / 2
    anchor = grid.centres[np.argmin(np.hypot(*(grid.centres - centre).T))]  # the nearest: perspective bends a grid
    dots = np.zeros(marks.count + 1, bool)
    dots[small[_at_grid_points(_centres(marks.boxes[small]), grid.steps, anchor, TOLERANCE)] + 1] = True
    return _erased(ink, marks, dots, grid, ink_threshold) if dots.any() else ink


def _search(ink: np.ndarray) -> tuple[components.Components, np.ndarray, DotGrid] | None:
    """(the marks of ``ink``, which of them (by label) are grid dots, the grid), or None without a grid."""
    found = components.label(ink > DOT_INK)
    if found.count < MIN_DOTS:
        return None
    sides = _round_and_solid_sides(found)
    small = np.flatnonzero(sides <= max(2, MAX_DOT_SIDE * max(ink.shape)))
    if small.size < MIN_DOTS:
        return None
    centres = _centres(found.boxes[small])
    steps = _lattice_steps(centres)
    if steps is None:
        return None
    a, b = steps
    step = min(np.hypot(*a), np.hypot(*b))
    fits = sides[small] <= max(3, DOT_VS_STEP * step)  # 3 px: a pixel of blur around a 1-2 px dot of a fine grid
    around = [k * a + m * b for k in range(-REACH, REACH + 1) for m in range(-REACH, REACH + 1) if k or m]
    reach = TOLERANCE * step
    places = _places(centres[fits], reach, ink.shape)
    # Marks packed so densely that one lies near any place at all (noise, grain) find "neighbours" on
    # the lattice by chance: as many as halfway between its points, where a grid has no dots (asked of
    # a sample of the marks: grain has tens of thousands).
    sample = np.flatnonzero(fits)[np.linspace(0, fits.sum() - 1, min(SAMPLE, fits.sum())).astype(int)]
    between = _count_at(places, centres[sample], [place + (a + b) / 2 for place in around]).sum()
    if _count_at(places, centres[sample], around).sum() < BY_CHANCE * between:
        return None
    hits = _count_at(places, centres, around)
    on_grid = fits & (hits >= 2)
    if on_grid.sum() < max(MIN_DOTS / 2, MIN_SHARE * fits.sum()):
        return None
    # The grid found, one grid dot where the lattice puts one is enough (a dot at the page's edge,
    # most of whose neighbours are off the page). A mark off the grid's points has none at all, however
    # many dots there are: every place k a + m b away from it is off them too.
    on_grid |= fits & (_count_at(_places(centres[on_grid], reach, ink.shape), centres, around) >= 1)
    # A grid shows in the open, away from the writing; marks that sit on a lattice only beside the
    # writing are part of it (the decimal points of a table of numbers in aligned columns).
    writing = np.zeros(found.count + 1, bool)
    writing[1:] = sides > sides[small[on_grid]].max()
    near_writing = rank_filter(writing[found.labels], max(1, int(round(NEAR_WRITING * step))))
    if near_writing[_pixels(centres[on_grid], ink.shape)].mean() > 1 - ALONE_SHARE:
        return None
    dots = np.zeros(found.count + 1, bool)
    dots[small[on_grid] + 1] = True
    return found, dots, DotGrid((a, b), centres[on_grid], float(np.median(sides[small[on_grid]])))


def _round_and_solid_sides(marks: components.Components) -> np.ndarray:
    """The longer side of each mark's box; infinite for a mark that is not round and solid.

    A printed dot is round and solid: a digit or a letter, however small and however regularly set
    (a sudoku's givens, a practice sheet), is a stroke that fills little of its box, or is long and thin.
    """
    widths, heights = marks.boxes[:, 2] - marks.boxes[:, 0], marks.boxes[:, 3] - marks.boxes[:, 1]
    sides = marks.longest_sides()
    solid = (sides <= MAX_ASPECT * np.minimum(widths, heights)) & (marks.areas >= MIN_FILL * widths * heights)
    return np.where((sides <= 3) | solid, sides, np.inf)


def _erased(ink: np.ndarray, marks: components.Components, dots: np.ndarray, grid: DotGrid, ink_threshold: float) -> np.ndarray:
    """``ink`` without the ``marks`` that ``dots`` flags (by label), the grid's dots seen apart only at
    ``ink_threshold``, and the faint rims around them all (below DOT_INK), where no other mark is."""
    erased = dots[marks.labels]
    erased |= _dot_cores(ink, grid, ink_threshold, erased)
    erased = rank_filter(erased, 1) & ~((marks.labels > 0) & ~erased)
    return np.where(erased, 0, ink).astype(ink.dtype, copy=False)


def _dot_cores(ink: np.ndarray, grid: DotGrid, ink_threshold: float, erased: np.ndarray) -> np.ndarray:
    """The grid's dots joined to a stroke by their faint rims only: marks no larger than its dots, seen at
    ``ink_threshold`` (where the reader's ink begins) and not ``erased`` already, where the grid puts a dot
    (within CORE_TOLERANCE of a step of a whole number of steps from its nearest dot); else read as full stops."""
    found = components.label(ink > ink_threshold)
    small = np.flatnonzero(found.longest_sides() <= grid.dot_side)
    centres = _centres(found.boxes[small])
    left = ~erased[_pixels(centres, ink.shape)]
    small, centres = small[left], centres[left]
    cores = np.zeros(found.count + 1, bool)
    if small.size:
        nearest = np.concatenate([_distances(block, grid.centres).argmin(axis=1) for block in _blocks(centres)])
        cores[small[_at_grid_points(centres, grid.steps, grid.centres[nearest], CORE_TOLERANCE)] + 1] = True
    return cores[found.labels]


def _at_grid_points(centres: np.ndarray, steps, anchors: np.ndarray, tolerance: float) -> np.ndarray:
    """Which ``centres`` lie within ``tolerance`` of a step of a grid point: ``anchors`` (one, or one per
    centre) plus whole numbers of ``steps``."""
    basis = np.stack(steps, axis=1)  # columns: the steps a, b
    whole = np.linalg.solve(basis, (centres - anchors).T)  # each centre in steps a, b from its anchor
    off = basis @ (whole - np.rint(whole))
    return np.hypot(off[0], off[1]) <= tolerance * min(np.hypot(*steps[0]), np.hypot(*steps[1]))


def _lattice_steps(centres: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The grid's two steps (x, y vectors), or None if the marks do not repeat in two directions.

    From the offsets between the marks (the autocorrelation of their centres): where a grid's dots
    lie, the same few offsets come back again and again, whichever dots survived the ink map's
    floor; the two shortest that come back about as often as the commonest are the grid's steps.
    (The nearest neighbours' offsets alone misled where most dots of a faint grid were missing:
    the survivors' nearest are two steps or a diagonal apart.)
    """
    if len(centres) > SEARCH_MARKS:  # grain or noise of a large image: a grid shows in a random share of its dots too
        centres = centres[np.sort(np.random.default_rng(0).choice(len(centres), SEARCH_MARKS, replace=False))]
    picked = centres[np.linspace(0, len(centres) - 1, min(SAMPLE, len(centres))).astype(int)]
    nearest = np.concatenate([_distances(block, centres).min(axis=1) for block in _blocks(picked)])
    reach = int(np.ceil(OFFSET_REACH * np.median(nearest)))
    offsets = np.concatenate([_offsets_within(block, centres, reach) for block in _blocks(picked)])
    offsets = offsets[(offsets[:, 1] > 0) | ((offsets[:, 1] == 0) & (offsets[:, 0] > 0))]  # one of each pair +v, -v
    if len(offsets) < MIN_DOTS:
        return None
    side = 2 * reach + 1
    counts = np.bincount((offsets[:, 1] + reach) * side + offsets[:, 0] + reach, minlength=side * side).reshape(side, side)
    # offsets a few pixels apart are one: centres are rounded, and a photo's perspective spreads a step
    blur = max(1, round(OFFSET_BLUR * np.median(nearest)))
    support = window_sums(np.pad(counts, blur), 2 * blur + 1)
    dy, dx = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    length = np.hypot(dx, dy)
    support[(length < 2) | (length > reach)] = 0
    if support.max() < MIN_REPEATS or support.max() < PEAKED * support[(length >= 2) & (length <= reach)].mean():
        return None  # offsets spread evenly: grain or noise, no lattice
    strong = support >= STRONG * support.max()
    a = _peak(counts, np.argmin(np.where(strong, length, np.inf)), reach, 2 * blur)
    cosine = np.abs(dx * a[0] + dy * a[1]) / np.maximum(length * np.hypot(*a), 1e-9)
    apart = strong & (cosine <= np.cos(np.radians(MIN_APART_DEG)))
    if not apart.any():
        return None  # marks in rows only: a dotted line, or writing
    return a, _peak(counts, np.argmin(np.where(apart, length, np.inf)), reach, 2 * blur)


def _blocks(points: np.ndarray) -> list[np.ndarray]:
    """``points`` in blocks small enough that a block's offsets to every mark stay a few MB."""
    return [points[start:start + BLOCK] for start in range(0, len(points), BLOCK)]


def _distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Distances from each of ``points`` to every centre, infinite to itself (and to any mark on the same spot)."""
    distances = np.hypot(centres[None, :, 0] - points[:, None, 0], centres[None, :, 1] - points[:, None, 1])
    distances[distances == 0] = np.inf
    return distances


def _offsets_within(points: np.ndarray, centres: np.ndarray, reach: int) -> np.ndarray:
    """The offsets (x, y, rounded) from each of ``points`` to the centres at most ``reach`` from it."""
    near = _distances(points, centres) <= reach
    which, other = np.nonzero(near)
    return np.rint(centres[other] - points[which]).astype(int)


def _peak(counts: np.ndarray, index: int, reach: int, radius: int) -> np.ndarray:
    """The mean offset (x, y) of the offsets counted within ``radius`` pixels of the one at flat ``index``."""
    y, x = divmod(int(index), counts.shape[1])
    top, left = max(0, y - radius), max(0, x - radius)
    window = counts[top:y + radius + 1, left:x + radius + 1].astype(np.float64)
    rows, columns = np.mgrid[top:top + window.shape[0], left:left + window.shape[1]]
    total = window.sum()
    return np.array([(columns * window).sum() / total - reach, (rows * window).sum() / total - reach])


def _centres(boxes: np.ndarray) -> np.ndarray:
    """The centres (x, y) of boxes (x0, y0, x1, y1, ends exclusive)."""
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1).astype(np.float64)


def _places(centres: np.ndarray, reach: float, shape) -> np.ndarray:
    """A (height, width) map, True within ``reach`` (a square's half side) of any of ``centres``."""
    places = np.zeros(shape, bool)
    places[_pixels(centres, shape)] = True
    return rank_filter(places, max(1, int(round(reach))))


def _pixels(centres: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """The (rows, columns) of the pixels of a (height, width) map that ``centres`` (x, y) fall in, kept inside it."""
    x, y = np.rint(centres).astype(int).T
    return np.clip(y, 0, shape[0] - 1), np.clip(x, 0, shape[1] - 1)


def _count_at(places: np.ndarray, centres: np.ndarray, steps) -> np.ndarray:
    """For each centre, at how many of ``steps`` from it ``places`` is True."""
    height, width = places.shape
    counts = np.zeros(len(centres), np.int64)
    for step in steps:
        x, y = np.rint(centres + step).astype(int).T
        inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        counts[inside] += places[y[inside], x[inside]]
    return counts
