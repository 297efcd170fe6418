"""A word is all digits or all letters: the rule ``Recognizer.read`` and ``LineReader.read`` share (inference/word_kinds.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from helpers import matplotlib_fonts
from inkread.inference.line_reader import LineReader, Read
from inkread.inference.word_kinds import CONTEXT_SHARE, majority, reads_both_kinds, words_of_one_kind

KNOWN = tuple("0123456789") + tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _again(shares: dict[int, float]):
    """A ``read_again`` that answers "again-<index>" for each character, with the share given for it."""
    return lambda odd, kind: [(f"{kind}-{i}", shares.get(i, 0.0)) for i in odd]


def test_a_word_takes_the_kind_most_of_it_is_where_the_model_gives_that_kind_its_share():
    labels = list("L06") + list("B52")
    words, lines = [[0, 1, 2], [3, 4, 5]], [0, 0]
    # the L of "L06" looks a little like a 1; the B of "B52" is a clear B
    again = words_of_one_kind(KNOWN, labels, words, lines, _again({0: 0.5, 3: CONTEXT_SHARE / 2}))
    assert again == {0: "digits-0"}
    assert words_of_one_kind(KNOWN, labels, words, lines, _again({0: 0.5, 3: CONTEXT_SHARE})) == {0: "digits-0", 3: "digits-3"}


def test_the_line_reader_reads_words_again_only_as_digits_and_ties_as_digits():
    labels = list("1O") + list("COVID19") + list("he11o")
    words, lines = [[0, 1], [2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13]], [0, 0, 0]
    sure = {i: 0.5 for i in range(len(labels))}
    # the character reader's way: a tie takes the line's kind (letters), and words of letters read digits as letters
    both = words_of_one_kind(KNOWN, labels, words, lines, _again(sure))
    assert both == {0: "letters-0", 7: "letters-7", 8: "letters-8", 11: "letters-11", 12: "letters-12"}
    # the line reader's: "1O" is a number; "COVID19" and "he11o" stay as read
    assert words_of_one_kind(KNOWN, labels, words, lines, _again(sure), into=("digits",), even="digits") == {1: "digits-1"}


def test_a_model_of_one_kind_has_no_words_to_make_of_one_kind():
    assert not reads_both_kinds(tuple("0123456789")) and reads_both_kinds(KNOWN)
    assert words_of_one_kind(tuple("0123456789"), list("12"), [[0, 1]], [0], _again({})) == {}
    assert majority(list("a1-")) is None and majority(list("a1b")) == "letters" and majority(list("1.2")) == "digits"


def _column(reader: LineReader, probabilities: dict[str, float]) -> np.ndarray:
    """A column of log-probabilities (the blank first) giving these characters these shares, the blank the rest."""
    column = np.full(len(reader.labels) + 1, 1e-6)
    for char, probability in probabilities.items():
        column[reader.labels.index(char) + 1] = probability
    column[0] = max(1e-6, 1.0 - column[1:].sum())
    return np.log(column / column.sum())


def _line(reader: LineReader, text: str, columns: dict[int, dict[str, float]]) -> list[Read]:
    """``text`` as read: each character sure of itself unless ``columns`` gives its column's belief."""
    return [Read(char, columns.get(k, {char: 0.98}).get(char, 0.0), 10 * k, 10 * k + 8, [(char, 0.98)], False,
                 None if char == " " else _column(reader, columns.get(k, {char: 0.98})))
            for k, char in enumerate(text)]


@pytest.fixture(scope="module")
def lines() -> LineReader:
    return LineReader.load("lines")


def test_the_line_reader_reads_the_letters_of_a_number_as_digits(lines):
    page = _line(lines, "page 1O", {6: {"O": 0.6, "0": 0.35}})
    items = _line(lines, "I2 items", {0: {"I": 0.5, "1": 0.3, "l": 0.15}})
    read = lines._in_context([page, items], [0, 1], top_k=3)
    assert "".join(r.char for r in read[0]) == "page 10" and "".join(r.char for r in read[1]) == "12 items"
    zero = read[0][6]  # as only="digits" reads it there: the digits share what the blank leaves
    assert zero.confidence > 0.9 and zero.ranking[0][0] == "0" and not zero.unlike
    assert read[0][:5] == page[:5]  # the word of letters stays as it was read


def test_the_line_reader_leaves_words_of_mixed_kind_alone(lines):
    """What a demanding user writes: a bomber, a date, a paper size, a virus: read as written, they stay."""
    mixed = _line(lines, "B52 3rd A4 COVID19 7B", {
        0: {"B": 0.9, "8": 0.05},  # a clear B: digits hold 5% of the belief
        4: {"3": 0.9, "B": 0.05},  # "3rd": mostly letters, and the line reader makes no letters of digits
        8: {"A": 0.95, "4": 0.01},  # "A4": as many letters as digits, a clear A
        16: {"1": 0.55, "I": 0.4},  # "COVID19": a 1 that could be an I stays a 1
        19: {"7": 0.9, "T": 0.05}, 20: {"B": 0.93, "8": 0.02},
    })
    assert "".join(r.char for r in lines._in_context([mixed], [0], top_k=3)[0]) == "B52 3rd A4 COVID19 7B"
    # a lexicon word's letters and the marks put in by shape are not read again
    listed = [item._replace(column=None) for item in _line(lines, "1O", {})]
    assert lines._in_context([listed], [0], top_k=1) == [listed]
    # words part at marks and pieces: "1O" after a period is a word of its own, as is one in the next piece
    marked = _line(lines, "ab.1O", {4: {"O": 0.6, "0": 0.35}})
    assert "".join(r.char for r in lines._in_context([marked, _line(lines, "cd", {})], [0, 0], top_k=1)[0]) == "ab.10"


def _printed(text: str, font: str) -> Image.Image:
    image = Image.new("L", (900, 110), 255)
    ImageDraw.Draw(image).text((20, 20), text, font=ImageFont.truetype(str(matplotlib_fonts() / font), 48), fill=0)
    return image


@pytest.mark.parametrize("text, font", [("table 40", "DejaVuSansMono.ttf"), ("line 17", "DejaVuSansMono.ttf"),
                                        ("12 items", "DejaVuSans-Oblique.ttf"), ("gate 15", "DejaVuSans-Bold.ttf")])
def test_the_shipped_line_model_reads_printed_numbers_among_words(lines, text, font):
    """It read these "table 4O", "line L7", "I2 items", "gate L5": its training lines put digits beside letters rarely."""
    assert lines.read(_printed(text, font)).text == text


def test_words_of_mixed_kind_the_shipped_line_model_reads_right_stay_right(lines):
    for text, font in [("the 3rd day", "DejaVuSans.ttf"), ("B52 bomber", "DejaVuSansMono.ttf"), ("A4 paper", "DejaVuSansMono.ttf"),
                       ("A4 paper", "DejaVuSans-Oblique.ttf")]:
        assert lines.read(_printed(text, font)).text == text


def test_a_number_among_words_is_read_as_digits_with_the_lexicon_too(lines):
    """The lexicon leaves words with digits alone; the rule reads "I2" as "12" after it."""
    pytest.importorskip("wordfreq")
    pytest.importorskip("rapidfuzz")
    assert lines.read(_printed("12 items", "DejaVuSans-Oblique.ttf"), lexicon="english").text == "12 items"


def test_only_keeps_what_it_asks_for(lines):
    """With ``only`` the reader reads what it is asked (as Recognizer.read): no word is read again."""
    assert not any(char.isdigit() for char in lines.read(_printed("table 40", "DejaVuSansMono.ttf"), only="letters").text)


def test_the_character_reader_leaves_printed_words_of_mixed_kind_it_reads_right_alone():
    """Its rule (the shared one, both ways): a clear B stays in "B52", the r and d of "3rd" make no 3 a letter."""
    from inkread import Recognizer

    characters = Recognizer.load("characters")
    assert characters.read(_printed("B52 bomber", "DejaVuSans.ttf")).text == "B52 bomber"
    assert characters.read(_printed("the 3rd day", "DejaVuSans.ttf")).text == "the 3rd day"
    assert characters.read(_printed("A4 paper", "DejaVuSans.ttf")).text.lower() == "a4 paper"  # its P's case is a guess
