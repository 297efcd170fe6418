"""Large PNGs decoded a band of rows at a time and reduced as they come: the same pixels as decoding
them whole, without the whole image ever in memory."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile, PngImagePlugin

from inkread.errors import InputImageError
from inkread.imaging import bands, decode


def png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def noisy(mode: str, size=(403, 297), levels=4) -> Image.Image:
    """Random pixels in ``levels`` levels a channel: every PNG row filter (Sub, Up, Average, Paeth) gets used."""
    channels = len(mode)
    pixels = np.random.default_rng(len(mode)).integers(0, levels, (size[1], size[0], channels), dtype=np.uint8)
    pixels = pixels * np.uint8(255 // (levels - 1))
    return Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)


def reduced_whole(data: bytes) -> Image.Image:
    """What decode did with every PNG: decode it whole, then reduce it."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return decode._reduce(image)


def reduced_in_bands(data: bytes) -> Image.Image | None:
    image = Image.open(io.BytesIO(data))
    return bands.reduce_png(data, image, decode._reduced_size(image.size), decode._resizable_mode(image))


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.mode == b.mode and a.size == b.size and a.tobytes() == b.tobytes()


PALETTE = noisy("RGB").quantize(200)
KINDS = {
    "L": png(noisy("L")), "LA": png(noisy("LA")), "RGB": png(noisy("RGB")), "RGBA": png(noisy("RGBA")),
    "P": png(PALETTE), "P-transparent": png(PALETTE, transparency=3),
    "RGB-colour-key": png(noisy("RGB", levels=2), transparency=(255, 255, 255)),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("band_bytes", [1, 5000, 10**7])  # a row a band, a few rows, one band
def test_bands_give_the_pixels_of_the_whole_image(kind, band_bytes, monkeypatch):
    monkeypatch.setattr(decode, "WORK_PIXELS", 150 * 100)
    monkeypatch.setattr(bands, "BAND_BYTES", band_bytes)
    whole, banded = reduced_whole(KINDS[kind]), reduced_in_bands(KINDS[kind])
    assert banded is not None and same_pixels(banded, whole)
    assert banded.info.get("transparency") == whole.info.get("transparency")


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_box_reduce_is_pillows_resize(mode):
    image = noisy(mode, (517, 389), levels=256)
    size = (131, 97)
    rows = [image.crop((0, top, image.width, min(top + 40, image.height))) for top in range(0, image.height, 40)]
    assert same_pixels(bands.box_reduce(rows, image.height, size), image.resize(size, Image.Resampling.BOX))


def test_a_large_png_is_never_decoded_whole(monkeypatch):
    """The whole image was decoded (156 MB for 39 MP of RGB) before it was reduced to WORK_PIXELS."""
    page = Image.new("RGB", (1200, 900), (246, 244, 238))
    ImageDraw.Draw(page).line([(300, 200), (900, 700)], fill=(26, 42, 108), width=40)
    data = png(page)
    monkeypatch.setattr(decode, "WORK_PIXELS", 200 * 150)  # stands in for 1024x768 pixels' worth
    expected = decode.load_image(page)  # the caller's own image: decoded already, reduced as it always was
    monkeypatch.setattr(bands, "BAND_BYTES", 40_000)  # about 11 rows of 3,601 bytes
    largest = []
    load, new = ImageFile.ImageFile.load, Image.new
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: largest.append(self.size) or load(self))
    monkeypatch.setattr(Image, "new", lambda mode, size, *args, **kw: largest.append(size) or new(mode, size, *args, **kw))
    got = decode.load_image(data)
    assert max(width * height for width, height in largest) < 1200 * 900 / 5  # at most the rows reduced across (200 x 900)
    assert np.array_equal(got, expected)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]  # x, y, steps


def interlaced_png(image: Image.Image) -> bytes:
    """``image`` (mode L) as an interlaced (Adam7) PNG, which Pillow does not write."""
    pixels = np.asarray(image)
    passes = [pixels[y::dy, x::dx] for x, y, dx, dy in ADAM7]
    rows = b"".join(b"\0" + row.tobytes() for sub in passes if sub.size for row in sub)  # filter type 0
    ihdr = struct.pack(">IIBBBBB", image.width, image.height, 8, 0, 0, 0, 1)
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))  # noqa: E731
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def png_of_kind(kind: str, image: Image.Image) -> bytes:
    if kind == "interlaced":
        return interlaced_png(image)
    if kind == "16-bit":
        return png(Image.fromarray(np.asarray(image, np.uint16) * 257))
    if kind == "XMP-turned":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>')
        return png(image, pnginfo=info)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    return png(image, exif=exif)


@pytest.mark.parametrize("kind", ["interlaced", "16-bit", "EXIF-turned", "XMP-turned"])
def test_pngs_not_taken_are_decoded_whole_as_before(kind, monkeypatch):
    monkeypatch.setattr(decode, "WORK_PIXELS", 150 * 100)
    image = noisy("L")
    data = png_of_kind(kind, image)
    assert reduced_in_bands(data) is None
    got = decode.open_image(data)
    assert got.size == ((105, 143) if kind.endswith("turned") else (143, 105))  # turned upright, then reduced
    if kind == "interlaced":
        assert same_pixels(got, decode._reduce(image))


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_large_png_cut_short_is_refused_in_one_line(cut, monkeypatch):
    monkeypatch.setattr(decode, "WORK_PIXELS", 150 * 100)
    data = png(noisy("RGB"))
    with pytest.raises(InputImageError) as caught:
        decode.load_image(data[:int(len(data) * cut)])
    message = str(caught.value)
    assert "truncated or corrupt" in message and "\n" not in message, message


def test_damaged_pixel_data_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(decode, "WORK_PIXELS", 150 * 100)
    data = bytearray(png(noisy("RGB")))
    start = data.index(b"IDAT") + 4
    data[start:start + 2] = b"\xff\xff"  # no zlib header
    with pytest.raises(InputImageError, match="truncated or corrupt"):
        decode.load_image(bytes(data))


@pytest.mark.parametrize("kind", ["L", "RGB", "RGBA", "P"])
def test_a_region_is_cut_from_the_bands_as_pillow_cuts_and_reduces_the_whole(kind, monkeypatch):
    monkeypatch.setattr(bands, "BAND_BYTES", 2000)  # many bands: the region starts and ends inside some
    data = KINDS[kind]
    image = Image.open(io.BytesIO(data))
    region, size = (37, 51, 311, 198), (137, 73)
    got = bands.reduce_png(data, image, size, decode._resizable_mode(image), region)
    whole = Image.open(io.BytesIO(data)).convert(decode._resizable_mode(image))
    assert same_pixels(got, whole.crop(region).resize(size, Image.Resampling.BOX))


def test_the_rows_below_a_region_are_not_inflated(monkeypatch):
    """A PNG cut short below the region still gives the region: the decoder stopped at its last row."""
    monkeypatch.setattr(bands, "BAND_BYTES", 2000)
    data = png(noisy("L"), compress_level=0)  # stored: the file's bytes follow its rows
    cut_short = data[:len(data) // 2]
    image = Image.open(io.BytesIO(cut_short))
    got = bands.reduce_png(cut_short, image, (100, 40), "L", (0, 10, 403, 90))
    assert same_pixels(got, noisy("L").crop((0, 10, 403, 90)).resize((100, 40), Image.Resampling.BOX))
    with pytest.raises(ValueError, match="stops short"):
        bands.reduce_png(cut_short, image, (100, 40), "L", (0, 200, 403, 290))
