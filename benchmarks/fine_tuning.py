"""Fine-tuning the shipped digits model on a few of the user's images: does it keep what it knew, and learn theirs?

    python benchmarks/fine_tuning.py [--data ../shared/datasets] [--seeds 0 1 2 3] [--lrs 4e-3 1.2e-3 4e-4]

What a user of the web app does: the model misread some 1s, 4s and 7s, they taught it right ones, exported the
corrections as a folder and ran the command the export prints (``inkread train --dataset folder:... --init-from
digits``). Here the user's images are real tablet digits (UNIPEN, not MNIST): 15 each of 1, 4 and 7 (taken at
three places in the set), 4 of every digit, or half the semeion digits (scanned bitmaps) the shipped model
misreads with 4 right UNIPEN ones of every digit. Each is fine-tuned with each learning rate (4e-3: the
recipe's, the default before 2026-12-07; 1.2e-3: 0.3 of it, the default for ``--init-from`` since; 4e-4) and
each seed, then read: 2,000 MNIST test digits (what the model knew), 1,000 other UNIPEN digits (the user's kind
of writing; none of them trained on) and the other half of the misread ones (what the user taught: learnt?).
Prints one row per data set and learning rate: the shipped model's figures, then the fine-tuned ones' mean and
worst over the seeds. About 20 minutes on one core.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

from inkread.data import load_dataset
from inkread.inference.recognizer import Recognizer
from inkread.training import TrainConfig, train
from shared_sets import DEFAULT_DATA, load_set, print_report

OFFSETS = (0, 15, 29)  # where in the set (per digit, in file order) each user's 15 images start


def user_sets(data: Path, misread: list[tuple[Path, str]]) -> dict[str, dict[str, list[Path]]]:
    """The users' data sets: name -> {label: image paths}. ``misread``: the semeion digits the shipped model
    misreads; the first half of them is a set of its own (what a user corrects), beside 4 right UNIPEN ones a digit."""
    paths, labels = load_set(data, "unipen_digits")
    by_digit = {d: sorted(p for p, label in zip(paths, labels) if label == d) for d in "0123456789"}
    sets = {f"15 each of 1, 4, 7 (from {offset})": {d: by_digit[d][offset:offset + 15] for d in "147"}
            for offset in OFFSETS}
    sets["4 of every digit"] = {d: by_digit[d][:4] for d in "0123456789"}
    corrected = {d: [p for p, label in misread[::2] if label == d] + by_digit[d][-4:] for d in "0123456789"}
    sets[f"{len(misread[::2])} semeion it misread, 4 right ones a digit"] = corrected
    return sets


def misread_semeion(data: Path) -> list[tuple[Path, str]]:
    """The semeion digits (scanned 16x16 bitmaps) the shipped digits model misreads, in file order."""
    paths, labels = load_set(data, "semeion")
    answers = Recognizer.load("digits").predict_batch([str(p) for p in paths])
    return sorted((p, label) for p, label, answer in zip(paths, labels, answers) if answer.label != label)


def held_out_unipen(data: Path, used: set[Path], count: int = 1000) -> tuple[list[Path], list[str]]:
    """``count`` UNIPEN digits no user set holds, spread over the whole set."""
    paths, labels = load_set(data, "unipen_digits")
    rows = [(p, label) for p, label in zip(paths, labels) if p not in used]
    picked = rows[:: max(1, len(rows) // count)][:count]
    return [p for p, _ in picked], [label for _, label in picked]


def accuracy(model, images, labels) -> float:
    """Share of ``images`` that ``model`` (a name or a bundle) reads as their label, in percent."""
    answers = Recognizer.load(model).predict_batch(list(images))
    return 100.0 * float(np.mean([answer.label == label for answer, label in zip(answers, labels)]))


def run(data: Path, seeds: list[int], lrs: list[float]) -> str:
    """The table, as markdown."""
    test = load_dataset("mnist", data_dir=data).test
    mnist = (test.images[:2000], [str(t) for t in test.targets[:2000]])
    misread = misread_semeion(data)
    sets = user_sets(data, misread)
    unipen = held_out_unipen(data, {p for chosen in sets.values() for paths in chosen.values() for p in paths})
    others = ([p for p, _ in misread[1::2]], [label for _, label in misread[1::2]])  # misread too, not taught
    shipped = (accuracy("digits", *mnist), accuracy("digits", *unipen), accuracy("digits", *others))
    lines = [f"Shipped digits model: MNIST {shipped[0]:.2f}%, other UNIPEN digits {shipped[1]:.2f}%, "
             f"the other {len(others[0])} semeion digits it misreads {shipped[2]:.2f}%.", "",
             "| user's images | learning rate | MNIST mean | MNIST worst | UNIPEN mean | UNIPEN worst | other misread mean |",
             "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as scratch:
        for name, chosen in sets.items():
            folder = Path(scratch) / "mine"
            shutil.rmtree(folder, ignore_errors=True)
            for digit, paths in chosen.items():
                (folder / digit).mkdir(parents=True)
                for path in paths:
                    shutil.copy(path, folder / digit / path.name)
            for lr in lrs:
                scores = []
                for seed in seeds:
                    out = Path(scratch) / f"run-{lr}-{seed}"
                    shutil.rmtree(out, ignore_errors=True)
                    bundle = train(TrainConfig(dataset=f"folder:{folder}", out=str(out), init_from="digits", lr=lr,
                                               seed=seed, threads=1, progress=False))
                    scores.append((accuracy(bundle, *mnist), accuracy(bundle, *unipen), accuracy(bundle, *others)))
                    print(f"{name} lr={lr:g} seed={seed}: MNIST {scores[-1][0]:.2f}%, UNIPEN {scores[-1][1]:.2f}%, "
                          f"other misread {scores[-1][2]:.2f}%", flush=True)
                mnist_scores, unipen_scores, other_scores = zip(*scores)
                lines.append(f"| {name} | {lr:g} | {np.mean(mnist_scores):.2f} | {min(mnist_scores):.2f} | "
                             f"{np.mean(unipen_scores):.2f} | {min(unipen_scores):.2f} | {np.mean(other_scores):.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3], help="training seeds")
    parser.add_argument("--lrs", type=float, nargs="+", default=[4e-3, 1.2e-3, 4e-4], help="learning rates to compare")
    args = parser.parse_args()
    return print_report("fine_tuning.py", lambda: run(args.data, args.seeds, args.lrs))


if __name__ == "__main__":
    raise SystemExit(main())
