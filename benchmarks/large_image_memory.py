"""How much memory reading one large page takes: peak resident memory growth, in a fresh process.

    python benchmarks/large_image_memory.py                      # 7200x5400 (39 MP), as README's figure
    python benchmarks/large_image_memory.py --width 6000 --height 4000 --kinds rgb.png,page.jpg

A page of lined paper (light blue rules, a red margin) with the handwriting of ``samples/text`` and
``samples/words`` pasted on it in blue ink is saved in each of ``--kinds``: an RGB PNG, a grayscale
PNG, an RGBA PNG (opaque, as screenshots are), a palette PNG and a JPEG (quality 90). Each is read
in a fresh process, from bytes already in memory (as the server has them): after the model is loaded
and a small image read, the process's peak resident memory is reset (``/proc/self/clear_refs``) and
the large image is decoded (``open_image``), made an ink map (``load_image_scaled``) or read
(``Recognizer.read``, what ``POST /api/v1/read`` runs). Printed, as a markdown table: the peak growth
for each, how much of the read's peak was numpy arrays (tracemalloc, in one more process: Pillow's
image memory is not traced, so the rest is mostly Pillow's decoded image), the read's time, and a
fingerprint of what was read (text, boxes, confidences), to compare versions. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "samples" / "text" / "two-lines-2026-1121.png"  # read first: the model and code are warm
KINDS = ("rgb.png", "gray.png", "rgba.png", "palette.png", "page.jpg")
STAGES = ("decode", "ink map", "read")
PAPER, RULE, MARGIN, INK = (246, 244, 238), (150, 190, 230), (220, 120, 120), (26, 42, 108)


# --- the page ----------------------------------------------------------------------------------

def draw_page(width: int, height: int) -> Image.Image:
    """Lined paper with the sample lines and words pasted on it, two to a row, about 1/27 of the height tall."""
    page = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(page)
    spacing, pen = height // 21, max(1, width // 1440)
    for y in range(height // 9, height, spacing):
        draw.line([(0, y), (width, y)], fill=RULE, width=pen)
    draw.line([(width // 10, 0), (width // 10, height)], fill=MARGIN, width=pen)
    samples = sorted((REPO / "samples" / "text").glob("*.png")) + sorted((REPO / "samples" / "words").glob("*.png"))
    top = height // 13
    for index, path in enumerate(samples):
        writing = Image.open(path).convert("L")
        if writing.getpixel((0, 0)) > 128:  # dark ink on white: the ink is its inverse
            writing = ImageOps.invert(writing)
        scale = height / 27 / min(writing.height, 80)  # a line of text is taller than a word: sized by its characters
        writing = writing.resize((round(writing.width * scale), round(writing.height * scale)), Image.Resampling.LANCZOS)
        page.paste(Image.new("RGB", writing.size, INK), (width // 9 + (index % 2) * width * 5 // 12, top), writing)
        if index % 2:
            top += writing.height + spacing
    return page


def encode(page: Image.Image, kind: str) -> bytes:
    """The page as a file of ``kind`` (see KINDS)."""
    image = {"rgb.png": page, "gray.png": page.convert("L"), "rgba.png": page.convert("RGBA"),
             "palette.png": page.quantize(256), "page.jpg": page}[kind]
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG" if kind.endswith(".jpg") else "PNG", quality=90)
    return buffer.getvalue()


# --- one measurement (in a fresh process) --------------------------------------------------------

def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) / 1024


def measure(path: str, stage: str, model: str, numpy_only: bool) -> dict:
    """Peak growth (MB) of ``stage`` on the image at ``path``; with ``numpy_only``, tracemalloc's peak instead."""
    from inkread import Recognizer
    from inkread.imaging.decode import load_image_scaled, open_image

    reader = Recognizer.load(model, threads=1)
    reader.read(SMALL)
    data = Path(path).read_bytes()
    run = {"decode": open_image, "ink map": load_image_scaled, "read": reader.read}[stage]
    if numpy_only:
        tracemalloc.start()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets the peak (VmHWM) to the current resident size
    before = _status_mb("VmRSS")
    start = time.perf_counter()
    result = run(data)
    seconds = time.perf_counter() - start
    if numpy_only:
        return {"numpy_mb": tracemalloc.get_traced_memory()[1] / 2**20}
    answer = {"peak_mb": _status_mb("VmHWM") - before, "seconds": seconds}
    if stage == "read":
        reading = json.dumps(result.to_dict(), sort_keys=True)
        answer.update(text=result.text, fingerprint=hashlib.sha256(reading.encode()).hexdigest()[:12])
    return answer


def measure_in_child(path: Path, stage: str, model: str, numpy_only: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", str(path), "--stage", stage, "--model", model]
    output = subprocess.run(command + (["--numpy"] if numpy_only else []), check=True, capture_output=True, text=True)
    return json.loads(output.stdout)


# --- the table ---------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=7200)
    parser.add_argument("--height", type=int, default=5400)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated: {', '.join(KINDS)}")
    parser.add_argument("--model", default="digits")
    parser.add_argument("--keep", type=Path, help="a folder to keep the page files in")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one measurement, in this (fresh) process
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--numpy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.stage, args.model, args.numpy)))
        return 0
    kinds = [kind for kind in args.kinds.split(",") if kind]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown --kinds {', '.join(unknown)}: use {', '.join(KINDS)}")
    page = draw_page(args.width, args.height)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="inkread-large-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{args.width}x{args.height} page ({args.width * args.height / 1e6:.0f} MP), model {args.model}; "
          "peak resident memory growth, MB\n")
    print("| file | size | decode | ink map | read | of it numpy | read time | text read | fingerprint |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        path = folder / kind
        path.write_bytes(encode(page, kind))
        peaks = {stage: measure_in_child(path, stage, args.model) for stage in STAGES}
        numpy_mb = measure_in_child(path, "read", args.model, numpy_only=True)["numpy_mb"]
        read = peaks["read"]
        text = read["text"].replace("\n", " / ")
        print(f"| {kind} | {path.stat().st_size / 2**20:.1f} MB | {peaks['decode']['peak_mb']:.0f} | "
              f"{peaks['ink map']['peak_mb']:.0f} | {read['peak_mb']:.0f} | {numpy_mb:.0f} | {read['seconds']:.2f} s | "
              f"{text[:40]}{'...' if len(text) > 40 else ''} | {read['fingerprint']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
