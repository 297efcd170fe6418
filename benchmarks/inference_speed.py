"""How fast inkread recognizes: one image end to end, batch throughput, and a fresh `inkread predict`.

    python benchmarks/inference_speed.py                      # the shipped digits model
    python benchmarks/inference_speed.py --model RUN/model --torch RUN/model   # + PyTorch side by side
    python benchmarks/inference_speed.py --threads 1          # pin ONNX Runtime to one thread

Prints a markdown table. Figures:
* single image: ``Recognizer.predict(path)`` on a 280x280 PNG (decode + preprocess + ONNX), median
  and p95 over --runs calls, with the median of each stage;
* batch: images/s of the model alone on batches of --batch preprocessed images, and of
  ``predict_preprocessed`` (model + ranking into Predictions);
* fresh process: wall time of ``inkread predict one.png --model M`` (python -m inkread), median
  and min over --process-runs runs.
With ``--torch BUNDLE`` (a bundle holding weights.pt), the same network in PyTorch is timed
on the same inputs (batch 1 and batch --batch) for comparison. The CPU is shared: run it on an
idle machine, and read medians rather than means.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inkread.imaging.decode import load_image
from inkread.imaging.preprocess import normalize
from inkread.inference.recognizer import Recognizer

DATASETS = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"


def sample_images(count: int) -> list[Image.Image]:
    """280x280 dark-on-white digits: HwD-1000 drawings scaled up if available, else rendered text."""
    folder = DATASETS / "hwd1000"
    files = sorted(folder.glob("*.png"))[:: max(1, 1000 // count)][:count] if folder.is_dir() else []
    if files:
        return [Image.open(path).convert("L").resize((280, 280), Image.Resampling.BILINEAR) for path in files]
    font = ImageFont.load_default(size=200)
    images = []
    for i in range(count):
        image = Image.new("L", (280, 280), 255)
        ImageDraw.Draw(image).text((140 + i % 7 - 3, 140), str(i % 10), font=font, fill=0, anchor="mm")
        images.append(image)
    return images


def timed(function, runs: int) -> list[float]:
    """Seconds per call, after a few warm-up calls."""
    for _ in range(min(10, runs)):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def throughput(function, images: int, seconds: float = 2.0) -> float:
    """Images per second of ``function`` (which handles ``images`` images per call), over ~``seconds``."""
    function()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or calls < 3:
        function()
        calls += 1
    return calls * images / (time.perf_counter() - start)


def ms(values: list[float], q: float = 0.5) -> str:
    return f"{1e3 * float(np.quantile(values, q)):.3f} ms"


def fresh_process(model: str, image: Path, runs: int) -> list[float]:
    """Wall seconds of ``python -m inkread predict image --model model`` as a new process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "inkread", "predict", str(image), "--model", model],
                                capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"inkread predict failed: {result.stderr.strip()}")
    return times


def torch_figures(bundle: str, batch: np.ndarray, runs: int, threads: int | None) -> dict[str, str]:
    """Batch-1 latency and batch throughput of the bundle's weights.pt in PyTorch."""
    import torch

    from inkread.inference.bundle_format import ModelMeta
    from inkread.inference.onnx_model import resolve_bundle
    from inkread.models import build_model

    folder = resolve_bundle(bundle)
    meta = ModelMeta.read(folder)
    model = build_model(meta.arch, meta.num_classes).eval()
    model.load_state_dict(torch.load(folder / meta.files.get("weights", "weights.pt"), map_location="cpu"))
    if threads:
        torch.set_num_threads(threads)
    one, many = torch.from_numpy(batch[:1]), torch.from_numpy(batch)
    with torch.inference_mode():
        single = timed(lambda: model(one), runs)
        rate = throughput(lambda: model(many), len(batch))
    return {"name": f"PyTorch {torch.__version__} ({meta.arch}, {torch.get_num_threads()} threads)",
            "b1": ms(single), "rate": f"{rate:,.0f}"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="digits", help="digits, characters or a bundle path")
    parser.add_argument("--torch", default=None, metavar="BUNDLE", help="also time this bundle's weights.pt in PyTorch")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: inkread's choice)")
    parser.add_argument("--runs", type=int, default=300, help="single-image calls timed")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--process-runs", type=int, default=7)
    args = parser.parse_args(argv)

    recognizer = Recognizer.load(args.model, threads=args.threads)
    recipe = recognizer.meta.recipe
    images = sample_images(args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "one.png"
        images[3].save(png)
        single = timed(lambda: recognizer.predict(png), args.runs)
        decode = timed(lambda: load_image(png), args.runs)
        ink = load_image(png)
        prep = timed(lambda: normalize(ink, recipe), args.runs)
        one = normalize(ink, recipe)[None, None]
        infer = timed(lambda: recognizer.model.logits(one), args.runs)
        process = fresh_process(args.model, png, args.process_runs)

    batch = np.stack([normalize(load_image(image), recipe) for image in images])[:, None].astype(np.float32)
    model_rate = throughput(lambda: recognizer.model.logits(batch), len(batch))
    ranked_rate = throughput(lambda: recognizer.predict_preprocessed(batch), len(batch))

    print(f"inkread inference speed: model {recognizer.name!r} ({recognizer.meta.arch}, {len(recognizer.labels)} classes), "
          f"{os.cpu_count()} CPUs, ONNX Runtime threads: {args.threads or 'default'}\n")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| single 280x280 PNG end to end, median | {ms(single)} | <= 2 ms |")
    print(f"| single 280x280 PNG end to end, p95 | {ms(single, 0.95)} | |")
    print(f"| stages (median): decode / preprocess / ONNX | {ms(decode)} / {ms(prep)} / {ms(infer)} | |")
    print(f"| batch {args.batch}: ONNX model alone | {model_rate:,.0f} images/s | >= 10,000 images/s |")
    print(f"| batch {args.batch}: predict_preprocessed (model + ranking) | {ranked_rate:,.0f} images/s | |")
    print(f"| fresh `inkread predict one.png`, median (min) of {len(process)} | "
          f"{statistics.median(process):.3f} s ({min(process):.3f} s) | <= 0.6 s |")
    if args.torch:
        import onnxruntime

        figures = torch_figures(args.torch, batch, args.runs, args.threads)
        print(f"\n| runtime | batch 1 latency (median) | batch {args.batch} images/s |")
        print("|---|---|---|")
        print(f"| ONNX Runtime {onnxruntime.__version__} | {ms(infer)} | {model_rate:,.0f} |")
        print(f"| {figures['name']} | {figures['b1']} | {figures['rate']} |")


if __name__ == "__main__":
    main()
