"""Load a model bundle and run it with ONNX Runtime (no PyTorch)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from inkread.errors import ModelBundleError
from inkread.inference.bundle_format import META_FILE, ONNX_FILE, ModelMeta

PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"
PRETRAINED = ("digits", "characters")


def resolve_bundle(name_or_path: str | os.PathLike) -> Path:
    """The bundle folder for "digits", "characters", a bundle folder, a run folder or a .onnx file."""
    text = str(name_or_path)
    if text in PRETRAINED:
        folder = PRETRAINED_DIR / text
        if not (folder / META_FILE).exists():
            raise ModelBundleError(f"the shipped model {text!r} is missing from {PRETRAINED_DIR}: reinstall inkread")
        return folder
    path = Path(text).expanduser()
    if path.suffix == ".onnx" and path.is_file():
        return path.parent
    if path.is_dir():
        for candidate in (path, path / "model", path / "export"):
            if (candidate / META_FILE).exists():
                return candidate
        raise ModelBundleError(f"{path} holds no model.json: give a model bundle or run folder, or one of {', '.join(PRETRAINED)}")
    raise ModelBundleError(f"unknown model {text!r}: use {' or '.join(PRETRAINED)}, or the path of a model bundle folder")


class OnnxModel:
    """A model bundle loaded into an ONNX Runtime session.

    ``probabilities(batch)`` takes float32 (N, 1, 28, 28) ink-high images and returns (N, C)
    class probabilities, C == len(meta.labels).
    """

    def __init__(self, name_or_path: str | os.PathLike, threads: int | None = None):
        import onnxruntime  # deferred: importing it costs ~0.1 s

        self.folder = resolve_bundle(name_or_path)
        self.meta = ModelMeta.read(self.folder)
        onnx_path = self.folder / self.meta.files.get("onnx", ONNX_FILE)
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types for missing/corrupt files
            raise ModelBundleError(f"cannot load {onnx_path}: {str(error).splitlines()[0][:200]}") from None
        self.input_name = self.session.get_inputs()[0].name
        outputs = self.session.get_outputs()[0].shape
        if outputs and isinstance(outputs[-1], int) and outputs[-1] != self.meta.num_classes:
            raise ModelBundleError(
                f"{onnx_path} has {outputs[-1]} outputs but model.json lists {self.meta.num_classes} labels: re-export the model"
            )

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw network outputs for a float32 (N, 1, 28, 28) batch."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != (1, 28, 28):
            raise ModelBundleError(f"model input must have shape (N, 1, 28, 28), got {batch.shape}")
        return self.session.run(None, {self.input_name: batch})[0]

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Softmax class probabilities for a float32 (N, 1, 28, 28) batch."""
        return softmax(self.logits(batch))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted
