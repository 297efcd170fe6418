"""Does ``predict`` say when an image holds several characters (``Prediction.several_characters``)?

    python benchmarks/several_characters.py [--data ../shared/datasets] [--pairs 300]

Single characters: every image of each real-handwriting set, read by the shipped model that knows
its classes; the share flagged as several characters should be near 0. Pairs: two random images of
a set side by side (``touching_digits.compose``), 0.15 character heights apart, just touching (0) and
overlapping a little (-0.05); the share flagged should be near 1. Ink without a gap is looked at only
by a model of digits, and only where it is wide (``WIDE_FOR_DIGITS``): the last columns show what
``predict`` misses.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from inkread.inference.recognizer import Recognizer
from shared_sets import DEFAULT_DATA, load_set, print_report
from touching_digits import compose, digit_images, to_height

SINGLES = {"digits": ("hwd1000", "semeion", "optdigits_orig", "unipen_digits"),
           "characters": ("unipen_letters", "unipen_digits", "semeion")}
PAIRS = {"digits": ("hwd1000", "unipen_digits"), "characters": ("unipen_letters", "unipen_digits")}
GAPS = (0.15, 0.0, -0.05)


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
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--pairs", type=int, default=300, help="pairs per cell of the second table")
    args = parser.parse_args(argv)
    return print_report("several_characters", lambda: run(args.data, args.pairs))


if __name__ == "__main__":
    raise SystemExit(main())
