"""Write a model bundle: ``weights.pt``, ``model.onnx`` and ``model.json`` (see inference/bundle_format.py)."""

from __future__ import annotations

import io
import logging
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from inkread.errors import InkreadError, first_few, option, option_value, plural, warn
from inkread.evaluation.fingerprint import training_fingerprint
from inkread.evaluation.report import is_report_folder
from inkread.files import atomic_path, check_replaceable, check_writable_folder, files_other_than, staged_folder, write_bytes_atomic, write_text_atomic
from inkread.inference.bundle_format import BUNDLE_FILES, META_FILE, ONNX_FILE, WEIGHTS_FILE, ModelMeta
from inkread.labels import LABEL_SETS
from inkread.models import count_parameters
from inkread.training.checkpoint import CHECKPOINT_FILE


STACK_TRACE_KEY = "pkg.torch.onnx.stack_trace"


def export_onnx(model: torch.nn.Module, path: Path) -> None:
    """Export ``model`` (eval mode) to ONNX with a dynamic batch axis, atomically, weights embedded."""
    model = model.eval()
    example = torch.zeros(2, 1, 28, 28)
    # The exporter logs that optional torchvision ops are skipped; inkread needs none of them.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = _export_program(model, example)
    # The exporter records each node's Python stack trace, full paths of the training machine
    # included: nothing the runtime needs, and not the trainer's to publish.
    for node in program.model.graph:
        node.metadata_props.pop(STACK_TRACE_KEY, None)
    # ONNXProgram.save writes to a path: a temporary one, renamed so no half file is left.
    with atomic_path(path) as tmp:
        program.save(tmp, external_data=False)


def _export_program(model: torch.nn.Module, example: torch.Tensor):
    """torch.onnx.export (dynamo), with a Ctrl-C during the export reported as such.

    The exporter catches everything raised while it traces, KeyboardInterrupt included, and
    re-raises it as its own error: turn that back into the interrupt it was.
    """
    try:
        return torch.onnx.export(model, (example,), input_names=["image"], output_names=["logits"],
                                 dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True, verbose=False)
    except Exception as error:
        cause = error
        while cause is not None:
            if isinstance(cause, KeyboardInterrupt):
                raise KeyboardInterrupt from None
            cause = cause.__cause__ or cause.__context__
        raise


MODEL_FOLDER = "model"  # a run folder's bundle
# What a run folder holds: the checkpoint, the history, the bundle, `inkread export`'s default bundle,
# and hidden staging or temporary files.
RUN_FILES = (CHECKPOINT_FILE, "history.csv", "history.json", MODEL_FOLDER, "export*", ".*")


def check_run_folder(out: str | Path) -> None:
    """Before a training run: ``out`` can be written, holds nothing but a run's files, and its ``model/``
    nothing a bundle would delete."""
    check_writable_folder(out)
    # an evaluation report of the run (evaluate --out RUN/report) is no run's file, and left in place
    others = [name for name in files_other_than(out, RUN_FILES) if not is_report_folder(Path(out) / name)]
    if others:  # someone's documents, or a data set: a run's checkpoint and bundle would be mixed in with them
        raise InkreadError(f"{option_value('out', out)} holds other files than a training run's ({first_few(others, 3)}): "
                           "choose a new or empty folder")
    try:
        check_replaceable(Path(out) / MODEL_FOLDER, BUNDLE_FILES)
    except InkreadError as error:
        raise InkreadError(f"{option_value('out', out)}: {error} (the run's bundle is written there)") from None


def save_bundle_files(folder: Path, model: torch.nn.Module, meta: ModelMeta,
                      export: Callable[[torch.nn.Module, Path], None]) -> None:
    """weights.pt, model.onnx (written by ``export``) and model.json, staged and swapped into ``folder`` whole."""
    with staged_folder(folder, BUNDLE_FILES) as staging:
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        write_bytes_atomic(staging / WEIGHTS_FILE, buffer.getvalue())
        export(model, staging / ONNX_FILE)
        write_text_atomic(staging / META_FILE, meta.to_json())


def started_from_record(meta: ModelMeta) -> dict:
    """What a fine-tuned model's model.json says of the model it started from: its name and training."""
    return {"name": meta.name, "training": meta.training}


def label_set_name(labels) -> str:
    """The name in ``inkread.labels.LABEL_SETS`` of this label tuple, or "custom"."""
    for name, known in LABEL_SETS.items():
        if tuple(labels) == known:
            return name
    return "custom"


def test_metrics(model: torch.nn.Module, splits) -> dict:
    """Accuracy and loss on the test split (for model.json; never used for model selection)."""
    from inkread.training.loop import evaluate_torch

    images = torch.from_numpy(np.ascontiguousarray(splits.test.images))
    targets = torch.from_numpy(splits.test.targets.astype(np.int64))
    loss, accuracy = evaluate_torch(model, images, targets)
    return {"test_accuracy": accuracy, "test_loss": loss, "test_samples": int(len(targets))}


def write_bundle(folder: Path, model: torch.nn.Module, config, splits, history: list[dict],
                 started_from: ModelMeta | None = None, start_test: float | None = None) -> Path:
    """Write the bundle of a trained ``model`` into ``folder`` and return it.

    ``started_from``: the model.json of the model a fine-tuned one started from; its name and
    training record are kept in the new bundle's (evaluation checks that data for overlap too);
    ``start_test``: that model's accuracy on the same test images, said beside the new model's.
    The record holds a fingerprint of the training images' content (``evaluation.fingerprint``),
    by which evaluation counts the training images in any data set.

    The files are written into a staging folder that replaces ``folder`` only when all three are
    complete, so an interruption or a full disk never leaves a bundle without its model.json.
    """
    folder = Path(folder)
    model = model.eval()
    metrics = test_metrics(model, splits) if len(splits.test.targets) else {}
    if start_test is not None:
        metrics["start_model_test_accuracy"] = start_test
    metrics["parameters"] = count_parameters(model)
    meta = ModelMeta(
        name=config.name or Path(config.out).name,
        arch=config.arch,
        labels=list(splits.labels),
        label_set=label_set_name(splits.labels),
        input={"size": 28, "recipe": splits.recipe, "scale": "0-1", "ink": "high"},
        files={"onnx": ONNX_FILE, "weights": WEIGHTS_FILE},
        training={"dataset": config.dataset, "data_source": getattr(splits, "source", {}),
                  "recipe": config.to_dict(), "epochs_run": len(history),
                  "wall_seconds": round(sum(h.get("seconds", 0.0) for h in history), 1),
                  "train_samples": int(len(splits.train.targets)), "val_samples": int(len(splits.val.targets)),
                  "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  # by content: evaluate finds these images under any path (a copied folder, a CSV export)
                  "train_fingerprint": training_fingerprint(splits.train.images),
                  **({"started_from": started_from_record(started_from)} if started_from is not None else {})},
        metrics=metrics,
        history=history,
    )
    save_bundle_files(folder, model, meta, export_onnx)
    if config.progress:
        measured = (f"test accuracy {metrics['test_accuracy']:.4f} on {plural(metrics['test_samples'], 'image', 'images')}"
                    if metrics.get("test_accuracy") is not None else "no test images, not measured")
        if start_test is not None:
            measured += f" ({started_from.name}, the model it started from: {start_test:.4f})"
        print(f"{measured}; bundle written to {folder}")
        if start_test is not None and metrics["test_accuracy"] < start_test:
            warn(f"the fine-tuned model reads the test images worse than {started_from.name} did "
                 f"({metrics['test_accuracy']:.4f} against {start_test:.4f}): keep using {started_from.name}, or "
                 f"fine-tune with more images or a lower {option('lr')}")
    return folder
