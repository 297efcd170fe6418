"""How well ``Recognizer.read`` reads whole handwritten words (UNIPEN tablet words, not from EMNIST).

    python benchmarks/read_words.py [--model characters] [--data ../shared/datasets] [--limit N]

Each image of ``unipen_words`` holds one word (print, cursive or mixed). It is read with
``only="letters"`` (the user knows the field holds a word) and compared with its transcription
ignoring case, spaces, apostrophes and hyphens. Reported: word accuracy, character error rate
(edit distance / transcription length), and how often segmentation found exactly as many
characters as the word has, which separates segmentation errors from recognition errors.
A markdown table on stdout. The folder is evaluation data: never tune on it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from inkread.inference.recognizer import Recognizer
from shared_sets import DEFAULT_DATA, load_set, print_report

IGNORED = " '-"


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def comparable(text: str) -> str:
    """Lower case without spaces, apostrophes and hyphens."""
    return "".join(c for c in text.lower() if c not in IGNORED)


def run(model: str, data: Path, limit: int | None) -> str:
    """Read every word image and return the markdown report."""
    paths, labels = load_set(data, "unipen_words", limit)
    recognizer = Recognizer.load(model)
    correct = errors = length = counted_right = 0
    seconds = []
    for path, label in zip(paths, labels):
        started = time.perf_counter()
        result = recognizer.read(path, only="letters")
        seconds.append(time.perf_counter() - started)
        truth, answer = comparable(label), comparable(result.text)
        correct += answer == truth
        errors += edit_distance(answer, truth)
        length += len(truth)
        counted_right += len(result.characters) == len(truth)
    n = len(paths)
    return "\n".join([
        f"`Recognizer.read(only=\"letters\")` with model {model!r} on unipen_words ({n} word images)", "",
        "| figure | value |", "|---|---|",
        f"| words read exactly (case-insensitive) | {correct / n:.1%} ({correct} of {n}) |",
        f"| character error rate | {errors / length:.1%} |",
        f"| segmentation found as many characters as the word has | {counted_right / n:.1%} |",
        f"| time per word, median | {1000 * statistics.median(seconds):.1f} ms |",
    ])


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="characters", help="model bundle (default: characters)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N words")
    args = parser.parse_args(argv)
    return print_report("read_words", lambda: run(args.model, args.data, args.limit))


if __name__ == "__main__":
    sys.exit(main())
