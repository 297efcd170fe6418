"""The model bundle: a folder with ``model.json`` (what the model is) and ``model.onnx`` (the net).

Training writes bundles (plus ``weights.pt`` for fine-tuning); inference reads them. This module is
the contract between the two, so it imports neither.

``model.json`` holds:
    format      "inkread-model/1"
    name        a short name ("digits", "characters", or the run's name)
    arch        the architecture name in ``inkread.models`` ("seed", "inknet", ...)
    labels      the character of each class index, e.g. ["0", "1", ...]
    label_set   the name of the label set in ``inkread.labels`` ("digits", "bymerge", ...) or "custom"
    input       {"size": 28, "recipe": "mnist"|"emnist", "scale": "0-1", "ink": "high"}:
                a float32 tensor (N, 1, 28, 28), ink 1.0 on background 0.0 (MNIST polarity),
                made by ``inkread.imaging`` with the named normalization recipe. Mean/std
                normalization is inside the network, so the ONNX file takes this input as is.
                Line models (arch ``LINE_ARCH``, "linenet"): {"height": 40, "recipe": "line", ...}, a float32
                (N, 1, 40, W) line from ``inkread.imaging.line``; the output is (N, W/2,
                len(labels) + 1) CTC log-probabilities, the blank first.
    files       {"onnx": "model.onnx", "weights": "weights.pt" (optional)}
    training    the recipe and data that made the model (free-form dict)
    metrics     figures measured on the test split (free-form dict)
    history     per-epoch training history: list of dicts (epoch, train_loss, train_acc,
                val_loss, val_acc, lr, seconds)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inkread.errors import InkreadError, ModelBundleError

FORMAT = "inkread-model/1"
META_FILE = "model.json"
ONNX_FILE = "model.onnx"
WEIGHTS_FILE = "weights.pt"
CHECKPOINT_FILE = "checkpoint.pt"  # not a bundle's: the run folder's, while training (a run without a bundle yet)
BUNDLE_FILES = (META_FILE, ONNX_FILE, WEIGHTS_FILE)  # what a bundle folder written by inkread holds
LINE_ARCH = "linenet"  # the arch of a line model (read with LineReader); every other arch reads single characters


def check_model_pair(spec: str, first_arch: str, second_arch: str) -> None:
    """MODEL+LINES (``spec``): the first must read single characters, the second whole lines (InkreadError)."""
    if first_arch == LINE_ARCH or second_arch != LINE_ARCH:
        raise InkreadError(f"{spec}: in MODEL+LINES the first model reads single characters and the second whole "
                           "lines, as in digits+lines")


RECIPES = ("mnist", "emnist", "line")  # "line": a whole line, 40 px high (inkread.imaging.line)
# The JSON type of each field but "labels" and "format" (checked on their own), as the readers use them.
FIELD_TYPES = {"name": str, "arch": str, "label_set": str, "input": dict, "files": dict,
               "training": dict, "metrics": dict, "history": list}
_TYPE_NAMES = {str: "a string", dict: "a JSON object", list: "a list"}


@dataclass
class ModelMeta:
    """The content of ``model.json``."""

    name: str
    arch: str
    labels: list[str]
    label_set: str = "custom"
    input: dict[str, Any] = field(default_factory=lambda: {"size": 28, "recipe": "mnist", "scale": "0-1", "ink": "high"})
    files: dict[str, str] = field(default_factory=lambda: {"onnx": ONNX_FILE})
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    format: str = FORMAT

    @property
    def recipe(self) -> str:
        """The normalization recipe the model was trained with ("mnist" or "emnist"; "line" for line models)."""
        return self.input.get("recipe", "mnist")

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "model.json") -> "ModelMeta":
        """Validate and build; a bad file raises ``ModelBundleError`` naming what is wrong."""
        if not isinstance(data, dict):
            raise ModelBundleError(f"{where} is not a JSON object: re-export the model")
        if data.get("format") != FORMAT:
            raise ModelBundleError(f"{where} has format {data.get('format')!r}, expected {FORMAT!r}: re-export the model with this inkread")
        for key in ("name", "arch", "labels"):
            if key not in data:
                raise ModelBundleError(f"{where} lacks the field {key!r}: re-export the model")
        for key, kind in FIELD_TYPES.items():
            if key in data and not isinstance(data[key], kind):
                found = json.dumps(data[key], ensure_ascii=False)
                found = found if len(found) <= 40 else found[:37] + "..."
                raise ModelBundleError(f"{where}: {key!r} must be {_TYPE_NAMES[kind]}, not {found}: re-export the model")
        # the file names are joined to the bundle folder's path
        if not all(isinstance(name, str) and name for name in data.get("files", {}).values()):
            raise ModelBundleError(f"{where}: 'files' must give a file name for each role, "
                                   "like {\"onnx\": \"model.onnx\"}: re-export the model")
        labels = data["labels"]
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
            raise ModelBundleError(f"{where}: 'labels' must be a non-empty list of characters")
        if len(set(labels)) != len(labels):
            raise ModelBundleError(f"{where}: 'labels' has duplicates")
        known = {f for f in cls.__dataclass_fields__}
        meta = cls(**{k: v for k, v in data.items() if k in known})
        if meta.recipe not in RECIPES:
            raise ModelBundleError(f"{where}: unknown input recipe {meta.recipe!r} (known: {', '.join(RECIPES)})")
        return meta

    @classmethod
    def read(cls, folder: str | Path) -> "ModelMeta":
        """Read ``folder/model.json``."""
        path = Path(folder) / META_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelBundleError(f"{path} not found: a model bundle is a folder with model.json and model.onnx") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelBundleError(f"{path} is not valid JSON ({error}): re-export the model") from None
        return cls.from_dict(data, where=str(path))
