"""Are the lines of a note photographed a few degrees askew kept apart and in order?

    python benchmarks/turned_notes.py [--data ../shared/datasets] [--notes 20] [--angles -10,-6,-3,0,3,6,10]
                                      [--lines 2-3] [--on-a-table 0.3]

Notes of two or three lines (words and numbers from ``data/words.txt``) are written in print with UNIPEN's
tablet characters (real handwriting, not EMNIST: ``data/lines.py: compose_line``, as ``train-lines`` writes
its lines), the lines 1.6 line heights apart from top to top, then turned; read with ``LineReader`` (``lines``) and with
``Recognizer.read`` (``characters``). Reported per angle: the notes read with as many lines as written, and
the character error rate (lines joined by spaces, case-insensitive). ``--lines 1``: notes of one line (a slip of paper);
``--on-a-table M``: each note photographed on off-white paper lying on a gray table showing M times the paper's longer
side around it, turned with it (JPEG).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from digits_among_words import unipen_bank
from inkread.data.lines import LineStyle, compose_line, words
from inkread.evaluation.text import character_error_rate
from inkread.inference.line_reader import LineReader
from inkread.inference.recognizer import Recognizer
from shared_sets import DEFAULT_DATA, print_report

HEIGHT = 60  # each line's height in the note, in pixels (capitals and ascenders; about 0.6 of it small letters)
PITCH = 1.6  # from one line's top to the next one's, in line heights
PRINT = LineStyle(cursive=0.0, print_gap=(0.12, 0.3))


def notes(count: int, seed: int = 0, lines: tuple[int, int] = (2, 3)) -> list[list[str]]:
    """``count`` notes of ``lines`` (fewest, most) lines, each of three or four words, now and then a number among them."""
    rng = np.random.default_rng(seed)
    vocabulary = [w for w in words() if w.isalpha() and 2 <= len(w) <= 7]
    word = lambda: str(vocabulary[rng.integers(len(vocabulary))])  # noqa: E731
    number = lambda: "".join(str(d) for d in rng.integers(0, 10, rng.integers(2, 5)))  # noqa: E731
    token = lambda: number() if rng.random() < 0.2 else word()  # noqa: E731
    return [[" ".join(token() for _ in range(rng.integers(3, 5))) for _ in range(rng.integers(lines[0], lines[1] + 1))]
            for _ in range(count)]


def write(note: list[str], bank, rng: np.random.Generator) -> Image.Image:
    """The note dark on white, its lines ``HEIGHT`` px high, ``PITCH`` line heights from one to the next."""
    lines = []
    for text in note:
        line = compose_line(text, bank, rng, PRINT)
        lines.append(Image.fromarray(np.uint8(255 - 255 * np.clip(line, 0, 1))).resize(
            (round(line.shape[1] * HEIGHT / line.shape[0]), HEIGHT), Image.Resampling.BILINEAR))
    page = Image.new("L", (max(line.width for line in lines) + 80, round((PITCH * len(lines) + 1) * HEIGHT)), 255)
    for k, line in enumerate(lines):
        page.paste(line, (40, round((PITCH * k + 0.5) * HEIGHT)))
    return page


def photographed_on_a_table(page: Image.Image, angle: float, margin: float, rng: np.random.Generator) -> Image.Image:
    """``page`` as off-white paper with a grain, lit unevenly, lying on a gray table (``margin`` times the page's longer
    side around it), turned ``angle`` degrees with it, a little blurred, saved as a JPEG."""
    ink = 1.0 - np.asarray(page, np.float32) / 255
    h, w = ink.shape
    paper = 228 + rng.normal(0, 5, (h, w))
    rows, columns = np.mgrid[0:h, 0:w]
    light = 1.0 - 0.12 * columns / w - 0.06 * rows / h
    sheet = Image.fromarray(np.uint8(np.clip((paper * (1 - ink) + 45 * ink) * light, 0, 255)))
    around = round(margin * max(w, h))
    table = Image.new("L", (w + 2 * around, h + 2 * around), 105)
    table.paste(sheet, (around, around))
    photo = table.rotate(angle, Image.Resampling.BICUBIC, fillcolor=105).filter(ImageFilter.GaussianBlur(0.6))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=75)
    return Image.open(buffer)


def run(data: Path, count: int, angles: list[float], lines: tuple[int, int] = (2, 3), on_a_table: float = 0.0) -> str:
    """Read every note at every angle with both readers; a markdown table."""
    bank, texts = unipen_bank(data), notes(count, lines=lines)
    pages = [write(note, bank, np.random.default_rng(k)) for k, note in enumerate(texts)]
    readers = {"lines": LineReader.load("lines"), "characters": Recognizer.load("characters")}
    rows = ["| angle | " + " | ".join(f"{name}: notes with their lines | {name}: character error rate" for name in readers) + " |",
            "|---|" + "---|---|" * len(readers)]
    for angle in angles:
        if on_a_table:
            turned = [photographed_on_a_table(page, angle, on_a_table, np.random.default_rng(k)) for k, page in enumerate(pages)]
        else:
            turned = [page.rotate(angle, Image.Resampling.BILINEAR, expand=True, fillcolor=255) for page in pages]
        cells = []
        for reader in readers.values():
            read = [reader.read(page).text for page in turned]
            kept = sum(len(text.split("\n")) == len(note) for text, note in zip(read, texts))
            error = character_error_rate([" ".join(text.lower().split()) for text in read],
                                         [" ".join(" ".join(note).lower().split()) for note in texts])
            cells += [f"{kept} of {count}", f"{error:.1%}"]
        rows.append(f"| {angle:+g} | " + " | ".join(cells) + " |")
    how_many = f"{lines[0]}" if lines[0] == lines[1] else f"{lines[0]}-{lines[1]}"
    return (f"{count} notes of {how_many} lines of UNIPEN characters, {HEIGHT} px lines {PITCH} line heights apart (top to top), "
            + (f"photographed on a table ({on_a_table:g} of the paper's longer side around it), " if on_a_table else "") + "turned\n\n" + "\n".join(rows))


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description="Are the lines of a turned note kept apart and in order?")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--notes", type=int, default=20, help="notes per angle")
    parser.add_argument("--angles", default="-10,-8,-6,-3,0,3,6,8,10", help="comma-separated angles in degrees")
    parser.add_argument("--lines", default="2-3", help="lines per note: N or FEWEST-MOST")
    parser.add_argument("--on-a-table", type=float, default=0.0, metavar="M",
                        help="photograph each note on paper lying on a gray table, M times the paper's longer side around it")
    args = parser.parse_args(argv)
    angles = [float(a) for a in args.angles.split(",") if a.strip()]
    fewest, _, most = args.lines.partition("-")
    lines = (int(fewest), int(most or fewest))
    return print_report("turned_notes.py", lambda: run(args.data, args.notes, angles, lines, args.on_a_table))


if __name__ == "__main__":
    sys.exit(main())
