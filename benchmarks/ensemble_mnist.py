"""How far averaging models gets on the MNIST test set: a ceiling for a training recipe.

    python benchmarks/ensemble_mnist.py --data-dir ../shared/datasets --model runs/a --model runs/b ...

Prints each model's test accuracy, then the accuracy of every pair and of all models together
(class probabilities averaged). Models trained with the same recipe and different seeds share
most of their errors; where even the average of all of them stays below a goal, no single
model of that recipe will reach it, and the recipe (its data, its augmentation) has to change.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from inkread.data import load_dataset
from inkread.errors import InkreadError
from inkread.inference.onnx_model import OnnxModel
from shared_sets import DEFAULT_DATA, print_report


def ensemble_report(models: list[str], data_dir: Path) -> str:
    """A markdown table: each model, each pair and all models averaged, with accuracy and errors."""
    if len(models) < 2:
        raise InkreadError("give at least two --model bundles to average")
    test = load_dataset("mnist", data_dir, test_only=True).test
    images = (test.images.astype(np.float32) / 255)[:, None]
    probabilities = {name: OnnxModel(name).probabilities(images) for name in models}

    def row(names: tuple[str, ...]) -> str:
        average = sum(probabilities[name] for name in names) / len(names)
        errors = int((average.argmax(1) != test.targets).sum())
        return f"| {' + '.join(_short(name) for name in names)} | {100 * (1 - errors / len(test.targets)):.2f} | {errors} |"

    groups = [(name,) for name in models] + list(itertools.combinations(models, 2))
    if len(models) > 2:
        groups.append(tuple(models))
    lines = ["| models averaged | MNIST test accuracy % | errors |", "|---|---|---|"]
    return "\n".join(lines + [row(group) for group in groups])


def _short(bundle: str) -> str:
    """A bundle's run name: ``runs/a/model`` -> ``a``."""
    path = Path(bundle)
    return path.parent.name if path.name == "model" else path.name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="extend", nargs="+", default=[],
                        help="model bundles, at least two (--model A B C, or --model A --model B)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="folder holding mnist/")
    args = parser.parse_args()
    return print_report("ensemble_mnist", lambda: ensemble_report(args.model, args.data_dir))


if __name__ == "__main__":
    sys.exit(main())
