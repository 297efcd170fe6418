"""Turn an ink map into the 28x28 image a model was trained on (MNIST or EMNIST normalization).

``normalize`` crops to the ink, brings the stroke width into the range seen in the training data
(thin tablet strokes are thickened, fat marker strokes thinned; small binary bitmaps are smoothed,
and narrowed back if they were stretched to fill a box, judged by their pen's width across and
down), then applies the recipe:

* ``mnist`` (LeCun): the bounding box fitted into 20x20 keeping its aspect ratio, anti-aliased,
  placed so that the centre of mass is at the centre of the 28x28 image;
* ``emnist`` (Cohen et al. 2017): Gaussian blur, bounding box centred in a square, 2 px padding,
  resized to 28x28, so the character fills the central 24x24, centred by its box.

Stroke widths are compared at a working resolution where the character's longest side is
``WORK_SIDE`` pixels, as a fraction of that side (see ``inkread.imaging.stroke``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from inkread.errors import InkreadError, InputImageError
from inkread.imaging.components import check_mark_count
from inkread.imaging.decode import load_image
from inkread.imaging.ink import remove_specks
from inkread.imaging.levels import stretch, to_uint8
from inkread.imaging.rules import remove_rules
from inkread.imaging.stroke import change_width, stroke_anisotropy, stroke_width

RECIPES = ("mnist", "emnist")
SIZE = 28
WORK_SIDE = 80  # longest side of the character while its strokes are measured and adjusted
INK_THRESHOLD = 0.5  # a pixel is "ink" for stroke widths above this
INVERTED_INK_SHARE = 0.2  # "ink" over 20% of the image (a tight crop of bold light ink leaves its dark paper
#                            30-40% of the crop: polarity.py light ink 77.1% at 40%, 87.8% at 20%; read keeps 40%)...
INVERTED_BORDER_SHARE = 0.25  # ...and over a quarter of its outermost pixels may be the paper (may_be_inverted)
FAINT_EDGE, FAINT_EDGE_PX = 0.1, 3  # faint ink further than this from the solid ink's box is not its edge
FADED_PEAK = 0.8  # shrunk to WORK_SIDE, a character whose darkest pixel is fainter than this had hairline strokes
# Stroke width / longest side, 25th..75th percentile over the training sets (measured on 2,000
# MNIST test digits and 2,000 EMNIST byclass test characters). Widths in this middle half are
# kept, so typical MNIST digits pass through unchanged; others are brought to the nearest bound.
# (A wider range, or none, measured worse on scans; forcing the median changed little.)
STROKE_RANGE = {"mnist": (0.080, 0.111), "emnist": (0.081, 0.118)}
# Small binary bitmaps stretched to fill a fixed box (semeion, UCI optdigits) are narrowed by at
# most this factor (see _smooth_bitmap; 1.4..2.0 measured alike, the stretch found is ~1.4-1.5).
MAX_UNSTRETCH = 1.6
MNIST_BOX = 20  # LeCun: the character's box is fitted into 20x20...
MNIST_CENTRE = 14.0  # ...and its centre of mass placed at pixel (14, 14) (measured: 13.99, 14.01)
MNIST_RESAMPLE = Image.Resampling.BILINEAR  # anti-aliased when shrinking (Pillow widens the filter)
EMNIST_BOX = 24  # EMNIST: a square frame around the box, padded by 2 px, in 28x28
EMNIST_BLUR = 1.0 / 64  # EMNIST blurred the 128x128 NIST scans with sigma 1: ~1/64 of a character
EMNIST_BLUR_SIDE = 64  # ...so blur at about that scale: larger characters are reduced to 64 px first


class NoInkError(InputImageError):
    """The image is blank: an empty canvas, an empty photo, or ink too faint to see."""


def preprocess_image(source: Any, recipe: str = "mnist") -> np.ndarray:
    """The float32 (28, 28) model input for an image (path, bytes, PIL image or array).

    ``normalize(writing_ink(source), recipe)``.
    """
    return normalize(writing_ink(source), recipe)


def writing_ink(source: Any) -> np.ndarray:
    """The ink map of the writing in an image, set apart from the page (``writing_only``).

    An image of more than ``MAX_MARKS`` marks (noise, a grid) raises ``InputImageError``, as ``read`` does.
    """
    ink = writing_only(load_image(source))
    check_mark_count(ink > INK_THRESHOLD)
    return ink


def may_be_inverted(ink: np.ndarray, least_share: float = INVERTED_INK_SHARE) -> bool:
    """Whether the "ink" may be the paper: it covers more than ``least_share`` of the image (a fifth, unless
    told), and much of its border.

    Polarity is taken from the border (``ink.py``): light ink on dark paper only if three quarters of
    the border are dark. A tight crop of light ink touches the border with its strokes on every side,
    so its dark paper can fall short of that and be read as the ink: a box around a dark character,
    which covers 30-40% of a bold character's crop. Such an image is read both ways round and the
    surer reading kept (``Recognizer``); dark ink on light paper covers a fifth of the image and much
    of its border only in tight crops, where the second reading rarely wins.
    """
    solid = ink > INK_THRESHOLD
    if solid.mean() <= least_share:
        return False
    border = np.concatenate([solid[0], solid[-1], solid[1:-1, 0], solid[1:-1, -1]])
    return bool(border.mean() > INVERTED_BORDER_SHARE)


def writing_only(ink: np.ndarray) -> np.ndarray:
    """An ink map of one character on a page, without the page's rules and faint marks.

    ``normalize`` crops to all the ink, down to 5% of the darkest: on lined or squared paper, whose
    rules are mostly fainter than the writing, it would take in the whole page. Rules as dark as
    the writing are erased (``remove_rules``); where faint ink then still reaches well beyond the
    solid ink (rules, a smudge, a shadow's edge), faint ink is kept only next to solid marks
    (``remove_specks``). Drawings and tight crops, whose faint ink is their strokes' edges, are
    returned as they are.
    """
    ink = remove_rules(ink, INK_THRESHOLD)
    peak = float(ink.max(initial=0.0))
    if peak <= INK_THRESHOLD:
        return ink
    left, top, right, bottom = ink_box(ink, INK_THRESHOLD)
    faint_left, faint_top, faint_right, faint_bottom = ink_box(ink, 0.05 * peak)
    margin = max(FAINT_EDGE_PX, FAINT_EDGE * max(right - left, bottom - top))
    if max(left - faint_left, top - faint_top, faint_right - right, faint_bottom - bottom) <= margin:
        return ink
    return remove_specks(ink)


def prepare_training_image(image: np.ndarray, recipe: str = "mnist") -> np.ndarray:
    """``normalize`` a data set image (uint8 (28, 28), ink high, or float 0..1); float32 (28, 28).

    The tests use it to check that real MNIST/EMNIST images come out almost unchanged. Images of
    ``folder:`` data sets and exported corrections do not come through here: they are image files,
    read with ``preprocess_image`` as at inference time.
    """
    image = np.asarray(image)
    scale = 1 / 255 if image.dtype == np.uint8 else 1.0
    return normalize(image.astype(np.float32) * scale, recipe)


def normalize(ink: np.ndarray, recipe: str = "mnist") -> np.ndarray:
    """The float32 (28, 28) model input, in 0..1 ink high, for an ink map (float (H, W), ink high).

    Raises ``NoInkError`` if there is no ink.
    """
    if recipe not in RECIPES:
        raise InkreadError(f"unknown normalization recipe {recipe!r}: use {' or '.join(RECIPES)}")
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2:
        raise InputImageError(f"an ink map must be 2-D (H, W), got shape {ink.shape}")
    peak = float(ink.max(initial=0.0))
    if not math.isfinite(peak):  # NaN or infinity somewhere: treat those pixels as background
        ink = np.where(np.isfinite(ink), ink, 0.0).astype(np.float32)
        peak = float(ink.max(initial=0.0))
    character = _crop(stretch(_crop(ink, 0.05 * peak)))
    if _small_binary(character):
        character = _smooth_bitmap(character)
    character = _standard_width(character, *STROKE_RANGE[recipe])
    return _mnist(character) if recipe == "mnist" else _emnist(character)


def _crop(ink: np.ndarray, faint: float = 0.05) -> np.ndarray:
    """The ink map cut to the bounding box of the pixels above ``faint``; NoInkError if there are none."""
    left, top, right, bottom = ink_box(ink, faint)
    return ink[top:bottom, left:right]


def ink_box(ink: np.ndarray, faint: float = 0.05) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels above ``faint``, ends exclusive; NoInkError if there are none."""
    inked = np.ascontiguousarray(ink > max(faint, 1e-3))  # row-major, as Pillow reads it
    # Pillow finds the box in one C pass over the mask (as bytes, no copy): numpy's any() per
    # axis takes two passes and twice as long.
    box = Image.frombuffer("L", inked.shape[::-1], inked.view(np.uint8), "raw", "L", 0, 1).getbbox()
    if box is None:
        raise NoInkError("no ink found: the image is blank; draw or photograph a character on plain paper")
    return box


def _place(ink: np.ndarray, height: int, width: int, top: int = 0, left: int = 0) -> np.ndarray:
    """A float32 (height, width) image of zeros with ``ink`` at (top, left): np.pad without its overhead."""
    out = np.zeros((height, width), np.float32)
    out[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    return out


def _resize(ink: np.ndarray, width: int, height: int, method=Image.Resampling.BILINEAR) -> np.ndarray:
    """Anti-aliased resize of an ink map (Pillow widens the filter when shrinking)."""
    image = Image.fromarray(ink).resize((max(1, width), max(1, height)), method)
    return np.asarray(image, dtype=np.float32)


def _to_side(ink: np.ndarray, side: float, method=Image.Resampling.BILINEAR) -> np.ndarray:
    """Scale so that the longest side is ``side`` pixels, keeping the aspect ratio."""
    h, w = ink.shape
    scale = side / max(h, w)
    return _resize(ink, round(w * scale), round(h * scale), method)


def _standard_width(character: np.ndarray, low: float, high: float) -> np.ndarray:
    """Thicken or thin the strokes so that width / longest side falls within [low, high].

    Measures at WORK_SIDE pixels. Dilating by k pixels per side also grows the box by 2k, hence
    k = (target * L - w) / (2 * (1 - target)). Returns the re-cropped character.
    """
    work = _to_side(character, WORK_SIDE)
    peak = float(work.max(initial=0.0))
    if 0.0 < peak < FADED_PEAK:
        # Strokes thinner than a working pixel (a 1 px pen on a large canvas) fade when shrunk:
        # back to full ink, a pixel wide, so that they are measured and thickened like the rest.
        work = np.minimum(work / peak, 1.0)
    width = stroke_width(work > INK_THRESHOLD)  # the same with or without the margin added below
    ratio = width / WORK_SIDE
    target = min(max(ratio, low), high)
    pixels = round((target * WORK_SIDE - width) / (2 * (1 - target)))
    if pixels == 0:
        return character  # unchanged: resampling twice would only blur it
    margin = WORK_SIDE // 4  # room for the strokes to grow
    work = _place(work, work.shape[0] + 2 * margin, work.shape[1] + 2 * margin, margin, margin)
    return _crop(change_width(work, pixels))


def _small_binary(character: np.ndarray) -> bool:
    """A small bitmap without anti-aliasing (semeion-style 16x16 scans, 1-bit images)?

    Anti-aliased images (MNIST itself) are left untouched.
    """
    if max(character.shape) >= WORK_SIDE / 2:
        return False
    inked = character > 0.02
    partial = np.count_nonzero(inked & (character < 0.98))
    return partial < 0.05 * max(1, np.count_nonzero(inked))


def _smooth_bitmap(character: np.ndarray) -> np.ndarray:
    """A small binary bitmap resampled to the working resolution, its sideways stretch undone.

    Resampling turns its staircase edges into anti-aliased ones, as MNIST's were when NIST's
    bitmaps were shrunk. Old scan pipelines (semeion's 16x16, UCI optdigits' 32x32 from NIST
    forms) also stretched every digit to the same box, so a "1" or a "9" comes out as wide as a
    "0" and the aspect ratio that the recipes keep is wrong. A round pen draws strokes equally
    wide in every direction, so the ratio of horizontal to vertical stroke width
    (``stroke_anisotropy``) is the stretch; the character is narrowed by it, at most
    ``MAX_UNSTRETCH``. Never widened: fitting digits, which are taller than wide, into a box
    widens them. Returns the character cropped, at the working resolution.
    """
    work = _to_side(character, WORK_SIDE)
    stretched = min(stroke_anisotropy(work > INK_THRESHOLD), MAX_UNSTRETCH)
    if stretched >= 1.05:  # narrow it: resample the bitmap again, at the narrower width
        h, w = character.shape
        scale = WORK_SIDE / max(h, w)
        work = _resize(character, round(w * scale / stretched), round(h * scale))
    return _crop(np.clip(work, 0.0, 1.0))


def _scale_exactly(ink: np.ndarray, scale: float) -> np.ndarray:
    """Resize by exactly ``scale`` in both directions (anti-aliased).

    Rounding the output size instead would stretch a 122-wide character to 15 pixels and a
    120-wide one to 14: a 5% change of shape from a one-pixel difference. The output is rounded
    up and the source box extended with empty pixels to match.
    """
    h, w = ink.shape
    out_w, out_h = max(1, math.ceil(w * scale - 1e-6)), max(1, math.ceil(h * scale - 1e-6))
    box_w, box_h = out_w / scale, out_h / scale
    padded = _place(ink, h + math.ceil(box_h - h) + 1, w + math.ceil(box_w - w) + 1)
    image = Image.fromarray(padded)
    return np.asarray(image.resize((out_w, out_h), MNIST_RESAMPLE, box=(0, 0, box_w, box_h)), dtype=np.float32)


def _mnist(character: np.ndarray) -> np.ndarray:
    """LeCun's recipe: fit into 20x20 keeping aspect ratio, centre of mass at (14, 14).

    ``character`` is cropped to its ink already (``_standard_width`` returns it so).
    """
    small = np.clip(_scale_exactly(character, MNIST_BOX / max(character.shape)), 0.0, 1.0)
    h, w = small.shape
    mass = small.sum()
    cy = float(small.sum(axis=1) @ np.arange(h)) / mass
    cx = float(small.sum(axis=0) @ np.arange(w)) / mass
    # Integer shift, like MNIST; clamped so the character is never cut off at the border.
    top = min(max(round(MNIST_CENTRE - cy), 0), SIZE - h)
    left = min(max(round(MNIST_CENTRE - cx), 0), SIZE - w)
    return _place(small, SIZE, SIZE, top, left)


def _emnist(character: np.ndarray) -> np.ndarray:
    """The EMNIST recipe: blur, box centred in a square, 2 px padding, resized to 28x28."""
    if max(character.shape) > EMNIST_BLUR_SIDE:  # blurring fewer pixels is faster, and the same
        character = _to_side(character, EMNIST_BLUR_SIDE)
    h, w = character.shape
    radius = EMNIST_BLUR * max(h, w)
    image = Image.fromarray(to_uint8(character, 255.0))  # Pillow blurs 8-bit images only
    blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32)
    character = _crop(blurred / max(float(blurred.max()), 1e-6))
    h, w = character.shape
    side = max(h, w)
    square = _place(character, side, side, (side - h) // 2, (side - w) // 2)
    small = np.clip(_resize(square, EMNIST_BOX, EMNIST_BOX, Image.Resampling.BICUBIC), 0.0, 1.0)
    pad = (SIZE - EMNIST_BOX) // 2
    return _place(small, SIZE, SIZE, pad, pad)
