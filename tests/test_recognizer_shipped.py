"""The shipped models on real handwriting from outside MNIST/EMNIST (../shared/datasets).

Each test skips with a reason when the shipped model or the data set is missing. The bars are
set well below the measured accuracy (digits: 99.9% on HwD-1000, 96% on UNIPEN digits) so that a
retrained model passes, while a broken pipeline (wrong polarity, recipe, orientation) cannot.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from inkread.inference.onnx_model import PRETRAINED_DIR
from inkread.labels import merge_case
from helpers import REPO, shared_subfolder, write_on_page


def shipped(name: str):
    if not (PRETRAINED_DIR / name / "model.json").exists():
        pytest.skip(f"the shipped {name!r} model is not in {PRETRAINED_DIR} yet")
    from inkread import Recognizer

    return Recognizer.load(name)


def every_nth(files: list[Path], count: int) -> list[Path]:
    return files[:: max(1, len(files) // count)][:count]


def test_digits_model_reads_canvas_drawings():
    recognizer = shipped("digits")
    files = every_nth(sorted(shared_subfolder("hwd1000").glob("*.png")), 60)
    predictions = recognizer.predict_batch(files)
    correct = sum(p.label == path.name[0] for p, path in zip(predictions, files))  # files are named <digit>-NNN.png
    assert correct >= 57, [(path.name, p.label) for p, path in zip(predictions, files) if p.label != path.name[0]]


def test_digits_model_reads_tablet_digits():
    recognizer = shipped("digits")
    files = every_nth(sorted(shared_subfolder("unipen_chars").glob("digit_*.png")), 60)
    predictions = recognizer.predict_batch(files)
    correct = sum(p.label == path.name.split("_")[1] for p, path in zip(predictions, files))
    assert correct >= 51  # 85%


def test_digits_model_reads_a_number_of_real_drawings():
    recognizer = shipped("digits")
    wanted = "31 4159\n26"
    hwd1000 = shared_subfolder("hwd1000")

    def ink(char: str) -> np.ndarray:  # HwD-1000 digits are dark on a white 28x28 canvas
        return 255 - np.asarray(Image.open(hwd1000 / f"{char}-001.png").convert("L"))

    # set them side by side on a larger page, as a person writes a number
    page = 255 - write_on_page(wanted, ink, size=(120, 300), line_height=55, gap=5, space=30, threshold=127)
    result = recognizer.read(page)
    assert result.text == wanted
    assert [c.line for c in result.characters] == [0] * 6 + [1] * 2


def test_characters_model_reads_tablet_letters():
    recognizer = shipped("characters")
    files = every_nth(sorted(shared_subfolder("unipen_chars").glob("*per_*.png")), 52)  # upper_ and lower_
    predictions = recognizer.predict_batch(files)
    # case-insensitive for the letters whose cases are merged into one class
    truth = [merge_case(path.name.split("_")[1], recognizer.labels) for path in files]
    correct = sum(p.label == t for p, t in zip(predictions, truth))
    assert correct >= 0.6 * len(files)


def test_characters_model_with_only_digits_reads_digits():
    recognizer = shipped("characters")
    files = every_nth(sorted(shared_subfolder("unipen_chars").glob("digit_*.png")), 40)
    predictions = recognizer.predict_batch(files, only="digits")
    assert all(p.label.isdigit() for p in predictions)
    correct = sum(p.label == path.name.split("_")[1] for p, path in zip(predictions, files))
    assert correct >= 32  # 80%


def touching_pairs(count: int = 40):
    """Pages of two real MNIST test digits (60 px tall) whose strokes touch or cross, and their text."""
    from inkread.data.idx import read_images, read_labels

    mnist = shared_subfolder("mnist")
    images = read_images(mnist / "t10k-images-idx3-ubyte.gz")[:2 * count]
    labels = read_labels(mnist / "t10k-labels-idx1-ubyte.gz")[:2 * count]
    pages = []
    for k in range(0, 2 * count, 2):
        crops = []
        for image in images[k:k + 2]:
            rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
            crop = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
            scale = 60 / crop.shape[0]
            crops.append(np.asarray(Image.fromarray(crop).resize((max(1, round(crop.shape[1] * scale)), 60)), np.float32) / 255)
        overlap = 6  # pixels (a tenth of the height): the strokes touch or cross
        page = np.zeros((100, crops[0].shape[1] + crops[1].shape[1] - overlap + 40), np.float32)
        page[20:80, 20:20 + crops[0].shape[1]] = crops[0]
        right = page[20:80, 20 + crops[0].shape[1] - overlap:20 + crops[0].shape[1] - overlap + crops[1].shape[1]]
        np.maximum(right, crops[1], out=right)
        pages.append((1 - page, f"{labels[k]}{labels[k + 1]}"))
    return pages


def read_by_width_rule(recognizer, page) -> str:
    from inkread.imaging.decode import load_image
    from inkread.imaging.segment import segment

    glyphs = [g for line in segment(load_image(page)) for g in line]
    return "".join(recognizer.predict(g.ink, only="digits").label for g in glyphs)


def test_touching_digits_are_cut_where_the_model_reads_them_best():
    """Reading the pieces finds cuts that the width rule alone misses (or never tries: most of
    these pairs are too narrow for it)."""
    recognizer = shipped("digits")
    pages = touching_pairs()
    by_model = sum(recognizer.read(page, only="digits").text == truth for page, truth in pages)
    by_width = sum(read_by_width_rule(recognizer, page) == truth for page, truth in pages)
    assert by_model >= 28 and by_model >= by_width + 5, (by_model, by_width)  # measured: 31 and 22 of 40


def test_touching_digits_read_whole_by_the_line_model():
    """With a line model for touching characters (``touching="lines"``, ``--model digits+lines``),
    each piece of ink holding touching digits is read whole: no cut to get wrong."""
    if not (PRETRAINED_DIR / "lines" / "model.json").exists():
        pytest.skip(f"the shipped 'lines' model is not in {PRETRAINED_DIR}")
    from inkread import Recognizer

    cutting, mixed = shipped("digits"), Recognizer.load("digits", touching="lines")
    pages = touching_pairs(80)
    by_cuts = sum(cutting.read(page, only="digits").text == truth for page, truth in pages)
    read_whole = sum(mixed.read(page, only="digits").text == truth for page, truth in pages)
    assert read_whole >= 62 and read_whole >= by_cuts + 10, (read_whole, by_cuts)  # measured: 66 and 51 of 80


def test_past_its_budget_of_pieces_read_falls_back_to_the_width_rule(monkeypatch):
    import inkread.inference.recognizer as recognizer_module

    recognizer = shipped("digits")
    monkeypatch.setattr(recognizer_module, "MAX_PIECES_PER_IMAGE", 0)
    for page, _ in touching_pairs(12):
        assert recognizer.read(page, only="digits").text == read_by_width_rule(recognizer, page)


def test_large_batches_run_in_chunks_with_the_same_answers():
    """OnnxModel.logits runs RUN_CHUNK images at a time, so memory stays bounded; the answers must not change."""
    from inkread.errors import InputImageError
    from inkread.inference.onnx_model import RUN_CHUNK, OnnxModel

    model = OnnxModel("digits")
    batch = np.random.default_rng(0).random((2 * RUN_CHUNK + 7, 1, 28, 28), dtype=np.float32)
    whole = model.logits(batch)
    one_by_one = np.concatenate([model.logits(batch[i:i + 100]) for i in range(0, len(batch), 100)])
    assert whole.shape == (len(batch), 10)
    np.testing.assert_allclose(whole, one_by_one, rtol=1e-4, atol=1e-4)
    with pytest.raises(InputImageError, match=r"shape \(N, 1, 28, 28\), got \(28, 28\)"):
        model.logits(np.zeros((28, 28), np.float32))


def test_digits_drawn_with_a_hairline_pen_on_a_large_canvas():
    from PIL import ImageDraw

    from inkread import Recognizer

    recognizer = Recognizer.load("digits")
    shapes = {"7": [(187, 112), (562, 112), (337, 637)], "4": [(450, 650), (450, 100), (150, 450), (560, 450)],
              "2": [(200, 200), (300, 120), (450, 120), (520, 220), (480, 330), (180, 640), (560, 640)]}
    for label, points in shapes.items():
        image = Image.new("L", (1000, 1000), 255)
        ImageDraw.Draw(image).line([(x * 4 / 3, y * 4 / 3) for x, y in points], fill=0, width=1)
        assert recognizer.predict(image).label == label  # all three read "1" when the strokes faded


def tablet_line(text: str, height: int = 80) -> np.ndarray:
    """Dark-on-white page of ``text``: UNIPEN tablet digits ``height`` px tall, and punctuation drawn
    with a round pen of their stroke width (a period on the baseline, a dash at mid-height, ...)."""
    from PIL import ImageDraw

    pen = max(2, round(0.045 * 128 * height / 102))  # UNIPEN strokes are 4.5% of a 128 px canvas, digits ~102 px tall
    pieces, unipen = [], shared_subfolder("unipen_chars")
    for char in text:
        if char.isdigit():
            path = sorted(unipen.glob(f"digit_{char}_*.png"))[2]
            ink = 255 - np.asarray(Image.open(path).convert("L"), np.float32)
            rows, cols = np.flatnonzero(ink.max(axis=1) > 40), np.flatnonzero(ink.max(axis=0) > 40)
            ink = Image.fromarray(ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.uint8))
            ink = ink.resize((max(pen, round(ink.width * height / ink.height)), height), Image.Resampling.LANCZOS)
            pieces.append(np.asarray(ink, np.float32) / 255)
            continue
        mark = Image.new("L", (height // 2, height * 3 // 2), 0)  # room for a comma's tail
        draw = ImageDraw.Draw(mark)
        if char in ".,:":
            draw.ellipse([10, height - 2 - pen, 10 + pen, height - 2], fill=255)
        if char == ",":
            draw.line([(10 + pen - 1, height - 2 - pen // 2), (8, height + pen * 3)], fill=255, width=pen)
        if char == ":":
            draw.ellipse([10, height // 2 - pen, 10 + pen, height // 2], fill=255)
        if char == "-":
            draw.line([(4, height // 2), (height // 2 - 4, height // 2)], fill=255, width=pen)
        pieces.append(np.asarray(mark, np.float32) / 255)
    gap = height // 6
    page = np.zeros((5 * height // 2, sum(p.shape[1] for p in pieces) + gap * len(pieces) + 40), np.float32)
    x = 20
    for ink in pieces:  # every piece's top on the line's top
        region = page[height // 2:height // 2 + ink.shape[0], x:x + ink.shape[1]]
        np.maximum(region, ink, out=region)
        x += ink.shape[1] + gap
    return ((1 - page) * 255).astype(np.uint8)


@pytest.mark.parametrize("text", ["06-12-33", "3.14", "12:30", "4,7"])
def test_digits_model_reads_punctuation_between_tablet_digits(text):
    recognizer = shipped("digits")
    result = recognizer.read(tablet_line(text), only="digits")
    assert result.text == text
    assert [c.label for c in result.characters if c.punctuation] == [c for c in text if not c.isdigit()]


@pytest.mark.parametrize("model, only, name", [
    ("digits", None, "digit_4_00602.png"),         # a 4 whose two strokes do not touch
    ("characters", "letters", "upper_H_00280.png"),  # an H whose bar stops short of a stem
    ("characters", "letters", "upper_K_00429.png"),  # a K whose arms start apart from the stem
    ("characters", "letters", "upper_Y_00963.png"),
])
def test_read_groups_strokes_drawn_apart_into_one_character(model, only, name):
    """These tablet characters were read as two ("61", "Lt", "Lh", "LL") before strokes were grouped by reading;
    the 4 still was at half and twice its size, until the overlap of the strokes' boxes counted for joining."""
    recognizer = shipped(model)
    image = Image.open(shared_subfolder("unipen_chars") / name)
    for scale in (1.0, 0.5, 2.0):
        resized = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
        assert recognizer.read(resized, only=only).text == name.split("_")[1], scale


def test_digits_model_reads_tablet_digits_on_ruled_paper():
    """Rules through the digits (notebook paper) or under them: read as on plain paper."""
    recognizer = shipped("digits")
    page = tablet_line("06-12.33")
    ruled = page.copy()
    for row in range(15, ruled.shape[0], 40):  # gray rules 40 px apart, drawn under the ink
        ruled[row:row + 2] = np.minimum(ruled[row:row + 2], 120)
    underlined = page.copy()
    underlined[121:123, 5:-5] = 0  # a black rule the digits stand on
    assert recognizer.read(ruled).text == recognizer.read(underlined).text == "06-12.33"


@pytest.mark.parametrize("degrees", [-6, -3, 3, 6])
def test_digits_model_reads_tablet_digits_on_ruled_paper_photographed_askew(degrees):
    """Notebook rules tilted by a few degrees (a photo taken a little askew) go too."""
    recognizer = shipped("digits")
    page = tablet_line("2026 1121").astype(np.float32)
    rows, columns = np.mgrid[0:page.shape[0], 0:page.shape[1]]
    on_rule = np.abs((rows - np.tan(np.radians(degrees)) * columns - 15) % 40 - 20) < 1.0  # gray rules 40 px apart
    page[on_rule] = np.minimum(page[on_rule], 120)
    assert recognizer.read(page.astype(np.uint8)).text == "2026 1121"


@pytest.mark.parametrize("step", [16, 24, 40])
def test_digits_model_reads_tablet_digits_on_dotted_paper(step):
    """A bullet journal's grey dot grid under the digits: read as on plain paper, the full stop kept
    (its dots were read as rows of tiny characters: "1111161111")."""
    recognizer = shipped("digits")
    page = tablet_line("06-12.33")
    rows, columns = np.mgrid[0:page.shape[0], 0:page.shape[1]]
    on_dot = (np.abs((rows - 3) % step - 1) <= 1) & (np.abs((columns - 5) % step - 1) <= 1)  # 3 px dots
    page[on_dot] = np.minimum(page[on_dot], 140)
    assert recognizer.read(page).text == "06-12.33"
    one = page[:, :page.shape[1] // 4]  # about the first digit and a half: "0" with a piece of the "6"
    plain = tablet_line("06-12.33")[:, :page.shape[1] // 4]
    assert recognizer.predict(one).label == recognizer.predict(plain).label


def test_small_digits_in_a_large_photo_of_dotted_paper_are_read_closer_without_the_dots():
    """The closer look at small writing reads a region too small to find the grid in (its ink map takes most
    dots for dust): the grid found on the whole page is taken out of it, or its dots were read as "1"s and ","s."""
    import io

    recognizer = shipped("digits")
    line = tablet_line("6590", height=60)  # 60 px digits in a 4000x3000 photo: 15 px on the map it is read at first
    rows, columns = np.mgrid[0:3000, 0:4000].astype(np.float32)
    distance = np.hypot((rows - 24) % 72 - 36, (columns - 14) % 72 - 36)
    paper = (235 + np.random.default_rng(0).normal(0, 3, rows.shape)) * (0.9 + 0.1 * columns / 4000)  # grain, uneven light
    page = paper * (1 - 0.45 * np.clip(3.5 - distance, 0, 1))  # grey dots 6 px across, 72 px apart
    top, left = 1400, 1800
    region = page[top:top + line.shape[0], left:left + line.shape[1]]
    page[top:top + line.shape[0], left:left + line.shape[1]] = np.minimum(region, line.astype(np.float32) * 235 / 255)
    photo = io.BytesIO()
    Image.fromarray(page.astype(np.uint8)).save(photo, "JPEG", quality=90)
    result = recognizer.read(photo.getvalue())
    assert result.text.replace(" ", "") == "6590"
    assert min(c.box[0] for c in result.characters) >= left and max(c.box[3] for c in result.characters) <= top + line.shape[0]


def test_a_long_line_of_canvas_digits_standing_on_a_rule():
    """A full line of digits on a rule: the rule goes, the digits keep every stroke near it."""
    recognizer = shipped("digits")
    digits = "390285639028564713902856"
    page, x, hwd1000 = np.full((120, 1000), 255, np.uint8), 10, shared_subfolder("hwd1000")
    for digit in digits:
        glyph = np.asarray(Image.open(hwd1000 / f"{digit}-003.png").convert("L").resize((56, 56)))
        rows, cols = np.nonzero(glyph < 200)
        glyph = glyph[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        region = page[100 - glyph.shape[0]:100, x:x + glyph.shape[1]]
        np.minimum(region, glyph, out=region)
        x += glyph.shape[1] + 6
    assert recognizer.read(page).text == digits
    page[100:103] = np.minimum(page[100:103], 35)  # a dark rule the digits stand on
    assert recognizer.read(page).text == digits


@pytest.mark.parametrize("into, degrees, noise", [(0, 0.0, 0), (1, 0.0, 0), (2, 0.0, 0), (4, 0.0, 0), (2, 0.0, 3), (4, 0.0, 3),
                                                 (0, 2.0, 0), pytest.param(2, 3.0, 0, marks=pytest.mark.xfail(
    strict=True, reason="on a page sheared level the rule's own rows are not told apart (README: Not yet reached)"))])
def test_tablet_digits_written_on_the_rule_of_a_lined_page(into, degrees, noise):
    """Digits with their feet on a rule (most people write so), as thin as the rule and as dark to the reader
    (the rules are most of the page's ink): the strokes lying in the rule were erased with it, so a 6 read
    "10", a 2 "7" and the cut-off feet full stops ("0..23.10"). Photographed askew, the page is sheared level
    first, and there the feet in the rule still go with it."""
    recognizer = shipped("digits")
    digits = 1 - tablet_line("38057261", height=50) / 255.0
    rows, cols = np.flatnonzero(digits.max(axis=1) > 0.1), np.flatnonzero(digits.max(axis=0) > 0.1)
    digits = digits[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # ink 1.0 on 0.0, cropped to it
    page = np.ones((700, 900, 3), np.float32) * (246, 244, 238)
    for top in range(40, 700, 60):  # light-blue rules 2 px thick
        page[top:top + 2] = (160, 190, 235)
    bottom = 280 + into  # the digits' feet: on the rule at row 280, or into it and through it
    cover = np.zeros(page.shape[:2], np.float32)
    cover[bottom - digits.shape[0]:bottom, 100:100 + digits.shape[1]] = digits
    page = page * (1 - cover[..., None]) + np.array((30, 50, 160), np.float32) * cover[..., None]
    page += noise * np.random.default_rng(0).standard_normal(page.shape[:2])[..., None]  # a scanner's or a camera's
    photo = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).rotate(degrees, Image.Resampling.BICUBIC, fillcolor=(246, 244, 238))
    assert recognizer.read(photo).text == "38057261"


def test_characters_model_reads_words_as_digits_or_as_letters_by_their_context():
    """Read alone, 1/L, 0/O and the look-alike cases are guesses: "2026 / L121", "reSerVe". A word
    mostly of digits reads its letters again as digits (and the other way round), and letters whose
    cases look alike take their word's case. Asked for letters only, nothing is re-read as a digit, but the
    case rule still holds ("reSerVe" under only="letters" was the rule left out), within the case asked for."""
    recognizer = shipped("characters")
    samples = Path(__file__).resolve().parents[1] / "samples"
    assert recognizer.read(samples / "text" / "two-lines-2026-1121.png").text == "2026\n1121"  # was "2026\nL121"
    assert recognizer.read(samples / "words" / "unipen-reserve.png").text == "reserve"  # was "reSerVe"
    assert recognizer.read(samples / "words" / "unipen-lunch.png").text == "Lunch"  # a capital first letter stays
    assert recognizer.read(samples / "words" / "unipen-reserve.png", only="letters").text == "reserve"
    assert recognizer.read(samples / "words" / "unipen-reserve.png", only="lower").text == "reserve"
    assert recognizer.read(samples / "words" / "unipen-lunch.png", only="letters").text == "Lunch"  # was "LUnCh"
    assert recognizer.read(samples / "words" / "unipen-lunch.png", only="lower").text == "lunch"  # the capital not allowed
    assert recognizer.read(samples / "words" / "unipen-lunch.png", only="upper").text.isupper()


def tablet_word(word: str, variant: int, x_height: int = 40) -> Image.Image:
    """``word`` written with UNIPEN's lower-case tablet letters (the ``variant``-th file of each, in name order),
    each cut to its ink at its natural height (ascenders 1.6 x-heights), on one base line, 0.35 x-heights apart."""
    folder = shared_subfolder("unipen_chars")
    parts = []
    for char in word:
        image = Image.open(sorted(folder.glob(f"lower_{char}_*.png"))[variant]).convert("L")
        image = image.crop(Image.eval(image, lambda v: 255 - v).getbbox())
        height = round(1.6 * x_height) if char in "bdfhklt" else x_height
        parts.append(image.resize((max(2, round(image.width * height / image.height)), height), Image.Resampling.LANCZOS))
    gap, margin, tallest = round(0.35 * x_height), 30, round(1.6 * x_height)
    page = Image.new("L", (sum(p.width for p in parts) + gap * (len(parts) - 1) + 2 * margin, tallest + 2 * margin), 255)
    x = margin
    for part in parts:
        page.paste(part, (x, margin + tallest - part.height))
        x += part.width + gap
    return page


@pytest.mark.parametrize("word, variant", [("mum", 3), ("mum", 4), ("warm", 3), ("human", 3), ("woman", 3)])
def test_a_letter_wider_than_pieces_may_be_is_read_whole(word, variant):
    """An m or a w at x-height is wider than the widest piece the cut chooser reads (1.6 heights), so it was
    never read whole and always cut: "mum" read "yyvuyyv", "warm" "waryyv", "human" "huwvan"."""
    assert shipped("characters").read(tablet_word(word, variant), only="lower").text == word


def test_predict_says_when_an_image_holds_several_characters():
    recognizer = shipped("digits")
    hwd1000 = shared_subfolder("hwd1000")

    def ink(char: str) -> np.ndarray:
        return 255 - np.asarray(Image.open(hwd1000 / f"{char}-001.png").convert("L"))

    pairs = ["12", "47", "90", "38"]
    pages = [255 - write_on_page(pair, ink, size=(40, 70), line_height=30, gap=6, space=20, threshold=127) for pair in pairs]
    singles = every_nth(sorted(hwd1000.glob("*.png")), 100)
    answers = recognizer.predict_batch(pages + singles)
    assert [a.several_characters for a in answers[:len(pairs)]] == pairs
    assert all(a.uncertain for a in answers[:len(pairs)])
    flagged = [path.name for a, path in zip(answers[len(pairs):], singles) if a.several_characters]
    assert flagged == []  # one digit is never "several characters"
    # two digits that touch leave no gap, but no digit is that wide
    touching = 255 - write_on_page("23", ink, size=(40, 70), line_height=30, gap=0, space=20, threshold=127)
    assert recognizer.predict(touching).several_characters == "23"


def test_several_characters_are_told_as_read_would_read_them():
    """The hint that an image holds several characters spelled the pieces' own labels: "the cat"
    came out "theC0t", "lunch" "LUnCh", "0612 334" "0612334". It now says what read says."""
    recognizer = shipped("characters")
    samples = Path(__file__).resolve().parents[1] / "samples"
    for name, text in (("words/unipen-lunch.png", "Lunch"), ("words/unipen-reserve.png", "reserve"),
                       ("text/phone-0612-334.png", "0612 334"), ("text/two-lines-2026-1121.png", "2026\n1121")):
        answer = recognizer.predict(samples / name)
        assert answer.several_characters == text == recognizer.read(samples / name).text, name


def test_a_letter_in_strokes_apart_is_not_several_characters():
    recognizer = shipped("characters")
    letters = sorted(shared_subfolder("unipen_chars").glob("upper_*.png"))
    answers = recognizer.predict_batch(letters, only="upper")
    flagged = [path.name for a, path in zip(answers, letters) if a.several_characters]
    assert len(flagged) <= 0.01 * len(letters), flagged  # measured: 3 of 1,194 letters


def test_light_ink_bitmaps_whose_ink_reaches_their_edges_are_read_the_right_way_round():
    """Semeion's 16x16 bitmaps, white ink on black, the digit stretched to the edges: the black paper fell
    short of three quarters of the border, was taken for the ink, and 53% of them were misread (a box
    around a dark digit); they are now read both ways round and the surer reading kept."""
    recognizer = shipped("digits")
    folder = shared_subfolder("semeion")
    rows = [line.split(",") for line in (folder / "labels.csv").read_text().splitlines()[1:]]
    rows = rows[:: max(1, len(rows) // 80)][:80]
    dark_on_light = []
    for file, label, *_ in rows:
        gray = np.asarray(Image.open(folder / file).convert("L"))
        border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
        dark_on_light.append(255 - gray if np.mean(border < 128) > 0.5 else gray)
    labels = [label for _, label, *_ in rows]
    dark = recognizer.predict_batch(dark_on_light)
    light = recognizer.predict_batch([255 - gray for gray in dark_on_light])
    right_dark = sum(p.label == label for p, label in zip(dark, labels))
    right_light = sum(p.label == label for p, label in zip(light, labels))
    assert right_dark >= 0.9 * len(labels)
    assert right_light >= 0.7 * len(labels), (right_light, right_dark)
    read_light = sum(recognizer.read(255 - gray).text == label for gray, label in zip(dark_on_light, labels))
    assert read_light >= 0.6 * len(labels), read_light  # read tries both ways round too (37% before)


def test_tight_white_on_black_crops_of_bold_digits_are_read_the_right_way_round():
    """A developer's own segmentation gives MNIST-like crops, white ink on black, cut tight to the ink. Where
    the ink covers more than half of the crop, its black paper is taken for the ink; the crop was read the
    other way round as well only if that "ink" covered 40% of it, so a bold 8 whose paper is 38% of its
    crop was read as 0. And the other reading had to be 1.3 times surer: a bold 1's box read as 0 at 0.8
    can never lose to the 1 itself at 0.97; now leaving half the doubt is enough too. (``benchmarks/polarity.py``:
    light ink on dark, 77.1% -> 90.4% of its 3,600 images, 75.3% -> 89.9% of the next 3,600. ``read`` keeps
    the stricter rules: see ``READ_INVERTED_INK_SHARE``.)"""
    recognizer = shipped("digits")

    def tight(draw_digit, size: tuple[int, int]) -> np.ndarray:
        image = Image.new("L", size)
        draw_digit(ImageDraw.Draw(image))
        ink = np.asarray(image, np.float32) / 255
        rows, columns = np.nonzero(ink > 0.5)
        return ink[rows.min(): rows.max() + 1, columns.min(): columns.max() + 1]

    for width in (8, 10, 12, 14):
        eight = tight(lambda d: (d.ellipse([18, 8, 62, 48], outline=255, width=width),
                                 d.ellipse([14, 46, 66, 94], outline=255, width=width)), (80, 100))
        assert recognizer.predict(eight).label == "8", (width, float((eight > 0.5).mean()))
    for width in (8, 10, 12, 14):
        one = tight(lambda d: (d.line([(34, 8), (26, 92)], fill=255, width=width),
                               d.line([(34, 8), (22, 22)], fill=255, width=width)), (60, 100))
        zero = tight(lambda d: d.ellipse([14, 8, 66, 92], outline=255, width=width), (80, 100))
        assert recognizer.predict(one).label == "1" and recognizer.predict(zero).label == "0", width


def test_predict_says_when_a_note_of_letters_and_digits_holds_several_characters():
    """Each of a note's pieces had to read as surely as the whole: a note's letters rarely all do, and
    a two-line note of words and numbers came back as one character ("M", 0.71), unflagged."""
    recognizer = shipped("characters")
    unipen = shared_subfolder("unipen_chars")
    rows = [line.split(",")[:2] for line in (unipen / "labels.csv").read_text().splitlines()[1:]]
    files: dict[str, list[str]] = {}
    for file, label in rows:
        files.setdefault(label, []).append(file)

    def ink(char: str) -> np.ndarray:  # UNIPEN characters: dark pen strokes on white
        image = Image.open(unipen / files[char][0]).convert("L").resize((40, 40))
        return 255 - np.asarray(image)

    notes = ["bed 42\nCAB 70", "pay 15\nnow", "cat 9\ndog 3", "ask\nME 8"]
    flagged = 0
    for text in notes:
        page = 255 - write_on_page(text, ink, size=(110, 220), line_height=50, gap=8, space=20, threshold=127)
        flagged += recognizer.predict(page).several_characters is not None
    assert flagged == len(notes)


def test_predict_says_a_note_of_four_lines_holds_several_characters_whatever_the_digits_model_makes_of_it():
    """A shopping list of UNIPEN letters and digits (a heading and three lines; a helper's note) read with the
    default digits model: its letters, each unsure as digits, left the median piece under the whole's 0.87, and
    predict answered a sure "5" with no note. Lines of characters are several characters."""
    answer = shipped("digits").predict(Path(__file__).resolve().parent / "data" / "shopping_list.png")
    assert answer.several_characters is not None and answer.several_characters.count("\n") == 3 and answer.uncertain


def test_model_pairs_load_in_python_as_the_command_line_writes_them():
    shipped("digits")
    if not (PRETRAINED_DIR / "lines" / "model.json").exists():
        pytest.skip(f"the shipped 'lines' model is not in {PRETRAINED_DIR}")
    from inkread import Recognizer

    pair = Recognizer.load("digits+lines")
    assert pair.name == "digits" and pair.touching is not None and pair.touching.name == "lines"
    with pytest.raises(Exception, match="in MODEL\\+LINES the first model reads single characters"):
        Recognizer.load("lines+digits")
    # a LineReader already loaded is taken as it is (it was "unknown model '<...LineReader object at 0x...>'")
    from inkread import InkreadError, LineReader

    lines = LineReader.load("lines")
    assert repr(lines) == "LineReader('lines', 68 characters)"
    shared = Recognizer.load("digits", touching=lines)
    assert shared.touching is lines and repr(shared) == "Recognizer('digits', 10 classes, recipe='mnist', touching='lines')"
    with pytest.raises(InkreadError, match="^touching=5: give a line model"):
        Recognizer.load("digits", touching=5)


@pytest.mark.parametrize("paper", [255, 210])
@pytest.mark.parametrize("sample, model, wanted", [("text/two-lines-2026-1121.png", "digits", "2026\n1121"),
                                                   ("text/phone-0612-334.png", "digits", "0612 334"),
                                                   ("letters/unipen-upper_K_00400.png", "characters", "K")])
def test_a_dithered_scan_is_read_as_the_grays_it_stands_for(sample, model, wanted, paper):
    """A scanner or fax in black-and-white mode draws grays as scattered dots (a halftone: Pillow's
    convert("1") dithers so): soft writing, or any writing on gray paper, became thousands of specks
    ("more than 500 specks of ink") or dots read as colons and full stops ("8::5")."""
    from PIL import ImageFilter

    image = Image.open(REPO / "samples" / sample).convert("L")
    if max(image.size) < 200:
        image = image.resize((image.width * 4, image.height * 4), Image.Resampling.LANCZOS)
    soft = image.filter(ImageFilter.GaussianBlur(3)).point(lambda level: level * paper // 255)
    dithered = soft.convert("1")
    assert shipped(model).read(dithered).text == wanted
