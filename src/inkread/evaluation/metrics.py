"""Classification metrics with scikit-learn, keyed by the label characters.

Every per-class figure is computed over all C classes of the model (``labels=range(C)``), so a class
that the data never shows still has its row (support 0) and its row/column in the confusion
matrix. The macro averages and the text report cover the classes that occur in ``y_true``: a class
the data never shows has no recall, and counting it as 0 would punish the model for the data set
(a ``--limit``, or digits read by a characters model) rather than for its mistakes. Predicting such a
class is still a mistake, counted against the recall of the true class, so macro recall equals the
balanced accuracy. (scikit-learn's default would also average the classes only predicted, each as 0:
a characters model reading MNIST at 96% accuracy would get a macro F1 of 26%.)
"""

from __future__ import annotations

import warnings

import numpy as np

from inkread.errors import InkreadError, option

TOP_K = 3
TOP_CONFUSIONS = 10


def compute_metrics(y_true, y_pred, labels, probs=None) -> dict:
    """Metrics of predictions ``y_pred`` against ``y_true`` (class indices into ``labels``).

    Returns a JSON-ready dict: ``n``, ``num_classes``, ``labels``, ``accuracy``,
    ``balanced_accuracy``, ``macro`` and ``weighted`` (precision/recall/f1), ``per_class``
    ({character: precision/recall/f1/support}), ``absent_classes``, ``confusion_matrix``
    (rows = true class, columns = predicted, counts), ``top_confusions`` and, when ``probs``
    (N, C) is given and C > 3, ``top3_accuracy``.
    """
    from sklearn import metrics as skm  # deferred: scikit-learn takes a second to import

    labels = [str(label) for label in labels]
    y_true, y_pred = _check_indices(y_true, y_pred, len(labels))
    all_classes = list(range(len(labels)))
    present = _present(y_true)

    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=all_classes, zero_division=0)
    result = {
        "n": int(len(y_true)),
        "num_classes": len(labels),
        "labels": labels,
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        # mean recall over the classes of y_true, which is what "balanced" means
        "balanced_accuracy": _quietly(skm.balanced_accuracy_score, y_true, y_pred),
        "macro": _average(skm, y_true, y_pred, present, "macro"),
        "weighted": _average(skm, y_true, y_pred, all_classes, "weighted"),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "absent_classes": [labels[i] for i in all_classes if support[i] == 0],
    }
    matrix = skm.confusion_matrix(y_true, y_pred, labels=all_classes)
    result["confusion_matrix"] = matrix.tolist()
    result["top_confusions"] = top_confusions(matrix, labels)
    if probs is not None and len(labels) > TOP_K:
        result[f"top{TOP_K}_accuracy"] = float(
            skm.top_k_accuracy_score(y_true, np.asarray(probs), k=TOP_K, labels=all_classes))
    return result


def classification_report_text(y_true, y_pred, labels) -> str:
    """scikit-learn's text report over the classes in ``y_true`` (as the macro averages)."""
    from sklearn.metrics import classification_report

    labels = [str(label) for label in labels]
    y_true, y_pred = _check_indices(y_true, y_pred, len(labels))
    present = _present(y_true)
    text = classification_report(y_true, y_pred, labels=present, target_names=[labels[i] for i in present],
                                 digits=4, zero_division=0)
    strays = sorted(set(y_pred.tolist()) - set(present))
    if strays:
        # scikit-learn then prints "micro avg" instead of "accuracy": its precision counts only the
        # predictions that name a class of the data, so say what the others were
        counts = ", ".join(f"{labels[c]} {int((y_pred == c).sum())}" for c in strays)
        text += (f"\naccuracy {np.mean(y_true == y_pred):.4f} over {len(y_true)} images; "
                 f"{int(np.isin(y_pred, strays).sum())} predictions named classes not in the data ({counts})\n")
    return text


def top_confusions(matrix, labels, count: int = TOP_CONFUSIONS) -> list[dict]:
    """The ``count`` most frequent (true, predicted) mistakes, most frequent first."""
    errors = np.array(matrix, copy=True)
    np.fill_diagonal(errors, 0)
    pairs = sorted(zip(*np.nonzero(errors)), key=lambda rc: (-errors[rc], rc))[:count]
    return [{"true": labels[r], "pred": labels[c], "count": int(errors[r, c])} for r, c in pairs]


def _present(y_true: np.ndarray) -> list[int]:
    return sorted(set(y_true.tolist()))


def _average(skm, y_true, y_pred, classes, average: str) -> dict:
    precision, recall, f1, _ = _quietly(skm.precision_recall_fscore_support, y_true, y_pred,
                                        labels=classes, average=average, zero_division=0)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        # "y_pred contains classes not in y_true" and the like: intended, see the module docstring
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _check_indices(y_true, y_pred, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).reshape(-1).astype(np.int64)
    y_pred = np.asarray(y_pred).reshape(-1).astype(np.int64)
    if len(y_true) == 0:
        raise InkreadError(f"no samples to evaluate: give a data set (or {option('limit')}) with at least one image")
    if len(y_true) != len(y_pred):
        raise InkreadError(f"{len(y_true)} true labels but {len(y_pred)} predictions: they must match one to one")
    for name, values in (("true", y_true), ("predicted", y_pred)):
        if values.min() < 0 or values.max() >= num_classes:
            raise InkreadError(f"{name} class indices must lie in 0..{num_classes - 1} for {num_classes} labels, "
                               f"got {values.min()}..{values.max()}: check the label set")
    return y_true, y_pred
