"""``Recognizer``: read handwritten characters from images with an ONNX model bundle.

    from inkread import Recognizer
    r = Recognizer.load("digits")
    p = r.predict("seven.png")          # Prediction: p.label, p.confidence, p.top_k, p.uncertain, p.no_ink
    r.predict_batch(["a.png", "b.png"])  # one ONNX Runtime call for the whole batch
    r.read("phone.jpg").text             # several characters on one or more lines

Images can be a path, bytes, an open binary file, a PIL image or a numpy array (see ``inkread.imaging.decode``).
No PyTorch here: only numpy, Pillow and ONNX Runtime. One Recognizer may be shared by threads
(ONNX Runtime sessions are thread-safe and nothing here is mutated after loading).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import TYPE_CHECKING, Any, Iterable, Literal

import numpy as np
from PIL import Image

from inkread.errors import InkreadError, InputImageError, plural
from inkread.imaging.decode import load_image_scaled, replayable
from inkread.imaging.preprocess import NoInkError, may_be_inverted, normalize, preprocess_image, writing_ink
from inkread.imaging.segment import CutChooser, Glyph, JoinChooser, may_hold_several, segment
from inkread.imaging.stroke import is_blob
from inkread.inference.bundle_format import ModelMeta, check_model_pair
from inkread.inference.closer import read_closer
from inkread.inference.grouping import EXTRA_CUT_COST, JOIN_GAIN, best_cuts, best_groups
from inkread.inference.onnx_model import OnnxModel, resolve_bundle, softmax, split_model_pair
from inkread.inference.restrict import may_answer, restriction
from inkread.inference.results import CharacterResult, Prediction, ReadResult, check_top_k, recased_ranking
from inkread.inference.word_kinds import words_of_one_kind
from inkread.labels import MERGED_LOWER, consistent_case

if TYPE_CHECKING:  # line_reader imports this module (UNCERTAIN_BELOW); the reader is loaded lazily
    from inkread.inference.line_reader import LineReader

# An answer is "uncertain" when the model gives it less than this probability...
UNCERTAIN_BELOW = 0.6
# ...or when the runner-up is closer than this (two classes compete, e.g. 1 vs 7 at 0.62 / 0.35)...
MARGIN_BELOW = 0.3
# ...or, with ``only``, when the allowed classes hold less than this share of its unrestricted belief.
ALLOWED_SHARE_BELOW = 0.2
# read(): a word's first letter whose cases look alike is small when at most this many x-heights tall,
# a capital when at least this many (see _first_letters_by_height).
SMALL_INITIAL, CAPITAL_INITIAL = 1.2, 1.6
X_HEIGHT_LETTERS = frozenset("acemnorsuvwxz")  # small letters without ascender or descender
DESCENDING = frozenset("jpy")  # look-alike letters whose small form hangs below the baseline
# read(): touching characters are cut where the model reads the pieces best, reading at most this
# many pieces per image (about 0.4 ms each); past that, by the width rule alone.
MAX_PIECES_PER_IMAGE = 300
# read() with a ``touching`` line model: where a glyph this model read as one character is read as
# several by the line model, the line model's reading is taken only if it is this sure of its least
# sure character, relative to this model's confidence (it reads some single characters as two, a
# "5" as "55", less surely). Chosen on MNIST: see README "Whole words and lines".
LINE_OVER_CHARACTER = 0.9
# predict(): an image whose ink lies in pieces apart (or, for a model of digits, is wider than
# WIDE_FOR_DIGITS times its height) is read as read() would cut it; it is flagged as holding several
# characters where each piece is read at least this sure, relative to the answer for the whole (a K
# drawn in two strokes reads as "14" less surely than as "K"). Measured in
# benchmarks/several_characters.py (results/several_characters.md).
SEVERAL_OVER_ONE = 0.9
WIDE_FOR_DIGITS = 1.4
# predict() and read(): an image whose "ink" may be its paper (imaging.preprocess.may_be_inverted: a tight
# crop of light ink) is read the other way round too, and that reading is kept if it is this many times
# surer (read: its characters' mean confidence)...
INVERTED_OVER_UPRIGHT = 1.3
# ...or (predict only), near certainty, where a confidence cannot grow 1.3x (the box around a dark 6 read as 3 at 0.85,
# the 6 itself at 0.97), if it leaves this many times less doubt (1 - confidence). Chosen on the first 300
# images of each set of benchmarks/polarity.py (1.5, 2, 3, 5, 8 tried; 1.5 began to cost dark ink).
INVERTED_DOUBT_RATIO = 2.0
# read() keeps the stricter rules of before (the "ink" over 40% of the image; 1.3x surer only): it compares
# the mean confidence of several characters, and read the other way round, a bold dark digit's paper falls
# into fragments that read surely ("121," for a semeion 1). With predict's rules, semeion read one
# character per image 94.2% -> 93.5% (benchmarks/read_characters.py), all 23 images it turned misread.
READ_INVERTED_INK_SHARE = 0.4

Errors = Literal["raise", "return"]


class Recognizer:
    """A loaded model plus the preprocessing it was trained with.

    ``only`` (predict, predict_batch, read) restricts the answers: "digits", "letters", "upper",
    "lower" or the characters to allow ("ACGT"); see ``inkread.inference.restrict``.
    A prediction is flagged ``uncertain`` when its confidence is below ``uncertain_below`` (0.6)
    or the top-2 margin is below ``margin_below`` (0.3); both are computed after ``only``.
    ``touching``: a line model that ``read`` gives characters that touch, to read them whole.
    """

    def __init__(self, model: OnnxModel | str | os.PathLike, *, uncertain_below: float = UNCERTAIN_BELOW,
                 margin_below: float = MARGIN_BELOW, touching: "LineReader | None" = None):
        for name, value in (("uncertain_below", uncertain_below), ("margin_below", margin_below)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise InkreadError(f"{name} is a probability between 0 and 1, got {value!r}")
        self.model = model if isinstance(model, OnnxModel) else OnnxModel(model)  # Recognizer("digits") as load does
        self.uncertain_below = uncertain_below
        self.margin_below = margin_below
        self.touching = touching
        self.labels: tuple[str, ...] = tuple(self.model.meta.labels)
        # A digit is never much wider than tall (an m or a w is): wide ink may be digits that touch.
        self._wide = None if any(label.isalpha() for label in self.labels) else WIDE_FOR_DIGITS

    @classmethod
    def load(cls, name_or_path: str | os.PathLike = "digits", *, threads: int | None = None,
             touching: "str | os.PathLike | LineReader | None" = None, **options: Any) -> "Recognizer":
        """Load "digits", "characters", a bundle folder, a run folder, or a .onnx file with model.json beside it.

        ``touching``: a line model ("lines", or a loaded ``LineReader``) for ``read`` to read characters that touch
        with; "digits+lines" (as the command line writes it) is the same as ``load("digits", touching="lines")``.
        ``options``: ``uncertain_below`` and ``margin_below`` (see the class).
        """
        if touching is None:
            name_or_path, touching = split_model_pair(name_or_path)
            if touching is not None:
                check_model_pair(str(name_or_path) + "+" + touching, ModelMeta.read(resolve_bundle(name_or_path, "digits or characters before the +")).arch,
                                 ModelMeta.read(resolve_bundle(touching, "lines after the +")).arch)
        elif isinstance(touching, str):
            resolve_bundle(touching, "lines for touching=")  # an unknown name says which argument it was
        model = OnnxModel(name_or_path, threads=threads)
        from inkread.inference.line_reader import LineReader

        line_reader = touching
        if isinstance(touching, (str, os.PathLike)):
            line_reader = LineReader.load(touching, threads=threads)
        elif touching is not None and not isinstance(touching, LineReader):
            raise InkreadError(f"touching={touching!r}: give a line model (\"lines\", a bundle folder) or a loaded LineReader")
        return cls(model, touching=line_reader, **options)

    @property
    def meta(self) -> ModelMeta:
        """The bundle's model.json."""
        return self.model.meta

    @property
    def name(self) -> str:
        return self.model.meta.name

    def __repr__(self) -> str:
        touching = f", touching={self.touching.name!r}" if self.touching is not None else ""
        return f"Recognizer({self.name!r}, {plural(len(self.labels), 'class', 'classes')}, recipe={self.meta.recipe!r}{touching})"

    # --- one character per image -------------------------------------------------------------

    def preprocess(self, image: Any) -> np.ndarray:
        """The (28, 28) float32 array the model sees for ``image`` (raises NoInkError if blank)."""
        return preprocess_image(image, self.meta.recipe)

    def predict(self, image: Any, only: str | None = None, top_k: int = 3) -> Prediction:
        """Recognize the one character in ``image``; bad images raise ``InputImageError``."""
        return self.predict_batch([image], only=only, top_k=top_k)[0]

    def predict_batch(self, images: Iterable[Any], only: str | None = None, top_k: int = 3,
                      errors: Errors = "raise") -> list[Prediction]:
        """Recognize one character per image, running the model once for the whole batch.

        ``errors="raise"`` lets the first unreadable image raise ``InputImageError``;
        ``errors="return"`` turns it into a Prediction with ``error`` set and carries on.
        """
        if errors not in ("raise", "return"):
            raise InkreadError(f"errors={errors!r}: use 'raise' or 'return'")
        if (isinstance(images, (str, bytes, bytearray, memoryview, os.PathLike, Image.Image)) or hasattr(images, "read")
                or (isinstance(images, np.ndarray) and images.ndim < 3)):
            raise InkreadError(f"predict_batch takes a list of images, got one {type(images).__name__}: "
                               "use predict(image), or predict_batch([image])")
        self._check(only, top_k)
        results: list[Prediction | None] = []
        inputs: list[np.ndarray] = []
        apart: dict[int, np.ndarray] = {}  # input index -> ink in pieces apart (maybe several characters)
        inverted: dict[int, np.ndarray] = {}  # input index -> the model's input if the "ink" is the paper
        blobs: set[int] = set()  # input indices whose ink is a blob (a dot, a click on the pad): no character
        for image in images:
            try:  # everything about the image first: a failure must not leave its input behind (answers would shift)
                ink = writing_ink(image)
                upright, other, several = normalize(ink, self.meta.recipe), None, False
                if may_be_inverted(ink):
                    with contextlib.suppress(NoInkError):  # ink everywhere: nothing the other way round
                        other = normalize(1.0 - ink, self.meta.recipe)
                else:
                    several = may_hold_several(ink, self._wide)
                    if is_blob(ink):
                        blobs.add(len(inputs))
                inputs.append(upright)
                if other is not None:
                    inverted[len(inputs) - 1] = other
                if several:
                    apart[len(inputs) - 1] = ink
                results.append(None)  # filled in after the model has run
            except NoInkError:
                results.append(Prediction.nothing())
            except InkreadError as error:
                if errors == "raise":
                    raise
                results.append(Prediction.failed(str(error)))
        if inputs:
            answers = self.predict_preprocessed(np.stack(inputs), only=only, top_k=top_k)
            if inverted:  # read the other way round too, and keep the surer reading
                flipped = self.predict_preprocessed(np.stack(list(inverted.values())), only=only, top_k=top_k)
                for index, answer in zip(inverted, flipped):
                    if _other_way_surer(answers[index].confidence, answer.confidence):
                        answers[index] = answer
            for index, ink in apart.items():
                answers[index] = self._flag_several(answers[index], ink, only)
            for index in blobs:  # scaled to 28x28 a dot reads as something, a 6 at 65%: never surely
                answers[index] = dataclasses.replace(answers[index], uncertain=True)
            answered = iter(answers)
            results = [result if result is not None else next(answered) for result in results]
        return results  # type: ignore[return-value]  # every None was replaced

    def _flag_several(self, answer: Prediction, ink: np.ndarray, only: str | None) -> Prediction:
        """``answer``, flagged uncertain with ``several_characters`` set if ``ink`` reads better as several.

        The ink is cut as ``read`` cuts it; it holds several characters if it makes two or more and
        each is read at least ``SEVERAL_OVER_ONE`` as surely as the whole was.
        """
        cut_chooser, join_chooser = self._choosers(only)
        try:
            lines = segment(ink, choose_cuts=cut_chooser, choose_joins=join_chooser)
        except InkreadError:  # too many marks to cut: the answer stands, unflagged (a hint never fails an image)
            return answer
        pieces, line_of = [], []
        for number, line in enumerate(lines):
            pieces += [glyph.ink for glyph in line if glyph.mark is None]
            line_of += [number for glyph in line if glyph.mark is None]
        inputs, readable = self._normalized(pieces)
        if len(inputs) < 2:
            return answer
        read = self._rank(self.model.logits(np.stack(inputs)[:, None]), only, 1)
        # two pieces: each must read surely (a K in two strokes reads as "1<" less surely than as K); three
        # or more: the median piece (a note's every letter is rarely sure, and one character seldom falls
        # into three pieces apart)
        confidences = sorted(piece.confidence for piece in read)
        typical = confidences[0] if len(confidences) == 2 else float(np.median(confidences))
        # Lines of characters are several whatever the pieces' confidence: a note of four lines read by the
        # digits model, its letters each unsure as digits, was one sure "5"
        lines_of_several = sum(line_of.count(number) >= 2 for number in set(line_of)) >= 2
        if typical < SEVERAL_OVER_ONE * answer.confidence and not lines_of_several:
            return answer
        # What read would answer, word gaps, letter case and digits among letters settled as it settles
        # them: the pieces' own labels made "the cat" "theC0t" where read says "the cat"
        text = self._read_segmented(lines, 1.0, only, 1).text or "".join(
            ("\n" if k and line_of[i] != line_of[readable[k - 1]] else "") + piece.label
            for k, (i, piece) in enumerate(zip(readable, read)))
        return dataclasses.replace(answer, uncertain=True, several_characters=text)

    def predict_preprocessed(self, batch: np.ndarray, only: str | None = None, top_k: int = 3) -> list[Prediction]:
        """Recognize model-ready images: float32 (N, 28, 28) or (N, 1, 28, 28), ink 1.0 on 0.0 (as ``preprocess`` gives)."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim == 3:
            batch = batch[:, None]
        if batch.ndim != 4 or batch.shape[1:] != (1, 28, 28):
            raise InputImageError(f"predict_preprocessed takes model-ready images of shape (N, 28, 28), got {batch.shape}: "
                                  "use predict for images of any other size")
        _check_ink_levels(batch, "predict_preprocessed", "model-ready images hold", "as preprocess gives them")
        predictions = self._rank(self.model.logits(batch), only, top_k)
        for prediction, image in zip(predictions, batch):
            prediction.image = image[0]
        return predictions

    # --- several characters per image --------------------------------------------------------

    def read(self, image: Any, only: str | None = None, top_k: int = 3, lexicon: Any = None) -> ReadResult:
        """Read every character in ``image``, line by line; bad images raise ``InputImageError``.

        Touching characters are cut where this model reads the pieces best (``inference.grouping``);
        with a ``touching`` line model, each piece of ink that holds touching characters is read
        whole by it instead, where it reads two characters or more (see ``_read_touching``).
        Boxes are in the pixels of the image as it is displayed: with its EXIF orientation applied,
        for a path, bytes or a PIL image alike (``ImageOps.exif_transpose(image)`` is that image).
        ``lexicon`` is taken by ``LineReader.read`` only (it rescores a line model's spellings): given here,
        it is an ``InkreadError``; None, as every reader takes it, reads without one.
        """
        if lexicon is not None:
            raise InkreadError(f"a lexicon looks up the words a line model reads: read with LineReader.load('lines'), "
                               f"not the character model {self.name!r}")
        self._check(only, top_k)
        source = replayable(image)
        ink, scale = load_image_scaled(source)
        result = self._read_either_way(ink, scale, only, top_k)
        # small writing in a large image: read again, closer (``inference.closer``)
        return read_closer(source, result, scale, ink, lambda ink, scale: self._read_either_way(ink, scale, only, top_k))

    def _read_either_way(self, ink: np.ndarray, scale: float, only: str | None, top_k: int) -> ReadResult:
        """``read`` of an ink map, and of its negative where its "ink" may be its paper (the surer reading)."""
        result = self._read_ink(ink, scale, only, top_k)
        if may_be_inverted(ink, READ_INVERTED_INK_SHARE):  # its "ink" may be its paper: read it the other way round too
            try:
                other = self._read_ink(1.0 - ink, scale, only, top_k)
            except InkreadError:  # too many marks that way round: the first reading stands
                return result
            # (and sure enough on its own: an upright reading of punctuation alone has no confidence to beat)
            surer = INVERTED_OVER_UPRIGHT * _mean_confidence(result)
            if other.characters and _mean_confidence(other) > max(surer, self.uncertain_below):
                return other
        return result

    def _read_ink(self, ink: np.ndarray, scale: float, only: str | None, top_k: int) -> ReadResult:
        """``read`` of an ink map; ``scale`` takes its pixels to the image's."""
        cut_chooser, join_chooser = self._choosers(only)
        return self._read_segmented(segment(ink, choose_cuts=cut_chooser, choose_joins=join_chooser), scale, only, top_k)

    def _read_segmented(self, found: list[list[Glyph]], scale: float, only: str | None, top_k: int) -> ReadResult:
        """``read`` of an ink map already cut into lines of glyphs (``segment``'s answer, which is left as it was)."""
        lines: list[list[Glyph]] = []  # the glyphs kept, line by line: characters and punctuation
        inputs: list[np.ndarray] = []  # the model's inputs for the characters among them
        blobs: list[bool] = []  # for each input: its glyph is a blob (a dot alone reads as something, never surely)
        for line in found:
            characters = [index for index, glyph in enumerate(line) if glyph.mark is None]
            line_inputs, readable = self._normalized([line[i].ink for i in characters])
            inputs += line_inputs
            blobs += [is_blob(line[characters[i]].ink) for i in readable]
            kept = {characters[i] for i in readable}  # glyphs the normalizer finds empty (faint specks) are left out
            glyphs = [glyph for index, glyph in enumerate(line) if index in kept or glyph.mark is not None]
            if glyphs:  # a line of punctuation alone (a dash on its own) is read too
                lines.append(glyphs)
        answers = self._rank(self.model.logits(np.stack(inputs)[:, None]), only, top_k) if inputs else []
        if answers:
            answers = self._in_context(lines, answers, inputs, only, top_k)
        answers = [dataclasses.replace(answer, uncertain=True) if blob else answer for answer, blob in zip(answers, blobs)]
        predictions = iter(answers)
        predicted = [[None if glyph.mark is not None else next(predictions) for glyph in line] for line in lines]
        read_whole = self._read_touching(lines, predicted, only, scale, top_k)
        characters: list[CharacterResult] = []
        for line_index, (line, line_predictions) in enumerate(zip(lines, predicted)):
            index = 0
            while index < len(line):
                if (line_index, index) in read_whole:
                    count, whole = read_whole[(line_index, index)]
                    characters += whole
                    index += count
                    continue
                characters.append(_character(line[index], line_predictions[index], scale, line_index))
                index += 1
        return ReadResult.of(characters, ink_found=bool(found))  # ink, but no character read in it: "unread"

    def _read_touching(self, lines: list[list[Glyph]], predicted: list[list[Prediction | None]], only: str | None,
                       scale: float, top_k: int = 1) -> dict[tuple[int, int], tuple[int, list[CharacterResult]]]:
        """Pieces of ink that may hold touching characters, read whole by the ``touching`` line model.

        A piece is the run of glyphs the segmenter cut from one piece of ink, or the one glyph it
        considered cutting and kept whole (``Glyph.cut_from``), or a glyph it joined from pieces of
        ink (``Glyph.joined``: a 4 and a 1 that touch read as one sure "4"), or a glyph this model
        reads with a confidence below ``uncertain_below`` (a narrow 1 touching a 6 is no wider than
        one digit, and reads as neither). Returns {(line, first glyph): (glyphs in the run, characters read)}
        for the pieces the line model reads as two characters or more, and, for a piece of one
        glyph, reads more surely than this model did (``LINE_OVER_CHARACTER``). Elsewhere this
        model's answer stays: it reads a character alone better (the line model reads some thin
        tablet digits alone as two, a 6 as "66").
        """
        if self.touching is None:
            return {}
        from inkread.inference.line_reader import line_characters, line_ink

        runs = []  # (line, first glyph, glyphs in the run)
        for line_index, line in enumerate(lines):
            index = 0
            while index < len(line):
                glyph, prediction, end = line[index], predicted[line_index][index], index + 1
                if glyph.cut_from is not None and glyph.mark is None:
                    while end < len(line) and line[end].cut_from == glyph.cut_from:
                        end += 1
                    runs.append((line_index, index, end - index))
                elif prediction is not None and (prediction.confidence < self.uncertain_below or glyph.joined):
                    runs.append((line_index, index, 1))
                index = end
        if not runs:
            return {}
        inks = [line_ink(lines[line_index][first:first + count]) for line_index, first, count in runs]
        read_whole = {}
        if only is None:  # the line model knows more than this model: a digits model's reader reads digits
            known = {label.upper() for label in self.labels}
            only = "".join(char for char in self.touching.labels if char.upper() in known)
        for (line_index, first, count), (own, box), read in zip(runs, inks, self.touching.read_lines([own for own, _ in inks], only, top_k)):
            read = [entry for entry in read if entry[0] != " "]  # one piece of ink holds no word gap
            characters = line_characters(read, own, box[:2], scale, line_index, space_before=lines[line_index][first].space_before)
            if sum(not c.punctuation for c in characters) < 2:
                continue
            alone = predicted[line_index][first] if count == 1 else None
            if alone is None or min(c.confidence for c in characters) > LINE_OVER_CHARACTER * alone.confidence:
                read_whole[(line_index, first)] = (count, characters)
        return read_whole

    def _in_context(self, lines: list[list[Glyph]], answers: list[Prediction], inputs: list[np.ndarray],
                    only: str | None, top_k: int) -> list[Prediction]:
        """The answers with each word read as digits or as letters, whichever most of it is, and in one case.

        A model of digits and letters reads each character alone, and 1/l/I, 0/O, 5/S, 9/g look
        alike: "L06 74", "d09". Without ``only``, a word (a run of characters between word gaps and
        marks) that is mostly digits reads its letters again as digits, and the other way round; a word
        split evenly takes its line's majority, and a line split evenly the whole text's. The answer is
        changed only where the model gives that kind at least ``CONTEXT_SHARE`` of its belief (a clear B
        stays a B in "B52"; the rule is ``inference.word_kinds``'s, which the line reader shares). Then,
        with or without ``only`` (``only="letters"`` read "reSerVe" and "LUnCh"), letters whose two cases
        look alike take their word's case (``consistent_case``), and a word's first such letter its case
        from its height (``_first_letters_by_height``: "World" with a small w is "world"), where ``only``
        allows that case.
        """
        words, line_of, rows = _words(lines)
        answers = list(answers)
        if only is None:  # (words_of_one_kind leaves a model without both kinds alone)
            def read_again(odd: list[int], kind: str) -> list[tuple[Prediction, float]]:
                logits = np.array(self.model.logits(np.stack([inputs[i] for i in odd])[:, None]), dtype=np.float64)
                share = softmax(logits)[:, restriction(self.labels, kind).indices].sum(axis=1)
                return list(zip(self._rank(logits, kind, top_k), share))

            for i, again in words_of_one_kind(self.labels, [answer.label for answer in answers], words, line_of, read_again).items():
                answers[i] = again
        cased = _first_letters_by_height(words, _with_consistent_case(words, answers), rows)
        return [new if new.label == old.label or may_answer(only, new.label) else old for old, new in zip(answers, cased)]

    # --- internals ---------------------------------------------------------------------------

    def _choosers(self, only: str | None) -> tuple[CutChooser, JoinChooser]:
        """The segmenter's choosers for one image: cuts, and groups of strokes, that this model reads best.

        Both share a budget: past MAX_PIECES_PER_IMAGE pieces read, the width rule cuts the rest and
        strokes apart stay apart. A page of joined-up writing must not hold a server thread for seconds.
        """
        left = MAX_PIECES_PER_IMAGE

        def read_pieces(inks: list[np.ndarray]) -> list[float] | None:
            nonlocal left
            if len(inks) > left:
                return None
            left -= len(inks)
            return self._confidences(inks, only)

        return (lambda ink, candidates, counts: best_cuts(ink, candidates, counts, read_pieces, EXTRA_CUT_COST),
                lambda count, spans, inks, overlaps: best_groups(count, spans, inks, read_pieces, JOIN_GAIN, overlaps))

    def predict_glyphs(self, inks: list[np.ndarray], only: str | None = None, top_k: int = 3) -> list[Prediction | None]:
        """Recognize ink crops as ``read`` reads each character it cuts: float (H, W) maps, ink 1.0 on 0.0.

        Each crop is normalized by its own box, with none of ``predict``'s work on a whole image (no
        polarity guess, no page or speck cleanup). None for a crop with no ink worth reading.
        """
        self._check(only, top_k)
        for ink in inks:
            _check_ink_levels(np.asarray(ink, dtype=np.float32), "predict_glyphs", "ink maps hold", "as read cuts them")
        return self._glyph_predictions(inks, only, top_k)

    def _glyph_predictions(self, inks: list[np.ndarray], only: str | None, top_k: int) -> list[Prediction | None]:
        """``predict_glyphs`` without its option checks: the cut and join choosers call it per piece."""
        inputs, readable = self._normalized(inks)
        predictions: list[Prediction | None] = [None] * len(inks)
        if inputs:
            for index, prediction in zip(readable, self._rank(self.model.logits(np.stack(inputs)[:, None]), only, top_k)):
                predictions[index] = prediction
        return predictions

    def _confidences(self, inks: list[np.ndarray], only: str | None) -> list[float]:
        """The model's confidence in its best answer for each ink crop (0.0 for one without ink)."""
        return [0.0 if prediction is None else prediction.confidence
                for prediction in self._glyph_predictions(inks, only, top_k=2)]

    def _normalized(self, inks: list[np.ndarray]) -> tuple[list[np.ndarray], list[int]]:
        """Model inputs for the ink crops that hold ink, and their indices in ``inks``."""
        inputs, readable = [], []
        for index, piece in enumerate(inks):
            try:
                inputs.append(normalize(piece, self.meta.recipe))
            except NoInkError:
                continue
            readable.append(index)
        return inputs, readable

    def _check(self, only: str | None, top_k: int) -> None:
        """Bad options fail before any image is decoded."""
        check_top_k(top_k)
        restriction(self.labels, only)

    def _rank(self, logits: np.ndarray, only: str | None, top_k: int) -> list[Prediction]:
        """Turn (N, C) logits into Predictions, masking classes outside ``only`` before the softmax."""
        check_top_k(top_k)
        allowed = restriction(self.labels, only)
        if len(allowed.indices) == 1:
            # One allowed class is always the answer; renormalized it would be "100% sure" of
            # anything. Its share of the unrestricted probabilities says how much it looks the part.
            probs = softmax(np.array(logits, dtype=np.float64))[:, allowed.indices]
        else:
            if not allowed.everything:
                # renormalized, the best allowed class can look sure of an input unlike any of them
                # (a 7 read with only="AG" was "A" at 0.71): flagged when they hold little of the belief
                share = softmax(np.array(logits, dtype=np.float64))[:, allowed.indices].sum(axis=1)
                unlike = share < ALLOWED_SHARE_BELOW
                logits = logits[:, allowed.indices]
            # softmax over the allowed logits == renormalizing the probabilities, without 0/0 underflow
            probs = softmax(np.array(logits, dtype=np.float64))
        if allowed.everything or len(allowed.indices) == 1:
            unlike = np.zeros(len(probs), bool)
        keep = min(max(top_k, 2), probs.shape[1])
        order = np.argsort(-probs, axis=1, kind="stable")[:, :keep]
        ranked = probs[np.arange(len(probs))[:, None], order]  # np.take_along_axis, at a third of its cost
        names = allowed.names
        predictions = []
        for row_order, row_probs, row_unlike in zip(order.tolist(), ranked.tolist(), unlike.tolist()):
            confidence = row_probs[0]
            margin = confidence - row_probs[1] if len(row_probs) > 1 else confidence
            predictions.append(Prediction(
                label=names[row_order[0]],
                confidence=confidence,
                top_k=[(names[i], p) for i, p in zip(row_order[:top_k], row_probs[:top_k])],
                uncertain=confidence < self.uncertain_below or margin < self.margin_below or row_unlike,
            ))
        return predictions


def _other_way_surer(upright: float, other: float) -> bool:
    """Whether the reading of an image the other way round (confidence ``other``) wins over the reading as
    the image came (``upright``): INVERTED_OVER_UPRIGHT times surer, or INVERTED_DOUBT_RATIO times less in doubt."""
    return other > INVERTED_OVER_UPRIGHT * upright or (other > upright and INVERTED_DOUBT_RATIO * (1.0 - other) < 1.0 - upright)


def _words(lines: list[list[Glyph]]) -> tuple[list[list[int]], list[int], list[tuple[int, int]]]:
    """The words of segmented lines: each word's character indices (characters counted over all lines, marks
    left out; a word gap or a mark ends a word), each word's line, and each character's top and bottom row."""
    words, line_of, rows, position = [], [], [], 0
    for line_index, line in enumerate(lines):
        word: list[int] = []
        for glyph in line:
            if (glyph.space_before or glyph.mark is not None) and word:
                words.append(word)
                line_of.append(line_index)
                word = []
            if glyph.mark is None:
                word.append(position)
                rows.append((glyph.box[1], glyph.box[3]))
                position += 1
        if word:
            words.append(word)
            line_of.append(line_index)
    return words, line_of, rows


def _with_consistent_case(words: list[list[int]], answers: list[Prediction]) -> list[Prediction]:
    """``consistent_case`` over each word (answer indices): letters whose cases look alike take their word's case."""

    out = list(answers)
    for word in words:
        labels = [out[i].label for i in word]
        if any(len(label) != 1 for label in labels):  # a custom model's word labels: no letters to case
            continue
        for i, label in zip(word, consistent_case("".join(labels))):
            if label != out[i].label:
                out[i] = _relabelled(out[i], label)
    return out


def _first_letters_by_height(words: list[list[int]], answers: list[Prediction], rows: list[tuple[int, int]]) -> list[Prediction]:
    """Each word's first letter whose two cases look alike (w/W, o/O, s/S ...), cased by its height.

    ``consistent_case`` leaves a first letter's case alone ("Tom" is a name): but a model sees each
    character scaled to 28x28, so for these letters its case is a guess (mostly the capital: "cat" read
    "Cat"). Against the text's x-height (the median height of its small letters without ascender or
    descender after the first, one is enough), a first letter no taller than ``SMALL_INITIAL`` x-heights
    before small letters is small ("hello World" with a small w: "hello world"), and one at least
    ``CAPITAL_INITIAL`` x-heights tall is a capital. A p, y or j is measured from its top down to its word's
    baseline (the bottom of its small letters), as its descender would make a small one as tall as a capital.
    """
    small = [bottom - top for word in words for i in word[1:] if answers[i].label in X_HEIGHT_LETTERS
             for top, bottom in [rows[i]]]
    if not small:
        return answers
    x_height = float(np.median(small))
    out = list(answers)
    for word in words:
        first, rest = word[0], [answers[i].label for i in word[1:]]
        label = out[first].label
        if not rest or label.lower() not in MERGED_LOWER or not all(char.isalpha() and char.islower() for char in rest):
            continue
        top, bottom = rows[first]
        if label.lower() in DESCENDING:
            baselines = [rows[i][1] for i in word[1:] if answers[i].label in X_HEIGHT_LETTERS]
            if baselines:
                bottom = min(bottom, int(np.median(baselines)))
        height = bottom - top
        cased = label.lower() if height <= SMALL_INITIAL * x_height else \
            label.upper() if height >= CAPITAL_INITIAL * x_height else label
        if cased != label:
            out[first] = _relabelled(out[first], cased)
    return out


def _relabelled(prediction: Prediction, label: str) -> Prediction:
    """``prediction`` answering ``label``, another case of its label: its ranking says the same."""
    return dataclasses.replace(prediction, label=label, top_k=recased_ranking(prediction.top_k, prediction.label, label))


def _mean_confidence(result: ReadResult) -> float:
    """How surely a reading was made: its characters' mean confidence (0 for none)."""
    return float(np.mean([c.confidence for c in result.characters])) if result.characters else 0.0


def _character(glyph, prediction: Prediction | None, scale: float, line: int) -> CharacterResult:
    """The result for one glyph: the model's ``prediction``, or (None) the punctuation mark it is.

    Punctuation is told by its shape and place in the line, not by the model, which knows none:
    its confidence is 1 and its only candidate itself.
    """
    if prediction is None:
        return CharacterResult(label=glyph.mark, confidence=1.0, box=scale_box(glyph.box, scale), line=line,
                               top_k=[(glyph.mark, 1.0)], space_before=bool(glyph.space_before), punctuation=True)
    return CharacterResult(label=prediction.label, confidence=prediction.confidence, box=scale_box(glyph.box, scale),
                           line=line, top_k=prediction.top_k, uncertain=prediction.uncertain,
                           space_before=bool(glyph.space_before))


def scale_box(box, scale: float) -> tuple[int, int, int, int]:
    """A box on the (possibly reduced) ink map, in the pixel coordinates of the caller's image."""
    x0, y0, x1, y1 = box
    return (int(x0 * scale), int(y0 * scale), int(round(x1 * scale)), int(round(y1 * scale)))


def _check_ink_levels(values: np.ndarray, taker: str, holding: str, given: str) -> None:
    """Refuse pixel values other than 0.0 (paper) to 1.0 (ink): a 0..255 image would be read as ink everywhere, surely."""
    if not np.isfinite(values).all():
        raise InputImageError(f"{taker} got NaN or infinite pixel values: {holding} 0.0 (paper) to 1.0 (ink), {given}")
    if values.max(initial=0.0) > 1.0 + 1e-3:
        raise InputImageError(f"{taker} takes pixel values from 0.0 (paper) to 1.0 (ink), {given}, got values up to "
                              f"{values.max():g}: divide 0..255 images by 255")
