"""Accuracy on real handwriting from outside MNIST/EMNIST: plain resize vs inkread's preprocessing.

    python benchmarks/real_handwriting.py --model digits --model path/to/seed-bundle
    python benchmarks/real_handwriting.py --model characters --failures failures/

For each model bundle and each evaluation folder (hwd1000, semeion, optdigits_orig, UNIPEN
digits for models with digit classes; UNIPEN letters for models with letter classes), two ways of
turning the image into the model input are compared side by side:

* ``plain``: what a naive app does (and the seed app did): grayscale, invert, resize to 28x28;
* ``ours``: ``inkread.imaging.preprocess_image`` with the model's recipe.

Answers are restricted to the data set's kind (digits, or letters), as ``--only`` would. Letters
report exact accuracy (case-sensitive, after mapping the truth into the model's classes, so a
47-class model is right with "C" for "c") and case-insensitive accuracy. The result is a markdown
table on stdout. These folders are evaluation data: never train or tune per data set on them.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from inkread.files import atomic_write, write_bytes_atomic
from inkread.imaging.preprocess import NoInkError, preprocess_image
from inkread.inference.onnx_model import OnnxModel
from inkread.inference.restrict import restriction
from inkread.labels import merge_case
from shared_sets import DEFAULT_DATA, load_set, print_report, set_names

DIGIT_SETS = ("hwd1000", "semeion", "optdigits_orig", "unipen_digits")
LETTER_SETS = ("unipen_letters",)
METHODS = ("plain", "ours")


@dataclass
class BenchmarkConfig:
    """What to run: model bundles, data folder, sets, an optional limit and a failures folder."""

    models: list[str] = field(default_factory=lambda: ["digits"])
    data: Path = DEFAULT_DATA
    sets: list[str] = field(default_factory=lambda: list(DIGIT_SETS + LETTER_SETS))
    limit: int | None = None
    failures: Path | None = None


def plain_input(path: Path) -> np.ndarray:
    """The naive model input: grayscale, invert (dark ink -> high), resize to 28x28."""
    image = ImageOps.invert(Image.open(path).convert("L")).resize((28, 28), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32) / 255.0


def our_input(path: Path, recipe: str) -> np.ndarray:
    """inkread's model input; a blank result (never expected here) becomes an empty image."""
    try:
        return preprocess_image(path, recipe)
    except NoInkError:
        return np.zeros((28, 28), np.float32)


def predict(model: OnnxModel, batch: np.ndarray, only: str) -> list[str]:
    """The model's answers for (N, 28, 28) inputs, restricted to ``only`` ("digits" or "letters")."""
    allowed = restriction(tuple(model.meta.labels), only)
    answers: list[str] = []
    for start in range(0, len(batch), 512):
        probs = model.probabilities(batch[start:start + 512, None])[:, allowed.indices]
        answers += [allowed.names[i] for i in probs.argmax(axis=1)]
    return answers


def score(answers: list[str], truth: list[str], labels: tuple[str, ...]) -> dict[str, float]:
    """Exact accuracy (truth mapped into the model's classes) and case-insensitive accuracy."""
    exact = [a == _in_classes(t, labels) for a, t in zip(answers, truth)]
    folded = [a.lower() == t.lower() for a, t in zip(answers, truth)]
    return {"exact": float(np.mean(exact)), "nocase": float(np.mean(folded))}


def _in_classes(char: str, labels: tuple[str, ...]) -> str:
    try:
        return merge_case(char, labels)
    except KeyError:
        return char


def save_failures(folder: Path, name: str, inputs: np.ndarray, answers: list[str], truth: list[str], paths: list[Path]) -> None:
    """A PNG grid of the wrongly read inputs (as the model saw them) and a CSV naming them."""
    wrong = [i for i, (a, t) in enumerate(zip(answers, truth)) if a.lower() != t.lower()]
    if not wrong:
        return
    columns = 16
    rows = -(-len(wrong) // columns)
    sheet = np.zeros((rows * 30, columns * 30), np.uint8)
    for k, i in enumerate(wrong):
        r, c = divmod(k, columns)
        sheet[r * 30 + 1:r * 30 + 29, c * 30 + 1:c * 30 + 29] = np.round(inputs[i] * 255)
    buffer = io.BytesIO()
    Image.fromarray(sheet).resize((columns * 60, rows * 60), Image.Resampling.NEAREST).save(buffer, "PNG")
    write_bytes_atomic(folder / f"{name}.png", buffer.getvalue())
    with atomic_write(folder / f"{name}.csv", "w") as handle:
        handle.write("cell,file,truth,answer\n")
        for k, i in enumerate(wrong):
            handle.write(f"{k},{paths[i].name},{truth[i]},{answers[i]}\n")


def run(config: BenchmarkConfig) -> str:
    """Evaluate every model on every applicable set with both methods; a markdown table."""
    models = [OnnxModel(m) for m in config.models]
    names = [m if m in ("digits", "characters") else f"{model.meta.name} ({Path(m).name})"
             for m, model in zip(config.models, models)]
    header = ["set", "n"] + [f"{name} {method}" for name in names for method in METHODS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    cache: dict[tuple[str, str], np.ndarray] = {}
    for name in config.sets:
        only = "letters" if name in LETTER_SETS else "digits"
        paths, truth = load_set(config.data, name, config.limit)
        cells = []
        for spec, model in zip(config.models, models):
            labels = tuple(model.meta.labels)
            if not any(_fits(label, only) for label in labels):
                cells += ["-", "-"]
                continue
            for method in METHODS:
                key = (name, method if method == "plain" else f"ours-{model.meta.recipe}")
                if key not in cache:
                    started = time.perf_counter()
                    maker = plain_input if method == "plain" else (lambda p, r=model.meta.recipe: our_input(p, r))
                    cache[key] = np.stack([maker(p) for p in paths])
                    print(f"{name} {key[1]}: {len(paths)} images in {time.perf_counter() - started:.1f} s", file=sys.stderr)
                answers = predict(model, cache[key], only)
                result = score(answers, truth, labels)
                if only == "letters":
                    cells.append(f"{100 * result['exact']:.1f} / {100 * result['nocase']:.1f}")
                else:
                    cells.append(f"{100 * result['exact']:.2f}")
                if config.failures and method == "ours":
                    save_failures(config.failures, f"{model.meta.name}-{name}", cache[key], answers, truth, paths)
        lines.append("| " + " | ".join([name, str(len(paths))] + cells) + " |")
    lines.append("")
    lines.append("Accuracy in %; letters: exact / case-insensitive, answers restricted to the set's kind.")
    return "\n".join(lines)


def _fits(label: str, only: str) -> bool:
    return label.isdigit() if only == "digits" else label.isalpha()


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="model bundle (repeatable; default: digits)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--sets", default=",".join(DIGIT_SETS + LETTER_SETS), help="comma-separated set names")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images of each set")
    parser.add_argument("--failures", type=Path, default=None, help="save grids of misread inputs here")
    args = parser.parse_args(argv)

    def report() -> str:
        sets = set_names(args.sets, DIGIT_SETS + LETTER_SETS)
        return run(BenchmarkConfig(models=args.model or ["digits"], data=args.data, sets=sets, limit=args.limit,
                                   failures=args.failures))

    return print_report("real_handwriting", report)


if __name__ == "__main__":
    sys.exit(main())
