"""How well inkread reads whole handwritten words (UNIPEN tablet words, not from EMNIST).

    python benchmarks/read_words.py [--model characters --model lines] [--data ../shared/datasets] [--limit N]

Each image of ``unipen_words`` holds one word (print, cursive or mixed). It is read with
``only="letters"`` (the user knows the field holds a word) and compared with its transcription
ignoring case, spaces, apostrophes and hyphens. Each model is read the way ``inkread read`` reads
it: a character model (``characters``) through ``Recognizer.read``, which cuts the word into
characters; a line model (``lines``) through ``LineReader.read``, which reads the line whole.
Reported per model, side by side: word accuracy, character error rate (edit distance /
transcription length), how often as many characters were found as the word has, and the time.
A markdown table on stdout. The folder is evaluation data: never tune on it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from inkread.evaluation.text import edit_distance
from inkread.imaging.decode import load_image
from inkread.imaging.preprocess import NoInkError, ink_box
from inkread.inference.jobs import load_reader
from shared_sets import DEFAULT_DATA, load_set, print_report

IGNORED = " '-"
MIN_WORD_PX = 8  # a word's ink is at least this long one way or the other


def comparable(text: str) -> str:
    """Lower case without spaces, apostrophes and hyphens."""
    return "".join(c for c in text.lower() if c not in IGNORED)


def measure(model: str, paths: list[Path], labels: list[str]) -> dict[str, float]:
    """Read every word image with ``model``: the figures of one column of the table."""
    reader = load_reader(model)
    correct = errors = length = counted_right = 0
    seconds = []
    for path, label in zip(paths, labels):
        started = time.perf_counter()
        result = reader.read(path, only="letters")
        seconds.append(time.perf_counter() - started)
        truth, answer = comparable(label), comparable(result.text)
        correct += answer == truth
        errors += edit_distance(answer, truth)
        length += len(truth)
        counted_right += len(answer) == len(truth)
    return {"exact": correct / len(paths), "correct": correct, "cer": errors / length,
            "count": counted_right / len(paths), "ms": 1000 * statistics.median(seconds)}


def holds_writing(path: Path) -> bool:
    """False for the images that hold no word: a few of the set are a single 4x4 dot (a fault in
    their conversion from pen traces), which no reader could read."""
    ink = load_image(path)
    try:
        left, top, right, bottom = ink_box(ink, 0.5 * float(ink.max(initial=0.0)))
    except NoInkError:
        return False
    return max(right - left, bottom - top) >= MIN_WORD_PX


def run(models: list[str], data: Path, limit: int | None) -> str:
    """Read every word image with each model and return the markdown report."""
    all_paths, all_labels = load_set(data, "unipen_words", limit)
    kept = [k for k, path in enumerate(all_paths) if holds_writing(path)]
    paths, labels = [all_paths[k] for k in kept], [all_labels[k] for k in kept]
    figures = {model: measure(model, paths, labels) for model in models}
    n = len(paths)
    left_out = len(all_paths) - n
    rows = [
        ("words read exactly (case-insensitive)", lambda f: f"{f['exact']:.1%} ({f['correct']} of {n})"),
        ("character error rate", lambda f: f"{f['cer']:.1%}"),
        ("as many letters read as the word has", lambda f: f"{f['count']:.1%}"),
        ("time per word, median", lambda f: f"{f['ms']:.1f} ms"),
    ]
    return "\n".join([
        f"`read(only=\"letters\")` on unipen_words ({n} word images; {left_out} more hold no word, only a dot, "
        "and are left out), one column per model", "",
        "| figure | " + " | ".join(models) + " |", "|---|" + "---|" * len(models),
        *(f"| {title} | " + " | ".join(cell(figures[m]) for m in models) + " |" for title, cell in rows),
    ])


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="model to compare (repeatable; default: characters and lines)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N words")
    args = parser.parse_args(argv)
    return print_report("read_words", lambda: run(args.model or ["characters", "lines"], args.data, args.limit))


if __name__ == "__main__":
    sys.exit(main())
