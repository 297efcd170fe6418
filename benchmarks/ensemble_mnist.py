"""How far averaging models gets on the MNIST test set: a ceiling for a training recipe.

    python benchmarks/ensemble_mnist.py --data-dir ../shared/datasets --model runs/a --model runs/b ...
    python benchmarks/ensemble_mnist.py --data-dir ../shared/datasets --model runs/a runs/b --test-time-views

Prints each model's test accuracy, then the accuracy of every pair and of all models together
(class probabilities averaged). Models trained with the same recipe and different seeds share
most of their errors; where even the average of all of them stays below a goal, no single
model of that recipe will reach it, and the recipe (its data, its augmentation) has to change.

``--test-time-views`` averages each model over 11 views of every test image first (the image,
shifted by 1 and by 0.5 pixel in each of the four directions, rotated by 6 degrees either way):
test-time augmentation, which costs 11 forward passes per image and is not part of inkread's
inference; it measures how much of a model's errors are just off-centre or tilted input.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from inkread.data import load_dataset
from inkread.errors import InkreadError
from inkread.inference.onnx_model import OnnxModel
from shared_sets import DEFAULT_DATA, print_report


def ensemble_report(models: list[str], data_dir: Path, test_time_views: bool = False) -> str:
    """A markdown table: each model, each pair and all models averaged, with accuracy and errors."""
    if len(models) < 2:
        raise InkreadError("give at least two --model bundles to average")
    test = load_dataset("mnist", data_dir, test_only=True).test
    clean = test.images.astype(np.float32) / 255
    views = _views(clean) if test_time_views else [clean]
    probabilities = {name: _mean_probabilities(OnnxModel(name), views) for name in models}

    def row(names: tuple[str, ...]) -> str:
        average = sum(probabilities[name] for name in names) / len(names)
        errors = int((average.argmax(1) != test.targets).sum())
        return f"| {' + '.join(_short(name) for name in names)} | {100 * (1 - errors / len(test.targets)):.2f} | {errors} |"

    groups = [(name,) for name in models] + list(itertools.combinations(models, 2))
    if len(models) > 2:
        groups.append(tuple(models))
    lines = ["| models averaged | MNIST test accuracy % | errors |", "|---|---|---|"]
    return "\n".join(lines + [row(group) for group in groups])


def _views(images: np.ndarray) -> list[np.ndarray]:
    """The (N, 28, 28) images, shifted by 1 and 0.5 px each way and rotated by +-6 degrees: 11 views."""
    def shifted(dy: float, dx: float) -> np.ndarray:
        return ndimage.shift(images, (0, dy, dx), order=1)

    def rotated(degrees: float) -> np.ndarray:
        return ndimage.rotate(images, degrees, axes=(2, 1), reshape=False, order=1)

    steps = [(0, 1), (0, -1), (1, 0), (-1, 0)]
    return ([images] + [shifted(dy, dx) for dy, dx in steps] + [shifted(dy / 2, dx / 2) for dy, dx in steps]
            + [rotated(6), rotated(-6)])


def _mean_probabilities(model: OnnxModel, views: list[np.ndarray]) -> np.ndarray:
    """Class probabilities of one model, averaged over the views of each image."""
    return sum(model.probabilities(view[:, None]) for view in views) / len(views)


def _short(bundle: str) -> str:
    """A bundle's run name: ``runs/a/model`` -> ``a``."""
    path = Path(bundle)
    return path.parent.name if path.name == "model" else path.name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="extend", nargs="+", default=[],
                        help="model bundles, at least two (--model A B C, or --model A --model B)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="folder holding mnist/")
    parser.add_argument("--test-time-views", action="store_true",
                        help="average each model over 11 shifted and rotated views of every image first")
    args = parser.parse_args()
    return print_report("ensemble_mnist", lambda: ensemble_report(args.model, args.data_dir, args.test_time_views))


if __name__ == "__main__":
    sys.exit(main())
