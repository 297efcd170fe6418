"""evaluate(): a tiny ONNX model bundle made in the test, run on data sets whose answers are known.

The model is a linear layer whose class k responds to a horizontal bar of ink at rows 2k+4..2k+5,
so its prediction for every image is known without running it.
"""

import html
import json
from types import SimpleNamespace

import numpy as np
import pytest

from inkread import cli
from inkread.data import DatasetSplits, ImageSet
from inkread.errors import DatasetError, InkreadError
from inkread.evaluation import EvaluateConfig, evaluate
from inkread.inference.bundle_format import ModelMeta
from inkread.labels import DIGITS

HISTORY = [{"epoch": 1, "train_loss": 0.9, "train_acc": 0.7, "val_loss": 1.0, "val_acc": 0.65},
           {"epoch": 2, "train_loss": 0.4, "train_acc": 0.9, "val_loss": 0.5, "val_acc": 0.85}]


def bar(cls: int) -> np.ndarray:
    """A 28x28 uint8 ink-high image of class ``cls``: a bar at rows 2*cls+4 and 2*cls+5."""
    image = np.zeros((28, 28), np.uint8)
    image[2 * cls + 4:2 * cls + 6, 4:24] = 255
    return image


def bar_images(classes) -> np.ndarray:
    return np.stack([bar(c) for c in classes])


def write_bar_bundle(folder, labels=DIGITS, history=()):
    """A model bundle (model.onnx + model.json) that recognizes ``bar`` images."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.stack([bar(c).reshape(-1) / 255.0 for c in range(len(labels))], axis=1).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"], axis=1), helper.make_node("MatMul", ["flat", "w"], ["logits"])],
        "bars",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(labels)])],
        initializer=[numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime inkread supports
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    meta = ModelMeta(name="bars", arch="linear", labels=list(labels), history=list(history))
    (folder / "model.json").write_text(meta.to_json(), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return write_bar_bundle(tmp_path_factory.mktemp("bundle") / "bars", history=HISTORY)


def fake_splits(test_targets, labels=DIGITS, wrong=0):
    """Bar images whose first ``wrong`` test labels are off by one class."""
    classes = np.asarray(test_targets)
    targets = classes.copy()
    targets[:wrong] = (targets[:wrong] + 1) % len(labels)
    test = ImageSet(bar_images(classes), targets)
    train = ImageSet(bar_images([0, 1]), np.array([0, 1]))
    return DatasetSplits("fake", tuple(labels), "mnist", train, ImageSet.empty(), test)


@pytest.fixture
def fake_data(monkeypatch):
    """Replace load_dataset by one that records its calls and returns ``fake.splits``."""
    import inkread.data

    fake = SimpleNamespace(calls=[], splits=fake_splits(np.arange(50) % 10, wrong=5))

    def load_dataset(spec, data_dir=None, **kwargs):
        fake.calls.append((spec, {"data_dir": data_dir, **kwargs}))
        return fake.splits

    monkeypatch.setattr(inkread.data, "load_dataset", load_dataset)
    return fake


def test_evaluate_writes_report_with_exact_metrics(bundle, fake_data, tmp_path, capsys):
    out = tmp_path / "report"
    metrics = evaluate(EvaluateConfig(model=str(bundle), dataset="fake-spec", out=str(out), data_dir="/data"))
    assert fake_data.calls == [("fake-spec", {"data_dir": "/data", "labels": DIGITS, "recipe": "mnist", "test_only": True,
                                              "seed": 0, "val_fraction": 0.1, "split_by": "source+class"})]
    assert metrics["n"] == 50
    assert metrics["accuracy"] == pytest.approx(45 / 50)  # the 5 relabelled images are the only errors
    assert [c["count"] for c in metrics["top_confusions"]] == [1] * 5
    assert metrics["context"]["dataset"] == "fake-spec" and metrics["context"]["split"] == "test"
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8"))["accuracy"] == metrics["accuracy"]
    # the model's history makes the learning curves
    assert {"report.html", "metrics.json", "curves.png", "misclassified.png"} <= {p.name for p in out.iterdir()}
    printed = capsys.readouterr().out
    assert "accuracy 90.00%" in printed and "macro F1" in printed and "n=50" in printed
    assert "report.html" in printed and str(out) in printed


def test_a_loaded_recognizer_is_evaluated_as_its_folder_is(bundle, fake_data, tmp_path):
    from inkread import LineReader, Recognizer

    by_folder = evaluate(EvaluateConfig(model=bundle, dataset="fake-spec", out=tmp_path / "a", progress=False))
    loaded = evaluate(EvaluateConfig(model=Recognizer.load(bundle), dataset="fake-spec", out=tmp_path / "b",
                                     progress=False))
    assert loaded["accuracy"] == by_folder["accuracy"] and loaded["context"]["model"] == str(bundle)
    with pytest.raises(InkreadError, match="evaluate takes a character model: .* not a LineReader"):
        evaluate(EvaluateConfig(model=object.__new__(LineReader), dataset="fake-spec", out=tmp_path / "c"))


def test_report_says_when_classes_of_the_data_were_merged(bundle, fake_data, tmp_path):
    fake_data.splits.source["merged_classes"] = ["c->C", "o->O"]
    metrics = evaluate(EvaluateConfig(model=str(bundle), dataset="emnist-byclass", out=str(tmp_path)))
    assert metrics["context"]["classes"].startswith("2 classes of emnist-byclass are merged into the model's 10")
    assert "c-&gt;C o-&gt;O" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_single_merged_class_is_named_in_the_singular(bundle, fake_data, tmp_path):
    fake_data.splits.source["merged_classes"] = ["c->C"]
    metrics = evaluate(EvaluateConfig(model=str(bundle), dataset="emnist-byclass", out=str(tmp_path)))
    assert metrics["context"]["classes"].startswith("1 class of emnist-byclass is merged into the model's 10")


def test_limit_and_split(bundle, fake_data, tmp_path):
    metrics = evaluate(EvaluateConfig(model=str(bundle), dataset="x", out=str(tmp_path), limit=3))
    assert metrics["n"] == 3 and metrics["accuracy"] == 0.0  # the first 5 test labels are the wrong ones
    metrics = evaluate(EvaluateConfig(model=str(bundle), dataset="x", split="train", out=str(tmp_path)))
    assert metrics["n"] == 2 and metrics["accuracy"] == 1.0
    assert metrics["context"]["split"] == "train"


def test_paths_are_taken_as_python_users_pass_them(bundle, fake_data, tmp_path):
    """A pathlib.Path for the data set names a folder: data set (the spec every record holds), and the model and
    report folders may be paths too."""
    config = EvaluateConfig(model=bundle, dataset=tmp_path / "my_digits", out=tmp_path / "report")
    assert config.dataset == f"folder:{tmp_path / 'my_digits'}" and config.out == str(tmp_path / "report")
    metrics = evaluate(EvaluateConfig(model=bundle, dataset="x", out=tmp_path / "report"))
    assert metrics["n"] > 0 and (tmp_path / "report" / "report.html").is_file()


def test_evaluating_on_files_the_model_was_trained_on_is_flagged(tmp_path, fake_data, capsys):
    pooled = write_bar_bundle(tmp_path / "pooled")
    meta = ModelMeta.read(pooled)
    meta.training = {"dataset": "emnist-pool", "data_source": {"spec": "emnist-pool", "files": [
        {"file": "emnist-bymerge-test-images-idx3-ubyte.gz"}, {"file": "emnist-letters-test-images-idx3-ubyte.gz"}]}}
    (pooled / "model.json").write_text(meta.to_json(), encoding="utf-8")
    fake_data.splits.source = {"spec": "emnist-bymerge", "files": [
        "emnist-bymerge-test-images-idx3-ubyte.gz", "emnist-bymerge-test-labels-idx1-ubyte.gz"]}

    metrics = evaluate(EvaluateConfig(model=str(pooled), dataset="emnist-bymerge", out=str(tmp_path / "report")))
    warning = capsys.readouterr().err
    assert "warning: 'bars' was trained on 'emnist-pool', which read emnist-bymerge-test-images-idx3-ubyte.gz" in warning
    assert "overstates" in metrics["context"]["warning"] and "letters" not in metrics["context"]["warning"]

    fake_data.splits.source = {"spec": "emnist-pool", "files": meta.training["data_source"]["files"]}
    metrics = evaluate(EvaluateConfig(model=str(pooled), dataset="emnist-pool", out=str(tmp_path / "own")))
    assert "warning" not in metrics["context"] and capsys.readouterr().err == ""  # its own test split is held out


def test_a_model_fine_tuned_from_one_trained_on_the_evaluated_files_is_flagged(tmp_path, fake_data, capsys):
    tuned = write_bar_bundle(tmp_path / "tuned")
    meta = ModelMeta.read(tuned)
    meta.training = {"dataset": "folder:/mine", "data_source": {"spec": "folder:/mine", "images": 40},
                     "started_from": {"name": "characters", "training": {"dataset": "emnist-pool", "data_source": {
                         "spec": "emnist-pool", "files": [{"file": "emnist-bymerge-test-images-idx3-ubyte.gz"}]}}}}
    (tuned / "model.json").write_text(meta.to_json(), encoding="utf-8")
    fake_data.splits.source = {"spec": "emnist-bymerge", "files": ["emnist-bymerge-test-images-idx3-ubyte.gz"]}
    metrics = evaluate(EvaluateConfig(model=str(tuned), dataset="emnist-bymerge", out=str(tmp_path / "report")))
    assert ("warning: 'bars' started from 'characters', which was trained on 'emnist-pool', which read "
            "emnist-bymerge-test-images-idx3-ubyte.gz") in capsys.readouterr().err
    assert "overstates" in metrics["context"]["warning"]


def test_a_folder_split_by_position_that_changed_since_training_is_flagged(tmp_path, fake_data, capsys):
    trained = write_bar_bundle(tmp_path / "trained")
    meta = ModelMeta.read(trained)
    meta.training = {"dataset": "folder:/mine", "data_source": {"spec": "folder:/mine", "images": 491}}
    (trained / "model.json").write_text(meta.to_json(), encoding="utf-8")
    fake_data.splits.source = {"spec": "folder:/mine", "images": 491}
    metrics = evaluate(EvaluateConfig(model=str(trained), dataset="folder:/mine", out=str(tmp_path / "same")))
    assert "warning" not in metrics["context"] and capsys.readouterr().err == ""
    fake_data.splits.source = {"spec": "folder:/mine", "images": 500}
    metrics = evaluate(EvaluateConfig(model=str(trained), dataset="folder:/mine", out=str(tmp_path / "grown")))
    assert "holds 500 images now but 491 when the model was trained" in capsys.readouterr().err
    assert "may hold training images" in metrics["context"]["warning"]
    assert fake_data.calls[-1][1]["split_by"] == "position"  # a model from before the split by content: its split
    meta.training["data_source"]["split_by"] = "content"  # split by content, an image keeps its part: no warning
    (trained / "model.json").write_text(meta.to_json(), encoding="utf-8")
    metrics = evaluate(EvaluateConfig(model=str(trained), dataset="folder:/mine", out=str(tmp_path / "by-content")))
    assert "warning" not in metrics["context"] and fake_data.calls[-1][1]["split_by"] == "content"


def test_the_test_split_is_the_one_the_model_was_trained_beside(tmp_path, fake_data, monkeypatch):
    """A folder, CSV or pool is split by seed: a model trained with --split-seed 3 is tested on seed 3's test split."""
    trained = write_bar_bundle(tmp_path / "trained")
    meta = ModelMeta.read(trained)
    meta.training = {"dataset": "folder:mine", "data_source": {"spec": "folder:mine", "seed": 3, "val_fraction": 0.2}}
    (trained / "model.json").write_text(meta.to_json(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    for spec in ("folder:mine", f"folder:{tmp_path / 'mine'}", "folder:./mine/"):
        metrics = evaluate(EvaluateConfig(model=str(trained), dataset=spec, out=str(tmp_path / "report")))
        assert fake_data.calls[-1][1]["seed"] == 3 and fake_data.calls[-1][1]["val_fraction"] == 0.2, spec
        assert metrics["context"]["split_seed"] == 3
    evaluate(EvaluateConfig(model=str(trained), dataset="folder:theirs", out=str(tmp_path / "other")))
    assert fake_data.calls[-1][1]["seed"] == 0 and fake_data.calls[-1][1]["val_fraction"] == 0.1


def test_model_without_history_has_no_curves(tmp_path, fake_data):
    bundle = write_bar_bundle(tmp_path / "plain")
    evaluate(EvaluateConfig(model=str(bundle), dataset="x", out=str(tmp_path / "out")))
    assert not (tmp_path / "out" / "curves.png").exists()
    assert "No learning curves" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_label_set_mismatch_is_a_one_line_error(bundle, fake_data, tmp_path):
    fake_data.splits = fake_splits(np.arange(20) % 10, labels=tuple("ABCDEFGHIJ"))
    with pytest.raises(DatasetError, match="knows 10 classes") as caught:
        evaluate(EvaluateConfig(model=str(bundle), dataset="letters", out=str(tmp_path / "out")))
    assert "\n" not in str(caught.value) and "'letters'" in str(caught.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("config, message", [
    ({"split": "validation"}, "unknown split"),
    ({"limit": 0}, "at least 1"),
    ({"split": "val"}, "no images"),
])
def test_bad_options_are_one_line_errors(bundle, fake_data, tmp_path, config, message):
    with pytest.raises(InkreadError, match=message):
        evaluate(EvaluateConfig(model=str(bundle), dataset="x", out=str(tmp_path), **config))


def test_an_out_folder_holding_other_files_is_refused_untouched(bundle, fake_data, tmp_path):
    mine = tmp_path / "mydocs"
    mine.mkdir()
    (mine / "metrics.json").write_text("my own numbers")
    (mine / "notes.txt").write_text("my precious notes")
    with pytest.raises(InkreadError, match=r"out=.*mydocs' holds other files than an evaluation report's \('notes.txt'\): "
                                           r"choose a new or empty folder beside it, such as .*mydocs-report$"):
        evaluate(EvaluateConfig(model=str(bundle), dataset="x", out=str(mine)))
    assert (mine / "metrics.json").read_text() == "my own numbers"
    evaluate(EvaluateConfig(model=str(bundle), dataset="x", out=str(tmp_path / "report")))
    evaluate(EvaluateConfig(model=str(bundle), dataset="x", out=str(tmp_path / "report")))  # a report's own folder: rewritten


def test_cli_evaluate(bundle, fake_data, tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli.main(["evaluate", "--model", str(bundle), "--dataset", "x", "--out", str(out), "--limit", "10"]) == 0
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8"))["n"] == 10
    fake_data.splits = fake_splits([0, 1], labels=tuple("AB"))
    assert cli.main(["evaluate", "--model", str(bundle), "--dataset", "x", "--out", str(out)]) == cli.EXIT_USER_ERROR
    error = capsys.readouterr().err
    assert error.startswith("inkread: error: ") and error.count("\n") == 1


def test_evaluate_on_a_real_csv_data_set(bundle, tmp_path):
    """Through the real data layer: a Kaggle-style csv: file of bar images, one fifth mislabelled."""
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 10, 200)
    labels = classes.copy()
    labels[::5] = (labels[::5] + 3) % 10
    rows = [",".join([str(label), *map(str, bar(cls).reshape(-1))]) for cls, label in zip(classes, labels)]
    csv = tmp_path / "bars.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")

    metrics = evaluate(EvaluateConfig(model=str(bundle), dataset=f"csv:{csv}", split="test", out=str(tmp_path / "out")))
    from inkread.data import load_dataset

    test = load_dataset(f"csv:{csv}", labels=DIGITS).test
    # the bar's row says which class the model predicts: rows 2k+4 and 2k+5 hold the ink
    predicted = (np.argmax(test.images[:, :, 10], axis=1) - 4) // 2
    assert metrics["n"] == len(test) > 0
    assert metrics["accuracy"] == pytest.approx(np.mean(predicted == test.targets))
    assert 0 < metrics["accuracy"] < 1  # the mislabelled rows are errors
    assert (tmp_path / "out" / "report.html").exists()


def test_a_folder_or_csv_the_model_never_saw_is_evaluated_whole(bundle, tmp_path, capsys):
    """A user's own folder of new handwriting: its test split (a tenth) left nine tenths unread."""
    csv = tmp_path / "bars.csv"
    csv.write_text("\n".join(",".join([str(c % 10), *map(str, bar(c % 10).reshape(-1))]) for c in range(60)) + "\n")
    metrics = evaluate(EvaluateConfig(model=str(bundle), dataset=f"csv:{csv}", out=str(tmp_path / "out")))
    assert metrics["n"] == 60 and metrics["accuracy"] == 1.0 and metrics["context"]["split"] == "all"
    printed = capsys.readouterr()
    assert "is not the data set the model was trained on" in printed.err and "accuracy 100.00%" in printed.out
    # quiet, from Python and as the command line says it: the same report, nothing printed
    quiet = evaluate(EvaluateConfig(model=str(bundle), dataset=f"csv:{csv}", out=str(tmp_path / "q"), progress=False))
    assert quiet["n"] == 60 and capsys.readouterr() == ("", "")
    assert cli.main(["evaluate", "--model", str(bundle), "--dataset", f"csv:{csv}", "--out", str(tmp_path / "q2"),
                     "--quiet"]) == 0
    capsys.readouterr()
    # a folder that is not there: the error alone, not first a note that it is being evaluated whole
    assert cli.main(["evaluate", "--model", str(bundle), "--dataset", f"folder:{tmp_path / 'nope'}", "--out",
                     str(tmp_path / "q3")]) != 0
    assert "note:" not in capsys.readouterr().err
    assert capsys.readouterr() == ("", "") and (tmp_path / "q2" / "report.html").exists()


def test_the_images_a_model_was_trained_on_are_flagged_when_evaluated(tmp_path, fake_data, capsys):
    trained = write_bar_bundle(tmp_path / "trained")
    meta = ModelMeta.read(trained)
    meta.training = {"dataset": "folder:/mine", "data_source": {"spec": "folder:/mine", "split_by": "content"}}
    (trained / "model.json").write_text(meta.to_json(), encoding="utf-8")
    fake_data.splits.source = {"spec": "folder:/mine"}
    for split in ("train", "all"):
        metrics = evaluate(EvaluateConfig(model=str(trained), dataset="folder:/mine", split=split, out=str(tmp_path / split)))
        assert f"the {split} split of folder:/mine holds images 'bars' was" in capsys.readouterr().err, split
        assert "overstates" in metrics["context"]["warning"]
    metrics = evaluate(EvaluateConfig(model=str(trained), dataset="folder:/mine", out=str(tmp_path / "test")))
    assert metrics["context"]["split"] == "test" and "warning" not in metrics["context"]  # its held-out part


def test_digits_model_on_a_letters_csv_is_refused(bundle, tmp_path):
    csv = tmp_path / "letters.csv"
    csv.write_text("\n".join(",".join(["A", *["0"] * 784]) for _ in range(10)) + "\n", encoding="utf-8")
    with pytest.raises(InkreadError) as caught:
        evaluate(EvaluateConfig(model=str(bundle), dataset=f"csv:{csv}", out=str(tmp_path / "out")))
    assert "\n" not in str(caught.value) and "'A'" in str(caught.value)


def unique_bar(cls: int, number: int, ink: int = 255) -> np.ndarray:
    """``bar(cls)`` with ink ``ink`` and ``number`` written in bits down column 0, where the model looks not:
    an image of its own, read as ``cls`` (less surely with less ink)."""
    image = (bar(cls).astype(np.int64) * ink // 255).astype(np.uint8)
    image[:, 0] = [255 * ((number >> bit) & 1) for bit in range(28)]
    return image


def write_bar_csv(path, count: int, wrong: dict | None = None):
    """A csv: file of ``count`` distinct bar images of classes 0..9 in turn; row i in ``wrong`` (i: ink)
    is labelled one class off, with that much ink."""
    wrong = wrong or {}
    rows = []
    for i in range(count):
        label = (i % 10 + 1) % 10 if i in wrong else i % 10
        rows.append(",".join([str(label), *map(str, unique_bar(i % 10, i, wrong.get(i, 255)).reshape(-1))]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_copy_of_the_training_data_is_found_by_content(tmp_path, capsys):
    """A user's copy of the folder a model was trained on, evaluated whole: most of it is training images."""
    import shutil

    from inkread.data import load_dataset
    from inkread.evaluation.fingerprint import training_fingerprint

    original = write_bar_csv(tmp_path / "ds" / "mine.csv", 100)
    train = load_dataset(f"csv:{original}", labels=DIGITS).train
    trained = write_bar_bundle(tmp_path / "ft")
    meta = ModelMeta.read(trained)
    meta.training = {"dataset": f"csv:{original}", "train_fingerprint": training_fingerprint(train.images),
                     "data_source": {"spec": f"csv:{original}", "split_by": "content+class", "seed": 0, "val_fraction": 0.1}}
    (trained / "model.json").write_text(meta.to_json(), encoding="utf-8")
    copy = shutil.copy(original, tmp_path / "copy.csv")

    metrics = evaluate(EvaluateConfig(model=str(trained), dataset=f"csv:{copy}", out=str(tmp_path / "copy")))
    said = f"'bars' was trained on {len(train)} of the 100 evaluated images ({len(train)}%, matched by their pixels)"
    assert metrics["context"]["split"] == "all" and said in metrics["context"]["warning"]
    assert f"inkread: warning: {said}" in capsys.readouterr().err
    assert html.escape(said) in (tmp_path / "copy" / "report.html").read_text(encoding="utf-8")
    # the original's test split is what training held out: nothing to say
    metrics = evaluate(EvaluateConfig(model=str(trained), dataset=f"csv:{original}", out=str(tmp_path / "test")))
    assert metrics["context"]["split"] == "test" and "warning" not in metrics["context"]
    # its train split: the path says so already, once
    metrics = evaluate(EvaluateConfig(model=str(trained), dataset=f"csv:{original}", split="train", out=str(tmp_path / "t")))
    assert metrics["context"]["warning"].count("overstates") == 1
    # a bundle from before the fingerprint: as before
    metrics = evaluate(EvaluateConfig(model=str(write_bar_bundle(tmp_path / "old")), dataset=f"csv:{copy}",
                                      out=str(tmp_path / "old-report")))
    assert "warning" not in metrics["context"]


def test_the_training_images_of_the_model_a_fine_tuned_one_started_from_are_found(tmp_path, fake_data, capsys):
    from inkread.evaluation.fingerprint import training_fingerprint

    tuned = write_bar_bundle(tmp_path / "tuned")
    meta = ModelMeta.read(tuned)
    meta.training = {"dataset": "folder:/new", "train_fingerprint": training_fingerprint(bar_images([0])),
                     "started_from": {"name": "base", "training": {
                         "dataset": "csv:/base.csv", "train_fingerprint": training_fingerprint(bar_images(range(10)))}}}
    (tuned / "model.json").write_text(meta.to_json(), encoding="utf-8")
    metrics = evaluate(EvaluateConfig(model=str(tuned), dataset="csv:/elsewhere.csv", split="test", out=str(tmp_path / "r")))
    warnings = metrics["context"]["warning"]
    assert "'bars' was trained on 5 of the 50 evaluated images (10%" in warnings  # the fives bars of class 0
    assert "'bars' started from 'base', which was trained on 50 of the 50 evaluated images (100%" in warnings


def test_the_misclassified_rows_and_files_are_named(tmp_path):
    """A user finds the mislabelled images of their own data set: csv: rows by line, folder: images by file."""
    from helpers import font_digits, render

    csv = write_bar_csv(tmp_path / "bars.csv", 60, wrong={3: 30, 17: 255, 42: 60})
    metrics = evaluate(EvaluateConfig(model=str(write_bar_bundle(tmp_path / "bars")), dataset=f"csv:{csv}",
                                      out=str(tmp_path / "csv")))
    listed = metrics["misclassified"]["listed"]
    # the surest mistake first (most ink), as in misclassified.png; no header: row i is line i + 1
    assert [(m["image"], m["true"], m["predicted"]) for m in listed] == [("line 18", "8", "7"), ("line 43", "3", "2"),
                                                                         ("line 4", "4", "3")]
    assert metrics["misclassified"]["total"] == 3 and listed[0]["confidence"] > listed[1]["confidence"] > listed[2]["confidence"]
    page = (tmp_path / "csv" / "report.html").read_text(encoding="utf-8")
    assert page.index("line 18") < page.index("line 43") < page.index("line 4<")

    data = tmp_path / "mine"
    for label in "0123456789":
        (data / label).mkdir(parents=True)
        for name in ("a", "b"):
            render(label).save(data / label / f"{name}.png")
    render("3").save(data / "8" / "oops.png")  # a 3 filed as an 8
    metrics = evaluate(EvaluateConfig(model=str(font_digits(tmp_path / "digits")), dataset=f"folder:{data}",
                                      out=str(tmp_path / "folder")))
    assert metrics["n"] == 21 and metrics["misclassified"]["total"] == 1
    assert [(m["image"], m["true"], m["predicted"]) for m in metrics["misclassified"]["listed"]] == [("8/oops.png", "8", "3")]


def test_a_report_inside_the_data_set_folder_is_refused(bundle, tmp_path):
    """The advice was a report inside the folder (DATA/report), and the next training on DATA had a class
    "report" made of the report's pictures."""
    from PIL import Image

    data = tmp_path / "mine"
    for label in "01":
        (data / label).mkdir(parents=True)
        Image.new("L", (28, 28)).save(data / label / "a.png")
    with pytest.raises(InkreadError, match=r"is inside the data set .*mine\): the report would become part of it; "
                                           r"choose a folder outside it, such as .*mine-report$"):
        evaluate(EvaluateConfig(model=str(bundle), dataset=f"folder:{data}", out=str(data / "report")))
    assert sorted(p.name for p in data.iterdir()) == ["0", "1"]


def test_the_runs_data_dir_is_used_unless_another_is_given(fake_data, tmp_path):
    """evaluate read mnist from the default data dir where the run (and export, and --resume) used its --data-dir."""
    bundle = write_bar_bundle(tmp_path / "run")
    meta = json.loads((bundle / "model.json").read_text(encoding="utf-8"))
    meta["training"] = {"recipe": {"data_dir": "/recorded"}}
    (bundle / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    evaluate(EvaluateConfig(model=str(bundle), dataset="mnist", out=str(tmp_path / "a"), progress=False))
    evaluate(EvaluateConfig(model=str(bundle), dataset="mnist", out=str(tmp_path / "b"), data_dir="/given", progress=False))
    assert [kwargs["data_dir"] for _, kwargs in fake_data.calls] == ["/recorded", "/given"]


def test_a_folder_report_says_how_predict_reads_its_files(tmp_path, capsys):
    """evaluate read semeion 96.05% and predict 94.98% with nothing said (a helper's find): predict also reads a bold
    digit whose ink may be its paper the other way round. A folder's report says how predict reads its files too."""
    import shutil

    from helpers import shared_subfolder

    semeion = shared_subfolder("semeion")
    data = tmp_path / "bold"
    for name in ("semeion_1049_6.png", "semeion_0175_8.png", "semeion_0000_0.png", "semeion_0001_0.png"):
        label = name[-5]
        (data / label).mkdir(parents=True, exist_ok=True)
        shutil.copy(semeion / name, data / label / name)
    metrics = evaluate(EvaluateConfig(model="digits", dataset=f"folder:{data}", out=str(tmp_path / "report"), split="all"))
    as_predicted = metrics["context"]["as predict reads the files"]
    assert metrics["accuracy"] == 1.0 and as_predicted.startswith("50.00% (2 of 4 files;"), as_predicted
    assert "as inkread predict reads the files: 50.00%" in capsys.readouterr().out
    assert "as predict reads the files" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
