"""Does ``predict`` say when an image holds several characters (``Prediction.several_characters``)?

    python benchmarks/several_characters.py [--data ../shared/datasets] [--pairs 300]

Single characters: every image of each real-handwriting set, read by the shipped model that knows
its classes; the share flagged as several characters should be near 0. Pairs: two random images of
a set side by side (``touching_digits.compose``), 0.15 character heights apart, just touching (0) and
overlapping a little (-0.05); the share flagged should be near 1. Ink without a gap is looked at only
by a model of digits, and only where it is wide (``WIDE_FOR_DIGITS``): the last columns show what
``predict`` misses. Notes: one or two lines of two words each, UNIPEN characters written apart, as a
note or a page given to ``predict`` by mistake; the share flagged should be 1.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from inkread.inference.recognizer import Recognizer
from shared_sets import DEFAULT_DATA, load_set, print_report
from touching_digits import compose, digit_images, to_height

SINGLES = {"digits": ("hwd1000", "semeion", "optdigits_orig", "unipen_digits"),
           "characters": ("unipen_letters", "unipen_digits", "semeion")}
PAIRS = {"digits": ("hwd1000", "unipen_digits"), "characters": ("unipen_letters", "unipen_digits")}
GAPS = (0.15, 0.0, -0.05)
NOTES = {"digits": ("unipen_digits",), "characters": ("unipen_letters", "unipen_digits")}
CHARACTER_GAP, WORD_GAP = 0.15, 0.6


def flagged(recognizer: Recognizer, images: list) -> int:
    """How many of the images ``predict`` flags as holding several characters."""
    return sum(p.several_characters is not None for p in recognizer.predict_batch(images, errors="return"))


def run(data: Path, pairs: int) -> str:
    """Both tables, as markdown."""
    lines = ["Single characters flagged as several (should be 0)", "", "| model | set | images | flagged |", "|---|---|---|---|"]
    for model, sets in SINGLES.items():
        recognizer = Recognizer.load(model)
        for name in sets:
            paths, _ = load_set(data, name)
            lines.append(f"| {model} | {name} | {len(paths)} | {flagged(recognizer, paths)} |")
    lines += ["", f"Pairs of characters flagged as several ({pairs} pairs per cell; should be all apart)", "",
              "| model | set | " + " | ".join(f"gap {gap:+.2f}" for gap in GAPS) + " |", "|---|---|" + "---|" * len(GAPS)]
    for model, sets in PAIRS.items():
        recognizer = Recognizer.load(model)
        for name in sets:
            images, _ = digit_images(data, name, 2 * pairs, random.Random(0))
            glyphs = [to_height(image) for image in images]
            cells = [f"{flagged(recognizer, [compose(glyphs[2 * i:2 * i + 2], gap) for i in range(pairs)]) / pairs:.0%}"
                     for gap in GAPS]
            lines.append(f"| {model} | {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Notes flagged as several ({pairs} per cell; should be all): one or two lines of two words of 2-4 "
              "characters, 0.15 heights apart, 0.6 between words", "", "| model | characters from | flagged |", "|---|---|---|"]
    for model, sets in NOTES.items():
        recognizer = Recognizer.load(model)
        rng = random.Random(0)
        pool = []
        for name in sets:
            images, _ = digit_images(data, name, min(600, len(load_set(data, name)[0])), rng)
            pool += [to_height(image) for image in images]
        notes = [note([[rng.sample(pool, rng.randint(2, 4)) for _ in range(2)] for _ in range(rng.randint(1, 2))])
                 for _ in range(pairs)]
        lines.append(f"| {model} | {' + '.join(sets)} | {flagged(recognizer, notes) / pairs:.0%} |")
    return "\n".join(lines)


def note(lines: list[list[list[np.ndarray]]]) -> np.ndarray:
    """Dark-on-white float image of lines of words (lists of glyphs), stacked half a height apart."""
    rows = []
    for words in lines:
        glyphs = [glyph for word in words for glyph in word]
        gaps = [WORD_GAP if k + 1 in np.cumsum([len(w) for w in words]) else CHARACTER_GAP for k in range(len(glyphs) - 1)]
        rows.append(compose(glyphs, gaps))
    width = max(row.shape[1] for row in rows)
    return np.vstack([np.pad(row, ((0, 0), (0, width - row.shape[1])), constant_values=1.0) for row in rows])


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--pairs", type=int, default=300, help="pairs per cell of the second table")
    args = parser.parse_args(argv)
    return print_report("several_characters", lambda: run(args.data, args.pairs))


if __name__ == "__main__":
    raise SystemExit(main())
