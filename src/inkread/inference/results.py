"""What a recognizer answers: ``Prediction`` (one character) and ``ReadResult`` (several).

Each has ``to_dict()``, a JSON-ready dict: the web API returns these as they are, and
``inkread predict/read --format json`` prints them, so their keys are part of the public API.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace

import numpy as np

from inkread.errors import InkreadError, option_value

NOTHING_TO_READ = "nothing to read"
NOTHING_READ = "no character read in the ink"


def recased_ranking(ranking: list[tuple[str, float]], old: str, new: str) -> list[tuple[str, float]]:
    """A ranking whose ``old`` label is now answered as ``new`` (another case of it) saying the same,
    unless the model has a class of that case too, ranked on its own."""
    if new == old or any(label == new for label, _ in ranking):
        return ranking
    return [(new if label == old else label, p) for label, p in ranking]


def check_top_k(top_k) -> None:
    """Refuse a ``top_k`` that is not a whole number of at least 1 (a numpy integer is one; True is not)."""
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1:
        raise InkreadError(f"{option_value('top_k', top_k)}: ask for a whole number of answers, at least 1")


def _round(value: float) -> float:
    # six decimals are plenty for a probability and keep the JSON readable
    return round(float(value), 6)


@dataclass
class Prediction:
    """One image, one character.

    ``label`` is None when there is no answer: the image holds no ink (``no_ink``), or it could not
    be read (``error``, only from ``predict_batch(..., errors="return")``). ``uncertain`` flags an
    answer the model is not sure of (see ``Recognizer``). ``several_characters`` is set (and
    ``uncertain`` too) when the image seems to hold several characters: their reading, cut apart as
    ``Recognizer.read`` would ("12", lines apart by "\\n"); ``label`` is then the whole read as one. ``image`` is the 28x28
    float32 input the model saw (None without an answer); it is left out of ``to_dict()``.
    """

    label: str | None
    confidence: float
    top_k: list[tuple[str, float]]
    uncertain: bool = False
    no_ink: bool = False
    error: str | None = None
    several_characters: str | None = None
    image: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the image was read (an answer or "nothing to read"), False on error."""
        return self.error is None

    def __str__(self) -> str:
        if self.error is not None:
            return f"error: {self.error}"
        return NOTHING_TO_READ if self.label is None else self.label

    def to_dict(self) -> dict:
        """JSON-ready: label, confidence, top_k [{label, confidence}], uncertain, no_ink, error, several_characters."""
        return {
            "label": self.label,
            "confidence": _round(self.confidence),
            "top_k": [{"label": label, "confidence": _round(p)} for label, p in self.top_k],
            "uncertain": self.uncertain,
            "no_ink": self.no_ink,
            "error": self.error,
            "several_characters": self.several_characters,
        }

    @classmethod
    def nothing(cls) -> "Prediction":
        """The answer for an image without ink."""
        return cls(label=None, confidence=0.0, top_k=[], no_ink=True)

    @classmethod
    def failed(cls, message: str) -> "Prediction":
        """The answer for an image that could not be read."""
        return cls(label=None, confidence=0.0, top_k=[], error=message)


@dataclass
class CharacterResult:
    """One character found by ``Recognizer.read``.

    ``box`` is (left, top, right, bottom) in pixels of the input image, right/bottom exclusive;
    ``line`` is the 0-based text line it belongs to; ``space_before`` says a word gap precedes it.
    ``punctuation`` marks a period, comma, dash, colon, semicolon or bullet ("\u2022"), told by its shape and place in the line
    rather than read by the model (so ``only`` does not apply to it, and its confidence is 1).
    """

    label: str
    confidence: float
    box: tuple[int, int, int, int]
    line: int
    top_k: list[tuple[str, float]]
    uncertain: bool = False
    space_before: bool = False
    punctuation: bool = False

    def to_dict(self) -> dict:
        """JSON-ready: label, confidence, box [l, t, r, b], line, top_k, uncertain, space_before, punctuation."""
        return {
            "label": self.label,
            "confidence": _round(self.confidence),
            "box": [int(v) for v in self.box],
            "line": self.line,
            "top_k": [{"label": label, "confidence": _round(p)} for label, p in self.top_k],
            "uncertain": self.uncertain,
            "space_before": self.space_before,
            "punctuation": self.punctuation,
        }


@dataclass
class ReadResult:
    """Several characters on one or more lines.

    ``text`` joins the characters, with a space at word gaps and a newline between lines.
    ``confidence`` is the lowest character confidence (the text is only as sure as its weakest
    character); ``uncertain`` is True if any character is; ``no_ink`` when nothing was found.
    """

    text: str
    characters: list[CharacterResult]
    confidence: float
    uncertain: bool = False
    no_ink: bool = False

    @property
    def lines(self) -> list[str]:
        """The text, line by line."""
        return self.text.split("\n") if self.text else []

    def __str__(self) -> str:
        if self.no_ink:
            return NOTHING_TO_READ
        return self.text if self.characters else NOTHING_READ

    def to_dict(self) -> dict:
        """JSON-ready: text, confidence, uncertain, no_ink, characters [CharacterResult.to_dict()]."""
        return {
            "text": self.text,
            "confidence": _round(self.confidence),
            "uncertain": self.uncertain,
            "no_ink": self.no_ink,
            "characters": [char.to_dict() for char in self.characters],
        }

    def moved(self, dx: int, dy: int) -> "ReadResult":
        """The same reading with every box moved by (``dx``, ``dy``) pixels (read on a region of a larger image)."""
        moved = [replace(c, box=(c.box[0] + dx, c.box[1] + dy, c.box[2] + dx, c.box[3] + dy)) for c in self.characters]
        return replace(self, characters=moved)

    @classmethod
    def nothing(cls) -> "ReadResult":
        """The answer for an image without ink."""
        return cls(text="", characters=[], confidence=0.0, no_ink=True)

    @classmethod
    def unread(cls) -> "ReadResult":
        """The answer for ink in which no character was read (none of the allowed ones, say): uncertain."""
        return cls(text="", characters=[], confidence=0.0, uncertain=True)

    @classmethod
    def of(cls, characters: list[CharacterResult], ink_found: bool = False) -> "ReadResult":
        """The result for characters in reading order: text, confidence, uncertain.

        With no characters: ``unread()`` if the image held ink (``ink_found``), else ``nothing()``.
        """
        if not characters:
            return cls.unread() if ink_found else cls.nothing()
        lines: dict[int, list[str]] = {}
        for char in characters:
            lines.setdefault(char.line, []).append((" " if char.space_before else "") + char.label)
        return cls(text="\n".join("".join(line).lstrip(" ") for line in lines.values()), characters=characters,
                   confidence=min(c.confidence for c in characters), uncertain=any(c.uncertain for c in characters))
