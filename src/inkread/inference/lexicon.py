"""Lexicon-constrained reading: each word a line model read is replaced by the lexicon word its ink fits best.

A CTC line model spells what it sees letter by letter ("eserve", "bild"); a word list knows which
spellings exist. For each word of a line (the frames between two spaces of the best path) the
nearest lexicon words by edit distance (``rapidfuzz``) are rescored by how likely the model finds
each over that word's frames (``ctc_log_likelihood``, the sum over every alignment), plus
``frequency_weight`` times the log of the word's frequency. The model's own reading competes as
an unknown word: it scores its own likelihood, plus the log frequency of the rarest lexicon word,
minus ``unknown_penalty``; when it wins, the word stays as read. A word of which every letter was
read at least ``sure`` (0.9) is kept as read, not looked up (a name the list lacks), and one of which
no letter was read (the model saw nothing there) is not looked up either.

Scoring is case-insensitive: a letter's probability is that of its two classes together. The
chosen word takes the case the model read (all capitals, or a capital first) over its spelling
in the list. Words holding a digit or a mark inside (other than ' and -) are left as read; marks
read before or after a word (a comma) are kept and the word between them is looked up.

A chosen word's characters all have one confidence: the word's share of the weight among the
words compared (the softmax of their scores, the unknown reading included), so an ambiguous
choice ("stock" or "stick") is uncertain even where the ink of each letter is clear.

    from inkread.inference.lexicon import load_lexicon
    lexicon = load_lexicon("english")        # or a word list: one word per line, optionally TAB count
    LineReader.load("lines").read("word.png", only="letters", lexicon=lexicon)
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import math
import numbers
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from inkread.errors import InkreadError, warn
from inkread.inference.ctc import ctc_alignment, ctc_log_likelihood
from inkread.labels import consistent_case

ENGLISH = "english"
INSTALL_HINT = 'pip install "inkread[words]"'
WORD_MARKS = "'-"  # may stand inside a listed word ("don't", "well-known")
_ENGLISH_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")  # wordfreq's list also holds numbers, emoji and symbols


@dataclass(frozen=True)
class LexiconSettings:
    """How the lexicon weighs against the ink (chosen on half the UNIPEN writers: benchmarks/read_words.py).

    frequency_weight: times the natural log of a word's frequency (0: every listed word alike).
    unknown_penalty: nats the model's own reading loses, as an unlisted word, against the rarest listed one.
    candidates: nearest words by edit distance that are rescored with the model.
    sure: a word whose every letter the model read at least this surely is kept as read, not looked up.
    """

    frequency_weight: float = 0.5
    unknown_penalty: float = 20.0  # the model misreads so often that its own reading rarely beats a listed word
    candidates: int = 200
    # ...but a name it read surely lost to a listed word all the same ("inkread", each letter at 0.9 or more,
    # became "iread"). Of the 197 UNIPEN words 6 are read this surely, the same with or without the lexicon.
    sure: float = 0.9


@dataclass(frozen=True, eq=False)
class Lexicon:
    """A word list: ``words`` in lower case, most frequent first; ``spellings`` as listed (capitals kept);
    ``log_frequency`` the natural log of each word's share of the counts."""

    name: str
    words: tuple[str, ...]
    spellings: tuple[str, ...]
    log_frequency: np.ndarray
    settings: LexiconSettings = LexiconSettings()

    @classmethod
    def from_counts(cls, name: str, counts: dict[str, float]) -> "Lexicon":
        """A lexicon of ``counts`` {spelling: count}; spellings that differ only in case are one word."""
        merged: dict[str, list] = {}
        for spelling, count in counts.items():
            entry = merged.setdefault(spelling.lower(), [spelling, 0.0])
            entry[1] += count
            if spelling.islower():  # listed in lower case once: not a name
                entry[0] = spelling
        if not merged:
            raise InkreadError(f"{name}: the word list holds no words")
        ranked = sorted(merged.items(), key=lambda item: -item[1][1])  # ties in edit distance go to the frequent word
        total = sum(count for _, (_, count) in ranked)
        return cls(name=name, words=tuple(word for word, _ in ranked), spellings=tuple(s for _, (s, _) in ranked),
                   log_frequency=np.log(np.array([count for _, (_, count) in ranked]) / total))

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Each word's position in ``words``."""
        return {word: k for k, word in enumerate(self.words)}

    def with_settings(self, **changes) -> "Lexicon":
        """The same words weighed with other ``LexiconSettings`` (e.g. ``frequency_weight=0``)."""
        return dataclasses.replace(self, settings=dataclasses.replace(self.settings, **changes))


def load_lexicon(spec: "str | os.PathLike | Lexicon | Iterable[str] | Mapping[str, float]") -> Lexicon:
    """A ``Lexicon`` for ``spec``: one already loaded, "english" (wordfreq), the path of a word list, or
    the words themselves (a list, a set, or a dict of word: count).

    Names and files are read once per process: later calls with the same name or unchanged file reuse it.
    """
    if importlib.util.find_spec("rapidfuzz") is None:  # it finds the nearest words: checked before any reading
        raise InkreadError(f"a lexicon needs the rapidfuzz package: {INSTALL_HINT}")
    if isinstance(spec, Lexicon):
        return spec
    if isinstance(spec, (Mapping, list, tuple, set, frozenset)):
        return _given_words(spec)
    if not isinstance(spec, (str, os.PathLike)):
        raise InkreadError(f"lexicon={spec!r:.60}: give {ENGLISH!r}, a word list's path, the words (a list or a dict "
                           "of word: count) or a Lexicon")
    if str(spec).strip().lower() == ENGLISH and not Path(spec).is_file():  # "English" too, unless a file is named so
        return english_lexicon()
    if not str(spec).strip():  # Path("") is the current folder: "a folder, not a file" said nothing of the mistake
        raise InkreadError(f"the lexicon is empty: give {ENGLISH!r} or a word list's path")
    path = Path(spec).expanduser()
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise InkreadError(f"lexicon {spec}: {what}; give {ENGLISH!r} or a word list (one word per line, "
                           "optionally a tab and its count)")
    stat = path.stat()
    return _cached_word_list(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def _given_words(words: "Iterable[str] | Mapping[str, float]") -> Lexicon:
    """A lexicon of words given in Python, checked as a word list's lines are."""
    counts: dict[str, float] = {}
    for word in words:
        if not isinstance(word, str) or not _one_word(word.strip()):
            raise InkreadError(f"lexicon: {word!r:.60} is not one word: give each word as a string, without spaces")
        count = words[word] if isinstance(words, Mapping) else 1.0
        if isinstance(count, bool) or not isinstance(count, numbers.Real) or not _positive(count):
            raise InkreadError(f"lexicon: the count {count!r:.30} of {word!r} is not a positive number")
        counts[word.strip()] = counts.get(word.strip(), 0.0) + float(count)
    return Lexicon.from_counts("the words given", counts)


@functools.lru_cache(maxsize=16)  # said once per word list and model, however many images are read with them
def warn_if_unspellable(lexicon: Lexicon, labels: tuple[str, ...]) -> None:
    """Warn when no word of ``lexicon`` can be spelled with ``labels`` (a list of French words for a model
    without accents): it would change nothing, silently."""
    known = {label.lower() for label in labels}
    if not any(all(char in known for char in word) for word in lexicon.words):
        warn(f"no word of the lexicon ({lexicon.name}) can be spelled with this model's characters, so it "
             "changes nothing; use words of its letters")


def words_available() -> bool:
    """Whether the packages of the english lexicon (``inkread[words]``) are installed."""
    return all(importlib.util.find_spec(package) is not None for package in ("wordfreq", "rapidfuzz"))


@functools.lru_cache(maxsize=1)
def english_lexicon() -> Lexicon:
    """English words and their frequencies from ``wordfreq`` (its "large" list: ~300,000 words)."""
    try:
        import wordfreq
    except ImportError:
        raise InkreadError(f"the english lexicon needs the wordfreq package: {INSTALL_HINT}") from None
    frequencies = wordfreq.get_frequency_dict("en", wordlist="large")
    return Lexicon.from_counts(ENGLISH, {word: f for word, f in frequencies.items() if _ENGLISH_WORD.fullmatch(word)})


@functools.lru_cache(maxsize=8)
def _cached_word_list(path: str, _mtime_ns: int, _size: int) -> Lexicon:
    return read_word_list(path)


def read_word_list(path: "str | os.PathLike") -> Lexicon:
    """Read a UTF-8 word list: one word per line, optionally a tab and its count (1 without); blank lines skipped.

    A line that is not a word (spaces inside it) or has a count that is not a positive number is a
    one-line ``InkreadError`` naming the file and line.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InkreadError(f"{path}: not UTF-8 text; save the word list as UTF-8") from None
    except OSError as error:
        raise InkreadError(f"{path}: cannot read the word list ({error.strerror})") from None
    counts: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            word, count = _word_list_line(line, f"{path} line {number}")
            counts[word] = counts.get(word, 0.0) + count
    return Lexicon.from_counts(str(path), counts)


def _word_list_line(line: str, where: str) -> tuple[str, float]:
    """One line's word and count; a one-line InkreadError saying what is wrong with it otherwise."""
    word, _, count_text = line.strip("\r\n").partition("\t")
    word = word.strip()
    if not _one_word(word) or "\t" in count_text:
        raise InkreadError(f"{where}: {line.strip()!r} is not one word: each line holds a word, optionally a tab "
                           "and its count")
    if not count_text.strip():
        return word, 1.0
    try:
        count = float(count_text)
    except ValueError:
        count = math.nan
    if not _positive(count):
        raise InkreadError(f"{where}: the count {count_text.strip()!r} of {word!r} is not a positive number")
    return word, count


def _one_word(word: str) -> bool:
    """A lexicon entry is one word: not empty, no spaces inside (a word list's and a Python list's alike)."""
    return bool(word) and not any(c.isspace() for c in word)


def _positive(count: float) -> bool:
    """A word's count is a finite positive number."""
    return math.isfinite(count) and count > 0


def fold_case(log_probs: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, dict[str, int]]:
    """``log_probs`` (blank first) with each letter's two cases as one class, and each folded character's class."""
    alphabet = list(dict.fromkeys(label.lower() for label in labels))
    merge = np.zeros((len(labels) + 1, len(alphabet) + 1))
    merge[0, 0] = 1.0
    for k, label in enumerate(labels):
        merge[k + 1, alphabet.index(label.lower()) + 1] = 1.0
    with np.errstate(divide="ignore"):  # a class ``only`` left out has probability 0: log -inf, as it should
        folded = np.log(np.exp(log_probs) @ merge)
    return folded, {char: k + 1 for k, char in enumerate(alphabet)}


# --- choosing words -------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """The lexicon word chosen for a word's frames: its spelling as listed, its confidence, and
    each character's first and last frame (counted from the word's first frame)."""

    spelling: str
    confidence: float
    spans: list[tuple[int, int]]


def nearest_words(query: str, lexicon: Lexicon, limit: int) -> list[int]:
    """The indices of the ``limit`` lexicon words nearest to ``query`` by edit distance, the frequent first on ties."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    return [index for _, _, index in process.extract(query, lexicon.words, scorer=Levenshtein.distance, limit=limit)]


def choose_word(folded: np.ndarray, classes: dict[str, int], reading: str, lexicon: Lexicon) -> Choice | None:
    """The lexicon word that best explains one word's case-folded log-probabilities, or None to keep ``reading``.

    ``reading`` (letters, ' and -) is what the model read there; it competes as an unknown word.
    """
    settings = lexicon.settings
    query = reading.lower()
    indices, targets = [], []
    for index in nearest_words(query, lexicon, settings.candidates):
        target = [classes.get(char) for char in lexicon.words[index]]
        if None not in target:  # a word with a character the model cannot write is never read
            indices.append(index)
            targets.append(target)
    # the reading as two listed words run together ("foxjumps": the model missed the space between them)
    index = lexicon.index if " " in classes else {}
    pairs = [(index[query[:cut]], index[query[cut:]]) for cut in range(1, len(query))
             if query[:cut] in index and query[cut:] in index]
    targets += [[classes[char] for char in f"{lexicon.words[left]} {lexicon.words[right]}"] for left, right in pairs]
    unknown_target = [classes[char] for char in query]
    likelihood = ctc_log_likelihood(folded, targets + [unknown_target])
    frequencies = [lexicon.log_frequency[k] for k in indices]
    frequencies += [lexicon.log_frequency[left] + lexicon.log_frequency[right] for left, right in pairs]
    spellings = [lexicon.spellings[k] for k in indices]
    spellings += [f"{lexicon.spellings[left]} {lexicon.spellings[right]}" for left, right in pairs]
    scores = likelihood[:-1] + settings.frequency_weight * np.array(frequencies)
    if query not in (lexicon.words[k] for k in indices):  # else the reading is already a listed candidate
        unknown = likelihood[-1] + settings.frequency_weight * lexicon.log_frequency[-1] - settings.unknown_penalty
        scores = np.append(scores, unknown)
    best = int(np.argmax(scores))  # never empty: the reading is a candidate, listed or not
    if best >= len(spellings) or not np.isfinite(scores[best]):
        return None
    share = np.exp(scores - scores[best])
    return Choice(spellings[best], float(1.0 / share.sum()), ctc_alignment(folded, targets[best]))


def lexicon_read(log_probs: np.ndarray, labels: Sequence[str], decoded: list[tuple[str, float, int, int]],
                 lexicon: Lexicon, allowed: set[str] | None = None) -> tuple[list[tuple[str, float, int, int]], list[bool]]:
    """A line's best-path reading (``ctc_greedy``'s (character, confidence, first, last) frames) with its
    words looked up in ``lexicon``; and, per character, whether it comes from the lexicon.

    ``allowed`` (the characters ``only`` allows) may turn a listed capital to lower case or back.
    """
    folded, classes = fold_case(log_probs, labels)
    out: list[tuple[str, float, int, int]] = []
    listed: list[bool] = []
    for piece, first, last in _words(decoded, len(log_probs)):
        head = _count_while(piece, lambda item: item[0] in _EDGE_MARKS)
        tail = _count_while(piece[head:][::-1], lambda item: item[0] in _EDGE_MARKS)
        core = piece[head:len(piece) - tail]
        text = "".join(char for char, *_ in core)
        choice = None
        if core and all(c.isalpha() or c in WORD_MARKS for c in text) and all(c.lower() in classes for c in text) \
                and min(confidence for _, confidence, *_ in core) < lexicon.settings.sure:
            start = piece[head - 1][3] + 1 if head else first
            end = piece[len(piece) - tail][2] - 1 if tail else last
            choice = choose_word(folded[start:end + 1], classes, text, lexicon)
        if choice is None:
            out += piece
            listed += [False] * len(piece)
            continue
        spelled = [(char, choice.confidence, start + a, start + b)
                   for char, (a, b) in zip(_cased(choice.spelling, text, allowed), choice.spans)]
        out += piece[:head] + spelled + piece[len(piece) - tail:]
        listed += [False] * head + [True] * len(spelled) + [False] * tail
    return out, listed


_EDGE_MARKS = "'-.,:"  # read before or after a word, kept as read (the line model's marks)


def _count_while(items: list, keep) -> int:
    count = 0
    while count < len(items) and keep(items[count]):
        count += 1
    return count


def _words(decoded: list[tuple[str, float, int, int]], frames: int):
    """Each run of characters between spaces (a space alone is a run too), with the frames it may use:
    from the frame after the previous run to the frame before the next one."""
    runs: list[list] = []
    for item in decoded:
        if item[0] == " " or not runs or runs[-1][-1][0] == " ":
            runs.append([item])
        else:
            runs[-1].append(item)
    for k, run in enumerate(runs):
        first = runs[k - 1][-1][3] + 1 if k else 0
        last = runs[k + 1][0][2] - 1 if k + 1 < len(runs) else frames - 1
        yield run, first, last


def _cased(spelling: str, reading: str, allowed: set[str] | None) -> str:
    """``spelling`` in the case the model read: all capitals, or a capital first; else as listed.

    The reading's case is first made consistent as it is without a lexicon: a round letter's case is
    a guess from its size ("ToE" is TOE written in capitals, not Toe)."""
    letters = [c for c in consistent_case(reading) if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        spelling = spelling.upper()
    elif letters and letters[0].isupper():
        spelling = spelling[0].upper() + spelling[1:]
    if allowed is None:
        return spelling
    return "".join(c.swapcase() if c not in allowed and c.swapcase() in allowed else c for c in spelling)
