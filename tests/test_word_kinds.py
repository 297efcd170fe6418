"""A word is all digits or all letters: the rule of ``Recognizer.read`` (inference/word_kinds.py); and numbers among
words as the shipped line model reads them, which learned them from its training lines instead."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from helpers import matplotlib_fonts
from inkread.inference.line_reader import LineReader
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


def test_a_word_split_evenly_takes_its_lines_kind():
    labels = list("1O") + list("COVID19") + list("he11o")
    words, lines = [[0, 1], [2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13]], [0, 0, 0]
    sure = {i: 0.5 for i in range(len(labels))}
    # a tie takes the line's kind (letters), and words of letters read digits as letters
    both = words_of_one_kind(KNOWN, labels, words, lines, _again(sure))
    assert both == {0: "letters-0", 7: "letters-7", 8: "letters-8", 11: "letters-11", 12: "letters-12"}


def test_a_model_of_one_kind_has_no_words_to_make_of_one_kind():
    assert not reads_both_kinds(tuple("0123456789")) and reads_both_kinds(KNOWN)
    assert words_of_one_kind(tuple("0123456789"), list("12"), [[0, 1]], [0], _again({})) == {}
    assert majority(list("a1-")) is None and majority(list("a1b")) == "letters" and majority(list("1.2")) == "digits"


def _printed(text: str, font: str) -> Image.Image:
    image = Image.new("L", (900, 110), 255)
    ImageDraw.Draw(image).text((20, 20), text, font=ImageFont.truetype(str(matplotlib_fonts() / font), 48), fill=0)
    return image


@pytest.fixture(scope="module")
def lines() -> LineReader:
    return LineReader.load("lines")


@pytest.mark.parametrize("text, font", [("table 40", "DejaVuSansMono.ttf"), ("line 17", "DejaVuSansMono.ttf"),
                                        ("12 items", "DejaVuSans-Oblique.ttf"), ("gate 15", "DejaVuSans-Bold.ttf")])
def test_the_shipped_line_model_reads_printed_numbers_among_words(lines, text, font):
    """It read these "table 4O", "line L7", "I2 items", "gate L5" while its training lines put digits beside letters
    rarely (a rule read the letters of a word mostly digits again as digits); now it has learned them."""
    assert lines.read(_printed(text, font)).text == text


def test_words_of_mixed_kind_the_shipped_line_model_reads_right_stay_right(lines):
    for text, font in [("the 3rd day", "DejaVuSans.ttf"), ("B52 bomber", "DejaVuSansMono.ttf"), ("A4 paper", "DejaVuSansMono.ttf"),
                       ("A4 paper", "DejaVuSans-Oblique.ttf")]:
        assert lines.read(_printed(text, font)).text == text


def test_a_number_among_words_is_read_as_digits_with_the_lexicon_too(lines):
    """The lexicon leaves words with digits alone (it would make "12" a word of letters)."""
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
