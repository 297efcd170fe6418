"""How well inkread reads whole handwritten words (UNIPEN tablet words, not from EMNIST), with and without a lexicon.

    python benchmarks/read_words.py [--model characters --model lines] [--data ../shared/datasets] [--limit N]
                                    [--no-lexicon] [--line-model lines]

Each image of ``unipen_words`` holds one word (print, cursive or mixed). It is read with
``only="letters"`` (the user knows the field holds a word) and compared with its transcription
ignoring case, spaces, apostrophes and hyphens. Each model is read the way ``inkread read`` reads
it: a character model (``characters``) through ``Recognizer.read``, which cuts the word into
characters; a line model (``lines``) through ``LineReader.read``, which reads the line whole.
Reported per model, side by side: word accuracy, character error rate (edit distance /
transcription length), how often as many characters were found as the word has, and the time.

Three more columns read with the line model and a lexicon (``inference.lexicon``): ``english``
(wordfreq's list) with the settings ``--lexicon english`` uses (``LexiconSettings``' defaults) and with
settings tuned here, and a closed vocabulary of every label of the set. The closed vocabulary holds
the answers (the usual "closed lexicon" setting of word recognition: a form field with a known
list of values), so it is a ceiling for a small domain list, not a figure for open text. Each
lexicon's settings (frequency weight, unknown-word penalty, candidates) are chosen by a grid
search on the words of half the contributors (every other one in sorted order) and reported on
all words and on the other half, held out (for the defaults, chosen before on the same half with an
earlier line model, the other half is held out too). A markdown report on stdout. The folder is
evaluation data: nothing but those settings is tuned on it.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from inkread.evaluation.text import edit_distance
from inkread.imaging.decode import load_image
from inkread.imaging.preprocess import NoInkError, ink_box
from inkread.inference.jobs import load_reader
from inkread.inference.lexicon import Lexicon, load_lexicon
from shared_sets import DEFAULT_DATA, load_set, print_report

IGNORED = " '-"
MIN_WORD_PX = 8  # a word's ink is at least this long one way or the other
LINE_MODEL = "lines"
CLOSED = "closed vocabulary (all labels: holds the answers)"
GRID = {"frequency_weight": (0.0, 0.5, 1.0, 2.0), "unknown_penalty": (0.0, 5.0, 10.0, 20.0, math.inf),
        "candidates": (50, 200)}


@dataclass
class Word:
    """One word image of the set, its transcription and who wrote it."""

    path: Path
    label: str
    contributor: str


def comparable(text: str) -> str:
    """Lower case without spaces, apostrophes and hyphens."""
    return "".join(c for c in text.lower() if c not in IGNORED)


def read_all(reader, words: list[Word], lexicon: Lexicon | None = None) -> list[tuple[str, float]]:
    """Each word's reading with ``only="letters"`` (and ``lexicon``), and the seconds it took."""
    answers = []
    for word in words:
        started = time.perf_counter()
        text = (reader.read(word.path, only="letters", lexicon=lexicon) if lexicon else
                reader.read(word.path, only="letters")).text
        answers.append((text, time.perf_counter() - started))
    return answers


def figures(words: list[Word], answers: list[tuple[str, float]]) -> dict[str, float]:
    """The figures of one column of the table, for ``words`` and their ``answers``."""
    truths = [comparable(word.label) for word in words]
    texts = [comparable(text) for text, _ in answers]
    correct = sum(text == truth for text, truth in zip(texts, truths))
    return {"n": len(words), "correct": correct, "exact": correct / len(words),
            "cer": sum(map(edit_distance, texts, truths)) / sum(map(len, truths)),
            "count": sum(len(text) == len(truth) for text, truth in zip(texts, truths)) / len(words),
            "ms": 1000 * statistics.median(seconds for _, seconds in answers)}


def tune(reader, lexicon: Lexicon, words: list[Word]) -> Lexicon:
    """``lexicon`` with the ``GRID`` settings that read most of ``words`` exactly (then: the lowest CER)."""
    def merit(settings: dict) -> tuple[float, float]:
        found = figures(words, read_all(reader, words, lexicon.with_settings(**settings)))
        return found["correct"], -found["cer"]

    grid = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    return lexicon.with_settings(**max(grid, key=merit))  # max keeps the first of equals: the grid's order


def holds_writing(path: Path) -> bool:
    """False for the images that hold no word: a few of the set are a single 4x4 dot (a fault in
    their conversion from pen traces), which no reader could read."""
    ink = load_image(path)
    try:
        left, top, right, bottom = ink_box(ink, 0.5 * float(ink.max(initial=0.0)))
    except NoInkError:
        return False
    return max(right - left, bottom - top) >= MIN_WORD_PX


def load_words(data: Path, limit: int | None) -> tuple[list[Word], int]:
    """The set's words that hold writing, and how many images were left out for holding none."""
    paths, labels = load_set(data, "unipen_words", limit)
    with (data / "unipen_words" / "labels.csv").open(newline="", encoding="utf-8") as handle:
        writer = {row["file"]: row["contributor"] for row in csv.DictReader(handle)}
    words = [Word(path, label, writer[path.name]) for path, label in zip(paths, labels) if holds_writing(path)]
    return words, len(paths) - len(words)


def halves(words: list[Word]) -> tuple[list[Word], list[Word]]:
    """The words of every other contributor (sorted by name) to choose settings on, and the rest, held out."""
    tuning = set(sorted({word.contributor for word in words})[::2])
    return [w for w in words if w.contributor in tuning], [w for w in words if w.contributor not in tuning]


ROWS = [
    ("words read exactly (case-insensitive)", lambda f: f"{f['exact']:.1%} ({f['correct']} of {f['n']})"),
    ("character error rate", lambda f: f"{f['cer']:.1%}"),
    ("as many letters read as the word has", lambda f: f"{f['count']:.1%}"),
    ("time per word, median", lambda f: f"{f['ms']:.1f} ms"),
]


def table(columns: dict[str, dict[str, float]]) -> list[str]:
    """A markdown table: one row per figure, one column per reader."""
    return ["| figure | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns),
            *(f"| {title} | " + " | ".join(cell(f) for f in columns.values()) + " |" for title, cell in ROWS)]


def run(models: list[str], data: Path, limit: int | None, lexicons: bool, line_model: str = LINE_MODEL) -> str:
    """Read every word image with each model (and ``line_model`` with each lexicon); the markdown report."""
    words, left_out = load_words(data, limit)
    tuning, held_out = halves(words)
    answers = {model: read_all(load_reader(model), words) for model in models}
    chosen = {}
    if lexicons:
        reader = load_reader(line_model)
        english = load_lexicon("english")
        # what --lexicon english does as shipped (LexiconSettings' defaults), beside the settings tuned here
        answers[f"{line_model} + english, default settings"] = read_all(reader, words, english)
        closed = Lexicon.from_counts(CLOSED, dict.fromkeys((word.label for word in words), 1.0))
        for title, lexicon in ((f"{line_model} + english", english), (f"{line_model} + {CLOSED}", closed)):
            chosen[title] = tune(reader, lexicon, tuning).settings
            answers[title] = read_all(reader, words, lexicon.with_settings(**vars(chosen[title])))
    held = [k for k, word in enumerate(words) if word in held_out]
    return "\n".join([
        f"`read(only=\"letters\")` on unipen_words ({len(words)} word images of {len({w.contributor for w in words})} "
        f"contributors; {left_out} more hold no word, only a dot, and are left out), one column per reader", "",
        "All words:", "", *table({title: figures(words, found) for title, found in answers.items()}), "",
        f"Held out: the {len(held_out)} words of the contributors whose words did not choose the lexicon settings:", "",
        *table({title: figures(held_out, [found[k] for k in held]) for title, found in answers.items()}), "",
        *(f"Settings of {title}, chosen on the other {len(tuning)} words: {settings}" for title, settings in chosen.items()),
    ])


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="model to compare (repeatable; default: characters and lines)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N words")
    parser.add_argument("--no-lexicon", action="store_true", help="leave out the line model's lexicon columns")
    parser.add_argument("--line-model", default=LINE_MODEL, help="the line model read with each lexicon (default: %(default)s)")
    args = parser.parse_args(argv)
    return print_report("read_words", lambda: run(args.model or ["characters", LINE_MODEL], args.data, args.limit,
                                                  not args.no_lexicon, args.line_model))


if __name__ == "__main__":
    sys.exit(main())
