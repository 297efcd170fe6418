"""Light ink on dark paper, and tight crops: does ``predict`` read them as it reads dark ink on light?

    python benchmarks/polarity.py [--data ../shared/datasets] [--limit 300] [--mode read] [--skip 300]

Each image of a real-handwriting set is made dark ink on light paper (semeion and optdigits come as
ink = 1 bitmaps), then shown to the shipped digits model in three cuts, each in both polarities:
"whole" (as the set has it), "tight" (cropped to the ink and enlarged 3x: the ink touches every
side) and "tight, bold" (the same with strokes thickened by 6 px, until they cover about half of
the crop, where polarity is ambiguous even to a person). Accuracy per cell; a model that reads
polarity perfectly gets the same figure in both columns of a row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from inkread.errors import InkreadError
from inkread.inference.recognizer import Recognizer
from shared_sets import DEFAULT_DATA, load_set, print_report

SETS = ("hwd1000", "optdigits_orig", "semeion", "unipen_digits")
CUTS = ("whole", "tight", "tight, bold")


def dark_on_light(path: Path) -> np.ndarray:
    """The image as uint8 gray, dark ink on light paper (inverted if most of its border is dark)."""
    gray = np.asarray(ImageOps.grayscale(Image.open(path)))
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255 - gray if np.mean(border < 128) > 0.5 else gray


def cuts(gray: np.ndarray) -> dict[str, np.ndarray]:
    """The three cuts of a dark-on-light image."""
    box = Image.fromarray(255 - gray).point(lambda v: 255 * (v > 60)).getbbox()
    tight = gray[box[1]:box[3], box[0]:box[2]] if box else gray
    enlarged = Image.fromarray(tight).resize((tight.shape[1] * 3, tight.shape[0] * 3))
    return {"whole": gray, "tight": np.asarray(enlarged), "tight, bold": np.asarray(enlarged.filter(ImageFilter.MinFilter(7)))}


def run(data: Path, limit: int, mode: str = "predict", skip: int = 0) -> str:
    """The table, as markdown; ``mode`` "read" reads each image as text (right: the text is the label)."""
    recognizer = Recognizer.load("digits")

    def labels_read(images: list[np.ndarray]) -> list[str | None]:
        if mode == "predict":
            return [answer.label for answer in recognizer.predict_batch(images, errors="return")]
        texts = []
        for image in images:
            try:
                texts.append(recognizer.read(image).text)
            except InkreadError:  # an image read as too many marks: counted as misread, the run goes on
                texts.append(None)
        return texts

    lines = ["| set | cut | images | dark ink on light | light ink on dark |", "|---|---|---|---|---|"]
    totals = {"dark": 0, "light": 0, "n": 0}
    for name in SETS:
        paths, labels = load_set(data, name, skip + limit)
        paths, labels = paths[skip:], labels[skip:]
        images = {cut: [] for cut in CUTS}
        for path in paths:
            for cut, image in cuts(dark_on_light(path)).items():
                images[cut].append(image)
        for cut in CUTS:
            right = {}
            for polarity, shown in (("dark", images[cut]), ("light", [255 - image for image in images[cut]])):
                right[polarity] = sum(read == label for read, label in zip(labels_read(shown), labels))
                totals[polarity] += right[polarity]
            totals["n"] += len(labels)
            lines.append(f"| {name} | {cut} | {len(labels)} | {100 * right['dark'] / len(labels):.1f}% | "
                         f"{100 * right['light'] / len(labels):.1f}% |")
    lines.append(f"| all | | {totals['n']} | {100 * totals['dark'] / totals['n']:.1f}% | "
                 f"{100 * totals['light'] / totals['n']:.1f}% |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--limit", type=int, default=300, help="images per set (the first of labels.csv)")
    parser.add_argument("--mode", choices=["predict", "read"], default="predict", help="inkread predict or inkread read")
    parser.add_argument("--skip", type=int, default=0,
                        help="start after this many images of each set (the thresholds were chosen on the first 300)")
    args = parser.parse_args()
    return print_report("polarity.py", lambda: run(args.data, args.limit, args.mode, args.skip))


if __name__ == "__main__":
    raise SystemExit(main())
