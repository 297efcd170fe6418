"""A character written fainter than its neighbours is brought up to their strength (imaging/faint.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from inkread import Recognizer
from inkread.imaging.faint import lift_faint_marks
from inkread.imaging.ink import ink_map
from helpers import REPO


def bars(levels: list[float], height: int = 40, width: int = 6, gap: int = 20) -> np.ndarray:
    """Upright bars side by side at the given ink levels (an ink map: ink high)."""
    ink = np.zeros((height + 20, gap + len(levels) * (width + gap)), np.float32)
    for k, level in enumerate(levels):
        x = gap + k * (width + gap)
        ink[10:10 + height, x:x + width] = level
    return ink


def bar_peaks(ink: np.ndarray, count: int, width: int = 6, gap: int = 20) -> list[float]:
    return [round(float(ink[:, gap + k * (width + gap):gap + k * (width + gap) + width].max()), 3) for k in range(count)]


def test_a_faint_character_sized_mark_is_scaled_up_to_the_bold_ones():
    lifted = lift_faint_marks(bars([1.0, 0.3, 1.0]), least_peak=0.15)
    assert bar_peaks(lifted, 3) == [1.0, 1.0, 1.0]


def test_marks_fainter_than_the_least_peak_stay_as_they_are():  # show-through, erased pencil
    ink = bars([1.0, 0.1, 1.0])
    assert lift_faint_marks(ink, least_peak=0.15) is ink


def test_marks_not_of_a_characters_height_stay_as_they_are():
    ink = bars([1.0, 1.0])
    ink[5:7, :] = 0.3  # a faint rule across the page, two pixels tall
    ink[45:48, 2:5] = 0.3  # a faint speck
    assert lift_faint_marks(ink, least_peak=0.15) is ink


def test_faint_strips_joined_by_fainter_ink_stay_as_they_are():
    """Pieces of rules joined by a photo's noise: as tall as a character, but flat strips where it is inked."""
    ink = bars([1.0, 1.0])
    for top in (12, 22, 32):
        ink[top:top + 2, 32:41] = 0.3
    ink[12:34, 36] = np.maximum(ink[12:34, 36], 0.1)  # under half the strips' peak, above half the least peak
    assert lift_faint_marks(ink, least_peak=0.15) is ink


def test_without_bold_writing_nothing_is_lifted():  # faint alone: the map was stretched to it already
    ink = bars([0.3, 0.3])
    assert lift_faint_marks(ink, least_peak=0.15) is ink


def test_marks_read_already_stay_as_they_are():
    ink = bars([1.0, 0.7])
    assert lift_faint_marks(ink, least_peak=0.15) is ink


def number_page(faint_share: float, noise: float) -> Image.Image:
    """7, 3 and 8 (shipped sample drawings, 3x) on grey paper, the 3 written ``faint_share`` as dark."""
    page = np.zeros((150, 290), np.float32)
    x = 30
    for name, share in (("hwd1000-7-070.png", 1.0), ("hwd1000-3-033.png", faint_share), ("hwd1000-8-088.png", 1.0)):
        ink = 1 - np.asarray(Image.open(REPO / "samples" / "digits" / name).convert("L"), np.float32) / 255
        ink = ink[np.ix_(ink.max(axis=1) > 0.1, ink.max(axis=0) > 0.1)]
        ink = np.asarray(Image.fromarray(ink).resize((ink.shape[1] * 3, ink.shape[0] * 3), Image.Resampling.BICUBIC))
        region = page[30:30 + ink.shape[0], x:x + ink.shape[1]]
        np.maximum(region, share * np.clip(ink, 0, 1), out=region)
        x += ink.shape[1] + 15
    gray = 240 - 220 * page + np.random.default_rng(0).normal(0, noise, page.shape)
    return Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("noise", [0.0, 6.0], ids=["scan", "photo"])
@pytest.mark.parametrize("faint_share", [0.25, 0.4])
def test_a_digit_written_faintly_between_bold_ones_is_read(noise, faint_share):
    # before: "78" (the 3 below the segmenter's 0.5, or gone with a photo's specks)
    assert Recognizer.load("digits").read(number_page(faint_share, noise)).text == "738"


@pytest.mark.parametrize("noise", [0.0, 6.0], ids=["scan", "photo"])
def test_show_through_beside_the_writing_stays_out_of_the_ink(noise):
    page = number_page(0.06, noise)  # the 3 about 5% darker than the paper: seen through from the back
    assert np.abs(ink_map(page) - ink_map(number_page(0.0, noise))).max() < 0.5
    assert Recognizer.load("digits").read(page).text == "7 8"  # the gap where the 3 would be is a space


def test_marks_touching_the_images_edge_stay_as_they_are():
    ink = bars([1.0, 1.0])
    ink[:30, 33:36] = 0.3  # a faint bar between them runs off the top of the image
    assert lift_faint_marks(ink, least_peak=0.15) is ink


def shadowed_digit(sample: str, angle: float, offset: float, seed: int) -> Image.Image:
    """A shipped sample digit in a JPEG photo: light falling off across it, and a soft shadow's edge ``offset`` px
    from its middle at ``angle`` (a hand's, as photo_conditions.py's combined condition casts it)."""
    ink = 1 - np.asarray(Image.open(REPO / "samples" / "digits" / sample).convert("L"), np.float32) / 255
    ink = ink[np.ix_(ink.max(axis=1) > 0.1, ink.max(axis=0) > 0.1)]
    ink = np.clip(np.asarray(Image.fromarray(ink).resize((ink.shape[1] * 6, ink.shape[0] * 6), Image.Resampling.BICUBIC)), 0, 1)
    page = np.zeros((320, 320), np.float32)
    top, left = (320 - ink.shape[0]) // 2, (320 - ink.shape[1]) // 2
    page[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    rows, cols = np.mgrid[0:320, 0:320].astype(np.float32) - 160
    across = cols * np.cos(angle + 1) + rows * np.sin(angle + 1)
    light = 1 - 0.5 * (across - across.min()) / (across.max() - across.min())
    light *= 1 - 0.45 / (1 + np.exp(-np.clip((cols * np.cos(angle) + rows * np.sin(angle) - offset) / 12.8, -50, 50)))
    gray = np.asarray(Image.fromarray(np.clip((240 - 210 * page) * light, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(1.0)), np.float32) + np.random.default_rng(seed).normal(0, 4, page.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=40)
    return Image.open(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("sample, angle, offset, seed", [
    ("hwd1000-2-020.png", 5 * np.pi / 6, 40, 5), ("hwd1000-2-020.png", 8 * np.pi / 6, 40, 8),  # where it leaves the photo
    ("hwd1000-1-012.png", 5 * np.pi / 6, 0, 5), ("hwd1000-6-066.png", 6 * np.pi / 6, 40, 6)])  # inside the photo
def test_what_is_left_of_a_shadows_edge_is_not_brought_up_beside_a_digit(sample, angle, offset, seed):
    # brought up, faint crumbs along the edge were a stroke of the digit (2 -> "6", "5"; 1 -> "4"; 6 -> "0")
    assert Recognizer.load("digits").predict(shadowed_digit(sample, angle, offset, seed)).label == sample[8]
