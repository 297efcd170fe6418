"""Periods, commas, dashes and colons in a line of handwriting, told by their shape and place.

The models know characters only (digits, letters). Read as characters, a dash became a 1 or a 7
and a period a 0 or a 4: "06-12-33" was read "06212233". Punctuation is small next to its line's
characters and sits at a known height: a period on the baseline, a comma on it and hanging below,
a dash at mid-height, a colon's two dots one above the other. The segmenter measures each line's
``Body`` (the band between the usual top and bottom of its characters), keeps marks apart from
the characters they overlap (``keeps_apart``) and labels them with ``kind``; the recognizer does
not read them with the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Optional, Sequence

Box = Sequence[float]  # (x0, y0, x1, y1), ends exclusive

DOT_SIZE = 0.3         # a period is at most this many body heights wide and tall...
LOW_LEVEL = 0.65       # ...and its centre is below this share of the body (0 = top, 1 = bottom)
FIRM_DOT_SIZE = 0.45   # a solid round blob (a firm full stop, grown by a photo's blur) may be this large
FIRM_DOT_ASPECT = 1.5  # ...and at most this many times longer one way than the other
FIRM_COMMA_WIDTH = 0.6  # a comma with such a head (a firm dot, HEAD_SHARE of its ink) may be this wide and
FIRM_COMMA_HEIGHT = 0.8  # tall: its head alone 0.3-0.45 of the body, its tail slanting out of it
HEAD_SHARE = 0.35      # ...and the largest disc inside it holds this share of its ink or more (``stroke.disc_share``):
                       # a comma's firm head 0.39-0.52, a colon's firm dot 0.58 or more; a character's thickest place
                       # 0.09-0.24 (the 99th percentile of MNIST, HwD-1000 and UNIPEN digits)
COMMA_WIDTH = 0.4      # a comma is at most this wide (its tail slants) and COMMA_HEIGHT
COMMA_HEIGHT = 0.6     # tall, about as tall as wide or taller, starts below LOW_TOP and hangs below
LOW_TOP = 0.5          # the body by at least COMMA_HANG: no character is so short, low and hanging.
COMMA_HANG = 0.1       # A round mark (not 1.2 times taller than wide) must hang twice as far: a
                       # period set a little low is still a period
DASH_HEIGHT = 0.25     # a dash is at most this many body heights tall, DASH_ASPECT times as wide
DASH_ASPECT = 1.5      # as tall (a short dash of a thick pen is not much more),
DASH_WIDTH = (0.15, 1.2)  # this wide, and centred between these levels:
DASH_LEVELS = (0.35, 0.8)  # a flat stroke near the top is the bar of a 5 or 7, at the bottom a 2's base
COLON_GAP = (0.15, 0.8)  # a colon's dots are this many body heights apart (two specks at the top and the
                         # foot of a 7 are no colon), the lower at most COLON_LOW below the body's top
COLON_LOW = 1.15
MARKS = ".,-:;\u2022"  # every mark told by shape (the line model reads some itself: labels.LINE_MARKS)
BULLET = "\u2022"       # a list's bullet: a solid round dot first in its line, up to BULLET_SIZE body heights
BULLET_SIZE = (0.15, 0.6)  # across (a marker's, drawn round and filled in, grows as large as a small letter;
                           # a speck before a line, dust or a pen's touch, is 0.05-0.11 in UNIPEN's words),
BULLET_LEVELS = (0.2, 0.8)  # centred between these levels of the body (a full stop sits lower), and
BULLET_GAP = 0.15      # at least this many body heights before the next glyph
GUIDE_MARKS = 5        # a row of at least this many dots or dashes, outnumbering the characters, is a guide line


@dataclass(frozen=True)
class Body:
    """The band of a line's characters, in pixels: their usual top and bottom."""

    top: float
    bottom: float

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)

    def level(self, y: float) -> float:
        """Where ``y`` is in the band: 0 at its top, 1 at its bottom."""
        return (y - self.top) / self.height

    @property
    def dot_size(self) -> float:
        """The largest a period (or a colon's dot) can be, across and down, in pixels."""
        return DOT_SIZE * self.height


def body_of(character_boxes: Sequence[Box]) -> Optional[Body]:
    """The band of a line from the boxes of its full-height characters (medians: descenders and
    ascenders do not move it), or None without any."""
    if not character_boxes:
        return None
    return Body(float(median(b[1] for b in character_boxes)), float(median(b[3] for b in character_boxes)))


def kind(box: Box, body: Body, member_boxes: Sequence[Box] = ()) -> Optional[str]:
    """".", ",", "-", ":" or ";" if a glyph with this box (made of marks with ``member_boxes``) is that
    punctuation mark in a line with this ``body``; None for anything else (a character)."""
    x0, y0, x1, y1 = box
    width, height, h = x1 - x0, y1 - y0, body.height
    if len(member_boxes) >= 2:
        return ":" if _is_colon(box, body, member_boxes) else ";" if _is_semicolon(box, body, member_boxes) else None
    if _comma_shaped(box, body, COMMA_WIDTH, COMMA_HEIGHT):
        return ","
    if width <= body.dot_size and height <= body.dot_size and body.level((y0 + y1) / 2) >= LOW_LEVEL:
        return "."
    flat = height <= DASH_HEIGHT * h and width >= DASH_ASPECT * height
    if flat and DASH_WIDTH[0] * h <= width <= DASH_WIDTH[1] * h and DASH_LEVELS[0] <= body.level((y0 + y1) / 2) <= DASH_LEVELS[1]:
        return "-"
    return None


def firm_dot(box: Box, body: Body, low: bool = True) -> bool:
    """Whether a mark with this box could be a firm full stop: round, low, up to ``FIRM_DOT_SIZE`` body heights.

    A period pressed hard, or blurred by a photo, outgrows ``DOT_SIZE`` (a dot 2.5 pens wide under a phone
    photo's blur: 0.35 of the body) and was read as a digit ("3.14" as "3614"). Only a solid blob is such a
    dot (``stroke.is_blob``, which the caller asks of its ink): a character's strokes leave most of its box open.
    ``low=False``: wherever it lies in the line (a colon's upper dot).
    """
    x0, y0, x1, y1 = box
    width, height, limit = x1 - x0, y1 - y0, FIRM_DOT_SIZE * body.height
    return (0 < width <= limit and 0 < height <= limit and max(width, height) <= FIRM_DOT_ASPECT * min(width, height)
            and (not low or body.level((y0 + y1) / 2) >= LOW_LEVEL))


def firm_comma(box: Box, body: Body) -> bool:
    """Whether a mark with this box could be a comma with a firm head: placed as a comma, up to
    ``FIRM_COMMA_WIDTH`` by ``FIRM_COMMA_HEIGHT`` body heights.

    A comma pressed hard has a head as big as a firm full stop (``firm_dot``) and its tail slanting out
    of it: wider and taller than ``kind`` allows a comma (a thick pen's "8,5" read "895"). Only a mark
    whose head holds ``HEAD_SHARE`` of its ink is one (``stroke.disc_share``, which the caller asks of its ink).
    """
    # its head sits on the line: a speck or a blot wholly below it is no comma of this line
    return _comma_shaped(box, body, FIRM_COMMA_WIDTH, FIRM_COMMA_HEIGHT) and body.level(box[1]) < 1.0


def _comma_shaped(box: Box, body: Body, most_wide: float, most_tall: float) -> bool:
    """Up to ``most_wide`` by ``most_tall`` body heights, about as tall as wide or taller, starting below
    ``LOW_TOP`` of the body and hanging below it (a round mark twice as far as a long one)."""
    x0, y0, x1, y1 = box
    width, height, h = x1 - x0, y1 - y0, body.height
    hang = COMMA_HANG * (1 if height >= 1.2 * width else 2)
    return width <= most_wide * h and height <= most_tall * h and height >= 0.9 * width \
        and body.level(y0) >= LOW_TOP and y1 >= body.bottom + hang * h


def bullet(box: Box, body: Body, next_box: Optional[Box]) -> bool:
    """Whether a mark with this box, first in its line, could be a bullet: round, ``BULLET_SIZE`` body heights
    across, centred between ``BULLET_LEVELS``, with writing ``BULLET_GAP`` or more to its right (``next_box``).

    A list's bullet was read as a character ("• 95" as "695"). Only a solid dot is one (``stroke.is_blob``,
    which the caller asks of its ink): an o or a 0 first in a line leaves its middle open.
    """
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    smallest, largest = (share * body.height for share in BULLET_SIZE)
    return next_box is not None and smallest <= max(width, height) and width <= largest and height <= largest and \
        max(width, height) <= FIRM_DOT_ASPECT * min(width, height) and \
        BULLET_LEVELS[0] <= body.level((y0 + y1) / 2) <= BULLET_LEVELS[1] and next_box[0] - x1 >= BULLET_GAP * body.height


def keeps_apart(mark: Box, other: Box, body: Body) -> bool:
    """Must the part with box ``mark`` stay apart from ``other``, whose box it overlaps?

    A period or comma never belongs to a character: no digit or letter has a dot at its foot (two
    dots may still join, as a colon). A dash belongs to a character only if it crosses it, like the
    bar of a 7 or a t: centred inside the character's box, or spanning most of a narrow one (a t's
    stem). One that merely reaches into a neighbour's box stays a dash.
    """
    found = kind(mark, body)
    if found is None:
        return False
    if found in ".,":
        dot_sized = max(other[2] - other[0], other[3] - other[1]) <= body.dot_size
        return not dot_sized  # only another dot (a colon's) may join it
    centre = (mark[0] + mark[2]) / 2
    spanned = min(mark[2], other[2]) - max(mark[0], other[0])
    return not (other[0] <= centre <= other[2] or spanned >= 0.5 * (other[2] - other[0]))


def firm_colon(box: Box, body: Body, member_boxes: Sequence[Box]) -> bool:
    """Whether a glyph with this box, of marks with ``member_boxes``, could be a colon of two firm dots: each
    round and up to ``FIRM_DOT_SIZE`` body heights, placed as a colon's (a thick pen's "12:30" read "12230").
    Only solid dots are such (``HEAD_SHARE``: the caller asks ``stroke.disc_share`` of their ink)."""
    return len(member_boxes) == 2 and all(firm_dot(b, body, low=False) for b in member_boxes) and \
        _is_colon(box, body, member_boxes, FIRM_DOT_SIZE * body.height)


def semicolon_below(member_boxes: Sequence[Box], body: Body) -> bool:
    """Whether the lower of two marks hangs below the line as a comma does (a firm comma's size allowed): a
    semicolon's comma, where a colon's lower dot sits on the line."""
    lower = max(member_boxes, key=lambda b: b[1] + b[3])
    return firm_comma(lower, body)


def _is_semicolon(box: Box, body: Body, member_boxes: Sequence[Box]) -> bool:
    """A dot above a comma: two marks, the upper a dot as a colon's upper one is, the lower a comma,
    the dot over it, as far above its head as a colon's dots are apart, the whole no wider than a comma."""
    if len(member_boxes) != 2 or box[2] - box[0] > COMMA_WIDTH * body.height:
        return False
    upper, lower = sorted(member_boxes, key=lambda b: b[1] + b[3])
    dot, centre, across = body.dot_size, (upper[0] + upper[2]) / 2, upper[2] - upper[0]
    middle, down = (upper[1] + upper[3]) / 2, upper[3] - upper[1]
    # the dot round, the comma's head low on the line: an i written small and low, its stem hanging from
    # x-height and its dot a dash, is no semicolon
    return across <= dot and down <= dot and max(across, down) <= 2 * max(1, min(across, down)) and \
        upper[3] <= lower[1] and -0.1 <= body.level(middle) < LOW_LEVEL - 0.1 and body.level(lower[1]) >= LOW_LEVEL \
        and _comma_shaped(lower, body, COMMA_WIDTH, COMMA_HEIGHT) and \
        COLON_GAP[0] * body.height <= lower[1] - middle <= COLON_GAP[1] * body.height and \
        lower[0] - across <= centre <= lower[2] + across


def _is_colon(box: Box, body: Body, member_boxes: Sequence[Box], dot: float | None = None) -> bool:
    """Two (or more, if a dot broke) dots one above the other: one low, one higher up; each dot at most
    ``dot`` pixels across (the body's ``dot_size`` unless given)."""
    h, dot = body.height, body.dot_size if dot is None else dot
    if box[2] - box[0] > dot or any(b[2] - b[0] > dot or b[3] - b[1] > dot for b in member_boxes):
        return False
    centres = sorted((b[1] + b[3]) / 2 for b in member_boxes)
    return LOW_LEVEL - 0.1 <= body.level(centres[-1]) <= COLON_LOW and body.level(centres[0]) < LOW_LEVEL - 0.1 and \
        COLON_GAP[0] * h <= centres[-1] - centres[0] <= COLON_GAP[1] * h and body.level(centres[0]) >= -0.1


def guide_line(kinds: Sequence[str], characters: int) -> Optional[str]:
    """"." or "-" if the marks of one line (their kinds) hold a dotted or dashed guide line, else None.

    More marks of one kind than the line has characters, and at least ``GUIDE_MARKS`` of them: a row
    of dots or dashes under the writing on a form. An ellipsis has three; "1-2-3-4-5-6" has fewer
    dashes than digits.
    """
    for kind in ".-":
        if list(kinds).count(kind) >= max(GUIDE_MARKS, characters + 1):
            return kind
    return None
