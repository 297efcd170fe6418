"""The report folder: PNG plots, metrics.json, classification_report.txt and a self-contained report.html."""

import base64
import io
import json
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from inkread.errors import InkreadError
from inkread.evaluation import plots, write_report
from inkread.labels import LABEL_SETS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PICTURES = ("confusion_matrix.png", "curves.png", "misclassified.png", "samples.png")
HISTORY = [{"epoch": e, "train_loss": 1 / e, "train_acc": 1 - 0.1 / e, "val_loss": 1.2 / e, "val_acc": 1 - 0.15 / e}
           for e in range(1, 6)]


def synthetic(num_classes: int, per_class: int, accuracy: float = 0.8, seed: int = 0, missing=()):
    """Images, true classes and probabilities of a fake model that is right about ``accuracy`` of the time."""
    rng = np.random.default_rng(seed)
    classes = [c for c in range(num_classes) if c not in missing]
    y_true = np.repeat(classes, per_class)
    rng.shuffle(y_true)
    images = np.zeros((len(y_true), 28, 28), np.uint8)
    for i, cls in enumerate(y_true):  # a bar whose position encodes the class, so grids show structure
        row = 3 + cls * 22 // num_classes
        images[i, row:row + 3, 4 + rng.integers(0, 6):22 + rng.integers(0, 4)] = 255
    logits = rng.normal(size=(len(y_true), num_classes))
    right = rng.random(len(y_true)) < accuracy
    logits[np.arange(len(y_true))[right], y_true[right]] += 6
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return images, y_true, probs


def read_png(path_or_bytes) -> Image.Image:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes every pixel: a truncated file fails here
    return image


class PageParser(HTMLParser):
    """Collects every attribute value and the img sources of a page."""

    def __init__(self):
        super().__init__()
        self.images, self.urls, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        self.urls += [value for key, value in attrs.items() if key in ("src", "href") and value]


def parse_page(path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


@pytest.fixture(scope="module")
def digits_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    images, y_true, probs = synthetic(10, 30)
    metrics = write_report(out, y_true, probs, images, LABEL_SETS["digits"], history=HISTORY, title="digits test",
                           context={"model": "fake", "split": "test"})
    return out, metrics, (images, y_true, probs)


def test_every_file_is_written_and_listed(digits_report):
    out, metrics, _ = digits_report
    names = {"metrics.json", "report.html", "classification_report.txt", *PICTURES}
    assert {p.name for p in out.iterdir()} == names
    assert sorted(metrics["files"]) == sorted(str(out / name) for name in names)


def test_pictures_are_valid_pngs_of_reasonable_size(digits_report):
    out, _, _ = digits_report
    for name in PICTURES:
        image = read_png(out / name)
        assert 300 <= image.width <= 2500 and 200 <= image.height <= 2500, (name, image.size)
    # curves: two panels side by side
    curves = read_png(out / "curves.png")
    assert curves.width > 2 * curves.height


def test_metrics_json_matches_returned_metrics(digits_report):
    out, metrics, (_, y_true, probs) = digits_report
    stored = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert stored == {key: value for key, value in metrics.items() if key != "files"}
    assert stored["n"] == len(y_true) == 300
    assert stored["accuracy"] == pytest.approx(np.mean(probs.argmax(axis=1) == y_true))
    assert stored["context"] == {"model": "fake", "split": "test"}
    assert stored["title"] == "digits test"
    assert list(stored["per_class"]) == list("0123456789")


def test_text_report_is_sklearns(digits_report):
    out, metrics, _ = digits_report
    text = (out / "classification_report.txt").read_text(encoding="utf-8")
    assert "precision" in text and "macro avg" in text
    assert f"{metrics['accuracy']:.4f}" in text


def test_html_is_self_contained_with_every_picture(digits_report):
    out, metrics, _ = digits_report
    page = parse_page(out / "report.html")
    assert len(page.images) == len(PICTURES)
    embedded = []
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        embedded.append(base64.b64decode(src.split(",", 1)[1]))
    # the page embeds exactly the bytes of the PNG files
    assert sorted(embedded) == sorted((out / name).read_bytes() for name in PICTURES)
    assert not [url for url in page.urls if not url.startswith("data:")]
    assert "script" not in page.tags and "link" not in page.tags
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert f"{100 * metrics['accuracy']:.2f}%" in text  # headline figure
    assert "macro avg" in text  # the classification report


def test_47_classes_with_missing_classes(tmp_path):
    labels = LABEL_SETS["bymerge"]
    missing = (labels.index("Q"), labels.index("q"))
    images, y_true, probs = synthetic(47, 6, missing=missing, seed=1)
    metrics = write_report(tmp_path, y_true, probs, images, labels, title="characters")
    assert metrics["num_classes"] == 47
    assert metrics["absent_classes"] == ["Q", "q"]
    assert metrics["per_class"]["Q"]["support"] == 0
    assert sum(row["support"] for row in metrics["per_class"].values()) == metrics["n"] == 45 * 6
    assert np.isfinite([metrics["accuracy"], metrics["balanced_accuracy"], metrics["macro"]["f1"]]).all()
    matrix = read_png(tmp_path / "confusion_matrix.png")
    assert 1000 <= matrix.width <= 2500  # sized for 47 classes, not squeezed into a 10-class figure
    samples = read_png(tmp_path / "samples.png")
    assert samples.height < 1.5 * samples.width  # 47 rows laid out in side-by-side blocks, not one long strip
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "have no image in this data: Q q" in text
    assert not (tmp_path / "curves.png").exists()
    assert "No learning curves" in text


def test_labels_are_escaped_in_html_and_literal_in_plots(tmp_path):
    labels = ["<b>", "$", "&"]
    images, y_true, probs = synthetic(3, 10, seed=2)
    write_report(tmp_path, y_true, probs, images, labels, title="<script>alert(1)</script>")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<b>" not in text and "&lt;b&gt;" in text
    assert "<script>" not in text
    assert "script" not in parse_page(tmp_path / "report.html").tags
    read_png(tmp_path / "confusion_matrix.png")


def test_long_class_names_stand_upright_and_a_missing_glyph_is_said_once(tmp_path, capsys):
    """A folder data set's long class names ran into each other along the top and bottom, and a CJK name
    gave matplotlib's UserWarning (with a source line) for every picture."""
    import warnings

    labels = ["a_very_long_class_name_zero", "another_quite_long_label_one", "two", "\u4e2d"]
    images, y_true, probs = synthetic(4, 10, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no library warning escapes
        write_report(tmp_path, y_true, probs, images, labels)
    err = capsys.readouterr().err
    assert err.count("inkread: warning:") == 1 and "\u4e2d" in err
    short = tmp_path / "short"
    write_report(short, y_true, probs, images, ["0", "1", "2", "3"])
    tall, plain = read_png(tmp_path / "confusion_matrix.png"), read_png(short / "confusion_matrix.png")
    assert tall.height > plain.height + 150  # room below the matrix for the upright names

def test_no_images_and_no_mistakes(tmp_path):
    y = np.arange(10).repeat(2)
    metrics = write_report(tmp_path, y, np.eye(10)[y], None, LABEL_SETS["digits"])
    assert metrics["accuracy"] == 1.0
    assert {p.name for p in tmp_path.glob("*.png")} == {"confusion_matrix.png"}
    assert "No example images" in (tmp_path / "report.html").read_text(encoding="utf-8")

    images, _, _ = synthetic(10, 2)
    write_report(tmp_path, y, np.eye(10)[y], images, LABEL_SETS["digits"])
    assert not (tmp_path / "misclassified.png").exists()
    assert "No mistakes" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_stale_pictures_of_an_earlier_report_are_removed(tmp_path, digits_report):
    _, _, (images, y_true, probs) = digits_report
    write_report(tmp_path, y_true, probs, None, LABEL_SETS["digits"], history=HISTORY)
    assert (tmp_path / "curves.png").exists()
    write_report(tmp_path, y_true, probs, None, LABEL_SETS["digits"], history=None)
    assert not (tmp_path / "curves.png").exists()


def test_curves_tolerate_missing_keys():
    assert plots.render_curves([]) is None
    assert plots.render_curves([{"epoch": 1, "lr": 0.1, "seconds": 3}]) is None
    partial = plots.render_curves([{"train_loss": 0.9}, {"train_loss": 0.5, "val_acc": 0.8}, {"val_loss": float("nan")}])
    assert read_png(partial).width > 300


def test_failed_rendering_leaves_previous_files_intact(tmp_path, digits_report, monkeypatch):
    _, _, (images, y_true, probs) = digits_report
    write_report(tmp_path, y_true, probs, images, LABEL_SETS["digits"], history=HISTORY)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    from matplotlib.figure import Figure

    def broken_savefig(self, *args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_report(tmp_path, y_true[::-1], probs, images, LABEL_SETS["digits"], history=HISTORY)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # same files, same bytes, and no temporary file left behind


def test_full_disk_is_a_one_line_error_and_leaves_no_temporary_file(tmp_path, digits_report, monkeypatch):
    import errno

    import inkread.files

    _, _, (images, y_true, probs) = digits_report

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(inkread.files.os, "fsync", full_disk)
    with pytest.raises(InkreadError, match="disk full") as caught:
        write_report(tmp_path, y_true, probs, images, LABEL_SETS["digits"])
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # the first file failed: nothing, not half a file


def test_a_rewrite_stopped_partway_leaves_no_report_html(tmp_path, digits_report, monkeypatch):
    """report.html means a complete report: a rewrite stopped by a full disk leaves no old page (nor metrics)
    beside the new pictures, and a report asked of a folder that is a file is a one-line error."""
    import errno

    import inkread.files

    _, _, (images, y_true, probs) = digits_report
    write_report(tmp_path, y_true, probs, images, LABEL_SETS["digits"], history=HISTORY)
    real_fsync, synced = inkread.files.os.fsync, []

    def full_after_the_first_file(fd):
        synced.append(fd)
        if len(synced) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(inkread.files.os, "fsync", full_after_the_first_file)
    with pytest.raises(InkreadError, match="disk full"):
        write_report(tmp_path, y_true[::-1], probs, images, LABEL_SETS["digits"], history=HISTORY)
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "metrics.json").exists()
    monkeypatch.undo()
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(InkreadError, match="a file stands where a folder is needed") as caught:
        write_report(tmp_path / "afile", y_true, probs, None, LABEL_SETS["digits"])
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("probs_shape, images_shape, message", [
    ((20, 9), (20, 28, 28), r"shape \(N, 10\)"),
    ((19, 10), (20, 28, 28), "must match"),
    ((20, 10), (19, 28, 28), "images must have shape"),
])
def test_bad_shapes_are_one_line_errors(tmp_path, probs_shape, images_shape, message):
    y_true = np.arange(20) % 10
    with pytest.raises(InkreadError, match=message) as caught:
        write_report(tmp_path, y_true, np.full(probs_shape, 0.1), np.zeros(images_shape, np.uint8), LABEL_SETS["digits"])
    assert "\n" not in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_nan_probabilities_are_a_one_line_error_and_no_report(tmp_path):
    probs = np.full((4, 10), 0.1)
    probs[2, 3] = np.nan  # what a model with broken weights gives
    with pytest.raises(InkreadError, match="NaN or infinite probabilities: its weights are broken"):
        write_report(tmp_path / "out", np.arange(4), probs, None, LABEL_SETS["digits"])
    assert not (tmp_path / "out").exists()


def test_misclassified_images_are_named_worst_first_as_in_the_grid(tmp_path):
    images, y_true, probs = synthetic(10, 40, accuracy=0.5, seed=3)
    names = np.array([f"{y}/img{i}.png" for i, y in enumerate(y_true)], dtype=object)
    metrics = write_report(tmp_path, y_true, probs, images, list("0123456789"), names=names)
    wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)
    found = metrics["misclassified"]
    assert found["total"] == len(wrong) > 100 and len(found["listed"]) == 100  # capped, the count kept
    worst = wrong[np.argsort(-probs[wrong].max(axis=1), kind="stable")]
    assert [m["image"] for m in found["listed"]] == list(names[worst[:100]])
    first = found["listed"][0]
    assert first == {"image": names[worst[0]], "true": str(y_true[worst[0]]), "predicted": str(probs[worst[0]].argmax()),
                     "confidence": round(float(probs[worst[0]].max()), 4)}
    assert json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))["misclassified"] == found
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('<td class="name">') == 100 and page.index(names[worst[0]]) < page.index(names[worst[1]])
    assert f"The 100 surest mistakes of {len(wrong)}, by file" in page
    # without names (MNIST has no files) nothing is listed
    assert "misclassified" not in write_report(tmp_path, y_true, probs, images, list("0123456789"))
    with pytest.raises(InkreadError, match="3 image names for 400 images"):
        write_report(tmp_path, y_true, probs, images, list("0123456789"), names=names[:3])


def test_misclassified_tiles_keep_long_class_names_and_the_confidence_apart(monkeypatch):
    """Classes named "equals sign, two bars" or "my class": "pred my class 34%" ran into the next tile's title and
    long names were cut at the picture's edges (a helper's find). Names are cut to fit, the confidence has a line."""
    from inkread.evaluation import plots

    shown = []
    monkeypatch.setattr(plots, "_png", lambda fig: shown.append(fig) or b"")
    labels = ["equals sign, two bars", "my class", "x"]
    probs = np.array([[0.1, 0.9, 0.0], [0.05, 0.05, 0.9], [0.8, 0.1, 0.1]] * 3)
    plots.render_misclassified(np.zeros((9, 28, 28), np.uint8), np.array([2, 0, 1] * 3), probs, labels)
    titles = [ax.get_title() for ax in shown[0].axes if ax.get_title()]
    assert len(titles) == 9 and all(len(line) <= 5 + plots.TILE_LABEL for title in titles for line in title.split("\n"))
    assert "true x\npred my class\n90.0%" in titles and "true my class\npred equals s…\n80%" in titles
    assert shown[0]._suptitle.get_text() == "All 9 mistakes, the most confident first"
    plots.render_misclassified(np.zeros((3, 28, 28), np.uint8), np.array([1, 1, 0]), probs[:3], labels)
    assert shown[1]._suptitle.get_text() == "The one mistake"  # not "The 1 most confident mistakes of 1"


def test_the_accuracy_axis_spans_two_points_at_least_and_the_loss_axis_half_its_top():
    """A run of one epoch: matplotlib spanned 88.90-89.02%, and a 0.12-point gap between training and
    validation looked huge (the loss panel, 0.38-0.40, too)."""
    from inkread.evaluation import plots

    assert plots.accuracy_limits(88.90, 89.02) == pytest.approx((87.96, 89.96))
    assert plots.accuracy_limits(99.9, 100.0) == (98.5, 100.5)  # 100% shown whole, not cut at the top
    assert plots.accuracy_limits(0.0, 0.1) == (0.0, 2.0)
    assert plots.accuracy_limits(60.0, 95.0) == (60.0, 95.0)  # wide enough: as matplotlib chose
    assert plots.accuracy_limits(76.0, 104.0) == (76.0, 100.5)  # its margin took a run at 100% to 104 (a helper's find)
    assert plots.loss_limits(0.38, 0.40) == pytest.approx((0.29, 0.49))
    assert plots.loss_limits(0.01, 0.012) == pytest.approx((0.008, 0.014))
    assert plots.loss_limits(0.1, 2.0) == (0.1, 2.0)
    assert plots.render_curves([{"epoch": 1, "train_acc": 0.889, "val_acc": 0.8902}]).startswith(b"\x89PNG")
