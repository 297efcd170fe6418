"""Single characters read as text: does ``Recognizer.read`` find one character, and the right one?

    python benchmarks/read_characters.py [--sets unipen_digits,unipen_letters,semeion,hwd1000]

``predict`` reads a whole image as one character; ``read`` (the web page's text mode, the
``inkread read`` command) first finds the characters in it, so a character drawn in strokes that do
not touch (a K whose arms start apart from the stem, an H whose bar stops short) can come out as two.
Each image of the real-handwriting sets holds exactly one character; reported per set: the share
read as exactly one character, and the share read as exactly the right text (case-insensitive for
letters). Digits are read with the digits model, letters with the characters model and
``only="letters"``; with ``--touching lines``, each model reads with the line model for touching
characters (``--model digits+lines``), which must not read a character alone as two. These sets are
evaluation data: never tune on them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inkread.inference.recognizer import Recognizer
from shared_sets import DEFAULT_DATA, load_set, print_report, set_names

SETS = {  # set -> (model, only)
    "unipen_digits": ("digits", None), "unipen_letters": ("characters", "letters"),
    "semeion": ("digits", None), "hwd1000": ("digits", None), "optdigits_orig": ("digits", None),
}


def run(sets: list[str], data: Path, touching: str | None = None) -> str:
    """Read every image of each set with ``read``; a markdown table."""
    lines = ["| set | model | images | one character | read right |", "|---|---|---|---|---|"]
    for name in sets:
        model, only = SETS[name]
        recognizer = Recognizer.load(model, touching=touching)
        if touching is not None:
            model += f"+{touching}"
        paths, labels = load_set(data, name)
        one = right = 0
        for path, label in zip(paths, labels):
            result = recognizer.read(path, only=only)
            one += len(result.characters) == 1
            right += result.text.lower() == label.lower()
        lines.append(f"| {name} | {model} | {len(paths)} | {one / len(paths):.1%} | {right / len(paths):.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="unipen_digits,unipen_letters,semeion,hwd1000",
                        help="comma-separated: " + ", ".join(SETS))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--touching", default=None, help="a line model for touching characters (lines)")
    args = parser.parse_args(argv)
    return print_report("read_characters", lambda: run(set_names(args.sets, SETS), args.data, args.touching))


if __name__ == "__main__":
    sys.exit(main())
