"""Is a word's first letter read in the case it was written, where its two cases look alike (c/C, o/O, w/W, p/P...)?

    python benchmarks/first_letter_case.py [--data ../shared/datasets] [--words 100]

The characters model sees each character scaled to 28x28, so it cannot tell a small c from a capital C;
``Recognizer.read`` cases such a first letter by its height against the text's small letters
(``inference/recognizer.py: _first_letters_by_height``). Words from ``data/words.txt`` that begin with such a
letter are written in print (letters apart) with UNIPEN's tablet characters (real handwriting, not EMNIST), as
``train-lines`` writes its lines (``data/lines.py: compose_line``), all small ("cat") or with a capital
("Cat"), alone or as the middle of three words ("the cat sat"). Reported: of the words whose first letter
is read as the right letter in either case, the share read in the case it was written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from digits_among_words import HEIGHT, unipen_bank
from inkread.data.lines import LineStyle, compose_line, words
from inkread.inference.recognizer import Recognizer
from inkread.labels import MERGED_LOWER
from shared_sets import DEFAULT_DATA, print_report

PRINT = LineStyle(cursive=0.0, print_gap=(0.12, 0.3))  # letters apart, as the characters model reads them


def cases(count: int, seed: int = 0) -> list[tuple[str, int]]:
    """``count`` texts of each kind: (text, index of the word whose first letter is asked) ."""
    rng = np.random.default_rng(seed)
    starts = [w for w in words() if w.isalpha() and w.islower() and 3 <= len(w) <= 6 and w[0] in MERGED_LOWER and w[0] not in "ijlm"]
    plain = [w for w in words() if w.isalpha() and w.islower() and 2 <= len(w) <= 5]
    pick = lambda pool: str(pool[rng.integers(len(pool))])  # noqa: E731
    out = []
    for kind in ("alone, small", "alone, capital", "among words, small", "among words, capital"):
        for _ in range(count):
            word = pick(starts)
            word = word.capitalize() if kind.endswith("capital") else word
            out.append((kind, f"{pick(plain)} {word} {pick(plain)}" if kind.startswith("among") else word))
    return out


def run(data: Path, count: int) -> str:
    """Read every text; a markdown table of first letters read in their case."""
    reader, bank, rng = Recognizer.load("characters"), unipen_bank(data), np.random.default_rng(1)
    tally: dict[str, list[int]] = {}
    for kind, text in cases(count):
        line = compose_line(text, bank, rng, PRINT)
        image = Image.fromarray(np.uint8(255 - 255 * np.clip(line, 0, 1))).resize(
            (round(line.shape[1] * HEIGHT / line.shape[0]), HEIGHT), Image.Resampling.BILINEAR)
        target = text.split(" ")[1 if kind.startswith("among") else 0]
        read = reader.read(image).text.split()
        asked = read[1] if kind.startswith("among") and len(read) == 3 else read[0] if len(read) == 1 else ""
        right_letter = asked[:1].lower() == target[0].lower()
        counts = tally.setdefault(kind, [0, 0])
        counts[0] += right_letter
        counts[1] += right_letter and asked[0] == target[0]
    rows = ["| words | first letter read as the letter | ...in the case written |", "|---|---|---|"]
    rows += [f"| {kind} | {letter} of {count} | {cased} ({cased / max(1, letter):.0%}) |" for kind, (letter, cased) in tally.items()]
    return f"`characters` model, `read()`, UNIPEN letters in print, {count} texts per row\n\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description="Are first letters whose cases look alike read in their case?")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--words", type=int, default=100, help="texts per row")
    args = parser.parse_args(argv)
    return print_report("first_letter_case.py", lambda: run(args.data, args.words))


if __name__ == "__main__":
    sys.exit(main())
