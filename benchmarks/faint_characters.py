"""Is a digit written fainter than its neighbours read (a pencil digit beside pen ones, a light hand)?

    python benchmarks/faint_characters.py [--sets mnist,hwd1000,unipen_digits] [--strings 100]

Strings of three random digits from a set of single-digit images (80 px tall, 0.2 heights apart)
are set on grey paper (level 240, ink 220 levels darker), one digit of each (at random) written
with a share of the others' darkness: 1 (all alike), 0.5, 0.35, 0.25, 0.18. As a scan (clean paper)
and as a photo (lit from the left, 20% darker at the right, paper grain of sigma 6 levels, JPEG
quality 85). Each is read with ``Recognizer.read(only="digits")``; reported: strings read exactly
(spaces ignored). A last column writes the digit at 0.06, about 5% darker than the paper, as writing
shows through from the back of a page: there, the right answer is the two others alone.
``mnist`` (the MNIST test split) is for development; ``hwd1000`` and ``unipen_digits`` are for evaluation.
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from inkread.inference.recognizer import Recognizer
from shared_sets import digit_strings_main
from touching_digits import compose, digit_images, to_height

DIGITS_PER_STRING = 3
GAP = 0.2  # digit heights between neighbours
SHARES = (1.0, 0.5, 0.35, 0.25, 0.18)  # the faint digit's darkness, as a share of the others'
SHOW_THROUGH = 0.06
PAPER, INK = 240.0, 220.0  # paper level, and how much darker the bold ink is
GRAIN = 6.0  # the photo's paper grain (sigma, levels)
LIGHT_FALLOFF = 0.2  # the photo's light falls off by this share from left to right


def page(glyphs: list[np.ndarray], faint: int, share: float, photo: bool, seed: int) -> Image.Image:
    """The glyphs side by side on grey paper, glyph ``faint`` written ``share`` as dark; as a scan or a JPEG photo."""
    ink = 1.0 - compose([g * (share if k == faint else 1.0) for k, g in enumerate(glyphs)], GAP)
    gray = PAPER - INK * ink
    if not photo:
        return Image.fromarray(np.clip(np.rint(gray), 0, 255).astype(np.uint8))
    gray *= np.linspace(1.0, 1.0 - LIGHT_FALLOFF, gray.shape[1])[None, :]  # lit from the left
    gray += np.random.default_rng(seed).normal(0.0, GRAIN, gray.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(gray), 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    return Image.open(io.BytesIO(buffer.getvalue()))


def run(sets: list[str], data: Path, strings: int, model: str) -> str:
    """Read the strings at every share, as scans and as photos; a markdown table."""
    reader = Recognizer.load(model)
    columns = [f"faint x{share:g}" for share in SHARES] + [f"show-through x{SHOW_THROUGH:g} (left out)"]
    lines = [f"Strings of {DIGITS_PER_STRING} digits, one written fainter, {strings} per cell, "
             "`read(only=\"digits\")`: strings read exactly (spaces ignored)", "",
             "| set | as | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for name in sets:
        rng = random.Random(0)  # the same strings in every run
        images, labels = digit_images(data, name, strings * DIGITS_PER_STRING, rng)
        glyphs = [to_height(image) for image in images]
        faint = [rng.randrange(DIGITS_PER_STRING) for _ in range(strings)]
        for photo in (False, True):
            counts = [0] * len(columns)
            for s in range(strings):
                k = slice(s * DIGITS_PER_STRING, (s + 1) * DIGITS_PER_STRING)
                text = "".join(labels[k])
                left = "".join(label for j, label in enumerate(labels[k]) if j != faint[s])
                for c, share in enumerate((*SHARES, SHOW_THROUGH)):
                    wanted = left if share == SHOW_THROUGH else text
                    got = reader.read(page(glyphs[k], faint[s], share, photo, seed=s), only="digits").text
                    counts[c] += got.replace(" ", "") == wanted
            lines.append(f"| {name} | {'photo' if photo else 'scan'} | "
                         + " | ".join(f"{100 * n / strings:.0f}%" for n in counts) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    return digit_strings_main("faint_characters.py", __doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
