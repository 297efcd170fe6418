"""Lexicon-constrained reading (``inference.lexicon``): CTC scoring, word choice, word lists, the CLI flag."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import render, shared_subfolder
from inkread.errors import InkreadError
from inkread.inference import lexicon as lexicon_module
from inkread.inference.ctc import ctc_alignment, ctc_greedy, ctc_log_likelihood
from inkread.inference.lexicon import Lexicon, lexicon_read, load_lexicon, read_word_list
from inkread.inference.line_reader import LineReader
from test_cli_predict import inkread, one_line_error

LETTERS = ("a", "c", "o", "t", "C", "T")  # a model's labels: blank is class 0, these 1..6


def log_probs_of(rows: list[dict[str, float]], labels=LETTERS, floor: float = 0.01) -> np.ndarray:
    """Frames of log-probabilities: each row {label or "" (blank): probability}, the rest shared by the other classes."""
    out = np.full((len(rows), len(labels) + 1), floor)
    for t, row in enumerate(rows):
        for label, p in row.items():
            out[t, 0 if label == "" else labels.index(label) + 1] = p
    return np.log(out / out.sum(axis=1, keepdims=True))


def brute_force_ctc(log_probs: np.ndarray, target: list[int]) -> float:
    """The log of the summed probability of every frame-by-frame path that collapses to ``target``."""
    total = 0.0
    for path in itertools.product(range(log_probs.shape[1]), repeat=len(log_probs)):
        collapsed = [c for k, c in enumerate(path) if c != 0 and (k == 0 or c != path[k - 1])]
        if collapsed == target:
            total += float(np.exp(sum(log_probs[t, c] for t, c in enumerate(path))))
    return float(np.log(total)) if total else -np.inf


def test_the_ctc_forward_pass_sums_every_alignment():
    rng = np.random.default_rng(0)
    raw = rng.random((5, 3)) + 0.05
    log_probs = np.log(raw / raw.sum(axis=1, keepdims=True))
    targets = [[1], [2], [1, 2], [1, 1], [2, 1, 2], [1, 1, 1]]  # doubled letters need a blank between
    found = ctc_log_likelihood(log_probs, targets)
    assert found == pytest.approx([brute_force_ctc(log_probs, target) for target in targets], rel=1e-9)


def test_a_target_longer_than_the_frames_allow_is_impossible():
    log_probs = np.log(np.full((2, 3), 1 / 3))
    assert ctc_log_likelihood(log_probs, [[1, 1]])[0] == -np.inf  # needs three frames: 1, blank, 1


def test_the_alignment_gives_each_character_its_frames():
    log_probs = log_probs_of([{"c": 0.9}, {"c": 0.9}, {"": 0.9}, {"a": 0.9}, {"": 0.9}, {"t": 0.9}])
    assert ctc_alignment(log_probs, [2, 1, 4]) == [(0, 1), (3, 3), (5, 5)]


# "cot" as the best path, but "a" is a close second in the middle frame
NEAR_MISS = [{"c": 0.9}, {"": 0.9}, {"o": 0.5, "a": 0.4}, {"": 0.9}, {"t": 0.9}]


def read_with(rows, lexicon, labels=LETTERS, allowed=None, floor=0.01) -> tuple[str, list[bool], list[float]]:
    log_probs = log_probs_of(rows, labels, floor)
    decoded, listed = lexicon_read(log_probs, labels, ctc_greedy(log_probs, labels), lexicon, allowed)
    return "".join(char for char, *_ in decoded), listed, [confidence for _, confidence, *_ in decoded]


def test_a_listed_word_wins_over_a_near_miss_reading():
    lexicon = Lexicon.from_counts("test", {"cat": 10, "tact": 1})
    assert "".join(c for c, *_ in ctc_greedy(log_probs_of(NEAR_MISS), LETTERS)) == "cot"
    text, listed, confidences = read_with(NEAR_MISS, lexicon)
    assert text == "cat" and listed == [True, True, True]
    assert 0.5 < confidences[0] == confidences[1] == confidences[2] <= 1  # the word's share among the compared


def test_the_chosen_word_takes_the_case_the_model_read():
    capital = [{"C": 0.9}, *NEAR_MISS[1:]]
    assert read_with(capital, Lexicon.from_counts("test", {"cat": 1}))[0] == "Cat"
    assert read_with(capital, Lexicon.from_counts("test", {"cat": 1}), allowed=set("acot"))[0] == "cat"  # only= lower


def test_a_word_in_capitals_stays_in_capitals_when_its_round_letters_were_read_small():
    """TOE written in capitals is read "ToE" (an O is an o made large: its case is a guess); without a
    lexicon it reads TOE (``consistent_case``), and with one it read "Toe"."""
    assert lexicon_module._cased("toe", "ToE", None) == "TOE"
    assert lexicon_module._cased("toe", "Toe", None) == "Toe"  # a capital first letter alone: a name, a sentence's start
    assert lexicon_module._cased("toe", "tOe", None) == "toe"  # a lower-case letter beside it says small


def test_a_sure_reading_far_from_every_listed_word_is_kept():
    sure = [{"t": 0.99}, {"": 0.99}, {"o": 0.99}, {"": 0.99}, {"o": 0.99}, {"": 0.99}, {"t": 0.99}]
    listed_word = Lexicon.from_counts("test", {"cat": 1})
    text, listed, _ = read_with(sure, listed_word, floor=1e-4)  # "cat": ~27 nats less likely, more than the penalty
    assert text == "toot" and not any(listed)
    never_sure = listed_word.with_settings(unknown_penalty=math.inf, sure=math.inf)
    assert read_with(sure, never_sure, floor=1e-4)[0] == "cat"


def test_a_word_read_surely_in_every_letter_is_kept_though_a_listed_word_is_near():
    """The unknown-word penalty let a listed word beat a name the model read surely ("inkread" at 0.9 or
    more a letter became "iread"); a reading that sure is not looked up."""
    name = [{"c": 0.95}, {"": 0.9}, {"o": 0.95}, {"": 0.9}, {"t": 0.95}]  # "cot", each letter surely
    text, listed, _ = read_with(name, Lexicon.from_counts("test", {"cat": 10}))
    assert text == "cot" and not any(listed)
    unsure = [{"c": 0.95}, {"": 0.9}, {"o": 0.5, "a": 0.1}, {"": 0.9}, {"t": 0.95}]  # one letter under 0.9: looked up
    assert read_with(unsure, Lexicon.from_counts("test", {"cat": 10}))[0] == "cat"


def test_two_listed_words_run_together_are_read_as_both():
    """A missed space made one word of two ("foxjumps"), which the list then replaced by the one nearest
    ("jumps"): a word of the reading lost for good."""
    labels = (*LETTERS, " ")
    run_together = [{"c": 0.9}, {"": 0.9}, {"a": 0.6, "o": 0.3}, {"": 0.9}, {"t": 0.9}, {"": 0.8, " ": 0.15},
                    {"": 0.8, " ": 0.15}, {"t": 0.9}, {"": 0.9}, {"o": 0.9}]  # not sure of every letter: looked up
    lexicon = Lexicon.from_counts("test", {"cat": 5, "to": 5, "tact": 1})
    text, listed, _ = read_with(run_together, lexicon, labels=labels)
    assert text == "cat to" and all(listed)
    assert read_with(run_together, Lexicon.from_counts("test", {"cat": 5, "tact": 1}), labels=labels)[0] != "cat to"


def test_marks_around_a_word_stay_and_words_with_digits_are_left_alone():
    labels = (*LETTERS, "1", ",", " ")
    comma = [*NEAR_MISS, {",": 0.9}, {" ": 0.9}, {"c": 0.9}, {"": 0.9}, {"1": 0.9}, {"": 0.9}, {"t": 0.9}]
    text, listed, _ = read_with(comma, Lexicon.from_counts("test", {"cat": 1}), labels)
    assert text == "cat, c1t" and listed == [True] * 3 + [False] * 5


def test_a_word_list_with_counts(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("cat\t2\n\nDelmenhorst\ndog\t6\nCat\t1\n", encoding="utf-8")
    lexicon = read_word_list(path)
    assert lexicon.words == ("dog", "cat", "delmenhorst")  # most frequent first; cases merged
    assert lexicon.spellings == ("dog", "cat", "Delmenhorst")  # a name keeps its capital
    assert np.exp(lexicon.log_frequency) == pytest.approx([0.6, 0.3, 0.1])
    assert load_lexicon(path) is load_lexicon(str(path))  # read once


@pytest.mark.parametrize("content, message", [
    ("cat\nice cream\n", "line 2: 'ice cream' is not one word"),
    ("cat\t3\ndog\tmany\n", "line 2: the count 'many' of 'dog' is not a positive number"),
    ("cat\t-1\n", "line 1: the count '-1' of 'cat' is not a positive number"),
    ("\n\n", "holds no words"),
])
def test_a_bad_word_list_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "words.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InkreadError, match=message) as raised:
        load_lexicon(path)
    assert "\n" not in str(raised.value)


def test_words_given_in_python_are_a_lexicon_and_checked_as_a_file_is():
    listed = load_lexicon(["cat", "dog", "Cat"])
    assert listed.words == ("cat", "dog") and np.exp(listed.log_frequency) == pytest.approx([2 / 3, 1 / 3])
    assert load_lexicon({"cat": 1, "dog": 3}).words == ("dog", "cat")
    for bad, message in ((["ice cream"], "'ice cream' is not one word"), ([7], "7 is not one word"),
                         ({"cat": 0}, "the count 0 of 'cat' is not a positive number"), ([], "holds no words"),
                         (42, "lexicon=42: give 'english', a word list's path, the words")):
        with pytest.raises(InkreadError, match=message):
            load_lexicon(bad)
    word = Path(__file__).resolve().parents[1] / "samples" / "words" / "unipen-reserve.png"
    assert LineReader.load("lines").read(word).text == "eserve"
    assert LineReader.load("lines").read(word, lexicon=["reserve", "deserve"]).text == "reserve"


def test_a_lexicon_the_model_cannot_spell_is_said_to_change_nothing(capsys):
    word = Path(__file__).resolve().parents[1] / "samples" / "words" / "unipen-reserve.png"
    assert LineReader.load("lines").read(word, lexicon=["r\u00e9serve", "fa\u00e7ade"]).text == "eserve"
    assert "no word of the lexicon (the words given) can be spelled with this model's characters" in capsys.readouterr().err
    LineReader.load("lines").read(word, lexicon=["reserve", "fa\u00e7ade"])
    assert capsys.readouterr().err == ""


def test_a_word_list_that_is_not_utf8_or_missing(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("café\n".encode("latin-1"))
    with pytest.raises(InkreadError, match="not UTF-8"):
        load_lexicon(path)
    with pytest.raises(InkreadError, match="no such file"):
        load_lexicon(tmp_path / "missing.txt")
    with pytest.raises(InkreadError, match="a folder, not a file"):
        load_lexicon(tmp_path)
    for empty in ("", "  "):  # --lexicon '' was "lexicon : a folder, not a file" (Path("") is the current folder)
        with pytest.raises(InkreadError, match="^the lexicon is empty: give 'english' or a word list's path$"):
            load_lexicon(empty)


def test_english_without_wordfreq_says_what_to_install(monkeypatch):
    lexicon_module.english_lexicon.cache_clear()
    monkeypatch.setitem(sys.modules, "wordfreq", None)  # import wordfreq now raises ImportError
    try:
        with pytest.raises(InkreadError, match=r'pip install "inkread\[words\]"'):
            load_lexicon("english")
    finally:
        lexicon_module.english_lexicon.cache_clear()


def test_the_english_lexicon_holds_words_most_frequent_first():
    lexicon = load_lexicon("english")
    assert lexicon.words[0] == "the" and "reserve" in lexicon.words[:50000]
    assert all(word.isalpha() or "'" in word or "-" in word for word in lexicon.words[:1000])
    assert load_lexicon("English") is load_lexicon(" ENGLISH ") is lexicon  # "no such file" was all English got


def test_a_word_list_file_named_english_is_read_as_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("English").write_text("cat\ndog\n", encoding="utf-8")
    assert load_lexicon("English").words == ("cat", "dog")


@pytest.fixture(scope="module")
def lines() -> LineReader:
    return LineReader.load("lines")


def test_the_cli_reads_with_a_word_list(tmp_path):
    image = tmp_path / "letter.png"
    render("letter", size=(900, 260), font_size=120).save(image)
    plain = inkread("read", image, "--model", "lines", "--only", "letters", "--format", "csv")
    assert plain.returncode == 0 and plain.stdout.splitlines()[1].split(",")[3] != "letter"  # a near miss
    words = tmp_path / "words.txt"
    words.write_text("letter\t20\nlitter\t2\nlatter\t5\n", encoding="utf-8")
    result = inkread("read", image, "--model", "lines", "--only", "letters", "--lexicon", words, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split(",")[3] == "letter"


@pytest.mark.parametrize("model, listed, message", [
    ("characters", "cat\n", "--lexicon looks up the words a line model reads: use it with --model lines"),
    ("lines", "ice cream\n", "line 1: 'ice cream' is not one word"),
])
def test_cli_lexicon_errors_are_one_line_exit_2(tmp_path, model, listed, message):
    image = tmp_path / "word.png"
    render("cat", size=(600, 260), font_size=120).save(image)
    words = tmp_path / "words.txt"
    words.write_text(listed, encoding="utf-8")
    result = inkread("read", image, "--model", *model.split(), "--lexicon", words)
    assert result.returncode == 2
    assert message in one_line_error(result)


def test_a_real_unipen_word_is_read_right_with_the_english_lexicon(lines):
    image = shared_subfolder("unipen_words") / "word_00004.png"  # "reserve", written on a tablet
    assert lines.read(image, only="letters").text.lower() != "reserve"  # "eserve"
    result = lines.read(image, only="letters", lexicon="english")
    assert result.text.lower() == "reserve"
    assert 0 < result.confidence <= 1 and [c.label for c in result.characters] == list(result.text)


def test_a_lexicon_beside_only_without_letters_keeps_digits_as_read_and_the_cli_says_so(tmp_path):
    """The web page's "Digits" with "English" words is this: not an error, but the word list changes nothing."""
    image = tmp_path / "number.png"
    render("2026", size=(700, 260), font_size=120).save(image)
    words = tmp_path / "words.txt"
    words.write_text("zozo\n", encoding="utf-8")
    plain = inkread("read", image, "--model", "lines", "--only", "digits", "--format", "csv")
    looked_up = inkread("read", image, "--model", "lines", "--only", "digits", "--lexicon", words, "--format", "csv")
    assert looked_up.returncode == plain.returncode == 0, looked_up.stderr
    assert looked_up.stdout == plain.stdout and plain.stdout.splitlines()[1].split(",")[3]  # digits read, kept
    assert looked_up.stderr.strip() == ("inkread: warning: --lexicon looks up words of letters, and --only digits "
                                        "allows none: what is read is kept as read")
