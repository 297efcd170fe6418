"""Small writing in a large photo: is it read as well as the same writing photographed close up?

    python benchmarks/small_writing.py [--data ../shared/datasets] [--lines 40] [--heights 24,36,48,72,120]
                                       [--photo 4000x3000] [--paper plain|dotted]

Real handwriting that is not from MNIST/EMNIST, set on a photo of plain paper (light grey, an uneven
light, sensor noise, saved as a JPEG of quality 90) at a random place, at each height in pixels of
the photo: lines of three UNIPEN tablet words, read with ``LineReader.read(only="letters")`` (the
shipped ``lines`` model), and three-digit numbers of hwd1000 canvas digits, read with
``Recognizer.read`` (the shipped ``digits`` model, what ``inkread read`` runs). Every image is read at
about 0.8 megapixels first (``decode.WORK_PIXELS``): at 4000x3000, writing 48 px tall is 12 px there.
Reported per height: the character error rate of the lines (spaces counted) and the share of numbers
read exactly, with the seconds per image. A "close up" row reads the same lines and numbers as
images of their own (no reduction) as the reference. ``--paper dotted`` prints a bullet journal's grey
dot grid on the paper, a step as far apart as the writing is tall (5 mm for writing 5 mm tall), each dot
a twelfth of that across (at least 2 px), in the close-up images too. Deterministic (seed 0);
evaluation data only.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from inkread import Recognizer
from inkread.errors import InkreadError
from inkread.evaluation.text import character_error_rate
from inkread.inference.line_reader import LineReader
from shared_sets import DEFAULT_DATA, load_set, photo_size, print_report
from sloped_lines import WORDS_PER_LINE, compose, plain

DIGITS_PER_NUMBER = 3
SEED = 0


def number_image(paths: list[Path]) -> Image.Image:
    """Digit images cut to their ink, set side by side half their height apart, on white."""
    digits = []
    for path in paths:
        image = Image.open(path).convert("L")
        box = Image.eval(image, lambda v: 255 - v).getbbox() or (0, 0, image.width, image.height)
        digits.append(image.crop(box))
    height = max(digit.height for digit in digits)
    gap = height // 2  # margins half its height, as ``compose`` gives the lines
    line = Image.new("L", (sum(d.width for d in digits) + gap * (len(digits) + 1), height + 2 * gap), 255)
    x = gap
    for digit in digits:
        line.paste(digit, (x, gap + height - digit.height))  # on one base line
        x += digit.width + gap
    return line


def dot_grid(shape: tuple[int, int], step: float) -> np.ndarray:
    """How dark (0..1) a grey dot grid ``step`` px apart makes each pixel of a ``shape`` page: dots a twelfth
    of a step (at least 2 px) across, 45% darker than the paper at their centres."""
    radius = max(1.0, step / 24)
    rows, columns = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    distance = np.hypot((rows - step / 3) % step - step / 2, (columns - step / 5) % step - step / 2)
    return 0.45 * np.clip(radius + 0.5 - distance, 0, 1)


def photo(writing: Image.Image, height: int, size: tuple[int, int], rng: np.random.Generator, dotted: bool = False) -> bytes:
    """``writing`` (dark on white, its margins half as tall as its writing) scaled so that its writing is
    ``height`` px tall, on a ``size`` photo of paper (with a dot grid if ``dotted``): JPEG bytes."""
    scale = height / (writing.height / 2)
    width, height = max(1, round(writing.width * scale)), max(1, round(writing.height * scale))
    if width >= size[0] or height >= size[1]:
        raise InkreadError(f"a line {width}x{height} px does not fit on a {size[0]}x{size[1]} photo: "
                           "choose smaller --heights or a larger --photo")
    ink = 1.0 - np.asarray(writing.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32) / 255
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 0.85 + 0.1 * (xx / w) + 0.05 * (yy / h)  # brighter towards one corner
    page = 235.0 * light + rng.normal(0, 3, (h, w)).astype(np.float32)
    if dotted:
        page *= 1 - dot_grid((h, w), height)
    x0, y0 = int(rng.integers(0, w - width)), int(rng.integers(0, h - height))
    region = page[y0:y0 + height, x0:x0 + width]
    page[y0:y0 + height, x0:x0 + width] = region * (1 - 0.8 * np.clip(ink, 0, 1))
    out = io.BytesIO()
    Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=90)
    return out.getvalue()


def on_dotted_paper(writing: Image.Image) -> np.ndarray:
    """``writing`` (dark on white) printed over a dot grid a step as far apart as its writing is tall."""
    page = np.asarray(writing.convert("L"), np.float32)
    return (page * (1 - dot_grid(page.shape, writing.height / 2))).astype(np.uint8)


def run(data: Path, count: int, heights: list[int], size: tuple[int, int], dotted: bool = False) -> str:
    """Read each line and number at each height; a markdown table."""
    paths, labels = load_set(data, "unipen_words")
    words = [(path, label) for path, label in zip(paths, labels) if label.isalpha()]
    groups = [words[k:k + WORDS_PER_LINE] for k in range(0, WORDS_PER_LINE * count, WORDS_PER_LINE)]
    lines = [(compose([path for path, _ in group]), plain(" ".join(label for _, label in group)))
             for group in groups if len(group) == WORDS_PER_LINE]
    digit_paths, digit_labels = load_set(data, "hwd1000")
    rng = np.random.default_rng(SEED)
    picks = [rng.choice(len(digit_paths), DIGITS_PER_NUMBER, replace=False) for _ in range(count)]
    numbers = [(number_image([digit_paths[i] for i in pick]), "".join(digit_labels[i] for i in pick)) for pick in picks]
    line_reader, digit_reader = LineReader.load("lines"), Recognizer.load("digits")

    def measure(render) -> tuple[float, float, float]:
        line_images, number_images = [render(image) for image, _ in lines], [render(image) for image, _ in numbers]
        started = time.perf_counter()
        answers = [plain(line_reader.read(image, only="letters").text.replace("\n", " ")) for image in line_images]
        exact = sum(digit_reader.read(image).text.replace(" ", "") == truth for image, (_, truth) in zip(number_images, numbers))
        seconds = (time.perf_counter() - started) / (len(lines) + len(numbers))
        return character_error_rate(answers, [truth for _, truth in lines]), exact / len(numbers), seconds

    rows = ["| writing height (px) | in the 0.8 MP image (px) | lines: character error rate | numbers: exact | s per image |",
            "|---|---|---|---|---|"]
    cer, exact, seconds = measure(lambda image: on_dotted_paper(image) if dotted else np.asarray(image))
    rows.append(f"| close up | - | {cer:.1%} | {exact:.0%} | {seconds:.3f} |")
    reduction = (1024 * 768 / (size[0] * size[1])) ** 0.5
    for height in heights:
        photo_rng = np.random.default_rng(SEED + height)
        cer, exact, seconds = measure(lambda image: photo(image, height, size, photo_rng, dotted))
        rows.append(f"| {height} | {height * reduction:.0f} | {cer:.1%} | {exact:.0%} | {seconds:.3f} |")
    return (f"{len(lines)} lines of {WORDS_PER_LINE} UNIPEN words (`lines`, only=\"letters\") and {len(numbers)} numbers of "
            f"{DIGITS_PER_NUMBER} hwd1000 digits (`digits`), on a {size[0]}x{size[1]} photo"
            f"{' of dotted paper' if dotted else ''}\n\n" + "\n".join(rows))


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--lines", type=int, default=40, help="lines of three words, and numbers, to compose")
    parser.add_argument("--heights", default="24,36,48,72,120", help="comma-separated writing heights in photo pixels")
    parser.add_argument("--photo", default="4000x3000", help="the photo's size, WIDTHxHEIGHT")
    parser.add_argument("--paper", choices=["plain", "dotted"], default="plain", help="plain paper, or a grey dot grid on it")
    args = parser.parse_args(argv)

    def report() -> str:
        size = photo_size(args.photo)
        try:
            heights = [int(height) for height in args.heights.split(",") if height.strip()]
        except ValueError:
            heights = []
        if not heights or min(heights) < 4:
            raise InkreadError("--heights must be whole numbers of at least 4 px, as 24,48")
        return run(args.data, args.lines, heights, size, args.paper == "dotted")

    return print_report("small_writing", report)


if __name__ == "__main__":
    sys.exit(main())
