"""The Recognizer API on small test bundles (no shipped model needed; see helpers.py).

Bundles:
* ``pixel_bundle``: 47 classes (EMNIST bymerge); logit of class c = 10 x pixel c of the flattened
  input. With ``predict_preprocessed`` the logits are exactly controlled, which tests ``only=``,
  renormalization and the uncertain flag to the decimal.
* ``font_bundle`` (conftest.py): 10 digits; a nearest-centroid classifier whose centroids are the preprocessed
  renders of each digit in Pillow's built-in font, so rendered digits are read back exactly. It
  needs no data set, so the whole pipeline (decode, preprocess, segment, ONNX) is tested anywhere.
* ``mnist_reader``: nearest class mean of real MNIST digits (skips without ../shared/datasets).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from inkread.errors import InkreadError, InputImageError, ModelBundleError, command_line_spelling
from inkread.labels import DIGITS, LABEL_SETS, MERGED_LOWER
from helpers import centroid_bundle, render, touching_page, write_linear_bundle, write_on_page

DATASETS = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
BYMERGE = LABEL_SETS["bymerge"]


# --- bundles ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pixel_bundle(tmp_path_factory) -> Path:
    weight = np.zeros((len(BYMERGE), 784))
    weight[np.arange(len(BYMERGE)), np.arange(len(BYMERGE))] = 10.0
    return write_linear_bundle(tmp_path_factory.mktemp("pixel"), weight, np.zeros(len(BYMERGE)), BYMERGE, recipe="emnist")


@pytest.fixture(scope="session")
def pixel(pixel_bundle):
    from inkread import Recognizer

    return Recognizer.load(pixel_bundle)


def logits_input(**values: float) -> np.ndarray:
    """A (1, 28, 28) model input whose pixel-bundle logits are 10 x the given class values."""
    flat = np.zeros(784, np.float32)
    for label, value in values.items():
        flat[BYMERGE.index(label.lstrip("_"))] = value  # "_7": a keyword argument cannot start with a digit
    return flat.reshape(1, 28, 28)


# --- only=: the label restriction (pure) ------------------------------------------------------------

def test_only_named_sets_on_the_47_class_labels():
    from inkread.inference.restrict import restriction

    assert restriction(BYMERGE, "digits").names == DIGITS
    upper = restriction(BYMERGE, "upper").names
    assert upper == LABEL_SETS["letters"]  # all 26 capitals, merged or not
    lower = restriction(BYMERGE, "lower")
    assert sorted(lower.names) == list("abcdefghijklmnopqrstuvwxyz")  # 11 own classes + 15 merged capitals
    assert BYMERGE[lower.indices[lower.names.index("o")]] == "O"  # "o" is answered by the O class
    assert len(restriction(BYMERGE, "letters").names) == 37
    assert restriction(BYMERGE, None).everything and not restriction(BYMERGE, "digits").everything


def test_only_lower_on_a_case_merged_label_set_reports_lower_case():
    from inkread.inference.restrict import restriction

    assert restriction(LABEL_SETS["letters"], "lower").names == tuple("abcdefghijklmnopqrstuvwxyz")
    assert restriction(LABEL_SETS["byclass"], "upper").names == LABEL_SETS["letters"]  # byclass has its own lower case


def test_only_explicit_characters():
    from inkread.inference.restrict import restriction

    acgt = restriction(BYMERGE, "ACGT")
    assert [BYMERGE[i] for i in acgt.indices] == ["A", "C", "G", "T"]
    # "c" is the merged C class, reported as the "c" that was asked for; "g" has its own class
    lower = restriction(BYMERGE, "a c g")
    assert dict(zip(lower.names, (BYMERGE[i] for i in lower.indices))) == {"a": "a", "c": "C", "g": "g"}
    assert restriction(BYMERGE, "cC").names == ("C",)  # both cases asked: the class label


def test_a_character_spelled_either_way_in_unicode_is_the_models_class():
    """macOS sends "é" as "e" + a combining accent (NFD); a model's labels may be either spelling."""
    import unicodedata

    from inkread.inference.restrict import restriction
    from inkread.labels import merge_case

    nfc, nfd = "\u00e9", unicodedata.normalize("NFD", "\u00e9")
    assert merge_case(nfd, ("a", nfc)) == nfc and merge_case(nfc, ("a", nfd)) == nfd
    assert merge_case(unicodedata.normalize("NFD", "\u00c9"), ("a", nfc)) == nfc  # É: the merged case
    with pytest.raises(KeyError):
        merge_case("e", ("a", nfc))
    assert restriction(("a", nfc, "b"), nfd + "a").indices.tolist() == [0, 1]


def test_only_set_names_ignore_case_and_spaces():
    from inkread.inference.restrict import restriction

    digits = restriction(BYMERGE, "digits")
    for spelling in ("Digits", "DIGITS", " digits "):  # not the characters D, i, g, t, s
        assert restriction(BYMERGE, spelling).names == digits.names


def test_may_answer_says_which_spellings_a_restriction_allows():
    """A reader that recases a letter to suit its word asks first whether ``only`` allows that case."""
    from inkread.inference.restrict import may_answer

    assert may_answer(None, "W") and may_answer("letters", "w") and may_answer("Letters ", "W")
    assert may_answer("lower", "w") and not may_answer("lower", "W")
    assert may_answer("upper", "W") and not may_answer("upper", "w")
    assert may_answer("digits", "7") and not may_answer("digits", "l")
    assert may_answer("ACGT", "C") and not may_answer("ACGT", "c")


@pytest.mark.parametrize("only, message", [
    ("0@1", "'@' is not in this model's label set: 0123456789ABC"),
    ("  ", "allows nothing"),
    ("letter", "did you mean 'letters'"),  # a misspelt set name, not the characters l, e, t, r
    ("numbers", "did you mean 'digits'"),  # another name for a set: "lunch" read "munub" in n, u, m, b, e, r, s
    ("0-9", "did you mean 'digits'.*no ranges"), ("a-z", "did you mean 'lower'"), ("A-Z", "did you mean 'upper'"),
    ("Uppercase", "did you mean 'upper'"),
    (5, "give a string"),
    (["A", "B"], "give a string"),
])
def test_only_bad_explicit_characters_say_what_is_wrong(only, message):
    from inkread.inference.restrict import restriction

    with pytest.raises(InkreadError, match=message):
        restriction(BYMERGE, only)


def test_only_a_named_set_the_model_lacks():
    from inkread.inference.restrict import restriction

    with pytest.raises(InkreadError, match="no letters classes .*0123456789"):
        restriction(DIGITS, "letters")


# --- ranking: probabilities, only=, uncertain ---------------------------------------------------------

def test_predict_preprocessed_gives_the_softmax_ranking(pixel):
    [p] = pixel.predict_preprocessed(logits_input(_7=1.0, _1=0.5), top_k=3)
    logits = np.zeros(47)
    logits[7], logits[1] = 10.0, 5.0
    expected = np.exp(logits) / np.exp(logits).sum()
    assert p.label == "7" and [label for label, _ in p.top_k][:2] == ["7", "1"]
    assert p.confidence == pytest.approx(expected[7], rel=1e-5)
    assert p.top_k[1][1] == pytest.approx(expected[1], rel=1e-5)
    assert len(p.top_k) == 3 and not p.uncertain and not p.no_ink
    assert p.image.shape == (28, 28)


def test_only_masks_before_the_argmax_and_renormalizes(pixel):
    image = logits_input(C=1.0, _3=0.3)  # the model says "C" (merged c), then "3"
    assert pixel.predict_preprocessed(image)[0].label == "C"
    [digit] = pixel.predict_preprocessed(image, only="digits", top_k=10)
    assert digit.label == "3"
    assert sum(p for _, p in digit.top_k) == pytest.approx(1.0)  # renormalized over the 10 digits
    assert digit.confidence == pytest.approx(np.exp(3) / (np.exp(3) + 9), rel=1e-5)
    [lower] = pixel.predict_preprocessed(image, only="lower", top_k=26)
    assert lower.label == "c"  # the merged class, reported in lower case
    assert {label for label, _ in lower.top_k} == set("abcdefghijklmnopqrstuvwxyz")
    assert pixel.predict_preprocessed(image, only="upper")[0].label == "C"
    assert pixel.predict_preprocessed(image, only="AB3")[0].label == "3"


def test_a_single_allowed_class_is_not_certain_of_everything(pixel):
    """Renormalized over one class, any image would be that class at 100%: use its share of all classes."""
    [p] = pixel.predict_preprocessed(logits_input(C=1.0), only="5")
    assert p.label == "5" and p.uncertain
    assert p.confidence == pytest.approx(1 / (np.exp(10) + 46), rel=1e-4)  # "C" at logit 10, the rest 0
    [q] = pixel.predict_preprocessed(logits_input(_5=1.0), only="5")
    assert q.label == "5" and not q.uncertain and q.confidence > 0.99


def test_allowed_classes_holding_little_of_the_belief_are_flagged(pixel):
    """Renormalized over the allowed classes, an input unlike all of them still gets a sure-looking
    answer (a 7 read with only="AG" was "A" at 0.71): flagged uncertain when they hold under 20%."""
    [p] = pixel.predict_preprocessed(logits_input(_7=1.0, A=0.2), only="AG")
    assert p.label == "A" and p.confidence > 0.8 and p.uncertain
    [q] = pixel.predict_preprocessed(logits_input(A=1.0, _7=0.95), only="AG")  # A is a real contender
    assert q.label == "A" and not q.uncertain


def test_only_lower_covers_every_merged_letter(pixel):
    for letter in MERGED_LOWER:
        [p] = pixel.predict_preprocessed(logits_input(**{letter.upper(): 1.0}), only="lower")
        assert p.label == letter


def test_uncertain_flag_from_confidence_and_margin(pixel):
    sure = pixel.predict_preprocessed(logits_input(_7=1.0))[0]
    flat = pixel.predict_preprocessed(logits_input())[0]  # every logit 0: 1/47 each
    close = pixel.predict_preprocessed(logits_input(_7=1.0, _1=0.99))[0]  # two classes neck and neck
    assert not sure.uncertain and sure.confidence > 0.99
    assert flat.uncertain and flat.confidence == pytest.approx(1 / 47)
    assert close.uncertain and close.confidence < 0.6
    # confident enough (0.62) but the runner-up is close (0.38): margin 0.24 < 0.3
    two = pixel.predict_preprocessed(logits_input(_7=1.0), only="17")[0]
    assert not two.uncertain
    ratio = np.log(0.62 / 0.38) / 10  # logit gap giving 0.62 / 0.38 between two allowed classes
    [near] = pixel.predict_preprocessed(logits_input(_7=ratio), only="17")
    assert near.confidence == pytest.approx(0.62, abs=1e-3) and near.uncertain


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(-1.0, 1.0), min_size=47, max_size=47),
       only=st.one_of(st.none(), st.sampled_from(["digits", "letters", "upper", "lower"]),
                      st.text(alphabet="0123456789ABCXYZabcdexyz", min_size=1, max_size=8)))
def test_any_restricted_answer_is_allowed_ranked_and_normalized(pixel, values, only):
    from inkread.inference.restrict import restriction

    image = np.zeros(784, np.float32)
    image[:47] = values
    [p] = pixel.predict_preprocessed(image.reshape(1, 28, 28), only=only, top_k=47)
    allowed = restriction(BYMERGE, only).names
    assert p.label in allowed and p.label == p.top_k[0][0] and p.confidence == p.top_k[0][1]
    assert sorted(label for label, _ in p.top_k) == sorted(allowed)
    probabilities = [q for _, q in p.top_k]
    assert probabilities == sorted(probabilities, reverse=True)
    if len(allowed) > 1:  # renormalized; a single class keeps its unrestricted share (see the test above)
        assert sum(probabilities) == pytest.approx(1.0)
    logits = 10.0 * np.array(values)
    everything = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    unlike = len(allowed) > 1 and only is not None and everything[restriction(BYMERGE, only).indices].sum() < 0.2
    assert p.uncertain == (p.confidence < 0.6 or (len(probabilities) > 1 and probabilities[0] - probabilities[1] < 0.3) or unlike)


def test_top_k_is_capped_by_the_allowed_classes_and_validated(pixel):
    assert len(pixel.predict_preprocessed(logits_input(_7=1.0), only="17", top_k=5)[0].top_k) == 2
    with pytest.raises(InkreadError, match="top_k"):
        pixel.predict_preprocessed(logits_input(), top_k=0)


def test_prediction_to_dict_is_json_ready(pixel):
    [p] = pixel.predict_preprocessed(logits_input(_7=1.0))
    data = json.loads(json.dumps(p.to_dict()))
    assert data["label"] == "7" and data["no_ink"] is False and data["error"] is None
    assert data["top_k"][0] == {"label": "7", "confidence": round(p.confidence, 6)}
    assert "image" not in data


def test_labels_and_meta(pixel):
    assert pixel.labels == BYMERGE and pixel.meta.recipe == "emnist" and pixel.meta.label_set == "bymerge"


# --- loading ------------------------------------------------------------------------------------------

def test_load_accepts_a_bundle_an_onnx_file_and_a_run_folder(pixel_bundle, tmp_path):
    from inkread import Recognizer

    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    for name in ("model.json", "model.onnx"):
        (run / "model" / name).write_bytes((pixel_bundle / name).read_bytes())
    for spec in (pixel_bundle, pixel_bundle / "model.onnx", str(run)):
        assert Recognizer.load(spec).labels == BYMERGE


@pytest.mark.parametrize("spec", ["no-such-model", "."])
def test_load_unknown_model_is_a_bundle_error(spec):
    from inkread import Recognizer

    with pytest.raises(ModelBundleError):
        Recognizer.load(spec)


def test_load_of_an_image_file_says_it_is_a_file_not_a_model(tmp_path):
    from inkread import Recognizer

    (tmp_path / "digit.png").write_bytes(b"not a model")
    with pytest.raises(ModelBundleError, match=r"digit.png is a file, not a model: give a model bundle"):
        Recognizer.load(tmp_path / "digit.png")


def test_load_rejects_a_corrupt_onnx_file(pixel_bundle, tmp_path):
    from inkread import Recognizer

    (tmp_path / "model.json").write_bytes((pixel_bundle / "model.json").read_bytes())
    (tmp_path / "model.onnx").write_bytes(b"not a network")
    with pytest.raises(ModelBundleError, match="cannot load .*the file is damaged"):
        Recognizer.load(tmp_path)
    (tmp_path / "model.onnx").unlink()
    with pytest.raises(ModelBundleError, match="model.onnx is missing: the bundle is incomplete"):
        Recognizer.load(tmp_path)


def test_an_int8_quantized_bundle_loads_and_agrees(tmp_path):
    """A user may shrink the shipped model with ONNX Runtime's int8 quantization: it still loads and reads.

    A trained network, not the test's centroid bundles: their tiny logit margins do not survive
    int8 weights the same way on every CPU's int8 kernels.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from inkread import Recognizer
    from inkread.inference.onnx_model import resolve_bundle

    shipped = resolve_bundle("digits")
    (tmp_path / "model.json").write_bytes((shipped / "model.json").read_bytes())
    quantize_dynamic(str(shipped / "model.onnx"), str(tmp_path / "model.onnx"), weight_type=QuantType.QInt8)
    quantized = Recognizer.load(tmp_path)
    samples = sorted((Path(__file__).resolve().parents[1] / "samples" / "digits").glob("*.png"))
    truth = [path.stem.split("-")[1] for path in samples]  # hwd1000-4-041.png is a 4
    assert len(samples) == 10
    assert [p.label for p in quantized.predict_batch(samples)] == [p.label for p in Recognizer.load("digits").predict_batch(samples)] == truth


def test_a_run_stopped_before_its_model_was_written_says_to_resume_it(tmp_path):
    """predict/evaluate/export on such a run said it "holds no model.json: give a model bundle or run folder"."""
    from inkread.errors import ModelBundleError
    from inkread.inference.bundle_format import CHECKPOINT_FILE
    from inkread.inference.onnx_model import resolve_bundle

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / CHECKPOINT_FILE).write_bytes(b"checkpoint")
    with pytest.raises(ModelBundleError, match=r"stopped before it wrote its model: finish it with "
                                               r"`train\(TrainConfig\(dataset=None, out='.*run', resume=True\)\)`"):
        resolve_bundle(tmp_path / "run")
    with command_line_spelling(), pytest.raises(ModelBundleError, match=r"finish it with `inkread train --out .*run --resume`"):
        resolve_bundle(tmp_path / "run")



@pytest.mark.parametrize("checkpointed", [False, True], ids=["first epoch", "later epoch"])
def test_a_run_still_training_says_so(tmp_path, checkpointed):
    """In its first epoch such a run "holds no model.json"; later it was "stopped": finish it with --resume
    (which the running training refuses)."""
    from inkread.errors import ModelBundleError
    from inkread.files import folder_lock
    from inkread.inference.bundle_format import CHECKPOINT_FILE
    from inkread.inference.onnx_model import resolve_bundle

    run = tmp_path / "run"
    with folder_lock(run, "busy"):  # as a training run holds its folder
        if checkpointed:
            (run / CHECKPOINT_FILE).write_bytes(b"checkpoint")
        with pytest.raises(ModelBundleError, match=r"run is being trained right now and has no model yet .*wait for the run"):
            resolve_bundle(run)
    if checkpointed:  # the run ended without its model (killed): resume it
        with pytest.raises(ModelBundleError, match="stopped before it wrote its model"):
            resolve_bundle(run)

# --- predict: images in, through the imaging layer ------------------------------------------------------

def test_predict_reads_rendered_digits_from_every_kind_of_input(font, tmp_path):
    path = tmp_path / "four.png"
    render("4").save(path)
    sources = {"path": path, "str": str(path), "bytes": path.read_bytes(), "pil": render("4"),
               "numpy": np.asarray(render("4")), "light-on-dark": render("4", dark_on_light=False)}
    for kind, source in sources.items():
        p = font.predict(source)
        assert p.label == "4", kind
        assert p.confidence > 0.9 and not p.uncertain, kind


def test_predict_blank_image_is_nothing_to_read(font):
    blank = Image.new("L", (280, 280), 255)
    p = font.predict(blank)
    assert p.no_ink and p.label is None and p.top_k == [] and str(p) == "nothing to read"
    assert p.to_dict()["label"] is None


def test_a_dot_is_never_read_surely(font):
    """A click on the pad, scaled to 28x28, read as a 6 at 65%, unflagged (by predict and by read)."""
    from PIL import ImageDraw

    for radius in (4, 30):
        dot = Image.new("L", (400, 300), 255)
        ImageDraw.Draw(dot).ellipse((200 - radius, 150 - radius, 200 + radius, 150 + radius), fill=0)
        assert font.predict(dot).uncertain, radius
        assert font.read(dot).uncertain and all(c.uncertain for c in font.read(dot).characters), radius
    assert not font.predict(render("4")).uncertain  # a character with a bold pen is not a blob


def test_is_blob_tells_a_filled_mark_from_a_stroke():
    from inkread.imaging.stroke import is_blob

    rows, cols = np.mgrid[:60, :60]
    assert is_blob(np.hypot(rows - 30, cols - 30) <= 12)
    assert not is_blob((np.hypot(rows - 30, cols - 30) <= 12) & (np.hypot(rows - 30, cols - 30) >= 9))  # a ring: an O
    assert not is_blob(np.zeros((10, 10)))
    assert is_blob(((rows - 30) / 10) ** 2 + ((cols - 30) / 20) ** 2 <= 1)  # a smear twice as wide as high
    assert is_blob((abs(rows - 30) <= 3) & (abs(cols - 30) <= 25))  # a dash in marker: no character alone
    assert not is_blob((abs(rows - 30) <= 25) & (abs(cols - 30) <= 3))  # a 1 in marker is a character

def test_predict_bad_image_raises_input_image_error(font):
    with pytest.raises(InputImageError):
        font.predict(b"this is not an image")


def test_preprocess_shows_what_the_model_sees(font):
    seen = font.preprocess(render("1"))
    assert seen.shape == (28, 28) and seen.dtype == np.float32
    assert seen.max() == pytest.approx(1.0, abs=0.05) and seen[0].max() == 0.0  # ink high, margin kept


def test_predict_batch_one_model_call_for_all(font, monkeypatch):
    calls = []
    original = font.model.logits
    monkeypatch.setattr(font.model, "logits", lambda batch: calls.append(len(batch)) or original(batch))
    predictions = font.predict_batch([render(d) for d in "0123456789"], top_k=1)
    assert [p.label for p in predictions] == list("0123456789")
    assert calls == [10] and all(len(p.top_k) == 1 for p in predictions)


def test_predict_batch_keeps_going_past_a_bad_image(font):
    images = [render("3"), b"garbage", Image.new("L", (50, 50), 255), render("8")]
    with pytest.raises(InputImageError):
        font.predict_batch(images)
    results = font.predict_batch(images, errors="return")
    assert [p.label for p in results] == ["3", None, None, "8"]
    assert not results[1].ok and "not in an image format inkread reads" in results[1].error and results[1].to_dict()["error"]
    assert results[2].ok and results[2].no_ink
    with pytest.raises(InkreadError, match="errors="):
        font.predict_batch(images, errors="ignore")


def test_large_batches_run_on_the_all_core_session_and_agree(font):
    images = np.random.default_rng(0).random((font.model.WIDE_BATCH + 6, 1, 28, 28), dtype=np.float32)
    together = font.model.logits(images)
    alone = np.concatenate([font.model.logits(images[i:i + 1]) for i in range(len(images))])
    assert np.allclose(together, alone, atol=1e-4)
    assert font.model._wide_session is not None or font.model._session_for(len(images)) is font.model.session


def test_predict_batch_of_nothing(font):
    assert font.predict_batch([]) == []


def test_predict_is_thread_safe(font):
    images = [render(d, size=(120 + 10 * i, 160)) for i, d in enumerate("0123456789" * 3)]
    expected = font.predict_batch(images)
    with ThreadPoolExecutor(max_workers=4) as pool:  # the web server shares one Recognizer like this
        answers = list(pool.map(font.predict, images))
    assert [p.label for p in answers] == [p.label for p in expected] == list("0123456789" * 3)
    assert [p.confidence for p in answers] == pytest.approx([p.confidence for p in expected], rel=1e-5)


# --- read: several characters ---------------------------------------------------------------------------

def test_read_two_lines_of_rendered_digits(font):
    result = font.read(render("06   12\n334", size=(900, 500), font_size=120))  # a font space is narrow: 3 make a word gap
    assert result.text == "06 12\n334"
    assert result.lines == ["06 12", "334"]
    assert [c.line for c in result.characters] == [0, 0, 0, 0, 1, 1, 1]
    assert [c.space_before for c in result.characters][:4] == [False, False, True, False]
    lefts = [c.box[0] for c in result.characters[:4]]
    assert lefts == sorted(lefts)
    assert result.confidence == min(c.confidence for c in result.characters)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["text"] == "06 12\n334" and len(data["characters"]) == 7
    left, top, right, bottom = data["characters"][0]["box"]
    assert 0 <= left < right <= 900 and 0 <= top < bottom <= 500



def test_predict_glyphs_reads_ink_crops_as_read_reads_each_character(font):
    def ink_crop(text: str) -> np.ndarray:
        ink = 1.0 - np.asarray(render(text), np.float32) / 255
        rows, cols = np.nonzero(ink > 0.5)
        return ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]  # tight: the ink touches every side

    crops = [ink_crop("4"), np.zeros((30, 20), np.float32), ink_crop("7")]
    answers = font.predict_glyphs(crops, top_k=2)
    assert answers[1] is None  # no ink: nothing to read, and the others keep their places
    assert [answers[0].label, answers[2].label] == ["4", "7"] and len(answers[0].top_k) == 2
    assert font.predict_glyphs([]) == []
    with pytest.raises(InkreadError, match="top_k"):
        font.predict_glyphs(crops, top_k=0)

def test_read_blank_is_nothing_to_read(font):
    result = font.read(Image.new("L", (300, 100), 255))
    assert result.no_ink and result.text == "" and result.characters == [] and str(result) == "nothing to read"


def test_read_applies_only(pixel):
    result = pixel.read(render("7", size=(100, 100), font_size=60), only="digits")
    assert len(result.characters) == 1 and result.text in DIGITS


# --- real handwriting ---------------------------------------------------------------------------

def _mnist():
    images = DATASETS / "mnist" / "train-images-idx3-ubyte.gz"
    if not images.exists():
        pytest.skip(f"../shared/datasets not found: {images} is needed for real MNIST digits")
    from inkread.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

    return (read_idx(images, IMAGES_MAGIC)[:10000],
            read_idx(DATASETS / "mnist" / "train-labels-idx1-ubyte.gz", LABELS_MAGIC)[:10000])


@pytest.fixture(scope="module")
def mnist_reader(tmp_path_factory):
    from inkread import Recognizer

    images, labels = _mnist()
    means = np.stack([images[labels == d].mean(axis=0) / 255.0 for d in range(10)])
    bundle = centroid_bundle(tmp_path_factory.mktemp("mnist"), means, DIGITS, sharpness=1.0)
    return Recognizer.load(bundle), images, labels


def test_read_a_number_written_with_real_mnist_digits(mnist_reader):
    reader, images, labels = mnist_reader
    wanted = "4071 93\n58"
    # digits the model gets right on their own (the model is a simple one), written dark on white
    picked = {}
    for image, label in zip(images[:2000], labels[:2000]):
        digit = str(label)
        if digit in wanted and digit not in picked:
            p = reader.predict(255 - image)
            if p.label == digit and p.confidence > 0.9:
                picked[digit] = image
    # write them like a person would: ink 4 px apart within a number, 25 px between numbers
    canvas = write_on_page(wanted, picked.get, size=(110, 260), line_height=50, gap=4, space=25)
    result = reader.read(255 - canvas)
    assert result.text == wanted


def test_read_accepts_an_mnist_digit_as_a_numpy_array(mnist_reader):
    reader, images, labels = mnist_reader
    correct = sum(reader.predict(255 - image).label == str(label) for image, label in zip(images[:100], labels[:100]))
    assert correct >= 70  # nearest class mean scores about 80% on MNIST


def test_read_boxes_are_in_the_input_pixels_even_for_large_images():
    """A 3000 px wide image is reduced for reading; the boxes must still be in its own coordinates."""
    from PIL import Image, ImageDraw

    from inkread import Recognizer

    image = Image.new("L", (3000, 1000), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(600, 250), (600, 750)], fill=0, width=60)      # a "1" at x ~ 600
    draw.ellipse([(2000, 250), (2300, 750)], outline=0, width=60)  # a "0" at x ~ 2000..2300
    result = Recognizer.load("digits").read(image)
    assert [c.label for c in result.characters] == ["1", "0"]
    one, zero = (c.box for c in result.characters)
    assert 520 <= one[0] <= 600 <= one[2] <= 690
    assert 1940 <= zero[0] <= 2010 and 2290 <= zero[2] <= 2360
    assert 200 <= zero[1] <= 260 and 740 <= zero[3] <= 800


def test_read_tells_punctuation_by_its_shape_and_place(font):
    """A model knows no punctuation: read as characters, "06-12" was "06712" and "3.14" was "3014"."""
    result = font.read(render("06-12.33   10:30,5", size=(1600, 200), font_size=110), only="digits")
    assert result.text == "06-12.33 10:30,5"
    marks = [c for c in result.characters if c.punctuation]
    assert [c.label for c in marks] == ["-", ".", ":", ","]
    assert all(c.confidence == 1.0 and c.top_k == [(c.label, 1.0)] and not c.uncertain for c in marks)
    assert not any(c.punctuation for c in result.characters if c.label.isdigit())
    assert result.confidence == min(c.confidence for c in result.characters if not c.punctuation)
    data = result.to_dict()["characters"]
    assert [d["punctuation"] for d in data].count(True) == 4 and data[2]["label"] == "-"


class FakeLineReader:
    """Stands in for a LineReader: answers ``reads[k]`` for the k-th ink map it is given, and keeps them."""

    name = "fake-lines"
    labels = tuple("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") + (" ",)

    def __init__(self, *reads):
        self.reads, self.inks, self.only = list(reads), [], []

    def read_lines(self, inks, only=None, top_k=1):
        self.inks += list(inks)
        self.only.append(only)
        return [self.reads[k % len(self.reads)] for k in range(len(inks))]


def test_touching_characters_go_to_the_line_model_and_the_rest_stay_with_the_character_model():
    from inkread.imaging.decode import load_image
    from inkread.imaging.segment import segment
    from inkread.inference.recognizer import Recognizer

    page = touching_page()
    plain = Recognizer.load("digits")
    glyphs = [g for line in segment(load_image(page), *plain._choosers(None)) for g in line]
    assert glyphs[0].cut_from is None and glyphs[-1].cut_from is not None  # the 7 alone, the 3-8 piece of ink
    lines = FakeLineReader([("4", 0.99, 5, 8), (" ", 0.99, 20, 21), ("2", 0.59, 40, 45)])
    mixed = Recognizer(plain.model, touching=lines)
    result = mixed.read(page)
    # the 7 by the digits model, the piece of ink as the line model read it, after the 7's word gap if any
    assert result.text.replace(" ", "") == plain.read(page).characters[0].label + "42"
    assert result.characters[1].space_before == glyphs[1].space_before
    piece = [g for g in glyphs if g.cut_from == glyphs[-1].cut_from]  # cut in two or kept whole: all of it, once
    assert len(lines.inks) == 1 and lines.inks[0].shape[1] == max(g.box[2] for g in piece) - min(g.box[0] for g in piece)
    assert lines.only == ["0123456789"]  # the line model reads no more than the digits model knows
    assert [c.label for c in result.characters[1:]] == ["4", "2"] and result.characters[2].uncertain
    assert not result.characters[2].space_before  # a space read inside a piece of ink is no word gap
    x0 = min(g.box[0] for g in glyphs[1:])
    assert all(x0 <= c.box[0] < c.box[2] <= page.shape[1] for c in result.characters[1:])
    if len(piece) == 1:  # kept whole: the line model's reading must be surer than the digits model's one character
        sure = plain.predict(piece[0].ink).confidence
        unsure = Recognizer(plain.model, touching=FakeLineReader([("4", 0.99, 5, 8), ("2", 0.85 * sure, 40, 45)]))
        assert unsure.read(page).text == plain.read(page).text
    one = Recognizer(plain.model, touching=FakeLineReader([("5", 0.9, 5, 8)]))
    assert one.read(page).text == plain.read(page).text  # read as one character: the digits model's answer stays


def test_read_result_text_keeps_lines_and_word_gaps():
    from inkread.inference.results import CharacterResult, ReadResult

    def char(label, line, space=False):
        return CharacterResult(label=label, confidence=0.9, box=(0, 0, 1, 1), line=line, top_k=[(label, 0.9)], space_before=space)

    result = ReadResult.of([char("1", 0), char("2", 0, True), char("3", 2, True), char("4", 2)])
    assert result.text == "1 2\n34" and result.lines == ["1 2", "34"] and result.confidence == 0.9
    assert ReadResult.of([]).no_ink
    unread = ReadResult.of([], ink_found=True)
    assert not unread.no_ink and unread.uncertain and unread.text == "" and str(unread) != str(ReadResult.of([]))


def test_a_first_letter_whose_cases_look_alike_is_cased_by_its_height():
    from inkread.inference.recognizer import _first_letters_by_height
    from inkread.inference.results import Prediction

    def answers(text: str) -> list[Prediction]:
        return [Prediction(label=char, confidence=0.9, top_k=[(char, 0.9), ("x", 0.05)]) for char in text]

    def standing(*heights: int) -> list[tuple[int, int]]:  # (top, bottom) rows of characters on a baseline at row 100
        return [(100 - height, 100) for height in heights]

    # "hello World": the W is as tall as the o and the r (20 px), the h, l and d 30 px
    words = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    read = _first_letters_by_height(words, answers("helloWorld"), standing(30, 20, 30, 30, 20, 20, 20, 20, 30, 30))
    assert "".join(a.label for a in read) == "helloworld"
    assert read[5].top_k[0] == ("w", 0.9)  # the ranking says what the answer says
    tall = _first_letters_by_height(words, answers("helloworld"), standing(30, 20, 30, 30, 20, 34, 20, 20, 30, 30))
    assert "".join(a.label for a in tall) == "helloWorld"  # 1.7 x-heights: a capital
    kept = _first_letters_by_height(words, answers("helloWorld"), standing(30, 20, 30, 30, 20, 28, 20, 20, 30, 30))
    assert "".join(a.label for a in kept) == "helloWorld"  # 1.4 x-heights: no telling, the model's case stays
    tom = _first_letters_by_height([[0, 1, 2]], answers("Tom"), standing(20, 20, 20))
    assert tom[0].label == "T"  # a T looks like no t: its case is the model's
    # one small letter is x-height enough ("cat" read "Cat": the model's guess at a c is mostly the capital)
    assert [a.label for a in _first_letters_by_height([[0, 1, 2]], answers("Cat"), standing(20, 20, 30))] == list("cat")
    # a p is measured down to its word's baseline: its descender made a small p a 1.5 x-heights "P"
    page = [(80, 110), (80, 100), (80, 110), (80, 100)]
    assert [a.label for a in _first_letters_by_height([[0, 1, 2, 3]], answers("Page"), page)] == list("page")
    capital = [(66, 100), (80, 100), (80, 110), (80, 100)]
    assert [a.label for a in _first_letters_by_height([[0, 1, 2, 3]], answers("page"), capital)] == list("Page")


def test_the_several_characters_hint_never_fails_an_image(font, monkeypatch):
    """Cutting the ink apart can refuse it (too many marks): the answer then stands, unflagged."""
    import inkread.inference.recognizer as recognizer_module
    from helpers import render

    def refuse(*args, **kwargs):
        raise InputImageError("more than 500 marks to read")

    monkeypatch.setattr(recognizer_module, "segment", refuse)
    answers = font.predict_batch([render("7"), render("2 5", size=(400, 140), font_size=100)], errors="return")
    assert all(a.error is None and a.label is not None and a.several_characters is None for a in answers)


def test_ink_in_which_no_character_is_read_is_unread_not_blank(font, monkeypatch):
    import inkread.inference.recognizer as recognizer_module
    from helpers import render
    from inkread.imaging.preprocess import NoInkError

    def nothing(*args, **kwargs):
        raise NoInkError("no ink")

    monkeypatch.setattr(recognizer_module, "normalize", nothing)  # every glyph normalizes to nothing
    result = font.read(render("25", size=(400, 140), font_size=100))
    assert not result.no_ink and result.uncertain and result.text == ""


# --- the Python API as users call it ------------------------------------------------------------

def test_predict_preprocessed_refuses_nan_and_0_to_255_images(pixel):
    with pytest.raises(InputImageError, match="NaN or infinite"):
        pixel.predict_preprocessed(np.full((1, 28, 28), np.nan, np.float32))
    with pytest.raises(InputImageError, match="up to 255: divide 0..255 images by 255"):
        pixel.predict_preprocessed(np.full((1, 28, 28), 255, np.uint8))
    with pytest.raises(InputImageError, match=r"shape \(N, 28, 28\), got \(1, 1, 32, 32\)"):
        pixel.predict_preprocessed(np.zeros((1, 32, 32), np.float32))
    assert len(pixel.predict_preprocessed(np.zeros((2, 28, 28), np.float32))) == 2
    # ink crops as read cuts them too: a 0..255 crop was read as a sure "0" (a helper's find)
    stroke = np.zeros((40, 30), np.float32)
    stroke[5:35, 12:16] = 255
    with pytest.raises(InputImageError, match="^predict_glyphs takes pixel values from 0.0 .*up to 255: divide 0..255"):
        pixel.predict_glyphs([stroke])
    with pytest.raises(InputImageError, match="^predict_glyphs got NaN"):
        pixel.predict_glyphs([np.full((40, 30), np.nan)])
    assert pixel.predict_glyphs([stroke / 255])[0] is not None


def test_predict_batch_given_one_image_says_to_pass_a_list(pixel, tmp_path):
    path = tmp_path / "seven.png"
    Image.new("L", (28, 28), 255).save(path)
    data = path.read_bytes()
    with open(path, "rb") as file:  # iterated, a file gave lines and bytes gave numbers: "a value of type int"
        for one in (str(path), path, Image.open(path), np.zeros((28, 28), np.uint8), bytearray(data), memoryview(data),
                    file, io.BytesIO(data)):
            with pytest.raises(InkreadError, match="predict_batch takes a list of images.*predict_batch\\(\\[image\\]\\)"):
                pixel.predict_batch(one)
    assert len(pixel.predict_batch(np.zeros((3, 28, 28), np.uint8))) == 3  # a stack of images is a batch


def test_recognizer_options_are_checked(pixel_bundle):
    from inkread import Recognizer

    for option in ({"uncertain_below": 2}, {"margin_below": -0.1}, {"uncertain_below": "0.5"}):
        with pytest.raises(InkreadError, match="is a probability between 0 and 1"):
            Recognizer.load(pixel_bundle, **option)
    for threads in (0, -1, 2.5, True):  # 0 was taken for the default, which the message does not say
        with pytest.raises(InkreadError, match="threads must be a whole number of at least 1"):
            Recognizer.load(pixel_bundle, threads=threads)
    assert Recognizer(pixel_bundle).labels == Recognizer.load(pixel_bundle).labels  # a name or path, as load takes


def test_a_lexicon_given_to_a_character_model_says_to_read_with_a_line_model(pixel):
    """Every reader's read takes ``lexicon``; only a line model's spellings can be looked up in one."""
    with pytest.raises(InkreadError, match="a lexicon looks up the words a line model reads: read with LineReader"):
        pixel.read(np.zeros((28, 28), np.uint8), lexicon="english")


def test_an_unknown_line_model_for_touching_characters_is_named_as_that_argument():
    from inkread.inference.recognizer import Recognizer

    with pytest.raises(ModelBundleError, match=r"^unknown model 'bogus': use lines for touching=, or the path of a model bundle folder$"):
        Recognizer.load("digits", touching="bogus")
    with pytest.raises(ModelBundleError, match=r"^unknown model 'bogus': use lines after the \+"):
        Recognizer.load("digits+bogus")


@pytest.mark.parametrize("upright, other, wins", [
    (0.50, 0.66, True),   # 1.32x surer
    (0.50, 0.64, False),  # 1.28x, and 0.36 of doubt against 0.50
    (0.85, 0.97, True),   # 1.14x only, but 0.03 of doubt against 0.15: a box around a dark 6 against the 6
    (0.90, 0.93, False),  # 0.07 of doubt against 0.10: not half
    (0.97, 0.90, False),  # less sure
])
def test_the_reading_the_other_way_round_wins_if_surer_by_a_third_or_half_as_much_in_doubt(upright, other, wins):
    from inkread.inference.recognizer import _other_way_surer

    assert _other_way_surer(upright, other) is wins


def test_may_be_inverted_from_a_fifth_of_the_image_unless_told_otherwise():
    from inkread.imaging.preprocess import may_be_inverted

    paper_of_a_bold_crop = np.zeros((40, 20), np.float32)
    paper_of_a_bold_crop[:, :6] = 1.0  # "ink" 30% of the crop, along its whole left side
    assert may_be_inverted(paper_of_a_bold_crop)
    assert not may_be_inverted(paper_of_a_bold_crop, 0.4)  # read's stricter share


def test_a_mistyped_shipped_model_name_gets_a_hint_among_the_names_the_job_takes():
    from inkread.inference.onnx_model import resolve_bundle

    with pytest.raises(ModelBundleError, match=r"^unknown model 'DIGITS': did you mean 'digits'\? use "):
        resolve_bundle("DIGITS")
    with pytest.raises(ModelBundleError, match=r"did you mean 'characters'\?"):
        resolve_bundle("charaters")
    with pytest.raises(ModelBundleError, match=r"^unknown model 'Lines': use digits or characters, or the path"):
        resolve_bundle("Lines", choices="digits or characters")  # predict takes no line model: no hint to one
