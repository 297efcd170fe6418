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


def consistent_case(text: str) -> str:
    """Give letters whose two cases look alike (c o s v w ...) the case of the rest of their word.

    Written small or large, a "c", "o", "s" or "v" has the same shape (EMNIST merges their cases
    for that reason), so the model's case for them is a guess from their size. The other letters
    of the word say better: after the first letter, these take the case that the word's other
    letters agree on ("VeSerVe" -> "Veserve", "LOUvRE" -> "LOUVRE"). The first letter keeps its
    case unless the word's other letters are capitals; a capital first letter alone says nothing
    ("Tom" stays "Tom"). Words whose other letters disagree, or have none, are left alone.
    """
    out = list(text)
    start = 0
    for end in [*(i for i, c in enumerate(text) if not c.isalpha()), len(text)]:
        others = [i for i in range(start + 1, end) if text[i].lower() not in MERGED_LOWER]
        if others and all(text[i].isupper() for i in others):
            out[start:end] = text[start:end].upper()
        elif others and all(text[i].islower() for i in others):
            out[start + 1:end] = text[start + 1:end].lower()
        start = end + 1
    return "".join(out)
