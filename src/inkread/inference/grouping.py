"""Where to cut touching characters, and which strokes make one character, decided by reading the pieces.

The segmenter knows from the width of a glyph about how many characters it holds (``counts``: say
3, or fewer, or 4; 1 or 2 when the width leaves it open) and where they could meet: the columns with
the least ink (``candidates``). ``best_cuts`` reads every piece between two candidates (or an
end) with the model and keeps the cuts whose pieces the model is most sure of, together (the
highest product of their probabilities). A cut through the middle of a digit leaves two pieces
the model doubts; a cut where two digits meet leaves two digits it reads well. Each character
more or fewer than the width suggests must also gain ``EXTRA_CUT_COST``: a model that only ever
saw single characters reads two merged ones more confidently than it should, and a wide letter
cut in two (an m as "rn") about as well as whole.

``best_groups`` is the other way round: strokes that do not touch (the stem of a B or a K drawn
apart from its bowl, an M in three strokes) are read alone and together, and grouped into the
characters read best. For the same reason, grouping must win by ``JOIN_GAIN``: two digits side by
side are often read as one digit with confidence.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np

LEAST_PROBABILITY = 1e-6  # floor for the log of a probability
# The log-probability a cut must gain to be made when the width leaves the count open (chosen on
# MNIST test digits composed into touching strings; benchmarks/touching_digits.py).
EXTRA_CUT_COST = 0.3
# The log-probability that reading strokes as one character must gain over reading them apart
# (chosen on the composed strings of benchmarks/touching_digits.py and the UNIPEN characters read
# one per image: 0.3 keeps every touching-digits figure and mends the most characters).
JOIN_GAIN = 0.3
# No piece wider than this many times the glyph's height is read (the time goes to reading pieces), but the
# whole glyph always is where one character is among the counts: an m or a w at x-height, wider than that, was
# never read whole ("warm" read "ujarm", an "a" with a long tail "C2").
MAX_PIECE_ASPECT = 1.6

# read_pieces(inks) -> the model's confidence in its best answer for each ink crop (0 if unreadable),
# or None if reading them all would be too much work.
PieceReader = Callable[[list[np.ndarray]], Optional[list[float]]]


def best_cuts(ink: np.ndarray, candidates: list[int], counts: tuple[int, ...], read_pieces: PieceReader,
              extra_cut_cost: float = 0.0) -> Optional[list[int]]:
    """The candidate columns that cut ``ink`` into a number of pieces from ``counts``, read best together.

    ``counts[0]`` is the number the glyph's width suggests; each piece more or fewer than that must
    raise the total log-probability by ``extra_cut_cost``: models trained on single characters read
    two merged ones more confidently than they should, and read a wide character cut in two (an m
    as "rn") about as well as whole.
    None when there is no answer: ``read_pieces`` declined, or no cutting into that many pieces
    leaves them all narrower than MAX_PIECE_ASPECT heights (the whole ink, as one piece, is read however wide).
    """
    positions = [0] + sorted(c for c in set(candidates) if 0 < c < ink.shape[1]) + [ink.shape[1]]
    last = len(positions) - 1
    expected = counts[0]
    # More characters than the candidates allow: as many pieces as they make.
    counts = tuple(k for k in counts if 1 <= k <= last) or (min(max(counts), last),)
    most = max(counts)
    widest = MAX_PIECE_ASPECT * ink.shape[0]
    spans = [(i, j) for i in range(last + 1) for j in range(i + 1, last + 1)
             if positions[j] - positions[i] <= widest or (i, j) == (0, last) and 1 in counts]
    confidences = read_pieces([ink[:, positions[i]:positions[j]] for i, j in spans])
    if confidences is None:
        return None
    score = {span: math.log(max(c, LEAST_PROBABILITY)) for span, c in zip(spans, confidences)}
    # best[k][j]: the highest total log-probability of cutting columns 0..positions[j] into k pieces
    best = [[-math.inf] * (last + 1) for _ in range(most + 1)]
    back = [[0] * (last + 1) for _ in range(most + 1)]
    best[0][0] = 0.0
    for pieces in range(1, most + 1):
        for (i, j), piece_score in score.items():
            total = best[pieces - 1][i] + piece_score
            if total > best[pieces][j]:
                best[pieces][j], back[pieces][j] = total, i
    count = max(counts, key=lambda k: best[k][last] - extra_cut_cost * abs(k - expected))
    if best[count][last] == -math.inf:
        return None
    cuts, j = [], last
    for pieces in range(count, 1, -1):
        j = back[pieces][j]
        cuts.append(positions[j])
    return sorted(cuts)


def best_groups(count: int, spans: list[tuple[int, int]], inks: list[np.ndarray], read_pieces: PieceReader,
                join_gain: float = 0.0, overlaps: Optional[list[float]] = None) -> Optional[list[tuple[int, int]]]:
    """The spans that group ``count`` strokes (left to right) into the characters read best together.

    ``spans[k] = (i, j)`` offers strokes i..j-1 as one character, with ``inks[k]`` their ink
    together. Every single stroke must be offered.
    Each stroke joined to another must raise the total log-probability by ``join_gain``, less the
    share of it that ``overlaps[k]`` vouches for (the sum over the span's joins of 0..1 each: how far
    the strokes' boxes overlap, as the segmenter measures it; a join it fully vouches for costs nothing).
    None if ``read_pieces`` declined.
    """
    if not {(i, i + 1) for i in range(count)} <= set(spans):
        raise ValueError("best_groups needs every single stroke among the spans")
    confidences = read_pieces(list(inks))
    if confidences is None:
        return None
    score = [math.log(max(confidence, LEAST_PROBABILITY)) for confidence in confidences]
    best, back = [0.0] + [-math.inf] * count, [None] * (count + 1)
    for k in sorted(range(len(spans)), key=lambda k: spans[k][1]):  # by end: best[i] is final when used
        i, j = spans[k]
        vouched = overlaps[k] if overlaps is not None else 0.0
        total = best[i] + score[k] + join_gain * (1 + vouched)  # per character: fewer characters must read better
        if total > best[j]:
            best[j], back[j] = total, k
    chosen, j = [], count
    while j > 0:
        chosen.append(spans[back[j]])
        j = spans[back[j]][0]
    return chosen[::-1]
