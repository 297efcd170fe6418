"""Numbers in noisy phone photos, and blank noisy photos: is a small clear number read, and blank paper left blank?

    python benchmarks/noisy_photos.py [--data ../shared/datasets] [--count 20] [--noises 0,2,3,5,8]
                                      [--heights 30,40,60] [--photos 3000x2000,4000x3000]
                                      [--pens hwd1000,unipen,marker] [--blanks 4]

Numbers: five digits side by side (a fifth of their height apart) at a random place on a photo of grey paper
(level 180), ink level 40, Gaussian sensor noise of sigma ``--noises`` (levels), a Gaussian blur of 0.6 px (the
lens), saved as a gray JPEG of quality 80, read with ``Recognizer.read`` (the shipped ``digits`` model, what
``inkread read`` runs). A digit is its data set's canvas scaled to ``--heights`` px: hwd1000 canvas digits (ink
about 2/3 of the canvas, a pen 8% of the ink's height: thin strokes, about 1 px at the 0.8 MP every photo is
first read at, ``decode.WORK_PIXELS``), UNIPEN tablet digits (ink 4/5 of the canvas, a pen 4% of it: thinner
still) and ``marker``: the UNIPEN digits drawn with a pen 3 times as wide. Counted per cell: numbers read
exactly, and read as nothing (empty text, what ``inkread read`` calls "nothing to read").

Blank photos: the same paper and noise with nothing, a few short thin scratches (dark, 0.3-0.8% of the
photo's longer side: shorter than the dust floor, ``imaging/ink.py``'s ``MIN_MARK``), paper fibres (long,
faint, curved) or a soft shadow across; ``--blanks`` photos per kind, size and noise. Counted: photos
read as anything but nothing. The report ends with the blank photos that were read, and what they read.

Deterministic (seeded per cell); evaluation data only. About 10 minutes on one core with the defaults.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from inkread import Recognizer
from inkread.errors import InkreadError
from shared_sets import DEFAULT_DATA, load_set, photo_size, print_report

PAPER, INK = 180.0, 40.0  # grey paper and a dark pen, as a phone sees them in room light
BLUR = 0.6  # the lens's softness (Gaussian sigma, photo pixels)
QUALITY = 80  # a phone's JPEG
DIGITS_PER_NUMBER = 5
MARKER_WIDEN = 9  # the marker pen: UNIPEN's 6 px pen (on its 128 px canvas) widened by a 9 px min filter, 3x as wide
PENS = {"hwd1000": "hwd1000", "unipen": "unipen_digits", "marker": "unipen_digits"}
BLANK_KINDS = ("plain", "scratches", "fibres", "shadow")
SEED = 0


class Photos:
    """Noisy paper of one size: one noise field drawn once, shifted for every photo (fast, and the same
    statistics as a fresh draw)."""

    def __init__(self, size: tuple[int, int], seed: int) -> None:
        self.size = size
        self.noise = np.random.default_rng(seed).standard_normal((size[1], size[0]), dtype=np.float32)

    def paper(self, sigma: float, rng: np.random.Generator) -> np.ndarray:
        """A float32 page of paper with noise of ``sigma`` levels (shifted by a random offset)."""
        shift = (int(rng.integers(self.size[1])), int(rng.integers(self.size[0])))
        return PAPER + sigma * np.roll(self.noise, shift, axis=(0, 1))


def jpeg(page: np.ndarray) -> bytes:
    """The page blurred by the lens and saved as a JPEG: its bytes."""
    image = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(BLUR))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def digit_cover(path: Path, pen: str, height: int) -> np.ndarray:
    """How much ink (0..1) covers each pixel of a digit's canvas scaled to ``height`` px."""
    image = Image.open(path).convert("L")
    if pen == "marker":
        image = image.filter(ImageFilter.MinFilter(MARKER_WIDEN))
    return 1.0 - np.asarray(image.resize((height, height), Image.Resampling.LANCZOS), np.float32) / 255.0


def number_photo(photos: Photos, covers: list[np.ndarray], sigma: float, rng: np.random.Generator) -> bytes:
    """Digits side by side at a random place of a noisy photo: JPEG bytes."""
    page = photos.paper(sigma, rng)
    height = covers[0].shape[0]
    step = height + height // 5
    width = step * len(covers)
    x0 = int(rng.integers(photos.size[0] // 10, photos.size[0] * 9 // 10 - width))
    y0 = int(rng.integers(photos.size[1] // 10, photos.size[1] * 9 // 10 - height))
    for k, cover in enumerate(np.clip(covers, 0, 1)):
        region = page[y0:y0 + height, x0 + k * step:x0 + k * step + height]
        region[:] = region * (1 - cover) + INK * cover
    return jpeg(page)


def stroke(page: np.ndarray, points: np.ndarray, width: float, darkness: float) -> None:
    """Draw a polyline of ``points`` (x, y) on ``page`` in place: ``darkness`` levels below it at its core,
    anti-aliased over ``width`` px."""
    x0, y0 = np.floor(points.min(axis=0) - width - 2).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + width + 2).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    rows, columns = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    distance = np.full(rows.shape, np.inf, np.float32)
    for (ax, ay), (bx, by) in zip(points[:-1], points[1:]):
        dx, dy = bx - ax, by - ay
        t = np.clip(((columns - ax) * dx + (rows - ay) * dy) / max(dx * dx + dy * dy, 1e-6), 0, 1)
        distance = np.minimum(distance, np.hypot(columns - ax - t * dx, rows - ay - t * dy))
    cover = np.clip(width / 2 + 0.5 - distance, 0, 1)
    page[y0:y1, x0:x1] -= darkness * cover[: page.shape[0] - y0, : page.shape[1] - x0]


def blank_photo(photos: Photos, kind: str, sigma: float, rng: np.random.Generator) -> bytes:
    """A photo of paper with nothing written on it: plain, scratched, with fibres or a soft shadow."""
    page = photos.paper(sigma, rng)
    w, h = photos.size
    side = max(w, h)
    if kind == "scratches":  # 2-4 short straight dark lines, 1-2 px wide
        for _ in range(int(rng.integers(2, 5))):
            start = rng.uniform((0.1 * w, 0.1 * h), (0.9 * w, 0.9 * h))
            angle, length = rng.uniform(0, np.pi), rng.uniform(0.003, 0.008) * side
            end = start + length * np.array([np.cos(angle), np.sin(angle)])
            stroke(page, np.array([start, end]), rng.uniform(1, 2), rng.uniform(60, 120))
    elif kind == "fibres":  # 3-6 long faint curved threads
        for _ in range(int(rng.integers(3, 7))):
            start = rng.uniform((0.1 * w, 0.1 * h), (0.9 * w, 0.9 * h))
            steps = rng.normal(0, 0.4, 8).cumsum() + rng.uniform(0, 2 * np.pi)
            segment = rng.uniform(0.002, 0.004) * side
            points = start + np.concatenate([[[0, 0]], segment * np.stack([np.cos(steps), np.sin(steps)], 1).cumsum(0)])
            stroke(page, points, rng.uniform(1, 2.5), rng.uniform(10, 25))
    elif kind == "shadow":  # a soft shadow 20-50 levels deep over one side, its edge at a slant
        rows, columns = np.mgrid[0:h, 0:w].astype(np.float32)
        edge = rng.uniform(0.3, 0.7) * w + rng.uniform(-0.4, 0.4) * (rows - h / 2)
        softness = rng.uniform(0.01, 0.05) * side
        page -= rng.uniform(20, 50) / (1 + np.exp(-(columns - edge) / softness))
    return jpeg(page)


def cells(names: str, parse) -> list:
    """A comma-separated option's values; InkreadError for none."""
    values = [parse(name.strip()) for name in names.split(",") if name.strip()]
    if not values:
        raise InkreadError(f"no values in {names!r}")
    return values


def number_rows(data: Path, count: int, noises: list[float], heights: list[int], sizes: list, pens: list[str],
                reader: Recognizer) -> list[str]:
    """One table row per pen, photo size and height: exact / read as nothing at each noise."""
    rows = ["| pen | photo | height (px) | " + " | ".join(f"sigma {s:g}: exact / nothing" for s in noises) + " |",
            "|---|---|---|" + "---|" * len(noises)]
    for size_index, size in enumerate(sizes):
        photos = Photos(size, SEED + size_index)
        for pen in pens:
            paths, labels = load_set(data, PENS[pen])
            for height in heights:
                cells_text = []
                for noise in noises:
                    rng = np.random.default_rng([SEED, size_index, heights.index(height), int(10 * noise)])
                    exact = empty = 0
                    for _ in range(count):
                        picks = rng.choice(len(paths), DIGITS_PER_NUMBER, replace=False)
                        covers = [digit_cover(paths[i], pen, height) for i in picks]
                        text = reader.read(number_photo(photos, covers, noise, rng)).text.replace(" ", "")
                        exact += text == "".join(labels[i] for i in picks)
                        empty += text == ""
                    cells_text.append(f"{exact}/{count} / {empty}")
                rows.append(f"| {pen} | {size[0]}x{size[1]} | {height} | " + " | ".join(cells_text) + " |")
    return rows


def blank_rows(blanks: int, noises: list[float], sizes: list, reader: Recognizer) -> list[str]:
    """One table row per kind of blank photo: photos read as something at each noise; then what was read."""
    rows = ["| blank photo | " + " | ".join(f"sigma {s:g}: read" for s in noises) + " |", "|---|" + "---|" * len(noises)]
    misread = []
    for kind_index, kind in enumerate(BLANK_KINDS):
        read = []
        for noise in noises:
            found = 0
            for size_index, size in enumerate(sizes):
                photos = Photos(size, SEED + size_index)
                rng = np.random.default_rng([SEED + 1, size_index, kind_index, int(10 * noise)])
                for k in range(blanks):
                    text = reader.read(blank_photo(photos, kind, noise, rng)).text
                    if text:
                        found += 1
                        misread.append(f"{kind}, {size[0]}x{size[1]}, sigma {noise:g}, #{k}: read {text!r}")
            read.append(f"{found}/{blanks * len(sizes)}")
        rows.append(f"| {kind} | " + " | ".join(read) + " |")
    return rows + [""] + (misread or ["no blank photo was read as anything"])


def run(data: Path, count: int, noises: list[float], heights: list[int], sizes: list, pens: list[str], blanks: int) -> str:
    """Both tables, as markdown."""
    reader = Recognizer.load("digits")
    numbers = number_rows(data, count, noises, heights, sizes, pens, reader) if count else []
    empty = blank_rows(blanks, noises, sizes, reader) if blanks else []
    return (f"Numbers of {DIGITS_PER_NUMBER} digits, ink {INK:g} on paper {PAPER:g}, blur {BLUR}, JPEG {QUALITY}: "
            f"exact / read as nothing, of {count} per cell\n\n" + "\n".join(numbers) +
            f"\n\nBlank photos ({blanks} per kind, size and noise): read as something\n\n" + "\n".join(empty))


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--count", type=int, default=20, help="numbers per cell (0: blank photos only)")
    parser.add_argument("--noises", default="0,2,3,5,8", help="comma-separated noise sigmas in levels")
    parser.add_argument("--heights", default="30,40,60", help="comma-separated digit heights in photo pixels")
    parser.add_argument("--photos", default="3000x2000,4000x3000", help="comma-separated photo sizes, WIDTHxHEIGHT")
    parser.add_argument("--pens", default="hwd1000,unipen,marker", help=f"comma-separated pens: {', '.join(PENS)}")
    parser.add_argument("--blanks", type=int, default=4, help="blank photos per kind, size and noise (0: none)")
    args = parser.parse_args(argv)

    def report() -> str:
        pens = cells(args.pens, str)
        if set(pens) - set(PENS):
            raise InkreadError(f"unknown pens {', '.join(sorted(set(pens) - set(PENS)))}: choose from {', '.join(PENS)}")
        try:
            noises, heights = cells(args.noises, float), cells(args.heights, int)
        except ValueError as error:
            raise InkreadError(f"--noises and --heights take numbers ({error})") from None
        if min(heights) < 8:
            raise InkreadError("--heights must be at least 8 px")
        return run(args.data, args.count, noises, heights, cells(args.photos, photo_size), pens, args.blanks)

    return print_report("noisy_photos", report)


if __name__ == "__main__":
    sys.exit(main())
