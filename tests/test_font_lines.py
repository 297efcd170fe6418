"""Lines written in handwriting fonts (data/font_lines.py) and train-lines' font and fine-tuning options."""

from __future__ import annotations


import numpy as np
import pytest

from inkread.data.font_lines import FontBank, compose_font_line, find_fonts, missing_fonts_message
from inkread.data.lines import CHARSET, MARKS, make_lines
from inkread.errors import DatasetError, InkreadError
from inkread.imaging.line import LINE_HEIGHT

from helpers import ctrl_c_at_second_validation, fake_characters, matplotlib_fonts


@pytest.fixture(scope="module")
def bank() -> FontBank:
    return FontBank(find_fonts(matplotlib_fonts()), CHARSET)


def test_fonts_are_found_below_a_folder_and_fonts_without_latin_letters_are_left_out(bank):
    files = find_fonts(matplotlib_fonts())
    assert any(path.name == "DejaVuSans.ttf" for path in files)
    assert all(path.suffix.lower() in (".ttf", ".otf") for path in files)
    assert "DejaVuSans.ttf" in bank.names
    assert "STIXSizOneSymReg.ttf" not in bank.names  # a font of big symbols (brackets, sums): no letters


def test_a_font_is_picked_only_for_a_text_it_has_every_character_of(bank, tmp_path):
    rng = np.random.default_rng(0)
    assert bank.pick("Hello world", rng) is not None
    only_digits = FontBank([], CHARSET)
    only_digits.fonts = [("digits.ttf", frozenset("0123456789"))]
    assert only_digits.pick("2026", rng) == "digits.ttf"
    assert only_digits.pick("20 26", rng) == "digits.ttf"  # a space is no glyph to have
    assert only_digits.pick("2026a", rng) is None


def test_a_font_line_is_a_normalized_line_with_ink_reproducible_from_its_seed(bank):
    first = compose_font_line("joined up", bank, np.random.default_rng(5))
    again = compose_font_line("joined up", bank, np.random.default_rng(5))
    other = compose_font_line("joined up", bank, np.random.default_rng(6))
    assert first.dtype == np.float32 and first.shape[0] == LINE_HEIGHT
    assert 0.0 <= first.min() and first.max() <= 1.0 and (first > 0.5).sum() > 100
    assert np.array_equal(first, again)
    assert not (first.shape == other.shape and np.array_equal(first, other))  # another size, spacing or warp
    longer = compose_font_line("joined up writing", bank, np.random.default_rng(5))
    assert longer.shape[1] > 1.3 * first.shape[1]


def test_make_lines_writes_the_share_of_lines_asked_for_in_fonts(bank, monkeypatch):
    import inkread.data.lines as lines

    written = []
    real_compose = lines.compose_font_line
    monkeypatch.setattr(lines, "compose_font_line", lambda *args: written.append(1) or real_compose(*args))
    monkeypatch.setattr(lines, "compose_line", lambda text, *args: np.zeros((LINE_HEIGHT, 8 * len(text) + 8), np.float32))
    images, texts = make_lines(None, 200, seed=3, fonts=bank, font_share=0.5)
    assert len(images) == len(texts) == 200 and all(image.shape[0] == LINE_HEIGHT for image in images)
    assert 70 <= len(written) <= 130
    written.clear()
    make_lines(None, 50, seed=3, fonts=bank, font_share=0.0)
    assert written == []


def test_a_file_that_is_not_a_font_is_refused_by_name(tmp_path):
    broken = tmp_path / "Broken.ttf"
    broken.write_bytes(b"\x00\x01\x00\x00 this is no font")
    with pytest.raises(DatasetError, match=r"Broken\.ttf is not a font .*remove it"):
        FontBank(find_fonts(tmp_path), CHARSET)
    with pytest.raises(DatasetError, match="is not a folder"):
        find_fonts(tmp_path / "nowhere")


def test_a_font_freetype_cannot_open_is_refused_by_name_before_training(tmp_path):
    """fontTools read it, FreeType (which draws the lines) refused it mid-training: "broken table: check the path and
    free space", or a data loader's 30-line traceback (a helper's damaged DejaVuSans)."""
    import shutil

    from fontTools.ttLib import TTFont

    source = matplotlib_fonts() / "DejaVuSans.ttf"
    with TTFont(source, lazy=True) as font:
        head = font.reader.tables["head"]
    damaged = bytearray(source.read_bytes())
    damaged[head.offset:head.offset + head.length] = bytes(head.length)  # its header zeroed: FreeType's "broken table"
    (tmp_path / "Damaged.ttf").write_bytes(damaged)
    shutil.copy(matplotlib_fonts() / "DejaVuSerif.ttf", tmp_path)
    with pytest.raises(DatasetError, match=r"Damaged\.ttf is not a font FreeType can open \(.*\): remove it from the fonts folder"):
        FontBank(find_fonts(tmp_path), CHARSET)


def test_fonts_that_lack_most_characters_are_named_not_said_to_be_missing(tmp_path, monkeypatch):
    """A folder of fonts without Latin letters (symbols here; a digits-only font, a helper's) was "no handwriting fonts
    (.ttf, .otf) found", beside the fonts, and the user looked for a typo."""
    import shutil

    import inkread.data
    from inkread.training.lines import LineTrainConfig, train_lines

    monkeypatch.setattr(inkread.data, "load_dataset", _fake_emnist)
    shutil.copy(matplotlib_fonts() / "STIXSizFiveSymReg.ttf", tmp_path)
    bank = FontBank(find_fonts(tmp_path), CHARSET)
    assert bank.fonts == [] and bank.left_out == ["STIXSizFiveSymReg.ttf"]
    with pytest.raises(DatasetError, match=rf"^no font in {tmp_path} has half the letters, digits and marks lines are "
                                           r"written with \(STIXSizFiveSymReg\.ttf: left out\): install"):
        train_lines(LineTrainConfig(out=str(tmp_path / "run"), fonts=str(tmp_path), progress=False))


def test_no_fonts_says_how_to_get_them_or_do_without():
    message = missing_fonts_message(None)
    assert "apt-get install fonts-dancingscript" in message and "--fonts DIR" in message and "--font-share 0" in message


def test_debians_handwriting_fonts_are_found_where_setup_installs_them():
    found = find_fonts()
    if not found:
        pytest.skip("Debian's handwriting fonts are not installed (bash scripts/setup.sh test installs them)")
    bank = FontBank(found, CHARSET)
    assert len(bank.fonts) >= 10
    assert any("DancingScript" in name for name in bank.names) and any("Kristi" in name for name in bank.names)


def test_train_lines_refuses_a_bad_font_share_and_an_empty_fonts_folder_before_training(tmp_path, monkeypatch):
    import inkread.data
    from inkread.training.lines import LineTrainConfig, train_lines

    with pytest.raises(InkreadError, match="font_share must be between 0 and 1"):
        train_lines(LineTrainConfig(out=str(tmp_path / "run"), font_share=1.5))
    monkeypatch.setattr(inkread.data, "load_dataset", _fake_emnist)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"no handwriting fonts .* found in .*empty: install"):
        train_lines(LineTrainConfig(out=str(tmp_path / "run"), fonts=str(tmp_path / "empty"), epochs=1, lines_per_epoch=8,
                                    batch_size=4, val_lines=4, progress=False, threads=1))
    assert not (tmp_path / "run" / "model").exists()


def test_train_lines_fine_tunes_a_line_model_and_records_where_it_started(tmp_path, monkeypatch):
    import torch

    import inkread.data
    from inkread.inference.bundle_format import ModelMeta
    from inkread.training.lines import LineTrainConfig, train_lines

    monkeypatch.setattr(inkread.data, "load_dataset", _fake_emnist)
    settings = dict(epochs=1, lines_per_epoch=16, batch_size=8, val_lines=4, progress=False, threads=1,
                    fonts=str(matplotlib_fonts()), width=8)
    first = train_lines(LineTrainConfig(out=str(tmp_path / "first"), **settings))
    seen = {}
    real_load = torch.nn.Module.load_state_dict

    def spy(module, state, *args, **kwargs):
        seen.setdefault("start", {key: value.clone() for key, value in state.items()})
        return real_load(module, state, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "load_state_dict", spy)
    tuned = train_lines(LineTrainConfig(out=str(tmp_path / "tuned"), init_from=str(tmp_path / "first"), **settings))
    start_weights = torch.load(first / "weights.pt", weights_only=True)
    assert all(torch.equal(seen["start"][key], value) for key, value in start_weights.items())
    meta = ModelMeta.read(tuned)
    assert meta.training["recipe"]["init_from"] == str((tmp_path / "first").resolve())
    assert "DejaVuSans.ttf" in meta.training["fonts"] and "handwriting fonts" in meta.training["data"]
    assert meta.training["started_from"]["name"] == "first" and meta.training["started_from"]["training"]["recipe"]["width"] == 8

    with pytest.raises(InkreadError, match="does not fit a line model of width 16"):
        train_lines(LineTrainConfig(out=str(tmp_path / "wider"), init_from=str(first), **{**settings, "width": 16}))
    with pytest.raises(InkreadError, match="is a character model: init_from of train-lines needs a line model"):
        train_lines(LineTrainConfig(out=str(tmp_path / "digits"), init_from="digits", **settings))


def test_a_resumed_fine_tuning_keeps_the_record_of_its_start_model(tmp_path, monkeypatch):
    import inkread.data
    import inkread.training.lines as lines
    from inkread.inference.bundle_format import ModelMeta
    from inkread.training.lines import LineTrainConfig, train_lines

    monkeypatch.setattr(inkread.data, "load_dataset", _fake_emnist)
    settings = dict(epochs=1, lines_per_epoch=16, batch_size=8, val_lines=4, progress=False, threads=1,
                    fonts=str(matplotlib_fonts()), width=8)
    first = train_lines(LineTrainConfig(out=str(tmp_path / "first"), **settings))
    tuning = dict(settings, epochs=2, out=str(tmp_path / "tuned"), init_from=str(first))
    with ctrl_c_at_second_validation(lines), pytest.raises(KeyboardInterrupt):
        train_lines(LineTrainConfig(**tuning))
    (first / "weights.pt").unlink()  # the start model is gone: its weights are in the checkpoint, its record too
    resumed = train_lines(LineTrainConfig(**tuning, resume=True))
    assert ModelMeta.read(resumed).training["started_from"]["name"] == "first"


def _fake_emnist(*args, **kwargs):
    """Blobs standing in for EMNIST's 62 characters: no data files needed."""
    from inkread.data.splits import DatasetSplits, ImageSet

    part = ImageSet(*fake_characters())
    return DatasetSplits("fake", tuple(c for c in CHARSET if c != " " and c not in MARKS), "emnist", part, part, part)
