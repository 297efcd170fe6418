"""Do the readers put a space between groups of digits ("0612 334"), and of letters ("ABC DEF")?

    python benchmarks/word_gaps.py [--sets mnist,hwd1000,unipen_digits] [--strings 100]

Strings of two groups of three digits from a set of single-digit images, 0.12 digit heights apart
within a group and 0.4 or 0.7 heights between the groups, are read with ``only="digits"`` by the
character reader (``Recognizer.read``, the ``--model`` bundle) and by the line reader (``lines``).
Then the same with UNIPEN's tablet-drawn capitals, read with ``only="letters"`` (the character
reader with the ``characters`` model). Reported per set and group gap: the strings read with one
space, and it after the third character (the characters themselves may be wrong;
touching_digits.py and punctuation.py measure those). ``mnist`` is for development; ``hwd1000``
and the UNIPEN sets are evaluation data.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from inkread.inference.line_reader import LineReader
from inkread.inference.recognizer import Recognizer
from shared_sets import digit_strings_main, load_set
from touching_digits import compose, digit_images, to_height

from inkread.imaging.decode import load_image

GROUP = 3
INNER_GAP = 0.12
WORD_GAPS = (0.4, 0.7)  # between the groups, in digit heights


def spaced_right(text: str) -> bool:
    """One space, after the first group."""
    return text.count(" ") == 1 and text.index(" ") == GROUP


def run(sets: list[str], data: Path, strings: int, model: str) -> str:
    """Read the grouped strings with both readers; a markdown table."""
    readers = {"characters": Recognizer.load(model), "lines": LineReader.load("lines")}
    lines = [f"Strings of two groups of {GROUP} characters, {strings} per cell, `read(only=...)`: "
             "strings with one space, after the first group", "",
             "| set | reader | " + " | ".join(f"groups {g} heights apart" for g in WORD_GAPS) + " |",
             "|---|---|" + "---|" * len(WORD_GAPS)]
    for name in sets:
        rng = random.Random(0)  # the same strings for every reader and run
        images, _ = digit_images(data, name, strings * 2 * GROUP, rng)
        lines += _rows(name, images, strings, "digits", (("characters (" + model + ")", readers["characters"]),
                                                           ("lines", readers["lines"])))
    capitals = _capitals(data, strings * 2 * GROUP, random.Random(0))
    lines += _rows("unipen capitals", capitals, strings, "letters",
                   (("characters (characters)", Recognizer.load("characters")), ("lines", readers["lines"])))
    return "\n".join(lines)


def _rows(name: str, images: list, strings: int, only: str, readers) -> list[str]:
    """A table row per reader: the share of strings of ``images`` (grouped) read with the one right space."""
    glyphs = [to_height(image) for image in images]
    rows = []
    for reader_name, reader in readers:
        cells = []
        for word_gap in WORD_GAPS:
            gaps = [INNER_GAP] * (GROUP - 1) + [word_gap] + [INNER_GAP] * (GROUP - 1)
            right = sum(spaced_right(reader.read(compose(glyphs[s * 2 * GROUP:(s + 1) * 2 * GROUP], gaps), only=only).text)
                        for s in range(strings))
            cells.append(f"{right / strings:.0%}")
        rows.append(f"| {name} | {reader_name} | " + " | ".join(cells) + " |")
    return rows


def _capitals(data: Path, count: int, rng: random.Random) -> list:
    """``count`` random UNIPEN capitals (ink maps), drawn with replacement if there are fewer."""
    paths, labels = load_set(data, "unipen_letters")
    upper = [path for path, label in zip(paths, labels) if label.isupper()]
    return [load_image(path) for path in rng.choices(upper, k=count)]


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    return digit_strings_main("word_gaps", __doc__.split("\n")[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
