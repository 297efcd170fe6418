"""``inkread export RUN``: write an ONNX bundle of a trained run and check it against PyTorch.

The bundle's ``model.onnx`` is re-exported from ``weights.pt``; with ``--quantize int8`` it is
statically quantized by ONNX Runtime (calibrated on training images). Both the PyTorch and the ONNX
accuracy on the test split are measured and recorded in the new bundle's ``model.json``.
"""

from __future__ import annotations

import fnmatch
import json
import math
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from inkread.errors import DatasetError, InkreadError, check_config_type, check_setting_kinds, option, option_value
from inkread.files import check_outside_data_set, check_replaceable, check_writable_folder, staged_folder, write_bytes_atomic, write_text_atomic
from inkread.inference.bundle_format import BUNDLE_FILES, LINE_ARCH, META_FILE, ONNX_FILE, WEIGHTS_FILE, ModelMeta
from inkread.inference.onnx_model import OnnxModel, resolve_bundle
from inkread.models import build_model
from inkread.training.bundle import export_onnx

# The exported model may disagree with PyTorch on at most this share of the held-out images (validation and
# test: agreement needs no labels), rounded up to whole images: one flip among a small folder's 200 is no failure.
MAX_DISAGREEMENT = {None: 0.001, "int8": 0.01}
CALIBRATION_IMAGES = 512


@dataclass
class ExportConfig:
    """Options of ``inkread export``."""

    run: str
    format: str = "onnx"
    quantize: Optional[str] = None
    out: Optional[str] = None
    data_dir: Optional[str] = None
    check_limit: Optional[int] = None
    dataset: Optional[str] = None   # whose test split checks the export (default: the run's training data set)
    progress: bool = True           # print the check and where the bundle went (False: warnings only, as --quiet)

    def __post_init__(self) -> None:
        from inkread.data.load import dataset_spec

        if self.dataset is not None:
            self.dataset = dataset_spec(self.dataset)  # a Path names a folder:/csv: data set, as in training
        check_setting_kinds(self)  # the run's and other paths made strings



def export(config: ExportConfig) -> Path:
    """Export the run's model to a bundle folder, check its accuracy, and return the folder."""
    check_config_type(config, ExportConfig, "export")
    if config.format != "onnx":
        raise InkreadError(f"unknown export format {config.format!r}: only onnx is supported")
    source = resolve_bundle(config.run, "digits or characters")
    meta = ModelMeta.read(source)
    if meta.arch == LINE_ARCH:
        raise InkreadError(f"{config.run} is a line model: inkread train-lines already wrote its ONNX bundle; "
                           "export is for the character models of inkread train")
    weights = source / meta.files.get("weights", WEIGHTS_FILE)
    if not weights.exists():
        raise InkreadError(f"{source} has no {WEIGHTS_FILE}: export needs a run folder made by inkread train")
    model = build_model(meta.arch, meta.num_classes)
    try:
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    except Exception as error:
        raise InkreadError(f"cannot load {weights} ({type(error).__name__}): the file is corrupt or of another architecture") from None
    model.eval()

    if config.out is not None and not str(config.out).strip():  # "" was taken as no --out: the default, unasked
        raise InkreadError(f"{option('out')} is empty: give a folder for the bundle, or leave it out for the default")
    out = Path(config.out) if config.out else default_out(config.run, source, config.quantize)
    if out.resolve() == source.resolve():
        raise InkreadError(f"{option('out')} must differ from the run's own model folder")
    if (out.parent / META_FILE).exists():  # a bundle folder holds its own files only (train --resume refuses others)
        raise InkreadError(f"{option_value('out', out)} is inside the model bundle {out.parent}: give a folder outside it, "
                           "such as the run folder's export")
    if config.quantize not in (None, "int8"):
        raise InkreadError(f"unknown quantization {config.quantize!r}: only int8 is supported")
    if config.check_limit is not None and config.check_limit < 1:
        raise InkreadError(f"{option('check_limit')} must be at least 1, got {config.check_limit}")

    # before the data set is loaded: an output that cannot be written, or would delete other files, fails now
    check_replaceable(out, BUNDLE_FILES)
    check_writable_folder(out.parent)  # the bundle is built beside ``out``, then renamed into place
    from inkread.data import load_dataset, training_data_dir, training_split

    dataset = config.dataset or meta.training.get("dataset", "")
    check_outside_data_set(out, dataset, "export")  # (train then warned of an empty class folder named after it)
    split_args = training_split(meta.training, dataset)  # the test split the run held out
    try:
        splits = load_dataset(dataset, data_dir=training_data_dir(meta.training, config.data_dir), labels=tuple(meta.labels),
                              **split_args)
    except DatasetError as error:
        if config.dataset:
            raise
        # the run's own data, moved or deleted since, or not fetched here (a shipped model's): any data set of
        # its labels can check the export
        given = f"{option('data_dir')} {config.data_dir}" if config.data_dir else None
        if given and not Path(config.data_dir).expanduser().is_dir():
            raise DatasetError(f"{given}: no such folder; give the folder that holds {dataset} (or leave it out to "
                               "download it)") from None
        raise DatasetError(f"{dataset}, the data set {meta.name} was trained on, cannot be read ({error}); export checks "
                           f"the bundle on its test split: {'fix ' + given + ', or ' if given else ''}pass "
                           f"{option('dataset')} with another data set of the model's labels") from None
    # Refused, not skipped: an export no image has checked (an int8 one above all) may be broken unseen.
    if not len(splits.test.targets):
        raise InkreadError(f"{dataset} has too few images to hold out a test split, on which export checks the bundle "
                           f"against PyTorch: pass {option('dataset')} with a data set of the model's labels that has more images")
    # Everything is built and checked in a staging folder that becomes ``out`` only if it passes.
    with staged_folder(out, BUNDLE_FILES) as staging:
        export_onnx(model, staging / ONNX_FILE)
        if config.quantize == "int8":
            _quantize_int8(staging / ONNX_FILE, splits.train.images[:CALIBRATION_IMAGES])
        write_bytes_atomic(staging / WEIGHTS_FILE, weights.read_bytes())
        meta.files = {"onnx": ONNX_FILE, "weights": WEIGHTS_FILE}
        write_text_atomic(staging / META_FILE, meta.to_json())  # provisional, so OnnxModel can load the folder
        check = _check_against_pytorch(model, OnnxModel(staging), splits.test, splits.val, config)
        meta.metrics = {**meta.metrics, "export_check": check}
        write_text_atomic(staging / META_FILE, meta.to_json())
        compared, allowed = check["compared"], math.ceil(MAX_DISAGREEMENT[config.quantize] * check["compared"])
        if check["disagreements"] > allowed:
            if config.progress:
                print(json.dumps(check, indent=2))
            raise InkreadError(f"the exported model disagrees with PyTorch on {check['disagreements']} of {compared} "
                               f"held-out images ({check['disagreement']:.2%}; allowed {allowed}, "
                               f"{MAX_DISAGREEMENT[config.quantize]:.1%} rounded up), so nothing was written to {out}: "
                               + (f"export it without {option('quantize')}, or train it longer first" if config.quantize
                                  else "check that onnxruntime and torch are the versions pyproject.toml asks for"))
    if config.progress:  # one JSON document on stdout, for scripts: the check and where the bundle went
        print(json.dumps({**check, "bundle": str(out)}, indent=2))
    return out


def default_out(run: str, source: Path, quantize: Optional[str]) -> Path:
    """Where ``inkread export RUN`` writes without ``--out``: the run folder's ``export`` (``export-int8``).

    RUN may name the run folder, or its bundle folder (RUN/model, or its model.onnx): either way the
    export goes beside the bundle, in the run folder, never inside a bundle, whose folder holds a
    bundle's files only (a resumed run could not rewrite RUN/model). Any other bundle (a shipped
    model, a copied bundle folder) has no run folder to write to: ``--out`` is asked for.
    """
    from inkread.files import files_other_than
    from inkread.inference.onnx_model import PRETRAINED
    from inkread.training.bundle import MODEL_FOLDER, RUN_FILES

    name = "export-int8" if quantize else "export"
    given = Path(run).expanduser()
    if run not in PRETRAINED and given.is_dir() and given.resolve() != source.resolve():
        return given / name  # a run folder: its bundle was found inside it
    parent = source.parent
    in_run = source.name == MODEL_FOLDER or fnmatch.fnmatchcase(source.name, "export*")  # RUN/model, RUN/export
    if run not in PRETRAINED and in_run and not files_other_than(parent, RUN_FILES):
        return parent / name  # the run's export folder
    what = f"{run} is a shipped model" if run in PRETRAINED else f"{source} is a bundle folder outside a run folder of inkread train"
    raise InkreadError(f"{what}, so there is no run folder to export into: give {option('out')} a new folder for the "
                       "exported bundle (never one inside a bundle)")


def _check_against_pytorch(model: torch.nn.Module, onnx_model: OnnxModel, test, val, config: ExportConfig) -> dict:
    """Accuracy of both on the test split, and how often they disagree on test and validation images together
    (each cut to its first ``check_limit`` images)."""
    limit = config.check_limit or None
    held_out = np.concatenate([test.images[:limit], val.images[:limit]])
    with torch.no_grad():
        torch_pred = _classes(lambda batch: model(torch.from_numpy(batch)).numpy(), held_out)
    onnx_pred = _classes(onnx_model.logits, held_out)
    targets = test.targets[:limit]
    on_test = len(targets)
    return {
        "samples": int(on_test),
        "pytorch_accuracy": float((torch_pred[:on_test] == targets).mean()),
        "onnx_accuracy": float((onnx_pred[:on_test] == targets).mean()),
        "compared": int(len(held_out)),
        "disagreements": int((torch_pred != onnx_pred).sum()),
        "disagreement": float((torch_pred != onnx_pred).mean()),
        "quantize": config.quantize,
        "onnx_bytes": (onnx_model.folder / ONNX_FILE).stat().st_size,
    }


def _classes(logits_of, images: np.ndarray) -> np.ndarray:
    """The class ``logits_of`` (float (N, 1, 28, 28) batch -> logits) gives each uint8 image, 1,000 at a time."""
    batch = images[:, None].astype(np.float32) / 255
    return np.concatenate([logits_of(batch[i:i + 1000]).argmax(1) for i in range(0, len(batch), 1000)])


def _quantize_int8(path: Path, calibration: np.ndarray) -> None:
    """Static int8 quantization (QDQ) of ``path`` in place, calibrated on uint8 (N, 28, 28) images."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"image": calibration[i:i + 64, None].astype(np.float32) / 255}
                                 for i in range(0, len(calibration), 64)])

        def get_next(self):
            return next(self.batches, None)

    # ONNX Runtime warns (on the root logger) for each batch-norm weight, whose rank 1 has no channel
    # axis to quantize along; it quantizes those per tensor, as it should, so the warning is noise.
    quiet = _DropMessages("is out-of-range for weight")
    logging.getLogger().addFilter(quiet)
    prepared = path.with_suffix(".prep.onnx")
    quantized = path.with_suffix(".int8.onnx")
    try:
        quant_pre_process(str(path), str(prepared))
        quantize_static(str(prepared), str(quantized), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True)
        quantized.replace(path)
    finally:
        logging.getLogger().removeFilter(quiet)
        prepared.unlink(missing_ok=True)
        quantized.unlink(missing_ok=True)


class _DropMessages(logging.Filter):
    """Drops log records whose message contains ``text``."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()
