"""Synthetic handwritten lines for the line reader: EMNIST characters written side by side.

There is no large set of handwritten words to train on here, so lines are composed, as the Full
Stack Deep Learning text recognizer does with its EMNISTLines: pick a text, then for each
character an EMNIST image of that character. EMNIST scales every character to fill its box, so
each is rescaled to its place in the line first: capitals, digits and ascenders (b d f h k l)
stand on the baseline at full height, small letters (a c e m ...) are ``x_height`` high, the
descenders (g p q y) hang below the baseline. Half the lines are printed (letters at random
gaps, some touching); the other half imitate joined-up writing: letters close together, most
small letters joined by a stroke from where one's ink ends to where the next one's begins,
and often a lead-in and an exit stroke. EMNIST has no joined-up writing, so this is the closest
these characters come to it. Punctuation (' - . , :) is drawn as pen strokes. The finished line goes through
``normalize_line``, exactly as a user's image does. A share of the lines can be written in handwriting
fonts instead (``data/font_lines.py``), for the joined-up letter forms EMNIST has not got.

Texts: words from ``words.txt`` (see ``scripts/make_words.py``) in lower, Title or UPPER case,
random letter strings (so that the reader reads letters, not a vocabulary), numbers, and lines
of two or three words, half of them with a number in place of a word.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from inkread.data.font_lines import FontBank, compose_font_line
from inkread.errors import DatasetError
from inkread.imaging.levels import to_uint8
from inkread.imaging.line import normalize_line, pen_to_width
from inkread.labels import LINE_MARKS

MARKS = LINE_MARKS  # drawn as pen strokes, not taken from EMNIST
CHARSET = string.digits + string.ascii_uppercase + string.ascii_lowercase + " " + MARKS
ASCENDERS = set("bdfhklt")
DESCENDERS = set("gpqy")
CAP = 28.0  # capital height in pixels while a line is composed (about EMNIST's own scale)
WORDS_FILE = Path(__file__).with_name("words.txt")


@dataclass(frozen=True)
class LineStyle:
    """How far the synthetic lines vary (each line draws its own values within these ranges).

    A line is written either joined up (``cursive`` of the lines: letters close together, most
    neighbours joined by a connecting stroke, often a lead-in and an exit stroke) or in print.
    """

    x_height: tuple[float, float] = (0.5, 0.7)  # small letters' height, in capital heights
    print_gap: tuple[float, float] = (-0.08, 0.25)  # between neighbours, in capital heights (< 0: overlap)
    cursive_gap: tuple[float, float] = (-0.12, 0.08)
    word_gap: tuple[float, float] = (0.45, 1.0)
    size_jitter: float = 0.1  # each character's height varies by up to this share
    baseline_jitter: float = 0.05  # and its baseline by up to this share of CAP
    cursive: float = 0.5  # share of lines written joined up
    join: tuple[float, float] = (0.1, 0.85)  # chance that two neighbouring small letters are joined: print, cursive
    lead_in: float = 0.3  # joined-up words: chance of a stroke leading into the first letter
    exit: float = 0.4  # ... and out of the last one


@lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    """The training vocabulary (one word per line of words.txt)."""
    return tuple(word for word in WORDS_FILE.read_text().split() if word)


def random_text(rng: np.random.Generator) -> str:
    """A text to write: a word, a random string, a number, or a few words (mostly one word)."""
    kind = rng.random()
    vocabulary = words()
    if kind < 0.5:
        text = _cased(vocabulary[rng.integers(len(vocabulary))], rng)
    elif kind < 0.7:
        letters = string.ascii_lowercase if rng.random() < 0.7 else string.ascii_letters
        text = _cased("".join(rng.choice(list(letters), rng.integers(1, 11))), rng)
    elif kind < 0.8:
        text = "".join(rng.choice(list(string.digits), rng.integers(1, 8)))
    else:
        line = [_cased(vocabulary[rng.integers(len(vocabulary))], rng) for _ in range(rng.integers(2, 4))]
        if rng.random() < 0.5:  # a number among the words ("page 10", "7 days"): else digits only ever stand alone
            line[int(rng.integers(len(line)))] = _number(rng)
        text = " ".join(line)
    roll = rng.random()
    if roll < 0.04 and len(text) > 3 and text.isalpha():  # a hyphenated word or a contraction
        cut = int(rng.integers(1, len(text) - 1))
        text = text[:cut] + ("-" if rng.random() < 0.5 else "'") + text[cut:]
    elif roll < 0.10:  # a sentence's end, a list, a label
        text += str(rng.choice(list(".,:")))
    elif roll < 0.13 and text.isdigit() and len(text) > 2:  # a decimal, a time, a date
        cut = int(rng.integers(1, len(text)))
        text = text[:cut] + str(rng.choice(list(".:-"))) + text[cut:]
    return text


def _number(rng: np.random.Generator) -> str:
    """A number to stand among words: 1-4 digits, now and then a decimal or a time ("3.5", "10:30")."""
    digits = "".join(rng.choice(list(string.digits), rng.integers(1, 5)))
    if len(digits) > 1 and rng.random() < 0.15:
        cut = int(rng.integers(1, len(digits)))
        digits = digits[:cut] + str(rng.choice(list(".:"))) + digits[cut:]
    return digits


def _cased(word: str, rng: np.random.Generator) -> str:
    roll = rng.random()
    return word.capitalize() if roll < 0.2 else word.upper() if roll < 0.3 else word


class CharacterBank:
    """EMNIST character images by character, cropped to their ink, to compose lines from."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]):
        self.by_char: dict[str, list[np.ndarray]] = {}
        ink = images > 40
        rows, cols = ink.any(axis=2), ink.any(axis=1)  # (N, H) and (N, W): which rows and columns hold ink
        top, left = rows.argmax(axis=1), cols.argmax(axis=1)
        bottom, right = rows.shape[1] - rows[:, ::-1].argmax(axis=1), cols.shape[1] - cols[:, ::-1].argmax(axis=1)
        for i in np.flatnonzero(rows.any(axis=1)):  # blank images hold no character
            crop = images[i, top[i]:bottom[i], left[i]:right[i]]
            self.by_char.setdefault(classes[int(labels[i])], []).append(crop)
        missing = [c for c in CHARSET if c != " " and c not in MARKS and c not in self.by_char]
        if missing:
            raise DatasetError(f"no images of {''.join(missing)!r} in the EMNIST files found: the line reader needs all 62 "
                               "byclass characters; add emnist-byclass-test (inkread data fetch emnist)")

    def pick(self, char: str, rng: np.random.Generator) -> np.ndarray:
        choices = self.by_char[char]
        return choices[int(rng.integers(len(choices)))]


def compose_line(text: str, bank: CharacterBank, rng: np.random.Generator, style: LineStyle = LineStyle()) -> np.ndarray:
    """The normalized line image (float32, LINE_HEIGHT x W) of ``text`` written with ``bank``'s characters."""
    x_height = rng.uniform(*style.x_height)
    cursive = rng.random() < style.cursive
    gap, join = (style.cursive_gap, style.join[1]) if cursive else (style.print_gap, style.join[0])
    baseline = int(CAP * 1.25)
    pixels = np.zeros((int(CAP * 1.8), int(CAP * 1.2 * len(text) + 5 * CAP)), np.uint8)
    pen_width = rng.uniform(1.6, 3.4)  # the line's pen, as stroke_width measures it (a 3 px pen: 2.3)
    pen = max(2, round(pen_width + 0.7))  # the connecting strokes' width in pixels, about the same pen
    x = int(CAP * 0.8)
    strokes: list[list[tuple[float, float]]] = []
    marks: list[tuple[str, int]] = []
    last_exit: tuple[int, int] | None = None  # where the previous small letter's ink ends, if it may join the next
    for char in text:
        if char == " " or char in MARKS:
            _end_word(strokes, last_exit, cursive, x_height, style, rng)
            last_exit = None
            if char == " ":
                x += int(CAP * rng.uniform(*style.word_gap))
            else:
                marks.append((char, x))
                x += int(CAP * (rng.uniform(0.35, 0.55) if char == "-" else rng.uniform(0.15, 0.35)))
            continue
        top, bottom = _extent(char, x_height)
        height = max(4, round((bottom - top) * CAP * (1.0 + rng.uniform(-style.size_jitter, style.size_jitter))))
        glyph = bank.pick(char, rng)
        width = max(2, round(glyph.shape[1] * height / glyph.shape[0] * rng.uniform(0.85, 1.15)))
        if x + width >= pixels.shape[1] - CAP:
            break
        glyph = np.asarray(Image.fromarray(glyph).resize((width, height), Image.Resampling.BILINEAR), np.float32) / 255
        # one pen for the whole line, as a writer has (EMNIST's strokes vary from image to image)
        glyph = (np.clip(pen_to_width(np.pad(glyph, 3), pen_width), 0, 1) * 255).astype(np.uint8)[3:-3, 3:-3]
        y = baseline + round(bottom * CAP + rng.uniform(-1, 1) * style.baseline_jitter * CAP) - height
        y = int(np.clip(y, 0, pixels.shape[0] - height))
        region = pixels[y:y + height, x:x + width]
        np.maximum(region, glyph, out=region)
        entry, exit_point = _ink_ends(glyph, x, y)
        if char.islower():
            if last_exit is not None and rng.random() < join:
                strokes.append(_connector(last_exit, entry))
            elif last_exit is None and cursive and rng.random() < style.lead_in:
                strokes.append([(entry[0] - CAP * rng.uniform(0.2, 0.4), baseline - CAP * rng.uniform(0.0, 0.1)), entry])
            last_exit = exit_point
        else:
            last_exit = None
        x += width + int(CAP * rng.uniform(*gap))
        x = max(x, int(CAP * 0.8))
    _end_word(strokes, last_exit, cursive, x_height, style, rng)
    canvas = Image.fromarray(pixels)
    draw = ImageDraw.Draw(canvas)
    for points in strokes:
        draw.line(points, fill=255, width=pen, joint="curve")
    for char, at in marks:
        _draw_mark(draw, char, at, baseline, x_height, pen + 1, rng)
    return normalize_line(np.asarray(canvas, np.float32) / 255.0)


def _ink_ends(glyph: np.ndarray, x: int, y: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where a pen would enter the glyph (its leftmost ink) and leave it (the lowest ink of its right fifth)."""
    inked = glyph > 100
    columns = np.flatnonzero(inked.any(axis=0))
    if len(columns) == 0:
        h, w = glyph.shape
        return (x, y + h // 2), (x + w, y + h - 1)
    first = columns[0]
    entry_row = int(np.flatnonzero(inked[:, first]).mean())
    right = inked[:, max(first, columns[-1] - max(1, glyph.shape[1] // 5)):columns[-1] + 1]
    exit_row = int(np.flatnonzero(right.any(axis=1)).max())
    exit_column = columns[-1] - int(np.argmax(right[exit_row][::-1]))
    return (x + int(first), y + entry_row), (x + int(exit_column), y + exit_row)


def _connector(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[float, float]]:
    """A joining stroke from one letter's exit to the next one's entry, dipping a little between them."""
    middle = ((start[0] + end[0]) / 2, max(start[1], end[1]) + CAP * 0.04)
    return [start, middle, end]


def _end_word(strokes: list, last_exit: tuple[int, int] | None, cursive: bool, x_height: float, style: LineStyle,
              rng: np.random.Generator) -> None:
    """At the end of a joined-up word, sometimes the upward exit flick from its last small letter."""
    if last_exit is not None and cursive and rng.random() < style.exit:
        strokes.append(_exit_stroke(last_exit, x_height, rng))


def _exit_stroke(start: tuple[int, int], x_height: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """The upward flick many writers end a joined-up word with."""
    return [start, (start[0] + CAP * rng.uniform(0.25, 0.6), start[1] - x_height * CAP * rng.uniform(0.2, 0.9))]


def _draw_mark(draw: ImageDraw.ImageDraw, char: str, x: int, baseline: int, x_height: float, pen: int,
               rng: np.random.Generator) -> None:
    """Draw a punctuation mark with its left edge at ``x``, as a pen would."""
    dot = max(1.0, pen * rng.uniform(0.5, 0.9))
    if char == "-":
        y = baseline - x_height * CAP * rng.uniform(0.35, 0.65)
        draw.line([(x, y), (x + CAP * rng.uniform(0.25, 0.45), y + rng.uniform(-2, 2))], fill=255, width=pen)
    elif char == "'":
        draw.line([(x + 2, baseline - CAP), (x, baseline - CAP * rng.uniform(0.65, 0.8))], fill=255, width=pen)
    elif char == ",":
        draw.ellipse([x, baseline - 2 * dot, x + 2 * dot, baseline], fill=255)
        draw.line([(x + 2 * dot, baseline - dot), (x, baseline + CAP * rng.uniform(0.2, 0.35))], fill=255, width=pen)
    else:  # "." and ":"
        rows = [baseline] if char == "." else [baseline, baseline - x_height * CAP * rng.uniform(0.6, 0.9)]
        for y in rows:
            draw.ellipse([x, y - 2 * dot, x + 2 * dot, y], fill=255)


def _extent(char: str, x_height: float) -> tuple[float, float]:
    """Top and bottom of ``char``, in capital heights, relative to the baseline (down is positive)."""
    if char in DESCENDERS:
        return -x_height, 0.4
    if char == "j":
        return -0.85, 0.4
    if char == "i" or char == "t":
        return -0.85, 0.0
    if char.islower() and char not in ASCENDERS:
        return -x_height, 0.0
    return -1.0, 0.0


def encode(text: str) -> list[int]:
    """Class numbers of ``text`` for CTC: 1 + index in CHARSET (0 is CTC's blank)."""
    return [CHARSET.index(char) + 1 for char in text]


def make_lines(bank: CharacterBank, count: int, seed: int, style: LineStyle = LineStyle(), fonts: FontBank | None = None,
               font_share: float = 0.0) -> tuple[list[np.ndarray], list[str]]:
    """``count`` synthetic lines (uint8 images, LINE_HEIGHT high) and their texts, reproducibly from ``seed``:
    ``font_share`` of them written in ``fonts`` (``data/font_lines.py``), the rest with EMNIST characters."""
    rng = np.random.default_rng(seed)
    images, texts = [], []
    while len(images) < count:
        text = random_text(rng).strip()
        if not text:
            continue
        image = None
        if fonts is not None and font_share > 0 and rng.random() < font_share:
            image = compose_font_line(text, fonts, rng)
        if image is None:  # EMNIST lines, and texts no font has every character of
            image = compose_line(text, bank, rng, style)
        images.append(to_uint8(image, 255.0))
        texts.append(text)
    return images, texts
