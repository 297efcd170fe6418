"""Writing-style augmentation: character forms that real writers use but MNIST writers rarely do.

MNIST was written by American Census staff and students. Many other writers slash their zeros
(to tell them from the letter O) and give their ones a flag and a foot (the European 1). A model
that never saw these reads a slashed 0 as 8 and a flagged 1 as 7. Here a share of the training
0s and 1s get those strokes drawn in, on whole batches, before the random warp.

The strokes are drawn at MNIST's stroke width from the glyph's own bounding box. A slash that
sticks out of the glyph makes it bigger than the 20x20 box the LeCun recipe fits characters
into; at inference the whole glyph is shrunk to fit, so ``add_writing_styles`` returns the
per-image shrink factor for the warp to apply.
"""

from __future__ import annotations

import math

import torch

INK = 0.25          # a pixel at least this dark counts as ink when measuring the glyph
FIT_BOX = 20.0      # the LeCun recipe fits characters into 20x20 pixels of the 28x28
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


def add_writing_styles(images: torch.Tensor, targets: torch.Tensor, zero: int | None, one: int | None,
                       slashed_zero: float, flagged_one: float, generator: torch.Generator):
    """Draw slashes through a share of the zeros and flags (and feet) on a share of the ones.

    ``images`` is a (B, 1, H, W) float batch of ink-high images, ``zero``/``one`` the class
    indices of "0" and "1" (``None`` if the label set lacks them). Returns the new batch and a
    (B,) shrink factor (1 where nothing grew). The same number of random draws is made whatever
    the batch holds, so runs stay reproducible.
    """
    batch = images.shape[0]
    draws = torch.rand(batch, 6, generator=generator)
    chosen_zero = (targets == zero) & (draws[:, 0] < slashed_zero) if zero is not None else torch.zeros(batch, dtype=torch.bool)
    chosen_one = (targets == one) & (draws[:, 0] < flagged_one) if one is not None else torch.zeros(batch, dtype=torch.bool)
    shrink = torch.ones(batch)
    picked = torch.nonzero(chosen_zero | chosen_one).flatten()
    if len(picked) == 0:
        return images, shrink
    # Only the few chosen images are measured and drawn on (a few per batch): cheap.
    styled, shrink[picked] = _draw_styles(images[picked], chosen_zero[picked], chosen_one[picked], draws[picked])
    out = images.clone()
    out[picked] = styled
    return out, shrink


def _draw_styles(images: torch.Tensor, slash: torch.Tensor, flag: torch.Tensor, draws: torch.Tensor):
    """Slash the ``slash`` images and flag the ``flag`` ones; returns them and their shrink factors."""
    shrink = torch.ones(images.shape[0])
    top, bottom, left, right = _bounding_boxes(images[:, 0])
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    half_w, half_h = (right - left + 1) / 2, (bottom - top + 1) / 2
    width = _uniform(draws[:, 1], STROKE_PX)
    out = images

    if slash.any():
        vertical = draws[:, 2] < VERTICAL_SLASH_SHARE
        angle = torch.where(vertical, _uniform(draws[:, 3], VERTICAL_SLASH_DEG), _uniform(draws[:, 3], SLASH_DEG)) * (math.pi / 180)
        dx, dy = torch.cos(angle), -torch.sin(angle)  # image y points down
        reach = torch.minimum(half_w / dx.abs().clamp_min(1e-3), half_h / dy.abs().clamp_min(1e-3))
        reach = reach * _uniform(draws[:, 4], SLASH_REACH)
        start = torch.stack([centre_x - dx * reach, centre_y - dy * reach], 1)
        end = torch.stack([centre_x + dx * reach, centre_y + dy * reach], 1)
        out = _draw_segments(out, start, end, width, slash)
        extent = torch.maximum((dx * reach).abs() * 2, (dy * reach).abs() * 2)
        grown = torch.maximum(torch.maximum(half_w, half_h) * 2, extent)
        shrink = torch.where(slash, (FIT_BOX / grown).clamp(max=1.0), shrink)

    if flag.any():
        height = half_h * 2
        top_x = _row_centre(images[:, 0], top)
        flag_length = height * _uniform(draws[:, 2], FLAG_LENGTH)
        angle = _uniform(draws[:, 3], FLAG_DEG) * (math.pi / 180)
        flag_end = torch.stack([top_x - flag_length * torch.cos(angle), top + flag_length * torch.sin(angle)], 1)
        out = _draw_segments(out, torch.stack([top_x, top], 1), flag_end, width, flag)
        footed = flag & (draws[:, 5] < FOOT_SHARE)
        bottom_x = _row_centre(images[:, 0], bottom)
        foot = height * _uniform(draws[:, 4], FOOT_LENGTH)
        out = _draw_segments(out, torch.stack([bottom_x - foot, bottom], 1), torch.stack([bottom_x + foot, bottom], 1),
                             width, footed)
    return out, shrink


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
