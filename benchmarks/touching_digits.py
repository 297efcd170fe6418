"""How well ``Recognizer.read`` reads digit strings whose digits touch or overlap.

    python benchmarks/touching_digits.py [--sets mnist,hwd1000,unipen_digits] [--strings 100]

Strings of four random digits from a set of single-digit images are laid side by side, scaled to
the same height (80 px), with a gap between neighbours given as a share of that height: positive
gaps leave space, 0 makes the boxes touch, negative gaps push the digits into each other (their
strokes then often cross, as in hurried handwriting). Each string is read in four ways, side by
side: the baseline cuts touching characters by the width rule alone (``segment`` without a
chooser) and reads each with the digits model; ``Recognizer.read`` lets the digits model choose the
cuts (``inference/grouping.py``); the line model (``lines``, ``LineReader``) reads the string whole,
with no cuts at all; and ``Recognizer.read`` with the line model for touching digits
(``Recognizer.load(model, touching="lines")``, ``--model digits+lines`` on the command line) reads
digits that stand apart with the digits model and each piece of ink holding touching ones whole. Reported per set and gap: strings read exactly, and strings read as exactly
four characters.

``mnist`` (the MNIST test split) is for development; ``hwd1000`` and ``unipen_digits`` (real
canvas and tablet digits, not from MNIST) are for evaluation: never tune on them.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from inkread.imaging.decode import load_image
from inkread.imaging.segment import segment
from inkread.inference.line_reader import LineReader
from inkread.inference.recognizer import Recognizer
from shared_sets import digit_strings_main, load_set

HEIGHT = 80  # pixels per digit in the composed strings
GAPS = (0.15, 0.05, 0.0, -0.05, -0.1)  # share of HEIGHT between neighbouring digits
DIGITS_PER_STRING = 4


def digit_images(data: Path, name: str, count: int, rng: random.Random) -> tuple[list[np.ndarray], list[str]]:
    """``count`` random ink maps (float, ink high, cropped to the ink) and their labels from a set."""
    if name == "mnist":
        from inkread.data import load_dataset

        test = load_dataset("mnist", data, test_only=True).test
        picks = rng.sample(range(len(test)), count)
        return [test.images[i].astype(np.float32) / 255 for i in picks], [str(test.targets[i]) for i in picks]
    paths, labels = load_set(data, name)  # hwd1000 holds only digits; unipen_digits is filtered to them
    picks = rng.sample(range(len(paths)), count)
    return [load_image(paths[i]) for i in picks], [labels[i] for i in picks]


def to_height(ink: np.ndarray, height: int = HEIGHT) -> np.ndarray:
    """The ink cropped to its box and scaled to ``height`` pixels, aspect ratio kept."""
    rows, cols = np.nonzero(ink > 0.05)
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    return np.asarray(Image.fromarray(ink).resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)


def compose(glyphs: list[np.ndarray], gap: float | list[float]) -> np.ndarray:
    """Dark-on-white float image of the glyphs side by side, ``gap * HEIGHT`` pixels apart.

    ``gap`` is one share for every pair of neighbours, or a list with one per pair.
    """
    steps = [round(g * HEIGHT) for g in (gap if isinstance(gap, list) else [gap] * (len(glyphs) - 1))]
    margin = HEIGHT // 4
    width = sum(g.shape[1] for g in glyphs) + sum(steps) + 2 * margin
    canvas = np.zeros((HEIGHT + 2 * margin, max(width, 2 * margin + 1)), np.float32)
    x = margin
    for glyph, step in zip(glyphs, [*steps, 0]):
        region = canvas[margin:margin + HEIGHT, x:x + glyph.shape[1]]
        np.maximum(region, glyph[:, :region.shape[1]], out=region)
        x += glyph.shape[1] + step
    return 1.0 - canvas


def read_by_width(readers: dict, page: np.ndarray) -> tuple[str, int]:
    """The baseline: the width rule's segmentation alone (``segment`` without a chooser), each glyph's ink
    normalized and read as ``read`` reads it. (Not ``predict(glyph.ink)``: that takes the crop for an image
    of its own, and a tight crop of a 1 may be read the other way round, as the box around it: a 0.)"""
    glyphs = [glyph for line in segment(load_image(page)) for glyph in line]
    # a faint speck (no ink worth reading) is left out, as read leaves it out
    answers = readers["characters"].predict_glyphs([glyph.ink for glyph in glyphs if glyph.mark is None], only="digits")
    return "".join(answer.label or "" for answer in answers if answer is not None), len(glyphs)


def read_by_model(readers: dict, page: np.ndarray) -> tuple[str, int]:
    """inkread's ``read``: touching characters cut where the model reads the pieces best."""
    result = readers["characters"].read(page, only="digits")
    return result.text.replace(" ", ""), len(result.characters)


def read_mixed(readers: dict, page: np.ndarray) -> tuple[str, int]:
    """``read`` with a ``touching`` line model: each piece of ink holding touching digits read whole."""
    result = readers["mixed"].read(page, only="digits")
    return result.text.replace(" ", ""), len(result.characters)


def read_whole(readers: dict, page: np.ndarray) -> tuple[str, int]:
    """The line model: the string read whole, no cuts."""
    result = readers["lines"].read(page, only="digits")
    return result.text.replace(" ", ""), len(result.characters)


METHODS = {"width rule": read_by_width, "read (cuts chosen by the model)": read_by_model,
           "line model, read whole": read_whole, "read, touching digits read whole (MODEL+lines)": read_mixed}


def run(sets: list[str], data: Path, strings: int, model: str) -> str:
    """Read composed strings from every set at every gap with both methods; a markdown table."""
    readers = {"characters": Recognizer.load(model), "lines": LineReader.load("lines"),
               "mixed": Recognizer.load(model, touching="lines")}
    header = "| set | method | " + " | ".join(f"gap {gap:+.2f}" for gap in GAPS) + " |"
    lines = [f"Model {model!r} (and 'lines' for the line model), strings of {DIGITS_PER_STRING} digits, {strings} per cell: "
             f"read exactly right / cut into {DIGITS_PER_STRING} characters", "",
             header, "|---|---|" + "---|" * len(GAPS)]
    for name in sets:
        rng = random.Random(0)  # the same strings for every model and every run
        images, labels = digit_images(data, name, strings * DIGITS_PER_STRING, rng)
        glyphs = [to_height(image) for image in images]
        for method, read in METHODS.items():
            cells = []
            for gap in GAPS:
                right = counted = 0
                for s in range(strings):
                    chosen = range(s * DIGITS_PER_STRING, (s + 1) * DIGITS_PER_STRING)
                    text, characters = read(readers, compose([glyphs[i] for i in chosen], gap))
                    right += text == "".join(labels[i] for i in chosen)
                    counted += characters == DIGITS_PER_STRING
                cells.append(f"{right / strings:.0%} / {counted / strings:.0%}")
            lines.append(f"| {name} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    return digit_strings_main("touching_digits", __doc__.split("\n")[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
