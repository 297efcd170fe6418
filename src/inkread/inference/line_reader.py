"""``LineReader``: read whole written lines with a line model (LineNet, CTC) through ONNX Runtime.

``Recognizer.read`` cuts a line into characters and reads each alone; joined-up writing, letters
that touch or overlap, and strokes that reach into a neighbour make that cutting fail. The line
reader finds the lines the same way (``inkread.imaging.segment``) but reads each line whole, and
answers with the same ``ReadResult``, so everything that shows or serves ``read`` results works
with either.

    from inkread.inference.line_reader import LineReader
    reader = LineReader.load("lines")
    print(reader.read("word.png").text)
    print(reader.read("word.png", only="letters", lexicon="english").text)  # words looked up: inference.lexicon

A character's box is the ink between halfway to its neighbours on either side (``ink_boxes``).
No PyTorch here: numpy, Pillow and ONNX Runtime only. One LineReader may be shared by threads.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple, Optional, Sequence

import numpy as np

from inkread.errors import InkreadError, InputImageError
from inkread.imaging.decode import load_image_scaled, replayable
from inkread.imaging.line import MARGIN, MAX_ASPECT, leveled, line_slope, normalize_line_mapped, pad_lines, too_long
from inkread.imaging.punctuation import MARKS
from inkread.imaging.segment import segment
from inkread.inference.bundle_format import LINE_ARCH, ModelMeta
from inkread.inference.closer import read_closer
from inkread.inference.ctc import ctc_greedy
from inkread.inference.onnx_model import load_bundle, resolve_bundle
from inkread.inference.recognizer import ALLOWED_SHARE_BELOW, UNCERTAIN_BELOW, scale_box  # the same bars and boxes for both readers
from inkread.inference.restrict import may_answer, restriction
from inkread.inference.results import CharacterResult, ReadResult, check_top_k
from inkread.labels import LINE_MARKS, consistent_case

if TYPE_CHECKING:
    from inkread.inference.lexicon import Lexicon

REACH = 0.9  # a long line is read in pieces this share of MAX_ASPECT wide at most: the glyphs' boxes
             # measure the piece a little differently from normalize_line's ink box
LINE_BATCH = 16  # lines per ONNX Runtime run; sorted by width first, so little of each run is padding...
# ...and at most this many normalized columns in a run (lines x the widest): ONNX Runtime keeps the memory of its
# largest run, and 16 lines across a page (1,900 columns each) took 340 MB
LINE_BATCH_COLUMNS = 16 * 512
# Where the segmenter measured a word gap in the ink, a space is taken as this many times likelier than
# the model says: it learned its training lines' spacing, and ran "the cat sat" together with gaps of two
# letters' heights, though it gave a space 10-43% there (and under 3% in the gaps inside words).
SPACE_IN_WORD_GAP = 10.0
# A line the segmenter saw no word gap in is levelled (``_level``) if it holds this many glyphs: UNIPEN's
# joined-up words are at most 11 pieces.
LEVEL_ONE_WORD_FROM = 12


class Read(NamedTuple):
    """One character of a line as read; ``left``/``right`` are columns of the line's ink map."""

    char: str
    confidence: float
    left: int
    right: int
    # [(label, probability), ...] best first, from the model (a mark or space put in by shape has none:
    # it is its own only candidate)
    ranking: Optional[list] = None
    # with ``only``: the allowed characters held less than ALLOWED_SHARE_BELOW of the model's belief where
    # it read this one (letters asked of a 7: the best letter is given, flagged), as in Recognizer
    unlike: bool = False


class LineReader:
    """A line model bundle (model.json ``arch`` ``LINE_ARCH``) in ONNX Runtime, and the reading around it."""

    def __init__(self, name_or_path: str | os.PathLike = "lines", threads: int | None = None):
        self.folder, self.meta, _, self.session, self.input_name = load_bundle(name_or_path, 1 if threads is None else threads, line_model=True)
        self.labels: tuple[str, ...] = tuple(self.meta.labels)

    @classmethod
    def load(cls, name_or_path: str | os.PathLike = "lines", *, threads: int | None = None) -> "LineReader":
        """Load "lines" (shipped) or a line model bundle folder / run folder."""
        return cls(name_or_path, threads)

    @property
    def name(self) -> str:
        return self.meta.name

    def __repr__(self) -> str:
        return f"LineReader({self.name!r}, {len(self.labels)} characters)"

    def read(self, image: Any, only: str | None = None, top_k: int = 3,
             lexicon: "str | os.PathLike | Lexicon | None" = None) -> ReadResult:
        """Read every line of ``image`` (a path, bytes, PIL image or array); bad images raise ``InputImageError``.

        ``only`` restricts the characters as for ``Recognizer.read``: the space and punctuation
        always stay allowed, as ``Recognizer.read`` always reports punctuation. Each character's ``top_k``
        candidates are the model's best classes at the column where it read that character most surely.
        ``lexicon`` ("english", a word list's path, or a loaded ``Lexicon``; read once per process)
        replaces each word read by the listed word that fits its ink best (``inference.lexicon``);
        a listed word's characters have the word's confidence and are their own only candidate.
        """
        check_top_k(top_k)
        if only is not None:
            restriction(self.labels, only)  # a bad ``only`` fails before any work
        if lexicon is not None:
            from inkread.inference.lexicon import load_lexicon, warn_if_unspellable

            lexicon = load_lexicon(lexicon)  # a bad lexicon fails before any work too
            warn_if_unspellable(lexicon, self.labels)
        source = replayable(image)
        ink, scale = load_image_scaled(source)
        result = self._read_ink(ink, scale, only, top_k, lexicon)
        # small writing in a large image: read again, closer (``inference.closer``)
        return read_closer(source, result, scale, ink, lambda ink, scale: self._read_ink(ink, scale, only, top_k, lexicon))

    def _read_ink(self, ink: np.ndarray, scale: float, only: str | None, top_k: int, lexicon: "Lexicon | None") -> ReadResult:
        """``read`` of an ink map; ``scale`` takes its pixels to the image's."""
        found = segment(ink)
        # (line number, glyphs): a line too long for the model at once is read in pieces
        pieces = [(number, piece) for number, glyphs in enumerate(found) for piece in within_reach(glyphs)]
        lines = [line_ink(glyphs) for _, glyphs in pieces]
        # what is read: each line levelled if it slopes (its columns stay: the boxes come from its own ink)
        to_read = [_level(own, glyphs) for (own, _), (_, glyphs) in zip(lines, pieces)]
        # A line of marks alone (a dash on its own) has no letters for the model to read: not run; nor is
        # ink still too flat for it once cut to reach (a stroke across the page, a rule left in dashes:
        # within_reach keeps writing far below the limit).
        worded = [k for k, (_, glyphs) in enumerate(pieces) if any(g.mark is None for g in glyphs) and not too_long(to_read[k])]
        # the segmenter's word gaps in each piece, in columns of its ink map
        gaps = [[(before.box[2] - x0, after.box[0] - x0) for before, after in zip(glyphs, glyphs[1:]) if after.space_before]
                for (_, (x0, _, _, _)), (_, glyphs) in zip(lines, pieces)]
        reads = dict(zip(worded, self.read_lines([to_read[k] for k in worded], only, top_k, lexicon, [gaps[k] for k in worded])))
        read_pieces = [with_word_gaps(with_marks(reads.get(k, []), [(g.mark, g.box[0] - x0, g.box[2] - x0) for g in glyphs if g.mark]),
                                      gaps[k]) for k, ((_, (x0, _, _, _)), (_, glyphs)) in enumerate(zip(lines, pieces))]
        characters: list[CharacterResult] = []
        for k, ((own, (x0, y0, _, _)), (number, glyphs), read) in enumerate(zip(lines, pieces, read_pieces)):
            continued = k > 0 and pieces[k - 1][0] == number  # a piece after the first of its line
            characters += line_characters(read, own, (x0, y0), scale, number, space_before=continued and glyphs[0].space_before)
        return ReadResult.of(characters, ink_found=bool(found))

    def read_lines(self, inks: Sequence[np.ndarray], only: str | None = None, top_k: int = 1,
                   lexicon: "Lexicon | None" = None, word_gaps: Sequence[Sequence[tuple[int, int]]] | None = None) -> list[list[Read]]:
        """Read ink maps that hold one line each: a ``Read`` per character read, with its ``top_k`` ranking.

        ``left``/``right`` are columns of that ink map; spaces between words come as " ".
        With a loaded ``lexicon``, words are looked up in it (see ``read``). ``word_gaps``: per ink map,
        the (left, right) columns of the word gaps measured in its ink, where a space is likelier
        (``SPACE_IN_WORD_GAP``).
        """
        prepared = [_normalized_with_geometry(ink) for ink in inks]
        order = sorted(range(len(prepared)), key=lambda i: prepared[i][0].shape[1])
        read: dict[int, list[Read]] = {}
        for chunk in line_batches(order, [line.shape[1] for line, _, _ in prepared]):
            for i, log_probs in zip(chunk, self._run([prepared[i][0] for i in chunk])):
                line, line_scale, first_column = prepared[i]
                log_probs = log_probs[:line.shape[1] // 2]
                if word_gaps is not None and word_gaps[i]:
                    log_probs = self._spaced(log_probs, word_gaps[i], line_scale, first_column)
                read[i] = self._decode(log_probs, only, line_scale, first_column, top_k, lexicon)
        return [read[i] for i in range(len(prepared))]

    def _run(self, lines: list[np.ndarray]) -> np.ndarray:
        return self.session.run(None, {self.input_name: pad_lines(lines)})[0]

    def _spaced(self, log_probs: np.ndarray, gaps: Sequence[tuple[int, int]], scale: float, first_column: int) -> np.ndarray:
        """``log_probs`` with the space ``SPACE_IN_WORD_GAP`` times likelier in the columns of ``gaps`` (ink map
        columns), each such column's probabilities renormalized."""
        if " " not in self.labels:
            return log_probs
        # a model column covers 2 normalized pixels; ink column x is normalized column MARGIN + (x - first) * scale
        centres = (2 * np.arange(len(log_probs)) + 1 - MARGIN) / scale + first_column
        inside = np.zeros(len(log_probs), dtype=bool)
        for left, right in gaps:
            inside |= (centres >= left) & (centres < right)
        if not inside.any():
            return log_probs
        spaced = log_probs.copy()
        spaced[inside, self.labels.index(" ") + 1] += np.log(SPACE_IN_WORD_GAP)
        spaced[inside] -= np.logaddexp.reduce(spaced[inside], axis=1, keepdims=True)
        return spaced

    def _decode(self, log_probs: np.ndarray, only: str | None, scale: float, first_column: int, top_k: int = 1,
                lexicon: "Lexicon | None" = None) -> list[Read]:
        restricted = None if only is None else restriction(self.labels, only)
        allowed = None if restricted is None else set(restricted.names)
        allowed_share = None  # per column: the allowed characters' share of the model's belief in a character
        unrestricted = log_probs
        if restricted is not None and not restricted.everything:
            log_probs, allowed_share = _restricted(log_probs, self.labels, restricted.indices)
        # One allowed character is always the answer: renormalized it would be sure of anything. As in
        # Recognizer, its probability before the restriction says how much it looks the part.
        sole = self.labels[restricted.indices[0]] if restricted is not None and len(restricted.indices) == 1 else None

        def ink_column(column: int) -> int:  # a model column (2 normalized pixels) -> the ink map's column
            return max(0, round((2 * column - MARGIN) / scale + first_column))

        def surest_column(char: str, first: int, last: int) -> int:  # where it was read most surely
            return first + int(np.argmax(log_probs[first:last + 1, self.labels.index(char) + 1])) if char in self.labels else first

        def ranking(column: int, char: str, merged_into: str | None) -> list[tuple[str, float]]:
            probabilities = np.exp(log_probs[column, 1:])  # not the blank
            if sole is not None:
                probabilities[self.labels.index(sole)] = np.exp(unrestricted[column, self.labels.index(sole) + 1])
            if merged_into is not None:  # its word's case: the belief in either case is the belief in this letter
                probabilities[self.labels.index(merged_into)] += probabilities[self.labels.index(char)]
                probabilities[self.labels.index(char)] = 0.0
            # under only=, a character's runners-up are allowed characters: the marks pass the restriction
            # only to be read where they are ("A" with "," and ":" as its candidates was only="ACGT")
            left_out = " " if allowed is None or char in LINE_MARKS else " " + "".join(m for m in LINE_MARKS if m not in allowed)
            best = [k for k in np.argsort(-probabilities, kind="stable") if self.labels[k] not in left_out and probabilities[k] > 0]
            return [(self.labels[k], float(probabilities[k])) for k in best[:top_k]]

        def character(char: str, confidence: float, first: int, last: int, from_lexicon: bool, cased: str) -> Read:
            """The Read of a decoded character, in the case ``cased`` its word gives it."""
            column = surest_column(char, first, last)
            if from_lexicon:
                return Read(cased, confidence, ink_column(first), ink_column(last + 1), [(cased, confidence)])
            if char == sole:
                confidence = float(np.exp(unrestricted[column, self.labels.index(sole) + 1]))
            merged_into = cased if cased != char and cased in self.labels else None
            if merged_into is not None:  # as the characters model, whose look-alike cases are one class: confident of either
                confidence = float(np.exp(np.logaddexp(log_probs[column, self.labels.index(char) + 1],
                                                       log_probs[column, self.labels.index(cased) + 1])))
            return Read(cased, confidence, ink_column(first), ink_column(last + 1), ranking(column, char, merged_into),
                        allowed_share is not None and char != " " and bool(allowed_share[column] < ALLOWED_SHARE_BELOW))

        decoded = ctc_greedy(log_probs, self.labels)
        listed = [False] * len(decoded)
        if lexicon is not None:
            from inkread.inference.lexicon import lexicon_read

            decoded, listed = lexicon_read(log_probs, self.labels, decoded, lexicon, allowed)
        kept = list(zip(decoded, listed))
        while kept and kept[0][0][0] == " ":  # spaces before the first or after the last character mean nothing
            kept.pop(0)
        while kept and kept[-1][0][0] == " ":
            kept.pop()
        labels = consistent_case("".join(char for (char, *_), _ in kept))
        return [character(*decoded_char, from_lexicon,
                          label if label == decoded_char[0] or may_answer(only, label) else decoded_char[0])
                for label, (decoded_char, from_lexicon) in zip(labels, kept)]


def _restricted(log_probs: np.ndarray, labels: tuple[str, ...], allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A line's (T, classes) log-probabilities with only the ``allowed`` label indices (and, as in
    ``Recognizer``, the space and the marks) left, and per column the share of the model's belief in a
    character that those held.

    The blank, the space and the marks keep their probabilities, and the allowed characters share the
    rest in their proportions: the model still says where a character is, the allowed ones say which.
    (Renormalized with the blank, the blank won every column of letters asked of digits: nothing was read.)
    """
    # A probability of exactly 0 (log -inf) would turn the sums below into inf - inf = NaN; e^-1e4 is 0 all the same.
    log_probs = np.maximum(log_probs, -1e4)
    always = [labels.index(c) + 1 for c in " " + LINE_MARKS if c in labels]
    chosen = np.setdiff1d(allowed + 1, always)  # column 0 is the blank; a mark named in only= is kept as a mark
    if chosen.size == 0:  # only marks asked for: they pass anyway
        return log_probs, np.ones(len(log_probs))
    in_character = np.logaddexp.reduce(log_probs[:, 1:], axis=1)  # log P(not the blank)
    share = np.exp(np.logaddexp.reduce(log_probs[:, [*chosen, *always]], axis=1) - in_character)
    in_others = np.logaddexp.reduce(log_probs[:, [0, *always]], axis=1)
    with np.errstate(divide="ignore"):  # a column sure of the blank, space or marks: nothing to share
        to_share = np.log1p(-np.minimum(np.exp(in_others), 1.0))
    restricted = np.full_like(log_probs, -np.inf)
    restricted[:, [0, *always]] = log_probs[:, [0, *always]]
    restricted[:, chosen] = log_probs[:, chosen] + (to_share - np.logaddexp.reduce(log_probs[:, chosen], axis=1))[:, None]
    return restricted, share


def lexicon_applies(labels: tuple[str, ...], only: str | None) -> bool:
    """Whether a lexicon can change what is read under ``only``: its words are letters, and a reading
    without letters (``only="digits"``) is kept as read."""
    return only is None or any(name.isalpha() for name in restriction(labels, only).names)


def ink_boxes(read: list[Read], ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """A box (x0, y0, x1, y1) around each character's ink in the line's ink map.

    CTC marks a character in one or two columns, not across its width, so each character is given
    the columns from halfway to its left neighbour to halfway to its right one, and its box is the
    ink within them (the columns where the model read it, full height, if there is none).
    """
    height, width = ink.shape
    centres = [(a + b) / 2 for _, _, a, b, *_ in read]
    inked = ink > 0.05 * float(ink.max(initial=0.0))
    boxes = []
    for k, (_, _, a, b, *_) in enumerate(read):
        lo = 0 if k == 0 else int(np.ceil((centres[k - 1] + centres[k]) / 2))
        hi = width if k == len(read) - 1 else int(np.ceil((centres[k] + centres[k + 1]) / 2))
        lo, hi = max(0, min(lo, a)), min(width, max(hi, b))
        columns = np.flatnonzero(inked[:, lo:hi].any(axis=0))
        if len(columns) == 0:
            boxes.append((a, 0, max(b, a + 1), height))
            continue
        rows = np.flatnonzero(inked[:, lo + columns[0]:lo + columns[-1] + 1].any(axis=1))
        boxes.append((lo + int(columns[0]), int(rows[0]), lo + int(columns[-1]) + 1, int(rows[-1]) + 1))
    return boxes


def line_batches(order: Sequence[int], widths: Sequence[int]) -> Iterator[list[int]]:
    """``order`` (line indices, narrowest first) in runs of at most ``LINE_BATCH`` lines and ``LINE_BATCH_COLUMNS``
    columns of padded input (``widths``: each line's normalized width)."""
    chunk: list[int] = []
    for i in order:
        if chunk and (len(chunk) == LINE_BATCH or (len(chunk) + 1) * widths[i] > LINE_BATCH_COLUMNS):
            yield chunk
            chunk = []
        chunk.append(i)
    if chunk:
        yield chunk


def line_characters(read: list[Read], own: np.ndarray, origin: tuple[int, int], scale: float,
                    line: int, space_before: bool = False) -> list[CharacterResult]:
    """The characters of a line (or of a piece of one) as read, spaces turned into ``space_before``.

    ``own`` is the ink map that was read, ``origin`` its (x, y) on the image's ink map, and
    ``scale`` that map's size in the caller's pixels: boxes come in the caller's pixels.
    ``space_before`` is the first character's (a space read before it counts only inside a line).
    """
    x0, y0 = origin
    out: list[CharacterResult] = []
    space = space_before
    for item, (bx0, by0, bx1, by1) in zip(read, ink_boxes(read, own)):
        char, confidence, _, _, ranking, unlike = Read(*item)  # a plain (char, confidence, left, right) too
        if char == " ":
            space = space or bool(out)
            continue
        box = scale_box((x0 + bx0, y0 + by0, x0 + bx1, y0 + by1), scale)
        out.append(CharacterResult(label=char, confidence=confidence, box=box, line=line,
                                   top_k=ranking or [(char, confidence)], uncertain=confidence < UNCERTAIN_BELOW or unlike,
                                   space_before=space, punctuation=char in LINE_MARKS or char in MARKS))
        space = False
    return out


def with_marks(read: list[Read], marks: list[tuple[str, int, int]]) -> list[Read]:
    """The line as read, with the punctuation the segmenter told by shape put in (confidence 1).

    Small marks are what the line model misses most (a period or a comma read as nothing,
    "3.14" as "314"), while the segmenter tells them by their size and place against the line
    (``imaging.punctuation``), as ``Recognizer.read`` does. A mark replaces the marks and the
    unsure characters the model read within its columns (a period read as a "1" at 40%), or goes
    in where its centre falls: a sure letter beside it is kept. Marks the model read where the
    segmenter saw none (an apostrophe, which it does not know) are kept.
    """
    out = list(read)
    for mark, left, right in marks:
        inside = [k for k, (char, confidence, a, b, *_) in enumerate(out)
                  if left - 1 <= (a + b) / 2 <= right + 1 and (char in LINE_MARKS or confidence < UNCERTAIN_BELOW)]
        for k in reversed(inside):
            del out[k]
        centre = (left + right) / 2
        at = inside[0] if inside else sum(1 for char, _, a, b, *_ in out if (a + b) / 2 < centre)
        out.insert(at, Read(mark, 1.0, left, right))
    return out


def with_word_gaps(read: list[Read], gaps: list[tuple[int, int]]) -> list[Read]:
    """The line as read, with a space wherever the segmenter saw a word gap and the model put none, and
    none between two digits where it saw no word gap.

    The model puts spaces between words as it learned them from its training lines, where only
    words of letters were ever spaced: groups of digits ("0612 334") came out run together. The
    segmenter finds word gaps by measuring the ink (``imaging.segment``: wider than half a
    character's height and than the line's usual gap), so each of its gaps with characters read on
    both sides, no space read inside it, and a digit or a mark on either side gets one. Between two
    letters the model's judgement stays (``read_lines`` made a space likelier there: ``SPACE_IN_WORD_GAP``):
    joined-up words have gaps between their strokes that the segmenter takes for word gaps (11 of 206
    UNIPEN words got a space inside when it was asked).

    The other way, a space the model read between two digits away from every measured word gap goes:
    numbers written among words taught it that a space beside a digit is common, and it put spaces into
    printed digit strings ("2026" read "20 2 6").
    """
    out = [item for k, item in enumerate(read) if not _digit_space_without_gap(read, k, gaps)]
    for left, right in gaps:
        middle = (left + right) / 2
        at = sum(1 for _, _, a, b, *_ in out if (a + b) / 2 < middle)
        if 0 < at < len(out) and out[at - 1][0] != " " and out[at][0] != " " \
                and not (out[at - 1][0].isalpha() and out[at][0].isalpha()):
            out.insert(at, Read(" ", 1.0, left, right))
    return out


def _digit_space_without_gap(read: list[Read], k: int, gaps: list[tuple[int, int]]) -> bool:
    """True if ``read[k]`` is a space between two digits whose columns overlap none of ``gaps``."""
    if read[k][0] != " " or not 0 < k < len(read) - 1 or not (read[k - 1][0].isdigit() and read[k + 1][0].isdigit()):
        return False
    start, end = read[k][2], read[k][3]
    return not any(start < right and end > left for left, right in gaps)


def is_line_model(name_or_path: str | os.PathLike) -> bool:
    """True if the bundle is a line model (read it with LineReader), False for a character model."""
    try:
        return ModelMeta.read(resolve_bundle(name_or_path)).arch == LINE_ARCH
    except InkreadError:
        return False  # let the character Recognizer report what is wrong with it


def within_reach(glyphs: list) -> list[list]:
    """A line's glyphs in pieces the line model reads at once (at most ``REACH`` of ``MAX_ASPECT`` times
    wider than high each), cut at word gaps where it can, else at the widest gap between glyphs.

    A line of 50 handwritten digits is 66 times wider than high: refused whole, it is read in pieces.
    """
    if not glyphs:
        return []
    pieces, start = [], 0
    while start < len(glyphs):
        end = start + 1  # one past the piece's last glyph: at least one glyph, however wide
        x0, y0, x1, y1 = glyphs[start].box  # the piece's box, grown a glyph at a time
        while end < len(glyphs):
            bx0, by0, bx1, by1 = glyphs[end].box
            grown = (min(x0, bx0), min(y0, by0), max(x1, bx1), max(y1, by1))
            if grown[2] - grown[0] > REACH * MAX_ASPECT * max(1, grown[3] - grown[1]):
                break
            (x0, y0, x1, y1), end = grown, end + 1
        if end < len(glyphs):
            gaps = range(start + 1, end)  # where the next piece could begin
            words = [i for i in gaps if glyphs[i].space_before]
            if words:
                end = words[-1]
            elif gaps:
                end = max(gaps, key=lambda i: (glyphs[i].box[0] - glyphs[i - 1].box[2], i))
        pieces.append(glyphs[start:end])
        start = end
    return pieces


def line_ink(glyphs) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """One line's own ink (neighbouring lines' strokes that reach into its box left out), and its box."""
    x0, y0 = min(g.box[0] for g in glyphs), min(g.box[1] for g in glyphs)
    x1, y1 = max(g.box[2] for g in glyphs), max(g.box[3] for g in glyphs)
    own = np.zeros((y1 - y0, x1 - x0), np.float32)
    for g in glyphs:
        region = own[g.box[1] - y0:g.box[3] - y0, g.box[0] - x0:g.box[2] - x0]
        np.maximum(region, g.ink, out=region)
    return own, (x0, y0, x1, y1)


def _level(own: np.ndarray, glyphs: list) -> np.ndarray:
    """``own``, the ink of a line of ``glyphs``, levelled (``imaging.line.leveled``) by the slope of their boxes,
    where it holds two words or more (or ``LEVEL_ONE_WORD_FROM`` glyphs) and levelled it is not too long for
    the model at once.

    Within one word the slope says little: a joined-up word is a few pieces whose centres wander with its
    letters, and levelling the UNIPEN words by them lost 4 of the 57 the English lexicon read right. But
    the segmenter may miss the word gap of a sloping line ("Quietly typing" turned 10 degrees, read
    "ouieiy wPico"): one of that many glyphs is a line of print, whose slope can be told.
    """
    if not any(glyph.space_before for glyph in glyphs[1:]) and len(glyphs) < LEVEL_ONE_WORD_FROM:
        return own
    level = leveled(own, line_slope([glyph.box for glyph in glyphs if glyph.mark is None]))
    return own if level is not own and too_long(level) else level


def _normalized_with_geometry(ink: np.ndarray) -> tuple[np.ndarray, float, int]:
    """``normalize_line_mapped`` of a 2-D ink map; anything else is a one-line InputImageError."""
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2:
        raise InputImageError(f"a line's ink map must be 2-D, got shape {ink.shape}")
    return normalize_line_mapped(ink)
