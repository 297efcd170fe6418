"""Words read as digits or as letters, whichever most of each is: the rule ``Recognizer.read`` applies.

A model that reads digits and letters confuses the ones that look alike (1/l/I, 0/O, 5/S, 2/Z, 9/g):
"L06 74", "page 1O", "I2 items". A word (a run of characters between word gaps and marks) that is
mostly digits reads its letters again as digits, and the other way round; a word split evenly takes
its line's majority, and a line split evenly the whole text's. A character is read again only where
the model gives the other kind at least ``CONTEXT_SHARE`` of its belief, so a clear B stays a B in
"B52", and the 3 of "3rd" a 3. (``LineReader.read`` applied it too, one way only, until the line model
learned numbers among words: then it read fewer lines right; ``benchmarks/EXPERIMENTS.md``.)
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar


# A letter in a word of digits is read as a digit (and the other way round) where the model gives that
# kind at least this share of its belief.
CONTEXT_SHARE = 0.1

Again = TypeVar("Again")


def kind(label: str) -> str | None:
    """"digits" or "letters" for a label of one or the other, else None (a mark, a space, a word label)."""
    return "digits" if label.isdigit() else "letters" if label.isalpha() and len(label) == 1 else None


def majority(labels: Sequence[str]) -> str | None:
    """The kind most of ``labels`` are ("digits" or "letters"), None on a tie."""
    digits = sum(kind(label) == "digits" for label in labels)
    letters = sum(kind(label) == "letters" for label in labels)
    return "digits" if digits > letters else "letters" if letters > digits else None


def reads_both_kinds(known: Sequence[str]) -> bool:
    """Whether a model of these labels reads digits and letters both (the rule has nothing to do otherwise)."""
    return {"digits", "letters"} <= {kind(label) for label in known}


def words_of_one_kind(known: Sequence[str], labels: Sequence[str], words: Sequence[Sequence[int]], line_of: Sequence[int],
                      read_again: Callable[[list[int], str], Sequence[tuple[Again, float]]]) -> dict[int, Again]:
    """Which characters to read again as their word's kind, and what as: {index: ``read_again``'s answer}.

    ``known``: the model's labels (a model without both digits and letters is left alone); ``labels``:
    each character's as read; ``words``: the characters' indices word by word, ``line_of`` each word's
    line. ``read_again(indices, kind)`` gives, for those characters, the model's best of that kind and
    the share of its belief that kind held; a character is replaced where that share is at least
    ``CONTEXT_SHARE``.
    """
    if not reads_both_kinds(known):
        return {}
    text_kind = majority(labels)
    line_kind = {line: majority([labels[i] for word, at in zip(words, line_of) if at == line for i in word]) or text_kind
                 for line in set(line_of)}
    again: dict[int, Again] = {}
    for word, line in zip(words, line_of):
        word_kind = majority([labels[i] for i in word]) or line_kind[line]
        odd = [i for i in word if kind(labels[i]) not in (word_kind, None)]
        if odd:
            again.update((i, answer) for i, (answer, held) in zip(odd, read_again(odd, word_kind)) if held >= CONTEXT_SHARE)
    return again
