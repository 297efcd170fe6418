"""Rules of lined and squared paper taken out of the ink (``imaging.rules``), and read through."""

from __future__ import annotations

import numpy as np
import pytest

from inkread.imaging.rules import remove_rules
from inkread.imaging.segment import segment


def ring(ink: np.ndarray, x: int, y: int, size: int = 40, pen: int = 4) -> None:
    """A square ring (a stand-in character) with its top-left corner at (x, y)."""
    ink[y:y + size, x:x + size] = 1.0
    ink[y + pen:y + size - pen, x + pen:x + size - pen] = 0.0


def lined_page(rule_rows=(59, 100), level: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Three rings on a page with faint full-width rules: (ink, the rings alone)."""
    rings = np.zeros((140, 300), np.float32)
    for x in (30, 120, 210):
        ring(rings, x, 20)
    ink = rings.copy()
    for row in rule_rows:
        ink[row:row + 2, :] = np.maximum(ink[row:row + 2, :], level)
    return ink, rings


def test_rules_are_erased_and_the_characters_kept():
    ink, rings = lined_page()
    clean = remove_rules(ink)
    rule = np.zeros(ink.shape, bool)
    rule[59:61, :] = rule[100:102, :] = True
    assert np.array_equal((clean > 0.2) & ~rule, (rings > 0.2) & ~rule) and not (clean[100:102] > 0).any()
    # the rings stand on the rule at row 59: under them it stays (their feet), between them it goes
    assert (clean[59:61, 30:70] > 0.2).all() and not (clean[59:61, 75:115] > 0).any()
    assert [len(line) for line in segment(ink)] == [3]


def test_a_rule_touching_the_characters_no_longer_joins_them():
    ink, _ = lined_page(rule_rows=(58,), level=1.0)  # the rings' bottoms are rows 56-59
    assert [len(line) for line in segment(ink)] == [3]
    kept = remove_rules(ink)[58:60]
    assert kept[:, 30:70].any() and not kept[:, 80:110].any()  # under a ring kept, between rings erased


def test_a_slightly_tilted_rule_and_squared_paper():
    ink, rings = lined_page(rule_rows=())
    for x in range(300):  # a rule 1 degree off the horizontal
        y = 110 + int(x * 0.017)
        ink[y:y + 2, x] = 0.6
    assert np.array_equal(remove_rules(ink) > 0.2, rings > 0.2)
    grid, _ = lined_page(rule_rows=range(5, 140, 12), level=0.5)
    grid[:, 6::12] = np.maximum(grid[:, 6::12], 0.5)
    assert [len(line) for line in segment(grid)] == [3]  # not hundreds of squares


@pytest.mark.parametrize("degrees", [-7.0, -3.0, 2.0, 5.0])
def test_rules_of_a_page_photographed_askew_are_sheared_level_and_erased(degrees):
    """Rules tilted past what a run can step over (about 1 degree), up to MAX_TILT_DEG, cut off
    by the page's edges: all of them go, every piece of the rings stays."""
    rings = np.zeros((200, 300), np.float32)
    for x in (30, 120, 210):
        ring(rings, x, 70)
    ink = rings.copy()
    rows, columns = np.mgrid[0:200, 0:300]
    slope = np.tan(np.radians(degrees))
    on_rule = np.abs((rows - slope * columns) % 30 - 15) < 1.0  # rules 30 px apart, 2 px thick
    ink[on_rule] = np.maximum(ink[on_rule], 0.6)
    clean = remove_rules(ink)
    near_rings = np.zeros(ink.shape, bool)
    for x in (30, 120, 210):
        near_rings[70 - 3:110 + 3, x - 3:x + 40 + 3] = True  # where a ring stands on a rule it keeps its feet
    assert not (clean[~near_rings] > 0).any()  # no other piece of a rule left, not even in a corner
    assert (clean[(rings > 0) & ~on_rule] == 1.0).all()  # the rings untouched off the rules...
    assert [len(line) for line in segment(ink)] == [3]  # ...and, where rules crossed them, still whole
    squared = rings.copy()  # squared paper askew: its columns are tilted rules too
    grid = (np.abs((rows - slope * columns) % 24 - 12) < 0.8) | (np.abs((columns + slope * rows) % 24 - 12) < 0.8)
    squared[grid] = np.maximum(squared[grid], 0.5)
    assert [len(line) for line in segment(squared)] == [3]


def test_the_writing_itself_is_never_a_rule():
    one = np.zeros((60, 8), np.float32)
    one[:, 2:6] = 1.0  # a 1 cropped to its ink: a stroke the whole height of the image
    assert np.array_equal(remove_rules(one), one)
    seven = np.zeros((40, 30), np.float32)
    seven[0:4, :] = 1.0  # a 7 cropped to its ink: the bar runs all the way across
    for y in range(4, 40):
        seven[y, 26 - y // 2:30 - y // 2] = 1.0
    assert np.array_equal(remove_rules(seven), seven)
    dash = np.zeros((20, 200), np.float32)
    dash[7:13, 5:195] = 1.0  # nothing else on the page: a long dash drawn with a pen, not a rule
    assert np.array_equal(remove_rules(dash), dash)
    fine = np.zeros((400, 120), np.float32)
    for y in range(15, 385):  # a fine pen's 1, slanted, cropped tight: 50 times taller than wide
        fine[y, 80 - (y - 15) // 12:87 - (y - 15) // 12] = 1.0
    assert np.array_equal(remove_rules(fine), fine)  # it was erased as a hairline: "nothing to read"


def test_blank_lined_paper_is_blank():
    page = np.zeros((400, 600), np.float32)
    page[40::40] = 0.7  # hairlines across the page, nothing written
    assert not remove_rules(page).any() and segment(page) == []


def test_one_large_character_on_a_ruled_page_loses_the_rules_it_is_not_three_times_as_long_as():
    """A ring 150 px wide on a 320 px page of rules: a rule is only twice its size, but a page with
    three hairlines or more across it is ruled paper (PAGE_RULES)."""
    rings = np.zeros((320, 320), np.float32)
    ring(rings, 85, 80, size=150, pen=12)
    ink = rings.copy()
    ink[14::30] = np.maximum(ink[14::30], 0.6)
    clean = remove_rules(ink)
    assert not (clean[(rings == 0)] > 0).any()  # every rule gone, even between the ring's sides
    assert (clean[rings > 0] > 0).all()  # the ring whole
    bars = np.zeros((60, 80), np.float32)
    for top in (2, 26, 50):
        bars[top:top + 8, :] = 1.0  # a tight crop of three thick bars (a drawn "≡"): no hairlines
    assert remove_rules(bars) is bars


def test_fine_squared_paper_in_a_large_photo_is_erased():
    """5 mm squares, 18 px apart on an 887 px page: thickened by the tilt a run may step (9 rows), the
    rules merged into one band, the page did not count as ruled, and the whole grid stayed (predict
    read a blank page as 0 and a 4 as 8)."""
    ink = np.zeros((887, 887), np.float32)
    ring(ink, 380, 380, size=120, pen=10)
    rings = ink.copy()
    ink[9::18] = np.maximum(ink[9::18], 0.6)
    ink[:, 9::18] = np.maximum(ink[:, 9::18], 0.6)
    clean = remove_rules(ink)
    assert not (clean[rings == 0] > 0).any() and (clean[rings > 0] > 0).mean() > 0.95


def test_ink_without_rules_comes_back_as_it_is():
    ink, rings = lined_page(rule_rows=())
    assert remove_rules(rings) is rings


def test_a_rule_broken_by_short_gaps_is_still_a_rule_in_a_photo_of_a_page():
    """A faint rule breaks where the light changes (a shadow's edge); a gap of a pixel or two left the
    rest short of the page's width, and the pieces stayed to be read as dashes. In an image 640 px
    wide or more (a photo of a page) gaps up to a hundredth of the width are bridged; in a word's
    crop they are not (its strokes along the baseline, bridged, were erased as a rule)."""
    rings = np.zeros((140, 700), np.float32)
    for x in (30, 120, 210, 400, 560):
        ring(rings, x, 20)
    ink = rings.copy()
    ink[75:77] = ink[100:102] = 0.6  # two faint rules
    ink[75:77, 350:352] = 0.0  # a two-pixel gap in the first
    ink[100:102, 175] = ink[100:102, 600] = 0.0  # and two one-pixel gaps in the second
    assert np.array_equal(remove_rules(ink), rings)
    narrow = ink[:, :600]  # the same page cropped narrower: the gaps stay gaps
    assert (remove_rules(narrow)[75:77] > 0.5).any()
    # a row of dashes, each gap wider than the bridge, is not a rule
    dashes = np.zeros((140, 700), np.float32)
    for x in range(0, 700, 30):
        dashes[70:72, x:x + 18] = 1.0
    ring(dashes, 120, 20)
    assert np.array_equal(remove_rules(dashes), dashes)


def test_a_rule_broken_into_long_pieces_is_a_rule_in_a_photo_of_a_page():
    """A faint rule fades where it crosses a shadow's edge, over more than a gap to bridge (3% of the
    width here): its pieces, each a fifth of the width or more and together nine tenths of it, are a
    rule. Left in, a blank ruled page under a shadow read as rows of 7s. Writing makes no such pieces."""
    rings = np.zeros((300, 1024), np.float32)
    for x in (30, 120, 210, 400, 560, 800):
        ring(rings, x, 20)
    ink = rings.copy()
    for row in (75, 150, 225):
        ink[row:row + 2] = 0.6
        ink[row:row + 2, 540:572] = 0.0  # 32 px where the rule fades
    ink[225:227, 210:230] = 0.0  # and one more gap in the last: three pieces
    assert np.array_equal(remove_rules(ink), rings)
    # a row of dashes a tenth of the width long with gaps between them is not a rule
    dashes = rings.copy()
    for x in range(0, 1024, 128):
        dashes[150:152, x:x + 100] = 1.0
    assert np.array_equal(remove_rules(dashes), dashes)


def test_the_same_ink_searched_again_gives_the_same_answer():
    """A photo's ink is searched for rules twice on its way to being read (what lies beyond the page,
    then the segmenter); the second search is answered from the first. The answer must be the one a
    search gives: for the same ink, another threshold, ink that has changed, and ink without rules."""
    import inkread.imaging.rules as rules

    ink, rings = lined_page()
    first = remove_rules(ink)
    again = remove_rules(ink.copy())  # the same values in another array
    assert np.array_equal(first, again) and again is not first
    again[0, 0] = 1.0  # the caller's to change: the next answer is not
    assert np.array_equal(remove_rules(ink), first)
    rules._LAST_SEARCH[0] = None
    assert np.array_equal(remove_rules(ink, 0.3), remove_rules(ink, 0.3))
    remove_rules(ink)
    changed = ink.copy()
    changed[120:122, :] = 0.6  # one more rule: searched anew, not answered from the page without it
    answer = remove_rules(changed)
    rules._LAST_SEARCH[0] = None
    assert np.array_equal(answer, remove_rules(changed)) and not answer[120:122].any()
    blank = np.zeros((50, 50), np.float32)
    assert remove_rules(blank) is blank


def ruled_page(rules: int = 9, width: int = 400, level: float = 1.0) -> np.ndarray:
    """A page of ``rules`` rules 2 px thick, 40 px apart (the first at row 20), nothing written."""
    ink = np.zeros((40 * rules, width), np.float32)
    for top in range(20, 40 * rules, 40):
        ink[top:top + 2] = level
    return ink


def pieces(ink: np.ndarray) -> int:
    """How many marks the ink holds."""
    from inkread.imaging import components

    return components.label(ink > 0.5).count


def test_a_stroke_lying_in_the_rule_is_not_erased_with_it():
    """A U drawn with a pen as thin as the rule, its foot lying along the rule and a row above it: the foot
    adds a row to the rule's thickness only, and was erased with it (the U came apart in two)."""
    ink = ruled_page()
    u = np.zeros_like(ink)
    u[120:141, 150:152] = u[120:141, 198:200] = 1.0  # the sides, down to the rule (rows 140-141)
    u[139:141, 150:200] = 1.0  # the foot: rows 139-140, so in the rule's top row and the row above it
    clean = remove_rules(np.maximum(ink, u))
    assert pieces(clean) == 1 and (clean[139, 150:200] > 0.5).all()
    assert not (clean[140:142, :140] > 0).any() and not (clean[140:142, 210:] > 0).any()  # the rule beside it gone


@pytest.mark.xfail(strict=True, reason="a stroke as thin and dark as the rule, in its rows for 8 columns, is cut there "
                   "(README: Not yet reached); bridging such gaps between ink touching the rule from above on one side and "
                   "from below on the other joined neighbouring digits in photos (a 3's foot under the rule, the next 3 coming "
                   "down onto it), so it was not kept")
def test_a_thin_stroke_crossing_the_rule_at_a_slant_stays_one_stroke():
    """Crossing at a slant, a stroke as thin as the rule is no thicker than it where it lies in its rows, for
    as many columns as it takes to step down by its width. (Lying in them for much longer, a stroke would be
    the rule, to any reader.)"""
    ink = ruled_page()
    stroke = np.zeros_like(ink)
    for x in range(100, 220):  # 2 px thick, a row down every 8 columns (7 degrees): in the rule's rows for 8
        y = 130 + (x - 100) // 8
        stroke[y:y + 2, x] = 1.0
    clean = remove_rules(np.maximum(ink, stroke))
    assert pieces(clean) == 1 and (clean[stroke > 0] > 0.5).all()


def test_a_dark_stroke_in_a_faint_rule_stays():
    """Where the rule is faint to the reader (the writing is most of the ink), a stroke lying in its rows is
    clearly darker than it: it stays, though it is no thicker across than the rule."""
    ink = ruled_page(level=0.3)
    ink[140:142, 150:200] = 1.0  # a dark stroke exactly in the rule's rows
    ink[100:141, 150:152] = ink[100:141, 198:200] = 1.0
    clean = remove_rules(ink)
    assert (clean[140:142, 150:200] > 0.5).all() and not (clean[140:142, 220:] > 0).any()


def test_a_flat_stroke_near_a_rule_is_not_taken_for_a_piece_of_it():
    """A 9's foot, a long flat stroke a few rows above the rule, is a long run too, and its row was taken for one
    of the rule's: its thinner parts were erased (a 9 became "0.9")."""
    ink = ruled_page(width=800)
    ink[131:135, 300:345] = 1.0  # 4 rows thick, 6 rows above the rule at 140
    ink[132:134, 345:360] = 1.0  # thinning at its end, as a pen lifts
    ink[90:135, 340:344] = 1.0
    clean = remove_rules(ink)
    assert (clean[131:135, 300:345] > 0.5).all() and (clean[132:134, 345:360] > 0.5).all()
