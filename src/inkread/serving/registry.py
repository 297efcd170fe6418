"""The models a server offers: named, described from ``model.json`` at once, loaded on first use."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from inkread.errors import InkreadError
from inkread.inference.bundle_format import LINE_ARCH, ModelMeta, check_model_pair
from inkread.inference.line_reader import LineReader
from inkread.inference.onnx_model import PRETRAINED, PRETRAINED_DIR, resolve_bundle, split_model_pair

if TYPE_CHECKING:
    from inkread.inference.recognizer import Recognizer

# One ONNX Runtime thread per request: the server runs several requests at once, and on a small
# CPU that parallelism beats splitting one tiny 28x28 inference across cores.
ORT_THREADS = 1


@dataclass
class ServedModel:
    """One model: its API name, bundle folder and metadata; its reader once loaded."""

    name: str
    folder: Path
    meta: ModelMeta
    touching: Path | None = None  # "digits+lines": the line model that reads touching characters whole
    recognizer: "Recognizer | LineReader | None" = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def reads_lines(self) -> bool:
        """True for a line model: it reads whole lines (``/read`` only), not single characters."""
        return self.meta.arch == LINE_ARCH


class ModelRegistry:
    """Model names -> bundles. Reading ``model.json`` is instant; ONNX sessions load lazily."""

    def __init__(self, specs: list[str]):
        if not specs:
            specs = [name for name in PRETRAINED if (PRETRAINED_DIR / name / "model.json").exists()]
            if not specs:
                raise InkreadError(f"no shipped model found in {PRETRAINED_DIR}: reinstall inkread, "
                                   "or serve a model bundle with --model PATH")
        self.models: dict[str, ServedModel] = {}
        for spec in specs:
            model, touching = split_model_pair(spec)
            folder = resolve_bundle(model)
            meta = ModelMeta.read(folder)  # fails now, at start, rather than on a user's first request
            name = model if model in PRETRAINED else meta.name
            touching_folder = None
            if touching is not None:
                touching_folder = resolve_bundle(touching)
                touching_meta = ModelMeta.read(touching_folder)
                check_model_pair(f"--model {spec}", meta.arch, touching_meta.arch)
                name += "+" + (touching if touching in PRETRAINED else touching_meta.name)
            base, n = name, 2
            while name in self.models:  # two bundles with the same name: keep both reachable
                name, n = f"{base}-{n}", n + 1
            self.models[name] = ServedModel(name, folder, meta, touching_folder)

    @property
    def names(self) -> list[str]:
        """API names of the served models, the default first."""
        return list(self.models)

    @property
    def default(self) -> str:
        """The model used when a request names none."""
        return next(iter(self.models))

    def __getitem__(self, name: str) -> ServedModel:
        return self.models[name]

    def __contains__(self, name: object) -> bool:
        return name in self.models

    def recognizer(self, name: str) -> "Recognizer | LineReader":
        """The loaded reader of model ``name``: a LineReader for a line model, else a Recognizer.

        Loads it on first call; thread-safe.
        """
        served = self.models[name]
        if served.recognizer is None:
            with served.lock:  # two first requests at once load the model once
                if served.recognizer is None:
                    from inkread.inference.recognizer import Recognizer  # onnxruntime: imported when needed

                    if served.reads_lines:
                        served.recognizer = LineReader.load(served.folder, threads=ORT_THREADS)
                    else:
                        served.recognizer = Recognizer.load(served.folder, threads=ORT_THREADS, touching=served.touching)
        return served.recognizer

    def load_all(self) -> None:
        """Load every model (the server does this in the background right after it starts)."""
        for name in self.models:
            try:
                self.recognizer(name)
            except InkreadError:
                pass  # reported to the first request that asks for this model
