"""Dot-grid paper: take the printed dots of a dotted page (a bullet journal's) out of an ink map.

Left in, every dot of the grid was a mark, and a page was read as rows of tiny characters (a digit
on dotted paper as "1111161111"). A dot grid is told from writing by its lattice, not by the dots'
size alone (a full stop or the dot of an i is as small): the small marks are taken, the two
directions in which they repeat (``a`` and ``b``, a step of the grid each) are found from the
vectors to their nearest neighbours, and a small mark is a grid dot if at least two other small
marks lie where the grid puts dots around it (``k a + m b``, up to ``REACH`` steps each way).
Random specks or punctuation do not line up that way (a full stop within a fifth of a step of a
grid's dot does, and goes); the dots beside the writing, whose other neighbours it covers, keep two.
A dot that touches a stroke is part of the stroke's mark and stays: a bump on the stroke.
"""

from __future__ import annotations

import numpy as np

from inkread.imaging import components
from inkread.imaging.stroke import rank_filter, window_sums

DOT_INK = 0.2  # printed dots are often fainter than the writing: found (and erased) down to this ink level
MIN_DOTS = 24  # fewer grid dots than this is no dot grid (a 5x5 patch of one is)
MAX_DOT_SIDE = 0.05  # a candidate dot's box is at most this share of the image's longer side...
DOT_VS_STEP = 0.4  # ...and at most this share of the grid's step
SAMPLE = 400  # marks whose offsets to the others give the grid's steps
BLOCK = 32  # ...taken this many at a time (a block's offsets to 13,000 dots: 3 MB)
OFFSET_REACH = 3.0  # offsets up to this many times the typical distance to the nearest mark are looked at
MIN_REPEATS = 4  # a grid's step comes back at least this often among the offsets
STRONG = 0.3  # a grid's step comes back at least this share as often as the commonest offset (few dots: chance moves it)
REACH = 3  # grid dots are looked for up to this many steps away in each direction (many dots of a faint
           # grid fall below the ink map's floor: a dot's next neighbours may all be missing)
TOLERANCE = 0.15  # a neighbour within this share of a step of where the lattice puts it is there
CORE_TOLERANCE = 0.12  # a dot joined to a stroke by its rim is within this share of a step of its place
BY_CHANCE = 4  # a grid's dots find each other where the lattice puts them this many times more often than halfway between
MIN_SHARE = 0.5  # at least this share of the small marks must be grid dots (else: specks, not a grid)
MIN_APART_DEG = 50  # the grid's second direction is at least this far from the first


def remove_dot_grid(ink: np.ndarray, ink_threshold: float = 0.5) -> np.ndarray:
    """``ink`` without the dots of a dot grid (``ink`` itself if it has none).

    ``ink_threshold`` is where the caller's ink begins: a dot whose faint rim touches a stroke is a
    mark of its own there, and goes too if it sits where the grid puts a dot.
    """
    found = components.label(ink > DOT_INK)
    if found.count < MIN_DOTS:
        return ink
    sides = np.maximum(found.boxes[:, 2] - found.boxes[:, 0], found.boxes[:, 3] - found.boxes[:, 1])
    small = np.flatnonzero(sides <= max(2, MAX_DOT_SIDE * max(ink.shape)))
    if small.size < MIN_DOTS:
        return ink
    boxes = found.boxes[small].astype(np.float64)
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    steps = _lattice_steps(centres)
    if steps is None:
        return ink
    a, b = steps
    step = min(np.hypot(*a), np.hypot(*b))
    fits = sides[small] <= max(2, DOT_VS_STEP * step)
    around = [k * a + m * b for k in range(-REACH, REACH + 1) for m in range(-REACH, REACH + 1) if k or m]
    reach = TOLERANCE * step
    hits = _lattice_neighbours(centres, fits, around, reach, ink.shape)
    # Marks packed so densely that one lies near any place at all (noise, grain) find "neighbours" on
    # the lattice by chance: as many as halfway between its points, where a grid has no dots.
    between = _lattice_neighbours(centres, fits, [place + (a + b) / 2 for place in around], reach, ink.shape)
    if hits[fits].sum() < BY_CHANCE * between[fits].sum():
        return ink
    on_grid = fits & (hits >= 2)
    if on_grid.sum() < max(MIN_DOTS / 2, MIN_SHARE * fits.sum()):
        return ink
    # The grid found, one grid dot where the lattice puts one is enough (a dot at the page's edge,
    # most of whose neighbours are off the page). A mark off the grid's points has none at all, however
    # many dots there are: every place k a + m b away from it is off them too.
    on_grid |= fits & (_lattice_neighbours(centres, on_grid, around, reach, ink.shape) >= 1)
    dots = np.zeros(found.count + 1, bool)
    dots[small[on_grid] + 1] = True
    erased = dots[found.labels]
    erased |= _dot_cores(ink, centres[on_grid], around, step, sides[small[on_grid]], ink_threshold)
    # with the faint ring around each dot (below DOT_INK), where no other mark is
    erased = rank_filter(erased, 1) & ~((found.labels > 0) & ~erased)
    return np.where(erased, 0, ink).astype(ink.dtype, copy=False)


def _dot_cores(ink, dots, steps, step, dot_sides, ink_threshold) -> np.ndarray:
    """The grid dots joined to a stroke by their faint rims only: marks of the dots' size, seen at
    ``ink_threshold`` (where the reader's ink begins), one step from a grid dot (else read as full stops)."""
    found = components.label(ink > ink_threshold)
    sides = np.maximum(found.boxes[:, 2] - found.boxes[:, 0], found.boxes[:, 3] - found.boxes[:, 1])
    small = np.flatnonzero(sides <= np.max(dot_sides))
    boxes = found.boxes[small].astype(np.float64)
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    together = np.concatenate([dots, centres])
    present = np.arange(len(together)) < len(dots)
    near = _lattice_neighbours(together, present, steps, CORE_TOLERANCE * step, ink.shape)[len(dots):] >= 1
    cores = np.zeros(found.count + 1, bool)
    cores[small[near] + 1] = True
    return cores[found.labels]


def _lattice_steps(centres: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The grid's two steps (x, y vectors), or None if the marks do not repeat in two directions.

    From the offsets between the marks (the autocorrelation of their centres): where a grid's dots
    lie, the same few offsets come back again and again, whichever dots survived the ink map's
    floor; the two shortest that come back about as often as the commonest are the grid's steps.
    (The nearest neighbours' offsets alone misled where most dots of a faint grid were missing:
    the survivors' nearest are two steps or a diagonal apart.)
    """
    picked = centres[np.linspace(0, len(centres) - 1, min(SAMPLE, len(centres))).astype(int)]
    nearest = np.concatenate([_distances(block, centres).min(axis=1) for block in _blocks(picked)])
    reach = int(np.ceil(OFFSET_REACH * np.median(nearest)))
    offsets = np.concatenate([_offsets_within(block, centres, reach) for block in _blocks(picked)])
    offsets = offsets[(offsets[:, 1] > 0) | ((offsets[:, 1] == 0) & (offsets[:, 0] > 0))]  # one of each pair +v, -v
    if len(offsets) < MIN_DOTS:
        return None
    side = 2 * reach + 1
    counts = np.bincount((offsets[:, 1] + reach) * side + offsets[:, 0] + reach, minlength=side * side).reshape(side, side)
    support = window_sums(np.pad(counts, 1), 3)  # offsets a pixel apart are one (centres are rounded)
    dy, dx = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    length = np.hypot(dx, dy)
    support[(length < 2) | (length > reach)] = 0
    if support.max() < MIN_REPEATS:
        return None
    strong = support >= STRONG * support.max()
    a = _peak(counts, np.argmin(np.where(strong, length, np.inf)), reach)
    cosine = np.abs(dx * a[0] + dy * a[1]) / np.maximum(length * np.hypot(*a), 1e-9)
    apart = strong & (cosine <= np.cos(np.radians(MIN_APART_DEG)))
    if not apart.any():
        return None  # marks in rows only: a dotted line, or writing
    return a, _peak(counts, np.argmin(np.where(apart, length, np.inf)), reach)


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


def _peak(counts: np.ndarray, index: int, reach: int) -> np.ndarray:
    """The mean offset (x, y) of the offsets counted within two pixels of the one at flat ``index``."""
    y, x = divmod(int(index), counts.shape[1])
    top, left = max(0, y - 2), max(0, x - 2)
    window = counts[top:y + 3, left:x + 3].astype(np.float64)
    rows, columns = np.mgrid[top:top + window.shape[0], left:left + window.shape[1]]
    total = window.sum()
    return np.array([(columns * window).sum() / total - reach, (rows * window).sum() / total - reach])


def _lattice_neighbours(centres: np.ndarray, present: np.ndarray, steps, reach: float, shape) -> np.ndarray:
    """For each centre, in how many of ``steps`` a ``present`` centre lies within ``reach`` of one step away."""
    height, width = shape
    there = np.zeros(shape, bool)
    points = np.rint(centres[present]).astype(int)
    there[np.clip(points[:, 1], 0, height - 1), np.clip(points[:, 0], 0, width - 1)] = True
    there = rank_filter(there, max(1, int(round(reach))))
    counts = np.zeros(len(centres), np.int64)
    for step in steps:
        x, y = np.rint(centres + step).astype(int).T
        inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        counts[inside] += there[y[inside], x[inside]]
    return counts
