"""Decode any image safely into an ink map: float32 (H, W), ink 1.0 on background 0.0.

``load_image`` accepts a path, bytes, a PIL image or a numpy array, in any colour mode. It refuses
what could hurt the server (decompression bombs, checked from the header before any pixel is
decoded; huge files) and what cannot be a drawing (non-images, truncated files, 1x1 images) with
``InputImageError``. It then finds the ink whatever the polarity, colour or lighting:

* transparent backgrounds (canvas exports): the alpha channel is the ink, whatever its colour;
* clean images (canvas, scans, data sets): ink = contrast against the paper, anti-aliasing kept;
* photos (noise, uneven light): the paper is estimated and divided out, the ink is separated with
  Otsu's threshold into a soft mask, and specks smaller than a pen dot are removed.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageFilter, ImageOps, UnidentifiedImageError

from inkread.errors import InputImageError
from inkread.imaging import components
from inkread.imaging.stroke import rank_filter, stroke_width

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (a 40 MP photo is ~160 MB as RGBA)
MAX_BYTES = 20 * 1024 * 1024  # refuse larger files before reading them
MIN_SIDE = 2  # a 1-pixel-wide image holds no character
WORK_SIDE = 1024  # large photos are reduced to this longest side first: plenty for a few lines of text
LIGHT_INK_BORDER = 0.75  # read light ink on dark paper when this share of the border is dark
MIN_CONTRAST = 0.08  # ink must be at least 8% darker (or lighter) than the paper, or the image is blank

_OPAQUE = [0] * 128 + [255] * 128  # Image.point table: alpha >= 50% -> mask on

# Decoders raise these for files that are not images or are cut short.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
                  MemoryError, Image.DecompressionBombError)


def load_image(source: Any) -> np.ndarray:
    """Decode ``source`` into a float32 (H, W) ink map in 0..1, ink high (ink 1.0, background 0.0).

    ``source`` is a path (str or Path), bytes, a PIL image, or a numpy array (uint8, uint16, bool
    or float in 0..1; gray (H, W) or colour (H, W, 3|4)). A blank image gives all zeros.
    Unreadable, truncated, too large or too small images raise ``InputImageError``.
    """
    if isinstance(source, np.ndarray):
        image = _array_image(source)
        if max(image.size) > WORK_SIDE:
            image = _reduce(image)
    else:
        image = open_image(source)
    return ink_map(image)


def open_image(source: Any) -> Image.Image:
    """A decoded PIL image from a path, bytes or PIL image: first frame, EXIF-upright, size-checked.

    Images larger than ``WORK_SIDE`` are reduced (JPEGs while decoding, which is much faster).
    """
    owned = not isinstance(source, Image.Image)  # never alter a caller's image in place
    if not owned:
        _check_size(source.size, "the image")
        image, name = source, "the image"
    else:
        stream, name = _open_stream(source)
        try:
            with warnings.catch_warnings():
                # Pillow warns above ~89 MP; our own, lower limit is checked just below.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(stream)
        except Image.DecompressionBombError:
            _check_size(_header_size(stream), name)
            raise InputImageError(f"{name} is too large to decode safely: resize it") from None
        except UnidentifiedImageError:
            raise InputImageError(f"{name} is not an image Pillow can read: use PNG, JPEG, GIF, BMP, TIFF or WebP") from None
        except _DECODE_ERRORS as error:
            raise InputImageError(f"{name} cannot be read as an image ({_first_line(error)}): use PNG or JPEG") from None
        _check_size(image.size, name)
    try:
        if owned:
            image.seek(0)  # animated or multi-page: the first frame
        if owned and image.format == "JPEG" and max(image.size) > 2 * WORK_SIDE:
            image.draft(image.mode, (WORK_SIDE, WORK_SIDE))  # decode at 1/2..1/8 scale: fast
        image = ImageOps.exif_transpose(image) or image
        image.load()
    except _DECODE_ERRORS as error:
        raise InputImageError(f"{name} is truncated or corrupt ({_first_line(error)}): save or export it again") from None
    if max(image.size) > WORK_SIDE:
        image = _reduce(image)
    return image


def ink_map(image: Image.Image) -> np.ndarray:
    """The ink map (float32 in 0..1, ink 1.0 on 0.0) of a decoded PIL image in any mode.

    Statistics come from 256-bin histograms and pixels are mapped with one multiply-add, in
    Pillow's C code where possible: a 280x280 canvas costs only a few passes over its pixels.
    """
    if _has_alpha(image) and not _high_bit_depth(image):
        if image.mode not in ("RGBA", "LA"):
            image = image.convert("RGBA")  # P with transparency, PA, La, RGBa...
        alpha = np.asarray(image.getchannel("A"))
        if alpha.min() < 128:  # some transparency: a drawing on a transparent canvas
            return _ink_from_alpha(image, alpha)
    return _ink_from_gray(_gray(image))


# --- opening and checking ------------------------------------------------------------------------

def _open_stream(source: Any) -> tuple[io.BufferedIOBase, str]:
    """A binary stream over ``source`` (path or bytes), after checking its length."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_bytes(len(data), "the image")
        return io.BytesIO(data), "the image"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = str(path)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise InputImageError(f"{name} not found: check the path") from None
        except OSError as error:
            raise InputImageError(f"cannot read {name}: {error.strerror or error}") from None
        if path.is_dir():
            raise InputImageError(f"{name} is a folder, not an image file")
        _check_bytes(size, name)
        try:
            return io.BytesIO(path.read_bytes()), name
        except OSError as error:
            raise InputImageError(f"cannot read {name}: {error.strerror or error}") from None
    raise InputImageError(
        f"cannot read an image from a {type(source).__name__}: give a path, bytes, a PIL image or a numpy array"
    )


def _check_bytes(size: int, name: str) -> None:
    if size == 0:
        raise InputImageError(f"{name} is empty (0 bytes): save or export it again")
    if size > MAX_BYTES:
        raise InputImageError(
            f"{name} is {size / 2**20:.1f} MB; the limit is {MAX_BYTES / 2**20:.0f} MB: resize or compress it"
        )


def _check_size(size: tuple[int, int], name: str) -> None:
    """Refuse images too large to decode safely or too small to hold a character."""
    width, height = size
    if width * height > MAX_PIXELS:
        raise InputImageError(
            f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} MP); "
            f"the limit is {MAX_PIXELS / 1e6:.0f} MP: resize it"
        )
    if min(width, height) < MIN_SIDE:
        raise InputImageError(f"{name} is {width}x{height} pixels: a character needs at least {MIN_SIDE}x{MIN_SIDE}")


def _header_size(stream: io.BufferedIOBase) -> tuple[int, int]:
    """Width and height from the header, read by the format's own plugin without Pillow's bomb check."""
    stream.seek(0)
    prefix = stream.read(16)
    for factory, accept in Image.OPEN.values():
        accepted = accept(prefix) if accept else True
        if accepted and not isinstance(accepted, str):  # a str is Pillow's "maybe, with a warning"
            try:
                stream.seek(0)
                return factory(stream, "").size
            except _DECODE_ERRORS:
                continue
    return (MAX_PIXELS, MAX_PIXELS)  # unknown format but Pillow measured it as a bomb: refuse anyway


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:120] if text else type(error).__name__


def _reduce(image: Image.Image) -> Image.Image:
    """Shrink so the longest side is WORK_SIDE, averaging pixels (keeps thin strokes visible)."""
    scale = WORK_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    return image.resize(size, Image.Resampling.BOX)


# --- channels --------------------------------------------------------------------------------

def _has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info


def _high_bit_depth(image: Image.Image) -> bool:
    return image.mode.startswith("I") or image.mode == "F"


def _gray(image: Image.Image) -> np.ndarray:
    """The luminance of a PIL image as uint8 (alpha ignored: the image is opaque)."""
    mode = image.mode
    if _high_bit_depth(image):  # 16/32-bit gray: scale to 8 bits by the range in use
        values = np.asarray(image, dtype=np.float32)
        top = 1.0 if mode == "F" and values.max() <= 1.0 else 255.0 if values.max() <= 255 else 65535.0
        return _to_uint8(values * (255.0 / top))
    try:
        if mode not in ("L", "LA"):
            image = image.convert("L") if mode in ("1", "P", "RGB", "RGBA") else image.convert("RGB").convert("L")
    except ValueError as error:  # a mode Pillow cannot turn into gray
        raise InputImageError(f"images in mode {mode} are not supported ({error}): save it as PNG or JPEG") from None
    return np.asarray(image.getchannel(0) if image.mode == "LA" else image)


def _array_image(array: np.ndarray) -> Image.Image:
    """A PIL image (L, RGB or RGBA) from a numpy image: uint8/uint16/bool/float (0..1 or 0..255)."""
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))):
        raise InputImageError(f"a numpy image must be (H, W), (H, W, 3) or (H, W, 4), got shape {array.shape}")
    _check_size((array.shape[1], array.shape[0]), "the image")
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.integer) and array.dtype != np.uint8:
        array = _to_uint8(array.astype(np.float32) * (1.0 if array.max() <= 255 else 255.0 / 65535.0))
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise InputImageError("the image array holds NaN or infinite values")
        array = _to_uint8(array * (255.0 if array.max() <= 1.0 else 1.0))
    elif array.dtype != np.uint8:
        raise InputImageError(f"a numpy image must hold numbers, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return Image.fromarray(np.ascontiguousarray(array))


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


# --- finding the ink ---------------------------------------------------------------------------
# Statistics come from 256-bin histograms; pixels are then mapped with one linear formula
# (a lookup table would be slower in numpy: fancy indexing costs 20x a float multiply).

def _ink_from_alpha(image: Image.Image, alpha_levels: np.ndarray) -> np.ndarray:
    """Ink of a drawing on a transparent background (an RGBA or LA image).

    Drawn with one pen colour (the usual canvas), the alpha channel is the ink, whatever the
    colour. With several colours, the ink is the darkness over a white page.
    """
    # A sample of the strokes is enough to see their colour: pixels (4i + 2, 4j + 2), which is
    # where Pillow's nearest-neighbour quarter-size resize takes its pixels.
    rows, cols = alpha_levels.shape[0] // 4, alpha_levels.shape[1] // 4
    opaque = alpha_levels[2:rows * 4:4, 2:cols * 4:4] >= 128
    if opaque.any():
        sampled = image.resize((cols, rows), Image.Resampling.NEAREST, box=(0, 0, cols * 4, rows * 4))
        colours = np.asarray(sampled)[opaque]
    else:  # strokes too thin for the sample: look at all of them
        colours = np.asarray(image)[alpha_levels >= 128]
    if colours.size:
        colours = colours.astype(np.float32)
        sample = colours[:, 0] if image.mode == "LA" else colours[:, :3] @ np.float32([0.299, 0.587, 0.114])
        low, high = np.percentile(sample, [5, 95])
        if high - low <= 16:
            return _stretched(alpha_levels, _histogram(alpha_levels))
    # Several colours: show the canvas on a white page, as the user most likely saw it while
    # drawing; the ink is what is darker than that page (white "eraser" strokes vanish).
    gray = image.convert("L") if image.mode == "RGBA" else image.getchannel("L")
    contrast = np.asarray(ImageChops.multiply(ImageChops.invert(gray), Image.fromarray(alpha_levels)))  # (255-g)*a/255
    return _stretched(contrast, _histogram(contrast))


def _ink_from_gray(gray: np.ndarray) -> np.ndarray:
    """Ink of a gray image: polarity from the border, then the clean or the photo path."""
    hist = _histogram(gray)
    threshold = otsu(hist)
    if threshold is None:  # a single gray level: blank
        return np.zeros(gray.shape, np.float32)
    # The paper is what the border shows: light ink on dark only if the border is mostly dark
    # (chalk on a board, MNIST-style PNGs); tight crops of dark ink may touch half the border.
    border = _border(gray)
    if np.count_nonzero(border < threshold) > LIGHT_INK_BORDER * border.size:
        gray, hist = 255 - gray, hist[::-1]
    mode = int(np.argmax(hist))
    if hist[mode] >= 0.3 * hist.sum() and mode > threshold:
        # Clean image (canvas, scan, data set): the paper is one exact level and there is no
        # noise to remove. Ink = contrast to the paper, 255 * (1 - level / mode), then stretched.
        contrast = np.clip(np.rint(255.0 * (1.0 - np.arange(256) / mode)), 0, 255).astype(np.int64)
        levels = _stretch_levels(np.bincount(contrast, weights=hist, minlength=256))
        if levels is None:
            return np.zeros(gray.shape, np.float32)
        low, high = levels
        # (255 * (1 - g / mode) - low) / (high - low) as one multiply-add on the gray levels
        scale = -255.0 / (mode * (high - low))
        return _affine(gray, scale, (255.0 - low) / (high - low))
    paper = _paper_level(gray)
    contrast = np.clip(1.0 - gray / np.maximum(paper, 1.0), 0.0, 1.0)  # relative to the local paper
    return _clean_photo(_to_uint8(contrast * 255.0))


def _clean_photo(contrast: np.ndarray) -> np.ndarray:
    """Soft-threshold a noisy uint8 contrast map and drop specks; all zeros if no ink stands out."""
    hist = _histogram(contrast)
    threshold = otsu(hist)
    if threshold is None:
        return np.zeros(contrast.shape, np.float32)
    # Noise floor: median + 3 sigma of the paper (robust MAD estimate), never above the threshold.
    paper = hist[: int(threshold) + 1]
    median = _weighted_median(np.arange(paper.size), paper)
    deviations = np.abs(np.arange(paper.size) - median)
    order = np.argsort(deviations, kind="stable")
    sigma = 1.4826 * _weighted_median(deviations[order], paper[order])
    low = min(median + 3.0 * sigma, threshold)
    return remove_specks(_stretched(contrast, hist, low, threshold))


def remove_specks(ink: np.ndarray) -> np.ndarray:
    """Zero the marks smaller than a pen dot (area < half the squared stroke width), with their haze.

    The largest mark always stays. Faint anti-aliased pixels survive only next to a kept mark.
    """
    mask = ink > 0.5
    found = components.label(mask)
    if found.count == 0:
        return np.zeros(ink.shape, np.float32)
    width = stroke_width(mask)
    keep = found.areas >= max(3.0, 0.5 * width * width)
    keep[np.argmax(found.areas)] = True
    kept = np.concatenate([[False], keep])[found.labels]
    return np.where(rank_filter(kept, 2), ink, 0.0).astype(np.float32)


def otsu(hist: np.ndarray) -> float | None:
    """Otsu's threshold of a histogram, in bin units (between two bins); None if it has one level."""
    hist = np.asarray(hist, dtype=np.float64)
    bins = np.arange(hist.size, dtype=np.float64)
    weight0 = np.cumsum(hist)
    weight1 = weight0[-1] - weight0
    mass0 = np.cumsum(hist * bins)
    mean0 = mass0 / np.maximum(weight0, 1e-12)
    mean1 = (mass0[-1] - mass0) / np.maximum(weight1, 1e-12)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    between[(weight0 == 0) | (weight1 == 0)] = -1.0
    if between.max() <= 0:
        return None
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    return float(best.mean()) + 0.5


def stretch(ink: np.ndarray) -> np.ndarray:
    """Scale a float ink map (0..1) so its stroke cores reach 1.0 (clipped); zeros if blank.

    The stroke core level is the median of the pixels above Otsu's threshold; nothing standing
    out by ``MIN_CONTRAST`` counts as blank.
    """
    levels = _to_uint8(np.asarray(ink, dtype=np.float32) * 255.0)
    return _stretched(levels, _histogram(levels))


def _stretched(levels: np.ndarray, hist: np.ndarray, low: float = 0.0, threshold: float | None = None) -> np.ndarray:
    """Ink in 0..1 from uint8 contrast levels: ``low`` -> 0, stroke cores -> 1; zeros if blank."""
    found = _stretch_levels(hist, low, threshold)
    if found is None:
        return np.zeros(levels.shape, np.float32)
    low, high = found
    return _affine(levels, 1.0 / (high - low), -low / (high - low))


def _stretch_levels(hist: np.ndarray, low: float = 0.0, threshold: float | None = None) -> tuple[float, float] | None:
    """(low, stroke core level) in contrast levels; None if the ink does not stand out."""
    if threshold is None:
        # One level only (a solid crop): every non-zero pixel is stroke.
        threshold = otsu(hist) or 0.5
    strokes = np.asarray(hist, dtype=np.float64).copy()
    strokes[: int(np.ceil(threshold))] = 0
    high = _weighted_median(np.arange(256), strokes)
    if high < MIN_CONTRAST * 255 or high - low < MIN_CONTRAST * 255 / 2:
        return None
    return low, high


def _affine(levels: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """clip(levels * scale + offset, 0, 1) as float32, computed in place."""
    out = levels.astype(np.float32)
    out *= np.float32(scale)
    out += np.float32(offset)
    return np.clip(out, 0.0, 1.0, out=out)


def _histogram(levels: np.ndarray) -> np.ndarray:
    """256-bin histogram of uint8 levels (of every other row of large images: statistics only)."""
    if levels.size > 200_000:
        levels = levels[::2]
    return np.bincount(levels.ravel(), minlength=256)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of sorted ``values`` repeated ``weights`` times (0.0 if no weight)."""
    cumulative = np.cumsum(weights)
    if cumulative[-1] <= 0:
        return 0.0
    return float(values[np.searchsorted(cumulative, cumulative[-1] / 2)])


def _border(image: np.ndarray) -> np.ndarray:
    """The pixels of a frame about 3% of the size wide (at least one pixel)."""
    h, w = image.shape
    k = max(1, round(0.03 * min(h, w)))
    return np.concatenate([image[:k].ravel(), image[-k:].ravel(), image[k:-k, :k].ravel(), image[k:-k, -k:].ravel()])


def _paper_level(paper: np.ndarray) -> np.ndarray | float:
    """The brightness (0..255) of the bare paper: per pixel if the lighting is uneven, else one number.

    On a coarse grid, the brightest pixel of each cell is paper (strokes are thinner than a cell);
    a smooth surface through those maxima is the lighting.
    """
    h, w = paper.shape
    cell = max(8, round(max(h, w) / 16))
    gh, gw = -(-h // cell), -(-w // cell)
    padded = np.pad(paper, ((0, gh * cell - h), (0, gw * cell - w)), mode="edge")
    grid = padded.reshape(gh, cell, gw, cell).max(axis=(1, 3))
    if grid.size < 9 or np.percentile(grid, 95) - np.percentile(grid, 5) < 0.08 * 255:
        return float(np.median(grid))
    # A cell wholly covered by a fat stroke has a dark maximum: lift it to its neighbours' (3x3 max).
    surface = Image.fromarray(grid).filter(ImageFilter.MaxFilter(3))
    surface = surface.filter(ImageFilter.GaussianBlur(1.0)).resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(surface, dtype=np.float32)
