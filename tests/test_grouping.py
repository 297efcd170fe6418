"""best_cuts and best_groups: cutting touching characters, and grouping strokes, by how well the pieces are read."""

from __future__ import annotations

import numpy as np
import pytest

from inkread.inference.grouping import JOIN_GAIN, best_cuts, best_groups

INK = np.ones((80, 100), np.float32)  # only its size matters to best_cuts: no piece is too wide


def reader(good: dict[tuple[int, int], float], default: float = 0.3):
    """A fake model: confidence ``good[(left, right)]`` for the piece between those columns."""
    calls = []

    def read_pieces(pieces: list[np.ndarray]) -> list[float]:
        calls.append(len(pieces))
        spans = iter(read_pieces.spans)
        return [good.get(next(spans), default) for _ in pieces]

    read_pieces.calls = calls
    return read_pieces


def spans_of(candidates: list[int]) -> list[tuple[int, int]]:
    """The spans best_cuts reads, in its order: every pair of positions (ends included)."""
    positions = [0] + sorted(candidates) + [100]
    return [(positions[i], positions[j]) for i in range(len(positions)) for j in range(i + 1, len(positions))]


def cuts_for(candidates, counts, good, cost=0.0, default=0.3):
    read = reader(good, default)
    read.spans = spans_of(candidates)
    return best_cuts(INK, candidates, counts, read, extra_cut_cost=cost), read.calls


def test_the_cut_whose_pieces_read_best_wins():
    cuts, calls = cuts_for([20, 50, 80], (2,), {(0, 50): 0.99, (50, 100): 0.98})
    assert cuts == [50]
    assert calls == [10]  # every span between two of the 5 positions, read in one batch


def test_three_pieces():
    cuts, _ = cuts_for([20, 40, 70], (3,), {(0, 40): 0.9, (40, 70): 0.9, (70, 100): 0.9, (0, 20): 0.95})
    assert cuts == [40, 70]


def test_an_extra_cut_must_pay_for_itself():
    good = {(0, 100): 0.9, (0, 50): 0.99, (50, 100): 0.99}  # split gains log(0.99^2 / 0.9) = 0.075
    assert cuts_for([50], (1, 2), good, cost=0.3)[0] == []
    assert cuts_for([50], (1, 2), good, cost=0.0)[0] == [50]
    merged = {(0, 100): 0.5, (0, 50): 0.99, (50, 100): 0.99}  # two clear characters, one doubtful merge
    assert cuts_for([50], (1, 2), merged, cost=0.3)[0] == [50]


@pytest.mark.parametrize("candidates, counts, expected", [([], (2,), []), ([50], (3,), [50]), ([30, 60], (1,), [])])
def test_too_few_candidates_or_one_piece(candidates, counts, expected):
    assert cuts_for(candidates, counts, {})[0] == expected


def test_no_answer_when_the_reader_declines_or_every_cutting_leaves_too_wide_a_piece():
    assert best_cuts(INK, [50], (2,), lambda pieces: None) is None  # over the reader's budget
    flat = np.ones((20, 100), np.float32)  # pieces may be at most 1.6 x 20 = 32 px wide
    read = []
    assert best_cuts(flat, [50], (2,), lambda pieces: read.append(len(pieces)) or [0.9] * len(pieces)) is None
    assert read == [0]  # 0-50, 50-100 and 0-100 are all too wide to be one character: none was read
    lower = np.ones((25, 100), np.float32)  # pieces up to 40 px: three of 30-35 px fit
    assert best_cuts(lower, [30, 65], (3,), lambda pieces: [0.9] * len(pieces)) == [30, 65]



def test_the_whole_glyph_is_read_however_wide_when_one_character_is_among_the_counts():
    """An m or a w at x-height is wider than MAX_PIECE_ASPECT heights: it was never read whole, so the width
    rule cut it ("warm" read "ujarm"). The whole is read where one character is a count to choose."""
    flat = np.ones((25, 100), np.float32)  # pieces may be at most 1.6 x 25 = 40 px wide
    read = []

    def whole_reads_well(pieces):
        read.append([piece.shape[1] for piece in pieces])
        return [0.99 if piece.shape[1] == 100 else 0.3 for piece in pieces]

    assert best_cuts(flat, [30, 60], (3, 2, 1, 4), whole_reads_well, extra_cut_cost=0.3) == []
    assert sorted(read[0]) == [30, 30, 40, 100]  # the three pieces narrow enough, and the whole

# --- best_groups: strokes drawn apart, grouped into characters ---------------------------------------

def group_reader(confidence: dict[tuple[int, int], float]):
    """A fake model for best_groups: the confidence of each span it is asked about, in order."""
    def read_pieces(pieces: list[np.ndarray]) -> list[float]:
        return [confidence[span] for span in read_pieces.spans[:len(pieces)]]
    return read_pieces


def groups_for(confidence: dict[tuple[int, int], float], count: int, gain: float = JOIN_GAIN):
    read = group_reader(confidence)
    read.spans = list(confidence)
    return best_groups(count, list(confidence), [INK] * len(confidence), read, gain)


def test_strokes_that_read_better_together_are_one_character():
    # the stem of a K read as "1" (0.9) and its arms as "<" (0.4); together a K (0.95)
    assert groups_for({(0, 1): 0.9, (1, 2): 0.4, (0, 2): 0.95}, 2) == [(0, 2)]
    # two digits read well apart stay apart, even if together they read a little better (the gain decides)
    assert groups_for({(0, 1): 0.95, (1, 2): 0.95, (0, 2): 0.92}, 2) == [(0, 1), (1, 2)]
    assert groups_for({(0, 1): 0.95, (1, 2): 0.95, (0, 2): 0.92}, 2, gain=0.0) == [(0, 2)]


def test_strokes_whose_boxes_overlap_need_less_gain_to_be_joined():
    # a 4 drawn in two strokes: its bent arm read as "6" (0.82), its stem as "1" (0.94), together "4" (0.965)
    confidence = {(0, 1): 0.82, (1, 2): 0.94, (0, 2): 0.965}
    read = group_reader(confidence)
    read.spans = list(confidence)
    apart = best_groups(2, list(confidence), [INK] * 3, read, JOIN_GAIN, overlaps=[0.0, 0.0, 0.0])
    overlapping = best_groups(2, list(confidence), [INK] * 3, read, JOIN_GAIN, overlaps=[0.0, 0.0, 0.6])
    assert apart == [(0, 1), (1, 2)] and overlapping == [(0, 2)]


def test_three_strokes():
    # an M in three strokes: each alone is read as l, I or 1, or badly
    confidence = {(0, 1): 0.45, (1, 2): 0.3, (2, 3): 0.45, (0, 2): 0.05, (1, 3): 0.05, (0, 3): 0.97}
    assert groups_for(confidence, 3) == [(0, 3)]
    confidence[(0, 3)] = 0.05  # together they read badly
    assert groups_for(confidence, 3) == [(0, 1), (1, 2), (2, 3)]
    confidence[(0, 2)] = 0.9  # the first two are one character, the third another
    assert groups_for(confidence, 3) == [(0, 2), (2, 3)]


def test_no_groups_when_the_reader_declines_and_every_stroke_must_be_offered():
    assert best_groups(2, [(0, 1), (1, 2), (0, 2)], [INK] * 3, lambda pieces: None, JOIN_GAIN) is None
    with pytest.raises(ValueError, match="every single stroke"):
        best_groups(2, [(0, 2)], [INK], lambda pieces: [0.9], JOIN_GAIN)


def test_the_width_count_comes_first_and_every_character_more_or_fewer_must_pay():
    # a wide m: whole it reads 0.9; cut at 50 into "r" and "n", 0.95 each (log sum -0.10 against -0.11)
    good = {(0, 100): 0.9, (0, 50): 0.95, (50, 100): 0.95}
    assert cuts_for([50], (2, 1, 3), good, cost=0.3)[0] == [50]   # the width said 2: one piece must pay
    assert cuts_for([50], (1, 2), good, cost=0.3)[0] == []        # the width said 1: a second must pay
    assert cuts_for([50], (2, 1, 3), {(0, 100): 0.99, (0, 50): 0.3, (50, 100): 0.3}, cost=0.3)[0] == []
