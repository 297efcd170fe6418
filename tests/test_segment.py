"""Segmentation of multi-character images built from real MNIST and EMNIST samples."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from helpers import REPO, shared_subfolder
from inkread.imaging.components import label
from inkread.imaging.decode import load_image
from inkread.errors import InputImageError
from inkread.imaging.segment import MAX_GLYPHS, Glyph, may_hold_several, segment

SCALE = 3  # characters about 60 px tall, as in a photo or scan


@pytest.fixture(scope="module")
def mnist():
    folder = shared_subfolder("mnist")
    from inkread.data.idx import read_images, read_labels

    images = np.array(read_images(folder / "t10k-images-idx3-ubyte.gz")[:500])
    labels = np.array(read_labels(folder / "t10k-labels-idx1-ubyte.gz")[:500])
    return images, labels


@pytest.fixture(scope="module")
def emnist_i() -> list[np.ndarray]:
    """Real EMNIST lower-case 'i' samples whose dot is a separate mark from the stem."""
    folder = shared_subfolder("emnist")
    from inkread.data.idx import read_images, read_labels

    images = read_images(folder / "emnist-byclass-test-images-idx3-ubyte.gz")
    labels = read_labels(folder / "emnist-byclass-test-labels-idx1-ubyte.gz")
    found = []
    for index in np.flatnonzero(labels == 44)[:600]:  # byclass: 36 + 8 = 'i'
        image = big(images[index].T)
        if label(image > 0.5).count == 2:
            found.append(image)
    assert len(found) >= 5, "EMNIST should hold i's with a separate dot"
    return found


def big(image: np.ndarray) -> np.ndarray:
    """A 28x28 uint8 sample cropped to its ink, upscaled SCALE times, as float ink."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    crop = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    size = (crop.shape[1] * SCALE, crop.shape[0] * SCALE)
    return np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255


def compose(lines: list[list[np.ndarray | int]], gap: int = 12, line_gap: int = 30) -> tuple[np.ndarray, list[list[tuple]]]:
    """Place characters in lines (an int in a line is extra space in pixels); returns the ink and their boxes."""
    height = 30 * SCALE
    placed, rows = [], []
    for line in lines:
        x, boxes, pieces = 20, [], []
        for item in line:
            if isinstance(item, (int, np.integer)):
                x += int(item)
                continue
            top = (height - item.shape[0]) // 2
            pieces.append((x, top, item))
            boxes.append((x, top, x + item.shape[1], top + item.shape[0]))
            x += item.shape[1] + gap
        placed.append(boxes)
        rows.append((x, pieces))
    width = max(x for x, _ in rows) + 20
    ink = np.zeros((len(lines) * (height + line_gap) + 20, width), np.float32)
    for n, (_, pieces) in enumerate(rows):
        y0 = 10 + n * (height + line_gap)
        for x, top, item in pieces:
            region = ink[y0 + top:y0 + top + item.shape[0], x:x + item.shape[1]]
            np.maximum(region, item, out=region)
        placed[n] = [(x0, y0 + t, x1, y0 + b) for x0, t, x1, b in placed[n]]
    return ink, placed


def centre_inside(glyph: Glyph, box: tuple) -> bool:
    cx, cy = (glyph.box[0] + glyph.box[2]) / 2, (glyph.box[1] + glyph.box[3]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def pick(mnist, digits: str) -> list[np.ndarray]:
    """The first MNIST test sample of each digit in ``digits``."""
    images, labels = mnist
    return [big(images[np.flatnonzero(labels == int(d))[k % 3]]) for k, d in enumerate(digits)]


def test_digits_with_spaces(mnist):
    a, b, c, d, e = pick(mnist, "72104")
    ink, boxes = compose([[a, b, 40 * SCALE, c, d, e]])
    lines = segment(ink)
    assert len(lines) == 1 and len(lines[0]) == 5
    assert [g.space_before for g in lines[0]] == [False, False, True, False, False]
    assert all(centre_inside(g, box) for g, box in zip(lines[0], boxes[0]))


def test_two_lines(mnist):
    first, second = pick(mnist, "3141"), pick(mnist, "592")
    ink, boxes = compose([first, second[:1] + [30 * SCALE] + second[1:]])
    lines = segment(ink)
    assert [len(line) for line in lines] == [4, 3]
    for line, line_boxes in zip(lines, boxes):
        assert all(centre_inside(g, box) for g, box in zip(line, line_boxes))
    assert [g.space_before for line in lines for g in line] == [False] * 5 + [True, False]


def test_glyph_crops_hold_only_their_own_ink(mnist):
    digits = pick(mnist, "4096")
    ink, _ = compose([digits], gap=-4)  # boxes overlap, strokes may not touch
    for glyph in segment(ink)[0]:
        x0, y0, x1, y1 = glyph.box
        assert glyph.ink.dtype == np.float32 and glyph.ink.shape == (y1 - y0, x1 - x0)
        assert np.all(glyph.ink <= ink[y0:y1, x0:x1] + 1e-6)
        # the crop is one connected mark (or a mark plus its dot), never pieces of a neighbour
        assert label(glyph.ink > 0.5).count <= 2


def test_i_stem_and_dot_make_one_glyph(mnist, emnist_i):
    one, seven = pick(mnist, "17")
    for sample in emnist_i[:20]:
        ink, boxes = compose([[one, sample, seven]])
        lines = segment(ink)
        assert len(lines) == 1 and len(lines[0]) == 3
        middle = lines[0][1]
        placed = boxes[0][1]
        assert middle.box[3] - middle.box[1] >= 0.85 * (placed[3] - placed[1])  # from the dot to the foot
        assert label(middle.ink > 0.5).count == 2


def test_touching_pair_is_split(mnist):
    digits = pick(mnist, "52380")
    pair = np.zeros((max(digits[3].shape[0], digits[4].shape[0]), digits[3].shape[1] + digits[4].shape[1] - 4 * SCALE), np.float32)
    pair[:digits[3].shape[0], :digits[3].shape[1]] = digits[3]
    right = pair[:digits[4].shape[0], -digits[4].shape[1]:]
    np.maximum(right, digits[4], out=right)
    assert label(pair > 0.5).count == 1, "the two digits must touch"
    ink, boxes = compose([digits[:3] + [pair]])
    lines = segment(ink)
    assert len(lines) == 1 and len(lines[0]) == 5
    cut = lines[0][3].box[2]
    true_boundary = boxes[0][3][0] + digits[3].shape[1] - 2 * SCALE
    assert abs(cut - true_boundary) < 0.3 * digits[3].shape[1]
    # the two halves say they were one piece of ink (a line model may read it whole); the rest were not cut
    assert [g.cut_from is None for g in lines[0]] == [True, True, True, False, False]
    assert lines[0][3].cut_from == lines[0][4].cut_from


def test_wide_single_character_is_not_split(mnist):
    (zero,) = pick(mnist, "0")
    wide = np.asarray(Image.fromarray(np.round(zero * 255).astype(np.uint8)).resize((zero.shape[1] * 13 // 10, zero.shape[0])),
                      dtype=np.float32) / 255
    ink, _ = compose([[wide]])
    assert len(segment(ink)[0]) == 1


def test_specks_are_not_glyphs(mnist):
    digits = pick(mnist, "12")
    ink, _ = compose([digits])
    ink[2, 2] = ink[-3, -3] = 1.0
    assert len(segment(ink)[0]) == 2


def test_from_a_photographed_page(mnist):
    digits = pick(mnist, "2468")
    ink, boxes = compose([digits[:2] + [40 * SCALE] + digits[2:]])
    paper = np.clip(0.9 - 0.75 * ink + np.random.default_rng(0).normal(0, 0.02, ink.shape), 0, 1)
    buffer = io.BytesIO()
    Image.fromarray(np.round(paper * 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    lines = segment(load_image(buffer.getvalue()))
    assert len(lines) == 1 and len(lines[0]) == 4
    assert [g.space_before for g in lines[0]] == [False, False, True, False]
    assert all(centre_inside(g, box) for g, box in zip(lines[0], boxes[0]))


def test_blank_gives_no_lines():
    assert segment(np.zeros((50, 80), np.float32)) == []


def touching(left: np.ndarray, right: np.ndarray, overlap: int) -> np.ndarray:
    """Two ink crops side by side, the right one pushed ``overlap`` pixels into the left one."""
    height = max(left.shape[0], right.shape[0])
    pair = np.zeros((height, left.shape[1] + right.shape[1] - overlap), np.float32)
    pair[:left.shape[0], :left.shape[1]] = left
    region = pair[:right.shape[0], -right.shape[1]:]
    np.maximum(region, right, out=region)
    return pair


def test_a_chooser_decides_where_touching_characters_are_cut(mnist):
    digits = pick(mnist, "52380")
    ink, _ = compose([digits[:3] + [touching(digits[3], digits[4], 4 * SCALE)]])
    calls = []

    def choose_cuts(crop, candidates, counts):
        calls.append((crop.shape, list(candidates), counts))
        return [candidates[0]] if counts == (2, 1, 3) else []

    lines = segment(ink, choose_cuts=choose_cuts)
    wide = [call for call in calls if call[2] == (2, 1, 3)]  # the width says 2; one more or fewer may read better
    assert len(wide) == 1
    shape, candidates, _ = wide[0]
    assert candidates == sorted(candidates) and all(0 < c < shape[1] for c in candidates)
    plain = segment(ink)[0]  # without a chooser: the width rule's cut, which stays a candidate
    assert len(plain) == 5 and len(lines[0]) == 5
    plain_cut = plain[4].box[0] + 1 - plain[3].box[0] - 1  # glyph boxes carry a 1-pixel margin
    assert min(abs(plain_cut - c) for c in candidates) <= 2
    assert abs(lines[0][4].box[0] + 1 - (lines[0][3].box[0] + 1) - candidates[0]) <= 3  # cut where the chooser said


def test_a_glyph_too_narrow_for_the_width_rule_is_offered_as_one_or_two(mnist):
    left, right = pick(mnist, "40")
    height = max(left.shape[0], right.shape[0])
    pair = touching(left, right, left.shape[1] + right.shape[1] - round(1.2 * height))
    ink, _ = compose([[pair]])
    assert len(segment(ink)[0]) == 1, "a pair the width rule leaves whole"
    offered = []
    kept_whole = segment(ink, choose_cuts=lambda crop, candidates, counts: offered.append((counts, candidates)) or [])
    assert [counts for counts, _ in offered] == [(1, 2)] and len(kept_whole[0]) == 1
    assert kept_whole[0][0].cut_from is not None  # offered for cutting: it may hold two characters
    assert segment(ink)[0][0].cut_from is None
    assert offered[0][1], "there are places to cut"
    split = segment(ink, choose_cuts=lambda crop, candidates, counts: candidates[:1])
    assert len(split[0]) == 2


def test_a_round_blob_is_one_mark_never_offered_as_two():
    """A dot as wide as it is tall was offered as one or two, and its halves read as "11"; a ring is offered."""
    rows, cols = np.mgrid[:60, :60]
    radius = np.hypot(rows - 30, cols - 30)
    for shape, offered_as_two in ((radius <= 12, False), ((radius <= 12) & (radius >= 9), True)):
        offered = []
        lines = segment(shape.astype(np.float32), choose_cuts=lambda crop, candidates, counts: offered.append(counts) or [])
        assert len(lines[0]) == 1 and (offered == [(1, 2)]) == offered_as_two

def test_cut_columns_are_the_thin_places():
    from inkread.imaging.segment import _cut_columns

    column_ink = np.array([9, 9, 8, 2, 8, 9, 9, 9, 7, 1, 1, 7, 9, 9, 3, 9], np.float64)
    assert _cut_columns(column_ink, 3) == [3, 9]  # 14 is too close to the end; 10 too close to 9
    assert _cut_columns(column_ink, 9) == []


def test_a_bar_lifted_off_the_top_is_part_of_its_character_but_a_hyphen_is_not():
    def page(bar_top: int) -> np.ndarray:
        ink = np.zeros((120, 200), np.float32)
        ink[20:100, 40:46] = 1.0  # a stem, 80 px tall
        ink[94:100, 40:70] = 1.0  # with a foot: a body like the lower part of a 5
        ink[bar_top:bar_top + 6, 72:102] = 1.0  # a flat stroke 2 px right of the body
        ink[20:100, 140:146] = 1.0  # another character further right
        return ink

    assert [len(line) for line in segment(page(20))] == [2]  # the bar of a 5, drawn separately
    assert [len(line) for line in segment(page(57))] == [3]  # the same stroke at mid-height: a hyphen


def test_a_character_hanging_below_its_neighbours_stays_on_their_line():
    def page(third_top: int) -> np.ndarray:
        ink = np.zeros((220, 260), np.float32)
        for left in (20, 80):
            ink[20:80, left:left + 6] = 1.0  # two upright strokes, 60 px tall
            ink[20:26, left:left + 30] = 1.0
        ink[third_top:third_top + 60, 150:156] = 1.0  # a third one, lower (a descender, a sloping line)
        ink[third_top:third_top + 6, 150:180] = 1.0
        return ink

    assert [len(line) for line in segment(page(59))] == [3]  # hangs two thirds of its height lower: same line
    assert [len(line) for line in segment(page(140))] == [2, 1]  # wholly below: a line of its own


def test_a_thin_dash_is_one_mark_and_tiny_noise_never_crashes():
    """A 1-2 px tall line once had a "typical width" of a pixel and was cut into empty pieces."""
    for width in (2, 3, 40):
        ink = np.zeros((60, 200), np.float32)
        ink[30, 80:80 + width] = 1.0
        assert [len(line) for line in segment(ink)] == [1]
    rng = np.random.default_rng(0)
    for _ in range(300):
        height, width = rng.integers(3, 40, 2)
        ink = (rng.random((height, width)) < rng.random() * 0.3).astype(np.float32)
        try:
            segment(ink)
        except InputImageError:
            pass  # too many marks: a clear error is fine, a crash is not


def test_more_marks_than_handwriting_has_is_refused_fast():
    """Thousands of specks (noise, a texture) would otherwise make thousands of glyphs. (A regular grid of
    dots is dotted paper: its dots are taken out, and a blank dotted page reads as nothing.)"""
    rng = np.random.default_rng(0)
    ink = np.zeros((512, 512), np.float32)
    for y, x in rng.integers(0, 510, (4000, 2)):
        ink[y:y + 2, x:x + 2] = 1.0
    with pytest.raises(InputImageError, match=f"more than {MAX_GLYPHS} marks to read.*crop the image"):
        segment(ink)
    grid = np.zeros((512, 512), np.float32)
    for dy in (0, 1):
        for dx in (0, 1):
            grid[dy::6, dx::6] = 1.0
    assert segment(grid) == []


def test_pepper_noise_is_read_as_no_writing_by_read_as_by_predict():
    """Pepper noise (0.2% of a page's pixels, single dots): predict refused it as more than 500 marks,
    but read dropped the dots as specks first, kept the few that touch, and read "2 / 8182 / 2 8 / 2".
    Single black pixels scattered on white are what a black-and-white scan makes of a light gray: both now
    find no writing, and writing under 1% pepper, refused as noise before, is read."""
    from inkread import Recognizer

    rng = np.random.default_rng(0)
    page = np.full((768, 1024), 255, np.uint8)
    page[rng.random(page.shape) < 0.002] = 0
    recognizer = Recognizer.load("digits")
    assert recognizer.predict(page).no_ink
    assert recognizer.read(page).text == ""
    scan = np.where(np.asarray(Image.open(REPO / "samples" / "text" / "phone-0612-334.png").convert("L")) < 128, 0, 255)
    scan[rng.random(scan.shape) < 0.01] = 0
    assert recognizer.read(scan.astype(np.uint8)).text == "0612 334"
    grain = rng.integers(0, 256, page.shape).astype(np.uint8)  # noise of every level is no scan of a gray: refused
    with pytest.raises(InputImageError, match="marks to read .*noise"):
        recognizer.read(grain)


def test_a_page_of_writing_is_read_though_it_has_more_marks_than_a_character_may():
    """Fourteen lines of a pangram (about 600 marks with the i's dots) were refused by read as "ruled or squared
    paper, a grid, noise?": 500 marks, predict's limit for one character, was read's limit for a page too."""
    from PIL import Image, ImageDraw, ImageFont

    from helpers import matplotlib_fonts

    page = Image.new("L", (900, 700), 255)
    font = ImageFont.truetype(str(matplotlib_fonts() / "DejaVuSans.ttf"), 26)
    for line in range(14):
        ImageDraw.Draw(page).text((20, 20 + 46 * line), "the quick brown fox jumps over the lazy dog", font=font, fill=0)
    found = segment(1.0 - np.asarray(page, np.float32) / 255)
    assert len(found) == 14 and sum(len(line) for line in found) > 500
    # the same page on rules broken into dashes (a photo of ruled paper): refused, as it was, not read as
    # "aa tlejundpsdeg" (the dashes, a fifth or more of the marks, are what no page of writing has)
    draw = ImageDraw.Draw(page)
    for line in range(14):
        for x in range(10, 890, 44):
            draw.line([(x, 56 + 46 * line), (x + 12, 56 + 46 * line)], fill=0, width=2)
    with pytest.raises(InputImageError, match="more than 500 marks to read .ruled or squared paper"):
        segment(1.0 - np.asarray(page, np.float32) / 255)


def test_a_narrow_one_does_not_start_a_word():
    """1, 7, 0 drawn at equal spacing: the 1's own box is narrow, so the gap after it looked like a word gap."""
    ink = np.zeros((80, 200), np.float32)
    for centre, half in ((30, 2), (66, 12), (102, 12)):  # centres 36 px apart, characters 40 px tall
        ink[20:60, centre - half:centre + half] = 1.0
        if half > 2:
            ink[24:56, centre - half + 4:centre + half - 4] = 0.0  # a ring, not a block
    [line] = segment(ink)
    assert [glyph.space_before for glyph in line] == [False, False, False]
    ink[:, 140:] = 0.0
    ink[20:60, 160:184] = 1.0  # a character 46 px after the last one: a new word
    [line] = segment(ink)
    assert [glyph.space_before for glyph in line] == [False, False, False, True]


def test_strokes_apart_are_offered_to_the_join_chooser_and_grouped_as_it_says():
    """The stem of a K drawn apart from its arms: one character if the chooser says so."""
    ink = np.zeros((120, 260), np.float32)
    ink[20:100, 20:26] = 1.0                      # a stem with a serif reaching over...
    ink[20:23, 26:33] = 1.0
    for y in range(20, 100):                      # ...arms starting 1 px to its right (boxes overlap)
        x = 27 + abs(y - 60) // 2
        ink[y, x:x + 6] = 1.0
    ink[20:100, 120:126] = 1.0                    # a character well apart
    ink[92:100, 150:156] = 1.0                    # a period
    ink[20:100, 165:171] = 1.0                    # and one more right after it
    offered = []

    def join_all(count, spans, inks, overlaps):
        offered.append((count, spans, [None if i is None else i.shape for i in inks]))
        shares.update(zip(spans, overlaps))
        return [(0, count)]

    shares = {}

    assert [len(line) for line in segment(ink)] == [5]
    lines = segment(ink, choose_joins=join_all)
    assert [len(line) for line in lines] == [4]
    assert lines[0][0].box[0] < 26 < 47 <= lines[0][0].box[2]  # stem and arms in one box
    assert [count for count, _, _ in offered] == [2]  # only the K's strokes are close: the period breaks no run
    assert sorted(offered[0][1]) == [(0, 1), (0, 2), (1, 2)]
    # the stem's box (serif included) overlaps the arms' by 6 of its 13 px: nearly MERGE_OVERLAP's half
    assert shares[(0, 2)] == pytest.approx(6 / 6.5)
    assert [len(line) for line in segment(ink, choose_joins=lambda count, spans, inks, overlaps: None)] == [5]


def test_overlap_share_grows_with_the_overlap_of_the_narrower_box_up_to_merge_overlap():
    from inkread.imaging.segment import MERGE_OVERLAP, _overlap_share, _Part

    narrow = _Part([0], [40, 0, 50, 80])  # 10 px wide
    assert _overlap_share(narrow, _Part([1], [60, 0, 100, 80])) == 0.0  # apart
    assert _overlap_share(narrow, _Part([1], [50, 0, 100, 80])) == 0.0  # touching, no overlap
    assert _overlap_share(narrow, _Part([1], [48, 0, 100, 80])) == pytest.approx(2 / (MERGE_OVERLAP * 10))
    assert _overlap_share(_Part([1], [48, 0, 100, 80]), narrow) == _overlap_share(narrow, _Part([1], [48, 0, 100, 80]))
    assert _overlap_share(narrow, _Part([1], [0, 0, 100, 80])) == 1.0  # capped at 1


def test_a_joined_glyph_is_never_cut_again():
    """A character wider than usual is offered to the cut chooser as "one or two"; once joined, it is one."""
    ink = np.zeros((80, 200), np.float32)
    ink[20:60, 20:24] = 1.0
    ink[20:24, 24:44] = 1.0   # a stem with a bar reaching over...
    ink[26:60, 41:45] = 1.0   # ...a second stem (not touching it) with a bowl: 40 px wide together
    ink[40:44, 45:60] = ink[56:60, 45:60] = ink[40:60, 56:60] = 1.0
    asked = []
    cut_chooser = lambda ink, candidates, counts: asked.append(counts) or None  # noqa: E731
    segment(ink, choose_cuts=cut_chooser, choose_joins=lambda count, spans, inks, overlaps: [(0, count)])
    assert asked == []
    segment(ink, choose_cuts=cut_chooser, choose_joins=lambda count, spans, inks, overlaps: None)
    segment(ink[:, :30], choose_cuts=cut_chooser)  # sanity: alone, neither part is offered
    assert asked == []


def test_a_bar_with_more_ink_than_its_stem_does_not_set_the_line_height():
    """A T whose long bar was drawn apart: the bar once counted as the characters' height (it holds
    most of the ink), the stem then looked like a line of its own, and the T was read as two lines."""
    ink = np.zeros((100, 120), np.float32)
    ink[10:16, 20:100] = 1.0   # the bar: 480 pixels
    ink[18:78, 57:63] = 1.0    # the stem, 2 px below it: 360 pixels
    assert [len(line) for line in segment(ink)] == [1]


def test_two_lines_touching_through_one_stroke_stay_two_lines():
    """A descender of the first line that runs into an ascender of the second (tight writing) makes one
    component two lines tall: it belongs to one line, and must not pull the two lines into one."""
    ink = np.zeros((240, 420), np.float32)
    for line_top in (20, 130):
        for left in range(20, 400, 60):
            ink[line_top:line_top + 60, left:left + 6] = 1.0  # characters 60 px tall, 70 px between lines
            ink[line_top:line_top + 6, left:left + 30] = 1.0
    ink[80:130, 200:206] = 1.0  # the fourth character of line 1 reaches down into the fourth of line 2
    lines = segment(ink)
    assert [len(line) for line in lines] == [7, 6]
    assert all(g.box[3] <= 82 for g in lines[0] if g.box[0] != 199) and all(g.box[1] >= 128 for g in lines[1])


def test_may_hold_several_finds_ink_in_pieces_apart_or_wide():
    ink = np.zeros((20, 40), np.float32)
    ink[5:15, 4:8] = 1.0  # one stroke
    assert not may_hold_several(ink)
    assert not may_hold_several(np.zeros((20, 30), np.float32))  # blank
    beside = ink.copy()
    beside[5:15, 12:16] = 1.0  # a second stroke to its right
    assert may_hold_several(beside)
    below = ink.copy()
    below[17:19, 4:8] = 1.0  # a dot below
    assert may_hold_several(below)
    faint = ink.copy()
    faint[5:15, 12:16] = 0.3  # too faint to count as ink
    assert not may_hold_several(faint)
    wide = ink.copy()
    wide[5:15, 4:30] = 1.0  # 26 wide, 10 tall: touching characters, if no character is that wide
    assert not may_hold_several(wide) and may_hold_several(wide, wide=1.4) and not may_hold_several(wide, wide=3.0)


def test_a_wide_smear_is_one_glyph_not_slices_read_as_characters():
    """A word scribbled out (a filled mark three times as wide as high) is wider than the width rule's
    limit; cut, its slices read as "921" with a confident 1."""
    rows, cols = np.mgrid[:140, :520]
    ink = np.zeros((140, 520), np.float32)
    ink[30:110, 36:44] = 1.0  # a 1
    ink[(((rows - 70) / 30) ** 2 + ((cols - 250) / 80) ** 2) <= 1] = 1.0
    ink[30:110, 420:428] = 1.0  # another 1
    for choose_cuts in (None, lambda crop, candidates, counts: candidates[:counts[0] - 1]):
        line, = segment(ink, choose_cuts=choose_cuts)
        assert len(line) == 3 and line[1].box[2] - line[1].box[0] >= 160


def test_a_row_of_crumbs_far_below_the_writing_neither_joins_its_line_nor_is_read():
    """A rule broken into dashes in a photo, 5 heights below a line: its crumbs joined the line (which
    became six times as tall, and read as garbage); an i's dot high above its stem still joins it."""
    rng = np.random.default_rng(0)
    ink = np.zeros((400, 900), np.float32)
    for x in (100, 200, 300):
        ink[40:100, x:x + 8] = 1.0  # three 1s, 60 px tall
    x = 20
    while x < 880:
        length = int(rng.integers(4, 20))
        ink[350:353, x:x + length] = 1.0
        x += length + int(rng.integers(2, 12))
    lines = segment(ink)
    assert [len(line) for line in lines] == [3] and all(g.box[3] <= 101 for g in lines[0])
    dotted = np.zeros((300, 200), np.float32)
    dotted[200:240, 90:96] = 1.0  # a short stem...
    dotted[60:66, 88:98] = 1.0  # ...and its dot three of its heights above
    assert [len(line) for line in segment(dotted)] == [1]


def test_a_line_of_nothing_but_a_guide_line_is_no_line():
    """Crumbs of a rule along the image's top edge (a ruled page under a shadow) made a line whose
    marks were all the guide line: it was dropped, and an empty line was left, which gave numpy's
    "Mean of empty slice" warning on standard error and an empty line to read."""
    import warnings

    ink = np.zeros((100, 300), np.float32)
    for x in range(20, 280, 20):
        ink[0, x:x + 4] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert segment(ink) == []


def _stems_and_a_mark(mark: np.ndarray) -> np.ndarray:
    """Two upright strokes 60 px tall (a pen of 5) with ``mark`` (a 24 px square of ink) on their baseline between them."""
    ink = np.zeros((120, 200), np.float32)
    ink[30:90, 40:45] = 1.0
    ink[30:90, 150:155] = 1.0
    ink[66:90, 85:109] = mark
    return ink


def test_a_firm_full_stop_larger_than_a_dot_is_still_a_full_stop():
    """A full stop pressed hard, or grown by a photo's blur, is 0.3-0.45 of the line's height: it was read as a
    digit ("3.14" as "3614"). A solid round blob on the baseline is a full stop; a ring of that size is not."""
    yy, xx = np.mgrid[0:24, 0:24]
    distance = np.hypot(yy - 11.5, xx - 11.5)
    disc = (distance <= 11.5).astype(np.float32)  # 0.4 of the line's height
    ring = ((distance <= 11.5) & (distance >= 7.5)).astype(np.float32)  # an o of a thick pen
    (line,) = segment(_stems_and_a_mark(disc))
    assert [glyph.mark for glyph in line] == [None, ".", None]
    (line,) = segment(_stems_and_a_mark(ring))
    assert [glyph.mark for glyph in line] == [None, None, None]


def _zeros_and(draw_mark) -> np.ndarray:
    """Two 0s 60 px tall (a pen of 5, from row 30 to the baseline at row 90) and between them what
    ``draw_mark(draw)`` draws with PIL on a 220x140 canvas (x 60-140 is free)."""
    from PIL import ImageDraw

    canvas = Image.new("L", (220, 140), 0)
    draw = ImageDraw.Draw(canvas)
    draw.ellipse([15, 30, 50, 89], outline=255, width=5)
    draw.ellipse([150, 30, 185, 89], outline=255, width=5)
    draw_mark(draw)
    return np.asarray(canvas, np.float32) / 255


def _comma(draw, head: int, pen: int, solid: bool = True) -> None:
    """A comma: a disc ``head`` px wide on the baseline (a ring of the pen unless ``solid``: a small g written
    low), a tail ``pen`` wide from its right side down and to the left."""
    draw.ellipse([85, 90 - head, 85 + head, 90], fill=255, outline=255, width=head if solid else pen)
    if not solid:
        draw.ellipse([85 + pen, 90 - head + pen, 85 + head - pen, 90 - pen], fill=0)
    draw.line([(85 + head - 2, 90 - head / 2), (80, 110)], fill=255, width=pen)


def test_a_comma_pressed_hard_is_a_comma_in_its_line():
    """A comma with a head 0.3-0.45 of the line's height and its tail was wider and taller than a comma may be:
    read as a digit ("8,5" as "895"), or, hanging low, as a line of its own ("2 2" and "9" below). A comma-placed
    mark with a head twice the line's pen or more is a comma, in the line; one as large drawn with the line's pen
    (a small g written low) is not."""
    (line,) = segment(_zeros_and(lambda draw: _comma(draw, head=20, pen=5)))
    assert [glyph.mark for glyph in line] == [None, ",", None]
    small_g = _zeros_and(lambda draw: _comma(draw, head=20, pen=5, solid=False))
    assert all(glyph.mark is None for line in segment(small_g) for glyph in line)


def test_a_colon_pressed_hard_is_a_colon():
    """A colon's two dots 0.3-0.45 of the line's height, one above the other, were read as a digit ("12:30" as
    "12230"). Two solid round dots so placed are a colon; two rings so placed (an 8 drawn in two pieces) are not."""
    def dots(draw, inner: int) -> None:
        for top in (38, 68):
            draw.ellipse([85, top, 107, top + 22], fill=255)
            if inner:
                draw.ellipse([85 + inner, top + inner, 107 - inner, top + 22 - inner], fill=0)

    (line,) = segment(_zeros_and(lambda draw: dots(draw, 0)))
    assert [glyph.mark for glyph in line] == [None, ":", None]
    (line,) = segment(_zeros_and(lambda draw: dots(draw, 5)))
    assert ":" not in [glyph.mark for glyph in line]


def test_a_bullet_starting_the_next_line_stays_in_its_line():
    """A solid dot (a bullet, a small 0 filled in by a marker) first in the line below is placed, against the
    line above, as a comma hanging far below it: it joined that line, whose band then took in the whole next
    line ("• 95 / • 86" read "22"). A comma's head sits on its line."""
    from PIL import ImageDraw

    canvas = Image.new("L", (260, 300), 0)
    draw = ImageDraw.Draw(canvas)
    for top in (30, 150):  # two lines of two 0s, 60 px tall, two line heights apart
        draw.ellipse([40, top + 4, 72, top + 36], fill=255)  # the bullet, 32 px across, set high
        for x in (90, 170):
            draw.ellipse([x, top, x + 35, top + 59], outline=255, width=5)
    lines = segment(np.asarray(canvas, np.float32) / 255)
    assert [len(line) for line in lines] == [3, 3]
    assert all(glyph.box[1] >= 140 for glyph in lines[1])


def test_a_bullet_first_in_its_line_is_a_bullet():
    """A list's bullet, a solid round dot at mid-height before the line's writing, was read as a character ("• 95"
    as "695"); it is the mark "•". A ring there (an o, a 0) is not, nor a dot touching what follows it, nor a dot
    alone."""
    def page(inner: int, gap: int, zeros: int = 2) -> np.ndarray:
        from PIL import ImageDraw

        canvas = Image.new("L", (300, 120), 0)
        draw = ImageDraw.Draw(canvas)
        draw.ellipse([20, 45, 46, 71], fill=255)  # 26 px across, 0.43 of the line's height
        if inner:
            draw.ellipse([20 + inner, 45 + inner, 46 - inner, 71 - inner], fill=0)
        for k in range(zeros):
            draw.ellipse([46 + gap + 50 * k, 30, 46 + gap + 50 * k + 35, 89], outline=255, width=5)
        return np.asarray(canvas, np.float32) / 255

    assert [[glyph.mark for glyph in line] for line in segment(page(0, 20))] == [["\u2022", None, None]]
    assert [[glyph.mark for glyph in line] for line in segment(page(6, 20))] == [[None, None, None]]
    assert [[glyph.mark for glyph in line] for line in segment(page(0, 4))] == [[None, None, None]]
    assert [[glyph.mark for glyph in line] for line in segment(page(0, 20, zeros=0))] == [[None]]


def test_a_semicolon_is_a_semicolon():
    """A dot over a comma between two characters was read as a character."""
    def semicolon(draw) -> None:
        draw.ellipse([86, 52, 95, 61], fill=255)
        draw.ellipse([86, 81, 95, 90], fill=255)
        draw.line([(94, 86), (86, 102)], fill=255, width=5)

    (line,) = segment(_zeros_and(semicolon))
    assert [glyph.mark for glyph in line] == [None, ";", None]


@pytest.mark.parametrize("image, reader, first_line", [("turned_note_digits.png", "digits", "0612 334 5512 9981"),
                                                       ("turned_note_words.png", "lines", "eggs")])
def test_a_note_turned_a_few_degrees_keeps_its_lines_in_order(image, reader, first_line):
    """Two lines of HwD-1000 digits turned -6 degrees, of UNIPEN letters +6 (a helper's notes): bands are level, so
    the lines overlapped in them and came out as one line of merged digits ("59632135 9981"), or the first line's
    end as a line of its own above its start ("nd mil imk / ag egjs / ,call 0612 331"). Grouped along their slope."""
    from pathlib import Path

    from inkread import LineReader, Recognizer

    note = Path(__file__).resolve().parent / "data" / image
    lines = (Recognizer.load(reader) if reader == "digits" else LineReader.load(reader)).read(note).text.split("\n")
    assert len(lines) == 2 and first_line in lines[0]


@pytest.mark.parametrize("reader", ["lines", "characters"])
def test_a_note_turned_ten_degrees_keeps_each_character_in_its_own_line(reader):
    """Three lines of UNIPEN characters turned +10 degrees (``benchmarks/turned_notes.py``'s third note): level
    bands made three lines as written, so the grouping along the slope was not taken, but the level ones held
    the second and third lines' starts stacked and merged into tall glyphs ("cause strip 847 / whose 3518 atom"
    read "ST / Z'ns os"). Grouped along the slope wherever that groups the parts otherwise."""
    from pathlib import Path

    from inkread import LineReader, Recognizer

    note = Path(__file__).resolve().parent / "data" / "turned_note_three_lines.png"
    lines = (LineReader.load("lines") if reader == "lines" else Recognizer.load("characters")).read(note).text.split("\n")
    assert len(lines) == 3 and "strip" in lines[1] and lines[1].lower().startswith("c") and lines[2].startswith("w")


def test_a_short_line_of_small_digits_under_large_ones_is_a_line_not_their_commas():
    """Three digits a quarter as tall as a line of large ones, a line height below it: rows of small parts far from
    the writing were a line of their own only from five marks (a rule's crumbs); fewer joined the line above,
    where they hung below it as commas ("47,1,,95"). Two or more that are no dots or dashes make a line."""
    from PIL import ImageDraw

    from helpers import render
    from inkread import Recognizer

    sheet = Image.new("L", (1200, 900), 255)
    sheet.paste(render("4 7 1 9 5", size=(1200, 560), font_size=260), (0, 0))
    sheet.paste(render("3 3 4", size=(1200, 200), font_size=60), (0, 640))
    assert Recognizer.load("digits").read(sheet).text == "47195\n334"
    # an i's dots high above its letters still join them: dots, not writing
    dots = Image.new("L", (900, 400), 255)
    draw = ImageDraw.Draw(dots)
    for x in (200, 500):
        draw.line([(x, 220), (x, 330)], fill=0, width=14)  # the stems
        draw.ellipse([x - 10, 60, x + 10, 80], fill=0)  # dots 1.3 stem heights above
    assert len(segment(load_image(dots))) == 1


def test_a_line_of_small_writing_between_two_lines_of_large_is_a_line_of_its_own():
    """Digits a third as tall as two lines of large ones, half a line height from each: closer than a character
    height to a line, they joined the one above as its commas ("l,u,,nch" for "ok 42" under "lunch", a helper's
    page), and a line of writing was lost. Two or more written parts half that far make a line too."""
    from helpers import render
    from inkread import Recognizer

    sheet = Image.new("L", (1200, 520), 255)
    sheet.paste(render("4 7 1 9 5", size=(1200, 200), font_size=150), (0, 0))  # its digits 108 px tall, rows 50-157
    sheet.paste(render("3 3 4", size=(1200, 90), font_size=50), (0, 197))  # centred 0.8 of their height below
    sheet.paste(render("2 8 6 0", size=(1200, 200), font_size=150), (0, 279))  # ...and above the next line
    lines = segment(load_image(sheet))
    assert [len(line) for line in lines] == [5, 3, 4]
    assert Recognizer.load("digits").read(sheet).text == "47195\n334\n2860"


def test_the_slope_of_level_writing_is_none_and_of_turned_writing_its_angle():
    from helpers import render
    from inkread.imaging.segment import writing_skew

    level = load_image(render("0612 334 5512\n2026 1121 4410", size=(1100, 420), font_size=60)) > 0.5
    assert writing_skew(level, 40) == 0.0
    turned = load_image(render("0612 334 5512\n2026 1121 4410", size=(1100, 420), font_size=60).rotate(
        7, Image.Resampling.BILINEAR, expand=True, fillcolor=255)) > 0.5
    assert writing_skew(turned, 40) == pytest.approx(-7, abs=1.0)  # turned counterclockwise: rising to the right
    assert writing_skew(np.zeros((50, 50), bool), 10) == 0.0


def test_a_t_whose_bar_is_drawn_apart_beside_small_letters_is_one_line():
    """Capitals twice the small letters take no part in making the lines' bands (a descender run into the next
    line is as tall), so a T's bar drawn apart from its stem, hooked at its end, made a band of its own above the
    text: "Dear Tom" read "T / DGar LOM" (a helper's drawing). A line of parts riding on a capital joins its line."""
    from PIL import ImageDraw

    image = Image.new("L", (560, 170), 255)
    draw, base, top, x_height, pen = ImageDraw.Draw(image), 110, 46, 32, 4
    draw.line((30, top, 30, base), fill=0, width=pen)
    draw.arc((0, top, 60, base), 270, 90, fill=0, width=pen)  # D
    draw.arc((80, base - x_height, 112, base), 20, 340, fill=0, width=pen)
    draw.line((82, base - 16, 112, base - 16), fill=0, width=pen)  # e
    draw.ellipse((126, base - x_height, 158, base), outline=0, width=pen)
    draw.line((158, base - x_height, 158, base), fill=0, width=pen)  # a
    draw.line((172, base - x_height, 172, base), fill=0, width=pen)
    draw.arc((172, base - x_height, 204, base + x_height), 200, 300, fill=0, width=pen)  # r
    draw.line((244, top + 20, 244, top), fill=0, width=pen)
    draw.line((244, top, 294, top), fill=0, width=pen)  # the T's bar, hooked at its left end...
    draw.line((269, top + 5, 269, base), fill=0, width=pen)  # ...apart from its stem
    draw.ellipse((310, base - x_height, 342, base), outline=0, width=pen)  # o
    lines = segment(load_image(image))
    assert len(lines) == 1 and len(lines[0]) == 6  # D e a r T o
