"""How well ``Recognizer.read`` reads numbers with punctuation: dates, decimals, times, phone numbers.

    python benchmarks/punctuation.py [--sets mnist,hwd1000,unipen_digits] [--strings 100] [--model digits]
                                     [--photo 4000x3000 --height 60 [--paper dotted]] [--dot-pens 1.0,1.5]

Strings such as ``06-12-33``, ``3.14``, ``12:30``, ``4,7`` and ``555-0123`` are composed from a set's
single-digit images (800 drawn at random, scaled to 80 px tall, set 12-25% of that apart) and punctuation drawn with a round
pen as wide as the digits' strokes: a period on the baseline, a comma hanging below it, a dash at
mid-height, a colon's two dots. Sizes and places vary a little from string to string. Each string is
read with ``read(only="digits")`` of the model (``Recognizer`` for a character model, ``LineReader``
for ``--model lines``); reported per set and kind of string: the strings read
exactly, and those whose digits alone are right. With ``--photo``, each string is instead set ``--height``
px tall (its digits' height) at a random place on a JPEG photo of paper that size, as ``small_writing.py``
makes them (an uneven light, sensor noise; ``--paper dotted``: a grey dot grid): a phone photo of a
number, reduced to about 0.8 megapixels before it is read. ``--dot-pens LOW,HIGH``: full stops' and colons'
dots as wide as that many pens (drawn at random between them; 1.0-1.5 by default, 2.5,3 for a firm dot). Only ``read().text`` is used, so the script runs on
any inkread version, before and after a change.

``mnist`` (the MNIST test split) is for development; ``hwd1000`` and ``unipen_digits`` (real
canvas and tablet digits, not from MNIST) are for evaluation: never tune on them.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from inkread.imaging.stroke import stroke_width
from inkread.inference.jobs import load_reader
from shared_sets import PhotoSetting, digit_strings_main
from small_writing import photo
from touching_digits import HEIGHT, digit_images, to_height

KINDS = {  # kind of string -> its pattern (D: a random digit)
    "date": "DD-DD-DD", "decimal": "D.DD", "price": "DD.DD", "time": "DD:DD", "list": "D,D", "phone": "DDD-DDDD",
}
DOT_PENS = [1.0, 1.5]  # a full stop is this many pens wide (at random between the two; --dot-pens)
POOL = 800  # digit images drawn from each set (hwd1000 holds 1,000); strings pick from them at random


def draw_mark(char: str, pen: int, rng: random.Random) -> tuple[np.ndarray, int]:
    """A punctuation mark as float ink (1 = ink) and the row of its top relative to the digits' top."""
    canvas = Image.new("L", (HEIGHT, 2 * HEIGHT), 0)
    draw = ImageDraw.Draw(canvas)
    middle, base = HEIGHT // 2, HEIGHT  # the canvas' rows for mid-height and the baseline
    dot = pen * rng.uniform(*DOT_PENS)
    if char in ".,:":
        draw.ellipse([20, base - dot, 20 + dot, base], fill=255)
    if char == ",":
        draw.line([(20 + dot - 1, base - dot / 2), (20 - pen * rng.uniform(0.5, 1.5), base + HEIGHT * rng.uniform(0.15, 0.3))],
                  fill=255, width=pen)
    if char == ":":
        upper = middle - HEIGHT * rng.uniform(0.05, 0.15)
        draw.ellipse([20, upper - dot, 20 + dot, upper], fill=255)
    if char == "-":
        length, y = HEIGHT * rng.uniform(0.25, 0.45), middle + HEIGHT * rng.uniform(-0.1, 0.1)
        draw.line([(10, y), (10 + length, y + rng.uniform(-3, 3))], fill=255, width=pen)
    ink = np.asarray(canvas, np.float32) / 255
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.05), np.flatnonzero(ink.max(axis=0) > 0.05)
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], int(rows[0])


def compose(items: list[tuple[np.ndarray, int]], rng: random.Random) -> np.ndarray:
    """Dark-on-white float image of (ink, top) items side by side, 12-25% of HEIGHT apart."""
    margin = HEIGHT // 2
    gaps = [round(HEIGHT * rng.uniform(0.12, 0.25)) for _ in items]
    canvas = np.zeros((HEIGHT + 2 * margin, sum(ink.shape[1] for ink, _ in items) + sum(gaps) + 2 * margin), np.float32)
    x = margin
    for (ink, top), gap in zip(items, gaps):
        region = canvas[margin + top:margin + top + ink.shape[0], x:x + ink.shape[1]]
        np.maximum(region, ink[:region.shape[0]], out=region)
        x += ink.shape[1] + gap
    return 1.0 - canvas


def run(sets: list[str], data: Path, strings: int, model: str, on_photo: PhotoSetting | None = None) -> str:
    """Read composed strings of every kind from every set (on a photo, given ``on_photo``); a markdown table."""
    recognizer = load_reader(model)  # a character model, or a line model (``--model lines``)
    where = "" if on_photo is None else (f", {on_photo.height} px tall on a {on_photo.size[0]}x{on_photo.size[1]} JPEG photo"
                                         f" of {'dotted' if on_photo.dotted else 'plain'} paper")
    lines = [f"Model {model!r}, `read(only=\"digits\")`, {strings} strings per cell{where}: read exactly / digits right", "",
             "| set | " + " | ".join(f"{kind} `{pattern}`" for kind, pattern in KINDS.items()) + " | all |",
             "|---|" + "---|" * (len(KINDS) + 1)]
    for name in sets:
        rng = random.Random(0)  # the same strings for every model and every run
        photo_rng = np.random.default_rng(0)  # ...on the same photos
        images, labels = digit_images(data, name, POOL, rng)
        glyphs = [to_height(image) for image in images]
        pen = max(2, round(float(np.median([stroke_width(g > 0.5) for g in glyphs[:50]]))))
        cells, exact_all, digits_all = [], 0, 0
        for pattern in KINDS.values():
            exact = digits_right = 0
            for _ in range(strings):
                items, truth = [], ""
                for char in pattern:
                    if char == "D":
                        index = rng.randrange(POOL)
                        items.append((glyphs[index], 0))
                        truth += labels[index]
                    else:
                        items.append(draw_mark(char, pen, rng))
                        truth += char
                image = compose(items, rng)
                if on_photo is not None:
                    writing = Image.fromarray(np.clip(image * 255, 0, 255).astype(np.uint8))
                    image = io.BytesIO(photo(writing, on_photo.height, on_photo.size, photo_rng, on_photo.dotted))
                text = recognizer.read(image, only="digits").text.replace(" ", "")
                exact += text == truth
                digits_right += [c for c in text if c.isdigit()] == [c for c in truth if c.isdigit()]
            cells.append(f"{exact / strings:.0%} / {digits_right / strings:.0%}")
            exact_all, digits_all = exact_all + exact, digits_all + digits_right
        total = strings * len(KINDS)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {exact_all / total:.0%} / {digits_all / total:.0%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    dots = argparse.ArgumentParser(add_help=False)  # this script's own option, before the shared ones
    dots.add_argument("--dot-pens", default="1.0,1.5")
    known, argv = dots.parse_known_args(argv)
    try:
        DOT_PENS[:] = sorted(float(value) for value in known.dot_pens.split(","))
    except ValueError:
        DOT_PENS[:] = []
    if len(DOT_PENS) != 2 or DOT_PENS[0] <= 0:
        print("punctuation: error: --dot-pens is LOW,HIGH, as 1.0,1.5", file=sys.stderr)
        return 2
    return digit_strings_main("punctuation", __doc__.split("\n")[0], run, argv, photos=True)


if __name__ == "__main__":
    sys.exit(main())
