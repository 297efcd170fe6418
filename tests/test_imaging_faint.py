"""Faint marks beside bold writing: show-through and what is left of a shadow's edge stay out of the reading,
and a character written much fainter than its neighbours is (still) dropped.

Bringing faint character-sized marks up to the writing's strength was tried on 2026-12-07 and not kept: it read
grey form boxes, stains, pencil doodles and printed labels as characters (benchmarks/EXPERIMENTS.md).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from inkread import Recognizer
from inkread.imaging.ink import ink_map
from helpers import sample_digit_ink


def number_page(faint_share: float, noise: float) -> Image.Image:
    """7, 3 and 8 (shipped sample drawings, 3x) on grey paper, the 3 written ``faint_share`` as dark."""
    page = np.zeros((150, 290), np.float32)
    x = 30
    for name, share in (("hwd1000-7-070.png", 1.0), ("hwd1000-3-033.png", faint_share), ("hwd1000-8-088.png", 1.0)):
        ink = sample_digit_ink(name, 3, Image.Resampling.BICUBIC)
        region = page[30:30 + ink.shape[0], x:x + ink.shape[1]]
        np.maximum(region, share * np.clip(ink, 0, 1), out=region)
        x += ink.shape[1] + 15
    gray = 240 - 220 * page + np.random.default_rng(0).normal(0, noise, page.shape)
    return Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8))


@pytest.mark.xfail(strict=True, reason="a digit a third as dark as its neighbours stays under the segmenter's 0.5 "
                   "(README: Not yet reached); strict, so a change that reads it is noticed")
@pytest.mark.parametrize("noise", [0.0, 6.0], ids=["scan", "photo"])
def test_a_digit_written_a_third_as_dark_as_its_neighbours_is_read(noise):
    assert Recognizer.load("digits").read(number_page(0.35, noise)).text == "738"


@pytest.mark.parametrize("noise", [0.0, 6.0], ids=["scan", "photo"])
def test_show_through_beside_the_writing_stays_out_of_the_ink(noise):
    page = number_page(0.06, noise)  # the 3 about 5% darker than the paper: seen through from the back
    assert np.abs(ink_map(page) - ink_map(number_page(0.0, noise))).max() < 0.5
    assert Recognizer.load("digits").read(page).text == "7 8"  # the gap where the 3 would be is a space


def shadowed_digit(sample: str, angle: float, offset: float, seed: int) -> Image.Image:
    """A shipped sample digit in a JPEG photo: light falling off across it, and a soft shadow's edge ``offset`` px
    from its middle at ``angle`` (a hand's, as photo_conditions.py's combined condition casts it)."""
    ink = np.clip(sample_digit_ink(sample, 6, Image.Resampling.BICUBIC), 0, 1)
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
    ("hwd1000-2-020.png", 5 * np.pi / 6, 40, 5), ("hwd1000-2-020.png", 8 * np.pi / 6, 40, 8),
    ("hwd1000-1-012.png", 5 * np.pi / 6, 0, 5), ("hwd1000-6-066.png", 6 * np.pi / 6, 40, 6)])
def test_what_is_left_of_a_shadows_edge_is_not_read_as_part_of_a_digit(sample, angle, offset, seed):
    # brought up with faint marks (tried, not kept), crumbs along the edge were a stroke of the digit (2 -> "6")
    assert Recognizer.load("digits").predict(shadowed_digit(sample, angle, offset, seed)).label == sample[8]
