"""Text metrics for the line reader: edit distance and character error rate (CER)."""

from __future__ import annotations

from typing import Iterable


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def character_error_rate(answers: Iterable[str], truths: Iterable[str]) -> float:
    """Edits needed to turn the answers into the truths, per character of the truths (0.0 = perfect)."""
    errors = length = 0
    for answer, truth in zip(answers, truths, strict=True):
        errors += edit_distance(answer, truth)
        length += len(truth)
    return errors / max(1, length)
