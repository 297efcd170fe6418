"""Metrics of the evaluation layer against values computed by hand."""

import numpy as np
import pytest

from inkread.errors import InkreadError
from inkread.evaluation.metrics import classification_report_text, compute_metrics, top_confusions

# 5 classes: "d" never occurs as a true label but is predicted once, "e" occurs nowhere.
LABELS = list("abcde")
Y_TRUE = [0, 0, 1, 1, 1, 2]
Y_PRED = [0, 1, 1, 1, 0, 3]
# argmax of each row is Y_PRED; the true class is in the top 3 of rows 0-3 only.
PROBS = np.array([
    [0.60, 0.20, 0.10, 0.06, 0.04],
    [0.30, 0.40, 0.15, 0.10, 0.05],
    [0.05, 0.70, 0.10, 0.09, 0.06],
    [0.05, 0.70, 0.10, 0.09, 0.06],
    [0.50, 0.04, 0.30, 0.10, 0.06],
    [0.10, 0.20, 0.05, 0.50, 0.15],
])


@pytest.fixture(scope="module")
def metrics():
    return compute_metrics(Y_TRUE, Y_PRED, LABELS, PROBS)


def test_headline_figures(metrics):
    assert metrics["n"] == 6
    assert metrics["num_classes"] == 5
    assert metrics["labels"] == LABELS
    assert metrics["accuracy"] == pytest.approx(3 / 6)
    # mean recall over the true classes a, b, c: (1/2 + 2/3 + 0) / 3
    assert metrics["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)
    assert metrics["top3_accuracy"] == pytest.approx(4 / 6)


def test_per_class_is_keyed_by_character_and_covers_every_class(metrics):
    per_class = metrics["per_class"]
    assert list(per_class) == LABELS
    assert per_class["a"] == pytest.approx({"precision": 1 / 2, "recall": 1 / 2, "f1": 1 / 2, "support": 2})
    assert per_class["b"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert per_class["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert per_class["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert per_class["e"]["support"] == 0
    assert metrics["absent_classes"] == ["d", "e"]


def test_averages(metrics):
    # macro over the classes of the data (a, b, c): not "d", only predicted, nor "e", absent
    expected_macro = (1 / 2 + 2 / 3 + 0) / 3
    assert metrics["macro"] == pytest.approx({"precision": expected_macro, "recall": expected_macro, "f1": expected_macro})
    assert metrics["macro"]["recall"] == pytest.approx(metrics["balanced_accuracy"])
    # weighted by support 2, 3, 1: (2 * 1/2 + 3 * 2/3 + 0) / 6
    assert metrics["weighted"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5})


def test_confusion_matrix_and_top_confusions(metrics):
    assert metrics["confusion_matrix"] == [
        [1, 1, 0, 0, 0],
        [1, 2, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    assert metrics["top_confusions"] == [
        {"true": "a", "pred": "b", "count": 1},
        {"true": "b", "pred": "a", "count": 1},
        {"true": "c", "pred": "d", "count": 1},
    ]


def test_top_confusions_most_frequent_first():
    matrix = [[5, 1, 2], [3, 4, 0], [0, 0, 9]]
    assert top_confusions(matrix, list("xyz"), count=2) == [
        {"true": "y", "pred": "x", "count": 3},
        {"true": "x", "pred": "z", "count": 2},
    ]


def test_perfect_predictions_with_ten_classes():
    y = np.arange(10).repeat(3)
    result = compute_metrics(y, y, [str(d) for d in range(10)], np.eye(10)[y])
    assert result["accuracy"] == result["balanced_accuracy"] == result["top3_accuracy"] == 1.0
    assert result["macro"]["f1"] == result["weighted"]["f1"] == 1.0
    assert result["top_confusions"] == []
    assert np.array_equal(result["confusion_matrix"], np.diag([3] * 10))


def test_no_top3_without_probabilities_or_with_few_classes():
    assert "top3_accuracy" not in compute_metrics(Y_TRUE, Y_PRED, LABELS)
    assert "top3_accuracy" not in compute_metrics([0, 1, 2], [0, 1, 1], list("xyz"), np.eye(3)[[0, 1, 1]])


def test_classification_report_text_lists_the_classes_of_the_data():
    text = classification_report_text(Y_TRUE, Y_PRED, LABELS)
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert set(rows) >= {"a", "b", "c", "accuracy", "macro", "weighted"}
    assert "d" not in rows and "e" not in rows  # only predicted; neither
    assert "accuracy 0.5000 over 6 images; 1 predictions named classes not in the data (d 1)" in text
    assert rows["b"] == ["0.6667", "0.6667", "0.6667", "3"]
    assert rows["macro"][1:4] == [f"{(1 / 2 + 2 / 3) / 3:.4f}"] * 3  # same average as compute_metrics


def test_json_ready_types(metrics):
    import json

    assert json.loads(json.dumps(metrics)) == metrics


@pytest.mark.parametrize("y_true, y_pred, message", [
    ([], [], "no samples"),
    ([0, 1], [0], "must match"),
    ([0, 5], [0, 1], "0..4"),
    ([0, 1], [0, -1], "0..4"),
])
def test_bad_input_is_a_one_line_inkread_error(y_true, y_pred, message):
    with pytest.raises(InkreadError, match=message) as caught:
        compute_metrics(y_true, y_pred, LABELS)
    assert "\n" not in str(caught.value)
