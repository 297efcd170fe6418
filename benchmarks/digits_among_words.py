"""How well the line reader reads numbers written among words ("page 10", "12 items", "room 101 left").

    python benchmarks/digits_among_words.py [--sets emnist,unipen,fonts] [--lines 200] [--no-lexicon]

Lines of words and numbers are written the way ``inkread train-lines`` writes its training lines,
with other characters: ``emnist`` with the EMNIST characters of the held-out test split of
``emnist-pool:byclass`` (``data/lines.py: compose_line``, half the lines joined up); ``unipen`` with
UNIPEN's tablet-drawn characters (``unipen_chars``: real handwriting, not from EMNIST) by the same
composer; ``fonts`` in the handwriting fonts of ``data/font_lines.py`` (the ones the line model was
fine-tuned on, so these lines look like its training lines, but not their texts). Each line is a
word and a number of 1-4 digits, a number and a word, or a word, a number and a word (words from
``data/words.txt``); one line in five holds, instead of a number, a word of mixed kind that a reader
must leave alone ("B52", "3rd", "A4", "COVID19"). Lines are scaled to 120 px high, dark on white.

Each is read with ``LineReader.read`` (no ``only``) and the shipped ``lines`` model, alone and with the
English lexicon, and with ``Recognizer.read`` and the ``characters`` model for comparison. Reported per set: lines read exactly, the character error rate
(both case-insensitive, since o/O, s/S... are one shape; spaces count), the numbers read right (a
number of the truth found among the words read) and the mixed words read right. ``emnist`` is for
development: the rules tried were looked at there; ``unipen`` and ``fonts`` are for evaluation.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from inkread.errors import InkreadError
from inkread.evaluation.text import character_error_rate
from inkread.inference.line_reader import LineReader
from inkread.inference.recognizer import Recognizer
from shared_sets import DEFAULT_DATA, print_report

SETS = ("emnist", "unipen", "fonts")
HEIGHT = 120  # each line is scaled to this many pixels high
MIXED = ("B52", "3rd", "A4", "7B", "COVID19", "MP3", "2nd", "F16", "V8", "Q3", "R2D2", "10am", "5th", "A1", "M25",
         "G7", "1st", "21st", "4K", "H2O")


def texts(count: int, seed: int = 0) -> list[str]:
    """``count`` lines of words and numbers (one in five with a word of mixed kind instead of a number)."""
    from inkread.data.lines import words

    rng = np.random.default_rng(seed)
    vocabulary = [word for word in words() if word.isalpha() and len(word) >= 2]
    out = []
    for _ in range(count):
        word = lambda: str(vocabulary[rng.integers(len(vocabulary))])  # noqa: E731
        number = MIXED[rng.integers(len(MIXED))] if rng.random() < 0.2 else \
            "".join(str(d) for d in rng.integers(0, 10, rng.integers(1, 5)))
        shape = rng.integers(3)
        out.append(f"{word()} {number}" if shape == 0 else f"{number} {word()}" if shape == 1 else f"{word()} {number} {word()}")
    return out


def unipen_bank(data: Path):
    """A ``CharacterBank`` of UNIPEN's isolated tablet characters (ink high, as EMNIST's)."""
    from inkread.data.lines import CharacterBank

    folder = data / "unipen_chars"
    table = folder / "labels.csv"
    if not table.exists():
        raise InkreadError(f"{table} not found: pass --data pointing at the shared datasets folder")
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    classes = tuple(sorted({row["label"] for row in rows}))
    images = np.stack([255 - np.asarray(Image.open(folder / row["file"]).convert("L").resize((64, 64), Image.Resampling.BILINEAR))
                       for row in rows])
    return CharacterBank(images, np.array([classes.index(row["label"]) for row in rows]), classes)


def compose(name: str, data: Path, lines: list[str], seed: int = 1) -> list[np.ndarray]:
    """The lines written with set ``name``'s characters: dark-on-white uint8 images ``HEIGHT`` px high."""
    from inkread.data.lines import CHARSET, CharacterBank, compose_line

    rng = np.random.default_rng(seed)
    if name == "fonts":
        from inkread.data.font_lines import FontBank, compose_font_line, find_fonts

        fonts = FontBank(find_fonts(None), CHARSET)
        if not fonts.fonts:
            raise InkreadError("no handwriting fonts found: scripts/setup.sh test installs them")
        write = lambda text: compose_font_line(text, fonts, rng)  # noqa: E731
    else:
        if name == "emnist":
            from inkread.data import load_dataset

            test = load_dataset("emnist-pool:byclass", data_dir=data, seed=0)
            bank = CharacterBank(test.test.images, test.test.targets, test.labels)
        else:
            bank = unipen_bank(data)
        write = lambda text: compose_line(text, bank, rng)  # noqa: E731
    images = []
    for text in lines:
        line = write(text)
        if line is None:
            raise InkreadError(f"no font writes {text!r}")
        scaled = Image.fromarray(np.uint8(255 - 255 * np.clip(line, 0, 1))).resize(
            (round(line.shape[1] * HEIGHT / line.shape[0]), HEIGHT), Image.Resampling.BILINEAR)
        images.append(np.asarray(scaled))
    return images


def comparable(text: str) -> str:
    """As compared: one line, lower case, single spaces."""
    return " ".join(text.replace("\n", " ").lower().split())


def figures(answers: list[str], truths: list[str]) -> dict[str, float]:
    """Exact lines, character error rate, numbers and mixed words read right."""
    answers, truths = [comparable(a) for a in answers], [comparable(t) for t in truths]
    counts = Counter()
    for answer, truth in zip(answers, truths):
        read = Counter(answer.split())
        for token in truth.split():
            if token.isdigit() or token.upper() in MIXED:
                group = "numbers" if token.isdigit() else "mixed"
                counts[group] += 1
                counts[group + " right"] += read[token] > 0
                read[token] -= read[token] > 0
    return {"exact": float(np.mean([a == t for a, t in zip(answers, truths)])),
            "cer": character_error_rate(answers, truths),
            "numbers": counts["numbers right"] / max(1, counts["numbers"]),
            "mixed": counts["mixed right"] / max(1, counts["mixed"]),
            "count": len(truths), "number count": counts["numbers"], "mixed count": counts["mixed"]}


def run(sets: list[str], data: Path, count: int, lexicon: bool) -> str:
    """Read every set's lines with each reader; a markdown table."""
    readers = {"**lines**": (LineReader.load("lines"), {})}
    if lexicon:
        readers["**lines + english**"] = (LineReader.load("lines"), {"lexicon": "english"})
    readers["characters (cut, then read)"] = (Recognizer.load("characters"), {})
    truths = texts(count)
    rows = ["| set | reader | lines read exactly | character error rate | numbers read right | mixed words read right |",
            "|---|---|---|---|---|---|"]
    for name in sets:
        images = compose(name, data, truths)
        for label, (reader, options) in readers.items():
            got = figures([reader.read(image, **options).text for image in images], truths)
            rows.append(f"| {name} | {label} | {got['exact']:.1%} | {got['cer']:.1%} | {got['numbers']:.1%} | {got['mixed']:.1%} |")
    got = figures(truths, truths)
    return (f"{count} lines per set ({got['number count']} numbers, {got['mixed count']} words of mixed kind), "
            "`read()` without `only`, compared case-insensitively\n\n" + "\n".join(rows))


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description="How well the line reader reads numbers written among words.")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--lines", type=int, default=200, help="lines per set")
    parser.add_argument("--no-lexicon", action="store_true", help="leave out the English lexicon's rows")
    args = parser.parse_args(argv)

    def report() -> str:
        sets = [name.strip() for name in args.sets.split(",") if name.strip()]
        unknown = sorted(set(sets) - set(SETS))
        if unknown:
            raise InkreadError(f"unknown sets {', '.join(unknown)}: choose from {', '.join(SETS)}")
        if args.lines < 1:
            raise InkreadError("--lines must be at least 1")
        return run(sets, args.data, args.lines, not args.no_lexicon)

    return print_report("digits_among_words.py", report)


if __name__ == "__main__":
    sys.exit(main())
