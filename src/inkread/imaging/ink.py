"""Find the ink in a decoded image: float32 (H, W) in 0..1, ink 1.0 on background 0.0.

* transparent backgrounds (canvas exports): the alpha channel is the ink, whatever its colour;
* clean images (canvas, scans, data sets): ink = contrast against the paper, anti-aliasing kept;
* photos (noise, uneven light): the paper is estimated and divided out, the ink is separated with
  Otsu's threshold into a soft mask (or, when it is too little ink for Otsu, a small character in a
  large photo, by how far it stands above the paper's grain), and specks smaller than a pen dot are
  removed.

Polarity comes from the border: light ink on dark paper only if most of the border is dark. A
page lying on a darker table that fills most of the photo is found first (``page_on_a_table``)
and read on its own, dark ink on light (``imaging/page.py``); then a dark board in a lighter frame
or on a wall, the same in the negative, and read light ink (chalk) on dark.
Statistics come from 256-bin histograms and pixels are mapped with one multiply-add, in Pillow's
C code where possible: a 280x280 canvas costs only a few passes over its pixels.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from inkread.errors import InputImageError
from inkread.imaging import components
from inkread.imaging.levels import (MIN_CONTRAST, affine, border_pixels, core_level, histogram, otsu, percentiles,
                                    robust_spread, stretch_levels, stretched, to_uint8)
from inkread.imaging.page import (PAGE_MIN_SIDE, SLIP_FILL, box_of, look_step, outside_the_page, own_box_fill,
                                  page_on_a_table, reaching_the_edge, without_table_corners)
from inkread.imaging.rules import remove_rules
from inkread.imaging.stroke import rank_filter, stroke_width, window_sums

LIGHT_INK_BORDER = 0.75  # read light ink on dark paper when this share of the border is dark
BOARD_MAX_BOX = 0.97  # a dark board in a light frame may fill the photo but for the frame (a page: page.PAGE_MAX_BOX)...
BOARD_DARK, BOARD_MIN_SHARE = 128, 0.15  # ...darker than mid-gray over 15% of the photo or more...
BOARD_BEYOND_MAX = 0.2  # ...a rectangle, turned a little: at most a fifth of its box beyond it (turned 6 degrees: 0.19)...
BOARD_TURNED_MAX = 0.5  # ...or more where what lies beyond is the box's four corners cut straight (turned 25 degrees: 0.45)...
BOARD_EDGE_PX = 2  # ...whose edge is as wide as this beyond it...
BESIDE_MARGIN = 0.02  # ...with no writing beside it (2% of the image's side away from its box: the frame's rim)
INK_CELL = 0.45  # a grid cell whose brightest pixel is below this share of its surroundings' is covered by ink
PAPER_MEDIAN_MAX = 0.25  # a contrast median below this is the paper's (most pixels are paper)
GRAIN_SIGMA_MAX = 0.04  # ...and its grain's spread (sigma) below this
PAPER_GRAIN_SIGMAS = 4.0  # an Otsu threshold this close to the paper's median splits its grain, not ink from it
INK_ABOVE_GRAIN_SIGMAS = 10.0  # ...then the ink's core must stand this many sigmas above the paper (else blank)
MIN_MARK, MIN_MARK_PX = 0.01, 6  # ...and its largest mark be this share of the image's longer side (dust is smaller),
#                                    measured where it stands that far above the paper (see _longest_mark)
FAINT_LAYERS = 2  # ...looked past, one after the other, when they are too faint to be ink (see _ink_above)
NEAR_PAPER_SIDE = 60  # the nearby paper is looked for within a 60th of the image's longer side (20 px at 1200)...
NEAR_PAPER_GAP = 0.2  # ...and trusted where it is at most 20% darker than the lighting surface (else: a fat stroke)
SHADE_WINDOWS = 4  # ...or where it is as dark over a window this many times as wide (a hard shadow's shade)...
SHADE_MAX = 0.5  # ...and at most this much darker than the surface (a shadow; ink is darker)
SURFACE_SHORT = 0.05  # where the surface is this much darker than the trusted nearby paper, it is the lit side of an edge
NEAR_PAPER_MIN_SIDE = 640  # ...in large photos only: in smaller ones its window is no wider than the strokes, and
#                            paper darkened by a sharp shadow's edge is then taken for one (a band of ink)
EDGE_RING_DARK = 0.25  # a mark is a shadow's edge, not ink, when a quarter of the ring around it is as dark as it
EDGE_LEVEL_GAP = 0.05  # ...(at most 5% lighter: the paper beside a stroke is lighter by the ink's contrast, 8% or more)
EDGE_INK_GAP = 0.25  # on such an edge, ink is what stands 25% darker than the shaded paper beside it
# A black-and-white image whose lone pixels (none of their eight neighbours of their level) are this share of its
# rarer level, and this many, is a halftone (a scanner's or fax's black-and-white mode, Pillow's convert("1")):
# dithered softly written characters held 7-29%, a dithered gray paper 36-80%; clean drawings in two levels (semeion,
# optdigits, thresholded pictures) at most 3 lone pixels, and a sharp drawing dithered 0-6.5% (read as it was)
HALFTONE_LONE_SHARE, HALFTONE_LONE_MIN = 0.07, 50
HALFTONE_BLUR = 1.5  # blurred (Gaussian radius, px) back into the grays its dots stand for


def ink_map(image: Image.Image) -> np.ndarray:
    """The ink map (float32 in 0..1, ink 1.0 on 0.0) of a decoded PIL image in any mode."""
    if has_alpha(image) and not high_bit_depth(image):
        if image.mode == "La":  # premultiplied gray and alpha: Pillow turns it into LA only
            image = image.convert("LA")
        elif image.mode not in ("RGBA", "LA"):
            image = image.convert("RGBA")  # P with transparency, PA, RGBa...
        alpha = np.asarray(image.getchannel("A"))
        if alpha.min() < 128:  # some transparency: a drawing on a transparent canvas
            return _ink_from_alpha(image, alpha)
    gray = _descreened(gray_uint8(image))
    found = page_on_a_table(gray)
    if found is not None:
        return _ink_of_page_in(_table_painted(gray, *found), *found)
    board = _board_in_a_frame(gray)  # a dark board in a light frame or on a wall: a page on a table in the negative
    if board is not None:
        box, beyond = board
        # chalk is written on the board, not on its frame (a turned board's frame and edge left crumbs, read as "."):
        # they are painted the board's level before its lighting is judged (the wall in a turned board's corners,
        # dark in the negative, made the chalk near it too faint to keep: a 7 lost its bar), and left out after
        edge = rank_filter(beyond, BOARD_EDGE_PX)
        negative = 255 - gray
        negative[box] = _painted(negative[box], edge, ~edge)
        ink = _ink_of_page_in(negative, box, beyond)
        ink[box][edge] = 0.0
        if ink.max() > 0.5:  # a board holds writing (a bold character filling the image, as solid, holds none)
            return ink
    return _ink_of_page(gray)


def _descreened(gray: np.ndarray) -> np.ndarray:
    """A halftone (grays drawn as scattered black and white dots) as the grays it stands for; any other image as it is.

    Read as it is, each dot of a dithered gray paper was a speck ("more than 500 specks of ink") and the dots
    around soft strokes full stops and colons. A large image is averaged into grays when reduced to the working
    size; this is for those read at their own size.
    """
    levels = np.flatnonzero(histogram(gray))
    if levels.size != 2:
        return gray
    lone, rarer = 0, gray.size
    for level in levels:
        mask = gray == level
        neighbourhood = window_sums(np.pad(mask, 1), 3, np.int32)  # the 3x3 window centred on each pixel
        lone += np.count_nonzero(mask & (neighbourhood == 1))
        rarer = min(rarer, np.count_nonzero(mask))
    if lone < max(HALFTONE_LONE_MIN, HALFTONE_LONE_SHARE * rarer):
        return gray
    return np.asarray(Image.fromarray(gray).filter(ImageFilter.GaussianBlur(HALFTONE_BLUR)))


def _ink_of_page_in(gray: np.ndarray, box: tuple[slice, slice], table: np.ndarray) -> np.ndarray:
    """The ink of the page found in ``box`` of a photo (``table``: which pixels of the box lie beyond the page)."""
    ink = np.zeros(gray.shape, np.float32)
    # The page's rules run across the page, not the photo (a page 85% of its width: no rule to the rule search
    # of the whole ink map); what lies along the box's edge goes after them (joined to the rules, it stayed)
    ink[box] = without_table_corners(remove_rules(_ink_of_page(gray[box], paper_known=True)), table)
    return ink


def _table_painted(gray: np.ndarray, box: tuple[slice, slice], table: np.ndarray) -> np.ndarray:
    """``gray`` with what lies beyond a rectangle of paper in its ``box`` (a slip's table, or a turned page's corners
    cut off straight) and the paper's edge beside it at the paper's level (``gray`` itself for a page of another
    shape); ``table``: which pixels of the box lie beyond the page, as ``page_on_a_table`` found them on a copy.

    Read as they were, a turned slip's edge ran across its box, kept as a line of ink (a "." 467 px long) that split
    its line of writing in two, and a slip's box, mostly table, had the table's level for its paper's; a turned
    page's lower edge was read as a line of its own. The edge's place is known to a pixel of the copy: that far
    beside the table is painted too. Not what lies beyond a "page" of another shape, or elsewhere around a page:
    the lit side of a shadow, whose "table" is the paper in its shade, written on.
    """
    step = look_step(gray.shape)
    on_copy = table[::step, ::step]
    fill, across = own_box_fill(~on_copy)
    if fill < SLIP_FILL or not (across * step < PAGE_MIN_SIDE * min(gray.shape) or _turned_rectangle(on_copy, thin=2)):
        return gray
    beyond = rank_filter(table, step)
    painted = gray.copy()
    painted[box] = _painted(gray[box], beyond, ~beyond)
    return painted


def _board_in_a_frame(gray: np.ndarray) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """A dark board in a light frame, or on a light wall: ``page_on_a_table`` in the photo's negative. Its box and
    which pixels of the box lie beyond the board, or None. On a wall, the frame is found with the board (both stand
    out from the wall); the board is then looked for again inside it. A dark thing lying on a page written on
    beside it (a phone, a notebook's cover) is no board: the page's writing would be lost."""
    sample = gray[::4, ::4]
    if np.count_nonzero(sample < BOARD_DARK) < BOARD_MIN_SHARE * sample.size:  # (quick: no board, most drawings)
        return None
    negative = 255 - gray
    found = page_on_a_table(negative, max_box=BOARD_MAX_BOX, edge_only=True)
    if found is None or _writing_beside(_ink_from_gray(gray, light_ink_possible=False), found[0]):
        return None
    (rows, columns), beyond = found
    if beyond.mean() > BOARD_BEYOND_MAX and not (beyond.mean() <= BOARD_TURNED_MAX and _turned_rectangle(beyond)):
        return None  # a bold character filling the image, its loops the "writing": no board
    inner = page_on_a_table(_frame_alone(negative[rows, columns], beyond), max_box=BOARD_MAX_BOX, edge_only=True)
    if inner is None:
        return found
    (inner_rows, inner_columns), inner_beyond = inner
    return ((slice(rows.start + inner_rows.start, rows.start + inner_rows.stop),
             slice(columns.start + inner_columns.start, columns.start + inner_columns.stop)),
            beyond[inner_rows, inner_columns] | inner_beyond)


def _turned_rectangle(beyond: np.ndarray, thin: int = 0) -> bool:
    """Whether what lies ``beyond`` a board in its box is the box's corners cut off straight, as around a turned
    rectangle: each corner's part a right triangle (about half the box its two legs span) and the four of them
    all of it. Around a bold character the parts are curved or ragged (their share 0.6-1.0 of that box). A part
    ``thin`` pixels thick or less may have any shape (on a coarse copy, a wedge beside a page turned a degree or two
    is a row or two of pixels: a rectangle)."""
    board = ~beyond
    if not board.any():
        return False
    rows, columns = np.flatnonzero(board.any(axis=1)), np.flatnonzero(board.any(axis=0))
    beyond = beyond[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]  # the box the board spans
    covered = 0
    for corner in (beyond, beyond[:, ::-1], beyond[::-1], beyond[::-1, ::-1]):
        along_top = corner.shape[1] if corner[0].all() else int(np.argmin(corner[0]))
        down_side = corner.shape[0] if corner[:, 0].all() else int(np.argmin(corner[:, 0]))
        area = int(np.count_nonzero(corner[:down_side, :along_top]))
        if area and min(along_top, down_side) > thin and not 0.4 <= area / (along_top * down_side) <= 0.7:
            return False
        covered += area
    return covered >= 0.95 * np.count_nonzero(beyond)


def _frame_alone(negative: np.ndarray, beyond: np.ndarray) -> np.ndarray:
    """The box of a framed board (``negative``) with what lies ``beyond`` the frame (the wall in a turned board's
    corners) at the frame's level: the frame alone around the board, as the inner page search needs a table."""
    if not beyond.any() or beyond.all():
        return negative
    within = negative[~beyond]
    threshold = otsu(np.bincount(within, minlength=256))
    return negative if threshold is None else _painted(negative, beyond, ~beyond & (negative < threshold))


def _painted(gray: np.ndarray, where: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``gray`` with the pixels ``where`` set to the median of the pixels ``like`` (unchanged if there are none)."""
    if not where.any() or not like.any():
        return gray
    painted = gray.copy()
    painted[where] = np.uint8(np.median(gray[like]))
    return painted


def _writing_beside(ink: np.ndarray, box: tuple[slice, slice]) -> bool:
    """Whether ``ink`` holds a mark wholly outside ``box`` (rows, columns; found on a copy about 200 pixels wide,
    so ``BESIDE_MARGIN`` of the image's side is allowed) and away from the image's edges that is as long as
    writing (``MIN_MARK`` of the image's side: dust is shorter)."""
    marks = components.label(ink > 0.5)
    if marks.count == 0:
        return False
    h, w = ink.shape
    x0, y0, x1, y1 = marks.boxes.T
    rows, columns = box
    margin = BESIDE_MARGIN * max(h, w)
    outside = ((x1 <= columns.start - margin) | (x0 >= columns.stop + margin)
               | (y1 <= rows.start - margin) | (y0 >= rows.stop + margin))
    long = np.maximum(x1 - x0, y1 - y0) >= max(MIN_MARK_PX, MIN_MARK * max(h, w))
    return bool((outside & ~reaching_the_edge(marks) & long).any())


def _ink_of_page(gray: np.ndarray, paper_known: bool = False) -> np.ndarray:
    """The ink of a gray image of a page, without what lies beyond the page along its edges.

    ``paper_known``: the page was found light (on a table): its ink is dark, whatever its border shows.
    """
    ink = _ink_from_gray(gray, light_ink_possible=not paper_known)
    outside = outside_the_page(ink)
    if outside is not None:
        ink[outside] = 0.0
    return ink


# --- pixel values --------------------------------------------------------------------------

def has_alpha(image: Image.Image) -> bool:
    """Whether the image has an alpha channel or a transparent palette entry."""
    return "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info


def high_bit_depth(image: Image.Image) -> bool:
    """16/32-bit integer or float gray (modes I, I;16..., F)."""
    return image.mode.startswith("I") or image.mode == "F"


def gray_uint8(image: Image.Image) -> np.ndarray:
    """The luminance of a PIL image as uint8 (alpha ignored: the image is opaque)."""
    mode = image.mode
    if high_bit_depth(image):  # 16/32-bit gray: scale to 8 bits by the range in use
        values = np.asarray(image, dtype=np.float32)
        top = 1.0 if mode == "F" and values.max() <= 1.0 else 255.0 if values.max() <= 255 else 65535.0
        return to_uint8(values, 255.0 / top)
    try:
        if mode not in ("L", "LA"):
            image = image.convert("L") if mode in ("1", "P", "RGB", "RGBA") else image.convert("RGB").convert("L")
    except ValueError as error:  # a mode Pillow cannot turn into gray
        raise InputImageError(f"images in mode {mode} are not supported ({error}): save it as PNG or JPEG") from None
    return np.asarray(image.getchannel(0) if image.mode == "LA" else image)


# --- finding the ink ---------------------------------------------------------------------------
# Pixels are mapped with a multiply-add rather than a lookup table: numpy's fancy indexing costs
# 20x a float multiply.

def _ink_from_alpha(image: Image.Image, alpha_levels: np.ndarray) -> np.ndarray:
    """Ink of a drawing on a transparent background (an RGBA or LA image).

    Drawn with one pen colour (the usual canvas), the alpha channel is the ink, whatever the
    colour. With several colours, the ink is the darkness over a white page.
    """
    # A sample of the strokes is enough to see their colour: pixels (4i + 2, 4j + 2), which is
    # where Pillow's nearest-neighbour quarter-size resize takes its pixels.
    rows, cols = alpha_levels.shape[0] // 4, alpha_levels.shape[1] // 4
    opaque = alpha_levels[2:rows * 4:4, 2:cols * 4:4] >= 128
    if opaque.any():
        sampled = image.resize((cols, rows), Image.Resampling.NEAREST, box=(0, 0, cols * 4, rows * 4))
        colours = np.asarray(sampled)[opaque]
    else:  # strokes too thin for the sample: look at all of them
        colours = np.asarray(image)[alpha_levels >= 128]
    if colours.size:
        colours = colours.astype(np.float32)
        sample = colours[:, 0] if image.mode == "LA" else colours[:, :3] @ np.float32([0.299, 0.587, 0.114])
        low, high = percentiles(sample, 5, 95)
        if high - low <= 16:
            return stretched(alpha_levels, histogram(alpha_levels))
    # Several colours: show the canvas on a white page, as the user most likely saw it while
    # drawing; the ink is what is darker than that page (white "eraser" strokes vanish).
    gray = image.convert("L") if image.mode == "RGBA" else image.getchannel("L")
    contrast = np.asarray(ImageChops.multiply(ImageChops.invert(gray), Image.fromarray(alpha_levels)))  # (255-g)*a/255
    return stretched(contrast, histogram(contrast))


def _ink_from_gray(gray: np.ndarray, light_ink_possible: bool = True) -> np.ndarray:
    """Ink of a gray image: polarity from the border (unless ink is known dark), then the clean or the photo path."""
    hist = histogram(gray)
    threshold = otsu(hist)
    if threshold is None:  # a single gray level: blank
        return np.zeros(gray.shape, np.float32)
    # The paper is what the border shows: light ink on dark only if the border is mostly dark
    # (chalk on a board, MNIST-style PNGs); tight crops of dark ink may touch half the border.
    border = border_pixels(gray)
    # ...and only if most of the image is dark too: under a vignette the border is dark paper, while
    # most of the page (the lit middle) is light.
    if (light_ink_possible and np.count_nonzero(border < threshold) > LIGHT_INK_BORDER * border.size
            and hist[:int(threshold)].sum() > hist.sum() / 2):
        gray, hist, border = 255 - gray, hist[::-1], 255 - border
    mode = int(np.argmax(hist))
    # A clean image also has even lighting: white paper half in a shadow has one exact level (the
    # clipped white) too, but one paper level would make the whole shadow ink. A border almost all
    # at the paper level (every canvas drawing) is lit evenly enough: no need to map the lighting.
    grid = _paper_grid(gray) if np.count_nonzero(border != mode) > 0.1 * border.size else None
    if hist[mode] >= 0.3 * hist.sum() and mode > threshold and not (grid is not None and _uneven(grid)):
        # Clean image (canvas, scan, data set): the paper is one exact level and there is no
        # noise to remove. Ink = contrast to the paper, 255 * (1 - level / mode), then stretched.
        contrast = np.clip(np.rint(255.0 * (1.0 - np.arange(256) / mode)), 0, 255).astype(np.int64)
        levels = stretch_levels(np.bincount(contrast, weights=hist, minlength=256))
        if levels is None:
            return np.zeros(gray.shape, np.float32)
        low, high = levels
        # (255 * (1 - g / mode) - low) / (high - low) as one multiply-add on the gray levels
        scale = -255.0 / (mode * (high - low))
        return affine(gray, scale, (255.0 - low) / (high - low))
    paper = _paper_level(gray, grid)
    contrast = np.clip(1.0 - gray / np.maximum(paper, 1.0), 0.0, 1.0)  # relative to the local paper
    ink = _clean_photo(to_uint8(contrast, 255.0))
    # only where the lighting was mapped: edges in it are what a smooth surface misses
    return ink if np.isscalar(paper) else _without_lighting_edges(ink, gray)


def _clean_photo(contrast: np.ndarray) -> np.ndarray:
    """Soft-threshold a noisy uint8 contrast map and drop specks; all zeros if no ink stands out."""
    hist = histogram(contrast)
    threshold = otsu(hist)
    if threshold is None:
        return np.zeros(contrast.shape, np.float32)
    # A small character in a large photo is a few hundred pixels among a million: Otsu then splits
    # the paper's own grain in two (its threshold lies within the paper's spread) and the ink is
    # judged too faint. The paper is most of the pixels, so the whole histogram's median and MAD
    # are the paper's. (Where the ink is most of the pixels, a character filling its crop, the
    # median is ink, far from the paper's contrast 0; where ink and paper are near halves, the
    # spread is the gap between them, not a fine grain.)
    median, sigma = robust_spread(hist)
    grain = median <= PAPER_MEDIAN_MAX * 255 and sigma <= GRAIN_SIGMA_MAX * 255
    if grain and abs(threshold - median) < PAPER_GRAIN_SIGMAS * sigma:
        return _ink_above(contrast, hist, median + PAPER_GRAIN_SIGMAS * sigma, median + 3.0 * sigma,
                          median + INK_ABOVE_GRAIN_SIGMAS * sigma)
    # Noise floor: median + 3 sigma of the paper (robust MAD estimate), never above the threshold.
    median, sigma = robust_spread(hist[: int(threshold) + 1])
    low = min(median + 3.0 * sigma, threshold)
    levels = stretch_levels(hist, low, threshold)
    if levels is None and 2 * hist[int(threshold) + 1:].sum() < hist.sum():
        # Otsu split the paper from a faint haze (what is left of a shadow's edge after the
        # lighting is divided out), and a small character's ink is too few pixels to pull the
        # split its way: the ink is what stands clearly above the haze, if anything does.
        haze = core_level(hist, threshold)
        return _ink_above(contrast, hist, threshold, haze, haze + MIN_CONTRAST * 255)
    return remove_specks(stretched(contrast, hist, low, threshold))


def _ink_above(contrast: np.ndarray, hist: np.ndarray, start: float, floor: float, core_at_least: float) -> np.ndarray:
    """The ink of a photo that is almost all paper and its grain or haze: what stands far above them.

    Otsu's threshold between the levels above ``start`` (the grain's far end, or a haze) and the
    ink; ``floor`` becomes ink 0; the stroke cores must reach ``core_at_least``, and a mark be at
    least ``MIN_MARK`` of the image's size (so little ink may be dust on blank paper), measured
    over its pixels at ``core_at_least`` or above (``_longest_mark``), or the photo is blank
    (zeros). Where the levels above ``start`` split into a layer too faint for ink
    (the ruled lines of a page, which outnumber a small character's pixels) and more, the ink is
    looked for above that layer, up to ``FAINT_LAYERS`` times; it must then stand ``MIN_CONTRAST``
    above the layer's core, as ink stands above paper (the layer's own noisy tail does not).
    """
    threshold = start
    for _ in range(1 + FAINT_LAYERS):
        tail = hist.copy()
        tail[: int(threshold) + 1] = 0
        threshold = otsu(tail)
        levels = None if threshold is None else stretch_levels(hist, floor, threshold)
        if levels is None:
            return np.zeros(contrast.shape, np.float32)  # nothing but grain: blank paper
        if levels[1] >= core_at_least:
            break
        # past a faint layer, ink must stand out from it as ink does from paper (not its own noise tail)
        core_at_least = max(core_at_least, levels[1] + MIN_CONTRAST * 255)
    else:
        return np.zeros(contrast.shape, np.float32)  # only faint layers: no ink
    ink = remove_specks(stretched(contrast, hist, floor, threshold))
    if _longest_mark(ink, contrast, core_at_least) < max(MIN_MARK_PX, MIN_MARK * max(contrast.shape)):
        return np.zeros(contrast.shape, np.float32)
    return ink


def _longest_mark(ink: np.ndarray, contrast: np.ndarray, clear: float) -> int:
    """The longest side (pixels) of the largest mark of ``ink`` (0 if none), each mark taken with all the pixels
    joined to it whose ``contrast`` stands at ``clear`` or above (the grain's far end), not only its half-strength core.

    A thin stroke is fainter at its ends than along its middle (and a sub-pixel one fainter still): cut at half
    the cores' level, a five-digit hwd1000 number 40 px tall in a noisy 3000x2000 photo (a digit 12 px tall at the
    working size, 1.1% of its side, where the dust floor ``MIN_MARK`` is 1%) had no digit over 9 px, and the
    photo read as blank. Where a mark stands clear of the grain is where its true extent ends.
    """
    seeds = ink > 0.5
    marks = components.label(seeds | (contrast >= clear))
    seeded = np.unique(marks.labels[seeds])
    seeded = seeded[seeded > 0]
    return int(marks.longest_sides()[seeded - 1].max()) if seeded.size else 0


def _without_lighting_edges(ink: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """Drop the marks that are one side of an edge in the lighting (a hard shadow's), not strokes.

    A stroke is darker than the paper all around it. Where the lighting surface smooths over a
    hard shadow's edge, the shaded paper along the edge reads as a band of ink (or a row of dashes),
    and beyond it, on the shaded side, the paper is as dark as the band: a ring around the mark that
    is, over a good part of it, no lighter than the mark marks an edge. Marks whose rings touch are judged
    together (a band and its crumbs). Measured on 288 synthetic blank pages with a
    hard shadow across (400-1600 px, drops of 25-80 levels): 92 showed ink without this, none with it.
    """
    # In a large photo, judged without the page's rules: a sliver left along a sharp edge was one group with
    # the rules it crosses, whose rings are in the light, and stayed (a column of 1s); the rules go later
    # anyway. (In a small photo the band along the edge is wide, and the rule search took it for a rule.)
    large = max(ink.shape) >= NEAR_PAPER_MIN_SIDE
    mask = (remove_rules(ink, 0.5) if large else ink) > 0.5
    if not mask.any():
        return ink
    x0, y0, x1, y1 = box_of(mask)
    width = max(1, round(stroke_width(mask)))
    near, far = width + 1, 2 * width + 3  # the ring: beyond the stroke's anti-aliasing, within a stroke's reach
    h, w = mask.shape
    crop = (slice(max(0, y0 - far), min(h, y1 + far)), slice(max(0, x0 - far), min(w, x1 + far)))
    mask, gray = mask[crop], gray[crop]
    reach = rank_filter(mask, far)
    groups = components.label(reach)
    labels = groups.labels.ravel()
    count = groups.count + 1
    rings = reach & ~rank_filter(mask, near)
    ring = np.flatnonzero(rings)
    # In a large photo the lighting follows a shadow's edge (``_paper_level``: the nearby paper), and
    # what is left of a band is a sliver: each ring pixel is compared with the ink within a stroke's
    # reach of it. Compared with the whole mark's median, a faint rule running from the light into
    # the shade (in the light about as dark as the shaded paper) was taken for an edge, and erased
    # with the words it touched. In a smaller photo the band is wide, most of its group: its median.
    if large:
        level = _box_sums(gray, mask, far) / np.maximum(_box_sums(1, mask, far), 1)
    else:
        inside = np.flatnonzero(mask)
        level = _group_medians(gray.ravel()[inside], labels[inside], count)[groups.labels]
    dark_nearby = rings & (gray <= (1.0 + EDGE_LEVEL_GAP) * level)
    dark = dark_nearby.ravel()[ring]
    gray_ring = gray.ravel()[ring]
    dark_count, ring_count = np.bincount(labels[ring], dark, count), np.bincount(labels[ring], minlength=count)
    edge = (dark_count >= EDGE_RING_DARK * ring_count) & (ring_count > 0)  # no ring (ink to the image's edges): a stroke
    edge[0] = False
    # What stands well below the shaded paper (the dark ring's level) is still ink: a character
    # drawn across the edge, or beside it, which the band has swallowed.
    shade = np.bincount(labels[ring], np.where(dark, gray_ring, 0.0), count) / np.maximum(dark_count, 1)
    on_edge, shade = edge[groups.labels], shade[groups.labels]
    if not on_edge.any():
        return ink
    kept = on_edge & mask & (gray <= (1.0 - EDGE_INK_GAP) * shade)
    pieces = components.label(kept)
    dots = np.concatenate([[False], pieces.areas < max(3.0, 0.5 * width * width)])  # noise in the band, not ink
    ink = ink.copy()
    ink[crop][on_edge & (~kept | dots[pieces.labels])] = 0.0
    return ink


def _box_sums(values, where: np.ndarray, radius: int) -> np.ndarray:
    """The sum of ``values`` (an array, or one number) over the ``where`` pixels in the square of ``radius`` around each pixel."""
    return window_sums(np.pad(np.where(where, values, 0).astype(np.float64), radius), 2 * radius + 1)


def _group_medians(values: np.ndarray, groups: np.ndarray, count: int) -> np.ndarray:
    """The median of ``values`` in each group 0..count-1 (0.0 for an empty group)."""
    order = np.lexsort((values, groups))
    sizes = np.bincount(groups, minlength=count)
    starts = np.cumsum(sizes) - sizes
    medians = np.zeros(count, np.float64)
    present = sizes > 0
    medians[present] = values[order[starts[present] + sizes[present] // 2]]
    return medians


FRAME_EDGE = 0.1  # a mark around the image, along this share of its edge or more, is a table or a frame (remove_specks)


def remove_specks(ink: np.ndarray) -> np.ndarray:
    """Zero the marks smaller than a pen dot (area < half the squared stroke width), with their haze.

    The largest mark always stays. Faint anti-aliased pixels survive only next to a kept mark.
    """
    mask = ink > 0.5
    found = components.label(mask)
    if found.count == 0:
        return np.zeros(ink.shape, np.float32)
    width = stroke_width(mask)
    smallest = np.full(found.count, max(3.0, 0.5 * width * width))
    # A table or a frame along the image's edges (dropped later, ``outside_the_page``) is no pen: measured with
    # the writing, its width made every thin digit of a page filling the photo a speck (the page read as
    # nothing). The writing is measured without it; near it (as far as it is wide), where the page's own edge
    # leaves slivers, marks are still judged by the width with it.
    edge = np.concatenate([found.labels[0], found.labels[-1], found.labels[1:-1, 0], found.labels[1:-1, -1]])
    x0, y0, x1, y1 = found.boxes.T
    around = (x0 == 0) & (y0 == 0) & (x1 == ink.shape[1]) & (y1 == ink.shape[0])  # a frame, not a corner's wedge
    framing = np.bincount(edge, minlength=found.count + 1) >= FRAME_EDGE * edge.size
    framing[0] = False
    framing[1:] &= around
    frame = framing[found.labels]
    if frame.any() and not frame[mask].all():
        pen = stroke_width(mask & ~frame)
        near = np.bincount(found.labels[rank_filter(frame, math.ceil(width)) & ~frame], minlength=found.count + 1)[1:] > 0
        smallest[~near] = max(3.0, 0.5 * pen * pen)
    keep = found.areas >= smallest
    keep[np.argmax(found.areas)] = True
    kept = np.concatenate([[False], keep])[found.labels]
    return np.where(rank_filter(kept, 2), ink, 0.0).astype(np.float32)


def _paper_grid(paper: np.ndarray) -> Image.Image:
    """The paper's brightness on a coarse grid (an 'L' image of 16 to 32 cells a side).

    The brightest pixel of each cell is paper (strokes are thinner than a cell). A cell wholly
    covered by a fat stroke has a dark maximum: a closing (max, then min) over a sixteenth of the
    image lifts it to its neighbours'. A max alone would also push bright paper into every shadow,
    and the shadowed paper along its edge would then read as a thick stroke.

    Cells are a sixteenth of the image, but at most 20 px or a thirty-second of it: across a
    shadow's edge a cell's brightest pixel is on the lit side, and in a large photo a sixteenth is
    wide enough for the rest of the cell to read as ink (a fifth of a 1024-pixel page with a
    40-pixel digit on it).
    """
    h, w = paper.shape
    reach = max(8, round(max(h, w) / 16))  # the closing's reach: strokes up to about this wide are lifted
    cell = min(reach, max(20, round(max(h, w) / 32)))
    # cell maxima (the last row and column of cells may be narrower); reduceat is ~3x faster than reshape + max
    maxima = np.maximum.reduceat(np.maximum.reduceat(paper, np.arange(0, w, cell), axis=1), np.arange(0, h, cell), axis=0)
    grid = Image.fromarray(np.ascontiguousarray(maxima))
    size = int(3 * reach / cell) | 1  # odd, and at least three times the reach across
    closed = grid.filter(ImageFilter.MaxFilter(size)).filter(ImageFilter.MinFilter(size))
    # Only cells far darker than the closing are strokes to lift; paper in shade is kept as it is
    # (a closing this wide would also lift a shadow narrower than it).
    lifted = np.where(maxima < INK_CELL * np.asarray(closed, np.float32), np.asarray(closed), maxima)
    return Image.fromarray(np.ascontiguousarray(lifted.astype(np.uint8)))


def _uneven(grid: Image.Image) -> bool:
    """Whether the paper's brightness varies across the grid by more than 8% of the range."""
    values = np.sort(np.asarray(grid), axis=None)  # 95th minus 5th percentile, without np.percentile's overhead
    last = values.size - 1
    return values.size >= 9 and int(values[round(0.95 * last)]) - int(values[round(0.05 * last)]) >= 0.08 * 255


def _paper_level(paper: np.ndarray, grid: Image.Image | None = None) -> np.ndarray | float:
    """The brightness (0..255) of the bare paper: per pixel if the lighting is uneven, else one number.

    A smooth surface through the paper grid (``_paper_grid``; pass it if it is already made) is the lighting.
    """
    h, w = paper.shape
    grid = _paper_grid(paper) if grid is None else grid
    if not _uneven(grid):
        return float(np.median(np.asarray(grid)))
    surface = grid.filter(ImageFilter.GaussianBlur(1.0)).resize((w, h), Image.Resampling.BILINEAR)
    surface = np.asarray(surface, dtype=np.float32)
    if max(h, w) < NEAR_PAPER_MIN_SIDE:
        return surface
    near = _nearby_paper(paper, 2)
    # Where the two agree to within NEAR_PAPER_GAP, the surface's excess is the lighting it smoothed
    # over (a shadow's edge); where the nearby paper is far darker, the window lies inside a stroke,
    # or in the shade of a hard shadow deeper than NEAR_PAPER_GAP. A shadow's shade stays dark over a
    # window four times as wide (SHADE_WINDOWS), where such a window takes in the paper around a stroke.
    trusted = near >= (1.0 - NEAR_PAPER_GAP) * surface
    # (its min reaching twice as far: the shade's side of its edge, also where a shadow meets the
    # image's border at a slant, and the window there, cut by the border, misses the shade beyond it)
    wide = _nearby_paper(paper, 2 * SHADE_WINDOWS, darker_reach=2)
    trusted |= (near >= (1.0 - NEAR_PAPER_GAP) * wide) & (near >= (1.0 - SHADE_MAX) * surface)
    # On the lit side of such an edge the surface falls short of the paper: there the paper is the nearby paper,
    # else the two agree to the paper's grain, and the lower is taken
    lit = near > (1.0 + SURFACE_SHORT) * surface
    return np.where(trusted, np.where(lit, near, np.minimum(near, surface)), surface)


def _nearby_paper(gray: np.ndarray, block: int, darker_reach: int = 1) -> np.ndarray:
    """The paper's level next to each pixel: a closing (max, then min) of the image over a small window.

    The grid's cells are as wide as strokes, so along a shadow's edge a cell's brightest pixel is on
    the lit side and the smooth surface through the cells stands up to a sixth above the shaded
    paper beside the edge: a wide band of faint ink (a fifth of a 1200x900 page at some angles).
    A closing leaves a ramp or an edge in the lighting where it is and fills strokes narrower than
    its window with the paper around them. Computed on ``block`` x ``block`` maxima (at 2: ~5 ms at
    1200x900); the window grows with the block. The min reaches ``darker_reach`` times as far as the max.
    """
    h, w = gray.shape
    small = gray
    if min(h, w) >= block:
        rows, columns = h // block, w // block
        small = gray[: rows * block, : columns * block].reshape(rows, block, columns, block).max(axis=(1, 3))
    radius = max(2, round(max(h, w) / (2 * NEAR_PAPER_SIDE)))
    closed = rank_filter(rank_filter(small, radius), darker_reach * (radius + 1) - 1, np.minimum)
    return np.asarray(Image.fromarray(np.ascontiguousarray(closed)).resize((w, h), Image.Resampling.BILINEAR), np.float32)
