"""Helpers shared by the test modules (this module holds no tests).

* ``render``: text in Pillow's built-in font, as a test image; ``png``: an image as PNG bytes;
  ``grainy_page``: off-white paper as a phone photographs it.
* Small model bundles made here with ``onnx.helper`` (no PyTorch, no data set, ~50 ms):
  ``write_linear_bundle`` (any linear layer), ``centroid_bundle`` (nearest centroid), and
  ``font_centroid_bundle``, whose centroids are the preprocessed renders of each label, so a
  rendered character is read back exactly. ``font_digits`` is named "digits", ``font_characters``
  (the 47 EMNIST bymerge classes) is named "characters".
* ``shared_subfolder``: one real data set of ../shared/datasets, or the test skipped saying which is missing.
* ``train_steps``: a few optimizer steps on one batch (PyTorch imported only there).
* ``running_server``: a real ``python -m inkread serve --port 0`` subprocess, its address read
  from the line it prints.
* ``inkread_cli``: the ``inkread`` command line, typed as a user types it, run in this process.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from inkread.inference.bundle_format import ModelMeta
from inkread.labels import DIGITS, LABEL_SETS

REPO = Path(__file__).resolve().parents[1]
SHIPPED_DIGITS = REPO / "src" / "inkread" / "pretrained" / "digits" / "model.json"
SHIPPED_CHARACTERS = REPO / "src" / "inkread" / "pretrained" / "characters" / "model.json"
SHIPPED_LINES = REPO / "src" / "inkread" / "pretrained" / "lines" / "model.json"
SHARED_DATASETS = REPO / ".." / "shared" / "datasets"  # the real data sets, beside the repository


def shared_subfolder(name: str) -> Path:
    """``../shared/datasets/NAME`` (one real data set: "hwd1000", "emnist", ...), or skip the test saying it is missing.

    The ``shared_datasets`` fixture skips only when the whole folder is missing; a test that reads
    one data set asks for it here, so a partial copy skips that test instead of failing it.
    """
    folder = SHARED_DATASETS / name
    if not folder.is_dir():
        pytest.skip(f"{folder.resolve()} not found: this test needs the real {name} files in ../shared/datasets/{name}")
    return folder


def train_steps(model, optimizer, images, targets, steps: int) -> float:
    """``steps`` optimizer steps of cross-entropy on one batch, the model in training mode; the last loss."""
    import torch.nn.functional as F

    model.train()
    for _ in range(steps):
        loss = F.cross_entropy(model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def render(text: str, size: tuple[int, int] = (280, 280), font_size: int = 180, dark_on_light: bool = True,
           blur: float = 1.0) -> Image.Image:
    """``text`` in Pillow's built-in font, centred (several lines if it holds newlines), dark on light.

    ``blur`` softens the edges by that many pixels, like a pen stroke photographed or drawn on a
    canvas (not pixel-exact bars); 0 leaves them sharp.
    """
    font = ImageFont.load_default(size=font_size)
    image = Image.new("L", size, 255 if dark_on_light else 0)
    ImageDraw.Draw(image).multiline_text((size[0] / 2, size[1] / 2), text, font=font, anchor="mm", align="center",
                                         fill=0 if dark_on_light else 255, spacing=font_size // 2)
    return image.filter(ImageFilter.GaussianBlur(blur)) if blur else image


def png(image: Image.Image) -> bytes:
    """``image`` as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_linear_bundle(folder: Path, weight: np.ndarray, bias: np.ndarray, labels, name: str = "test",
                        recipe: str = "mnist", label_set: Optional[str] = None) -> Path:
    """A model bundle whose network is reshape(N, 784) @ weight.T + bias, written with onnx.helper.

    ``label_set`` defaults to the name of the known set equal to ``labels`` (else "custom").
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    initializers = [
        numpy_helper.from_array(np.asarray(weight, np.float32).T.copy(), "weight"),
        numpy_helper.from_array(np.asarray(bias, np.float32), "bias"),
        numpy_helper.from_array(np.array([-1, 784], np.int64), "flat_shape"),
    ]
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["image", "flat_shape"], ["flat"]),
         helper.make_node("Gemm", ["flat", "weight", "bias"], ["logits"])],
        "linear",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(labels)])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by any recent ONNX Runtime
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    if label_set is None:
        label_set = next((key for key, known in LABEL_SETS.items() if tuple(labels) == tuple(known)), "custom")
    meta = ModelMeta(name=name, arch="linear", labels=list(labels), label_set=label_set,
                     input={"size": 28, "recipe": recipe, "scale": "0-1", "ink": "high"},
                     metrics={"accuracy": 1.0, "note": "a linear test model"})
    (folder / "model.json").write_text(meta.to_json(), encoding="utf-8")
    return folder


def centroid_bundle(folder: Path, centroids: np.ndarray, labels, name: str = "test", recipe: str = "mnist",
                    sharpness: float = 0.5, sigma: float = 0.0) -> Path:
    """Nearest centroid as a linear layer, optionally after a Gaussian blur of ``sigma`` pixels.

    With B the blur, |Bx - Bc|^2 = |Bx|^2 - 2 (B'B c).x + |Bc|^2, and |Bx|^2 is the same for every
    class: so the logits 2 (B'B c).x - |Bc|^2 are linear in x, and their argmax is the nearest
    centroid. The blur makes it tolerant of the one-pixel shifts that normalization leaves.
    """
    centroids = np.asarray(centroids, np.float64).reshape(len(labels), 28, 28)
    index = np.arange(28)
    blur = np.exp(-(index[:, None] - index[None, :]) ** 2 / (2 * sigma ** 2)) if sigma else np.eye(28)  # symmetric
    blurred = blur @ centroids @ blur
    weight = 2 * (blur @ blurred @ blur).reshape(len(labels), -1)
    bias = -(blurred ** 2).sum(axis=(1, 2))
    return write_linear_bundle(folder, sharpness * weight, sharpness * bias, labels, name, recipe)


def font_centroid_bundle(folder: Path, labels, name: str, recipe: str, sharpness: float = 0.5,
                         sigma: float = 0.0) -> Path:
    """A nearest-centroid bundle whose centroids are each label's font render (``render``), preprocessed."""
    from inkread.imaging.preprocess import preprocess_image

    centroids = np.stack([preprocess_image(render(label), recipe) for label in labels])
    return centroid_bundle(folder, centroids, labels, name, recipe, sharpness, sigma)


def font_digits(folder: Path) -> Path:
    """A 10-class bundle named "digits" that reads font-rendered digits exactly."""
    return font_centroid_bundle(folder, DIGITS, "digits", "mnist")


def font_characters(folder: Path) -> Path:
    """A 47-class (EMNIST bymerge) bundle named "characters"."""
    return font_centroid_bundle(folder, LABEL_SETS["bymerge"], "characters", "emnist")


def write_on_page(text: str, glyph, size: tuple[int, int], line_height: int, gap: int, space: int,
                  threshold: int = 0) -> np.ndarray:
    """A uint8 page of ``size`` (rows, columns), ink high, with ``text`` written in glyph images.

    ``glyph(char)`` gives a character's uint8 image, ink high; it is cropped to its columns with
    ink above ``threshold`` and set ``gap`` pixels after the one before, as a person writes; a space
    moves on ``space`` pixels and each line starts ``line_height`` pixels below the one before.
    """
    page = np.zeros(size, np.uint8)
    for row, line in enumerate(text.split("\n")):
        x, top = 10, 10 + row * line_height
        for char in line:
            if char == " ":
                x += space
                continue
            ink = glyph(char)
            columns = np.flatnonzero(ink.max(axis=0) > threshold)
            ink = ink[:, columns[0]:columns[-1] + 1]
            region = page[top:top + ink.shape[0], x:x + ink.shape[1]]
            np.maximum(region, ink, out=region)
            x += ink.shape[1] + gap
    return page


def sample_digit_ink(name: str, scale: int, resample: Image.Resampling = Image.Resampling.BILINEAR) -> np.ndarray:
    """The ink (float, ink high) of ``samples/digits/NAME``, cropped to its ink and enlarged ``scale`` times."""
    ink = 1 - np.asarray(Image.open(REPO / "samples" / "digits" / name).convert("L"), np.float32) / 255
    ink = ink[np.ix_(ink.max(axis=1) > 0.1, ink.max(axis=0) > 0.1)]
    return np.asarray(Image.fromarray(ink).resize((ink.shape[1] * scale, ink.shape[0] * scale), resample))


def touching_page() -> np.ndarray:
    """A sample 7 standing apart, then a 3 and an 8 pushed into each other (white background)."""
    inks = [sample_digit_ink(name, 3) for name in ("hwd1000-7-070.png", "hwd1000-3-033.png", "hwd1000-8-088.png")]
    height = max(ink.shape[0] for ink in inks)
    page = np.zeros((height + 40, sum(ink.shape[1] for ink in inks) + 120), np.float32)
    x = 20
    for k, ink in enumerate(inks):
        region = page[20:20 + ink.shape[0], x:x + ink.shape[1]]
        np.maximum(region, ink, out=region)
        x += ink.shape[1] + (40 if k == 0 else -ink.shape[1] // 5)  # the 3 and the 8 overlap by a fifth
    return 1 - page


@dataclass
class Server:
    """A running ``inkread serve`` subprocess."""

    process: subprocess.Popen
    url: str
    log: Path
    started: float  # time.perf_counter() when launched

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL, like a crash or the OOM killer: no cleanup at all."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def launch(args: list[str], log: Path, timeout: float = 30.0) -> Server:
    """Start ``python -m inkread serve --port 0 ARGS`` and wait until it answers /healthz."""
    import httpx2

    started = time.perf_counter()
    handle = open(log, "w+b")  # a file, not a pipe: a full pipe would block the server
    process = subprocess.Popen([sys.executable, "-m", "inkread", "serve", "--port", "0", *args],
                               stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"inkread serve exited with {process.returncode}: {log.read_text(errors='replace')}")
        if url is None:
            match = re.search(r"at (http://\S+)", log.read_text(errors="replace"))
            url = match.group(1) if match else None
        if url is not None:
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return Server(process, url, log, started)
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"inkread serve did not answer within {timeout} s: {log.read_text(errors='replace')}")


@contextlib.contextmanager
def running_server(args: list[str], log: Path) -> Iterator[Server]:
    """``launch`` as a context manager that always stops the server."""
    server = launch(args, log)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGINT)
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def fake_characters() -> tuple[np.ndarray, np.ndarray]:
    """Every byclass character as a few random blobs (no data files needed): images and labels."""
    import numpy as np

    rng = np.random.default_rng(0)
    images, labels = [], []
    for label in range(62):
        for _ in range(3):
            image = np.zeros((28, 28), np.uint8)
            h, w = rng.integers(10, 20, 2)
            image[4:4 + h, 6:6 + w] = 255
            images.append(image)
            labels.append(label)
    return np.array(images), np.array(labels)


def matplotlib_fonts() -> Path:
    """matplotlib's own fonts (DejaVu, STIX, Computer Modern): on every machine with inkread[train], unlike Debian's
    handwriting fonts, so these tests need no apt-get."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@contextlib.contextmanager
def ctrl_c_at_second_validation(module) -> Iterator[None]:
    """Within the block, ``module.validate`` raises Ctrl-C on its second call: a line run stopped after
    epoch 2's training steps, before that epoch's checkpoint. The real one is back after the block."""
    real_validate, calls = module.validate, []

    def interrupt_in_second_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_validate(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "validate", interrupt_in_second_epoch)
        yield


def inkread_cli(*args: object, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """``inkread ARGS`` in folder ``cwd``, run in this process: its exit code, stdout and stderr.

    The same ``inkread.cli.main`` that ``python -m inkread`` runs, its output captured as a subprocess's
    would be, so that its messages and exit codes are tested as a user sees them: at the file
    descriptors, so that what libraries print from C++ (ONNX Runtime's log, PyTorch's) is in it too,
    and with Python's default warning filters, so that a warning a user would see is printed, not
    recorded by pytest. In a subprocess each call would pay ~4 s of importing PyTorch and ~5 s of
    PyTorch's first ONNX export; the tests that need a real process (Ctrl-C, kill, the console script,
    no PyTorch loaded) start one themselves. An exception that escapes ``main`` is printed as Python
    prints it, exit code 1, so "Traceback" checks still catch it.
    """
    from inkread.cli import main

    previous = os.getcwd()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file, \
            _file_descriptor(1, out_file, sys.stdout), _file_descriptor(2, err_file, sys.stderr):
        # line-buffered, so that Python's lines and the C++ libraries' come in the order they were printed
        stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)
        stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)
        try:
            if cwd is not None:
                os.chdir(cwd)
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), warnings.catch_warnings():
                _python_default_warning_filters()
                try:
                    code = main([str(arg) for arg in args])
                except SystemExit as exit:  # argparse's errors, --help and --version
                    code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
                except Exception:
                    traceback.print_exc()
                    code = 1
        finally:
            os.chdir(previous)
            stdout.close()
            stderr.close()
        out_file.seek(0)
        err_file.seek(0)
        printed = out_file.read().decode("utf-8", "replace"), err_file.read().decode("utf-8", "replace")
    return subprocess.CompletedProcess(["inkread", *map(str, args)], code, *printed)


@contextlib.contextmanager
def _file_descriptor(fd: int, file, stream) -> Iterator[None]:
    """Within: file descriptor ``fd`` writes to ``file`` (``stream``, Python's file on it, flushed first)."""
    stream.flush()
    saved = os.dup(fd)
    os.dup2(file.fileno(), fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _python_default_warning_filters() -> None:
    """The warning filters of a Python process started without -W (pytest's are stricter, and record warnings)."""
    warnings.resetwarnings()
    warnings.showwarning = _print_warning  # not recorded by pytest
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning on stderr as Python does by default."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def grainy_page(width: int, height: int, seed: int = 0) -> Image.Image:
    """Off-white paper with a fine grain and blotches, as a phone photographs it (the photo path)."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    blotches = ndimage.gaussian_filter(rng.normal(0, 1, (height, width)), 12)
    grain = ndimage.gaussian_filter(rng.normal(0, 1, (height, width)), 0.8)
    paper = 238 + 4 * blotches / blotches.std() + 5 * grain + rng.normal(0, 4, (height, width))
    return Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
