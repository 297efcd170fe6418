"""A closer look at small writing in a large image (``inference.closer``) and the readers that take one."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from inkread.inference import closer
from inkread.inference.closer import closer_look
from inkread.inference.results import CharacterResult, ReadResult
from helpers import REPO


def reading(*boxes, punctuation=False) -> ReadResult:
    """A first reading of characters at ``boxes`` (in the input's pixels)."""
    return ReadResult.of([CharacterResult(label="1", confidence=0.9, box=box, line=0, top_k=[("1", 0.9)], punctuation=punctuation)
                          for box in boxes])


# A 4000x3000 photo read at 1024x768: 3.9 of its pixels to one of the ink map's.
SCALE, SHAPE = 4000 / 1024, (768, 1024)


def test_writing_read_at_a_good_size_or_from_an_image_not_reduced_is_not_looked_at_again():
    assert closer_look(reading((1000, 1000, 1060, 1080)), SCALE, SHAPE) is None  # 80 px: 20 on the ink map
    assert closer_look(reading((100, 100, 110, 112)), 1.0, (768, 1024)) is None  # small, but the image has no more
    assert closer_look(ReadResult.nothing(), SCALE, SHAPE) is None
    assert closer_look(reading((1000, 1000, 1010, 1040), punctuation=True), SCALE, SHAPE) is None  # a dash alone


def test_small_writing_is_looked_at_in_its_region_at_a_scale_that_makes_it_about_32_px():
    look = closer_look(reading((1000, 1000, 1030, 1040), (1040, 1000, 1070, 1040)), SCALE, SHAPE)  # 40 px: 10 px
    assert look is not None
    region, pixels = look
    assert region == (920, 920, 1150, 1120)  # two character heights beyond them
    scale = math.sqrt(4000 * 3000 / pixels)
    assert scale == pytest.approx(40 / closer.CLOSE_PX, rel=0.01)


def test_a_closer_look_stays_within_the_image_and_the_pixel_limits():
    region, pixels = closer_look(reading((10, 10, 30, 30), (3970, 2970, 3990, 2990)), SCALE, SHAPE)
    assert region == (0, 0, 4000, 3000)  # writing in two corners: the whole image, at no more than CLOSE_PIXELS
    assert pixels == pytest.approx(closer.CLOSE_PIXELS, rel=0.01)
    big = 40_000_000 / (4000 * 3000) * SCALE  # a 40 MP image: decoded whole at no more than DECODE_PIXELS
    region, pixels = closer_look(reading((5000, 5000, 5012, 5012)), big, SHAPE)
    assert pixels <= closer.DECODE_PIXELS


def test_a_closer_look_that_would_gain_too_little_is_not_taken():
    # 18 px on the ink map of an image reduced 1.1 times: the input has 10% more pixels to give, not 25%
    assert closer_look(reading((100, 100, 120, 120)), 1.1, SHAPE) is None


def photo(sample: str, height: int, at: tuple[int, int], size=(4000, 3000)) -> bytes:
    """The sample image (dark writing on white), scaled to ``height`` px, on a grey ``size`` photo at ``at``: a JPEG."""
    writing = Image.open(REPO / "samples" / sample).convert("L")
    writing = writing.resize((round(writing.width * height / writing.height), height), Image.Resampling.LANCZOS)
    page = np.full((size[1], size[0]), 225, np.float32) + np.random.default_rng(0).normal(0, 3, (size[1], size[0]))
    ink = 1 - np.asarray(writing, np.float32) / 255
    page[at[1]:at[1] + height, at[0]:at[0] + writing.width] *= 1 - 0.8 * ink
    buffer = io.BytesIO()
    Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def shipped(kind: str, name: str):
    from inkread import Recognizer
    from inkread.inference.line_reader import LineReader
    from inkread.inference.onnx_model import PRETRAINED_DIR

    if not (PRETRAINED_DIR / name / "model.json").exists():
        pytest.skip(f"the shipped {name!r} model is not in {PRETRAINED_DIR}")
    return (LineReader if kind == "lines" else Recognizer).load(name)


def test_a_phone_number_written_small_in_a_large_photo_is_read_as_close_up():
    """At 1024x768 the digits of a number 50 px tall in a 4000x3000 photo are 13 px tall: it read "0812 339"."""
    recognizer = shipped("characters", "digits")
    assert recognizer.read(REPO / "samples" / "text" / "phone-0612-334.png").text == "0612 334"
    result = recognizer.read(photo("text/phone-0612-334.png", 50, (2500, 1800)))
    assert result.text == "0612 334"
    for character in result.characters:  # boxes in the photo's pixels, on the writing
        x0, y0, x1, y1 = character.box
        assert 2500 <= x0 < x1 <= 2500 + 295 and 1800 <= y0 < y1 <= 1850


@pytest.mark.parametrize("word", ["criteria", "maxwell"])
def test_a_word_written_small_in_a_large_photo_is_read_as_close_up(word):
    """UNIPEN words 48 and 80 px tall (their writing 12 and 20 px on the 1024x768 ink map) read, before the closer
    look, "aa" and "nitta" for what reads "attia" close up, and "marwell" and "tax well" for "orwell"."""
    reader = shipped("lines", "lines")
    sample = f"words/unipen-{word}.png"
    close_up = reader.read(REPO / "samples" / sample, only="letters", lexicon="english").text
    for height in (48, 80):
        with io.BytesIO(photo(sample, height, (600, 2400))) as file:  # an open file, as uploads come
            result = reader.read(file, only="letters", lexicon="english")
        assert result.text == close_up, height
        width = Image.open(REPO / "samples" / sample).width * height / 64
        assert all(600 <= c.box[0] < c.box[2] <= 600 + width + 1 and 2400 <= c.box[1] < c.box[3] <= 2400 + height
                   for c in result.characters)
