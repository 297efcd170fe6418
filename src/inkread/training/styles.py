"""Writing-style augmentation: character forms that real writers use but MNIST writers rarely do.

MNIST was written by American Census staff and students. Many other writers slash their zeros
(to tell them from the letter O), give their ones a flag and a foot (the European 1), cross their
sevens (the European 7), start the stem of a 4 well below the top of its arm, and end their nines
with a tail hooked to the left. A model that never saw these reads a slashed 0 as 8, a flagged 1
as 7, a crossed 7 as 4, a low-stemmed 4 as 6 or 9, and a hooked 9 as 3 or 8. Here a share of the
training 0s, 1s, 7s and 9s get those strokes drawn in (and a share of the 4s the top of their
stem erased), on whole batches, before the random warp.

The strokes are drawn at MNIST's stroke width from the glyph's own bounding box. A stroke that
sticks out of the glyph makes it bigger than the 20x20 box the LeCun recipe fits characters
into, and an erased one can make it smaller; at inference the whole glyph is scaled to fit, so
``add_writing_styles`` returns the per-image refit factor for the warp to apply.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Protocol, Sequence

import numpy as np
import torch

INK = 0.25          # a pixel at least this dark counts as ink when measuring the glyph
STROKE_PX = (1.6, 2.4)  # MNIST strokes are about 2 px wide
# Ranges are (low, high), drawn uniformly. Slashes: mostly forward at 30-70 degrees; a share of
# writers strike nearly vertically. Reach: half the slash's length over the loop's half-size
# (0.9: ends inside the loop; 1.8: sticks out 80% beyond it, as in a narrow zero struck through).
SLASH_DEG, VERTICAL_SLASH_DEG, VERTICAL_SLASH_SHARE = (30.0, 70.0), (80.0, 100.0), 0.25
SLASH_REACH = (0.9, 1.8)
# Flags run down-left from the top of the 1, steeply enough not to read as a 7's bar; lengths
# are shares of the 1's height (up to 0.6: long flags are common). Half of those writers also
# draw a foot.
FLAG_DEG, FLAG_LENGTH = (30.0, 60.0), (0.25, 0.6)
FOOT_SHARE, FOOT_LENGTH = 0.5, (0.2, 0.35)
# A 7's bar crosses its stem a little below the middle (share of the height from the top), nearly
# level; its length is a share of the 7's height.
CROSS_AT, CROSS_DEG, CROSS_LENGTH = (0.45, 0.65), (-12.0, 12.0), (0.3, 0.5)
# A 9's hook leaves the bottom of its tail to the left and a little upwards (degrees above the
# horizontal); its length is a share of the 9's height.
HOOK_DEG, HOOK_LENGTH = (0.0, 40.0), (0.2, 0.4)
# A 4 whose stem starts low, well below the top of its arm (the arm, the bar, and a short stem
# crossing the bar): the top of the stem is erased down to this share of the way from the top of
# the glyph to the bar. The bar is the widest row in this band of the height.
STEM_CUT, BAR_BAND = (0.5, 0.9), (0.3, 0.8)
STROKE_CORE = 0.5  # strokes are told apart by their cores: anti-aliased edges join close strokes
# Each style's share (an AugmentConfig field) and the character it is drawn on.
STYLED_CHARACTERS = {"slashed_zero": "0", "flagged_one": "1", "low_stem_four": "4", "crossed_seven": "7",
                     "hooked_nine": "9"}
# A style is left out where the label set has a character that the styled form is easily read as:
# a 9 with a hooked tail is how many people write a g.
CLASHES = {"hooked_nine": "g"}


class StyleShares(Protocol):
    """The share of each styled character that gets its style (``AugmentConfig`` has these)."""

    slashed_zero: float
    flagged_one: float
    low_stem_four: float
    crossed_seven: float
    hooked_nine: float


def add_writing_styles(images: torch.Tensor, targets: torch.Tensor, labels: Sequence[str], shares: StyleShares,
                       generator: torch.Generator):
    """Give a share of the 0s, 1s, 4s, 7s and 9s their writing style (see the module docstring).

    ``images`` is a (B, 1, H, W) float batch of ink-high images, ``labels`` the label set the
    ``targets`` index into (a style applies only if its character is in it, and not if ``CLASHES``
    says so), ``shares`` the share of each character to style (an ``AugmentConfig``). Returns the
    new batch and a (B,) refit factor (1 where the size is unchanged). The same number of random
    draws is made whatever the batch holds, so runs stay reproducible.
    """
    batch = images.shape[0]
    draws = torch.rand(batch, 6, generator=generator)
    chosen = {}
    for style, character in STYLED_CHARACTERS.items():
        share = getattr(shares, style)
        if character in labels and share > 0 and CLASHES.get(style) not in labels:
            chosen[style] = (targets == list(labels).index(character)) & (draws[:, 0] < share)
    refit = torch.ones(batch)
    any_style = torch.zeros(batch, dtype=torch.bool)
    for mask in chosen.values():
        any_style |= mask
    picked = torch.nonzero(any_style).flatten()
    if len(picked) == 0:
        return images, refit
    # Only the few chosen images are measured and drawn on (a few per batch): cheap.
    styled, refit[picked] = _draw_styles(images[picked], {style: mask[picked] for style, mask in chosen.items()},
                                          draws[picked])
    out = images.clone()
    out[picked] = styled
    return out, refit


class _Glyphs(NamedTuple):
    """A batch of (B, H, W) glyphs with their ink bounding boxes, as (B,) float tensors."""

    images: torch.Tensor
    top: torch.Tensor
    bottom: torch.Tensor
    left: torch.Tensor
    right: torch.Tensor

    @property
    def height(self) -> torch.Tensor:
        return self.bottom - self.top + 1

    @property
    def width(self) -> torch.Tensor:
        return self.right - self.left + 1


# A stroke: start and end points, (B, 2) x/y each, and an extra condition on which images get it
# (None: every image of the style).
Stroke = tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]


def _draw_styles(images: torch.Tensor, chosen: dict[str, torch.Tensor], draws: torch.Tensor):
    """Draw each image's chosen style; returns the images and their refit factors.

    A glyph that grows or shrinks is scaled back into its box at inference (the LeCun recipe fits
    characters into 20x20), so the refit factor is the glyph's old size over its new size (its
    larger side; added strokes measured from end to end).
    """
    old = glyphs = _Glyphs(images[:, 0], *_bounding_boxes(images[:, 0]))
    low_stem = chosen.get("low_stem_four")
    if low_stem is not None and low_stem.any():  # the strokes are drawn from the erased glyph's box
        images = _erase_stem_tops(images, low_stem, draws[:, 2])
        glyphs = _Glyphs(images[:, 0], *_bounding_boxes(images[:, 0]))

    out, width = images, _uniform(draws[:, 1], STROKE_PX)
    left, right, top, bottom = glyphs.left, glyphs.right, glyphs.top, glyphs.bottom
    for style, strokes in STROKES.items():
        chosen_here = chosen.get(style)
        if chosen_here is None or not chosen_here.any():
            continue
        for start, end, only in strokes(glyphs, draws):
            where = chosen_here if only is None else chosen_here & only
            out = _draw_segments(out, start, end, width, where)
            xs, ys = torch.stack([start[:, 0], end[:, 0]], 1), torch.stack([start[:, 1], end[:, 1]], 1)
            left = torch.where(where, torch.minimum(left, xs.amin(1)), left)
            right = torch.where(where, torch.maximum(right, xs.amax(1)), right)
            top = torch.where(where, torch.minimum(top, ys.amin(1)), top)
            bottom = torch.where(where, torch.maximum(bottom, ys.amax(1)), bottom)
    old_size = torch.maximum(old.height, old.width)
    new_size = torch.maximum(bottom - top + 1, right - left + 1)
    return out, old_size / new_size


def _slash(glyphs: _Glyphs, draws: torch.Tensor) -> list[Stroke]:
    """A slash through the middle of a 0, mostly forward, sometimes nearly vertical."""
    vertical = draws[:, 2] < VERTICAL_SLASH_SHARE
    angle = torch.where(vertical, _uniform(draws[:, 3], VERTICAL_SLASH_DEG), _uniform(draws[:, 3], SLASH_DEG)) * (math.pi / 180)
    dx, dy = torch.cos(angle), -torch.sin(angle)  # image y points down
    half_w, half_h = glyphs.width / 2, glyphs.height / 2
    reach = torch.minimum(half_w / dx.abs().clamp_min(1e-3), half_h / dy.abs().clamp_min(1e-3))
    reach = reach * _uniform(draws[:, 4], SLASH_REACH)
    centre_x, centre_y = (glyphs.left + glyphs.right) / 2, (glyphs.top + glyphs.bottom) / 2
    start = torch.stack([centre_x - dx * reach, centre_y - dy * reach], 1)
    end = torch.stack([centre_x + dx * reach, centre_y + dy * reach], 1)
    return [(start, end, None)]


def _flag_and_foot(glyphs: _Glyphs, draws: torch.Tensor) -> list[Stroke]:
    """A flag down-left from the top of a 1, and for some writers a foot across its bottom."""
    top, bottom, height = glyphs.top, glyphs.bottom, glyphs.height
    top_x = _row_centre(glyphs.images, top)
    flag_length = height * _uniform(draws[:, 2], FLAG_LENGTH)
    angle = _uniform(draws[:, 3], FLAG_DEG) * (math.pi / 180)
    flag_end = torch.stack([top_x - flag_length * torch.cos(angle), top + flag_length * torch.sin(angle)], 1)
    bottom_x = _row_centre(glyphs.images, bottom)
    foot = height * _uniform(draws[:, 4], FOOT_LENGTH)
    return [(torch.stack([top_x, top], 1), flag_end, None),
            (torch.stack([bottom_x - foot, bottom], 1), torch.stack([bottom_x + foot, bottom], 1), draws[:, 5] < FOOT_SHARE)]


def _cross_bar(glyphs: _Glyphs, draws: torch.Tensor) -> list[Stroke]:
    """A nearly level bar across a 7's stem, a little below the middle."""
    height = glyphs.height
    row = (glyphs.top + height * _uniform(draws[:, 2], CROSS_AT)).round().clamp(max=glyphs.images.shape[1] - 1)
    stem_x = _row_centre(glyphs.images, row)
    angle = _uniform(draws[:, 3], CROSS_DEG) * (math.pi / 180)
    half_bar = height * _uniform(draws[:, 4], CROSS_LENGTH) / 2
    dx, dy = half_bar * torch.cos(angle), -half_bar * torch.sin(angle)
    return [(torch.stack([stem_x - dx, row - dy], 1), torch.stack([stem_x + dx, row + dy], 1), None)]


def _hook(glyphs: _Glyphs, draws: torch.Tensor) -> list[Stroke]:
    """A hook from the bottom of a 9's tail, to the left and a little upwards."""
    bottom = glyphs.bottom
    bottom_x = _row_centre(glyphs.images, bottom)
    hook_length = glyphs.height * _uniform(draws[:, 2], HOOK_LENGTH)
    angle = _uniform(draws[:, 3], HOOK_DEG) * (math.pi / 180)
    hook_end = torch.stack([bottom_x - hook_length * torch.cos(angle), bottom - hook_length * torch.sin(angle)], 1)
    return [(torch.stack([bottom_x, bottom], 1), hook_end, None)]


# The styles that add strokes, in drawing order (the low-stem 4 erases instead: _erase_stem_tops).
STROKES = {"slashed_zero": _slash, "flagged_one": _flag_and_foot, "crossed_seven": _cross_bar, "hooked_nine": _hook}


def _erase_stem_tops(images: torch.Tensor, where: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
    """Erase the top of the right-hand stroke above the bar of the ``where`` images (4s).

    Above the bar a 4 has two strokes side by side, the arm and the stem. From the cut upwards,
    the rightmost run of ink is erased in each row with two runs or more, and then the stem where
    it rises alone above the arm. A closed 4 keeps its apex, and the bar and everything below it
    are untouched. (Row by row in NumPy: a few images a batch, each a few hundred microseconds.)
    """
    out = images.clone()
    for index in torch.nonzero(where).flatten().tolist():
        ink = (images[index, 0] > STROKE_CORE).numpy()
        rows = np.flatnonzero(ink.any(1))
        if len(rows) == 0:
            continue
        top, height = int(rows[0]), int(rows[-1] - rows[0] + 1)
        band = np.arange(top + int(height * BAR_BAND[0]), top + int(height * BAR_BAND[1]) + 1)
        bar = int(band[np.argmax([_span(ink[row]) for row in band])])
        cut = top + round((bar - top) * float(_uniform(draws[index], STEM_CUT)))
        erase = np.zeros_like(ink)
        stem = None  # columns (first, last) of the stem in the row below, once it is found
        for row in range(cut - 1, top - 2, -1):  # upwards, following the stem to its top
            runs = _runs(ink[row]) if row >= 0 else []
            if len(runs) >= 2:
                stem = runs[-1]
            elif len(runs) == 1 and stem is not None and runs[0][0] <= stem[1] + 1 and runs[0][1] >= stem[0] - 1:
                stem = runs[0]  # the stem rises alone above the arm
            else:
                if stem is not None and row >= 0:  # the faint anti-aliased cap just above the stem's top
                    erase[row, max(stem[0] - 1, 0):stem[1] + 2] = True
                stem = None
                continue
            erase[row, max(stem[0] - 1, 0):] = True  # the run with its faint edges
        out[index, 0][torch.from_numpy(erase)] = 0.0
    return out


def _runs(ink_row: np.ndarray) -> list[tuple[int, int]]:
    """The (first, last) columns of each run of ink in a row, left to right; a 1-pixel gap does not split."""
    columns = np.flatnonzero(ink_row)
    if len(columns) == 0:
        return []
    breaks = np.flatnonzero(np.diff(columns) >= 2)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(columns) - 1]])
    return [(int(columns[s]), int(columns[e])) for s, e in zip(starts, ends)]


def _span(ink_row: np.ndarray) -> int:
    """Columns from the leftmost to the rightmost ink pixel of a row (0 if it has none)."""
    columns = np.flatnonzero(ink_row)
    return int(columns[-1] - columns[0] + 1) if len(columns) else 0


def _uniform(draws: torch.Tensor, bounds: tuple[float, float]) -> torch.Tensor:
    """Uniform draws in 0..1 mapped onto ``bounds`` (low, high)."""
    low, high = bounds
    return low + draws * (high - low)


def _bounding_boxes(images: torch.Tensor):
    """Per-image (top, bottom, left, right) pixel indices of the ink, as float tensors; whole image if blank."""
    ink = images > INK
    rows, cols = ink.any(2), ink.any(1)
    size_y, size_x = images.shape[1], images.shape[2]
    index_y = torch.arange(size_y, dtype=torch.float32)
    index_x = torch.arange(size_x, dtype=torch.float32)
    blank = ~rows.any(1)
    top = torch.where(rows, index_y, float(size_y)).amin(1)
    bottom = torch.where(rows, index_y, -1.0).amax(1)
    left = torch.where(cols, index_x, float(size_x)).amin(1)
    right = torch.where(cols, index_x, -1.0).amax(1)
    top, left = torch.where(blank, 0.0, top), torch.where(blank, 0.0, left)
    bottom, right = torch.where(blank, size_y - 1.0, bottom), torch.where(blank, size_x - 1.0, right)
    return top, bottom, left, right


def _row_centre(images: torch.Tensor, row: torch.Tensor) -> torch.Tensor:
    """Ink-weighted mean x of each image's given row (the middle of the image if that row is empty)."""
    picked = images[torch.arange(images.shape[0]), row.long()]  # (B, W)
    xs = torch.arange(images.shape[2], dtype=torch.float32)
    mass = picked.sum(1)
    return torch.where(mass > 0, (picked * xs).sum(1) / mass.clamp_min(1e-6), (images.shape[2] - 1) / 2)


def _draw_segments(images: torch.Tensor, start: torch.Tensor, end: torch.Tensor, width: torch.Tensor,
                   where: torch.Tensor) -> torch.Tensor:
    """Draw one anti-aliased line segment per image (where ``where`` is true), keeping the darker pixel."""
    height, size_x = images.shape[2], images.shape[3]
    ys = torch.arange(height, dtype=torch.float32).view(1, height, 1)
    xs = torch.arange(size_x, dtype=torch.float32).view(1, 1, size_x)
    ax, ay = start[:, 0].view(-1, 1, 1), start[:, 1].view(-1, 1, 1)
    vx, vy = (end[:, 0] - start[:, 0]).view(-1, 1, 1), (end[:, 1] - start[:, 1]).view(-1, 1, 1)
    length_sq = (vx * vx + vy * vy).clamp_min(1e-6)
    t = (((xs - ax) * vx + (ys - ay) * vy) / length_sq).clamp(0.0, 1.0)
    distance = torch.sqrt((xs - ax - t * vx) ** 2 + (ys - ay - t * vy) ** 2)
    ink = (width.view(-1, 1, 1) / 2 + 0.5 - distance).clamp(0.0, 1.0).unsqueeze(1)
    return torch.where(where.view(-1, 1, 1, 1), torch.maximum(images, ink), images)
