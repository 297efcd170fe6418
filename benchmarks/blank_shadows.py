"""Benchmark: blank pages under a hard shadow must stay blank (no ink found).

    python benchmarks/blank_shadows.py

576 synthetic blank pages, plain and ruled: 4 sizes (400-1600 px wide, 4:3), 4 shadow depths (25-80
levels below paper at 215), 3 edge softnesses (Gaussian blur 0.7-3 px), 3 slants of the edge, and
2 grain levels (sigma 2 and 4); the ruled half has rules every 1/20 of the height, 25 levels
darker. Counted: pages where ``load_image`` (the ink map of the image reduced as ``read`` reduces it)
leaves ink above 0.5 once the rules are taken out (``remove_rules``: what ``read`` and ``predict`` go on to see), and how much; and pages on which
``read`` with the shipped digits model finds text, or refuses the page (what a user would see).
Prints the failures.
Deterministic; about a minute on one core.
"""
from __future__ import annotations

import itertools
import time

import numpy as np
from PIL import Image, ImageFilter

from inkread import Recognizer
from inkread.errors import InputImageError
from inkread.imaging.decode import load_image
from inkread.imaging.rules import remove_rules

SIZES = (400, 640, 1024, 1600)
DROPS = (25, 40, 55, 80)
SOFTNESS = (0.7, 1.5, 3.0)
SLOPES = (0.0, 0.2, -0.5)
GRAIN = (2.0, 4.0)


def page(width: int, drop: float, softness: float, slope: float, grain: float, ruled: bool, seed: int) -> Image.Image:
    """A blank page (ruled or not) with a hard shadow over its right part."""
    rng = np.random.default_rng(seed)
    height = width * 3 // 4
    rows, columns = np.mgrid[0:height, 0:width]
    edge = width * 0.55 + slope * (rows - height / 2)
    light = 215.0 - 30 * columns / width - drop * (columns > edge)
    if ruled:
        step = max(8, height // 20)
        light = np.where((rows % step) < max(1, width // 600), light * (1 - 25 / 215), light)
    noisy = np.clip(light + rng.normal(0, grain, light.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(noisy).filter(ImageFilter.GaussianBlur(softness))


def main() -> None:
    t0 = time.time()
    reader = Recognizer.load("digits")
    failures, total, inked_pixels, read_text, refused = [], 0, 0, 0, 0
    for seed, (ruled, width, drop, softness, slope, grain) in enumerate(
            itertools.product((False, True), SIZES, DROPS, SOFTNESS, SLOPES, GRAIN)):
        total += 1
        image = page(width, drop, softness, slope, grain, ruled, seed)
        inked = int(np.count_nonzero(remove_rules(load_image(image)) > 0.5))
        try:
            result = reader.read(image)
            text = result.text + (" (uncertain)" if result.uncertain and result.text else "")
            read_text += bool(result.text)
        except InputImageError as error:  # refused: said to the user, not read as text
            text = f"refused: {error}"[:60]
            refused += 1
        inked_pixels += inked
        if inked or text:
            failures.append((ruled, width, drop, softness, slope, grain, inked, text))
    for failure in failures:
        print("blank page: ruled=%s width=%d drop=%d softness=%.1f slope=%.1f grain=%.0f -> %d px of ink, read %r" % failure)
    print(f"blank pages with ink left: {sum(f[6] > 0 for f in failures)} of {total} ({inked_pixels} px in all); "
          f"read as text: {read_text} of {total}; refused: {refused} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
