"""A closer look at small writing in a large image.

Every image is read first at about 0.8 megapixels (``decode.WORK_PIXELS``): plenty for a few lines that
fill a photo, but a word written small in a 12-megapixel photo of a desk is then a few pixels tall, too
few for its strokes to stay apart. Where the characters of that first reading are small, or drawn with a pen
so thin there that a full stop is a pixel or two (and dropped as a speck), and the input has more pixels to
give, the readers decode the writing's region again at a finer scale and read it there.
The region and scale are chosen here; the decoding is ``decode.load_region_scaled``.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any, Callable

import numpy as np

from inkread.errors import InkreadError
from inkread.imaging.decode import WORK_PIXELS, load_region_scaled
from inkread.imaging import components
from inkread.imaging.dots import find_dot_grid, remove_known_grid
from inkread.imaging.rules import remove_rules
from inkread.imaging.segment import INK_THRESHOLD
from inkread.imaging.stroke import stroke_width
from inkread.inference.results import ReadResult

SMALL_PX = 20  # characters (their median height) shorter than this on the first ink map are looked at closer...
CLOSE_PX = 32  # ...at a scale that makes them about this tall (a model input fits a character to 20 of 28 px)
THIN_PEN_PX = 2.0  # writing whose pen is thinner than this on the first ink map is looked at closer too: there a
#                    full stop a pen wide is 1-3 pixels, as small as the specks the ink map drops ("7.41" in a 3 px
#                    pen, 100 px tall in a 4000x3000 photo, read "741")...
CLOSE_PEN_PX = 3.0  # ...at a scale that makes the pen about this wide (finer, a grainy photo's grain was read as
#                     characters; the pen is measured at least a pixel wide, so a thinner one is read finer still)
MARGIN_HEIGHTS = 2.0  # the region looked at reaches this many character heights beyond the characters read
CLOSE_PIXELS = 2 * WORK_PIXELS  # the region is read at no more than this many pixels (time and memory: linear in them)
DECODE_PIXELS = 12_000_000  # the whole image is decoded at no more than this many (a phone photo: 36 MB as RGB; PNGs are cut as decoded)
MIN_GAIN = 1.25  # a closer look must make the characters at least this much taller
READABLE_PX = 8  # ...and at least this tall: smaller, they are read no better, and a dot grid's dots read as
#                  characters (a first reading of 2 px "characters" all over a page) are read as ten times more garbage
EDGE_PX = 2  # a character within this many pixels of the region's edge (inside the image) is cut by it


def closer_look(result: ReadResult, scale: float, shape: tuple[int, int],
                pen: float | None = None) -> tuple[tuple[int, int, int, int], int] | None:
    """Where and how finely to read an image again: (region in the input's pixels, pixels to decode the whole
    image at), for ``decode.load_region_scaled``; None when the first reading stands.

    ``result`` is the first reading (boxes in the input's pixels), ``scale`` the input's pixels per pixel of
    the ink map it was read on, ``shape`` that map's (height, width), ``pen`` the width of its strokes there
    (``stroke.stroke_width``; None: not looked at).
    """
    characters = [c for c in result.characters if not c.punctuation]
    if scale <= 1 or not characters:
        return None
    height = statistics.median(c.box[3] - c.box[1] for c in characters)  # in the input's pixels
    thin = pen is not None and 0 < pen < THIN_PEN_PX  # (0: no ink on the map to measure it by)
    if height / scale >= SMALL_PX and not thin:
        return None
    width_in, height_in = shape[1] * scale, shape[0] * scale
    margin = MARGIN_HEIGHTS * height
    region = (max(0, int(min(c.box[0] for c in characters) - margin)), max(0, int(min(c.box[1] for c in characters) - margin)),
              min(int(width_in), math.ceil(max(c.box[2] for c in characters) + margin)),
              min(int(height_in), math.ceil(max(c.box[3] for c in characters) + margin)))  # inside (0, 0, int(w), int(h))
    area = (region[2] - region[0]) * (region[3] - region[1])
    wanted = min(height / CLOSE_PX, scale * pen / CLOSE_PEN_PX) if thin else height / CLOSE_PX
    closer = max(1.0, wanted, math.sqrt(area / CLOSE_PIXELS), math.sqrt(width_in * height_in / DECODE_PIXELS))
    if closer * MIN_GAIN > scale or height / closer < READABLE_PX:
        return None
    return region, max(WORK_PIXELS, round(width_in * height_in / closer ** 2))


def read_closer(source: Any, first: ReadResult, scale: float, first_ink: np.ndarray,
                read: Callable[[np.ndarray, float], ReadResult]) -> ReadResult:
    """``first``, the reading of ``source`` on ``first_ink`` at ``scale`` (``load_image_scaled``'s), or where its
    writing is small (``closer_look``), ``read(ink map, scale)`` of the writing's region looked at closer, its
    boxes in the input's pixels, without the lines the region's edges cut (and the characters its sides cut).
    The first reading stands if the closer one finds no character or fails."""
    shape = first_ink.shape
    look = closer_look(first, scale, shape, characters_pen(first, scale, first_ink) if scale > MIN_GAIN else None)
    if look is None:
        return first
    # Looked at for its thin pen alone, the writing was read at a good size: only its marks can be missed. A closer
    # reading with other characters than it found is the grain of a noisy photo read as characters.
    same_characters = closer_look(first, scale, shape) is None
    region, _ = look
    # The dots of dotted paper are found on the whole page: the region holds too few of them to find its grid
    # in (the ink map of a small region takes most for dust), and those left were read as characters.
    grid = find_dot_grid(first_ink)
    try:
        ink, closer_scale, (x0, y0) = load_region_scaled(source, *look)
        if grid is not None:
            ink = remove_known_grid(ink, grid.seen_at(scale / closer_scale, (x0 / closer_scale, y0 / closer_scale)))
        closer = read(ink, closer_scale)
    except InkreadError:  # closer, more marks than a reading takes (a page of small writing, grain): the first stands
        return first
    kept = _not_cut(closer, ink.shape, closer_scale, region, (int(shape[1] * scale), int(shape[0] * scale)))
    if same_characters and _character_count(kept) != _character_count(first) and not _pieces_joined(first, kept):
        return first
    return kept.moved(x0, y0) if kept.characters else first


def _pieces_joined(first: ReadResult, closer: ReadResult) -> bool:
    """Whether ``closer`` holds fewer marks than ``first`` and no more characters more or fewer than the marks it
    lost: a thin stroke broken into specks at the first reading's scale, taken for colons and full stops (a 1-bit
    scan's "room" read ":r:om"), is whole again closer, where grain read closer makes characters and marks both."""
    lost = _mark_count(first) - _mark_count(closer)
    return lost > 0 and abs(_character_count(closer) - _character_count(first)) <= lost


def _mark_count(result: ReadResult) -> int:
    """How many punctuation marks ``result`` holds."""
    return sum(c.punctuation for c in result.characters)


def _character_count(result: ReadResult) -> int:
    """How many characters (not punctuation) ``result`` holds."""
    return sum(not c.punctuation for c in result.characters)


def characters_pen(result: ReadResult, scale: float, ink: np.ndarray) -> float:
    """The pen's width (``stroke_width``) on the ink map ``ink`` of ``result``'s characters (boxes in the input's
    pixels, ``scale`` of them to one of the map's): the largest mark in each character's box, the page's rules
    and dot grid taken out (as the segmenter takes them). Measured over the whole map, a photo's grain and the
    dots and rules of the paper made thick writing "thin" (1.0-1.9 px), and its closer look, at the photo's full
    resolution, read the grain as characters ('1043' as '111:31:211921122')."""
    mask = remove_rules(ink, INK_THRESHOLD) > INK_THRESHOLD  # the segmenter's own search, found again by its digest
    found = components.label(mask)
    largest = set()
    for character in result.characters:
        if character.punctuation:
            continue
        x0, y0, x1, y1 = (int(v / scale) for v in character.box)
        counts = np.bincount(found.labels[y0:y1 + 1, x0:x1 + 1].ravel(), minlength=found.count + 1)
        counts[0] = 0
        if counts.any():
            largest.add(int(np.argmax(counts)))
    return stroke_width(np.isin(found.labels, np.array(sorted(largest), dtype=np.int64))) if largest else 0.0


def _not_cut(result: ReadResult, shape: tuple[int, int], scale: float, region: tuple[int, int, int, int],
             size: tuple[int, int]) -> ReadResult:
    """``result`` (read on an ink map of ``shape`` cut to ``region`` of an image of ``size``, boxes in the image's
    pixels from the region's corner) without the lines that the region's edges inside the image cut, nor the
    characters that its sides cut: writing the first reading did not find (a page of small lines), not text."""
    edge = EDGE_PX * scale
    right, bottom = shape[1] * scale - edge, shape[0] * scale - edge
    cut_top, cut_bottom, cut_left, cut_right = region[1] > 0, region[3] < size[1], region[0] > 0, region[2] < size[0]
    cut_lines = {c.line for c in result.characters if (cut_top and c.box[1] <= edge) or (cut_bottom and c.box[3] >= bottom)}
    kept = [c for c in result.characters if c.line not in cut_lines and not (cut_left and c.box[0] <= edge)
            and not (cut_right and c.box[2] >= right)]
    if len(kept) == len(result.characters):
        return result
    numbers = {line: number for number, line in enumerate(sorted({c.line for c in kept}))}
    return ReadResult.of([dataclasses.replace(c, line=numbers[c.line]) for c in kept], ink_found=True)
