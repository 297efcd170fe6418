"""The models a server offers: named, described from ``model.json`` at once, loaded on first use."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from inkread.errors import InkreadError, first_line, option, warn
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
    error: str | None = None  # why the last load failed (one line), None once loaded or not tried yet
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def own_folder(self) -> str | None:
        """The absolute bundle folder of a model not shipped with inkread (None for a shipped one): what
        fine-tuning it starts from, as its name alone does not say."""
        return None if self.folder.parent == PRETRAINED_DIR else str(self.folder.resolve())

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
                                   f"or serve a model bundle with {option('models', '--model')} PATH")
        self.models: dict[str, ServedModel] = {}
        self.quiet = False  # True: load_all does not print failures (another process of the server does)
        found = [self._describe(spec) for spec in specs]
        # A shipped model asked for by its name keeps that name: "--model ./copy --model digits" must not
        # serve the copy (whose model.json also says "digits") as "digits" and the shipped one as "digits-2".
        reserved = {name for name, _, _, _, by_name in found if by_name}
        for name, folder, meta, touching_folder, by_name in found:
            base, n = name, 2
            while name in self.models or (not by_name and name in reserved):  # two with one name: keep both reachable
                name, n = f"{base}-{n}", n + 1
            self.models[name] = ServedModel(name, folder, meta, touching_folder)

    @staticmethod
    def _describe(spec: str) -> tuple[str, Path, ModelMeta, Path | None, bool]:
        """One ``--model`` value: its wished name, folder, metadata, touching-line folder, and whether it
        names shipped models only (then the name is the one the user typed)."""
        model, touching = split_model_pair(spec)
        folder = resolve_bundle(model, f"{' or '.join(PRETRAINED)}, or a pair such as digits+lines")
        meta = ModelMeta.read(folder)  # fails now, at start, rather than on a user's first request
        name = model if model in PRETRAINED else meta.name
        by_name = model in PRETRAINED
        touching_folder = None
        if touching is not None:
            touching_folder = resolve_bundle(touching)
            touching_meta = ModelMeta.read(touching_folder)
            check_model_pair(f"--model {spec}", meta.arch, touching_meta.arch)
            name += "+" + (touching if touching in PRETRAINED else touching_meta.name)
            by_name = by_name and touching in PRETRAINED
        return name, folder, meta, touching_folder, by_name

    @property
    def names(self) -> list[str]:
        """API names of the served models, the default first."""
        return list(self.models)

    def described(self) -> str:
        """The served names, each model from a path followed by it: requests name a model by the name alone."""
        # a shipped model under its own name needs no path; "digits-2" (the same folder given twice) does
        return ", ".join(name if served.folder == PRETRAINED_DIR / name else f"{name} ({served.folder})"
                         for name, served in self.models.items())

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

        Loads it on first call; thread-safe. A failure is kept in ``ServedModel.error`` (for /healthz)
        and raised; the next call tries again (the files may have been fixed).
        """
        served = self.models[name]
        if served.recognizer is None:
            with served.lock:  # two first requests at once load the model once
                if served.recognizer is None:
                    from inkread.inference.recognizer import Recognizer  # onnxruntime: imported when needed

                    try:
                        if served.reads_lines:
                            served.recognizer = LineReader.load(served.folder, threads=ORT_THREADS)
                        else:
                            served.recognizer = Recognizer.load(served.folder, threads=ORT_THREADS, touching=served.touching)
                    except Exception as error:
                        served.error = (" ".join(str(error).split()) if isinstance(error, InkreadError)
                                        else f"cannot load {served.folder} ({type(error).__name__}: {first_line(error)})")
                        raise
                    served.error = None
        return served.recognizer

    def failed(self) -> dict[str, str]:
        """The models whose last load failed: name -> the one-line reason."""
        return {name: served.error for name, served in self.models.items() if served.error is not None}

    def health(self) -> dict:
        """The /healthz answer (``schemas.Health``): "ok"; "degraded" when a model other than the default
        failed to load; "failing" when the default did (requests naming no model then fail)."""
        failed = self.failed()
        health = {"status": "ok", "failed": failed, "detail": None,
                  "models": {name: served.recognizer is not None for name, served in self.models.items()}}
        if failed:
            health["status"] = "failing" if self.default in failed else "degraded"
            health["detail"] = (f"{len(failed)} of {len(self.models)} models failed to load"
                                + (f", the default {self.default!r} among them" if health["status"] == "failing" else "")
                                + f": {', '.join(failed)} (the server log and 'failed' say why)")
        return health

    def load_all(self) -> None:
        """Load every model (the server does this in the background right after it starts).

        A model that fails is reported on stderr, one line each (unless ``quiet``): the server runs on
        with the others, and a request for it gets the same reason as a 503.
        """
        for name in self.models:
            try:
                self.recognizer(name)
            except Exception:  # noqa: BLE001 - kept in ServedModel.error; this thread must go on to the next model
                if not self.quiet:
                    warn(f"model {name!r} cannot be loaded, requests for it will fail: {self.models[name].error}")
