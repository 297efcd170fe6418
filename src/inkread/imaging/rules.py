"""Ruled lines: take the rules of lined or squared paper (and underlines), and the dots of dotted paper, out of an ink map.

A rule is a run of ink far longer than a character is wide: at least ``RULE_LENGTH`` of the
image's width (or height, for the vertical rules of squared paper and margins) and
``RULE_VS_CHARACTERS`` times the size of the characters (the marks left without it), or one of
``PAGE_RULES`` hairlines across the page (one character on lined paper is half the page wide). The runs are
found on the mask thickened by ``TILT`` of the width up and down, so a rule of a slightly tilted
photo, which steps a row every few dozen pixels, is still one run; rules tilted further (up to
``MAX_TILT_DEG``: a notebook photographed a little askew) are first made level by shearing the page,
each column shifted up or down by whole pixels, and the rule erased there is shifted back. A rule pixel is erased only where the ink it
belongs to is about as thick, across the rule, as the rule itself: where a stroke crosses the rule
or stands on it, the ink there runs on up or down, and it is kept, so characters written on the
line keep their feet. Only the rule's own rows are erased, and in them not a stroke lying along the rule
(thicker than the rule for a stretch) nor ink clearly darker than a faint rule. Left in, a rule joined
every character it touched into one glyph, and ruled paper was read as a single character.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np

from inkread.imaging import components
from inkread.imaging.dots import remove_dot_grid
from inkread.imaging.levels import weighted_median
from inkread.imaging.stroke import rank_filter, run_lengths

RULE_INK = 0.2  # rules are often fainter than the writing: found (and erased) down to this ink level
RULE_LENGTH = 0.9  # a rule runs (nearly) all the way across the image...
RULE_VS_CHARACTERS = 3.0  # ...and this many times the size of the characters
HAIRLINE = 40  # with nothing else on the page, a rule is at least this many times longer than thick
PAGE_RULES = 3  # this many hairlines across the page are ruled paper, whatever the writing's size
SEGMENT = 0.05  # pieces of the rule this share of the width long tell how thick it is
TILT = 0.01  # one run may step this share of the image's width up or down (at least 2 rows): a
             # rule tilted by up to about 1 degree in a photo is still one run
MAX_TILT_DEG = 8.0  # rules tilted further than TILT, up to this, are found by shearing them level
BRIDGE_MIN_WIDTH = 640  # a rule's gaps are bridged in images at least this wide (photos of a page)
PIECE = 0.2  # ...and there a rule may be broken into pieces this share of the width long or more (where a
             # faint rule crosses a shadow's edge), which together run RULE_LENGTH of it
RULE_ROW = 0.25  # a rule's row holds at least this share of the long runs of the rows near it (``_thin_as_the_rule``)
DARKER_THAN_RULE = 0.3  # ink this much darker than the rule's (at least) is not the rule's, if the rule is faint
CORNER = 0.03  # a tilted rule cut off by the page's edge is a rule if it crosses this share of the width


def remove_rules(ink: np.ndarray, ink_threshold: float = 0.5) -> np.ndarray:
    """``ink`` without its horizontal and vertical rules (``ink`` itself if it has none).

    ``ink_threshold`` is where the caller's ink begins: a foot that meets the rule only through
    fainter ink is not standing on it, and the rule under it goes too (else it is left as a dot).
    """
    mask = ink > RULE_INK
    # A rule runs nearly all the way across: without ink in that share of the columns (for the
    # vertical rules, the rows) there is none, and most drawings are done with in one pass. (A dot
    # grid's dots fill a fraction of the columns; its search costs a few ms a megapixel on a drawing,
    # 50-70 ms on a 0.8 MP page of grain or dots.)
    across, down = mask.any(axis=0).mean() >= RULE_LENGTH, mask.any(axis=1).mean() >= RULE_LENGTH
    if not (across or down):
        return remove_dot_grid(ink, ink_threshold)
    # A photo's ink is searched twice on its way to being read (for what lies beyond the page, then by
    # the segmenter): the last search's answer is kept, found again by a digest of the ink (2 ms
    # against 30-60 ms for the search on a ruled 1024 px page).
    key = (ink.shape, ink.dtype.str, ink_threshold, hashlib.blake2b(np.ascontiguousarray(ink), digest_size=16).digest())
    with _LAST_SEARCH_LOCK:
        last = _LAST_SEARCH[0]
    if last is not None and last[0] == key:
        erased = last[1]
        return ink if erased is None else np.where(erased, 0, ink).astype(ink.dtype, copy=False)
    cleaned = remove_dot_grid(ink, ink_threshold)  # a line of writing across dotted paper
    if across:
        cleaned = _remove_horizontal(cleaned, ink_threshold)
    if down:
        turned = np.ascontiguousarray(cleaned.T)
        upright = _remove_horizontal(turned, ink_threshold)
        if upright is not turned:
            cleaned = upright.T
    with _LAST_SEARCH_LOCK:
        _LAST_SEARCH[0] = (key, None if cleaned is ink else cleaned != ink)
    return cleaned


_LAST_SEARCH: list = [None]  # (the ink's key, the pixels erased or None) of the last search
_LAST_SEARCH_LOCK = threading.Lock()


def _remove_horizontal(ink: np.ndarray, ink_threshold: float) -> np.ndarray:
    cleaned = _remove_level(ink, ink_threshold)
    if cleaned is not ink:
        return cleaned
    slope = _tilted_rule_slope(ink > RULE_INK)
    if slope == 0.0:
        return ink
    rows, columns, shape = _shear(ink.shape, slope)
    level = np.zeros(shape, ink.dtype)
    level[rows, columns] = ink
    # Sheared, the page is a parallelogram: a rule that leaves it through the top or the bottom
    # runs across only the part of its row that holds the page (left in, such a piece joins the
    # characters it touches). Rows holding less than CORNER of the page's width hold no rule.
    inside = np.zeros(shape, bool)
    inside[rows, columns] = True
    across = inside.sum(axis=1).astype(np.float64)
    cleaned = _remove_level(level, ink_threshold, np.where(across >= CORNER * ink.shape[1], across, np.inf))
    return ink if cleaned is level else cleaned[rows, columns]


def _tilted_rule_slope(mask: np.ndarray, block: int = 4) -> float:
    """The slope (rows per column) of rules tilted by more than TILT, up to MAX_TILT_DEG, or 0.0.

    Tried on the mask shrunk ``block`` times, sheared by each slope in turn (a step moves the far
    end by one shrunk row): at the rules' slope their ink gathers in the fewest rows, and a rule is
    a row with ink nearly all the way across. The slope found is then refined on the mask itself,
    a row at the far end at a time: a rule cut off by the page's edge must lie level to be seen.
    """
    height, width = mask.shape
    small_height, small_width = height // block, width // block
    if small_width < 16 or small_height < 4 or mask.any(axis=0).mean() < RULE_LENGTH:
        return 0.0  # a character cropped to its ink, or no ink across the page: no rule to tilt
    # ink per block (not "any ink"): a rule stays as thin as a row where it lies level
    small = mask[:small_height * block, :small_width * block].reshape(small_height, block, small_width, block).sum(axis=(1, 3))
    steepest = int(np.ceil(np.tan(np.radians(MAX_TILT_DEG)) * small_width))
    coarse = _most_level(small, [step / small_width for step in range(-steepest, steepest + 1)])
    inked = _sheared(small > 0, coarse)
    inked[1:] |= inked[:-1].copy()  # a rule that steps a row between two shifts is one row
    if inked.sum(axis=1).max() < RULE_LENGTH * small_width:
        return 0.0  # no rule
    slope = _most_level(mask.astype(np.float64), [coarse + k / width for k in range(-block, block + 1)])
    return 0.0 if abs(slope) * width <= max(2, round(TILT * width)) else slope  # else the level search handles it


def _most_level(image: np.ndarray, slopes: list[float]) -> float:
    """The slope at which the image's ink gathers in the fewest rows: the row totals are most
    uneven (the deskew measure of document scanners). A tie goes to the smaller slope."""
    best, best_sharpness = 0.0, -1.0
    for slope in sorted(slopes, key=abs):
        sharpness = float((_sheared(image, slope).sum(axis=1, dtype=np.float64) ** 2).sum())
        if sharpness > best_sharpness * (1 + 1e-9):
            best, best_sharpness = slope, sharpness
    return best


def _sheared(image: np.ndarray, slope: float) -> np.ndarray:
    """``image`` with each column moved up by ``slope * column`` rows (see ``_shear``)."""
    rows, columns, shape = _shear(image.shape, slope)
    level = np.zeros(shape, image.dtype)
    level[rows, columns] = image
    return level


def _shear(shape: tuple[int, int], slope: float) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Index arrays that move each pixel of an image of ``shape`` up by ``slope * column`` rows
    (whole rows), into an image tall enough to hold them all: level[rows, columns] = image."""
    height, width = shape
    shifts = np.round(slope * np.arange(width)).astype(np.int64)
    rows = np.arange(height)[:, None] - shifts[None, :] + max(0, int(shifts.max()))
    columns = np.broadcast_to(np.arange(width)[None, :], (height, width))
    return rows, columns, (height + int(shifts.max() - shifts.min()), width)


def _remove_level(ink: np.ndarray, ink_threshold: float, row_widths: np.ndarray | None = None) -> np.ndarray:
    """``ink`` without its horizontal rules tilted by at most TILT; ``ink`` itself if it has none.

    ``row_widths`` (one per row, default the image's width) is how much of each row holds the page.
    """
    mask = ink > RULE_INK
    height, width = mask.shape
    if width < 20 or not mask.any():
        return ink
    tilt = max(2, round(TILT * width))
    if not _may_hold_a_rule(mask, tilt):
        return ink
    # on the mask thickened by ``tilt`` rows; in a photo of BRIDGE_MIN_WIDTH or more, with its gaps up
    # to ``tilt`` long bridged: a faint rule breaks where the light changes (a shadow's edge). In a
    # word's crop the strokes along its baseline, bridged, ran across it and were erased as a rule
    thick = _spread_rows(mask, tilt)
    large = width >= BRIDGE_MIN_WIDTH
    runs = run_lengths(_bridge_gaps(thick, tilt) if large else thick)

    def near_run_of(length) -> np.ndarray:
        """Pixels within ``tilt`` rows of a (thickened) run at least ``length`` long."""
        return _spread_rows(runs >= length, tilt)

    rule_length = RULE_LENGTH * (width if row_widths is None else row_widths[:, None])
    on_a_rule = runs >= rule_length
    if large:
        on_a_rule |= _broken_rule(runs, rule_length, PIECE * width)
    candidate = mask & _spread_rows(on_a_rule, tilt)  # the rule, and the ink near it
    if not candidate.any():
        return ink
    # The rule itself: ink as thin across as the rule, connected to its long flat pieces (a
    # tilted rule steps a row every 1/tan(angle) pixels). Where a stroke crosses the rule or stands
    # on it, the ink is thicker across than the rule, so it stays; a stroke near the rule but not
    # touching it is not connected to it, so it stays too.
    thin, darker, flat, rule_width = _thin_as_the_rule(ink, mask, candidate, ink_threshold, tilt)
    # The rule's rows and its soft edges: what lies beyond them is not the rule's. Between its flat pieces a thin
    # tilted rule drifts by a row at most. (Not on a page sheared level: the anti-aliased rows of its thin rules
    # wobble, the wobble's crumbs were left in, and read as 7s and 2s.)
    band = _spread_rows(_spread_rows(flat.T, round(SEGMENT * width)).T, 1)
    rule_like = thin & ~darker
    erase = _connected_to(rule_like, rule_like & flat)
    if row_widths is None:
        erase &= band
    erase &= ~_strokes_along_the_rule(erase, ink > ink_threshold, flat, band)
    # A rule is much longer than the characters are big: measure them on the marks left without it.
    rest = components.label(mask & ~erase)
    sizes = rest.longest_sides()
    if rest.count == 0 or sizes.max() < 3 * rule_width:
        # Nothing but crumbs left: blank lined paper (hairlines across the page), or the writing
        # itself (a 1 cropped to its ink: a stroke, not a hairline; nor is one stroke alone, however
        # thin: a fine pen's 1 cropped tight is 50 times taller than wide).
        if RULE_LENGTH * width < HAIRLINE * rule_width or components.label(erase).count == 1:
            return ink
    elif not _ruled_page(erase, rule_width, row_widths, tilt):
        char_size = weighted_median(sizes, rest.areas)  # crumbs of the rule hardly count
        long_enough = RULE_VS_CHARACTERS * char_size
        if row_widths is not None:  # a tilted rule cut off by the page's edge: as long as its row allows
            long_enough = np.where(row_widths[:, None] < width, np.minimum(long_enough, rule_length), long_enough)
        erase &= near_run_of(long_enough)
    if not erase.any():
        return ink
    # Bits of the rule left between strokes too close together to tell its thickness: marks made
    # only of thin rule-band ink would be read as periods (a real period is thicker than the rule).
    # Strokes standing on the rule keep their feet.
    left = components.label(mask & ~erase)
    outside = np.bincount(left.labels[mask & ~erase & ~thin], minlength=left.count + 1)
    erase |= (left.labels > 0) & (outside[left.labels] == 0)
    return np.where(erase, 0.0, ink).astype(ink.dtype, copy=False)


def _thin_as_the_rule(ink: np.ndarray, mask: np.ndarray, candidate: np.ndarray,
                      ink_threshold: float, tilt: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(the candidate pixels no thicker across than the rule, those of them clearly darker than a faint rule, the
    long flat pieces of the rule, the rule's width).

    The flat pieces lie in the rule's own rows: those holding most of the long runs near them (as far as the
    candidates reach, twice ``tilt`` rows). A character's flat stroke near the rule (a 9's foot just above it)
    is a long run too, but its row holds a fraction of the rule's. Where the rule is faint to the reader (the
    writing is most of the ink), ink clearly darker than the rule is a stroke lying in it, not the rule.
    A function of its own so that its run-length maps (4 bytes a pixel each) are freed on return.
    """
    own = run_lengths(mask)
    solid = ink > ink_threshold
    across = np.where(solid, run_lengths(solid.T).T, run_lengths(mask.T).T)
    flat = candidate & (own >= SEGMENT * mask.shape[1])
    in_rows = np.count_nonzero(flat, axis=1)[:, None]
    most_near = rank_filter(in_rows, 2 * tilt)  # as far as the candidates reach: ``tilt`` rows from the thickened run
    flat &= in_rows >= RULE_ROW * most_near
    on_rule = flat if flat.any() else candidate
    rule_width = float(np.median(across[on_rule]))
    level = ink[on_rule]
    median = float(np.median(level))
    rule_darkest = median + max(DARKER_THAN_RULE, 4.0 * float(np.median(np.abs(level - median))))
    thin = candidate & (across <= rule_width + 1)
    return thin, thin & (ink > rule_darkest), flat, rule_width


def _strokes_along_the_rule(erase: np.ndarray, solid: np.ndarray, flat: np.ndarray, band: np.ndarray) -> np.ndarray:
    """The pixels of ``erase`` where a stroke lies along the rule, in it: the foot of a 2, the bottom of a 3 or a 6
    written on the line with a pen as thin as the rule.

    Lying in the rule, such a stroke adds little to the rule's thickness (a row or two), within what the rule
    test allows for noise, and erased with the rule it was cut off: the 6 came apart into "10", a 3's tail
    was read as a full stop. It is where the solid ink of the rule's ``band`` (its rows and the row either
    side) is thicker across than the rule's long flat pieces, for a stretch of more than twice the rule's width
    along it: noise thickens a rule a column or two at a time. Those columns keep the rule's ink too, so the
    stroke stays whole. (Thicker than the rule is in nine columns of ten, a photo's noise allowed for, was tried:
    a 2 px pen's foot lying in a 2 px rule of a noisy page went with the rule again, "4419 07.310".)
    """
    in_band = band & solid
    if not (in_band & flat).any():
        return np.zeros_like(erase)
    across = run_lengths(in_band.T).T
    width = float(np.median(across[in_band & flat]))  # the rule's own thickness
    reach = int(np.ceil(width))
    thicker = _spread_rows(in_band & (across > width), reach)
    stretches = run_lengths(thicker) > 2 * width
    return erase & _spread_rows(stretches & thicker, reach + 1)


def _connected_to(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The pixels of ``mask``'s 8-connected components that hold a pixel of ``seeds`` (within ``mask``)."""
    pieces = components.label(mask)
    seeded = np.bincount(pieces.labels[seeds], minlength=pieces.count + 1) > 0
    seeded[0] = False
    return seeded[pieces.labels]


def _ruled_page(erase: np.ndarray, rule_width: float, row_widths: np.ndarray | None, tilt: int) -> bool:
    """Whether the rules found are a ruled page's: ``PAGE_RULES`` hairlines, each erased along at
    least half the page's width (writing crossing a rule keeps its part of it; so do the crossings
    of squared paper's columns).

    Then a rule need not be ``RULE_VS_CHARACTERS`` times the characters' size: one character
    photographed on lined paper is half the page's width, but no stroke of it is a hairline
    running across the page beside two others.
    """
    width = erase.shape[1]
    if RULE_LENGTH * width < HAIRLINE * rule_width:
        return False
    # thickened by ``tilt`` rows, a rule that steps a row or two lies whole in one row; a sheared
    # page's rows hold less of it (``row_widths``, infinite where a row holds no rule)
    page = 0.5 * np.asarray(width if row_widths is None else row_widths, np.float64)
    # ...but rules closer together than the thickening merge into one band (5 mm squares in a large
    # photo): level rules are counted row by row too
    bands = (components.count_runs(_spread_rows(erase, tilt).sum(axis=1) >= page),  # runs of such rows
             components.count_runs(erase.sum(axis=1) >= page))
    return max(bands) >= PAGE_RULES


def _may_hold_a_rule(mask: np.ndarray, tilt: int, block: int = 4) -> bool:
    """A quick look at the mask shrunk ``block`` times (any ink in a block): is a run long enough there?

    A rule stays a long run when shrunk, so most pages without rules are done in a millisecond.
    """
    height, width = mask.shape[0] // block, mask.shape[1] // block
    if height < 8 or width < 8:
        return True
    small = mask[:height * block, :width * block].reshape(height, block, width, block).any(axis=(1, 3))
    runs = run_lengths(_spread_rows(small, max(1, tilt // block)))
    if (runs >= RULE_LENGTH * width - 1).any():
        return True
    return width * block >= BRIDGE_MIN_WIDTH and bool(_broken_rule(runs, RULE_LENGTH * width - 1, PIECE * width).any())


def _broken_rule(runs: np.ndarray, rule_length: np.ndarray | float, piece: float) -> np.ndarray:
    """The pixels of runs at least ``piece`` long in rows where such runs together are ``rule_length`` long:
    a rule broken in a few places (a faint rule fades where it crosses a shadow's edge, over more than a
    gap to bridge). Writing has no such pieces: a fifth of a photo's width is several words."""
    pieces = runs >= piece
    covered = np.count_nonzero(pieces, axis=1)
    return pieces & (covered[:, None] >= rule_length)


def _bridge_gaps(mask: np.ndarray, gap: int) -> np.ndarray:
    """``mask`` with the gaps along its rows at most ``gap`` long filled (a closing along the rows)."""
    half = (gap + 1) // 2
    return ~_spread_rows(~_spread_rows(mask.T, half), half).T


def _spread_rows(mask: np.ndarray, rows: int) -> np.ndarray:
    """``mask`` thickened by ``rows`` rows up and down (in doubling steps: log2(rows) passes)."""
    down, up, reach = mask.copy(), mask.copy(), 0
    while reach < rows:
        step = min(reach + 1, rows - reach)  # each pass reaches as far again, up to ``rows``
        down[step:] |= down[:-step].copy()
        up[:-step] |= up[step:].copy()
        reach += step
    return down | up
