"""The line reader: line normalization, synthetic lines, CTC decoding, training, reading, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from helpers import ctrl_c_at_second_validation, fake_characters, inkread_cli, matplotlib_fonts, shared_subfolder
from inkread.data.lines import CHARSET, MARKS, CharacterBank, compose_line, encode, make_lines, random_text
from inkread.errors import DatasetError, InkreadError, InputImageError, ModelBundleError
from inkread.imaging.line import INK_HEIGHT, LINE_HEIGHT, MARGIN, PEN_WIDTH, normalize_line
from inkread.imaging.preprocess import NoInkError, _crop, _resize
from inkread.imaging.stroke import stroke_width
from inkread.inference.bundle_format import ModelMeta
from inkread.inference.ctc import ctc_greedy
from inkread.inference.line_reader import LineReader
from inkread.training.lines import LineTrainConfig, augment_lines, collate, train_lines

LETTERS_AND_DIGITS = [c for c in CHARSET if c != " " and c not in MARKS]


def _pen_line(width: int = 300, height: int = 80, pen: int = 1) -> np.ndarray:
    """A zigzag drawn with a thin pen, as an ink map."""
    image = Image.new("L", (width, height), 0)
    ImageDraw.Draw(image).line([(10, 60), (60, 20), (110, 60), (160, 20), (210, 60)], fill=255, width=pen)
    return np.asarray(image, np.float32) / 255


def test_normalize_line_scales_the_ink_to_the_standard_height_and_pen():
    line = normalize_line(_pen_line())
    assert line.shape[0] == LINE_HEIGHT and line.dtype == np.float32
    rows = np.flatnonzero((line > 0.05).any(axis=1))
    assert MARGIN - 2 <= rows[0] and rows[-1] <= LINE_HEIGHT - MARGIN + 1  # ink fills the height, the pen may grow a pixel
    assert rows[-1] - rows[0] + 1 >= INK_HEIGHT
    assert abs(stroke_width(line > 0.5) - PEN_WIDTH) < 0.8  # a 1 px pen brought to about 3 px
    assert 0.0 <= line.min() and line.max() <= 1.0


def test_normalize_line_thins_a_marker_without_drawing_outlines():
    fat = normalize_line(_pen_line(pen=14))
    scaled_only = np.clip(_resize(_crop(_pen_line(pen=14)), fat.shape[1] - 2 * MARGIN, INK_HEIGHT), 0, 1)
    assert stroke_width(fat > 0.5) < stroke_width(scaled_only > 0.5) - 1
    # across a stroke the ink rises once and falls once: no light core inside a dark rim
    column = fat[:, fat.shape[1] // 2 - 8]
    inked = np.flatnonzero(column > 0.5)
    assert len(inked) and np.all(np.diff(inked) == 1)


def test_normalize_line_refuses_blank_and_absurdly_long_lines():
    with pytest.raises(NoInkError):
        normalize_line(np.zeros((40, 100), np.float32))
    flat = np.zeros((20, 4000), np.float32)
    flat[5:10, :] = 1.0  # 5 px high, 4000 px long
    with pytest.raises(InputImageError, match="wider than high.*crop it"):
        normalize_line(flat)


def _fake_bank() -> CharacterBank:
    return CharacterBank(*fake_characters(), tuple(LETTERS_AND_DIGITS))


def test_synthetic_lines_are_reproducible_and_grow_with_the_text():
    bank = _fake_bank()
    first, texts = make_lines(bank, 20, seed=3)
    again, texts_again = make_lines(bank, 20, seed=3)
    assert texts == texts_again and all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(image.shape[0] == LINE_HEIGHT and image.dtype == np.uint8 for image in first)
    assert all(set(text) <= set(CHARSET) and text == text.strip() for text in texts)
    short = compose_line("ab", bank, np.random.default_rng(1))
    long = compose_line("abcdefghij", bank, np.random.default_rng(1))
    assert long.shape[1] > 2.5 * short.shape[1]


def test_random_texts_mix_words_strings_numbers_and_punctuation():
    rng = np.random.default_rng(0)
    texts = [random_text(rng) for _ in range(2000)]
    assert any(t.isdigit() for t in texts) and any(" " in t for t in texts)
    assert any(t.isupper() for t in texts) and any(t.istitle() for t in texts)
    assert any(set(t) & set(MARKS) for t in texts)


def test_some_random_texts_hold_a_number_among_words():
    # else the line model reads digits beside letters badly ("page 10" as "page 2O"): numbers stood alone only
    rng = np.random.default_rng(0)
    texts = [random_text(rng) for _ in range(4000)]
    mixed = [t for t in texts if " " in t and any(w.isdigit() for w in t.split()) and any(w.isalpha() for w in t.split())]
    assert 0.05 < len(mixed) / len(texts) < 0.15


def test_a_bank_without_some_character_is_refused():
    images = np.full((2, 28, 28), 255, np.uint8)
    with pytest.raises(DatasetError, match="no images of.*inkread data fetch emnist"):
        CharacterBank(images, np.array([0, 1]), tuple(LETTERS_AND_DIGITS))


def test_ctc_targets_leave_zero_for_the_blank():
    assert encode("0") == [1] and encode("a") == [CHARSET.index("a") + 1]
    assert 0 not in encode(CHARSET)


def test_ctc_greedy_collapses_repeats_and_keeps_doubled_letters_apart():
    labels = ("a", "b")
    path = [1, 1, 0, 1, 2, 2, 0, 0]  # a a _ a b b _ _  ->  "aab"
    log_probs = np.full((len(path), 3), np.log(0.05), np.float32)
    for column, cls in enumerate(path):
        log_probs[column, cls] = np.log(0.9)
    log_probs[1, 1] = np.log(0.95)
    read = ctc_greedy(log_probs, labels)
    assert [c for c, *_ in read] == ["a", "a", "b"]
    assert read[0][2:] == (0, 1) and read[1][2:] == (3, 3) and read[2][2:] == (4, 5)
    assert read[0][1] == pytest.approx(0.95)


def test_line_augmentation_keeps_shape_and_range_and_blank_stays_blank():
    images = torch.zeros(4, 1, LINE_HEIGHT, 64)
    images[:2, :, 10:30, 10:50] = 1.0
    out = augment_lines(images, torch.Generator().manual_seed(0))
    again = augment_lines(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and torch.equal(out, again)
    assert out.min() >= 0 and out.max() <= 1 and out[2:].abs().sum() == 0 and out[:2].sum() > 0


def test_collate_pads_to_an_even_width_and_concatenates_targets():
    images = [np.ones((LINE_HEIGHT, 7), np.uint8), np.ones((LINE_HEIGHT, 10), np.uint8)]
    batch, targets, widths, lengths = collate(images, ["ab", "c"])
    assert batch.shape == (2, 1, LINE_HEIGHT, 10) and batch[0, 0, :, 7:].sum() == 0
    assert widths.tolist() == [7, 10] and lengths.tolist() == [2, 1] and targets.tolist() == encode("abc")


def test_bad_line_training_options_are_refused(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    for bad in ({"epochs": 0}, {"batch_size": 1}, {"lr": 0.0}, {"lines_per_epoch": 10, "batch_size": 64}, {"seed": -1},
                {"out": str(tmp_path / "a-file")}):
        with pytest.raises(InkreadError):
            train_lines(LineTrainConfig(**{"out": str(tmp_path / "run"), **bad}))
    # an allocator's traceback, and an epoch trained to say "diverged" (a helper's finds)
    with pytest.raises(InkreadError, match=r"^width \(the network's width\) must be from 1 to 256, got 100000"):
        train_lines(LineTrainConfig(out=str(tmp_path / "run"), width=100000))
    with pytest.raises(InkreadError, match="^lr must be a positive number, got inf$"):
        train_lines(LineTrainConfig(out=str(tmp_path / "run"), lr=float("inf")))


def test_a_diverging_line_run_stops_with_advice_and_writes_no_model(tmp_path, monkeypatch):
    import inkread.data
    from inkread.data.splits import DatasetSplits, ImageSet

    part = ImageSet(*fake_characters())
    monkeypatch.setattr(inkread.data, "load_dataset",  # the blobs stand in for EMNIST: no data files needed
                        lambda *args, **kwargs: DatasetSplits("fake", tuple(LETTERS_AND_DIGITS), "emnist", part, part, part))
    with pytest.raises(InkreadError, match=r"training diverged in epoch 1: the loss is nan; lower lr .*another folder"):
        train_lines(LineTrainConfig(out=str(tmp_path / "run"), lr=1e30, epochs=1, lines_per_epoch=8, batch_size=4,
                                    val_lines=4, progress=False, threads=1))
    assert not (tmp_path / "run" / "model").exists()
    assert not list((tmp_path / "run").glob("checkpoint*"))


def test_epochs_that_tie_on_validation_ship_the_later_weights(tmp_path, monkeypatch):
    """A short run from scratch reads every validation line wrong at every epoch (CER 100%): the first epoch's weights,
    its worst, were shipped (a helper's find). A tie goes to the later epoch."""
    import inkread.data
    import inkread.training.lines as lines
    from inkread.data.splits import DatasetSplits, ImageSet

    part = ImageSet(*fake_characters())
    monkeypatch.setattr(inkread.data, "load_dataset",
                        lambda *args, **kwargs: DatasetSplits("fake", tuple(LETTERS_AND_DIGITS), "emnist", part, part, part))
    monkeypatch.setattr(lines, "validate", lambda *args, **kwargs: (1.0, 0.0))
    bundle = train_lines(LineTrainConfig(out=str(tmp_path / "run"), epochs=2, lines_per_epoch=8, batch_size=4, val_lines=4,
                                         width=TINY_WIDTH, font_share=0, progress=False, threads=1))
    last = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    shipped = torch.load(bundle / "weights.pt", weights_only=True)
    assert all(torch.equal(shipped[key], value) for key, value in last.items())


# --- end to end on the real EMNIST files --------------------------------------------------------

TINY_WIDTH = 8  # the test run's LineNet: its first layer's channels (the shipped model's: 24)


@pytest.fixture(scope="module")
def tiny_line_run(tmp_path_factory) -> Path:
    """A narrow line reader trained for one short epoch on synthetic lines of real EMNIST characters."""
    data_dir = shared_subfolder("emnist").parent
    out = tmp_path_factory.mktemp("lines") / "run"
    train_lines(LineTrainConfig(out=str(out), data_dir=str(data_dir), epochs=1, lines_per_epoch=256, width=TINY_WIDTH,
                                val_lines=32, progress=False, fonts=str(matplotlib_fonts())))
    return out


def _word_image(path: Path) -> Path:
    image = Image.new("L", (240, 90), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(20, 70), (40, 20), (60, 70)], fill=0, width=4)
    draw.line([(90, 20), (90, 70), (120, 70)], fill=0, width=4)
    draw.ellipse([150, 30, 200, 70], outline=0, width=4)
    image.save(path)
    return path


def test_a_trained_line_bundle_reads_through_the_shared_result_type(tiny_line_run, tmp_path):
    bundle = tiny_line_run / "model"
    assert {p.name for p in bundle.iterdir()} == {"model.json", "model.onnx", "weights.pt"}
    history = (tiny_line_run / "history.csv").read_text().splitlines()  # as every run folder gets
    assert history[0] == "epoch,train_loss,val_cer,val_exact,lr,seconds" and len(history) == 2
    assert json.loads((tiny_line_run / "history.json").read_text())[0]["epoch"] == 1
    reader = LineReader.load(bundle)
    result = reader.read(_word_image(tmp_path / "word.png"))
    assert result.to_dict().keys() >= {"text", "confidence", "characters"}
    for character in result.characters:
        x0, y0, x1, y1 = character.box
        assert 0 <= x0 <= x1 <= 240 and 0 <= y0 < y1 <= 90 and character.line == 0
    digits = reader.read(_word_image(tmp_path / "word.png"), only="digits")
    assert all(c.label.isdigit() or c.punctuation for c in digits.characters)  # punctuation passes, as in Recognizer.read
    for bad in (0, -1, "3", True):
        with pytest.raises(InkreadError, match="top_k"):
            reader.read(_word_image(tmp_path / "word.png"), top_k=bad)
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    assert reader.read(blank).no_ink


def test_top_k_is_checked_as_recognizer_checks_it(tmp_path):
    """A numpy integer is a whole number for LineReader.read as for Recognizer.read (it raised)."""
    reader = LineReader.load("lines")
    word = _word_image(tmp_path / "word.png")
    assert reader.read(word, top_k=np.int64(2)).text == reader.read(word).text
    with pytest.raises(InkreadError, match="top_k=2.0"):
        reader.read(word, top_k=2.0)


def test_the_onnx_line_model_matches_pytorch_at_any_width(tiny_line_run):
    import onnxruntime

    from inkread.models.linenet import LineNet

    model = LineNet(len(CHARSET), width=TINY_WIDTH)
    model.load_state_dict(torch.load(tiny_line_run / "model" / "weights.pt", weights_only=True))
    model.eval()
    session = onnxruntime.InferenceSession(str(tiny_line_run / "model" / "model.onnx"), providers=["CPUExecutionProvider"])
    for width in (8, 64, 202):
        x = np.random.default_rng(width).random((2, 1, LINE_HEIGHT, width), dtype=np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        got = session.run(None, {"image": x})[0]
        assert got.shape == (2, width // 2, len(CHARSET) + 1)
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_line_and_character_models_refuse_each_others_jobs(tiny_line_run):
    from inkread.inference.recognizer import Recognizer

    with pytest.raises(ModelBundleError, match="line model"):
        Recognizer.load(tiny_line_run / "model")
    with pytest.raises(ModelBundleError, match="not a line model"):
        LineReader.load("characters")


def test_cli_reads_with_a_line_model_and_explains_misuse(tiny_line_run, tmp_path):
    word = _word_image(tmp_path / "word.png")
    done = inkread_cli("read", "--model", str(tiny_line_run / "model"), "--format", "json", str(word))
    assert done.returncode == 0, done.stderr
    assert '"text"' in done.stdout and '"characters"' in done.stdout
    wrong = inkread_cli("predict", "--model", str(tiny_line_run / "model"), str(word))
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
    assert "line model" in wrong.stderr and "inkread read" in wrong.stderr


def test_an_interrupted_line_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    import os

    import inkread.training.lines as lines
    from inkread import LineReader
    from inkread.training import TrainConfig, train

    data_dir = shared_subfolder("emnist").parent

    def run(out: Path, data: str) -> Path:
        # a narrow net on few lines: resuming is what is tested, not learning
        return train_lines(LineTrainConfig(out=str(out), data_dir=data, epochs=2, lines_per_epoch=64, batch_size=16,
                                           width=TINY_WIDTH, val_lines=16, progress=False, fonts=str(matplotlib_fonts()),
                                           threads=1))

    whole = run(tmp_path / "whole", str(data_dir))
    # the data directory given relative, as the README's recipe gives it: recorded as typed, a resume from another
    # directory looked for EMNIST in the wrong place (a helper's find)
    monkeypatch.chdir(data_dir.parent)
    with ctrl_c_at_second_validation(lines), pytest.raises(KeyboardInterrupt):
        run(tmp_path / "split", os.path.relpath(data_dir))
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "split" / "model").exists()
    # a stopped line run is told to be finished by train-lines, not train, and train does not take it for its own
    with pytest.raises(InkreadError, match=r"is a run of inkread train-lines that was stopped .*train_lines\(LineTrainConfig"):
        LineReader.load(tmp_path / "split")
    resume_by_train = f"is a run of train_lines, not of train: continue it with `train_lines(LineTrainConfig(out='{tmp_path / 'split'}'"
    with pytest.raises(InkreadError, match=re.escape(resume_by_train)):
        train(TrainConfig(dataset=None, out=tmp_path / "split", resume=True))
    with pytest.raises(InkreadError, match="already holds a training run: .*" + re.escape(resume_by_train)):
        train(TrainConfig(dataset="mnist", out=tmp_path / "split"))
    # as the interruption's message says: the run's settings (data, lines, width, fonts...) are its checkpoint's
    resumed = train_lines(LineTrainConfig(out=str(tmp_path / "split"), resume=True, progress=False))
    expected = torch.load(whole / "weights.pt", weights_only=True)
    for key, value in torch.load(resumed / "weights.pt", weights_only=True).items():
        assert torch.equal(value, expected[key]), key
    # and its model.json records the settings it ran with, the recipe's included, not "None"
    recipe = ModelMeta.read(resumed).training["recipe"]
    assert recipe == ModelMeta.read(whole).training["recipe"]
    assert recipe["width"] == TINY_WIDTH and recipe["lr"] == 2e-3 and recipe["seed"] == 0 and recipe["fonts"] == str(matplotlib_fonts())
    assert recipe["threads"] == 1  # the run's own, left out on resume (it was all cores again)


def test_cli_train_lines_refuses_to_overwrite_and_resumes_only_the_same_run(tiny_line_run):
    again = inkread_cli("train-lines", "--out", str(tiny_line_run), "--data-dir", str(shared_subfolder("emnist").parent), "--quiet")
    assert again.returncode == 2 and "already holds a training run" in again.stderr and "Traceback" not in again.stderr
    other_seed = inkread_cli("train-lines", "--out", str(tiny_line_run), "--resume", "--seed", "5", "--quiet")
    assert other_seed.returncode == 2 and "different --seed" in other_seed.stderr
    # the options not given again (--width, --data-dir, --fonts) are the run's own
    other_lr = inkread_cli("train-lines", "--out", str(tiny_line_run), "--resume", "--epochs", "1", "--lines-per-epoch", "256",
                           "--lr", "0.5", "--quiet")
    assert other_lr.returncode == 2 and "different --lr" in other_lr.stderr  # was taken, and the record would lie


def test_cli_train_lines_font_options_as_a_user_types_them(tmp_path):
    share = inkread_cli("train-lines", "--out", str(tmp_path / "run"), "--font-share", "1.5", "--quiet")
    assert share.returncode == 2 and share.stderr.count("\n") == 1 and "--font-share must be between 0 and 1" in share.stderr
    (tmp_path / "no-fonts").mkdir()
    empty = inkread_cli("train-lines", "--out", str(tmp_path / "run"), "--data-dir", str(shared_subfolder("emnist").parent),
                        "--fonts", str(tmp_path / "no-fonts"), "--quiet")
    assert empty.returncode == 2 and empty.stderr.count("\n") == 1 and "Traceback" not in empty.stderr
    assert "no handwriting fonts" in empty.stderr and "--font-share 0" in empty.stderr
    character_model = inkread_cli("train-lines", "--out", str(tmp_path / "run"), "--init-from", "digits", "--quiet",
                                  "--data-dir", str(shared_subfolder("emnist").parent), "--fonts", str(matplotlib_fonts()))
    assert character_model.returncode == 2 and "is a character model: --init-from of train-lines needs a line model" in character_model.stderr
    assert not (tmp_path / "run" / "model").exists()


def test_cli_train_lines_without_emnist_files_says_what_to_get(tmp_path):
    done = inkread_cli("train-lines", "--out", str(tmp_path / "run"), "--data-dir", str(tmp_path / "empty"), "--quiet")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "EMNIST" in done.stderr and "fetch" in done.stderr
    assert not (tmp_path / "run" / "model").exists()


def test_letters_whose_cases_look_alike_take_the_case_of_their_word():
    from inkread.labels import consistent_case

    assert consistent_case("VeSerVe") == "Veserve"  # s and v: the size decided, the e and r say small
    assert consistent_case("LOUvRE") == "LOUVRE"
    assert consistent_case("cOcOa 12 Paris") == "cocoa 12 Paris"
    assert consistent_case("SoS") == "SoS"  # no other letter to ask: left as read
    assert consistent_case("hello-WoRLD") == "hello-WORLD"
    assert [consistent_case(w) for w in ("Tom", "Hi", "Box", "Two")] == ["Tom", "Hi", "Box", "Two"]  # a capital alone says nothing


def test_a_letter_given_its_words_case_says_so_in_its_ranking_and_confidence():
    """"caLL" read as "call": its l's answered "l" with L's confidence, and their top_k still said L first."""
    reader = LineReader.load("lines")
    columns = []
    for char, belief in [("c", {"c": 0.9}), ("a", {"a": 0.9}), ("l", {"L": 0.49, "l": 0.44}), ("L", {"L": 0.48, "l": 0.45})]:
        column = np.full(len(reader.labels) + 1, 1e-6)
        for label, probability in belief.items():
            column[reader.labels.index(label) + 1] = probability
        column[0] = 1.0 - column.sum()
        columns += [np.full_like(column, 1e-6) + np.eye(len(column))[0] * 0.99, column]  # a blank, then the letter
    log_probs = np.log(np.array(columns) / np.array(columns).sum(axis=1, keepdims=True))
    for top_k in (1, 3):
        read = reader._decode(log_probs, None, 1.0, 0, top_k)
        assert "".join(item.char for item in read) == "call"
        for item in read[2:]:  # either case of the l is the model's belief in an l
            assert item.ranking[0][0] == "l" and item.ranking[0][1] == pytest.approx(item.confidence, abs=1e-5)
            assert item.confidence == pytest.approx(0.93, abs=0.01) and "L" not in dict(item.ranking)


def test_the_shipped_line_model_reads_tablet_words_better_than_cutting_them():
    """Regression guard for the shipped bundle: UNIPEN words (not EMNIST) at the character error rate
    measured when it shipped (53.9% on all 206 images; the line model before handwriting fonts: 59.1%;
    cutting them into characters: 73.5%)."""
    import csv

    from inkread.evaluation.text import character_error_rate

    folder = shared_subfolder("unipen_words")
    with open(folder / "labels.csv", encoding="utf-8", newline="") as labels:
        rows = list(csv.DictReader(labels))
    reader = LineReader.load("lines")
    answers = [reader.read(folder / row["file"], only="letters").text.lower().replace(" ", "") for row in rows]
    truths = [row["label"].lower().replace("'", "").replace("-", "") for row in rows]
    answers = [a.replace("'", "").replace("-", "") for a in answers]
    assert character_error_rate(answers, truths) < 0.565


def test_punctuation_told_by_shape_replaces_or_joins_what_the_line_model_read():
    from inkread.inference.line_reader import with_marks

    read = [("3", 0.9, 0, 10), ("1", 0.4, 12, 14), ("4", 0.9, 16, 26)]  # "3.14" with its period misread as a 1
    assert [c for c, *_ in with_marks(read, [(".", 11, 15)])] == ["3", ".", "4"]
    missed = [("3", 0.9, 0, 10), ("1", 0.9, 16, 20), ("4", 0.9, 22, 30)]  # the period read as nothing
    merged = with_marks(missed, [(".", 11, 14)])
    assert [c for c, *_ in merged] == ["3", ".", "1", "4"] and merged[1][1] == 1.0
    assert with_marks(read, []) == read
    sure = [("l", 0.9, 14, 16), ("a", 0.9, 20, 30)]  # a period set close after a sure "l": both stay
    assert [c for c, *_ in with_marks(sure, [(".", 16, 18)])] == ["l", ".", "a"]
    spaced = [("a", 0.9, 0, 10), (" ", 0.9, 11, 12), ("b", 0.9, 20, 30)]
    assert [c for c, *_ in with_marks(spaced, [(",", 10, 12)])] == ["a", ",", " ", "b"]


def test_word_gaps_the_segmenter_measured_become_spaces_next_to_digits():
    from inkread.inference.line_reader import with_word_gaps

    digits = [("0", 0.9, 0, 10), ("6", 0.9, 12, 22), ("3", 0.9, 60, 70), ("4", 0.9, 72, 82)]
    assert "".join(c for c, *_ in with_word_gaps(digits, [(23, 58)])) == "06 34"
    spaced = digits[:2] + [(" ", 0.9, 30, 31)] + digits[2:]
    assert with_word_gaps(spaced, [(23, 58)]) == spaced  # the model's own space is not doubled
    assert with_word_gaps(digits, [(-20, -5), (90, 120)]) == digits  # nothing read on one side
    letters = [("a", 0.9, 0, 10), ("b", 0.9, 60, 70)]
    assert with_word_gaps(letters, [(12, 58)]) == letters  # between letters the model decides


def test_a_space_read_between_digits_away_from_any_word_gap_goes():
    from inkread.inference.line_reader import with_word_gaps

    year = [("2", 0.9, 0, 10), ("0", 0.9, 12, 22), (" ", 0.6, 23, 25), ("2", 0.9, 26, 36), ("6", 0.9, 38, 48)]
    assert "".join(c for c, *_ in with_word_gaps(year, [])) == "2026"
    assert "".join(c for c, *_ in with_word_gaps(year, [(23, 30)])) == "20 26"  # over a measured gap it stays
    assert "".join(c for c, *_ in with_word_gaps(year, [(100, 120)])) == "2026"  # a gap elsewhere keeps none
    page = [("p", 0.9, 0, 10), (" ", 0.6, 11, 12), ("1", 0.9, 14, 24)]
    assert with_word_gaps(page, []) == page  # beside a letter the model decides
    mixed = [("a", 0.9, 0, 10), ("1", 0.9, 60, 70)]
    assert "".join(c for c, *_ in with_word_gaps(mixed, [(12, 58)])) == "a 1"


@pytest.mark.parametrize("spaces", [1, 2, 3])
def test_the_shipped_line_model_spaces_printed_words_the_ink_shows_apart(spaces):
    """It ran printed words together, the wider their gaps the more ("thecatsatonthemat" at three spaces,
    gaps of two letters' heights): a word gap measured in the ink now makes a space likelier."""
    from PIL import ImageFont

    image = Image.new("L", (1400, 100), 255)
    font = ImageFont.truetype(str(matplotlib_fonts() / "DejaVuSans.ttf"), 48)
    ImageDraw.Draw(image).text((20, 20), (" " * spaces).join("the cat sat on the mat".split()), font=font, fill=0)
    assert LineReader.load("lines").read(image, only="letters").text == "the cat sat on the mat"


@pytest.mark.parametrize("angle", [-8, 5])
def test_the_shipped_line_model_reads_a_sloping_line(angle):
    """Sloping 5 degrees, "the cat sat on the mat" was read "pnecatsaton the mac": the ink's box grew with the
    slope and the letters were scaled down to fit it. Each line is levelled first."""
    from PIL import ImageFont

    image = Image.new("L", (700, 100), 255)
    font = ImageFont.truetype(str(matplotlib_fonts() / "DejaVuSans.ttf"), 48)
    ImageDraw.Draw(image).text((20, 20), "the cat sat on the mat", font=font, fill=0)
    sloping = image.rotate(angle, expand=True, fillcolor=255, resample=Image.Resampling.BILINEAR)
    text = LineReader.load("lines").read(sloping, only="letters").text
    assert text.replace(" ", "") == "thecatsatonthemat" and text.count(" ") >= 4, text


def test_a_sloping_line_the_segmenter_saw_no_word_gap_in_is_levelled_too():
    """Levelling waited for a word gap; turned -10 degrees, "slowly typing" showed none and read "somvtvpng"."""
    from PIL import ImageFont

    image = Image.new("L", (600, 100), 255)
    font = ImageFont.truetype(str(matplotlib_fonts() / "DejaVuSans.ttf"), 44)
    ImageDraw.Draw(image).text((20, 20), "slowly typing", font=font, fill=0)
    sloping = image.rotate(-10, expand=True, fillcolor=255, resample=Image.Resampling.BILINEAR)
    assert LineReader.load("lines").read(sloping, only="letters").text == "slowly typing"


def test_a_line_is_levelled_by_the_slope_of_its_characters_and_keeps_its_columns():
    from inkread.imaging.line import LEVEL_FROM, leveled, line_slope

    boxes = [(x, 100 + round(0.1 * x), x + 20, 130 + round(0.1 * x)) for x in range(0, 400, 30)]
    boxes[3] = (90, 80, 110, 140)  # a tall letter does not sway it
    assert line_slope(boxes) == pytest.approx(0.1, abs=0.01)
    assert line_slope([(x, 100, x + 20, 130) for x in range(0, 400, 30)]) == 0.0  # level
    assert line_slope([(x, 100 + round(LEVEL_FROM / 2 * x), x + 20, 130) for x in range(0, 400, 30)]) == 0.0  # nearly
    assert line_slope(boxes[:7]) == 0.0  # too few to tell
    # "at gym" on a level line: the descenders at its end tilted it by 2-5 degrees, and levelled it read "at yM"
    at_gym = [(0, 20, 20, 40), (22, 12, 34, 40), (60, 20, 80, 52), (82, 20, 102, 52), (104, 20, 134, 40)]
    assert line_slope(at_gym + [(140 + x, 20, 160 + x, 52) for x in (0, 22)]) == 0.0
    ink = np.zeros((60, 200), np.float32)
    for x in range(200):
        ink[10 + round(0.2 * x) if 10 + round(0.2 * x) < 60 else 59, x] = 1.0  # a stroke sloping 0.2
    level = leveled(ink, 0.2)
    assert level.shape == (60 + 40, 200)
    rows = [np.argmax(level[:, x]) for x in range(0, 200, 20) if 10 + round(0.2 * x) < 60]
    assert max(rows) - min(rows) <= 1  # level now
    assert np.allclose(level.sum(axis=0), ink.sum(axis=0), atol=0.05)  # each column's ink stays in its column
    assert leveled(ink, 0.0) is ink


def test_a_space_is_made_likelier_only_in_the_columns_of_a_word_gap():
    reader = LineReader.load("lines")
    space = reader.labels.index(" ") + 1
    log_probs = np.log(np.full((40, len(reader.labels) + 1), 0.01))
    log_probs[:, 0] = np.log(1 - 0.01 * len(reader.labels))  # sure of the blank everywhere
    # ink columns 30-50 at scale 1, first inked column 0: model columns (30 + MARGIN) / 2 .. (50 + MARGIN) / 2
    spaced = reader._spaced(log_probs, [(30, 50)], 1.0, 0)
    inside = ((2 * np.arange(40) + 1 - MARGIN >= 30) & (2 * np.arange(40) + 1 - MARGIN < 50))
    assert inside.sum() == 10
    assert np.allclose(np.exp(spaced).sum(axis=1), 1.0)  # still a distribution per column
    ratio = np.exp(spaced[:, space] - spaced[:, 0]) / np.exp(log_probs[:, space] - log_probs[:, 0])
    assert np.allclose(ratio[inside], 10.0) and np.allclose(ratio[~inside], 1.0)
    assert reader._spaced(log_probs, [], 1.0, 0) is log_probs


def test_the_shipped_line_model_keeps_the_gap_in_a_phone_number():
    """It learned spaces between words of letters only; the segmenter's gap puts the space in."""
    sample = Path(__file__).resolve().parents[1] / "samples" / "text" / "phone-0612-334.png"
    assert LineReader.load("lines").read(sample, only="digits").text == "0612 334"


def test_a_line_too_long_for_the_model_at_once_is_read_in_pieces_cut_at_word_gaps():
    """Nine phone numbers on one line, 103 times wider than high: refused whole before (at most 60)."""
    from inkread.imaging.decode import load_image_scaled
    from inkread.imaging.line import MAX_ASPECT
    from inkread.imaging.segment import segment
    from inkread.inference.line_reader import within_reach

    number = np.asarray(Image.open(Path(__file__).resolve().parents[1] / "samples" / "text" / "phone-0612-334.png").convert("L"))
    rows, cols = np.flatnonzero((number < 128).any(axis=1)), np.flatnonzero((number < 128).any(axis=0))
    number = number[rows[0] - 5:rows[-1] + 6, cols[0]:cols[-1] + 1]
    gap = np.full((number.shape[0], 2 * number.shape[0]), 255, np.uint8)
    line = Image.fromarray(np.hstack([gap] + [np.hstack([number, gap]) for _ in range(9)]))
    assert line.width > 100 * number.shape[0]
    glyphs, = segment(load_image_scaled(line)[0])
    pieces = within_reach(glyphs)
    assert len(pieces) > 1 and sum(len(piece) for piece in pieces) == len(glyphs)
    for piece in pieces:
        x0, y0 = min(g.box[0] for g in piece), min(g.box[1] for g in piece)
        x1, y1 = max(g.box[2] for g in piece), max(g.box[3] for g in piece)
        assert x1 - x0 <= MAX_ASPECT * (y1 - y0)
    assert all(piece[0].space_before for piece in pieces[1:])  # cut where words part
    result = LineReader.load("lines").read(line, only="digits")
    assert result.text == " ".join(["0612 334"] * 9) and {c.line for c in result.characters} == {0}
    assert within_reach([]) == [] and within_reach(glyphs[:3]) == [glyphs[:3]]


def test_characters_asked_of_a_line_that_holds_none_give_the_best_of_them_flagged():
    """Letters asked of a line of digits: the model still says where each character is, and the best
    allowed letter is given there, flagged (renormalized with the blank, the blank won every column: "")."""
    sample = Path(__file__).resolve().parents[1] / "samples" / "text" / "two-lines-2026-1121.png"
    reader = LineReader.load("lines")
    assert reader.read(sample).text == "2026\n1121"
    result = reader.read(sample, only="ACGT")
    # one letter where each digit is (spaces between them are the model's guess: it has seen numbers among words)
    assert len(result.text.replace("\n", "").replace(" ", "")) == 8 and set(result.text) <= set("ACGT \n") and result.uncertain
    assert all(c.uncertain for c in result.characters if not c.punctuation) and not result.no_ink
    # One allowed character is always the answer: its confidence is its probability before the restriction.
    ones = reader.read(sample, only="1")
    assert ones.text.replace("\n", "") == "1" * 8 and ones.uncertain
    unrestricted = [c.label for c in reader.read(sample).characters]
    assert [c.confidence > 0.1 for c in ones.characters] == [label == "1" for label in unrestricted]  # a 2 is no 1
    assert [(label, pytest.approx(confidence)) for label, confidence in ones.characters[0].top_k[:1]] == \
        [("1", ones.characters[0].confidence)]


def test_restriction_of_columns_with_zero_probabilities_stays_a_distribution():
    """A column sure of the blank, or of a character outside the restriction, has log-probabilities of
    -inf: the restriction must not turn them into NaN (inf - inf)."""
    from inkread.inference.line_reader import _restricted

    labels = tuple(" 0123456789abc")
    log_probs = np.log(np.full((3, len(labels) + 1), 1 / (len(labels) + 1)))
    log_probs[1] = -np.inf
    log_probs[1, 0] = 0.0  # sure of the blank
    log_probs[2] = -np.inf
    log_probs[2, labels.index("3") + 1] = 0.0  # sure of a digit, letters asked for
    with np.errstate(invalid="raise"):
        restricted, share = _restricted(log_probs, labels, np.array([labels.index("b"), labels.index("c")]))
    assert not np.isnan(restricted).any() and not np.isnan(share).any()
    assert np.allclose(np.exp(restricted).sum(axis=1), 1.0)
    assert share[2] == pytest.approx(0.0)


def test_ink_in_which_no_character_is_read_is_unread_not_blank():
    from inkread.inference.results import NOTHING_READ, ReadResult

    result = ReadResult.of([], ink_found=True)
    assert (result.text, result.no_ink, result.uncertain) == ("", False, True)
    assert str(result) == NOTHING_READ and result.to_dict()["no_ink"] is False
    assert ReadResult.of([], ink_found=False).no_ink


def test_each_character_box_is_the_ink_around_where_ctc_read_it():
    from inkread.inference.line_reader import ink_boxes

    ink = np.zeros((30, 100), np.float32)
    ink[5:25, 10:20] = 1.0  # a tall character
    ink[12:25, 40:55] = 1.0  # a small one
    ink[5:28, 80:90] = 1.0
    read = [("a", 0.9, 14, 15), (" ", 0.9, 30, 31), ("b", 0.9, 47, 48), ("c", 0.9, 84, 85)]
    boxes = ink_boxes(read, ink)
    assert boxes[0] == (10, 5, 20, 25) and boxes[2] == (40, 12, 55, 25) and boxes[3] == (80, 5, 90, 28)
    assert ink_boxes([("a", 0.9, 60, 62)], np.zeros((30, 100), np.float32)) == [(60, 0, 62, 30)]


def test_the_line_model_ranks_each_characters_candidates():
    from helpers import SHIPPED_LINES

    if not SHIPPED_LINES.exists():
        pytest.skip("the shipped line model is not installed")
    reader = LineReader.load("lines")
    word = Path(__file__).resolve().parents[1] / "samples" / "words" / "unipen-lunch.png"
    ranked = reader.read(word, top_k=3).characters
    assert [c.label for c in ranked] == list("lunch")
    for character in ranked:
        labels = [label for label, _ in character.top_k]
        probabilities = [p for _, p in character.top_k]
        assert len(labels) == 3 and labels[0] == character.label and len(set(labels)) == 3
        assert probabilities == sorted(probabilities, reverse=True) and probabilities[0] == pytest.approx(character.confidence)
    assert all(len(c.top_k) == 1 for c in reader.read(word, top_k=1).characters)
    assert all(label in "0123456789" for c in reader.read(word, only="digits", top_k=3).characters for label, _ in c.top_k)
    # the marks pass only= to be read where they are, not as a letter's runners-up ("A": "A", ",", ":")
    dates = Path(__file__).resolve().parents[1] / "samples" / "text" / "two-lines-2026-1121.png"
    assert all(label in "ACGT" for c in reader.read(dates, only="ACGT", top_k=5).characters for label, _ in c.top_k)
    hyphenated = reader.read(dates, only="0123456789-", top_k=12).characters
    assert {label for c in hyphenated for label, _ in c.top_k} <= set("0123456789-")  # a mark asked for stays one


def test_letters_asked_of_a_digit_are_flagged_as_the_character_reader_flags_them():
    """Renormalized over the allowed letters, a 7 was 'T' at 0.66, unflagged; the letters hold little of the belief."""
    from helpers import SHIPPED_LINES, png, render

    if not SHIPPED_LINES.exists():
        pytest.skip("the shipped line model is not installed")
    reader = LineReader.load("lines")
    seven = png(render("7"))
    assert reader.read(seven).text == "7" and not reader.read(seven).uncertain
    restricted = reader.read(seven, only="letters")
    assert restricted.text and all(c.uncertain for c in restricted.characters)
    word = Path(__file__).resolve().parents[1] / "samples" / "words" / "unipen-lunch.png"
    assert [(c.label, c.uncertain) for c in reader.read(word, only="letters").characters] == [(c, False) for c in "lunch"]
    assert reader.read(word, only="ACGT").uncertain  # "lunch" in A, C, G and T: no answer is sure


def test_lines_across_a_page_are_read_in_smaller_runs_than_short_lines():
    """16 lines of 1,900 columns in one ONNX Runtime run grew a reading process by 340 MB, kept by its arena."""
    from inkread.inference.line_reader import LINE_BATCH, LINE_BATCH_COLUMNS, line_batches

    assert [len(run) for run in line_batches(range(20), [100] * 20)] == [LINE_BATCH, 20 - LINE_BATCH]
    runs = list(line_batches(range(20), [100] * 10 + [1900] * 10))
    assert runs == [list(range(10)), [10, 11, 12, 13], [14, 15, 16, 17], [18, 19]]
    assert all(len(run) * 1900 <= LINE_BATCH_COLUMNS for run in runs[1:])
    assert list(line_batches([0], [20_000])) == [[0]]  # a line wider than the limit still runs, alone
