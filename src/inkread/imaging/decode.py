"""Decode any image safely into an ink map: float32 (H, W), ink 1.0 on background 0.0.

``load_image`` accepts a path, bytes, an open binary file, a PIL image or a numpy array, in any colour mode. It refuses
what could hurt the server (decompression bombs, checked from the header before any pixel is
decoded; huge files) and what cannot be a drawing (non-images, truncated files, 1x1 images) with
``InputImageError``. Large photos are reduced early, EXIF orientation is honoured, and the
first frame of animations is used. Finding the ink is ``inkread.imaging.ink``'s job.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import stat
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inkread.errors import InputImageError, first_line
from inkread.imaging.bands import reduce_png
from inkread.imaging.ink import has_alpha, high_bit_depth, ink_map
from inkread.imaging.levels import to_uint8

# What folders and globs are searched for (inkread predict/read, folder: data sets); a file named
# explicitly is tried whatever its extension.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".jfif", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".avif", ".ico",
                            ".tga", ".pgm", ".ppm", ".pbm", ".pnm"})


def is_image_name(path: Path) -> bool:
    """Whether a file found in a folder is taken as an image: an image extension, and not hidden
    (macOS's ``._name.png`` resource forks and ``.DS_Store`` are not images)."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (a 40 MP image is ~160 MB as RGBA; most
# PNGs are decoded a band at a time, see imaging.bands: 25 MB for 39 MP of RGB)...
# ...but a JPEG is decoded reduced (1/2..1/8 of each side, see open_image): a 48 MP phone photo is
# decoded as 3 MP. Up to Pillow's own bomb limit (2 x Image.MAX_IMAGE_PIXELS, 179 MP), where it refuses.
MAX_JPEG_PIXELS = 160_000_000
MAX_BYTES = 64 * 1024 * 1024  # refuse larger files before reading them (a 12 MP photo saved as PNG is 20-36 MB;
# the server takes bodies of at most 8 MB anyway: ServeConfig.max_body_bytes)
MIN_SIDE = 2  # a 1-pixel-wide image holds no character
ORIGINAL_SIDE = "inkread_original_side"  # image.info key: the input's longest side before reduction
REGION = "inkread_region"  # image.info key: where a PNG was cut as it was decoded (open_image's region)
# Large photos are reduced to this many pixels first (1024x768 for a 4:3 photo): plenty for a few lines
# of text. Counted in pixels, not by the longest side, so that a long line of writing keeps its height.
WORK_PIXELS = 1024 * 768
FLOAT_SLACK = 1e-3  # a float image's levels may stray this share of its range beyond it (rounding)

# Decoders raise these for files that are not images or are cut short.
# (RuntimeError: Pillow's AVIF plugin raises it for a damaged file)
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
                  MemoryError, RuntimeError, Image.DecompressionBombError)


def load_image(source: Any) -> np.ndarray:
    """Decode ``source`` into a float32 (H, W) ink map in 0..1, ink high (ink 1.0, background 0.0).

    ``source`` is a path (str or Path, ``~`` expanded), bytes, an open binary file (a BytesIO, an upload),
    a PIL image, or a numpy array (uint8; other integers, 0/1 masks and 10-16-bit images scaled to 8 bits;
    bool; float in 0..1 or 0..255; gray (H, W), gray and alpha (H, W, 2) or colour (H, W, 3|4)). A blank
    image gives all zeros.
    Unreadable, truncated, too large or too small images raise ``InputImageError``.
    """
    return load_image_scaled(source)[0]


def load_image_scaled(source: Any) -> tuple[np.ndarray, float]:
    """``load_image``, plus the factor from the ink map's pixels to the input's (> 1 if it was reduced).

    Boxes found on the ink map times this factor are boxes in the caller's image.
    """
    image, scale = _decoded(source, None)
    return ink_map(image), scale


def load_region_scaled(source: Any, region: tuple[int, int, int, int], pixels: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The ink map of ``region`` (x0, y0, x1, y1 in the input's pixels, as ``load_image_scaled``'s boxes are)
    from the whole image decoded at about ``pixels`` (more than ``WORK_PIXELS``: a closer look at part of
    an image that ``load_image`` reduced; never more than the input has), then cut (most PNGs: cut while decoded).

    Returns the ink map, the factor from its pixels to the input's, and the input pixel of its top left
    corner: a box on it is ``origin + box * scale`` in the input.
    """
    image, scale = _decoded(source, pixels, region)
    if REGION in image.info:  # a PNG cut as it was decoded, a band of rows at a time: never in memory whole
        *origin, scale = image.info[REGION]
        return ink_map(image), scale, tuple(origin)
    x0, y0 = (min(max(0, int(region[0] / scale)), image.width - 1), min(max(0, int(region[1] / scale)), image.height - 1))
    x1 = min(max(x0 + 1, math.ceil(region[2] / scale)), image.width)
    y1 = min(max(y0 + 1, math.ceil(region[3] / scale)), image.height)
    return ink_map(image.crop((x0, y0, x1, y1))), scale, (round(x0 * scale), round(y0 * scale))


class NamedBytes(bytes):
    """The bytes of an image file, with the name its errors call it by (``replayable``)."""

    name: str


def replayable(source: Any) -> Any:
    """``source`` in a form that can be decoded more than once: an open file is read (once) into ``NamedBytes``;
    paths, bytes, PIL images and arrays are returned as they are."""
    if not hasattr(source, "read"):
        return source
    stream, name = _open_stream(source)
    data = NamedBytes(stream.getvalue())
    data.name = name
    return data


def _decoded(source: Any, pixels: int | None, region: tuple[int, int, int, int] | None = None) -> tuple[Image.Image, float]:
    """``source`` decoded and reduced to about ``pixels`` (default ``WORK_PIXELS``), and the factor from its pixels
    to the input's (a PNG cut to ``region`` as it was decoded: see ``open_image``)."""
    if isinstance(source, np.ndarray):
        image = _array_image(source)
        original = max(image.size)
        if _reduction(image.size, pixels) < 1:
            image = _reduce(image, pixels)
    else:
        image = open_image(source, pixels, region)
        original = image.info.get(ORIGINAL_SIDE, max(image.size))
    return image, original / max(image.size)


# The formats decoded, those of IMAGE_SUFFIXES (Pillow's names: PPM is also PBM/PGM/PNM, and the JPEG
# plugin opens the MPO files many phones write). Pillow would open many more, among them EPS, which it
# hands to Ghostscript: an uploaded PostScript file would run there.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "AVIF", "ICO", "TGA", "PPM")
# Browsers ignore a WebP's EXIF orientation (its EXIF chunk follows the image data, and CSS Images says to
# ignore orientation metadata placed after it): read as the page and the user's browser show it.
IGNORED_ORIENTATION = ("WEBP",)
JPEG_FORMATS = ("JPEG", "MPO")  # decoded reduced (draft mode), and allowed up to MAX_JPEG_PIXELS

# The first bytes of PNG, JPEG, GIF, TIFF (both byte orders), WebP/RIFF and BMP files.
IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"RIFF", b"BM")


# Files people take for images that are not (or not in a format decoded here): told apart so that the
# message says what the file is. HEIC/HEIF is what iPhones save photos as; SVG and PDF are drawings of
# shapes, not pixels.
OTHER_KINDS = ((b"%PDF", "a PDF document"), (b"8BPS", "a Photoshop document"), (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
               (b"\xff\x0a", "a JPEG XL image"), (b"\xef\xbb\xbf<svg", "an SVG drawing"), (b"<svg", "an SVG drawing"))
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
READ_FORMATS = "PNG, JPEG, GIF, BMP, TIFF, WebP, AVIF, ICO, TGA, PPM, PGM or PBM"


def _other_kind(head: bytes) -> str | None:
    """What a file that is not an image inkread reads is, from its first bytes, if it is a kind people take
    for an image (a HEIC photo, an SVG or PDF drawing); None for anything else."""
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "a HEIC/HEIF photo (as iPhones save them)"
    for signature, kind in OTHER_KINDS:
        if head.startswith(signature):
            return kind
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in text:
        return "an SVG drawing"
    return None


def starts_like_image(head: bytes) -> bool:
    """Whether bytes start as a PNG, JPEG, GIF, TIFF, WebP or BMP file does (a RIFF file: WebP's, not a WAV's or an AVI's)."""
    return head.startswith(IMAGE_SIGNATURES) and not (head.startswith(b"RIFF") and head[8:12] not in (b"WEBP", b""))


def open_image(source: Any, pixels: int | None = None, region: tuple[int, int, int, int] | None = None) -> Image.Image:
    """A decoded PIL image from a path, bytes or PIL image: first frame, EXIF-upright, size-checked.

    Images of more than ``pixels`` (``WORK_PIXELS`` unless given) are reduced (JPEGs while decoding, which is much faster; most
    PNGs as they are decoded, a band of rows at a time, so that they are never in memory whole).
    With a ``region`` (x0, y0, x1, y1 in the input's pixels), a PNG decoded in bands may be cut to it as well:
    then ``info[REGION]`` is (x0, y0, scale): the cut's top left corner in the input, and its input pixels
    per pixel.
    """
    with _quiet_pillow():
        return _open_image(source, pixels, region)


def _open_image(source: Any, pixels: int | None, region: tuple[int, int, int, int] | None) -> Image.Image:
    owned = not isinstance(source, Image.Image)  # never alter a caller's image in place
    if not owned:
        _check_size(source.size, "the image")
        image, name = source, "the image"
        try:
            image.load()  # an image opened lazily is read now (its pixels are needed anyway)
        except AssertionError:  # Pillow's check that its file is still open
            raise InputImageError("the PIL image's file was closed before its pixels were read: call image.load() "
                                  "inside the with block, or give the file's path") from None
        except _DECODE_ERRORS as error:
            raise _truncated(name, first_line(error, 120)) from None
    else:
        stream, name = _open_stream(source)
        try:
            image = Image.open(stream, formats=FORMATS)  # Pillow's bomb warning (~89 MP) is silenced: ours is lower
        except Image.DecompressionBombError:
            header = _header_size(stream)
            if header is not None:  # the size and limit in the message, if the header says them
                size, image_format = header
                _check_size(size, name, _pixel_limit(image_format))
            raise InputImageError(f"{name} is too large to decode safely: resize it") from None
        except UnidentifiedImageError:
            stream.seek(0)
            head = stream.read(512)
            if starts_like_image(head[:12]):  # a known format whose header is cut short
                raise _truncated(name, "its header is incomplete") from None
            kind = _other_kind(head)
            if kind:
                raise InputImageError(f"{name} is {kind}, which inkread does not read: export or save it as PNG or JPEG") from None
            raise InputImageError(f"{name} is not in an image format inkread reads: use {READ_FORMATS}") from None
        except _DECODE_ERRORS as error:  # the format is known, but the file stops short, is damaged, or uses a variant Pillow lacks
            raise InputImageError(f"{name} cannot be decoded ({first_line(error, 120)}): it may be truncated "
                                  "or corrupt, or a variant of its format that cannot be decoded here: save or export it again as PNG or JPEG") from None
        _check_size(image.size, name, _pixel_limit(image.format))
    original_side = max(image.size)  # the longest side is the same whatever the EXIF rotation
    try:
        if owned:
            image.seek(0)  # animated or multi-page: the first frame
        scale = _reduction(image.size, pixels)
        reduced = _reduced_png(stream, image, pixels, region) if owned and scale < 1 else None
        if reduced is not None:  # decoded in bands: the whole image never was in memory
            reduced.info[ORIGINAL_SIDE] = original_side
            return reduced
        if owned and image.format in JPEG_FORMATS and scale <= 0.5:  # decode at 1/2..1/8 scale, no smaller than the reduction: fast
            image.draft(image.mode, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        if image.format in IGNORED_ORIENTATION:
            pass  # shown as stored, as browsers show it
        elif owned:  # turn our own image in place: no copy of an image that is already upright
            ImageOps.exif_transpose(image, in_place=True)
        else:
            image = ImageOps.exif_transpose(image) or image  # a copy: the caller's image stays as it was
        image.load()
    except _DECODE_ERRORS as error:
        raise _truncated(name, first_line(error, 120)) from None
    if _reduction(image.size, pixels) < 1:
        image = _reduce(image, pixels)
    image.info[ORIGINAL_SIDE] = original_side
    return image


# --- opening and checking ------------------------------------------------------------------------

def _open_stream(source: Any) -> tuple[io.BufferedIOBase, str]:
    """A binary stream over ``source`` (path or bytes), after checking its length."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = getattr(source, "name", "the image")  # NamedBytes: a file read by ``replayable``
        _check_bytes(len(data), name)
        return io.BytesIO(data), name
    if hasattr(source, "read"):  # an open file, a BytesIO, a web framework's upload
        name = source.name if isinstance(getattr(source, "name", None), str) else "the image"
        data = _read_up_to(source, MAX_BYTES + 1, name)
        if len(data) > MAX_BYTES:  # only as much was read as the check needs
            raise InputImageError(f"{name} is over the {MAX_BYTES / 2**20:.0f} MB limit: resize or compress it")
        position = _position(source) if not data else 0
        if position:  # read before: the file may be fine, the stream is at its end
            raise InputImageError(f"nothing left to read in {name}: it was read to byte {position} before; "
                                  "seek(0) first, or give its path or bytes")
        _check_bytes(len(data), name)
        return io.BytesIO(data), name
    if isinstance(source, (str, os.PathLike)):
        name = str(source)
        if isinstance(source, str) and "://" in source:
            raise InputImageError(f"{name} is a URL: download the image first, then give its path or bytes")
        if not name or "\0" in name:
            raise InputImageError(f"{name!r} is not a file path: give the path of an image file")
        path = Path(source).expanduser()
        try:
            # One open and one fstat: this runs for every request. Non-blocking, so that a named pipe
            # is refused instead of waiting forever for a writer (no effect on regular files).
            with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as file:
                info = os.fstat(file.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise InputImageError(f"{name} is not a regular file (a pipe or device): save the image to a file first")
                _check_bytes(info.st_size, name)
                return io.BytesIO(file.read()), name
        except FileNotFoundError:
            raise InputImageError(f"{name}: no such file: check the path") from None
        except IsADirectoryError:
            raise InputImageError(f"{name} is a folder, not an image file") from None
        except OSError as error:
            if _is_dir(path):  # PermissionError on Windows
                raise InputImageError(f"{name} is a folder, not an image file") from None
            raise InputImageError(f"cannot read {name}: {error.strerror or error}") from None
    raise InputImageError(
        f"cannot read an image from a value of type {type(source).__name__}: give a path, bytes, an open file, "
        "a PIL image or a numpy array"
    )


def _read_up_to(stream: Any, limit: int, name: str) -> bytes:
    """Up to ``limit`` bytes of ``stream``, to its end: an unbuffered stream (a socket's, a pipe's) may give fewer
    than asked in one read, and a file cut short in the middle was then refused as truncated."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        try:
            part = stream.read(limit - size)
        except UnicodeDecodeError:  # a file opened with open(path): its bytes are no text
            raise InputImageError(f"{name} was opened as text: open it in binary mode ('rb')") from None
        except (OSError, ValueError) as error:  # closed, or opened for writing only
            detail = "not open for reading" if isinstance(error, io.UnsupportedOperation) else first_line(error, 80)
            raise InputImageError(f"cannot read {name} ({detail}): give its path, or a file open for reading in "
                                  "binary mode ('rb')") from None
        if part is not None and not isinstance(part, (bytes, bytearray, memoryview)):
            raise InputImageError(f"{name} was opened as text: open it in binary mode ('rb')")
        if not part:  # the end (None: a non-blocking stream with nothing more now, taken as its end)
            break
        parts.append(bytes(part))
        size += len(part)
    return b"".join(parts)


def _position(stream: Any) -> int:
    """Where ``stream`` stands (0 if it cannot say)."""
    try:
        return int(stream.tell())
    except (OSError, ValueError, AttributeError, TypeError):
        return 0


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # e.g. a name too long to look up
        return False


def _check_bytes(size: int, name: str) -> None:
    if size == 0:
        raise InputImageError(f"{name} is empty (0 bytes): save or export it again")
    if size > MAX_BYTES:
        raise InputImageError(
            f"{name} is {size / 2**20:.1f} MB; the limit is {MAX_BYTES / 2**20:.0f} MB: resize or compress it"
        )


@contextlib.contextmanager
def _quiet_pillow():
    """Pillow's warnings silenced while decoding: a TIFF with a damaged tag ("tag 278 had too many entries")
    put lines with site-packages paths in the server's log on every request. What is wrong with a file
    that cannot be read is said by the InputImageError raised instead; Pillow's bomb warning (~89 MP)
    is beneath our own, lower limit. (libtiff writes some complaints to stderr from C: not caught here.)

    catch_warnings changes process-wide state (before Python 3.14): with two threads inside at once one
    may restore the filters while the other decodes, so a warning can still, rarely, get through.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def frames_of(source: Any) -> tuple[int, str]:
    """How many frames or pages an image file (a path or an open binary file) holds, and its format, from its header
    (Pillow's warnings silenced, as when it is decoded: its bomb warning came before our own message)."""
    with _quiet_pillow(), Image.open(source, formats=FORMATS) as image:
        return getattr(image, "n_frames", 1), image.format or "image"


def pixel_count(data: bytes) -> int | None:
    """Width x height read from an encoded image's header, without decoding it; None if unreadable."""
    try:
        with _quiet_pillow(), Image.open(io.BytesIO(data), formats=FORMATS) as image:
            return image.width * image.height
    except Image.DecompressionBombError:
        return MAX_PIXELS
    except (UnidentifiedImageError, *_DECODE_ERRORS):
        return None


def _pixel_limit(image_format: str | None) -> int:
    """The most pixels an image of ``image_format`` may have: JPEGs are decoded reduced, so they may have more."""
    return MAX_JPEG_PIXELS if image_format in JPEG_FORMATS else MAX_PIXELS


def _check_size(size: tuple[int, int], name: str, limit: int = MAX_PIXELS) -> None:
    """Refuse images too large to decode safely (more than ``limit`` pixels) or too small to hold a character."""
    width, height = size
    if width * height > limit:
        raise InputImageError(
            f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} MP); "
            f"the limit is {limit / 1e6:.0f} MP{' (for a JPEG)' if limit == MAX_JPEG_PIXELS else ''}: resize it"
        )
    if min(width, height) < MIN_SIDE:
        raise InputImageError(f"{name} is {width}x{height} pixels: a character needs at least {MIN_SIDE}x{MIN_SIDE}")


def _header_size(stream: io.BufferedIOBase) -> tuple[tuple[int, int], str] | None:
    """(width, height) and the format from the header, read by the format's own plugin without Pillow's
    bomb check (None: unknown)."""
    stream.seek(0)
    prefix = stream.read(16)
    for factory, accept in (Image.OPEN[name] for name in FORMATS if name in Image.OPEN):
        accepted = accept(prefix) if accept else True
        if accepted and not isinstance(accepted, str):  # a str is Pillow's "maybe, with a warning"
            try:
                stream.seek(0)
                opened = factory(stream, "")
                return opened.size, opened.format
            except _DECODE_ERRORS:
                continue
    return None  # the plugin itself refused it as a bomb (WebP does): the caller refuses it anyway


def _truncated(name: str, detail: str) -> InputImageError:
    return InputImageError(f"{name} is truncated or corrupt ({detail}): save or export it again")


def _reduction(size: tuple[int, int], pixels: int | None = None) -> float:
    """The scale that brings an image of ``size`` down to ``pixels`` (default ``WORK_PIXELS``; 1 or more: no reduction needed)."""
    return math.sqrt((pixels or WORK_PIXELS) / max(1, size[0] * size[1]))


def _reduce(image: Image.Image, pixels: int | None = None) -> Image.Image:
    """Shrink to ``pixels``, averaging pixels (keeps thin strokes visible)."""
    mode = _resizable_mode(image)
    image = image if image.mode == mode else image.convert(mode)
    return image.resize(_reduced_size(image.size, pixels), Image.Resampling.BOX)


def _reduced_png(stream: io.BytesIO, image: Image.Image, pixels: int | None,
                 region: tuple[int, int, int, int] | None = None) -> Image.Image | None:
    """``_reduce(image, pixels)`` decoded a band of rows at a time, if ``image`` is a PNG ``imaging.bands`` takes; else None.

    With a ``region``, only its part, at the same scale (``info[REGION]`` says where it was cut).
    """
    size = _reduced_size(image.size, pixels)
    if region is None:
        return reduce_png(stream.getvalue(), image, size, _resizable_mode(image))
    scale = image.width / size[0]
    x0, y0 = min(max(0, int(region[0])), image.width - 1), min(max(0, int(region[1])), image.height - 1)
    # the cut's sides in whole pixels of the reduction, and its edges moved to fit them: the same scale both ways
    # (a cut of its own height and width would be scaled a little differently down than across)
    cut = (max(1, min(round((region[2] - x0) / scale), int((image.width - x0) / scale))),
           max(1, min(round((region[3] - y0) / scale), int((image.height - y0) / scale))))
    x1, y1 = min(image.width, x0 + max(1, round(cut[0] * scale))), min(image.height, y0 + max(1, round(cut[1] * scale)))
    reduced = reduce_png(stream.getvalue(), image, cut, _resizable_mode(image), (x0, y0, x1, y1))
    if reduced is not None:
        reduced.info[REGION] = (x0, y0, scale)
    return reduced


def _reduced_size(size: tuple[int, int], pixels: int | None = None) -> tuple[int, int]:
    """The size of an image of ``size`` pixels reduced to ``pixels``, its aspect kept."""
    scale = _reduction(size, pixels)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _resizable_mode(image: Image.Image) -> str:
    """The mode ``image`` is reduced in: its own if Pillow averages it as it is, F for 16/32-bit gray (made RGB,
    Pillow clips it to 255: a 16-bit scan's paper and ink all became white), else RGB(A)."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image.mode
    if high_bit_depth(image):
        return "F"
    return "RGBA" if has_alpha(image) else "RGB"


def _array_image(array: np.ndarray) -> Image.Image:
    """A PIL image (L, LA, RGB or RGBA) from a numpy image: bool, integers or float (0..1 or 0..255).

    A mask (bool, or integers that are all 0 or 1, as thresholding gives) is 0 and 255; integers above
    255 are scaled by the bit depth they fit in (10, 12, 14 or 16 bits: a 12-bit scan's 4095 is white).
    """
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 2, 3, 4))):
        raise InputImageError(f"a numpy image must be (H, W), (H, W, 2) gray and alpha, (H, W, 3) or (H, W, 4), "
                              f"got shape {array.shape}" + (": move the channels last" if array.ndim == 3
                                                           and array.shape[0] in (1, 3, 4) else ""))
    _check_size((array.shape[1], array.shape[0]), "the image")
    if array.dtype == bool or (np.issubdtype(array.dtype, np.integer) and array.size
                               and array.max() <= 1 and array.min() >= 0):
        array = array.astype(np.uint8) * 255  # a mask: 1 (or True) is one colour, 0 the other
    elif np.issubdtype(array.dtype, np.integer) and array.dtype != np.uint8:
        if array.size and array.min() < 0:  # a difference of images, say: no levels of light
            raise InputImageError(f"the image array holds negative values (down to {array.min()}): give levels "
                                  "from 0 (black) up")
        array = to_uint8(array.astype(np.float32), 255.0 / _integer_white(int(array.max(initial=0))))
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise InputImageError("the image array holds NaN or infinite values")
        low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
        top = 1.0 if high <= 1.0 + FLOAT_SLACK else 255.0  # rounding may leave 1.0000001 in a 0..1 image
        if low < -FLOAT_SLACK * top or high > top * (1.0 + FLOAT_SLACK):  # clipped, most of it would be black or white
            raise InputImageError(f"a float image must hold levels in 0..1 or 0..255, got {low:.4g}..{high:.4g}: "
                                  "scale it into one of them")
        array = to_uint8(array, 255.0 / top)
    elif array.dtype != np.uint8:
        raise InputImageError(f"a numpy image must hold numbers, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return Image.fromarray(np.ascontiguousarray(array))


def _integer_white(maximum: int) -> int:
    """The white of an integer image whose largest value is ``maximum``: 255, or the top of the 10, 12, 14 or
    16-bit range it fits in, or the maximum itself beyond 16 bits."""
    return next((2 ** bits - 1 for bits in (8, 10, 12, 14, 16) if maximum <= 2 ** bits - 1), maximum)
