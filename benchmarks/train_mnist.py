"""Benchmark: our default recipe against the seed CNN on MNIST, side by side in one run.

    python benchmarks/train_mnist.py --data-dir ../shared/datasets [--seeds 0 1 2] [--out benchmarks/results]
                                     [--optimizer muon]   # ours with another optimizer than the recipe's

Each training runs in its own process (so peak RSS is that training's alone) with the same thread
count. Test accuracy is measured every eighth of an epoch (of the model's own steps) to find the
wall time to 99.0% and 99.5%; the time spent measuring is subtracted. The test split is never used
for model selection: ``train`` ships the epoch with the best validation accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

THRESHOLDS = (0.990, 0.995)
CHECKS_PER_EPOCH = 8
SPLIT_SEED = 0  # the validation split: the same for every seed (--seed varies the run, not the data)


def run_one(arch: str, seed: int, data_dir: str, out: Path, threads: int, optimizer: str | None = None) -> dict:
    """Train one model in this process and return its measurements."""
    import numpy as np
    import torch

    from inkread.data import load_dataset
    from inkread.training import TrainConfig, train
    from inkread.training.loop import evaluate_torch

    splits = load_dataset("mnist", data_dir=data_dir, seed=SPLIT_SEED)  # every seed validates on the same images
    test_images = torch.from_numpy(np.ascontiguousarray(splits.test.images))
    test_targets = torch.from_numpy(splits.test.targets.astype(np.int64))
    steps_per_epoch = -(-len(splits.train.targets) // 128)
    check_every = steps_per_epoch // CHECKS_PER_EPOCH
    start = time.perf_counter()
    excluded = 0.0
    reached: dict[str, float | None] = {f"{t:.3f}": None for t in THRESHOLDS}
    curve = []

    def on_step(step: int, epoch: int, model) -> None:
        nonlocal excluded
        if step % check_every:
            return
        began = time.perf_counter()
        _, accuracy = evaluate_torch(model, test_images, test_targets)
        elapsed = began - start - excluded
        excluded += time.perf_counter() - began
        curve.append({"step": step, "seconds": round(elapsed, 2), "test_accuracy": accuracy})
        for threshold in THRESHOLDS:
            key = f"{threshold:.3f}"
            if reached[key] is None and accuracy >= threshold:
                reached[key] = round(elapsed, 2)

    bundle = train(TrainConfig(dataset="mnist", out=str(out), arch=arch, seed=seed, split_seed=SPLIT_SEED,
                               threads=threads, progress=False, optimizer=optimizer),
                   splits=splits, on_step=on_step)
    total = time.perf_counter() - start - excluded
    meta = json.loads((bundle / "model.json").read_text())
    return {
        "arch": arch, "seed": seed, "threads": threads, "optimizer": meta["training"]["recipe"].get("optimizer"),
        "test_accuracy": meta["metrics"]["test_accuracy"],
        "epochs": len(meta["history"]),
        "train_seconds": round(total, 1),
        "seconds_to": reached,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "parameters": meta["metrics"]["parameters"],
        "onnx_bytes": (bundle / "model.onnx").stat().st_size,
        "curve": curve,
    }


def _fmt_time(value) -> str:
    return "not reached" if value is None else f"{value:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("INKREAD_DATA_DIR", "../shared/datasets"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--optimizer", choices=["adamw", "muon"], default=None,
                        help="train ours with this optimizer (default: the recipe's); the results go to train_mnist_OPTIMIZER.json")
    parser.add_argument("--one", nargs=2, metavar=("ARCH", "SEED"), help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--run-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        result = run_one(args.one[0], int(args.one[1]), args.data_dir, Path(args.run_dir), args.threads, args.optimizer)
        print("RESULT " + json.dumps(result))
        return

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = [("seed", 0)] + [("inknet", s) for s in args.seeds]
    results = []
    for arch, seed in runs:
        print(f"training {arch} seed {seed} ...", flush=True)
        optimizer = args.optimizer if arch != "seed" else None  # the seed CNN is always trained as the seeds do
        run_name = f"{arch}-{optimizer}-{seed}" if optimizer else f"{arch}-{seed}"
        proc = subprocess.run([sys.executable, __file__, "--one", arch, str(seed), "--data-dir", args.data_dir,
                               "--threads", str(args.threads), "--run-dir", str(out / "runs" / run_name),
                               *(["--optimizer", optimizer] if optimizer else [])],
                              capture_output=True, text=True)
        line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            sys.exit(f"training {arch} seed {seed} failed:\n{proc.stderr[-2000:]}")
        results.append(json.loads(line[7:]))
        print(f"  test accuracy {results[-1]['test_accuracy']:.4f} in {results[-1]['train_seconds']} s", flush=True)

    name = f"train_mnist_{args.optimizer}.json" if args.optimizer else "train_mnist.json"
    (out / name).write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))


def table(results: list[dict]) -> str:
    """Markdown table: the seed CNN, each of our seeds, and the ratios ours/seed."""
    seed = next(r for r in results if r["arch"] == "seed")
    ours = [r for r in results if r["arch"] != "seed"]
    accs = [r["test_accuracy"] for r in ours]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731

    def mean_time(key):
        values = [r["seconds_to"][key] for r in ours]
        return None if any(v is None for v in values) else mean(values)

    rows = [
        ("test accuracy", f"{seed['test_accuracy']:.2%}", f"mean {mean(accs):.2%}, min {min(accs):.2%} ({len(ours)} seeds)", ""),
    ]
    for key in ("0.990", "0.995"):
        s, o = seed["seconds_to"][key], mean_time(key)
        ratio = f"{o / s:.2f}" if s and o else "-"
        rows.append((f"time to {float(key):.1%} test accuracy", _fmt_time(s), _fmt_time(o) + " (mean)", ratio))
    s_total, o_total = seed["train_seconds"], mean([r["train_seconds"] for r in ours])
    rows.append(("total training wall time", f"{s_total:.0f} s ({seed['epochs']} epochs)",
                 f"{o_total:.0f} s (mean, {ours[0]['epochs']} epochs)", f"{o_total / s_total:.2f}"))
    s_rss, o_rss = seed["peak_rss_mb"], max(r["peak_rss_mb"] for r in ours)
    rows.append(("peak RSS", f"{s_rss:.0f} MB", f"{o_rss:.0f} MB (max)", f"{o_rss / s_rss:.2f}"))
    rows.append(("parameters", f"{seed['parameters']:,}", f"{ours[0]['parameters']:,}", f"{ours[0]['parameters'] / seed['parameters']:.2f}"))
    rows.append(("ONNX model size", f"{seed['onnx_bytes'] / 1e6:.2f} MB", f"{ours[0]['onnx_bytes'] / 1e6:.2f} MB",
                 f"{ours[0]['onnx_bytes'] / seed['onnx_bytes']:.2f}"))
    lines = ["| | seed CNN | inkread default (inknet) | ours / seed |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines.append("")
    lines.append("per seed: " + ", ".join(f"seed {r['seed']}: {r['test_accuracy']:.2%} in {r['train_seconds']:.0f} s" for r in ours))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
