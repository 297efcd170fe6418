"""Cut an ink map holding several characters into lines of glyphs, ready for ``normalize``.

0. Rules of lined or squared paper, and underlines, are taken out (``inkread.imaging.rules``).
1. Connected components of the ink (``inkread.imaging.components``); specks are dropped.
2. Lines: components at least half the typical character height define line bands, top to
   bottom (bands side by side that overlap vertically are one line: a word sloping down, a long
   descender); smaller ones (dots, accents, commas) join the band they are closest to.
3. Glyphs: within a line, components that overlap strongly horizontally belong to one character
   (the dot of an i or j, a T whose bar was lifted, a 5 drawn in two strokes), and so does a flat
   stroke level with the top of its neighbour (the bar of a 5 or 7 drawn off to the side).
4. Strokes apart: given a ``choose_joins`` (a recognizer's), neighbouring glyphs close together (the
   stem of a B drawn apart from its bowl, an M in three strokes) are offered to it one by one and
   together, and it groups them into characters.
5. Touching characters: a glyph much wider than the line's typical character holds about
   width / typical width characters. It is cut at the columns with the least ink near multiples of
   the typical width or, given a ``choose_cuts`` (a recognizer's), into that many pieces (or fewer,
   or one more) at the candidate columns (local minima of the ink per column) whose pieces that
   recognizer reads best.
6. Spaces: a gap wider than half the line's character height starts a new word.

Periods, commas, dashes and colons are told by their shape and place in the line
(``inkread.imaging.punctuation``): they are kept apart from the characters they overlap, never cut,
left out of the line's typical sizes, and handed on with their ``Glyph.mark`` set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np

from inkread.errors import InputImageError
from inkread.imaging import components, punctuation
from inkread.imaging.levels import weighted_median
from inkread.imaging.rules import remove_rules
from inkread.imaging.stroke import disc_share, is_blob, rank_filter, stroke_width

INK_THRESHOLD = 0.5  # pixels above this are ink for the component analysis
TALL_PART = 1.8  # a part this many character heights tall does not make a line's band (see _group_lines)
FLAT = 3.0  # a mark this many times wider than tall, and at most this many pens, is flat: a bar
FAINT_INK = 0.3  # parts joined by ink above this are pieces of one stroke (a faint 6's foot), never punctuation
MERGE_OVERLAP = 0.5  # same glyph if the horizontal overlap covers this share of the narrower part
SPACE_GAP = 0.5  # a word gap is wider than this many character heights...
SPACE_VS_TYPICAL = 1.8  # ...and, in a line of 4+ characters, this many times the line's median gap
NARROW_CELL = 0.75  # for gaps, a glyph is at least this share of the line's median width wide
SPLIT_WIDTH = 1.7  # a glyph wider than this many typical character widths...
SPLIT_ASPECT = 1.4  # ...and this many times its own height holds touching characters
DEFAULT_ASPECT = 0.75  # typical width / height of a handwritten character (MNIST: 16 / 20 px)
MARGIN = 1  # pixels of anti-aliased edge kept around each glyph
SIDE_BY_SIDE = 0.5  # two bands overlapping horizontally by less than this share of the narrower...
LEVEL_ENOUGH = 0.25  # ...and vertically by at least this share of the lower one are one line
TOP_BAR_HEIGHT = 0.3  # a flat stroke at most this many character heights tall...
TOP_BAR_LEVEL = 0.3  # ...centred in the top 30% of a glyph...
TOP_BAR_GAP = 0.15  # ...and at most this many character heights to its side is that glyph's bar
MIN_PIECE = 0.15  # candidate cuts are at least this many line heights apart, and from the ends
MIN_PIECE_PX = 3  # ...and never closer than this many pixels
MIN_SPLIT_HEIGHT_PX = 8  # a glyph less tall than this is one mark (a dash, a rule), never several characters
# More marks than this is not handwriting to read (a grid, broken rules): a page of writing, 25 lines of 40
# characters with their dots and crossings, stays below it. (500, predict's limit, refused a printed page.)
MAX_GLYPHS = 2500
FLAT_SHARE_OF_RULES = 0.2  # more than MAX_MARKS marks, this share of them flat: ruled paper broken into dashes

SMALL_REACH = 1.0  # small parts farther than this many character heights from every line, in a row, are a line of their own
WRITTEN_REACH = 0.5  # ...and two or more that are written (no dots or dashes) this far: small writing between two lines
AMBIGUOUS_ASPECT = 0.9  # with a chooser, glyphs wider than this many line heights may be two characters...
MIN_SPLIT_PIECE = 0.35  # ...each at least this many line heights wide (a sliver off a wide 0 reads as a 1),
# and no glyph is ever cut if it is a blob (stroke.is_blob: a dot's halves read as "11", a scribble's as "921")
# choose_cuts(ink, candidates, counts) -> some of the candidate columns: where to cut the ink
# (float (H, W), one glyph's own ink) of touching characters into as many pieces as one of ``counts``
# says (the first is what the width suggests); or None to leave it to the width rule.
CutChooser = Callable[[np.ndarray, list[int], tuple[int, ...]], Optional[list[int]]]
# choose_joins(count, spans, inks, overlaps) -> the spans (i, j) that group ``count`` neighbouring glyphs
# into characters; ``spans`` offers glyphs i..j-1 as one, ``inks`` their ink together, ``overlaps`` how
# far their boxes already say so (see _join_strokes). None to leave every glyph as it is.
JoinChooser = Callable[[int, list[tuple[int, int]], list[np.ndarray], list[float]], Optional[list[tuple[int, int]]]]
MIN_SKEW, MAX_SKEW = 3.0, 12.0  # lines sloping this many degrees are grouped along their slope (at most this many)
SKEW_GAIN = 1.3  # ...where their rows gather this much more than level ones (the sum of squared row counts)
SKEW_STEP = 2  # the slope is measured on every second pixel of each second row
JOIN_GAP = 0.03  # glyphs whose boxes meet, overlap or nearly meet (a thin 0 broken at its top) may be one character...
JOIN_WIDTH = 1.2  # ...at most this many line heights wide together...
JOIN_PARTS = 3  # ...and made of at most this many glyphs


@dataclass
class Glyph:
    """One character found by ``segment``.

    ``box`` is (x0, y0, x1, y1) in the input image's pixel coordinates, ends exclusive (like a
    PIL crop box); ``ink`` is the float32 ink-high crop of that box holding this glyph's ink only
    (neighbours that reach into the box are blanked); ``space_before`` marks the start of a word.
    ``mark`` is one of ``punctuation.MARKS`` (".", ",", "-", ":", ";", "\u2022" a bullet) for punctuation (not
    to be read by a model), else None.
    ``cut_from`` is shared by glyphs cut apart from one piece of ink (characters that touch), and
    unique to that piece in the image; None for a glyph that was not cut. ``joined``: grouped from
    pieces of ink the join chooser read best as one character (they may still be several).
    """

    box: tuple[int, int, int, int]
    ink: np.ndarray = field(repr=False)
    space_before: bool = False
    mark: Optional[str] = None
    cut_from: Optional[int] = None
    joined: bool = False


@dataclass
class _Part:
    """A group of components (one glyph candidate) and its box (x0, y0, x1, y1)."""

    members: list[int]
    box: list[int]
    mark: Optional[str] = None
    faint: set = field(default_factory=set)  # the faint-ink components (FAINT_INK) its ink belongs to
    joined: bool = False  # grouped from several by a JoinChooser: never cut again
    cut_from: Optional[int] = None  # see Glyph.cut_from

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def centre_y(self) -> float:
        return (self.box[1] + self.box[3]) / 2


def segment(ink: np.ndarray, choose_cuts: Optional[CutChooser] = None,
            choose_joins: Optional[JoinChooser] = None) -> list[list[Glyph]]:
    """Lines (top to bottom) of glyphs (left to right) in an ink map (float (H, W), ink high).

    ``choose_cuts`` picks where touching characters are cut (see ``CutChooser``); without it, the
    cuts are the columns with the least ink near multiples of the typical character width.
    ``choose_joins`` groups strokes drawn apart into characters (see ``JoinChooser``); without it,
    only strokes that overlap (or a bar lifted off the top) make one character.
    A blank image gives ``[]``.
    """
    ink = remove_rules(np.asarray(ink, dtype=np.float32), INK_THRESHOLD)
    mask = ink > INK_THRESHOLD
    found = components.label(mask)
    if found.count == 0:
        return []
    if found.count > MAX_GLYPHS + components.MAX_SPECKS:  # before the pen's width is measured over them all
        raise _too_many_glyphs()
    width = stroke_width(mask)
    # Specks: smaller than half a pen dot. The largest mark is never a speck.
    keep = found.areas >= max(2.0, 0.3 * width * width)
    keep[np.argmax(found.areas)] = True
    # counted before the specks go: noise dropped as specks left its few clumps to read as text ("2 / 8182")
    if found.count - np.count_nonzero(keep) > components.MAX_SPECKS:
        raise components.too_many_specks()
    # Each component's faint-ink component: every ink pixel of one component lies in the same one.
    faint_of = np.zeros(found.count, np.int64)
    faint_of[found.labels[mask] - 1] = components.label(ink > FAINT_INK).labels[mask]
    parts = [_Part([i], [int(v) for v in found.boxes[i]], faint={int(faint_of[i])}) for i in np.flatnonzero(keep)]
    # Typical character height: area-weighted, so dots and fragments hardly count; flat marks (a
    # dash, the bar of a T drawn apart) not at all, unless there is nothing else.
    flat = [p.width >= FLAT * p.height and p.height <= FLAT * width for p in parts]  # one stroke across
    # A page of writing may hold more marks than a character (predict's MAX_MARKS), hardly any of them flat
    # (under 1% in a page of print); a fifth or more flat is rules broken into dashes, with or without
    # writing between them (read, it came out as "aa tlejundpsdeg"). More than MAX_GLYPHS is no page to read.
    if len(parts) > MAX_GLYPHS:
        raise _too_many_glyphs()
    if len(parts) > components.MAX_MARKS and sum(flat) >= FLAT_SHARE_OF_RULES * len(parts):
        raise components.too_many_marks()
    upright_anywhere = not all(flat)  # without any upright mark, there is no line height to judge dashes by
    upright = [k for k in range(len(parts)) if not flat[k]] or list(range(len(parts)))
    char_height = weighted_median(np.array([parts[k].height for k in upright]), found.areas[keep][upright])

    lines, count = [], 0
    for line in _group_lines_on_a_slope(parts, char_height, lambda part: _solid_heads(part, found, ink), mask):
        if len(line) >= punctuation.GUIDE_MARKS and upright_anywhere and \
                all(p.height <= min(FLAT * width, 0.5 * char_height) for p in line):
            continue  # a row of dots and dashes alone, away from the writing: a rule broken up in a photo, a guide line
        body = punctuation.body_of([p.box for p in line if p.height >= 0.5 * char_height])
        glyphs = _merge_overlapping(line, char_height, body)
        if body is not None:
            for glyph in glyphs:
                glyph.mark = punctuation.kind(glyph.box, body, [found.boxes[m] for m in glyph.members])
                if glyph.mark is None and len(glyph.members) == 1 and punctuation.firm_dot(glyph.box, body) \
                        and is_blob(_own_ink(glyph, found.labels, ink)):
                    glyph.mark = "."  # a full stop pressed hard, or grown by a photo's blur
            _mark_firm_commas_and_colons(glyphs, body, found, ink)
            first = glyphs[0]
            if first.mark is None and len(first.members) == 1 and \
                    punctuation.bullet(first.box, body, glyphs[1].box if len(glyphs) > 1 else None) \
                    and is_blob(_own_ink(first, found.labels, ink)):
                first.mark = punctuation.BULLET
            for glyph in glyphs:
                if not upright_anywhere and glyph.box[2] - glyph.box[0] >= FLAT * (glyph.box[3] - glyph.box[1]):
                    glyph.mark = "-"  # nothing but flat strokes on the page: no letter or digit is one
            marks = [glyph.mark for glyph in glyphs if glyph.mark]
            guide = punctuation.guide_line(marks, characters=len(glyphs) - len(marks))
            glyphs = [glyph for glyph in glyphs if guide is None or glyph.mark != guide]  # a dotted line to write on
            if not glyphs:
                continue  # nothing but the guide line
        if choose_joins is not None:
            glyphs = _join_strokes(glyphs, found.labels, ink, choose_joins)
        glyphs = _split_wide(glyphs, found.labels, ink, choose_cuts, room=MAX_GLYPHS - count)
        count += len(glyphs)
        lines.append(_glyphs(glyphs, found.labels, ink))
        if lines[-1][0].mark == punctuation.BULLET:
            lines[-1][1].space_before = True  # "• 95": what a bullet heads is a word of its own
    return lines


def _mark_firm_commas_and_colons(glyphs: list[_Part], body: punctuation.Body, found: components.Components,
                                 ink: np.ndarray) -> None:
    """Label the line's commas, colons and semicolons pressed hard: placed and sized as such
    (``punctuation.firm_comma``, ``firm_colon``; a colon whose lower mark hangs as a comma is a semicolon), both in
    the whole line's ``body`` and among the characters beside them (in a sloping line the small letters at its low
    end, a c with a curl, an e, sit below the line's body as a comma does), each dot or comma head solid
    (``_solid_heads``).
    """
    def placed_as_one(glyph: _Part, members: list, body: Optional[punctuation.Body]) -> bool:
        return body is not None and (punctuation.firm_comma(glyph.box, body) if len(members) == 1
                                     else punctuation.firm_colon(glyph.box, body, members))

    characters = [glyph for glyph in glyphs if glyph.mark is None and glyph.height >= 0.5 * body.height]
    for glyph in glyphs:
        members = [found.boxes[m] for m in glyph.members]
        if glyph.mark is not None or not placed_as_one(glyph, members, body):
            continue
        left = [other for other in characters if other.box[0] < glyph.box[0] and other is not glyph]
        right = [other for other in characters if other.box[0] > glyph.box[0] and other is not glyph]
        beside = [max(left, key=lambda other: other.box[0])] if left else []
        beside += [min(right, key=lambda other: other.box[0])] if right else []
        if placed_as_one(glyph, members, punctuation.body_of([other.box for other in beside])) and _solid_heads(glyph, found, ink):
            glyph.mark = "," if len(members) == 1 else ";" if punctuation.semicolon_below(members, body) else ":"


def _solid_heads(part: _Part, found: components.Components, ink: np.ndarray) -> bool:
    """Whether each of the part's marks is mostly one solid disc (``punctuation.HEAD_SHARE`` of its ink or more):
    a comma's head or a colon's dots pressed hard, not a letter's strokes."""
    return all(disc_share(_own_ink(replace(part, members=[m]), found.labels, ink) > INK_THRESHOLD)
               >= punctuation.HEAD_SHARE for m in part.members)


def _too_many_glyphs() -> InputImageError:
    """The error for more than MAX_GLYPHS marks: a page of small writing is the likelier cause than for predict."""
    return InputImageError(f"more than {MAX_GLYPHS} marks to read (a page of small writing, or a grid, noise?): "
                           "crop the image to a part of the writing")


def may_hold_several(ink: np.ndarray, wide: float | None = None) -> bool:
    """True when the ink has an empty column or row inside its box (pieces apart), or, given ``wide``,
    when its box is more than ``wide`` times wider than tall (characters that touch, side by side).

    A cheap test before ``segment``: one character mostly holds together (an i's dot or a 5's bar
    drawn apart leave a gap too, and ``segment`` keeps those whole), and no digit is much wider than
    tall (an m or a w is: ``wide`` is for models of digits).
    """
    mask = np.asarray(ink) > INK_THRESHOLD
    extents = []
    for inked in (mask.any(axis=0), mask.any(axis=1)):
        where = np.flatnonzero(inked)
        if where.size == 0:
            return False
        if where.size < where[-1] - where[0] + 1:
            return True
        extents.append(where[-1] - where[0] + 1)
    return wide is not None and extents[0] > wide * extents[1]


def _group_lines(parts: list[_Part], char_height: float,
                 solid_head: Callable[[_Part], bool] = lambda part: False) -> list[list[_Part]]:
    """Lines of parts, top to bottom: big parts make the bands, small ones join the nearest band.

    A big part that hangs from a band as a comma does and has a comma's solid head (``solid_head``) joins it:
    a comma pressed hard is half a character tall or more, and its centre lies below the band.

    Parts more than TALL_PART character heights tall join the band they overlap most instead of
    making one: a descender run into the next line's ascender is one component two lines tall,
    and would otherwise pull both lines into one band.
    """
    big = sorted((p for p in parts if p.height >= 0.5 * char_height), key=lambda p: p.centre_y)
    small = [p for p in parts if p.height < 0.5 * char_height]
    tall = [p for p in big if p.height > TALL_PART * char_height]
    if len(tall) < len(big):  # a page of tall strokes alone makes its bands from them
        big = [p for p in big if p.height <= TALL_PART * char_height]
    else:
        tall = []
    bands: list[list[float]] = []  # [top, bottom] of each line
    lines: list[list[_Part]] = []
    for part in big:
        if bands:
            top, bottom = bands[-1]
            overlap = min(bottom, part.box[3]) - max(top, part.box[1])
            # Same line if its centre is inside the band or it overlaps the band by half its height.
            if top <= part.centre_y <= bottom or overlap >= 0.5 * min(part.height, bottom - top):
                bands[-1] = [min(top, part.box[1]), max(bottom, part.box[3])]
                lines[-1].append(part)
                continue
            if punctuation.firm_comma(part.box, punctuation.Body(top, bottom)) and solid_head(part):
                lines[-1].append(part)  # the band stays: grown by the tail, it would take in the next line's top
                continue
        bands.append([part.box[1], part.box[3]])
        lines.append([part])
    bands, lines = _join_side_by_side(bands, lines)
    if not lines:  # only small marks (e.g. a row of dots): one line
        return [sorted(small, key=lambda p: p.box[0])] if small else []
    line_of_tall = []
    for part in tall:
        overlaps = [min(bottom, part.box[3]) - max(top, part.box[1]) for top, bottom in bands]
        line_of_tall.append(int(np.argmax(overlaps)))
        lines[line_of_tall[-1]].append(part)
    bands, lines = _riders_joined(bands, lines, tall, line_of_tall)
    nearest, away = [], []
    for part in small:
        # Distance from the part's centre to each band (0 inside); ties go to the line below,
        # since dots and accents sit above their letters.
        distances = [max(top - part.centre_y, part.centre_y - bottom, 0.0) for top, bottom in bands]
        nearest.append(min(range(len(bands)), key=lambda i: (distances[i], -i)))
        away.append(distances[nearest[-1]] / char_height)
    # A row of small parts far from the writing is a line of its own (the crumbs of a rule broken up in
    # a photo made the line above six times as tall), and so are two or more that are no dots or dashes (small
    # digits under large ones were taken for their commas: "47,1,,95"), half as far too (a third as tall
    # as the lines, between two of them, they were their commas: "l,u,,nch"); one or two dots (an i's dot high
    # above) join the nearest.
    def written(part: _Part) -> bool:
        return part.width < FLAT * part.height and not solid_head(part)

    def written_row(row: list[_Part]) -> bool:
        return len(row) >= 2 and all(written(part) for part in row)

    rows = [row for row in _rows_of_small_parts([part for part, far in zip(small, away) if far > SMALL_REACH], char_height)
            if len(row) >= punctuation.GUIDE_MARKS or written_row(row)]
    taken = {id(part) for row in rows for part in row}
    rows += [row for row in _rows_of_small_parts([part for part, far in zip(small, away)
                                                  if far > WRITTEN_REACH and id(part) not in taken], char_height)
             if written_row(row)]
    own_line = {id(part) for row in rows for part in row}
    for part, best in zip(small, nearest):
        if id(part) not in own_line:
            lines[best].append(part)
    for row in reversed(rows):  # each in its place, top to bottom
        centre = float(np.mean([p.centre_y for p in row]))
        below = [i for i, (top, bottom) in enumerate(bands) if (top + bottom) / 2 > centre]
        at = below[0] if below else len(lines)
        lines.insert(at, row)
        bands.insert(at, [centre, centre])
    return [sorted(line, key=lambda p: p.box[0]) for line in lines]


def _group_lines_on_a_slope(parts: list[_Part], char_height: float, solid_head: Callable[[_Part], bool],
                            mask: np.ndarray) -> list[list[_Part]]:
    """``_group_lines``, along the writing's slope where it slopes (a note photographed a few degrees askew).

    Bands are level: two lines turned 6 degrees overlap in them and were read as one ("0612 334 / 2026 1121"
    as "59632135 9981"), or one line's end made a band of its own above its start. Where the ink gathers in
    the fewest rows at a slope of ``MIN_SKEW`` degrees or more (``writing_skew``), the parts are grouped with
    each moved up or down by the slope at its centre, and those lines kept where they group the parts otherwise
    than the level ones: as many lines may still hold the wrong parts (three lines turned 10 degrees made three
    level bands, the second and third lines' starts stacked in one and merged into tall glyphs).
    """
    level = _group_lines(parts, char_height, solid_head)
    skew = writing_skew(mask, char_height)
    if skew == 0.0:
        return level
    slope = math.tan(math.radians(skew))
    moved = {}
    for part in parts:
        shift = round(slope * (part.box[0] + part.box[2]) / 2)
        copy = replace(part, box=[part.box[0], part.box[1] - shift, part.box[2], part.box[3] - shift])
        moved[id(copy)] = (copy, part)
    along = _group_lines([copy for copy, _ in moved.values()], char_height,
                         lambda copy: solid_head(moved[id(copy)][1]))
    along = [[moved[id(copy)][1] for copy in line] for line in along]
    if _partition(along) == _partition(level):
        return level
    return along


def _partition(lines: list[list[_Part]]) -> set[frozenset[int]]:
    """Which parts go together, whatever the lines' order."""
    return {frozenset(id(part) for part in line) for line in lines}


def writing_skew(mask: np.ndarray, char_height: float) -> float:
    """The slope in degrees (y down, within ``MAX_SKEW``) at which the ink's rows gather most, or 0.0 where
    that is under ``MIN_SKEW`` or no clearer than level (a line or two of few characters says little).

    Each ink pixel is moved up by the slope at its column; the slope whose row histogram (rows of a tenth of a
    character height) is most peaked, the sum of its squared counts, is the writing's."""
    rows, columns = np.nonzero(mask[::SKEW_STEP, ::SKEW_STEP])
    if len(rows) < 50:
        return 0.0
    rows, columns = rows * SKEW_STEP, columns * SKEW_STEP
    bin_height = max(1.0, char_height / 10)
    angles = np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5)
    scores = []
    for angle in angles:
        shifted = rows - np.tan(np.radians(angle)) * columns
        counts = np.bincount(((shifted - shifted.min()) / bin_height).astype(np.int64))
        scores.append(float(np.dot(counts, counts)))
    best = int(np.argmax(scores))
    level = scores[int(np.argmin(abs(angles)))]
    if abs(angles[best]) < MIN_SKEW or scores[best] < SKEW_GAIN * level:
        return 0.0
    return float(angles[best])


def _riders_joined(bands: list[list[float]], lines: list[list[_Part]], tall: list[_Part],
                   line_of_tall: list[int]) -> tuple[list[list[float]], list[list[_Part]]]:
    """Lines made of nothing but parts that ride on a tall part of another line (each beside it or across it,
    within the top half of its height) joined to that line: a T's bar drawn apart from its stem, where the
    capitals are twice the small letters ("Dear Tom"), made a band of its own above the text (read "T /
    DGar LOM"), as the tall stem makes none."""
    def ridden(part: _Part) -> int | None:
        for tall_part, line in zip(tall, line_of_tall):
            x0, y0, x1, y1 = tall_part.box
            reach = 0.5 * (x1 - x0) + 0.25 * (y1 - y0)
            if part.box[0] < x1 + reach and part.box[2] > x0 - reach and y0 - 0.1 * (y1 - y0) <= part.box[1] \
                    and part.box[3] <= (y0 + y1) / 2:
                return line
        return None

    tall_ids = {id(part) for part in tall}
    target = {}
    for index, line in enumerate(lines):
        if any(id(part) in tall_ids for part in line):
            continue
        hosts = {ridden(part) for part in line}
        if len(hosts) == 1 and None not in hosts and hosts != {index}:
            target[index] = hosts.pop()
    if not target:
        return bands, lines
    for index, host in target.items():
        while host in target:  # (a host itself joined elsewhere: follow it)
            host = target[host]
        lines[host] += lines[index]
        bands[host] = [min(bands[host][0], bands[index][0]), max(bands[host][1], bands[index][1])]
    kept = [k for k in range(len(lines)) if k not in target]
    return [bands[k] for k in kept], [lines[k] for k in kept]


def _rows_of_small_parts(parts: list[_Part], char_height: float) -> list[list[_Part]]:
    """Small parts in rows, top to bottom: those whose centres lie within half a character height."""
    rows: list[list[_Part]] = []
    for part in sorted(parts, key=lambda p: p.centre_y):
        if rows and part.centre_y - rows[-1][-1].centre_y <= 0.5 * char_height:
            rows[-1].append(part)
        else:
            rows.append([part])
    return rows


def _join_side_by_side(bands: list[list[float]], lines: list[list[_Part]]) -> tuple[list[list[float]], list[list[_Part]]]:
    """Join bands that are one line: side by side (little horizontal overlap) and level enough.

    A word whose last letters slope down or hang below the line (the y of "Donkey") starts a
    band of its own; two real lines are written one under the other, so they overlap horizontally.
    """
    joined_bands: list[list[float]] = []   # [top, bottom] of each joined line
    joined_spans: list[list[float]] = []   # [left, right] of each joined line
    joined: list[list[_Part]] = []
    for band, line in zip(bands, lines):
        line_left, line_right = min(p.box[0] for p in line), max(p.box[2] for p in line)
        for k, ((top, bottom), (left, right)) in enumerate(zip(joined_bands, joined_spans)):
            overlap_x = min(right, line_right) - max(left, line_left)
            overlap_y = min(bottom, band[1]) - max(top, band[0])
            if (overlap_x < SIDE_BY_SIDE * min(right - left, line_right - line_left)
                    and overlap_y >= LEVEL_ENOUGH * min(bottom - top, band[1] - band[0])):
                joined_bands[k] = [min(top, band[0]), max(bottom, band[1])]
                joined_spans[k] = [min(left, line_left), max(right, line_right)]
                joined[k] += line
                break
        else:
            joined_bands.append(list(band))
            joined_spans.append([line_left, line_right])
            joined.append(list(line))
    return joined_bands, joined


def _merge_overlapping(line: list[_Part], char_height: float, body: Optional[punctuation.Body] = None) -> list[_Part]:
    """Merge the parts of one character, left to right.

    Parts belong together if their horizontal overlap covers MERGE_OVERLAP of the narrower one,
    or if one is above the other (a dot, an accent, a lifted bar) and they overlap a little, or
    the upper one is a small mark next to the other (the dot of an i drawn off to the side).
    Punctuation stays apart (``punctuation.keeps_apart``; needs the line's ``body``), unless faint ink
    joins it to the other part: then it is a piece of a broken stroke.
    """
    merged: list[_Part] = []
    for part in line:  # sorted by x0
        for other in reversed(merged[-3:]):  # a part can only belong to one of its recent neighbours
            if _same_character(other, part, char_height, body):
                # in place: rebuilding the members on every merge is quadratic on a page of noise
                other.members += part.members
                other.faint |= part.faint
                other.box = [min(other.box[0], part.box[0]), min(other.box[1], part.box[1]),
                             max(other.box[2], part.box[2]), max(other.box[3], part.box[3])]
                break
        else:
            merged.append(_group([part]))
    return sorted(merged, key=lambda p: p.box[0])


def _same_character(a: _Part, b: _Part, char_height: float, body: Optional[punctuation.Body] = None) -> bool:
    if body is not None and not (a.faint & b.faint) and (
            punctuation.keeps_apart(a.box, b.box, body) or punctuation.keeps_apart(b.box, a.box, body)):
        return False
    overlap_x = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    narrower = min(a.width, b.width)
    if overlap_x >= MERGE_OVERLAP * narrower:
        return True
    if _top_bar_of(a, b, char_height) or _top_bar_of(b, a, char_height):
        return True
    overlap_y = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    if overlap_y > 0.1 * min(a.height, b.height):  # side by side: two characters
        return False
    upper = a if a.box[1] < b.box[1] else b
    small = upper.height < 0.4 * char_height and upper.width < 0.5 * char_height
    return overlap_x >= 0.2 * narrower or (small and -overlap_x <= 0.15 * char_height)


def _top_bar_of(body: _Part, bar: _Part, char_height: float) -> bool:
    """Is ``bar`` a flat stroke lifted off the top of ``body`` (the bar of a 5 or 7, drawn separately)?

    Flat (at least twice as wide as tall, under a third of a character high), level with the top
    of ``body`` and within a pen's gap of its side. A hyphen sits lower; an apostrophe is not flat.
    """
    flat = bar.height <= TOP_BAR_HEIGHT * char_height and bar.width >= 2 * bar.height
    on_top = bar.centre_y <= body.box[1] + TOP_BAR_LEVEL * body.height and body.height >= 0.5 * char_height
    gap = max(bar.box[0] - body.box[2], body.box[0] - bar.box[2])
    return flat and on_top and gap <= TOP_BAR_GAP * char_height


def _join_strokes(line: list[_Part], labels: np.ndarray, ink: np.ndarray, choose_joins: JoinChooser) -> list[_Part]:
    """Group runs of glyphs close together into the characters ``choose_joins`` reads best.

    A run is broken by a wide gap or by punctuation, which never joins anything. (A dash could be
    the bar of an H drawn apart from both stems, but a stem alone reads as surely as the H: the
    join would never pay.)
    """
    line_height = _line_height(line)
    runs: list[list[_Part]] = []
    for part in line:  # sorted by x0
        run = runs[-1] if runs else None
        if part.mark is None and run and run[-1].mark is None and part.box[0] - max(p.box[2] for p in run) <= JOIN_GAP * line_height:
            run.append(part)
        else:
            runs.append([part])
    out: list[_Part] = []
    for run in runs:
        spans, inks, overlaps = [], [], []
        for i in range(len(run)):
            for j in range(i + 1, min(i + JOIN_PARTS, len(run)) + 1):
                group = _group(run[i:j])
                if j - i > 1 and group.width > JOIN_WIDTH * line_height:
                    continue
                spans.append((i, j))
                inks.append(_own_ink(group, labels, ink))
                overlaps.append(sum(_overlap_share(a, b) for a, b in zip(run[i:j - 1], run[i + 1:j])))
        chosen = choose_joins(len(run), spans, inks, overlaps) if len(run) > 1 else None
        if chosen is None:
            out += run
            continue
        out += [run[i] if j - i == 1 else _group(run[i:j], joined=True) for i, j in chosen]
    return out


def _overlap_share(a: _Part, b: _Part) -> float:
    """How far two neighbouring glyphs' boxes say they are one character, 0..1: their horizontal overlap
    as a share of the narrower, 1 at MERGE_OVERLAP (where the boxes alone make them one glyph).

    Characters side by side seldom overlap; the strokes of one character drawn apart (a 4's stem
    beside its bent arm) often do."""
    overlap_x = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    return float(np.clip(overlap_x / (MERGE_OVERLAP * max(1, min(a.width, b.width))), 0.0, 1.0))


def _group(parts: list[_Part], joined: bool = False) -> _Part:
    """One part made of ``parts``: their components, the box around them all."""
    box = [min(p.box[0] for p in parts), min(p.box[1] for p in parts), max(p.box[2] for p in parts), max(p.box[3] for p in parts)]
    return _Part([m for p in parts for m in p.members], box, faint=set().union(*(p.faint for p in parts)), joined=joined)


def _line_height(line: list[_Part]) -> float:
    """The median height of a line's characters (punctuation left out, unless there is nothing else)."""
    return float(np.median([p.height for p in ([p for p in line if p.mark is None] or line)]))


def _own_ink(part: _Part, labels: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The ink inside ``part``'s box that belongs to its own components (neighbours blanked)."""
    x0, y0, x1, y1 = part.box
    return np.where(np.isin(labels[y0:y1, x0:x1], np.array(part.members) + 1), ink[y0:y1, x0:x1], 0.0)


def _split_wide(line: list[_Part], labels: np.ndarray, ink: np.ndarray,
                choose_cuts: Optional[CutChooser] = None, room: int = MAX_GLYPHS) -> list[_Part]:
    """Cut glyphs much wider than the line's typical character at their thinnest columns.

    Raises ``InputImageError`` if the line would hold more than ``room`` glyphs.
    """
    if len(line) > room:
        raise _too_many_glyphs()
    characters = [p for p in line if p.mark is None] or line
    widths = np.array([p.width for p in characters], dtype=np.float64)
    line_height = _line_height(line)
    # Typical width: the median of the line's ordinary glyphs, or a typical aspect if too few.
    ordinary = widths[widths <= 1.2 * line_height]
    typical = float(np.median(ordinary)) if ordinary.size >= 3 else DEFAULT_ASPECT * line_height
    out: list[_Part] = []
    for index, part in enumerate(line):
        wide = part.width > SPLIT_WIDTH * typical and part.width > SPLIT_ASPECT * part.height
        # Too narrow for the width rule but maybe two characters: let the chooser read it both ways.
        ambiguous = not wide and choose_cuts is not None and part.width > AMBIGUOUS_ASPECT * line_height
        if not (wide or ambiguous) or part.height < MIN_SPLIT_HEIGHT_PX or part.mark is not None or part.joined:
            out.append(part)
            continue
        x0, y0, x1, y1 = part.box
        cut_from = x0 * ink.shape[0] + y0  # the box's corner: unique to this piece of ink in the image
        crop = _own_ink(part, labels, ink)
        if is_blob(crop, INK_THRESHOLD):  # a smear or a word scribbled out: its slices would read as characters
            out.append(part)
            continue
        column_ink = crop.sum(axis=0)
        if wide:
            # at least MIN_PIECE_PX wide each, however small the line's "typical width"
            count = min(max(2, round(part.width / typical)), part.width // MIN_PIECE_PX)
            if count < 2:
                out.append(replace(part, cut_from=cut_from))
                continue
            if len(out) + count + len(line) - index - 1 > room:  # a rule across a page is not 600 characters
                raise _too_many_glyphs()
            cuts = _thinnest_near_multiples(column_ink, count)
            if choose_cuts is not None:  # the width rule's cuts stay candidates, and its answer the fallback
                candidates = _cut_columns(column_ink, max(2, round(MIN_PIECE * line_height)), most=2 * count + 2)
                # the width's count first: each character more or fewer must read better by a margin
                chosen = choose_cuts(crop, sorted(set(candidates) | set(cuts)), (count, *range(count - 1, 0, -1), count + 1))
                cuts = cuts if chosen is None else sorted(chosen)
        else:  # ambiguous (so there is a chooser): one character or two of ordinary width, never a sliver
            candidates = _cut_columns(column_ink, max(2, round(MIN_SPLIT_PIECE * line_height)), most=4)
            cuts = sorted(choose_cuts(crop, candidates, (1, 2)) or [])
        for left, right in zip([0] + cuts, cuts + [part.width]):
            if right <= left:
                continue
            piece = crop[:, left:right]
            rows = np.flatnonzero(piece.max(axis=1) > INK_THRESHOLD)
            cols = np.flatnonzero(piece.max(axis=0) > INK_THRESHOLD)
            if rows.size == 0:
                continue
            out.append(_Part(list(part.members), [x0 + left + int(cols[0]), y0 + int(rows[0]),
                                                  x0 + left + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1],
                             cut_from=cut_from))
    return out


def _thinnest_near_multiples(column_ink: np.ndarray, count: int) -> list[int]:
    """``count - 1`` cuts into ``count`` about equal pieces, each at the column with the least ink nearby."""
    width = column_ink.size
    cuts, window = [], max(1, round(0.3 * width / count))
    for k in range(1, count):
        centre = round(k * width / count)
        lo, hi = max(1, centre - window), min(width - 1, centre + window + 1)
        if hi > lo:
            cuts.append(lo + int(np.argmin(column_ink[lo:hi])))
    return sorted(set(cuts))


def _cut_columns(column_ink: np.ndarray, min_piece: int, most: int | None = None) -> list[int]:
    """Where two characters could meet: the local minima of the ink per column, at least
    ``min_piece`` from either end and from each other (the lowest kept), at most ``most`` of them."""
    allowed = np.asarray(column_ink[min_piece:column_ink.size - min_piece + 1], dtype=np.float64)
    if allowed.size == 0:
        return []
    radius = max(1, min_piece // 2)
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(allowed, radius, mode="edge"), 2 * radius + 1)
    low, high = windows.min(axis=1), windows.max(axis=1)
    # A local minimum, and not inside a flat stretch (no better place to cut there than anywhere).
    candidates = [min_piece + c for c in np.flatnonzero((allowed <= low) & (low < high))]
    chosen: list[int] = []
    for column in sorted(candidates, key=lambda c: (column_ink[c], c)):
        if all(abs(column - c) >= min_piece for c in chosen):
            chosen.append(int(column))
    return sorted(chosen[:most])


def _glyphs(line: list[_Part], labels: np.ndarray, ink: np.ndarray) -> list[Glyph]:
    """Glyphs with their ink crops (plus a MARGIN of anti-aliasing) and word gaps."""
    height, width = ink.shape
    characters = [p for p in line if p.mark is None] or line
    line_height = _line_height(line)
    # Gaps between a glyph and everything left of it; people space letters differently, so a word
    # gap must be wide both against the character height and against this line's usual gap.
    # A narrow glyph (a 1, an l) is measured as if it were NARROW_CELL of the line's typical width
    # around its centre: people space characters by their centres, so a 1 leaves wide gaps.
    cell = NARROW_CELL * float(np.median([p.width for p in characters]))
    gaps, right = [], None
    for part in line:
        centre, half = (part.box[0] + part.box[2]) / 2, max(part.width, cell) / 2
        gaps.append(None if right is None else centre - half - right)
        right = centre + half if right is None else max(right, centre + half)
    inner = [g for g in gaps if g is not None]
    threshold = SPACE_GAP * line_height
    if len(inner) >= 3:
        threshold = max(threshold, SPACE_VS_TYPICAL * max(float(np.median(inner)), 1.0))
    glyphs: list[Glyph] = []
    for part, gap in zip(line, gaps):
        x0, y0, x1, y1 = part.box
        x0, y0 = max(0, x0 - MARGIN), max(0, y0 - MARGIN)
        x1, y1 = min(width, x1 + MARGIN), min(height, y1 + MARGIN)
        own = np.isin(labels[y0:y1, x0:x1], np.array(part.members) + 1)
        # Keep the soft edge pixels next to this glyph's own ink, blank everything else.
        near = rank_filter(own, 1)
        crop = np.where(near & ((labels[y0:y1, x0:x1] == 0) | own), ink[y0:y1, x0:x1], 0.0).astype(np.float32)
        glyphs.append(Glyph((x0, y0, x1, y1), crop, gap is not None and gap > threshold, part.mark, part.cut_from, part.joined))
    return glyphs
