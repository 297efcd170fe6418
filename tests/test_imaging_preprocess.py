"""Preprocessing real images into MNIST/EMNIST-like model inputs.

The central check: real MNIST test digits drawn the way a user would (large, dark ink, anywhere on
a transparent canvas) come back out of ``preprocess_image`` close to the original MNIST image.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from inkread.errors import InkreadError, InputImageError
from inkread.imaging.preprocess import NoInkError, normalize, prepare_training_image, preprocess_image
from inkread.imaging.stroke import stroke_anisotropy, stroke_width, window_sums

from helpers import grainy_page, shared_subfolder

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def mnist(request) -> np.ndarray:
    """The first 300 MNIST test images (uint8 (N, 28, 28), ink high)."""
    shared = request.getfixturevalue("shared_datasets")
    from inkread.data.idx import read_images

    return np.array(read_images(shared / "mnist" / "t10k-images-idx3-ubyte.gz")[:300])


@pytest.fixture(scope="module")
def emnist(request) -> np.ndarray:
    """The first 300 EMNIST byclass test images, upright (uint8 (N, 28, 28), ink high)."""
    shared = request.getfixturevalue("shared_datasets")
    from inkread.data.idx import read_images

    return np.array(read_images(shared / "emnist" / "emnist-byclass-test-images-idx3-ubyte.gz")[:300]).transpose(0, 2, 1)


def canvas(digit: np.ndarray, scale: float = 8, dx: int = 0, dy: int = 0, size: int = 280,
           form: str = "rgba") -> bytes:
    """PNG bytes of a 28x28 ink-high digit drawn as a user would: upscaled, dark ink, off-centre.

    ``form``: "rgba" (black strokes on a transparent canvas), "rgb" (white background), "l"
    (grayscale), or "inverted" (white ink on black).
    """
    side = round(28 * scale)
    big = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR))
    ink = np.zeros((size, size), np.uint8)
    top, left = (size - side) // 2 + dy, (size - side) // 2 + dx
    ys, xs = slice(max(0, top), min(size, top + side)), slice(max(0, left), min(size, left + side))
    ink[ys, xs] = big[ys.start - top:ys.stop - top, xs.start - left:xs.stop - left]
    if form == "rgba":
        array = np.zeros((size, size, 4), np.uint8)
        array[..., :3] = 25  # almost black pen
        array[..., 3] = ink
    elif form == "rgb":
        array = np.repeat((255 - ink)[..., None], 3, axis=2)
    elif form == "l":
        array = 255 - ink
    else:
        array = ink
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(mean absolute difference, correlation) of two images."""
    return float(np.mean(np.abs(a - b))), float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def similarity_up_to_a_pixel(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The best similarity over shifts of at most one pixel.

    MNIST places the centre of mass with an integer shift, so when it lies near a half pixel a
    slightly different rendering may land one pixel over: that is the recipe, not a defect.
    """
    shifted = [np.roll(b, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return min(similarity(a, s) for s in shifted)


def test_mnist_drawn_on_a_canvas_comes_back_as_mnist(mnist):
    rng = np.random.default_rng(0)
    diffs, correlations = [], []
    for digit in mnist[:200]:
        dx, dy = (int(v) for v in rng.integers(-60, 61, 2))
        got = preprocess_image(canvas(digit, scale=float(rng.uniform(5, 9)), dx=dx, dy=dy))
        assert got.shape == (28, 28) and got.dtype == np.float32
        assert 0.0 <= got.min() and got.max() <= 1.0
        diff, correlation = similarity(got, digit / 255)
        diffs.append(diff)
        correlations.append(correlation)
    # Single pixels shift when rounding the centre of mass, so judge the set, not the worst case.
    assert np.mean(diffs) < 0.05
    assert np.mean(correlations) > 0.9 and np.median(correlations) > 0.95


def test_prepare_training_image_keeps_mnist_as_it_is(mnist):
    got = np.stack([prepare_training_image(d, "mnist") for d in mnist[:200]])
    diffs = np.abs(got - mnist[:200] / 255).mean(axis=(1, 2))
    assert np.median(diffs) < 0.005 and np.mean(diffs) < 0.03


def test_emnist_recipe_reproduces_emnist(emnist):
    got = np.stack([prepare_training_image(c, "emnist") for c in emnist[:200]])
    correlations = [similarity(a, b / 255)[1] for a, b in zip(got, emnist[:200])]
    assert np.mean(correlations) > 0.9
    # The character's box fills the central 24x24, centred by its box, with empty margins.
    assert got[:, :, :1].max() < 0.3 and got[:, :1].max() < 0.3
    rows = (got > 0.3).any(axis=2)
    cols = (got > 0.3).any(axis=1)
    extent = np.maximum(rows.sum(axis=1), cols.sum(axis=1))
    assert np.median(extent) in (22, 23, 24, 25)


def test_mnist_recipe_geometry():
    ink = np.zeros((300, 200), np.float32)
    ink[40:260, 90:110] = 1.0  # a tall bar: 220 high, so it becomes 20 high in 28x28
    got = normalize(ink, "mnist")
    rows = np.flatnonzero(got.max(axis=1) > 0.3)
    assert rows[-1] - rows[0] + 1 in (20, 21)
    ys, xs = np.indices(got.shape)
    assert abs((got * ys).sum() / got.sum() - 14) < 0.6 and abs((got * xs).sum() / got.sum() - 14) < 0.6


@given(index=st.integers(0, 299), dx=st.integers(-55, 55), dy=st.integers(-55, 55))
@SETTINGS
def test_invariant_to_position(mnist, index, dx, dy):
    # scale 6: the 168 px drawing has 56 px of canvas on every side, so it is never cut off
    centred = preprocess_image(canvas(mnist[index], scale=6))
    moved = preprocess_image(canvas(mnist[index], scale=6, dx=dx, dy=dy))
    assert similarity(centred, moved)[0] < 0.01


@given(index=st.integers(0, 299), scale=st.floats(4.0, 9.0))
@SETTINGS
def test_invariant_to_size(mnist, index, scale):
    reference = preprocess_image(canvas(mnist[index], scale=6))
    other = preprocess_image(canvas(mnist[index], scale=scale))
    diff, correlation = similarity_up_to_a_pixel(reference, other)
    assert diff < 0.04 and correlation > 0.9


@given(index=st.integers(0, 299), form=st.sampled_from(["rgb", "l", "inverted"]))
@SETTINGS
def test_invariant_to_alpha_and_polarity(mnist, index, form):
    transparent = preprocess_image(canvas(mnist[index], dx=30, dy=-20))
    other = preprocess_image(canvas(mnist[index], dx=30, dy=-20, form=form))
    assert similarity_up_to_a_pixel(transparent, other)[0] < 0.02


def polyline_seven(width: int) -> bytes:
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(70, 60), (200, 60), (120, 230)], fill=0, width=width, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("recipe", ["mnist", "emnist"])
def test_thin_and_fat_strokes_end_up_alike(recipe):
    thin, fat, normal = (preprocess_image(polyline_seven(w), recipe) for w in (3, 40, 18))
    widths = [stroke_width(img > 0.5) for img in (thin, fat, normal)]
    assert max(widths) - min(widths) < 1.0  # within a pixel of each other at 28x28
    assert 1.2 < widths[2] < 3.5  # MNIST strokes are about 2 px wide
    assert similarity(thin, fat)[1] > 0.6  # same shape; widths may differ within the training range


def test_small_binary_bitmaps_are_smoothed():
    bitmap = np.zeros((16, 16), np.float32)
    bitmap[2:14, 6:10] = 1.0
    bitmap[2:5, 3:10] = 1.0
    got = normalize(bitmap)
    # anti-aliased edges: gray levels appear, as in MNIST
    assert np.count_nonzero((got > 0.1) & (got < 0.9)) > 10



def round_pen_drawing(shape: str, width: int = 90, height: int = 150, pen: int = 22) -> np.ndarray:
    """A binary "0" (ellipse) or "7" (polyline) drawn with a round pen, taller than wide."""
    image = Image.new("L", (width + 40, height + 40), 0)
    draw = ImageDraw.Draw(image)
    if shape == "0":
        draw.ellipse([20, 20, 20 + width, 20 + height], outline=255, width=pen)
    else:
        draw.line([(20, 20), (20 + width, 20), (40, 20 + height)], fill=255, width=pen, joint="curve")
    return np.asarray(image) > 127


def stretched(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """The mask's ink box resized to width x height (aspect not kept), binary again."""
    image = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(image.crop(image.getbbox()).resize((width, height), Image.Resampling.BOX)) > 127


@pytest.mark.parametrize("shape", ["0", "7"])
def test_stroke_anisotropy_measures_a_sideways_stretch(shape):
    drawing = round_pen_drawing(shape)
    assert 0.85 < stroke_anisotropy(drawing) < 1.15  # a round pen: as wide across as down
    rows, cols = np.flatnonzero(drawing.any(axis=1)), np.flatnonzero(drawing.any(axis=0))
    h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert 1.3 < stroke_anisotropy(stretched(drawing, round(1.5 * w), h)) < 1.75
    bar = np.zeros((80, 80), bool)
    bar[5:75, 35:45] = True  # a lone upright stroke: nothing to compare with
    assert stroke_anisotropy(bar) == 1.0


@pytest.mark.parametrize("shape", ["0", "7"])
def test_small_bitmaps_stretched_to_a_square_are_narrowed_back(shape):
    drawing = round_pen_drawing(shape)  # 0.6 as wide as high
    natural = normalize(drawing.astype(np.float32))
    squared = normalize(stretched(drawing, 16, 16).astype(np.float32))  # semeion-style 16x16

    def box_width(image: np.ndarray) -> int:
        cols = np.flatnonzero((image > 0.3).any(axis=0))
        return int(cols[-1] - cols[0] + 1)

    assert box_width(natural) <= 15
    assert box_width(squared) < 18  # 20 if the stretch were kept
    # A bitmap that is not stretched keeps its shape.
    small = normalize(stretched(drawing, 10, 16).astype(np.float32))
    assert abs(box_width(small) - box_width(natural)) <= 2

@pytest.mark.parametrize("source", [
    Image.new("RGBA", (280, 280), (0, 0, 0, 0)), Image.new("L", (280, 280), 255), np.zeros((50, 50)),
])
def test_blank_raises_no_ink(source):
    with pytest.raises(NoInkError) as caught:
        preprocess_image(source)
    assert isinstance(caught.value, InputImageError) and "\n" not in str(caught.value)


def test_blank_photo_raises_no_ink():
    rng = np.random.default_rng(0)
    with pytest.raises(NoInkError):
        preprocess_image(np.clip(0.75 + rng.normal(0, 0.015, (300, 400)), 0, 1))


def test_bad_arguments():
    with pytest.raises(InkreadError, match="recipe"):
        normalize(np.ones((5, 5)), "nist")
    with pytest.raises(InputImageError, match="2-D"):
        normalize(np.ones((2, 5, 5)))
    with pytest.raises(NoInkError):
        normalize(np.full((10, 10), np.nan))


def test_hairline_strokes_on_a_large_canvas_are_thickened_like_any_other():
    """A 1 px pen on a 1000 px canvas faded to a fifth of full ink when shrunk to be measured."""
    from PIL import ImageDraw

    from inkread.imaging.preprocess import preprocess_image

    def seven(size: int, width: int) -> np.ndarray:
        image = Image.new("L", (size, size), 255)
        s = size / 750
        ImageDraw.Draw(image).line([(187 * s, 112 * s), (562 * s, 112 * s), (337 * s, 637 * s)], fill=0, width=width)
        return preprocess_image(image)

    hairline, marker = seven(1000, 1), seven(280, 8)
    assert hairline.max() > 0.8  # was 0.16: nothing above the ink threshold
    assert np.count_nonzero(hairline > 0.5) > 0.3 * np.count_nonzero(marker > 0.5)


def test_a_shadow_across_a_photo_is_not_read_as_a_stroke():
    """The lighting surface follows a shadow's edge: the shadowed paper beside it is paper, not ink."""
    from inkread.imaging.ink import ink_map

    rng = np.random.default_rng(0)
    x = np.arange(480)[None, :]
    lighting = np.where(x < 240, 225.0, 130.0) * np.ones((480, 1))  # the right half in a shadow
    paper = lighting * (1.0 + rng.normal(0.0, 0.02, (480, 480)))   # textured paper: the photo path
    page = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
    ImageDraw.Draw(page).line([(60, 150), (180, 150), (120, 330)], fill=30, width=12)  # a 7 in the light half
    ink = ink_map(page)
    assert ink[140:160, 70:170].mean() > 0.5                    # the 7 is ink
    assert ink[:, 250:].max() < 0.5 and ink[:, 200:236].max() < 0.5  # nothing along the edge or in the shadow
    digit = preprocess_image(page)
    assert digit[:, :14].sum() > 0 and (digit > 0.5).sum() < 200  # one character, not a bar down the page


def test_a_shadow_on_clean_white_paper_is_not_ink_either():
    """Exact white paper (a scan, blown highlights) half in shadow: not the one-paper-level clean path."""
    from inkread.imaging.ink import ink_map

    page = np.full((480, 480), 255, np.uint8)
    page[:, 260:] = 150                                           # the shadow: uniform, no texture
    image = Image.fromarray(page)
    ImageDraw.Draw(image).line([(60, 150), (180, 150), (120, 330)], fill=30, width=12)
    ink = ink_map(image)
    assert ink[140:160, 70:170].mean() > 0.5 and ink[:, 270:].max() < 0.5
    blank = ink_map(Image.fromarray(np.full((480, 480), 255, np.uint8)))  # evenly lit: still the clean path
    assert blank.max() == 0.0


def test_a_vignette_does_not_flip_dark_ink_into_light_ink():
    """Dark corners put most of the border below the threshold, but most of the page is still light paper."""
    from inkread.imaging.ink import ink_map

    yy, xx = np.mgrid[0:400, 0:400]
    radius = np.hypot(yy - 200, xx - 200) / np.hypot(200, 200)
    page = Image.fromarray(np.clip(240 * (1.0 - 0.75 * radius ** 2), 0, 255).astype(np.uint8))  # corners at 25%
    ImageDraw.Draw(page).line([(140, 120), (260, 120), (200, 290)], fill=20, width=14)
    ink = ink_map(page)
    assert ink[112:128, 150:250].mean() > 0.5 and ink[180:220, 120:160].max() < 0.5  # the 7 is ink, the paper not
    chalk = Image.fromarray(255 - np.asarray(Image.new("L", (400, 400), 255)))  # light ink on a dark board
    ImageDraw.Draw(chalk).line([(140, 120), (260, 120), (200, 290)], fill=235, width=14)
    assert ink_map(chalk)[112:128, 150:250].mean() > 0.5


def test_a_small_character_in_a_large_photo_of_grainy_paper_is_found():
    """A 40 px 7 in a 1200x900 photo is a twentieth of a percent of the pixels: Otsu's threshold
    falls inside the paper's grain, and the 7 used to be judged too faint (no ink at all)."""
    page = grainy_page(1200, 900)
    ImageDraw.Draw(page).line([(500, 400), (530, 400), (512, 440)], fill=40, width=4)
    digit = preprocess_image(page)
    seven = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(seven).line([(80, 40), (200, 40), (128, 200)], fill=0, width=22)
    assert similarity_up_to_a_pixel(digit, preprocess_image(seven))[1] > 0.8


@pytest.mark.parametrize("dust_px", [0, 3, 8])
def test_grainy_paper_with_only_dust_on_it_is_blank(dust_px):
    page = grainy_page(1200, 900, seed=1)
    if dust_px:
        ImageDraw.Draw(page).ellipse([(600, 450), (600 + dust_px, 450 + dust_px)], fill=40)
    with pytest.raises(NoInkError):
        preprocess_image(page)


def test_a_character_that_fills_most_of_its_crop_is_not_taken_for_grain():
    """Ink on most of the pixels: the contrast's median is ink, and the paper-and-ink split stands."""
    page = grainy_page(80, 300, seed=2)
    ImageDraw.Draw(page).rectangle([(6, 4), (74, 296)], fill=30)  # a fat 1 filling a tight crop
    clean = Image.new("L", (80, 300), 255)
    ImageDraw.Draw(clean).rectangle([(6, 4), (74, 296)], fill=30)
    assert similarity_up_to_a_pixel(preprocess_image(page), preprocess_image(clean))[1] > 0.95


@pytest.mark.parametrize("squared", [False, True])
def test_one_character_on_lined_or_squared_paper_is_read_without_the_rules(squared):
    """A 7 half the page's width on ruled paper (rules 30 px apart, fainter or as dark as the
    writing): predict's crop used to take in the whole page of rules."""
    clean = Image.new("L", (320, 320), 255)
    ImageDraw.Draw(clean).line([(110, 100), (210, 100), (150, 240)], fill=20, width=12)
    expected = preprocess_image(clean)
    for rule_level in (180, 60):  # light blue rules; rules as dark as a pencil's
        page = np.full((320, 320), 255, np.uint8)
        page[14::30] = page[15::30] = rule_level
        if squared:
            page[:, 14::30] = page[:, 15::30] = rule_level
        image = Image.fromarray(page)
        ImageDraw.Draw(image).line([(110, 100), (210, 100), (150, 240)], fill=20, width=12)
        assert similarity_up_to_a_pixel(preprocess_image(image), expected)[1] > 0.9, (squared, rule_level)


def test_drawings_and_tight_crops_pass_writing_only_untouched():
    from inkread.imaging.preprocess import writing_only

    seven = np.zeros((40, 30), np.float32)
    seven[0:4, :] = 1.0  # a 7 cropped to its ink: the bar runs all the way across
    for y in range(4, 40):
        seven[y, 26 - y // 2:30 - y // 2] = 1.0
    faint_edges = np.pad(seven, 2) * 0.99
    faint_edges[1, 2:32] = 0.2  # anti-aliased edge above the bar
    for ink in (seven, faint_edges, np.zeros((20, 20), np.float32)):
        assert writing_only(ink) is ink


def test_a_shadow_across_a_large_photo_with_a_small_character_is_not_ink():
    """A 1200x900 page, a soft shadow over half of it, a 40 px 7: the lighting grid's cells were a
    sixteenth of the image (64 px), so along the shadow's edge each cell's brightest pixel was on the
    lit side and a fifth of the page came out as ink. With finer cells a haze was left along the
    edge, and at most angles (the shadow on either side, slanting) it was still read as ink, or
    took the 7's place: the paper next to each pixel now brings the lighting surface down to it."""
    from inkread.imaging.ink import ink_map

    rows, columns = np.mgrid[0:900, 0:1200].astype(np.float64)
    for angle in np.arange(16) * (np.pi / 8):  # the shadow's edge across the page at every angle
        across = (columns - 600) * np.cos(angle) + (rows - 450) * np.sin(angle)
        lighting = 245.0 * (1.0 - 0.45 / (1.0 + np.exp(-(across - 60) / 36.0)))  # one side in shade
        page = Image.fromarray(np.clip(lighting, 0, 255).astype(np.uint8))
        ImageDraw.Draw(page).line([(300, 300), (330, 300), (312, 340)], fill=30, width=4)
        ink = ink_map(page)
        assert ink[298:303, 302:328].mean() > 0.5, angle  # the 7's bar
        assert np.count_nonzero(ink > 0.5) < 1000, angle  # and nothing else: the 7 is a few hundred pixels


def test_a_stroke_wider_than_the_nearby_paper_window_stays_solid_in_uneven_light():
    """The paper next to a pixel (a closing over about 33 px at 1000 px) is a stroke's own level inside
    a 40 px stroke: there it is far darker than the lighting surface, and the surface is kept."""
    from inkread.imaging.ink import ink_map

    shade = np.linspace(1.0, 0.7, 1000)[None, :]  # the light falls off across the page: the photo path
    stroke = Image.new("L", (1000, 800))
    ImageDraw.Draw(stroke).line([(500, 60), (500, 740)], fill=255, width=40)
    inside = np.asarray(stroke) > 0
    for level in (185, 150, 60):  # 22%, 37% and 75% darker than the paper (238)
        page = np.asarray(grainy_page(1000, 800, seed=3), np.float32) * shade
        page[inside] = np.broadcast_to(level * shade, page.shape)[inside]
        ink = ink_map(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)))
        assert ink[100:700, 490:510].mean() > 0.95, level  # solid through the middle, not hollow
        assert ink[:, :450].max() < 0.5 and ink[:, 550:].max() < 0.5, level


def test_a_fat_stroke_filling_a_large_photo_stays_solid():
    """Strokes 120 px wide cover whole lighting-grid cells: those cells are ink, not dark paper."""
    from inkread.imaging.ink import ink_map

    page = grainy_page(800, 1000, seed=3)
    ImageDraw.Draw(page).line([(400, 60), (400, 940)], fill=30, width=120)  # a fat 1
    ink = ink_map(page)
    assert ink[100:900, 360:440].mean() > 0.95  # solid through the middle, not hollow
    assert ink[:, :300].max() < 0.5 and ink[:, 500:].max() < 0.5


def test_noise_is_refused_by_predict_as_by_read():
    """Speckle and grainy noise gave confident digits (8 at 0.91, 0 at 0.84), where read refused them."""
    from inkread.errors import InputImageError
    from inkread.imaging.preprocess import preprocess_image

    rng = np.random.default_rng(0)
    speckle = np.where(rng.random((300, 300)) < 0.02, 0, 255).astype(np.uint8)  # 2% black pixels
    noise = rng.integers(0, 256, (300, 300)).astype(np.uint8)
    with pytest.raises(InputImageError, match="more than 500 marks"):
        preprocess_image(Image.fromarray(noise))
    # scattered black pixels on white are what a black-and-white scan makes of a page 2% gray: blank
    with pytest.raises(InputImageError, match="no ink found"):
        preprocess_image(Image.fromarray(speckle))
    # a digit with a few specks around it is still a digit
    page = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(page).line([(150, 60), (150, 240)], fill=0, width=14)
    dotted = np.asarray(page).copy()
    dotted[rng.integers(0, 300, 40), rng.integers(0, 300, 40)] = 0
    assert preprocess_image(Image.fromarray(dotted)).max() > 0.5


def test_a_blank_page_with_a_shadow_stays_blank_when_faint_rules_are_looked_past():
    """Past a faint layer (a page's rules), the ink must stand out from that layer as ink does from
    paper: without that, the noise along a shadow's edge on a blank 500x400 page was read as a 1."""
    from PIL import ImageFilter

    from inkread.imaging.ink import ink_map

    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[0:400, 0:500]
    light = 215.0 - 30 * columns / 500
    light = np.where(columns > 500 * 0.55 + 0.2 * (rows - 200), light - 55, light)  # a hard shadow, slanting
    for ruled in (False, True):
        paper = np.ones((400, 500))
        if ruled:
            paper[14::28] = 1 - 25 / 255  # faint rules
        page = Image.fromarray(np.clip(light * paper + rng.normal(0, 4, (400, 500)), 0, 255).astype(np.uint8))
        assert not (ink_map(page.filter(ImageFilter.GaussianBlur(0.7))) > 0.5).any(), ruled


def test_a_hard_shadow_across_a_blank_page_is_not_ink_but_strokes_across_it_are():
    """A hard shadow's edge (a step of 40-80 levels) is more than a smooth lighting surface can
    follow: the shaded paper along it read as a band or a row of dashes of ink (92 of 288 synthetic
    blank pages). A band has paper as dark as itself on its shaded side; a stroke has lighter paper
    all around it, even one drawn across the edge."""
    from PIL import ImageFilter

    from inkread.imaging.ink import ink_map

    rng = np.random.default_rng(0)
    for width, drop, slope in [(400, 80, 0.0), (640, 80, 0.2), (1024, 55, 0.2), (1600, 80, 0.0)]:
        height = width * 3 // 4
        rows, columns = np.mgrid[0:height, 0:width]
        edge = width * 0.55 + slope * (rows - height / 2)
        light = 215.0 - 30 * columns / width - drop * (columns > edge)
        page = Image.fromarray(np.clip(light + rng.normal(0, 2, light.shape), 0, 255).astype(np.uint8))
        page = page.filter(ImageFilter.GaussianBlur(0.7))
        assert not (ink_map(page) > 0.5).any(), (width, drop, slope)
        # a 4 drawn across the edge, half in the light, half in the shade
        x, y, size = int(width * 0.55) - width // 20, height // 2 - width // 20, width // 10
        stroke = max(3, width // 100)
        ImageDraw.Draw(page).line([(x + size * 0.6, y), (x, y + size * 0.6), (x + size, y + size * 0.6)], fill=40, width=stroke)
        ImageDraw.Draw(page).line([(x + size * 0.7, y + size * 0.3), (x + size * 0.7, y + size)], fill=40, width=stroke)
        ink = ink_map(page) > 0.5
        assert ink[y + size * 6 // 10 - 1: y + size * 6 // 10 + 2, x + 2: x + size - 2].mean() > 0.8, (width, drop, slope)  # its bar
        assert np.count_nonzero(ink) < 4 * stroke * size, (width, drop, slope)  # and no band beside it


def test_a_fat_stroke_with_no_paper_ring_inside_the_image_is_ink():
    """A character filling its crop (a photo cut tight around a marker stroke): the ring looked at
    around the ink lies beyond the image, and an empty ring is no sign of a shadow's edge."""
    from inkread.imaging.ink import ink_map

    shade = np.linspace(1.0, 0.8, 300)[:, None]  # uneven light: the photo path
    page = np.asarray(grainy_page(80, 300, seed=1), np.float32) * shade
    page[5:295, 6:74] = 40  # a 1 as wide as a marker photographed close up, a few pixels from the edges
    ink = ink_map(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)))
    assert (ink[10:290, 10:70] > 0.5).mean() > 0.95


def test_may_be_inverted_only_when_the_ink_covers_most_of_the_image_and_its_border():
    from inkread.imaging.preprocess import may_be_inverted

    digit = np.zeros((60, 40), np.float32)
    digit[10:50, 18:23] = 1.0  # a 1 on paper: ink a tenth of the image, away from the border
    assert not may_be_inverted(digit)
    assert may_be_inverted(1.0 - digit)  # its paper read as the ink: a box around a dark 1
    bold_on_paper = np.zeros((60, 40), np.float32)
    bold_on_paper[5:55, 5:35] = 1.0  # a blot inside a margin: most of the image, none of the border
    assert not may_be_inverted(bold_on_paper)
    assert may_be_inverted(np.ones((40, 5), np.float32))  # a tight crop of a bold 1: ambiguous, predict reads both ways


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 9), st.integers(2, 9), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_window_sums_are_the_sums_of_every_window(height, width, side, seed):
    values = np.random.default_rng(seed).integers(0, 5, (height, width))
    if side > min(height, width):
        return
    sums = window_sums(values, side, np.int64)
    expected = [[values[y:y + side, x:x + side].sum() for x in range(width - side + 1)] for y in range(height - side + 1)]
    assert sums.tolist() == expected


def test_a_grainy_photo_with_two_short_scratches_is_blank():
    """Two thin scratches 8 px long on a reduced photo of grainy paper are dust, as one is: marks under a hundredth
    of the image's side taken for writing when two of them were thin-penned (tried on 2026-12-07) read every
    such photo as "1\n1"."""
    from inkread.imaging.ink import ink_map

    page = grainy_page(1024, 768, seed=3)
    draw = ImageDraw.Draw(page)
    draw.line([(300, 400), (300, 407)], fill=60, width=1)
    draw.line([(700, 200), (704, 207)], fill=60, width=1)
    assert not (ink_map(page) > 0.5).any()


def test_a_small_number_in_a_noisy_phone_photo_is_not_taken_for_dust():
    """56085 in hwd1000 digits on 40 px canvases in a 3000x2000 phone photo (sensor noise sigma 5, lens blur 0.6, JPEG
    80). At the working size (1086x724) each digit is a mark of its own, the tallest 12 px, over the dust floor (1% of
    the side: 10.9 px), but thin strokes fade at their ends: measured at half the cores' level no digit reached 10 px
    and the photo was read as blank. Measured where the marks stand clear of the paper's grain, the number is ink."""
    from inkread.imaging.decode import load_image

    folder = shared_subfolder("hwd1000")
    page = 180 + np.random.default_rng(7).normal(0, 5, (2000, 3000))
    for k, name in enumerate(["5-020.png", "6-084.png", "0-010.png", "8-013.png", "5-075.png"]):
        digit = Image.open(folder / name).convert("L").resize((40, 40), Image.Resampling.LANCZOS)
        cover = 1 - np.asarray(digit, np.float64) / 255
        region = page[980:1020, 1400 + 48 * k:1440 + 48 * k]
        region[:] = region * (1 - cover) + 40 * cover
    photo = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    data = io.BytesIO()
    photo.save(data, "JPEG", quality=80)
    ink = load_image(data.getvalue()) > 0.5
    scale = 3000 / ink.shape[1]
    rows = slice(int(975 / scale), int(1025 / scale))
    digits = [ink[rows, int((1400 + 48 * k) / scale):int((1440 + 48 * k) / scale)].any() for k in range(5)]
    outside = ink.copy()
    outside[rows, int(1395 / scale):int(1640 / scale)] = False
    assert all(digits) and not outside.any()


def test_a_noisy_phone_photo_with_short_scratches_is_blank():
    """The same photo with nothing written on it, only three scratches 20 px long (two thirds of the dust floor):
    measured with all of their pixels that stand clear of the grain, they are still dust."""
    from inkread.imaging.decode import load_image

    photo = Image.fromarray(np.clip(180 + np.random.default_rng(8).normal(0, 5, (2000, 3000)), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(photo)
    for (x, y), (dx, dy) in zip([(600, 500), (1500, 1200), (2400, 700)], [(20, 0), (12, 16), (0, 20)]):
        draw.line([(x, y), (x + dx, y + dy)], fill=100, width=2)
    data = io.BytesIO()
    photo.filter(ImageFilter.GaussianBlur(0.6)).save(data, "JPEG", quality=80)
    assert not (load_image(data.getvalue()) > 0.5).any()
