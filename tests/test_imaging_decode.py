"""Decoding images into ink maps: every mode, polarity, EXIF, photos, and every kind of bad input."""

from __future__ import annotations

import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from inkread.errors import InputImageError
from inkread.imaging import decode
from inkread.imaging.decode import load_image


def drawing(size=(120, 90)) -> np.ndarray:
    """A clean, anti-aliased, asymmetric shape: ink-high float map (an 'L' and a dot)."""
    image = Image.new("L", (size[0] * 4, size[1] * 4), 0)
    draw = ImageDraw.Draw(image)
    draw.line([(80, 60), (80, 300), (260, 300)], fill=255, width=28)
    draw.ellipse([(330, 60), (380, 110)], fill=255)
    return np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.float32) / 255


def png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def as_gray(ink: np.ndarray, dark_ink=True) -> Image.Image:
    levels = np.round((1 - ink if dark_ink else ink) * 255).astype(np.uint8)
    return Image.fromarray(levels)


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk claiming width x height, with no pixels at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"")
    idat_chunk = struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + chunk + idat_chunk + end


def test_clean_gray_image_gives_its_ink_exactly():
    ink = drawing()
    got = load_image(png(as_gray(ink)))
    assert got.dtype == np.float32 and got.shape == ink.shape
    assert np.abs(got - ink).max() < 0.02


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA-transparent", "RGBA-opaque", "LA", "P", "P-transparent", "1", "I;16", "white-on-black", "red-ink"])
def test_every_mode_gives_the_same_ink(mode):
    ink = drawing()
    gray = as_gray(ink)
    if mode == "L":
        image = gray
    elif mode == "RGB":
        image = gray.convert("RGB")
    elif mode == "RGBA-transparent":  # a canvas export: black strokes, alpha is the ink
        rgba = np.zeros(ink.shape + (4,), np.uint8)
        rgba[..., 3] = np.round(ink * 255)
        image = Image.fromarray(rgba)
    elif mode == "RGBA-opaque":
        image = gray.convert("RGBA")
    elif mode == "LA":
        image = Image.merge("LA", [Image.new("L", gray.size, 30), Image.fromarray(np.round(ink * 255).astype(np.uint8))])
    elif mode == "P":
        image = gray.convert("P")
    elif mode == "P-transparent":  # palette image whose background entry is transparent
        image = Image.fromarray(np.where(ink > 0.5, 1, 0).astype(np.uint8), "P")
        image.putpalette([255, 255, 255, 0, 0, 0])
        image.info["transparency"] = 0
    elif mode == "1":
        image = Image.fromarray(ink <= 0.5)
    elif mode == "I;16":
        image = Image.fromarray((np.round((1 - ink) * 65535)).astype(np.uint16))
    elif mode == "white-on-black":
        image = as_gray(ink, dark_ink=False)
    else:  # red ink on a transparent canvas
        rgba = np.zeros(ink.shape + (4,), np.uint8)
        rgba[..., 0] = 220
        rgba[..., 3] = np.round(ink * 255)
        image = Image.fromarray(rgba)
    got = load_image(png(image, transparency=image.info["transparency"]) if "transparency" in image.info else png(image))
    binary = mode in ("1", "P-transparent")
    assert np.mean(np.abs(got - ink)) < (0.03 if binary else 0.01)
    assert np.array_equal(got > 0.5, ink > 0.5) or np.mean((got > 0.5) != (ink > 0.5)) < 0.01


def test_a_halftone_is_read_as_the_grays_its_dots_stand_for_and_a_drawing_in_two_levels_as_it_is():
    """A black-and-white scan draws a gray as scattered dots: a stroke of 60% gray on paper of 20% gray, so
    dithered, is one stroke on blank paper, not thousands of specks. A drawing in black and white whose pixels
    each touch one of their own level (a 1 px pen included) is left as it is, pixel for pixel."""
    gray = np.full((200, 200), 204, np.uint8)
    gray[40:160, 90:110] = 102
    dithered = Image.fromarray(gray).convert("1")  # Floyd-Steinberg
    ink = load_image(png(dithered))
    assert ink[:, :80].max() < 0.1 and ink[:, 120:].max() < 0.1  # the paper is blank
    assert ink[50:150, 95:105].min() > 0.7  # the stroke is whole
    drawn = Image.new("1", (200, 200), 1)
    ImageDraw.Draw(drawn).line([(20, 20), (180, 170)], fill=0, width=1)  # a 1 px pen: neighbours only corner to corner
    ImageDraw.Draw(drawn).ellipse((60, 100, 140, 180), outline=0, width=3)
    assert np.array_equal(load_image(png(drawn)) > 0.5, ~np.asarray(drawn))


@pytest.mark.parametrize("kind", ["uint8", "float", "bool", "uint16", "rgb", "rgba", "float255"])
def test_numpy_inputs(kind):
    ink = drawing()
    paper = 1 - ink
    array = {
        "uint8": np.round(paper * 255).astype(np.uint8),
        "float": paper,
        "float255": paper * 255,
        "bool": paper > 0.5,
        "uint16": np.round(paper * 65535).astype(np.uint16),
        "rgb": np.repeat(np.round(paper * 255).astype(np.uint8)[..., None], 3, axis=2),
        "rgba": np.dstack([np.zeros(ink.shape + (3,), np.uint8), np.round(ink * 255).astype(np.uint8)]),
    }[kind]
    got = load_image(array)
    assert np.mean(np.abs(got - ink)) < (0.03 if kind == "bool" else 0.01)


def test_pil_image_and_path_inputs(tmp_path):
    ink = drawing()
    path = tmp_path / "d.png"
    as_gray(ink).save(path)
    for source in (path, str(path), Image.open(path)):
        assert np.mean(np.abs(load_image(source) - ink)) < 0.01


def test_exif_orientation_is_honoured():
    ink = drawing()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the camera was held sideways
    buffer = io.BytesIO()
    as_gray(ink).rotate(90, expand=True).save(buffer, "JPEG", quality=95, exif=exif)
    got = load_image(buffer.getvalue())
    assert got.shape == ink.shape
    assert np.mean(np.abs(got - ink)) < 0.03


def test_a_webps_exif_orientation_is_ignored_as_browsers_ignore_it():
    """A WebP's EXIF chunk follows its image data, and browsers (following CSS Images) ignore orientation placed
    there: the page showed it as stored while the server turned it, so the two disagreed on where the ink was."""
    ink = drawing()
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    as_gray(ink).save(buffer, "WEBP", lossless=True, exif=exif)
    got = load_image(buffer.getvalue())
    assert got.shape == ink.shape and np.mean(np.abs(got - ink)) < 0.03


def test_animated_image_uses_the_first_frame():
    ink = drawing()
    frames = [as_gray(ink).convert("P"), Image.new("P", as_gray(ink).size, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    got = load_image(buffer.getvalue())
    assert np.mean(np.abs(got - ink)) < 0.03


def test_photo_with_uneven_light_noise_and_specks():
    ink = drawing((240, 180))
    rng = np.random.default_rng(0)
    yy, xx = np.indices(ink.shape)
    light = 0.55 + 0.4 * xx / ink.shape[1]  # a shadow on the left
    photo = light * (1 - 0.8 * ink) + rng.normal(0, 0.02, ink.shape)
    photo[10, 200] = photo[150, 30] = 0.1  # dust
    got = load_image(np.clip(photo, 0, 1))
    assert got[10, 200] == 0 and got[150, 30] == 0
    assert np.mean((got > 0.5) != (ink > 0.5)) < 0.01
    assert got[ink > 0.9].mean() > 0.9 and got[ink == 0].mean() < 0.02


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_large_images_are_reduced_to_about_a_megapixel(fmt):
    image = Image.new("L", (3000, 1500), 255)
    ImageDraw.Draw(image).line([(1000, 200), (1000, 1300)], fill=0, width=60)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    got = load_image(buffer.getvalue())
    assert got.shape == (627, 1254)  # 1024 x 768 pixels' worth (786,432), the aspect kept
    assert got[100:520, 410:425].min(axis=1).mean() > 0.9 and got[:, :380].max() < 0.1


def test_a_long_line_of_writing_keeps_its_height():
    """A line 3880 x 120 was reduced to 1024 px wide, its characters to 32 px: long lines read worse
    the more characters they held. It is 465,600 pixels, under the budget: kept as it is."""
    image = Image.new("L", (3880, 120), 255)
    ImageDraw.Draw(image).line([(1000, 20), (1000, 100)], fill=0, width=8)
    assert load_image(png(image)).shape == (120, 3880)


@pytest.mark.parametrize("source", [
    Image.new("L", (50, 40), 255), Image.new("L", (50, 40), 0), Image.new("RGBA", (50, 40), (0, 0, 0, 0)),
    np.full((40, 50), 0.7),
])
def test_blank_images_give_no_ink(source):
    assert load_image(source).max() == 0.0


def test_blank_noisy_photo_gives_no_ink():
    rng = np.random.default_rng(1)
    paper = np.clip(0.8 + rng.normal(0, 0.01, (200, 300)), 0, 1)
    assert load_image(paper).max() == 0.0


def one_line_error(source) -> str:
    with pytest.raises(InputImageError) as caught:
        load_image(source)
    message = str(caught.value)
    assert message and "\n" not in message
    return message


def test_not_an_image():
    message = one_line_error(b"hello, this is text")
    assert "is not in an image format inkread reads: use PNG, JPEG" in message
    assert "Pillow" not in message  # Pillow reads EPS and more, which inkread refuses


@pytest.mark.parametrize("data, kind", [
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><path d="M0 0L9 9"/></svg>', "an SVG drawing"),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn -->\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', "an SVG drawing"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(40), "a HEIC/HEIF photo"),
])
def test_a_file_taken_for_an_image_is_named_for_what_it_is(data, kind):
    message = one_line_error(data)
    assert f"the image is {kind}" in message and "which inkread does not read" in message and "export or save it as PNG or JPEG" in message, message


def test_an_xml_file_that_is_not_an_svg_is_not_called_one():
    assert "SVG" not in one_line_error(b'<?xml version="1.0"?><note>svg</note>')


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files(fmt):
    buffer = io.BytesIO()
    Image.fromarray(np.round(drawing() * 255).astype(np.uint8)).save(buffer, fmt)
    data = buffer.getvalue()
    for cut in (len(data) // 2, 20):  # the pixels cut short, and the header itself
        message = one_line_error(data[:cut])
        assert "truncated or corrupt" in message and "save or export it again" in message, message


def test_a_sound_file_is_not_called_a_truncated_image():
    """WAV and AVI files start with RIFF, as WebP does: only a RIFF file of WEBP is an image cut short."""
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)
    assert "not in an image format inkread reads" in one_line_error(wav)


@pytest.mark.parametrize("size", [(0, 0), (1, 1), (1, 50)])
def test_too_small(size):
    one_line_error(png_header(*size))


def test_tiny_real_image_is_refused():
    one_line_error(png(Image.new("L", (1, 1), 0)))
    one_line_error(np.zeros((1, 1)))


def test_decompression_bomb_refused_before_decoding():
    data = png_header(30000, 30000)  # 900 MP claimed, no pixels: decoding would fail differently
    message = one_line_error(data)
    assert "30000x30000" in message and "900 MP" in message and "40 MP" in message and "resize" in message


def test_bomb_below_pillows_own_limit_is_refused_too():
    assert "8000x6000" in one_line_error(png_header(8000, 6000))  # 48 MP


def test_a_48_megapixel_jpeg_is_read_reduced_a_png_is_refused():
    """Phone cameras of 48 MP and more are common: a JPEG is decoded at 1/8 scale (6 MP of memory)."""
    page = Image.new("L", (8000, 6000), 240)
    ImageDraw.Draw(page).rectangle([3900, 1500, 4100, 4500], fill=20)  # one upright stroke
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=70)
    ink = decode.load_image(buffer.getvalue())
    assert ink.size <= decode.WORK_PIXELS and ink.shape[0] / ink.shape[1] == pytest.approx(0.75, abs=0.01)
    assert ink.max() > 0.9  # the stroke is there
    assert "8000x6000" in one_line_error(png_header(8000, 6000))  # the PNG would be decoded whole: refused


def test_huge_files_refused_without_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "MAX_BYTES", 1000)
    data = png(Image.fromarray(np.random.default_rng(0).integers(0, 255, (100, 100), dtype=np.uint8)))
    assert len(data) > 1000
    assert "limit" in one_line_error(data)
    path = tmp_path / "big.png"
    path.write_bytes(data)
    assert "limit" in one_line_error(path)


def test_bad_sources(tmp_path):
    assert "missing.png: no such file: check the path" in one_line_error(tmp_path / "missing.png")
    assert "folder" in one_line_error(tmp_path)
    assert "empty" in one_line_error(b"")
    assert "from a value of type int" in one_line_error(12345)
    one_line_error(np.zeros((4, 4, 4, 4)))
    assert "move the channels last" in one_line_error(np.zeros((3, 40, 40), np.uint8))
    one_line_error(np.array([[np.nan, 1.0], [1.0, 1.0]]))


def test_transparent_canvas_with_eraser_strokes():
    """White strokes painted over a black drawing on a transparent canvas are background."""
    ink = drawing()
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = np.round(ink * 255)
    erased = np.zeros(ink.shape, bool)
    erased[:, 40:50] = True  # an opaque white band across the drawing
    rgba[erased] = (255, 255, 255, 255)
    got = load_image(png(Image.fromarray(rgba)))
    assert got[erased].max() == 0.0
    assert np.mean(np.abs(got[~erased] - ink[~erased])) < 0.01


def test_thin_white_strokes_on_a_transparent_canvas():
    rgba = np.zeros((100, 100, 4), np.uint8)
    rgba[20:80, 50] = (255, 255, 255, 255)  # one pixel wide, missed by a sparse sample
    got = load_image(png(Image.fromarray(rgba)))
    assert got[20:80, 50].min() == 1.0 and got.sum() == 60


@pytest.mark.parametrize("source, message", [
    ("https://example.com/5.png", "is a URL: download the image first"),
    ("", "is not a file path"),
    ("a\0b.png", "is not a file path"),
    ("x" * 300 + ".png", "cannot read x+\\.png: File name too long"),
])
def test_paths_that_are_no_files_are_one_clear_error(source, message):
    with pytest.raises(InputImageError, match=message):
        load_image(source)


def test_a_named_pipe_is_refused_instead_of_waiting_for_a_writer(tmp_path):
    import os

    fifo = tmp_path / "drawing.png"
    os.mkfifo(fifo)
    with pytest.raises(InputImageError, match="not a regular file"):
        load_image(fifo)


def test_pixel_count_reads_the_header_only():
    buffer = io.BytesIO()
    Image.new("L", (1200, 900), 255).save(buffer, format="PNG")
    whole = buffer.getvalue()
    assert decode.pixel_count(whole) == 1200 * 900
    assert decode.pixel_count(whole[:64]) == 1200 * 900  # the header is enough: nothing is decoded
    assert decode.pixel_count(b"not an image") is None


@pytest.mark.parametrize("kind", ["EPS", "PCX", "SGI", "QOI"])
def test_formats_outside_the_list_are_refused_unopened(kind):
    """EPS goes to Ghostscript when Pillow opens it: an uploaded PostScript file would run there."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(buffer, kind)
    with pytest.raises(InputImageError, match="not in an image format inkread reads"):
        load_image(buffer.getvalue())


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "MPO", "GIF", "BMP", "TIFF", "WEBP", "PPM", "TGA"])
def test_the_listed_formats_are_read(kind):
    buffer = io.BytesIO()
    image = Image.new("RGB", (40, 40), "white")
    ImageDraw.Draw(image).line([(20, 5), (20, 35)], fill="black", width=4)
    image.save(buffer, kind)
    assert load_image(buffer.getvalue()).max() > 0.5


def test_a_bomb_whose_size_the_header_hides_is_refused_without_a_made_up_size(monkeypatch):
    # A white 16383 x 16383 lossless WebP, 38 bytes: what Pillow writes for
    # Image.new("L", (16383, 16383), 255).save(f, "WEBP", lossless=True, method=0), which takes 10-20 s here.
    bomb = bytes.fromhex("524946461e000000574542505650384c110000002ffebfff0f07d0fffef7bfff8188e87f0000")
    with monkeypatch.context() as unlimited:  # it is what it says, as Pillow reads it without its bomb limit
        unlimited.setattr(Image, "MAX_IMAGE_PIXELS", None)
        with Image.open(io.BytesIO(bomb)) as image:
            assert (image.format, image.size) == ("WEBP", (16383, 16383))
    with pytest.raises(InputImageError) as refused:
        load_image(bomb)
    assert str(refused.value) == "the image is too large to decode safely: resize it"


def test_a_decoder_that_raises_runtime_error_gives_a_one_line_error(monkeypatch):
    """Pillow's AVIF plugin raises RuntimeError for some damaged files: it escaped as a traceback (a 500 from the server)."""
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("L", (40, 40), 255).save(buffer, format="PNG")

    def broken_open(*args, **kwargs):
        raise RuntimeError("Failed to decode image: BMFF parsing failed")

    monkeypatch.setattr(decode.Image, "open", broken_open)
    with pytest.raises(InputImageError, match="cannot be decoded"):
        load_image(buffer.getvalue())
    assert decode.pixel_count(buffer.getvalue()) is None


def test_masks_and_deep_integer_images_read_as_their_8_bit_picture(tmp_path):
    """A 0/1 mask (what thresholding gives) is ink and paper, not an image of two near-black levels, and an
    integer image above 255 is scaled by the bit depth it fits in (a 12-bit scan's 4095 is white, not 6% grey)."""
    picture = np.full((40, 60), 255, np.uint8)
    picture[10:30, 25:32] = 0  # a dark bar on white
    expected = load_image(picture)
    mask = (picture < 128).astype(np.uint8)  # 1 = ink, on 0: white on black, as a mask is usually drawn
    for as_given in (mask, mask.astype(np.int64), mask.astype(bool)):
        assert np.allclose(load_image(as_given), expected, atol=1 / 255), as_given.dtype
    for bits in (10, 12, 14, 16):
        deep = (picture.astype(np.int64) * (2 ** bits - 1) // 255).astype(np.uint16)
        assert np.allclose(load_image(deep), expected, atol=2 / 255), bits
        assert np.allclose(load_image((2 ** bits - 1) - deep.astype(np.int32)), expected, atol=2 / 255), bits  # white on black


def test_open_files_home_paths_and_gray_alpha_arrays_are_images(tmp_path, monkeypatch):
    picture = np.full((40, 60), 255, np.uint8)
    picture[10:30, 25:32] = 0
    path = tmp_path / "bar.png"
    Image.fromarray(picture).save(path)
    expected = load_image(path)
    with open(path, "rb") as file:  # as web frameworks hand uploads over
        assert np.array_equal(load_image(file), expected)
    assert np.array_equal(load_image(io.BytesIO(path.read_bytes())), expected)
    with open(path, encoding="latin-1") as text:
        assert "opened as text: open it in binary mode" in one_line_error(text)
    gray_alpha = np.stack([picture, np.full_like(picture, 255)], axis=-1)
    assert np.allclose(load_image(gray_alpha), expected, atol=1 / 255)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert np.array_equal(load_image("~/bar.png"), expected)  # as Recognizer.load("~/...") takes it


def test_files_that_cannot_be_read_as_they_are_given_say_so_in_one_line(tmp_path):
    """A file opened with open(path) (text: its first bytes are no UTF-8), closed, opened for writing, or read to
    its end before, and a PIL image whose file was closed before it was loaded, raised UnicodeDecodeError,
    ValueError or an empty AssertionError from deep in Pillow; a file read before was said to be empty (0 bytes),
    and its user sent to save a file that is fine."""
    path = tmp_path / "bar.png"
    Image.fromarray(np.full((40, 60), 255, np.uint8)).save(path)
    with open(path) as text:
        assert "bar.png was opened as text: open it in binary mode ('rb')" in one_line_error(text)
    with open(path, "rb") as closed:
        pass
    assert "bar.png (read of closed file): give its path, or a file open for reading" in one_line_error(closed)
    with open(tmp_path / "out.png", "wb") as writing:
        assert "(not open for reading)" in one_line_error(writing)
    with open(path, "rb") as read_before:
        read_before.read()
        assert f"nothing left to read in {path}: it was read to byte {path.stat().st_size} before; seek(0) first" \
            in one_line_error(read_before)
    with Image.open(path) as image:
        pass
    assert "the PIL image's file was closed before its pixels were read: call image.load()" in one_line_error(image)
    assert "is empty (0 bytes)" in one_line_error(io.BytesIO())


def test_premultiplied_gray_and_alpha_is_read_like_gray_and_alpha():
    """Pillow turns mode La into LA only: a ValueError ("conversion from La to L not supported") escaped."""
    ink = drawing()
    alpha = Image.fromarray(np.round(ink * 255).astype(np.uint8))
    gray_alpha = Image.merge("LA", [Image.new("L", alpha.size, 0), alpha])
    assert np.allclose(load_image(gray_alpha.convert("La")), load_image(gray_alpha), atol=2 / 255)


def test_arrays_whose_values_are_no_levels_of_light_are_refused():
    """A float image up to 65535 (a 16-bit scan made float) or signed integers below 0 were clipped to 0..255
    and read as blank paper or a solid block, without a word."""
    picture = np.full((40, 60), 255, np.uint8)
    picture[10:30, 25:32] = 0
    for array, message in ((picture.astype(np.float32) * 257, "float image must hold levels in 0..1 or 0..255, got 0..6.554e"),
                           (-picture.astype(np.int64), "negative values (down to -255): give levels from 0")):
        assert message in one_line_error(array)
    expected = load_image(picture)
    scaled = picture.astype(np.float64) / 255
    for near in (scaled * 1.0000001, scaled - 1e-7, picture.astype(np.float32)):  # rounding's strays are levels still
        assert np.allclose(load_image(near), expected, atol=1 / 255)


def test_a_file_object_over_the_limit_is_refused_after_reading_only_the_limit(monkeypatch):
    monkeypatch.setattr(decode, "MAX_BYTES", 1000)
    stream = io.BytesIO(png(Image.fromarray(np.random.default_rng(0).integers(0, 255, (100, 100), dtype=np.uint8))))
    assert "is over the" in one_line_error(stream) and stream.tell() == 1001  # read no further than the limit


@pytest.mark.parametrize("side, kind, limit", [(14_000, "JPEG", "160 MP (for a JPEG)"), (10_000, "PNG", "40 MP")])
def test_an_image_over_pillows_bomb_limit_is_refused_with_its_formats_limit(side, kind, limit):
    """A small image whose header says side x side (past Pillow's own limit, so its size comes from the
    header alone): a 196 MP JPEG was told the limit is 40 MP, while JPEGs are read up to 160 MP."""
    buffer = io.BytesIO()
    Image.new("L", (300, 200), 255).save(buffer, kind)
    data = bytearray(buffer.getvalue())
    if kind == "JPEG":  # the frame header: FF C0, length (2), precision (1), height (2), width (2)
        at = data.index(b"\xff\xc0") + 5
        data[at:at + 4] = side.to_bytes(2, "big") * 2
    else:  # IHDR: width (4), height (4) after the 16-byte signature and chunk head, then the chunk's CRC
        data[16:24] = side.to_bytes(4, "big") * 2
        data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    with pytest.raises(InputImageError, match=rf"is {side}x{side} pixels \(\d+ MP\); the limit is {re.escape(limit)}: resize it$"):
        load_image(bytes(data))


# --- a closer look at a region (inference.closer) ------------------------------------------------

def page_with_a_mark(size=(4000, 3000), mark=(2000, 1500, 2040, 1530)) -> np.ndarray:
    """A white page of ``size`` (width, height) with one black rectangle ``mark`` (x0, y0, x1, y1)."""
    page = np.full((size[1], size[0]), 255, np.uint8)
    page[mark[1]:mark[3], mark[0]:mark[2]] = 0
    return page


def test_a_region_is_cut_from_the_image_decoded_finer_and_placed_by_its_origin():
    page = page_with_a_mark()
    assert load_image(page).shape[1] == 1024  # read whole, it is reduced about 3.9 times: the mark is 10 px
    for source in (page, png(Image.fromarray(page)), Image.fromarray(page)):
        ink, scale, origin = decode.load_region_scaled(source, (1900, 1400, 2200, 1700), 12_000_000)
        assert scale == 1 and origin == (1900, 1400) and ink.shape == (300, 300)  # the input's own pixels
        rows, columns = np.nonzero(ink > 0.5)
        assert (columns.min(), rows.min(), columns.max() + 1, rows.max() + 1) == (100, 100, 140, 130)
    for source in (page, png(Image.fromarray(page))):  # the PNG is cut as it is decoded (imaging.bands)
        ink, scale, origin = decode.load_region_scaled(source, (1900, 1400, 2200, 1700), 3_000_000)  # half the sides
        assert scale == 2 and origin == (1900, 1400) and ink.shape == (150, 150)
        rows, columns = np.nonzero(ink > 0.5)
        assert (columns.min(), rows.min(), columns.max() + 1, rows.max() + 1) == (50, 50, 70, 65)


def test_a_region_of_a_turned_jpeg_is_in_the_pixels_it_is_displayed_in():
    page = page_with_a_mark((1600, 1200), (1200, 300, 1240, 330))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter: displayed upright, as load_image shows it
    buffer = io.BytesIO()
    Image.fromarray(page).rotate(90, expand=True).save(buffer, "JPEG", quality=95, exif=exif)
    ink, scale, origin = decode.load_region_scaled(buffer.getvalue(), (1100, 200, 1400, 400), 1600 * 1200)
    assert scale == 1 and origin == (1100, 200) and ink.shape == (200, 300)
    rows, columns = np.nonzero(ink > 0.5)
    assert abs(columns.min() - 100) <= 1 and abs(rows.min() - 100) <= 1 and abs(columns.max() + 1 - 140) <= 1


def test_a_region_reaching_past_the_image_is_cut_at_its_edges():
    ink, scale, origin = decode.load_region_scaled(page_with_a_mark(), (3900, 2900, 4500, 3600), 12_000_000)
    assert origin == (3900, 2900) and ink.shape == (100, 100) and scale == 1


def test_an_open_file_is_read_once_into_bytes_that_keep_its_name(tmp_path):
    path = tmp_path / "note.png"
    path.write_bytes(png(Image.fromarray(page_with_a_mark((200, 100), (50, 20, 90, 60)))))
    with open(path, "rb") as file:
        data = decode.replayable(file)
    assert data == path.read_bytes() and data.name == str(path)
    assert np.array_equal(load_image(data), load_image(path)) and np.array_equal(load_image(data), load_image(data))
    for source in (path, str(path), b"\x89PNG", Image.open(path)):
        assert decode.replayable(source) is source
    path.write_bytes(path.read_bytes()[:60])  # cut short: the error still names the file
    with open(path, "rb") as file:
        assert str(path) in one_line_error(decode.replayable(file))


def test_a_tall_narrow_region_of_a_png_is_scaled_alike_down_and_across():
    """A column of marks down a PNG, cut while decoded: the cut's width and height in whole pixels gave it two
    scales, and its one scale (across) put the lowest marks 9 px too low (boxes off the writing)."""
    page = np.full((3000, 2000), 255, np.uint8)
    tops = range(100, 2900, 400)
    for top in tops:
        page[top:top + 60, 1000:1040] = 0
    ink, scale, (x0, y0) = decode.load_region_scaled(png(Image.fromarray(page)), (950, 0, 1100, 3000), round(2000 * 3000 / 2.3 ** 2))
    assert scale == pytest.approx(2.3, rel=0.01)
    rows = np.flatnonzero(ink.max(axis=1) > 0.5)
    starts = rows[np.r_[True, np.diff(rows) > 1]]
    assert len(starts) == len(tops)
    for start, top in zip(starts, tops):
        assert abs(y0 + start * scale - top) <= 3


@pytest.mark.parametrize("kind", ["PNG", "TIFF"])
def test_a_large_16_bit_scan_keeps_its_ink_when_reduced(kind, monkeypatch):
    """Reduced as RGB, Pillow clipped 16-bit gray to 255: paper and ink all white, read as nothing."""
    monkeypatch.setattr(decode, "WORK_PIXELS", 100 * 75)
    ink = drawing((400, 300))
    levels = np.round((1 - ink) * 60000 + 2000).astype(np.uint16)  # dark ink on light paper, 16 bits
    buffer = io.BytesIO()
    Image.fromarray(levels).save(buffer, kind)
    got = load_image(buffer.getvalue())
    assert got.shape == (75, 100)
    expected = np.asarray(Image.fromarray(ink).resize((100, 75), Image.Resampling.BOX))
    assert np.mean(np.abs(got - expected)) < 0.05 and got.max() > 0.9


def test_a_stream_that_gives_its_bytes_a_few_at_a_time_is_read_to_its_end():
    """A socket's or pipe's unbuffered stream returns what it has, not what is asked: one read of it was taken
    for the whole file, refused as truncated."""
    data = png(as_gray(drawing()))

    class Trickle(io.RawIOBase):
        def __init__(self):
            self.left = memoryview(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            count = min(len(buffer), 100, len(self.left))
            buffer[:count], self.left = self.left[:count], self.left[count:]
            return count

    assert np.array_equal(load_image(Trickle()), load_image(data))


def test_a_tiff_with_a_damaged_tag_decodes_without_warnings(recwarn):
    """Pillow warned "Metadata Warning, tag 278 had too many entries" with its site-packages path, into the
    server's log, on each request: decoding now lets none of Pillow's warnings out, and still decodes."""
    buffer = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack("<H", data[ifd:ifd + 2])[0], 12):
        if struct.unpack("<H", data[entry:entry + 2])[0] == 278:  # RowsPerStrip: claims 5 values, not 1
            data[entry + 4:entry + 8] = struct.pack("<I", 5)
    data = bytes(data)
    assert decode.pixel_count(data) == 64 * 64
    assert load_image(data).shape == (64, 64)
    assert decode.open_image(data).size == (64, 64)
    assert [str(warning.message) for warning in recwarn] == []
