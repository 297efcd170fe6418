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
from inkread.imaging.preprocess import NoInkError, _crop, _place, _resize
from inkread.imaging.stroke import change_width, rank_filter, stroke_width

INK_HEIGHT = 32  # the line's ink, top of the tallest letter to the bottom of the lowest
MARGIN = 4
LINE_HEIGHT = INK_HEIGHT + 2 * MARGIN  # 40: the model's input height
# Strokes are thickened or thinned towards this width as ``stroke_width`` measures it (which
# reads a 3 px pen as about 2.3): a tablet's 1 px trace and a marker's fat stroke look alike.
PEN_WIDTH = 2.3
MAX_THICKEN = 2  # pixels per side
MAX_ASPECT = 60  # a line at most 60 times wider than high (1,920 px at INK_HEIGHT)


def normalize_line(ink: np.ndarray) -> np.ndarray:
    """A float32 (LINE_HEIGHT, W) image of the line's ink (1.0 ink on 0.0), W depending on its length.

    ``ink`` is an ink map (``inkread.imaging.decode.load_image``). Raises NoInkError for a blank
    image and InputImageError for a line too long to read at once.
    """
    peak = float(ink.max(initial=0.0))
    if peak <= 0.0:
        raise NoInkError("no ink found: the image is blank; write a word or a line on plain paper")
    line = _crop(ink, 0.05 * peak)
    height, width = line.shape
    if width > MAX_ASPECT * height:
        raise InputImageError(f"the line is {width / height:.0f} times wider than high: the line reader takes at most "
                              f"{MAX_ASPECT}; crop it into shorter pieces")
    scale = INK_HEIGHT / height
    scaled = np.clip(_resize(np.minimum(line / peak, 1.0), max(1, round(width * scale)), INK_HEIGHT), 0.0, 1.0)
    out = _place(scaled, LINE_HEIGHT, scaled.shape[1] + 2 * MARGIN, MARGIN, MARGIN)
    return _standard_pen(out)


def _standard_pen(line: np.ndarray) -> np.ndarray:
    """Thicken or thin the strokes towards PEN_WIDTH (a tablet's 1 px pen, a marker's fat one).

    Thinning is a plain 1 px erosion, and only for strokes well over the width, which it
    cannot erase: ``change_width``'s thinning keeps the soft edge of a blurred stroke where it
    erodes the core, which draws a hollow outline around it.
    """
    width = stroke_width(line > 0.5)
    if width == 0.0:  # hairline strokes, fainter than 0.5 everywhere after scaling
        line = np.minimum(line / max(float(line.max()), 1e-6), 1.0)
        width = stroke_width(line > 0.5)
    if width >= PEN_WIDTH + 1:  # a pen of 5 px or more: 2 px thinner cannot erase it
        return rank_filter(line, 1, np.minimum)
    pixels = int(np.clip(round((PEN_WIDTH - width) / 2), 0, MAX_THICKEN))
    return change_width(line, pixels) if pixels else line
