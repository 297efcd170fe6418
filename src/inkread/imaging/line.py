"""Turn the ink map of one written line (a word, a few words) into what the line reader reads.

The line reader (``inkread.models.linenet``) reads a whole line at once, so the normalization
keeps the line whole: crop to the ink, scale so that the ink is ``INK_HEIGHT`` pixels high
(aspect ratio kept), bring the pen to a standard width, and pad by ``MARGIN`` pixels all round.
Synthetic training lines (``inkread.data.lines``) go through this same function, so that the
model sees at training time exactly what it sees on a user's image.

Why the whole ink height: a line of small letters only ("ace") fills the height as a line with
capitals does, so its case is ambiguous, but there is no baseline or x-height to measure on a
short word, and training on the same normalization teaches the model what it can tell.
"""

from __future__ import annotations

import numpy as np

from inkread.errors import InputImageError
from inkread.imaging.preprocess import NoInkError, _place, _resize, ink_box
from inkread.imaging.stroke import stroke_width

INK_HEIGHT = 32  # the line's ink, top of the tallest letter to the bottom of the lowest
MARGIN = 4
LINE_HEIGHT = INK_HEIGHT + 2 * MARGIN  # 40: the model's input height
# Strokes are brought to this width as ``stroke_width`` measures it (which reads a 3 px pen as
# about 2.3), a pixel at a time: a tablet's thin trace and a marker's fat stroke come out alike.
PEN_WIDTH = 2.3
PEN_TOLERANCE = 0.35  # close enough: one pixel more or less changes the measure by about 0.5-0.8
MAX_PEN_STEPS = 4
# Ink levels mapped to 0 and 1 at the end: blurred edges (EMNIST's, a soft photo's) made as crisp as
# a pen's, so that a blurred and a sharp line of the same writing look alike.
CRISP = (0.25, 0.75)  # centred on 0.5, where stroke_width measures: crisping keeps the width
MAX_ASPECT = 60  # a line at most 60 times wider than high (1,920 px at INK_HEIGHT)


def normalize_line(ink: np.ndarray) -> np.ndarray:
    """A float32 (LINE_HEIGHT, W) image of the line's ink (1.0 ink on 0.0), W depending on its length.

    ``ink`` is an ink map (``inkread.imaging.decode.load_image``). Raises NoInkError for a blank
    image and InputImageError for a line too long to read at once.
    """
    return normalize_line_mapped(ink)[0]


def too_long(ink: np.ndarray) -> bool:
    """Whether a line's ink is more than ``MAX_ASPECT`` times wider than high, as ``normalize_line`` measures it."""
    peak = float(ink.max(initial=0.0))
    return peak > 0.0 and _over_aspect(ink_box(ink, 0.05 * peak))


def _over_aspect(box: tuple[int, int, int, int]) -> bool:
    left, top, right, bottom = box
    return right - left > MAX_ASPECT * (bottom - top)


def normalize_line_mapped(ink: np.ndarray) -> tuple[np.ndarray, float, int]:
    """``normalize_line``, plus what maps its columns back to the ink map's: the scale, and the first inked column.

    Column ``x`` of the ink map is column ``MARGIN + (x - first) * scale`` of the normalized line.
    """
    peak = float(ink.max(initial=0.0))
    if peak <= 0.0:
        raise NoInkError("no ink found: the image is blank; write a word or a line on plain paper")
    box = left, top, right, bottom = ink_box(ink, 0.05 * peak)
    line = ink[top:bottom, left:right]
    height, width = line.shape
    if _over_aspect(box):
        raise InputImageError(f"the line is {width / height:.0f} times wider than high: the line reader takes at most "
                              f"{MAX_ASPECT}; crop it into shorter pieces")
    scale = INK_HEIGHT / height
    scaled = np.clip(_resize(np.minimum(line / peak, 1.0), max(1, round(width * scale)), INK_HEIGHT), 0.0, 1.0)
    out = _place(scaled, LINE_HEIGHT, scaled.shape[1] + 2 * MARGIN, MARGIN, MARGIN)
    return _standard_pen(out), scale, left


def _standard_pen(line: np.ndarray) -> np.ndarray:
    """Strokes about PEN_WIDTH wide (``pen_to_width``), then edges crisped (``CRISP``)."""
    low, high = CRISP
    return np.clip((pen_to_width(line, PEN_WIDTH) - low) / (high - low), 0.0, 1.0)


def pen_to_width(ink: np.ndarray, target: float) -> np.ndarray:
    """Thicken or thin the strokes a pixel at a time until ``stroke_width`` measures about ``target``.

    One step is a 2x2 gray-level dilation or erosion (one pixel wider or narrower), alternating
    its corner so the strokes stay centred; at most MAX_PEN_STEPS steps. Erosion never removes
    more than half the ink: a line of hairlines beside fat strokes keeps its hairlines.
    """
    if stroke_width(ink > 0.5) == 0.0:  # hairline strokes, fainter than 0.5 everywhere after scaling
        ink = np.minimum(ink / max(float(ink.max()), 1e-6), 1.0)
    for step in range(MAX_PEN_STEPS):
        width = stroke_width(ink > 0.5)
        if abs(width - target) <= PEN_TOLERANCE:
            break
        changed = _shift_extreme(ink, np.maximum if width < target else np.minimum, corner=step % 2)
        if width > target and (changed > 0.5).sum() < 0.5 * (ink > 0.5).sum():
            break
        ink = changed
    return ink


def _shift_extreme(image: np.ndarray, op, corner: int) -> np.ndarray:
    """The max (or min) of each pixel and its neighbours right, below and diagonally (``corner`` 1: left, above)."""
    padded = np.pad(image, 1)
    h, w = image.shape
    d = -1 if corner else 1
    out = image.copy()
    for dy, dx in ((0, d), (d, 0), (d, d)):
        out = op(out, padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w])
    return out


def pad_lines(lines: list[np.ndarray], dtype=np.float32) -> np.ndarray:
    """Normalized lines as one (N, 1, LINE_HEIGHT, W) batch, W the widest made even (the model halves it), zero-padded."""
    width = max(line.shape[1] for line in lines)
    width += width % 2
    batch = np.zeros((len(lines), 1, LINE_HEIGHT, width), dtype)
    for k, line in enumerate(lines):
        batch[k, 0, :, :line.shape[1]] = line
    return batch


# A line sloping less than this (rows per column, about 1.7 degrees) is read as it is; a steeper one is
# levelled first (``leveled``): sloping 5 degrees, "hello world" was read "nelio world".
LEVEL_FROM = 0.03
LEVEL_UP_TO = 0.4  # steeper than about 22 degrees is no line the segmenter grouped as one
# A slope is measured only on a line of this many characters or more, between characters this many
# heights apart: on a short line a descender at one end ("at gym") tilts it by 2-5 degrees, and levelled
# by that it read "at yM".
LEVEL_MIN_CHARACTERS = 8
LEVEL_MIN_APART = 3.0


def line_slope(boxes: list[tuple[int, int, int, int]]) -> float:
    """The slope (rows per column) of a line of characters' boxes (x0, y0, x1, y1), 0.0 where it is level
    or cannot be told: the median of the slopes between the centres of every two characters at least
    ``LEVEL_MIN_APART`` heights apart (Theil and Sen's estimate: tall and low letters, a descender, hardly
    sway it), on a line of ``LEVEL_MIN_CHARACTERS`` or more."""
    if len(boxes) < LEVEL_MIN_CHARACTERS:
        return 0.0
    centres = np.array([((x0 + x1) / 2, (y0 + y1) / 2) for x0, y0, x1, y1 in boxes])
    height = float(np.median([y1 - y0 for _, y0, _, y1 in boxes]))
    dx = centres[None, :, 0] - centres[:, None, 0]
    dy = centres[None, :, 1] - centres[:, None, 1]
    apart = dx >= max(LEVEL_MIN_APART * height, 1.0)
    if np.count_nonzero(apart) < 3:
        return 0.0
    slope = float(np.median(dy[apart] / dx[apart]))
    return slope if LEVEL_FROM <= abs(slope) <= LEVEL_UP_TO else 0.0


def leveled(ink: np.ndarray, slope: float) -> np.ndarray:
    """``ink`` (H, W) with each column moved up by ``slope`` times its index, so that a line sloping
    ``slope`` runs level. A shear, not a rotation: every column stays where it was, so what the line
    reader reads in a column is in that column of ``ink`` too. Taller by ``|slope| * W``."""
    if slope == 0.0:
        return ink
    from PIL import Image

    height, width = ink.shape
    rise = abs(slope) * (width - 1)
    top = max(0.0, slope) * (width - 1)  # output row = input row - slope * column + top, never negative
    out = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32), mode="F").transform(
        (width, height + int(np.ceil(rise))), Image.Transform.AFFINE, (1, 0, 0, slope, 1, -top),
        resample=Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.float32)
