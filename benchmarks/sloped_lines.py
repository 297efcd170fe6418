"""Does the line reader read lines written at a slope?

    python benchmarks/sloped_lines.py [--data ../shared/datasets] [--lines 60] [--angles -10,-6,-3,0,3,6,10]

Lines of three UNIPEN tablet words (real handwriting, not from EMNIST) are set side by side, half a
word's height apart, and turned by each angle (a page photographed askew, a line written uphill);
each is read with ``LineReader.read(only="letters")`` (the shipped ``lines`` model) and compared with
its three transcriptions, case, apostrophes and hyphens ignored. Reported per angle: the character
error rate (spaces counted: a word run into the next is an error) and the share of lines whose
three words all come out apart (two spaces). ``unipen_words`` is evaluation data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from inkread.evaluation.text import character_error_rate
from inkread.inference.line_reader import LineReader
from shared_sets import DEFAULT_DATA, load_set, print_report

WORDS_PER_LINE = 3
GAP = 0.5  # between words, in word heights (the images are all one height)


def compose(paths: list[Path]) -> Image.Image:
    """The word images side by side on white, ``GAP`` of their height apart."""
    images = [Image.open(path).convert("L") for path in paths]
    height = max(image.height for image in images)
    gap = round(GAP * height)
    line = Image.new("L", (sum(image.width for image in images) + gap * (len(images) + 1), height + 2 * gap), 255)
    x = gap
    for image in images:
        line.paste(image, (x, gap + (height - image.height) // 2))
        x += image.width + gap
    return line


def plain(text: str) -> str:
    """``text`` as compared: lower case, apostrophes and hyphens left out, spaces kept."""
    return "".join(char for char in text.lower() if char not in "'-")


def run(data: Path, count: int, angles: list[float]) -> str:
    """Read each composed line at each angle; a markdown table."""
    paths, labels = load_set(data, "unipen_words")
    words = [(path, label) for path, label in zip(paths, labels) if label.isalpha()]
    groups = [words[k:k + WORDS_PER_LINE] for k in range(0, WORDS_PER_LINE * count, WORDS_PER_LINE)]
    groups = [group for group in groups if len(group) == WORDS_PER_LINE]
    reader = LineReader.load("lines")
    rows = ["| angle | character error rate | lines with the words apart |", "|---|---|---|"]
    for angle in angles:
        answers, truths, apart = [], [], 0
        for group in groups:
            line = compose([path for path, _ in group]).rotate(angle, resample=Image.Resampling.BILINEAR,
                                                               expand=True, fillcolor=255)
            text = reader.read(np.asarray(line), only="letters").text.replace("\n", " ")
            answers.append(plain(text))
            truths.append(plain(" ".join(label for _, label in group)))
            apart += text.count(" ") == WORDS_PER_LINE - 1
        rows.append(f"| {angle:+g} | {character_error_rate(answers, truths):.1%} | {apart / len(groups):.0%} |")
    return f"{len(groups)} lines of {WORDS_PER_LINE} UNIPEN words, read with `lines` (only=\"letters\")\n\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--lines", type=int, default=60, help="lines of three words to compose")
    parser.add_argument("--angles", default="-10,-6,-3,0,3,6,10", help="comma-separated angles in degrees")
    args = parser.parse_args(argv)
    angles = [float(angle) for angle in args.angles.split(",") if angle.strip()]
    return print_report("sloped_lines", lambda: run(args.data, args.lines, angles))


if __name__ == "__main__":
    sys.exit(main())
