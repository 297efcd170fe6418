"""What in a photo is the page and what lies beyond it.

* ``page_on_a_table``: a page lying on something darker (a table) that fills most of the photo; read
  whole, such a photo is mostly dark, and the table would be taken for the paper. ``ink.ink_map``
  reads the page's box on its own, and ``without_table_corners`` drops the marks in that box that lie
  on the table (a turned page's corners).
* ``outside_the_page``: marks along the image's edges that are the table or a dark corner of the
  photo rather than writing.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from inkread.imaging import components
from inkread.imaging.levels import border_pixels, histogram, otsu, robust_spread
from inkread.imaging.rules import remove_rules
from inkread.imaging.stroke import rank_filter, stroke_width, window_sums

OUTSIDE_WIDTH_RATIO = 3.0  # a mark at the image's edge this many times thicker than the writing lies beyond the page
OUTSIDE_CONTACT = 0.25  # ...or a quarter of whose outline runs along the image's edge
WRITING_MIN_AREA = 10  # ...judged only where the other ink is at least this many squared stroke widths (not specks)
FRAME_CONTACT = 0.5  # with nothing written to compare, marks along half of each of the image's sides or more...
FRAME_FILL = 0.5  # ...covering at most half the image (around paper) are a frame...
FRAME_MIN_SIDE = 640  # ...in a photo (its longer side this many pixels or more, as a reduced photo's is)
PAGE_MIN_PIXELS = 100  # a photo of a page on a table is at least this many pixels on its shorter side
PAGE_LOOK_SIDE = 200  # a page on a table is looked for in a copy about this many pixels on its longer side
PAGE_MAX_BORDER = 0.25  # a page on a table: light along a quarter of the image's edges at most (a page cut by one)...
PAGE_CORNER_BORDER = 0.4  # ...or up to 40% (a page running off a corner of the photo) if its edge is sharper still:
PAGE_CORNER_SHARPNESS = 0.5  # the lit side of a shadow across lined paper can pass for such a page's edge (up to 0.39)
PAGE_MIN_SQUARE = 0.2  # a page: a light region holding a square a fifth of the image's shorter side...
PAGE_SQUARE_COVER = 0.85  # ...85% covered (the rest: writing on it)...
PAGE_MAX_BOX = 0.8  # ...whose box leaves a fifth of the image or more outside it...
PAGE_MIN_SIDE = 0.25  # ...and is at least a quarter of the image's shorter side each way...
# ...or a slip of paper: a tenth of it across, holding a square a tenth of it, filling this much of its box along its
# own sides, the writing on it counted in (a line's slip 95-100% in the copy looked at, turned 1-6 degrees 91-93%, its
# edges in steps, though 81-44% of its upright box; a bold chalk digit's light strokes, let in by the first two alone,
# 25-78%: chalkboard photos lost 5 points, and at 0.75 of the upright box a fat chalk 1)...
SLIP_MIN_SIDE, SLIP_FILL = 0.1, 0.85
SLIP_WRITING = 0.01  # ...with writing on it (this share of it; a line's 4-5%): a straight chalk stroke fills its box too
PAGE_OWN_SQUARE = 0.5  # ...solid: it holds a square half of its own shorter side (a bold stroke is thinner)...
PAGE_DARK_AROUND = 0.9  # ...where nine pixels in ten are dark (a table, not more paper)
PAGE_EDGE_SHARPNESS = 0.2  # ...and whose edge makes a fifth of the step to it within a pixel (a shadow's does not)
PAGE_ABOVE_TABLE = 0.25  # the page's paper in shade: a quarter of the way from the table's level to the lit paper's
PAGE_BELOW_TABLE = 0.05  # ...where at most this share of the lit paper falls to that level (a shadow's lit side: 31-47%)


def page_on_a_table(gray: np.ndarray, max_box: float = PAGE_MAX_BOX,
                    edge_only: bool = False) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """The box of a page that lies on something darker filling most of the photo (a table), and
    which pixels of the box are the table (a turned page's corners); None if there is no such page.

    Read whole, such a photo is mostly dark: the table was taken for the paper and the page for a
    great light stroke (dark ink on it unread). A page is the largest light region of a photo (100
    pixels or more each way): solid (it holds a square a fifth of the image's shorter side and half of
    its own, where a bold stroke is thinner), a quarter of the image or more each way (or a slip of paper: a
    tenth across, filling its box along its own sides, turned or not, as a bold character's light strokes do not, and
    written on, as a straight one is not), inside the
    photo (light along a quarter of its edges at most, or 40% for one running off a corner of the
    photo, whose edge must then be sharper; never from one side to the other), with dark all around,
    and with a sharp edge;
    light writing on a dark board has no such region, nor has paper in a soft shadow or a vignette.
    Looked for in a copy about 200 pixels wide: a few milliseconds, a tenth of one for a drawing on
    white. A page filling most of the photo (its box more than ``max_box`` of it) is left to the whole
    image's reading. ``edge_only``: how much of the photo's border is light is measured along its edge, not
    over a band 3% of its size wide (which a thin frame around a board does not fill).
    """
    if min(gray.shape) < PAGE_MIN_PIXELS:  # a data set's bitmap or a crop, not a photo of a page on a table
        return None
    step = look_step(gray.shape)
    small = gray[::step, ::step]
    threshold = otsu(histogram(small))
    if threshold is None:
        return None
    light = small >= threshold
    square = max(2, round(PAGE_MIN_SQUARE * min(light.shape)))
    slip_square = max(2, round(SLIP_MIN_SIDE * min(light.shape)))
    border = border_pixels(light, 1 if edge_only else None).mean()
    if border > PAGE_CORNER_BORDER or not _holds_square(light, slip_square):  # (quick: no page to label)
        return None
    regions = components.label(light)
    page = int(np.argmax(regions.areas))  # the largest light region
    x0, y0, x1, y1 = regions.boxes[page]
    inside = np.zeros(light.shape, bool)
    inside[y0:y1, x0:x1] = True
    if inside.sum() > max_box * light.size or light[~inside].mean() > 1 - PAGE_DARK_AROUND:
        return None
    paper = regions.labels == page + 1
    if not _holds_square(paper, slip_square):
        return None
    page_sized = _holds_square(paper, square)  # else it may only be a slip
    # Otsu's split leaves out the page's paper in a shadow: grow the page into what stands clearly
    # above the table, as far as it is joined to the lit paper
    table_level, table_spread = robust_spread(np.bincount(small[~inside], minlength=256))
    low = table_level + max(3.0 * table_spread, PAGE_ABOVE_TABLE * (np.median(small[paper]) - table_level))
    if np.count_nonzero(small[paper] <= low) > PAGE_BELOW_TABLE * np.count_nonzero(paper):
        return None  # page and table levels overlap: the lit side of a soft shadow across a page, not a page
    grown = components.label(small > low)
    joined = np.unique(grown.labels[paper])
    page = np.isin(grown.labels, joined[joined > 0])  # (not 0: a few grains of lit paper may fall below ``low``)
    # A page's edge is sharp; paper in a shadow or a vignette (the lit part of it taken for a page)
    # darkens gradually, and above the darkest "table" it joins the lit paper all across the photo.
    x0, y0, x1, y1 = box_of(page)
    table = _around(page)
    # A page lies inside the photo or runs off a corner of it: a light band from one side of the image to the
    # other is no page on a table (the white paper around a photo drawn beside on the web page, whose photo,
    # the "table", was dropped with the writing on it)
    across = (x0 == 0 and x1 == light.shape[1]) or (y0 == 0 and y1 == light.shape[0])
    page_sized = page_sized and min(x1 - x0, y1 - y0) >= PAGE_MIN_SIDE * min(light.shape)
    slip = not page_sized and _slip(page, table, light.shape)
    if (across or not (page_sized or slip) or (x1 - x0) * (y1 - y0) > max_box * light.size
            or not _holds_square(page, max(2, round(PAGE_OWN_SQUARE * min(x1 - x0, y1 - y0))))
            or _edge_sharpness(small, table) < (PAGE_EDGE_SHARPNESS if border <= PAGE_MAX_BORDER else PAGE_CORNER_SHARPNESS)):
        return None
    box = slice(y0 * step, min(gray.shape[0], y1 * step)), slice(x0 * step, min(gray.shape[1], x1 * step))
    size = (box[1].stop - box[1].start, box[0].stop - box[0].start)
    return box, np.asarray(Image.fromarray(table[y0:y1, x0:x1]).resize(size, Image.Resampling.NEAREST))


def look_step(shape: tuple[int, int]) -> int:
    """Every how many pixels of an image of ``shape`` the copy a page is looked for in takes one: its page's
    outline (``page_on_a_table``'s table) is known to within this many pixels."""
    return max(1, max(shape) // PAGE_LOOK_SIDE)


def _slip(page: np.ndarray, table: np.ndarray, shape: tuple[int, int]) -> bool:
    """Whether ``page`` is a slip of paper: with what it encloses (everything but the ``table``), a tenth of the
    image's shorter side (``shape``) across or more, filling its box along its own sides (``SLIP_FILL``: a slip turned
    a degree or two no longer fills its upright box), with writing on it (``SLIP_WRITING`` of it)."""
    slip = ~table
    fill, across = own_box_fill(slip)
    return bool(across >= SLIP_MIN_SIDE * min(shape) and fill >= SLIP_FILL
                and np.count_nonzero(slip & ~page) >= SLIP_WRITING * np.count_nonzero(slip))


OWN_BOX_TURNS = np.radians(np.arange(0.0, 90.0, 0.5))  # the turns tried (a box turned 90 degrees is the same box)


def own_box_fill(mask: np.ndarray) -> tuple[float, float]:
    """How much of the smallest box around its pixels, turned as it fits best (to half a degree), ``mask`` fills, and
    that box's shorter side: a rectangle fills it whole, turned or not (but for the steps of its edges: a slip 12
    pixels across, 91-93%). (0, 0) for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return 0.0, 0.0
    # every corner of the pixels' hull is the first or last pixel of its row: only those need be turned
    first = np.argmax(mask[rows], axis=1)
    last = mask.shape[1] - 1 - np.argmax(mask[rows, ::-1], axis=1)
    points = np.concatenate([np.stack([first, rows], 1), np.stack([last, rows], 1)]).astype(np.float64)
    cos, sin = np.cos(OWN_BOX_TURNS), np.sin(OWN_BOX_TURNS)
    along, across = points @ np.stack([cos, sin]), points @ np.stack([-sin, cos])  # (points, turns)
    sides = np.stack([along.max(axis=0) - along.min(axis=0), across.max(axis=0) - across.min(axis=0)]) + 1
    best = int(np.argmin(sides.prod(axis=0)))
    return float(np.count_nonzero(mask) / sides[:, best].prod()), float(sides[:, best].min())


def without_table_corners(on_page: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The ink of a page's box (``on_page``, changed in place) without the marks at the box's edge that
    lie mostly on the table (``table``: which pixels of the box are the table): a turned page's corners;
    and those lying along the box's edge: the page's own edge, half table in its pixels (read as a 1 on
    a blank page). A character cut by the box's edge touches it only with the ends of its strokes."""
    marks = components.label(on_page > 0.5)
    h, w = table.shape
    x0, y0, x1, y1 = marks.boxes.T
    at_edge = (x0 == 0) | (y0 == 0) | (x1 == w) | (y1 == h)
    on_table = at_edge & (np.bincount(marks.labels[table], minlength=marks.count + 1)[1:] >= 0.5 * marks.areas)
    for index in np.flatnonzero(at_edge & ~on_table):
        bx0, by0, bx1, by1 = marks.boxes[index]
        on_table[index] = _along_the_edge(marks.labels[by0:by1, bx0:bx1] == index + 1, marks.boxes[index], (h, w))
    if on_table.any():
        on_page[rank_filter(np.isin(marks.labels, np.flatnonzero(on_table) + 1), 2)] = 0.0
    return on_page


def box_of(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the True pixels of a mask that has some, ends exclusive."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def _around(page: np.ndarray) -> np.ndarray:
    """What lies around the page: the pixels outside it joined to the image's edge (not its writing)."""
    around = components.label(~page)
    h, w = page.shape
    x0, y0, x1, y1 = around.boxes.T
    return np.isin(around.labels, np.flatnonzero((x0 == 0) | (y0 == 0) | (x1 == w) | (y1 == h)) + 1)


def _edge_sharpness(gray: np.ndarray, around: np.ndarray) -> float:
    """How much of the step from the page to what lies ``around`` it is made within one pixel of its
    edge (the median over the edge); 0 if nothing lies around."""
    if not around.any() or around.all():
        return 0.0
    edge = ~around & rank_filter(around, 1)
    step = gray.astype(np.float32) - rank_filter(gray, 1, np.minimum)
    contrast = float(np.median(gray[~around])) - float(np.median(gray[around]))
    return float(np.median(step[edge])) / max(contrast, 1.0)


def _holds_square(mask: np.ndarray, side: int) -> bool:
    """Whether a ``side`` x ``side`` square of ``mask`` is covered (PAGE_SQUARE_COVER: the writing on a page is not)."""
    if min(mask.shape) < side or np.count_nonzero(mask) < PAGE_SQUARE_COVER * side * side:
        return False
    return bool(window_sums(mask, side, np.int32).max() >= PAGE_SQUARE_COVER * side * side)


def outside_the_page(ink: np.ndarray) -> np.ndarray | None:
    """The pixels of marks that are what lies beyond the page (a table, dark corners), or None.

    A photo of a page often shows what it lies on along the image's edges, and it is darker than
    the paper: ink, to the contrast map, and a frame read as a 0. Such a mark touches the image's
    edge and is far thicker than the writing on the page (``OUTSIDE_WIDTH_RATIO`` times) or runs
    along the edge. A character cut by the edge touches it with the ends of its strokes and is no
    thicker than the rest of the ink; with too little other ink to tell (specks, or a blank page),
    only a frame is taken out (``_frame``). Thickness is measured without the page's rules: a rule running to the
    image's edge joins the words written on it to the edge, and a line of digits on lined paper,
    "thicker" than the crumbs of the rules around it, was erased as a table.
    """
    mask = ink > 0.5
    h, w = mask.shape
    if not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()):
        return None
    marks = components.label(mask)
    touching = _touching_the_edge(marks)
    if touching.size == 0:
        return None
    ruled = mask & ~(remove_rules(ink) > 0.5)  # a rule search: 40-60 ms on a ruled 1024 px photo
    written = components.label(mask & ~ruled)  # the writing is what does not touch the edge once the rules are out
    writing_mask = (written.labels > 0) & ~np.isin(written.labels, _touching_the_edge(written) + 1)
    if not writing_mask.any():  # nothing written (a blank ruled page): the crumbs of the rules are what is left
        writing_mask = mask & ~np.isin(marks.labels, touching + 1)
    writing = stroke_width(writing_mask)
    if not writing_mask.any() or np.count_nonzero(writing_mask) < WRITING_MIN_AREA * writing * writing:
        return _frame(mask, marks, touching)
    outside = np.zeros(mask.shape, bool)
    for index in touching:
        x0, y0, x1, y1 = marks.boxes[index]
        own = marks.labels[y0:y1, x0:x1] == index + 1
        drawn = own & ~ruled[y0:y1, x0:x1]
        width = stroke_width(drawn) if drawn.any() else stroke_width(own)
        if width >= OUTSIDE_WIDTH_RATIO * writing or _along_the_edge(own, marks.boxes[index], (h, w)):
            outside[y0:y1, x0:x1] |= own
    if not outside.any():
        return None
    return rank_filter(outside, 2)  # with the anti-aliased rim of those marks


def _along_the_edge(own: np.ndarray, box, shape: tuple[int, int]) -> bool:
    """Whether a mark (``own``: its pixels in its ``box``, x0, y0, x1, y1) lies along the edge of an image of
    ``shape``: a quarter of its outline on it (a dark corner's wedge, a strip of table), where a character cut
    by the edge touches it only with the ends of its strokes."""
    x0, y0, x1, y1 = box
    h, w = shape
    contact = sum(np.count_nonzero(side) for side, at_edge in (
        (own[0], y0 == 0), (own[-1], y1 == h), (own[:, 0], x0 == 0), (own[:, -1], x1 == w)) if at_edge)
    outline = 2.0 * np.count_nonzero(own) / max(stroke_width(own), 1e-6)  # the edge counts as outline, as in stroke_width
    return contact >= OUTSIDE_CONTACT * outline


def _frame(mask: np.ndarray, marks: components.Components, touching: np.ndarray) -> np.ndarray | None:
    """With too little written to compare with (a blank page), what lies beyond the page only if it is a
    frame in a photo: the marks touching the image's edge run along half of each of its four sides or more,
    around paper (they cover at most half the image), and filling three of its corners at least. A page
    filling the photo, the table around it was read as a 0 (a grained table is many marks, together the
    frame). Not in smaller images: a character cropped to its ink touches every side too (a boxy 0 along
    much of each, but its corners are rounded)."""
    if max(mask.shape) < FRAME_MIN_SIDE:
        return None
    on_edge = np.isin(marks.labels, touching + 1)
    corners = int(on_edge[0, 0]) + int(on_edge[0, -1]) + int(on_edge[-1, 0]) + int(on_edge[-1, -1])
    if (min(side.mean() for side in (on_edge[0], on_edge[-1], on_edge[:, 0], on_edge[:, -1])) < FRAME_CONTACT
            or np.count_nonzero(on_edge) > FRAME_FILL * mask.size or corners < 3):  # (a drawn 0's are rounded)
        return None
    return rank_filter(on_edge, 2)


def reaching_the_edge(marks: components.Components) -> np.ndarray:
    """Per mark, whether its box reaches the image's edge."""
    h, w = marks.labels.shape
    boxes = marks.boxes
    return (boxes[:, 0] == 0) | (boxes[:, 1] == 0) | (boxes[:, 2] == w) | (boxes[:, 3] == h)


def _touching_the_edge(marks: components.Components) -> np.ndarray:
    """The indices (0-based) of the marks whose boxes reach the image's edge."""
    return np.flatnonzero(reaching_the_edge(marks))
