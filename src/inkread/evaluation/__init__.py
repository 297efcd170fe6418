"""Evaluate a model bundle on a data set and write a report folder.

    from inkread.evaluation import EvaluateConfig, evaluate
    metrics = evaluate(EvaluateConfig(model="digits", dataset="mnist", out="reports/digits"))

``write_report`` makes the same report from predictions alone (no model, no data set), for the
training loop and for tests. Heavy modules (scikit-learn, matplotlib, onnxruntime) load on use.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from inkread.errors import (DatasetError, InkreadError, check_config_type, check_setting_kinds, first_few, option,
                            option_value, plural, warn)
from inkread.files import check_outside_data_set, check_writable_folder, files_other_than, folder_setting
from inkread.evaluation.fingerprint import content_overlap_warning
from inkread.evaluation.report import REPORT_FILES, write_report

__all__ = ["EvaluateConfig", "evaluate", "write_report"]

BATCH_SIZE = 512
SPLITS = ("train", "val", "test", "all")  # "all": every image, for evaluation-only folders


@dataclass
class EvaluateConfig:
    """Options of ``inkread evaluate``."""

    model: Any  # "digits", "characters", a model bundle folder or a run folder, or a loaded Recognizer
    dataset: str  # a data set spec: mnist, emnist-SPLIT, emnist-pool, folder:PATH, csv:PATH
    split: str | None = None  # None: "test", or "all" for a folder:/csv: set the model was not trained on
    out: str = "evaluation"  # report folder
    data_dir: str | None = None  # None: the one the model's training run was given, else the default
    limit: int | None = None  # evaluate only the first N images of the split
    progress: bool = True  # print notes and the summary (False: warnings only, as --quiet)

    def __post_init__(self) -> None:
        from inkread.data.load import dataset_spec

        self.dataset = dataset_spec(self.dataset)  # a Path names a folder:/csv: data set, as in training
        self.out = folder_setting(self.out)
        check_setting_kinds(self)


def evaluate(config: EvaluateConfig) -> dict:
    """Run the model on a split of the data set, write the report into ``config.out``, return its metrics.

    Prints a short summary (accuracy, balanced accuracy, macro F1, n, files written) unless ``progress`` is off.
    """
    from inkread.data import load_dataset, training_data_dir, training_split

    check_config_type(config, EvaluateConfig, "evaluate")
    if config.split is not None and config.split not in SPLITS:
        raise InkreadError(f"unknown split {config.split!r}: use one of {', '.join(SPLITS)}")
    if config.limit is not None and config.limit < 1:
        raise InkreadError(f"{option('limit')} must be at least 1, got {config.limit}")
    model = _loaded(config.model)
    # inside the data set, a report's pictures became a class named after its folder, trained on next time
    check_outside_data_set(config.out, config.dataset, "report")
    check_writable_folder(config.out)  # before the data set is loaded: an output that cannot be written fails now
    others = files_other_than(config.out, REPORT_FILES)
    if others:  # someone's documents, a data set, a run folder: the report would overwrite or mix in with them
        raise InkreadError(f"{option_value('out', config.out)} holds other files than an evaluation report's ({first_few(others, 3)}): "
                           f"choose a new or empty folder beside it, such as {_beside(config.out)}")
    trained_on = _trained_on(model.meta, config.dataset)
    all_by_default = False
    if config.split is None:
        config = replace(config, split=_default_split(config.dataset, trained_on))
        all_by_default = config.split == "all"
    labels = tuple(model.meta.labels)
    # labels: the data is indexed as the model's classes (a subset, e.g. digits for a characters
    # model, is fine); recipe: folder:/csv: images are normalized the way the model was trained
    split_args = training_split(model.meta.training, config.dataset)  # the same split as in training
    # the run's --data-dir unless another is given, as export and --resume do: its official files are there
    data_dir = training_data_dir(model.meta.training, config.data_dir)
    data = load_dataset(config.dataset, data_dir=data_dir, labels=labels, recipe=model.meta.recipe,
                        test_only=config.split == "test", **split_args)
    if all_by_default and config.progress:  # said once the data set is found (not before "no such folder")
        print(f"note: {config.dataset} is not the data set the model was trained on: evaluating every image in it "
              f"({option_value('split', 'test')} for a tenth of them)", file=sys.stderr)
    split = _chosen_split(data, config.split)
    _check_labels(tuple(data.labels), labels, config.dataset, model.meta.name)
    images, targets = split.images[:config.limit], split.targets[:config.limit]
    names = None if split.names is None else split.names[:config.limit]
    if len(images) == 0:
        raise DatasetError(f"the {config.split} split of {config.dataset} has no images: choose another {option('split')}")

    context = {"model": str(model.folder), "architecture": model.meta.arch, "dataset": config.dataset,
               "split": config.split, "split_seed": split_args["seed"], "images": f"{len(images):,} of {len(split):,}"}
    merged = data.source.get("merged_classes")
    if merged:
        context["classes"] = (f"{plural(len(merged), 'class', 'classes')} of {config.dataset} "
                              f"{'is' if len(merged) == 1 else 'are'} merged into the model's {len(labels)}, "
                              f"as its label set has one class for both: {' '.join(merged)}")
        if config.progress:
            print(f"note: {context['classes']}", file=sys.stderr)
    warnings = _seen_data_warnings(model.meta, config, data.source, images, trained_on)
    if warnings:
        context["warning"] = "; ".join(warnings)
        for warning in warnings:
            warn(warning)
    probs = predict_probabilities(model, images)
    as_predicted = _accuracy_as_predict_reads(model, config.dataset, names, [labels[t] for t in targets])
    if as_predicted is not None:
        context["as predict reads the files"] = as_predicted
    metrics = write_report(
        config.out, targets, probs, images, labels, history=model.meta.history or None, names=names,
        title=f"{model.meta.name} on {data.name} ({config.split})",
        context=context,
    )
    if config.progress:
        _print_summary(metrics)
    return metrics


def _beside(folder: "str | os.PathLike") -> Path:
    """A new folder next to ``folder`` for a report (inside it, a data set folder's report became a class of it)."""
    folder = Path(folder)
    return folder.parent / f"{folder.name or 'evaluation'}-report"


def _loaded(model):
    """The OnnxModel of a name, a folder, or a model already loaded (a Recognizer or an OnnxModel)."""
    from inkread.inference.onnx_model import OnnxModel
    from inkread.inference.recognizer import Recognizer

    if isinstance(model, Recognizer):
        return model.model
    if isinstance(model, OnnxModel):
        return model
    if not isinstance(model, (str, os.PathLike)):  # a LineReader: its lines are evaluated by benchmarks/read_words.py
        raise InkreadError(f"evaluate takes a character model: a name, a bundle or run folder, or a Recognizer, "
                           f"not a {type(model).__name__}")
    return OnnxModel(model)


def _chosen_split(data, split: str):
    """The ImageSet of ``split`` ("all": train, validation and test together)."""
    if split == "all":
        from inkread.data.splits import ImageSet

        return ImageSet.concatenate([data.train, data.val, data.test])
    return getattr(data, split)


def _seen_data_warnings(meta, config: EvaluateConfig, source: dict, images, trained_on: str) -> list[str]:
    """Why the accuracy may overstate how the model reads unseen handwriting: data it (or a model it was
    fine-tuned from) was trained or validated on, by split or by content, or changed since training."""
    warnings = [_overlap_warning(who, training, source) for who, training in _training_chain(meta)]
    warnings.append(_changed_data_warning(meta.training, source, config.dataset))
    if trained_on and config.split in ("train", "val", "all"):
        warnings.append(f"the {config.split} split of {config.dataset} holds images {trained_on} was "
                        f"{'chosen by (validation)' if config.split == 'val' else 'trained on'}, so the accuracy "
                        f"overstates how it reads unseen handwriting: {option_value('split', 'test')} is the part its training held "
                        "out")
    else:  # by content: the same images under another path (a copied folder) or in another data set
        warnings += [content_overlap_warning(who, training.get("train_fingerprint"), images)
                     for who, training in _training_chain(meta)]
    return [warning for warning in warnings if warning]


def _trained_on(meta, spec: str) -> str:
    """Who trained on data set ``spec``: the model or one it was fine-tuned from ('' if none did)."""
    from inkread.data import same_data_set

    for who, training in _training_chain(meta):
        source = training.get("data_source") or {}
        if same_data_set(source.get("spec"), spec) or same_data_set(training.get("dataset"), spec):
            return who
    return ""


def _default_split(spec: str, trained_on: str) -> str:
    """The test split, except for a folder:/csv: set no model in the chain trained on: all of it.

    Such a set is new handwriting to the model, gathered to evaluate it; its own test split (a
    tenth) would leave most of it unread.
    """
    if spec.partition(":")[0] in ("folder", "csv") and not trained_on:
        # (its images may still be training images under another path: the content check warns of that)
        return "all"
    return "test"


def predict_probabilities(model, images: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Class probabilities (N, C) of uint8 (N, 28, 28) ink-high images, in batches."""
    batches = [model.probabilities(images[start:start + batch_size, None].astype(np.float32) / 255.0)
               for start in range(0, len(images), batch_size)]
    return np.concatenate(batches)


def _training_chain(meta) -> list[tuple[str, dict]]:
    """(who, training record): the model's, then those of the models it was fine-tuned from (``started_from``)."""
    who, training = repr(meta.name), meta.training
    chain = []
    while training and len(chain) < 20:  # a guard against a hand-edited loop
        chain.append((who, training))
        start = training.get("started_from") or {}
        who, training = f"{who} started from {start.get('name')!r}, which", start.get("training")
    return chain


def _overlap_warning(who: str, training: dict, evaluated: dict) -> str:
    """A warning if the evaluated images may have been trained on (by the model or one it started from)."""
    overlap = _shared_files(training, evaluated)
    if not overlap:
        return ""
    return (f"{who} was trained on {training.get('dataset')!r}, which read {', '.join(overlap)}: images of this "
            "evaluation may have been among its training images, so the accuracy overstates how it reads unseen "
            "handwriting")


def _changed_data_warning(training: dict, evaluated: dict, spec: str) -> str:
    """A warning if a folder:/csv: data set holds another number of images than when the model trained on it
    and was split by position (models trained before 2026-12-04).

    Such a split is a seeded shuffle of the images in file order: with images added or removed the
    shuffle differs, so the "test" split is no longer the one training held out. (Split by content,
    each image keeps its part whatever else is added.)
    """
    from inkread.data import same_data_set

    source = training.get("data_source") or {}
    if not same_data_set(source.get("spec"), evaluated.get("spec")) or source.get("split_by", "position") != "position":
        return ""
    for key in ("images", "rows"):
        then, now = source.get(key), evaluated.get(key)
        if then is not None and now is not None and then != now:
            return (f"{spec} holds {now:,} images now but {then:,} when the model was trained on it, so its splits "
                    "have changed and the test split may hold training images: evaluate on a separate folder of new "
                    "images (or on the data as it was)")
    return ""


def _shared_files(training: dict, evaluated: dict) -> list[str]:
    """Data files both the model's training set and the evaluated set were read from.

    Only meaningful for different data sets: the same spec splits its files the same way, so its
    test split never reaches training (a model trained on emnist-pool evaluated on emnist-bymerge
    does overlap: the pool holds the bymerge test images).
    """
    from inkread.data import same_data_set

    source = training.get("data_source") or {}
    if not source or same_data_set(source.get("spec"), evaluated.get("spec")):
        return []
    names = [entry["file"] if isinstance(entry, dict) else entry for entry in source.get("files", [])]
    evaluated_names = {entry["file"] if isinstance(entry, dict) else entry for entry in evaluated.get("files", [])}
    return [name for name in names if name in evaluated_names and "label" not in name]


def _check_labels(data_labels: tuple, model_labels: tuple, spec: str, model_name: str) -> None:
    """The data's class indices must be the model's (load_dataset re-indexes when it can)."""
    if data_labels != model_labels:
        raise DatasetError(
            f"model {model_name!r} knows {len(model_labels)} classes ({_preview(model_labels)}) but data set {spec!r} has "
            f"{len(data_labels)} ({_preview(data_labels)}): evaluate on data with the model's label set "
            f"(a digits model on mnist, a 47-class characters model on emnist-bymerge or emnist-balanced)")


def _preview(labels: tuple, count: int = 12) -> str:
    separator = "" if all(len(label) == 1 for label in labels) else " "
    return separator.join(labels[:count]) + ("..." if len(labels) > count else "")


def _accuracy_as_predict_reads(model, spec: str, names, truth: list[str]) -> str | None:
    """For a ``folder:`` data set, how ``predict`` reads its files (``names``, relative to the folder), as a line
    for the report; None for other data sets. The report's figures read each image one way round, as the model
    was trained; ``predict`` also reads an image whose "ink" may be its paper the other way round and keeps the
    surer reading (``Recognizer.predict_batch``), which on semeion's bold 16x16 digits costs it a point."""
    kind, _, where = spec.partition(":")
    if kind != "folder" or names is None:
        return None
    from inkread.inference.recognizer import Recognizer

    root = Path(where).expanduser()
    root = root if root.is_dir() else root.parent  # (a labels.csv named itself)
    answers = Recognizer.load(model.folder).predict_batch([root / name for name in names], errors="return")
    right = sum(answer.label == label for answer, label in zip(answers, truth))
    return f"{right / len(truth):.2%} ({right:,} of {len(truth):,} files; predict also reads an image whose ink may be its paper the other way round)"


def _print_summary(metrics: dict) -> None:
    print(f"{metrics['title']}: accuracy {metrics['accuracy']:.2%}, balanced accuracy "
          f"{metrics['balanced_accuracy']:.2%}, macro F1 {metrics['macro']['f1']:.4f}, n={metrics['n']:,}")
    as_predicted = metrics["context"].get("as predict reads the files")
    if as_predicted:
        print(f"as inkread predict reads the files: {as_predicted}")
    common = Path(metrics["files"][0]).parent
    print(f"wrote {len(metrics['files'])} files to {common}: {', '.join(Path(f).name for f in metrics['files'])}")
