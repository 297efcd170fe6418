"""``only=``: restrict a model's answers to some of its classes.

``only`` is one of the named sets ``"digits"``, ``"letters"``, ``"upper"``, ``"lower"``, or the
characters to allow spelled out (``"ACGT"``; spaces are ignored). Classes outside the set are
masked before the argmax and the probabilities are renormalized over the allowed classes, so a
restricted answer is always one of the allowed characters.

Case-merged classes: in the 47-class EMNIST sets a lower-case letter that looks like its capital
(``c``, ``o``, ``s``...) shares the capital's class. Such a class counts as lower case too: with
``only="lower"`` it is allowed and reported in lower case ("o", not "O"). In general a class whose
other case is not in the label set belongs to both cases.
"""

from __future__ import annotations

import difflib
import functools
import unicodedata
from dataclasses import dataclass

import numpy as np

from inkread.errors import InkreadError, option, option_value, spell_labels
from inkread.labels import merge_case

NAMED = ("digits", "letters", "upper", "lower")
# What users write for a named set: read as the characters it spells ("numbers": n, u, m, b, e, r, s), "lunch"
# read "munub"; refused with the name meant.
MEANT = {"numbers": "digits", "number": "digits", "numeric": "digits", "numerals": "digits", "0-9": "digits",
         "alpha": "letters", "alphabet": "letters", "alphabetic": "letters", "a-za-z": "letters",
         "uppercase": "upper", "capitals": "upper", "caps": "upper", "lowercase": "lower", "a-z": "lower"}


@dataclass(frozen=True)
class Restriction:
    """The allowed classes (ascending indices into the model's labels) and the label reported for each."""

    indices: np.ndarray
    names: tuple[str, ...]
    everything: bool  # True when nothing is masked: callers skip the column selection


def restriction(labels: tuple[str, ...], only: str | None) -> Restriction:
    """The classes of ``labels`` allowed by ``only`` (None: all); raises ``InkreadError`` if none or unknown."""
    if only is not None and not isinstance(only, str):  # checked before the cache, which needs hashable keys
        raise InkreadError(f"{option_value('only', only)}: give a string, one of {', '.join(NAMED)} or the characters to allow")
    return _restriction(labels, only)


@functools.lru_cache(maxsize=256)  # thread-safe; the web server asks for the same few sets again and again
def _restriction(labels: tuple[str, ...], only: str | None) -> Restriction:
    if only is None:
        return Restriction(np.arange(len(labels)), labels, True)
    spelled = only.strip().lower()
    if spelled in NAMED:  # "Digits", "LETTERS ": the named set, not the characters D, i, g, t, s
        only = spelled
    elif meant := "upper" if only.strip() == "A-Z" else MEANT.get(spelled):
        raise InkreadError(f"{option_value('only', only)}: did you mean {meant!r}? Use one of {', '.join(NAMED)}, "
                           "or spell out the characters to allow, e.g. ACGT (no ranges)")
    elif close := difflib.get_close_matches(spelled, NAMED, n=1, cutoff=0.8):
        # "letter", "digit": a misspelt set name, not the characters l, e, t, r
        raise InkreadError(f"{option_value('only', only)}: did you mean {close[0]!r}? Use one of {', '.join(NAMED)}, "
                           "or spell out the characters to allow, e.g. ACGT")
    if only in NAMED:
        chosen = _named(labels, only)
        if not chosen:
            raise InkreadError(
                f"{option_value('only', only)}: this model has no {only} classes (its labels are {spell_labels(labels)}): "
                "choose another model or restriction"
            )
    else:
        chosen = _explicit(labels, only)
    indices = sorted(chosen)
    return Restriction(np.array(indices, dtype=np.int64), tuple(chosen[i] for i in indices), len(indices) == len(labels))


def may_answer(only: str | None, char: str) -> bool:
    """Whether ``only`` allows the answer ``char`` as spelled, its case included (a reader that recases a
    letter to suit its word asks this first: "World" is "world" under ``only="lower"``, never "World")."""
    if only is None:
        return True
    spelled = only.strip().lower()
    if spelled in NAMED:
        return {"digits": char.isdigit, "letters": char.isalpha, "upper": char.isupper, "lower": char.islower}[spelled]()
    return char in unicodedata.normalize("NFC", only)


def _named(labels: tuple[str, ...], only: str) -> dict[int, str]:
    """Class index -> reported label for the named sets."""
    chosen: dict[int, str] = {}
    for index, label in enumerate(labels):
        if only == "digits" and label.isdigit():
            chosen[index] = label
        elif only == "letters" and label.isalpha():
            chosen[index] = label
        elif only == "upper" and label.isalpha():
            # a lower-case class counts as upper case when its capital has no class of its own
            if label.isupper() or label.upper() not in labels:
                chosen[index] = label.upper()
        elif only == "lower" and label.isalpha():
            if label.islower() or label.lower() not in labels:
                chosen[index] = label.lower()
    return chosen


def _explicit(labels: tuple[str, ...], only: str) -> dict[int, str]:
    """Class index -> reported label for characters spelled out, like "ACGT" or "0123456789+-"."""
    # one code point per character ("e" + a combining accent is one "é"), as merge_case compares them
    characters = [char for char in dict.fromkeys(unicodedata.normalize("NFC", only)) if not char.isspace()]
    if not characters:
        raise InkreadError(
            f"{option_value('only', only)} allows nothing: give {', '.join(NAMED)} or the characters to allow, e.g. ACGT"
        )
    asked: dict[int, list[str]] = {}
    for char in characters:
        try:
            label = merge_case(char, labels)
        except KeyError:
            raise InkreadError(
                f"{char!r} is not in this model's label set: {spell_labels(labels)} (use another model or drop it from {option('only')})"
            ) from None
        asked.setdefault(labels.index(label), []).append(char)
    # report the character the user asked for ("c" for a merged C/c class), unless they asked for both cases
    return {index: chars[0] if len(chars) == 1 else labels[index] for index, chars in asked.items()}
