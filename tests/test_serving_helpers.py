"""Helpers shared by the serving, corrections and browser tests (this module holds no tests).

* Small model bundles made here with ``onnx.helper`` (no PyTorch, no data set, ~50 ms): nearest
  centroid classifiers whose centroids are the preprocessed renders of each label in Pillow's
  built-in font, so a rendered character is read back exactly. ``font_digits`` is named "digits",
  ``font_characters`` (the 47 EMNIST bymerge classes) is named "characters".
* ``running_server``: a real ``python -m inkread serve --port 0`` subprocess, its address read
  from the line it prints.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from inkread.inference.bundle_format import ModelMeta
from inkread.labels import DIGITS, LABEL_SETS

REPO = Path(__file__).resolve().parents[1]
SHIPPED_DIGITS = REPO / "src" / "inkread" / "pretrained" / "digits" / "model.json"
SHIPPED_CHARACTERS = REPO / "src" / "inkread" / "pretrained" / "characters" / "model.json"
SHIPPED_LINES = REPO / "src" / "inkread" / "pretrained" / "lines" / "model.json"


def render(text: str, size: tuple[int, int] = (280, 280), font_size: int = 180) -> Image.Image:
    """``text`` in Pillow's built-in font, centred, black on white, edges softened like a pen's."""
    font = ImageFont.load_default(size=font_size)
    image = Image.new("L", size, 255)
    ImageDraw.Draw(image).text((size[0] / 2, size[1] / 2), text, font=font, anchor="mm", fill=0)
    # soft edges, like a pen stroke photographed or drawn on a canvas (not pixel-exact bars)
    return image.filter(ImageFilter.GaussianBlur(1))


def png(image: Image.Image) -> bytes:
    """``image`` as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_linear_bundle(folder: Path, weight: np.ndarray, bias: np.ndarray, labels, name: str,
                        recipe: str = "mnist", label_set: str = "custom") -> Path:
    """A model bundle whose network is reshape(N, 784) @ weight.T + bias, written with onnx.helper."""
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
    meta = ModelMeta(name=name, arch="linear", labels=list(labels), label_set=label_set,
                     input={"size": 28, "recipe": recipe, "scale": "0-1", "ink": "high"},
                     metrics={"accuracy": 1.0, "note": "font centroids, for tests"})
    (folder / "model.json").write_text(meta.to_json(), encoding="utf-8")
    return folder


def font_bundle(folder: Path, labels, name: str, recipe: str, label_set: str, sharpness: float = 0.5) -> Path:
    """Nearest centroid of each label's font render, as a linear layer (argmax 2c.x - |c|^2)."""
    from inkread.imaging.preprocess import preprocess_image

    centroids = np.stack([preprocess_image(render(label), recipe) for label in labels]).reshape(len(labels), -1)
    centroids = centroids.astype(np.float64)
    return write_linear_bundle(folder, sharpness * 2 * centroids, -sharpness * (centroids ** 2).sum(axis=1),
                               labels, name, recipe, label_set)


def font_digits(folder: Path) -> Path:
    """A 10-class bundle named "digits" that reads font-rendered digits exactly."""
    return font_bundle(folder, DIGITS, "digits", "mnist", "digits")


def font_characters(folder: Path) -> Path:
    """A 47-class (EMNIST bymerge) bundle named "characters"."""
    return font_bundle(folder, LABEL_SETS["bymerge"], "characters", "emnist", "bymerge")


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
