"""Punctuation told by shape and place: ``imaging.punctuation`` on boxes, ``segment`` on drawn lines."""

from __future__ import annotations

import numpy as np
import pytest

from inkread.imaging.punctuation import Body, body_of, bullet, firm_colon, firm_comma, guide_line, keeps_apart, kind
from inkread.imaging.segment import segment

BODY = Body(top=100, bottom=200)  # characters 100 px tall


@pytest.mark.parametrize("box, expected", [
    ((50, 188, 60, 198), "."),     # a pen dot on the baseline
    ((50, 185, 58, 225), ","),     # starts at the baseline, hangs below it
    ((50, 147, 85, 155), "-"),     # flat, at mid-height
    ((50, 105, 85, 113), None),    # the same stroke at the top: a lifted bar (of a 5, a 7)
    ((50, 192, 85, 200), None),    # ...at the bottom: the base of a 2
    ((50, 140, 60, 150), None),    # a dot at mid-height: not punctuation this module knows
    ((50, 100, 90, 200), None),    # a character
    ((50, 160, 85, 200), None),    # a small character (a low o), larger than a dot
    ((50, 148, 54, 152), None),    # a dash shorter than a pen dot
])
def test_kind_of_a_single_mark(box, expected):
    assert kind(box, BODY) == expected


def test_a_colon_is_two_dots_one_above_the_other():
    upper, lower = (50, 130, 58, 138), (51, 188, 59, 196)
    assert kind((50, 130, 59, 196), BODY, [upper, lower]) == ":"
    assert kind((50, 188, 59, 197), BODY, [lower, (51, 190, 59, 197)]) is None  # both low: no colon
    assert kind((50, 100, 80, 196), BODY, [(50, 100, 80, 160), lower]) is None  # a stroke and a dot
    # specks at the top and the foot of a character (a dithered scan's) are no colon; nor are two dots
    # far below the line (pieces of a broken rule under it)
    assert kind((50, 98, 58, 196), BODY, [(50, 98, 58, 104), lower]) is None
    assert kind((50, 190, 58, 262), BODY, [(50, 190, 58, 196), (50, 256, 58, 262)]) is None


def test_a_comma_or_colon_pressed_hard_may_be_larger_where_placed_as_one():
    """Placed and sized as a comma or colon whose dots are firm full stops (the ink's thickness is segment's to
    check): larger than ``kind`` allows, as large as ``firm_comma``/``firm_colon`` do, and nowhere else."""
    assert kind((50, 165, 100, 225), BODY) is None and firm_comma((50, 165, 100, 225), BODY)  # 0.5 wide, 0.6 tall
    assert not firm_comma((50, 165, 100, 265), BODY)  # a body tall: a descender of a letter written low
    assert not firm_comma((50, 140, 100, 220), BODY)  # starts above the middle: a small letter
    assert not firm_comma((50, 165, 95, 208), BODY)  # round, and hangs no further than a round period may
    assert not firm_comma((50, 205, 60, 215), BODY)  # wholly below the line: a speck, a blot
    upper, lower = (50, 125, 90, 165), (52, 160, 92, 200)  # dots 0.4 across, one above the other
    assert kind((50, 125, 92, 200), BODY, [upper, lower]) is None and firm_colon((50, 125, 92, 200), BODY, [upper, lower])
    assert not firm_colon((50, 125, 92, 200), BODY, [upper, (52, 140, 92, 200)])  # a long stroke, not a dot
    assert not firm_colon((50, 150, 92, 200), BODY, [(50, 150, 90, 190), lower])  # both low
    assert not firm_colon((50, 115, 100, 200), BODY, [(50, 115, 100, 165), lower])  # a dot half the body wide


def test_a_bullet_is_a_round_dot_at_mid_height_before_the_writing():
    writing = (100, 100, 160, 200)  # the next glyph, 25 px to the right of the dot
    assert bullet((45, 130, 75, 160), BODY, writing)
    assert not bullet((45, 130, 75, 160), BODY, None)  # nothing after it: a dot alone
    assert not bullet((45, 130, 90, 160), BODY, writing)  # too close to the writing (and not round)
    assert not bullet((45, 170, 75, 200), BODY, writing)  # on the baseline: a full stop's place
    assert not bullet((45, 100, 75, 180), BODY, writing)  # tall: a stroke
    assert not bullet((10, 110, 75, 175), BODY, writing)  # 0.65 of the line across: a character's size
    assert not bullet((60, 140, 70, 150), BODY, writing)  # 0.1 across: a speck, dust, a pen's touch


def test_a_semicolon_is_a_dot_over_a_comma():
    dot, comma = (50, 130, 58, 138), (50, 185, 58, 225)
    assert kind((50, 130, 58, 225), BODY, [dot, comma]) == ";"
    assert kind((50, 130, 59, 196), BODY, [dot, (51, 188, 59, 196)]) == ":"  # a dot on the line: a colon
    assert kind((50, 130, 90, 225), BODY, [(82, 130, 90, 138), comma]) is None  # the dot far to one side
    assert kind((50, 92, 58, 225), BODY, [(50, 92, 58, 100), comma]) is None  # the dot far above: no semicolon
    stem = (50, 152, 56, 211)  # from mid-height, hanging a little: an i written small and low in a sloping line
    assert kind(stem, BODY) == "," and kind((50, 130, 58, 211), BODY, [dot, stem]) is None
    assert kind((46, 134, 62, 212), BODY, [(46, 134, 62, 138), (50, 165, 56, 212)]) is None  # its dot a dash


def test_a_line_body_ignores_descenders_and_ascenders():
    boxes = [(0, 100, 10, 200), (20, 100, 30, 240), (40, 60, 50, 200), (60, 100, 70, 200)]
    assert body_of(boxes) == Body(100, 200)
    assert body_of([]) is None
    assert BODY.level(150) == 0.5


def test_what_a_mark_may_join():
    dot, character = (50, 188, 60, 198), (40, 100, 90, 200)
    assert keeps_apart(dot, character, BODY)          # a period in a neighbour's box stays a period
    assert not keeps_apart(dot, (52, 130, 60, 138), BODY)  # another dot: it may be a colon
    assert not keeps_apart(character, dot, BODY)      # a character is no mark
    dash = (60, 147, 95, 155)
    assert not keeps_apart(dash, (70, 100, 90, 200), BODY)  # centred on the character: the bar of a 7
    assert not keeps_apart((40, 147, 75, 155), (55, 100, 62, 200), BODY)  # across a narrow stem: a t
    assert keeps_apart(dash, (85, 100, 130, 200), BODY)  # reaching into a neighbour's box: a dash


# --- segment: lines drawn with rectangles -----------------------------------------------------------

def stroke_page(marks: list[tuple[int, int, int, int]], faint: list[tuple[int, int, int, int]] = ()) -> np.ndarray:
    """Two upright strokes 80 px tall (rows 20-100) at x 20 and 120, plus ink rectangles (x0, y0, x1, y1)."""
    ink = np.zeros((140, 200), np.float32)
    ink[20:100, 20:26] = 1.0
    ink[20:100, 120:126] = 1.0
    for x0, y0, x1, y1 in marks:
        ink[y0:y1, x0:x1] = 1.0
    for x0, y0, x1, y1 in faint:
        ink[y0:y1, x0:x1] = 0.4  # below the ink threshold, above the faint-ink one
    return ink


def marks_of(ink: np.ndarray) -> list[str | None]:
    return [glyph.mark for line in segment(ink) for glyph in line]


def test_segment_labels_punctuation_between_characters():
    assert marks_of(stroke_page([(66, 92, 72, 100)])) == [None, ".", None]
    assert marks_of(stroke_page([(66, 92, 72, 100), (67, 100, 70, 116)])) == [None, ",", None]
    assert marks_of(stroke_page([(55, 58, 90, 64)])) == [None, "-", None]
    assert marks_of(stroke_page([(66, 45, 72, 51), (66, 92, 72, 100)])) == [None, ":", None]
    assert marks_of(stroke_page([])) == [None, None]


def test_a_period_under_a_characters_box_is_not_swallowed_by_it():
    ink = stroke_page([(26, 92, 60, 98), (62, 92, 68, 100)])  # the first character gets a foot reaching to x 60
    assert marks_of(ink) == [None, ".", None]


def test_a_piece_joined_to_its_character_by_faint_ink_is_part_of_it():
    """The foot of a faint 6 broken off at the ink threshold is no period."""
    foot, piece = (26, 94, 50, 100), (40, 84, 46, 90)  # the first character is an L; a dot over its foot
    assert marks_of(stroke_page([foot, piece], faint=[(40, 90, 46, 94)])) == [None, None]
    assert marks_of(stroke_page([foot, piece])) == [None, ".", None]  # a clean gap: a period


def test_a_bar_across_a_stem_stays_with_it():
    ink = stroke_page([(110, 58, 136, 64)])  # centred on the second stroke: a crossed 7
    assert marks_of(ink) == [None, None]


def test_a_dotted_guide_line_is_not_punctuation():
    ink = stroke_page([])
    for x in range(0, 200, 10):
        ink[104:107, x:x + 5] = 1.0  # a dashed line under the two strokes, as on a form
    assert marks_of(ink) == [None, None]
    ellipsis = stroke_page([(60, 94, 64, 100), (70, 94, 74, 100), (80, 94, 84, 100)])
    assert marks_of(ellipsis) == [None, ".", ".", ".", None]  # three dots are an ellipsis


def test_guide_line_counts():
    assert guide_line([".", ".", ".", ".", "."], characters=3) == "."
    assert guide_line(["-"] * 5, characters=6) is None      # 1-2-3-4-5-6: dashes between digits
    assert guide_line(["."] * 3, characters=0) is None      # an ellipsis


def test_a_page_of_flat_strokes_alone_is_dashes():
    """With no upright mark there is no line to measure a dash against, but no letter or digit is flat."""
    ink = np.zeros((120, 200), np.float32)
    ink[60:66, 40:100] = 1.0
    assert marks_of(ink) == ["-"]
    ink[60:66, 130:180] = 1.0
    assert marks_of(ink) == ["-", "-"]
    ink[30:90, 110:116] = 1.0  # an upright stroke between them: they are judged against its height, as before
    assert marks_of(ink) == ["-", None, "-"]
    ink[60:66] = 0.0
    ink[30:36, 40:100] = 1.0  # a flat stroke level with the top of a character is no dash
    assert "-" not in marks_of(ink)


@pytest.mark.parametrize("reader", ["characters", "lines"])
def test_a_dash_drawn_alone_is_read_as_a_dash(reader):
    from PIL import Image, ImageDraw

    from inkread.inference.jobs import load_reader

    image = Image.new("L", (300, 200), 255)
    ImageDraw.Draw(image).line([(120, 100), (180, 102)], fill=0, width=6)
    loaded = load_reader(reader)
    if reader == "lines":  # nothing but a mark: the line model is not even run
        loaded._run = lambda lines: pytest.fail("the line model ran on a line of marks alone")
    result = loaded.read(image)
    assert result.text == "-" and result.characters[0].punctuation


def _digits_and_marks(items: str) -> np.ndarray:
    """The shipped sample digits (about 60 px tall, a pen of 5) side by side on white paper, with each ":" and ","
    between them drawn as one pressed hard: dots a third of the tallest digit across (the comma's tail one pen wide)."""
    from PIL import Image, ImageDraw

    from helpers import sample_digit_ink
    from inkread.imaging.stroke import stroke_width

    samples = {digit: sample_digit_ink(f"hwd1000-{digit}-{code}.png", 3) for digit, code in
               zip("0123456789", ["007", "012", "020", "033", "041", "050", "066", "070", "088", "099"])}
    height = max(ink.shape[0] for ink in samples.values())
    pen = round(float(np.median([stroke_width(ink > 0.5) for ink in samples.values()])))
    page = Image.new("L", (len(items) * height, 2 * height), 0)
    draw, x, base = ImageDraw.Draw(page), height // 4, height // 2 + height
    for item in items:
        if item.isdigit():
            ink = samples[item]
            region = np.asarray(page, np.float32) / 255
            region[base - ink.shape[0]:base, x:x + ink.shape[1]] = np.maximum(region[base - ink.shape[0]:base, x:x + ink.shape[1]], ink)
            page = Image.fromarray((region * 255).astype(np.uint8))
            draw, x = ImageDraw.Draw(page), x + ink.shape[1] + height // 6
            continue
        dot = height // 3
        draw.ellipse([x, base - dot, x + dot, base], fill=255)
        if item == ":":
            draw.ellipse([x, base - height // 2 - dot, x + dot, base - height // 2], fill=255)
        else:
            draw.line([(x + dot - 1, base - dot // 2), (x - pen, base + height // 4)], fill=255, width=pen)
        x += dot + height // 6
    return 255 - np.asarray(page)


def test_a_colon_and_a_comma_pressed_hard_are_read_as_such():
    """Dots 2.5-3 pens wide outgrow a colon's and a comma's size: "12:30" was read "12230" and "8,5" "895"
    (`benchmarks/punctuation.py --dot-pens 2.5,3`: MNIST times 14% exact, lists 0%)."""
    from inkread.inference.recognizer import Recognizer

    recognizer = Recognizer.load("digits")
    assert recognizer.read(_digits_and_marks("12:30"), only="digits").text == "12:30"
    assert recognizer.read(_digits_and_marks("8,5"), only="digits").text == "8,5"


@pytest.mark.parametrize("reader", ["digits", "characters", "lines"])
def test_a_bullet_before_a_number_is_read_as_one(reader):
    """"• 95" was read "695" (the bullet as a 6); every reader gives the bullet as a mark and a space after it."""
    from PIL import Image, ImageDraw

    from helpers import sample_digit_ink
    from inkread.inference.jobs import load_reader

    page = np.zeros((140, 300), np.float32)
    x = 80
    for name in ("hwd1000-9-099.png", "hwd1000-5-050.png"):
        ink = sample_digit_ink(name, 3)
        page[30:30 + ink.shape[0], x:x + ink.shape[1]] = np.maximum(page[30:30 + ink.shape[0], x:x + ink.shape[1]], ink)
        x += ink.shape[1] + 12
    image = Image.fromarray(((1 - page) * 255).astype(np.uint8))
    ImageDraw.Draw(image).ellipse([40, 50, 58, 68], fill=0)  # 18 px across, a third of the digits' height
    result = load_reader(reader).read(image)
    assert result.text == "\u2022 95" and result.characters[0].punctuation
