"""Load a model bundle and run it with ONNX Runtime (no PyTorch)."""

from __future__ import annotations

import difflib
import os
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from inkread.errors import InkreadError, InputImageError, ModelBundleError, first_line, how_to_resume
from inkread.files import folder_locked
from inkread.inference.bundle_format import CHECKPOINT_FILE, LINE_ARCH, META_FILE, ONNX_FILE, ModelMeta
from inkread.machine import keep_large_buffers_in_heap, usable_cores

PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"
PRETRAINED = ("digits", "characters", "lines")
RUN_CHUNK = 256  # images per ONNX Runtime run (see OnnxModel.logits)


def split_model_pair(spec: str | os.PathLike) -> tuple[str, str | None]:
    """"digits+lines" -> ("digits", "lines"): a character model and the line model that reads its
    touching characters whole; anything else (a bundle folder may have a + in its name) -> (spec, None)."""
    model, plus, touching = str(spec).partition("+")
    if not plus or Path(spec).exists():
        return str(spec), None
    return model, touching


def _line_run(run_dir: Path) -> bool:
    """Whether a training run's folder is a line model's (``train-lines``): its history, written with each checkpoint,
    has a character error rate column (``training/history.py: LINE_COLUMNS``; inference reads no checkpoint: no PyTorch)."""
    try:
        with open(run_dir / "history.csv", encoding="utf-8") as history:
            return "val_cer" in history.readline().split(",")
    except (OSError, UnicodeDecodeError):
        return False


def resolve_bundle(name_or_path: str | os.PathLike, choices: str | None = None) -> Path:
    """The bundle folder for "digits", "characters", a bundle folder, a run folder or a .onnx file.

    ``choices`` is what an unknown name is told to use instead (default: every shipped model).
    """
    text = str(name_or_path)
    shipped = choices or " or ".join(PRETRAINED)
    if not text.strip():  # Path("") is the current folder: ". holds no model.json" said nothing of the mistake
        raise ModelBundleError(f"the model is empty: give {shipped}, a model bundle or a run folder")
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
        if folder_locked(path):  # a training run holds its folder until it ends, and writes the bundle last
            raise ModelBundleError(f"{path} is being trained right now and has no model yet (it is written when "
                                   f"training ends): wait for the run to finish, then use {path}")
        if (path / CHECKPOINT_FILE).exists():  # a run stopped before its last epoch: its bundle is written at the end
            lines = _line_run(path)
            raise ModelBundleError(f"{path} is a run of inkread {'train-lines' if lines else 'train'} that was stopped before "
                                   f"it wrote its model: finish it with `{how_to_resume(path, lines)}`, then use {path}")
        raise ModelBundleError(f"{path} holds no model.json: give a model bundle or run folder, or {shipped}")
    if path.is_file():
        raise ModelBundleError(f"{path} is a file, not a model: give a model bundle or run folder (or its model.onnx), "
                               f"or {shipped}")
    if "/" in text or os.sep in text or text.startswith((".", "~")):  # meant as a path
        raise ModelBundleError(f"{text}: no such folder or file: give a model bundle or run folder, or {shipped}")
    # "DIGITS", "charaters": a shipped model's name mistyped, not a path
    offered = [name for name in PRETRAINED if name in shipped.replace(",", " ").split()]  # the choices this job takes
    close = difflib.get_close_matches(text.strip().lower(), offered, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ModelBundleError(f"unknown model {text!r}: {hint}use {shipped}, or the path of a model bundle folder")


class OnnxModel:
    """A model bundle loaded into ONNX Runtime.

    ``probabilities(batch)`` takes float32 (N, 1, 28, 28) ink-high images and returns (N, C)
    class probabilities, C == len(meta.labels). Safe to call from several threads at once.

    Threads: with ``threads`` given, one session with that many threads runs everything. By
    default (None) small batches run on one thread, which is fastest for them (no hand-off
    between threads, measured 0.12 ms vs 0.15 ms per image on 2 cores), and batches of
    ``WIDE_BATCH`` images or more on a second session that uses every core; that session is
    created on first use, so a one-image ``inkread predict`` never pays for it.
    """

    WIDE_BATCH = 64

    def __init__(self, name_or_path: str | os.PathLike, threads: int | None = None):
        self.folder, self.meta, self.onnx_path, self.session, self.input_name = load_bundle(
            name_or_path, 1 if threads is None else threads, line_model=False)
        self.threads = threads
        self._wide_session = None
        self._lock = threading.Lock()

    def _session_for(self, size: int):
        """The single-thread session for small batches, the all-cores one for large batches."""
        if self.threads or size < self.WIDE_BATCH or usable_cores() < 2:
            return self.session
        if self._wide_session is None:
            with self._lock:  # two threads asking at once create it once
                if self._wide_session is None:
                    self._wide_session = new_session(self.onnx_path, usable_cores())
        return self._wide_session

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw network outputs for a float32 (N, 1, 28, 28) batch.

        Large batches run RUN_CHUNK images at a time: the activations of one image take about
        0.2 MB, so 4,000 glyphs of one image in a single run would need most of a gigabyte.
        """
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != (1, 28, 28):
            raise InputImageError(f"model input must have shape (N, 1, 28, 28), got {batch.shape}: "
                                  "pass images made by Recognizer.preprocess")
        if len(batch) <= RUN_CHUNK:
            return self._session_for(len(batch)).run(None, {self.input_name: batch})[0]
        session = self._session_for(RUN_CHUNK)
        return np.concatenate([session.run(None, {self.input_name: batch[start:start + RUN_CHUNK]})[0]
                               for start in range(0, len(batch), RUN_CHUNK)])

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Softmax class probabilities for a float32 (N, 1, 28, 28) batch."""
        return softmax(self.logits(batch))


class LoadedBundle(NamedTuple):
    """A bundle's folder, model.json, ONNX file, ONNX Runtime session and the session's input name."""

    folder: Path
    meta: ModelMeta
    onnx_path: Path
    session: Any
    input_name: str


# What each kind of model is refused as, and how to re-create one whose ONNX file disagrees with model.json.
_WRONG_KIND = {
    True: ("is a model of single characters ({arch}), not a line model: read it with Recognizer, "
           "or give the 'lines' model", "re-create the bundle with inkread train-lines"),
    False: ("is a line model: it reads whole lines, not single characters; use LineReader, inkread read, "
            "or the web page's text mode", "re-export the model"),
}


def load_bundle(name_or_path: str | os.PathLike, threads: int, *, line_model: bool) -> LoadedBundle:
    """Find a bundle (``resolve_bundle``), read its model.json and open its ONNX file with ``threads`` threads.

    ``line_model``: whether a line model (``LINE_ARCH``) is wanted; the other kind raises
    ``ModelBundleError``, as does an ONNX file whose outputs disagree with model.json's labels.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InkreadError(f"threads must be a whole number of at least 1 (or None for the default), got {threads!r}")
    folder = resolve_bundle(name_or_path)
    meta = ModelMeta.read(folder)
    refusal, fix = _WRONG_KIND[line_model]
    if (meta.arch == LINE_ARCH) != line_model:
        raise ModelBundleError(f"{name_or_path} {refusal.format(arch=meta.arch)}")  # as the user named it
    onnx_path = folder / meta.files.get("onnx", ONNX_FILE)
    session = new_session(onnx_path, threads)
    outputs = session.get_outputs()[0].shape
    expected = meta.num_classes + line_model  # a line model's output has one more column: the CTC blank
    if outputs and isinstance(outputs[-1], int) and outputs[-1] != expected:
        blank = " (+ the blank)" if line_model else ""
        raise ModelBundleError(f"{onnx_path} has {outputs[-1]} outputs but model.json lists {meta.num_classes} "
                               f"labels{blank}: {fix}")
    return LoadedBundle(folder, meta, onnx_path, session, session.get_inputs()[0].name)


def new_session(onnx_path: Path, threads: int):
    """An ONNX Runtime CPU session for ``onnx_path``; a missing or damaged file raises ModelBundleError."""
    import onnxruntime  # deferred: importing it costs ~0.1 s

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # these networks are a chain: nothing runs in parallel branches
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads sleep instead of spinning: the CPU is shared with training and other
    # requests, and spinning only saves microseconds on batches large enough to use the pool.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No CPU memory arena: it keeps the memory of the largest run for the life of the session, and
    # malloc_trim cannot give it back (three small line images grew a process 69 -> 244 MB, 224 MB after
    # malloc_trim; 76 MB without the arena). Without it each run allocates its buffers anew, and those over
    # glibc's mmap threshold were mapped and unmapped each time (a 256-image batch 2.1x, the line model 1.4x
    # slower): glibc keeps them on its heap instead.
    options.enable_cpu_mem_arena = False
    keep_large_buffers_in_heap()
    if not onnx_path.is_file():
        raise ModelBundleError(f"{onnx_path} is missing: the bundle is incomplete; copy the whole model folder "
                               "again, or re-create it with inkread export")
    try:
        return onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for corrupt files
        raise ModelBundleError(f"cannot load {onnx_path} ({first_line(error)}): the file is "
                               "damaged; copy the model folder again, or re-create it with inkread export") from None


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted
