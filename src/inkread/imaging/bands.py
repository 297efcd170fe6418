"""Reduce a large PNG while decoding it, a band of rows at a time: the whole image is never in memory.

Decoded whole, a 39-megapixel PNG takes 156 MB in Pillow (an RGB pixel takes 4 bytes), and an RGBA
one twice that while it is resized (Pillow resizes a copy premultiplied by alpha), although it is
read at about 0.8 megapixels (``decode.WORK_PIXELS``). Here the PNG's pixel data is inflated a band of
rows at a time and each band is handed to Pillow's own PNG decoder (its filters undone, its pixels
unpacked), behind the band's previous row; ``box_reduce`` then reduces the bands as Pillow reduces
the whole image, to the same pixel values. PNGs this module does not take (interlaced, animated,
16-bit, 1, 2 or 4 bits a pixel, or with EXIF or XMP that may turn them) are decoded whole, as before.
"""

from __future__ import annotations

import struct
import zlib
from typing import Iterable, Iterator

from PIL import Image

BAND_BYTES = 256 * 1024  # about this many bytes of pixel data per band (smaller bands measured no slower)
PREMULTIPLIED = {"LA": "La", "RGBA": "RGBa"}  # Image.resize averages these premultiplied by their alpha
BITS = {"L": 8, "P": 8, "LA": 16, "RGB": 24, "RGBA": 32}  # PNG pixel layouts decoded in bands: 8 bits a sample
# Where a PNG may carry an EXIF orientation, as Pillow's getexif finds it (an eXIf chunk, or text chunks of
# these keywords): such files are decoded whole, turned upright, then reduced.
ORIENTATION_CHUNKS = (b"eXIf",)
ORIENTATION_KEYWORDS = (b"exif", b"Raw profile type exif", b"XML:com.adobe.xmp")
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


def reduce_png(data: bytes, image: Image.Image, size: tuple[int, int], mode: str,
               region: tuple[int, int, int, int] | None = None) -> Image.Image | None:
    """``image`` (opened from the PNG ``data``, not loaded) converted to ``mode`` and reduced to ``size``
    by ``Image.resize(size, BOX)``, decoded in bands; None if this PNG is to be decoded whole.

    With a ``region`` (x0, y0, x1, y1 inside the image), only that part is reduced to ``size``, and the
    rows below it are not inflated at all. Pixel data that stops short or is damaged raises ``ValueError``.
    """
    if not decodable_in_bands(data, image):
        return None
    converted = (_converted(_with_palette(band, image), mode) for band in png_bands(data, image))
    if region is None:
        return box_reduce(converted, image.height, size)
    return box_reduce(_cut(converted, region), region[3] - region[1], size)


def _cut(bands: Iterable[Image.Image], region: tuple[int, int, int, int]) -> Iterator[Image.Image]:
    """The parts of ``bands`` (an image's rows, top to bottom) inside ``region``; none after its last row."""
    x0, y0, x1, y1 = region
    top = 0
    for band in bands:
        bottom = top + band.height
        if bottom > y0:
            yield band.crop((x0, max(0, y0 - top), x1, min(band.height, y1 - top)))
        if bottom >= y1:
            return
        top = bottom


def decodable_in_bands(data: bytes, image: Image.Image) -> bool:
    """Whether ``png_bands`` decodes this PNG as Pillow would, and it stays upright without EXIF."""
    if image.format != "PNG" or len(image.tile) != 1 or image.tile[0].args != image.mode or image.mode not in BITS:
        return False  # 16-bit or 1, 2, 4 bits a pixel (Pillow's raw mode differs from the image's)
    if len(data) < 29 or data[28] != 0:  # IHDR's last byte: interlaced (Adam7)
        return False
    for kind, start, _ in _chunks(data):
        if kind in ORIENTATION_CHUNKS or kind == b"acTL":  # EXIF, or animated (APNG)
            return False
        if kind in TEXT_CHUNKS and data[start:start + 80].split(b"\0")[0] in ORIENTATION_KEYWORDS:
            return False
    return True


def png_bands(data: bytes, image: Image.Image) -> Iterator[Image.Image]:
    """The rows of a PNG (``decodable_in_bands``), top to bottom, as images of ``image.mode`` of about ``BAND_BYTES``."""
    width, height = image.size
    row = 1 + (BITS[image.mode] * width + 7) // 8  # a filter-type byte, then the row's samples
    band_rows = max(1, BAND_BYTES // row)
    inflater = zlib.decompressobj()
    idat = (memoryview(data)[start:start + length] for kind, start, length in _chunks(data) if kind == b"IDAT")
    previous = b""  # the band's previous row, unfiltered, as filter type 0 ("none"): its filters refer to it
    for top in range(0, height, band_rows):
        count = min(band_rows, height - top)
        rows = previous + _inflate(inflater, idat, count * row)
        band = Image.frombytes(image.mode, (width, count + bool(previous)), zlib.compress(rows, 0), "zip", image.mode)
        previous = b"\0" + band.crop((0, band.height - 1, width, band.height)).tobytes("raw", image.mode)
        yield band.crop((0, 1, width, band.height)) if top else band


def box_reduce(bands: Iterable[Image.Image], height: int, size: tuple[int, int]) -> Image.Image:
    """``whole.resize(size, Image.Resampling.BOX)``, from ``whole``'s rows in bands, top to bottom.

    Pillow resizes in two passes: each row across, into an image ``size[0]`` wide and as tall as the
    original, then each column down. The first pass is made a band at a time into that image, the
    second on it whole: the same arithmetic on the same pixels, so the same values.
    """
    columns, top, mode = None, 0, "L"
    for band in bands:
        mode = band.mode
        narrow = _converted(band, PREMULTIPLIED.get(mode, mode)).resize((size[0], band.height), Image.Resampling.BOX)
        if columns is None:
            columns = Image.new(narrow.mode, (size[0], height))
            columns.info = dict(band.info)  # e.g. a colour-key transparency, as the whole image keeps it
        columns.paste(narrow, (0, top))
        top += band.height
    if columns is None or top != height:
        raise ValueError(f"the bands hold {top} of the image's {height} rows")
    return _converted(columns.resize(size, Image.Resampling.BOX), mode)


def _converted(image: Image.Image, mode: str) -> Image.Image:
    """``image`` in ``mode`` (``image`` itself if it is in it already: ``convert`` would copy it)."""
    return image if image.mode == mode else image.convert(mode)


# --- the PNG file ------------------------------------------------------------------------------

def _chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start of its data, length) of each chunk of a PNG file, in order."""
    position = 8  # after the signature
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        yield kind, position + 8, length
        position += 12 + length  # length, type, data, CRC


def _inflate(inflater, pieces: Iterator[memoryview], size: int) -> bytes:
    """The next ``size`` bytes of the zlib stream split over ``pieces`` (the IDAT chunks' data)."""
    parts, missing = [], size
    try:
        while missing:
            piece = inflater.unconsumed_tail or next(pieces, None)
            if piece is None or inflater.eof:
                raise ValueError("its pixel data stops short")
            part = inflater.decompress(piece, missing)
            parts.append(part)
            missing -= len(part)
    except zlib.error as error:
        raise ValueError(f"its pixel data is damaged: {error}") from None
    return b"".join(parts)


def _with_palette(band: Image.Image, image: Image.Image) -> Image.Image:
    """A band of a palette image, given the image's palette and transparency (those of other modes: their transparency)."""
    if band.mode == "P":
        band.putpalette(image.palette)
    if "transparency" in image.info:
        band.info["transparency"] = image.info["transparency"]
    return band
