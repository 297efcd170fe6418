"""Label sets: which character each class index stands for.

The EMNIST label sets come from the official ``emnist-*-mapping.txt`` files; they are spelled out
here too so that a model bundle and the web page need no data files to name their classes.
"""

from __future__ import annotations

import functools
import string
import unicodedata

DIGITS = tuple(string.digits)
UPPER = tuple(string.ascii_uppercase)
LOWER = tuple(string.ascii_lowercase)

# EMNIST bymerge / balanced: the 15 lower-case letters that look like their capitals
# (c i j k l m o p s u v w x y z) are merged into the capital's class.
MERGED_LOWER = tuple("cijklmopsuvwxyz")
KEPT_LOWER = tuple(letter for letter in LOWER if letter not in MERGED_LOWER)  # a b d e f g h n q r t

LABEL_SETS: dict[str, tuple[str, ...]] = {
    "digits": DIGITS,
    "byclass": DIGITS + UPPER + LOWER,  # 62 classes
    "bymerge": DIGITS + UPPER + KEPT_LOWER,  # 47 classes, the same as "balanced"
    "balanced": DIGITS + UPPER + KEPT_LOWER,
    "letters": UPPER,  # 26 case-merged classes; EMNIST numbers them 1..26
}


# The punctuation a line model reads (besides the space): drawn as pen strokes in its training
# lines, and reported with ``punctuation: true``.
LINE_MARKS = "'-.,:"


def merge_case(char: str, labels: tuple[str, ...]) -> str:
    """The class of ``labels`` that ``char`` belongs to (``"c"`` -> ``"C"`` in the 47-class set), as
    ``labels`` spell it; raises ``KeyError`` if none.

    Unicode spellings of one character are one: macOS sends "é" as "e" + a combining accent (NFD),
    most systems as one code point (NFC), and a model's labels may be either.
    """
    for candidate in (char, char.upper(), char.lower()):
        if candidate in labels:
            return candidate
    spelled, compared = unicodedata.normalize("NFC", char), _in_nfc(labels)
    for candidate in (spelled, spelled.upper(), spelled.lower()):
        if candidate in compared:
            return labels[compared.index(candidate)]
    raise KeyError(char)


@functools.lru_cache(maxsize=64)
def _in_nfc(labels: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", label) for label in labels)
