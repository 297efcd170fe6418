"""Numbers written on the rules of lined paper: is a number read whose digits stand on a rule, or dip into it?

    python benchmarks/on_the_rule.py [--sets mnist,hwd1000,unipen_digits] [--strings 100] [--model digits]

Most people write on lined paper with the digits' feet on a rule, not between the rules. Four real
handwritten digits, 50 px tall and a tenth of their height apart, are set on a page of three light-blue rules
2 px thick, 65 px apart, in blue ink, with the bottom of the digits' boxes at ``OFFSETS`` px from the top of the
middle rule: -6 (clear above it), 0 (touching it), +1 and +2 (their feet in it), +4 (through it). Each number
is read with ``Recognizer.read(only="digits")`` (what ``inkread read --only digits`` runs) on three pages: a strip
of three rules as wide as the number (a clean PNG: the writing is most of the ink, the rules come out faint), a
page 800 px wide of nine rules (a clean PNG: the rules are most of the ink, as dark to the reader as the
writing), and that page as a photo (sensor noise of 3 levels, a 0.6 px blur, a JPEG of quality 80). Counted per
cell: numbers read exactly / read with a mark in them (a digit's cut-off foot taken for a full stop, a comma or a
hyphen).

Deterministic (the same digits for every offset and run); evaluation data only. About 3 minutes on one core.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image

from inkread import Recognizer
from noisy_photos import jpeg
from shared_sets import digit_strings_main
from touching_digits import digit_images, to_height

HEIGHT = 50  # pixels per digit
GAP = 0.1  # between neighbouring digits, in digit heights
DIGITS = 4
OFFSETS = (-6, 0, 1, 2, 4)  # the digits' bottom, in px below the top of the rule (negative: above it)
RULE_WIDTH, RULE_STEP = 2, 65
PAPER = np.array([246, 244, 238], np.float32)
RULE = np.array([160, 190, 235], np.float32)  # light-blue ruling
INK = np.array([30, 50, 160], np.float32)  # a blue ballpoint
NOISE = 3.0  # the photo's sensor noise (levels); its blur and JPEG are noisy_photos' (0.6 px, quality 80)
MARKS = ".,:-"
PAGES = {"strip, scan": (3, 0), "page, scan": (9, 800), "page, photo": (9, 800)}  # rules, least width


def lined_page(glyphs: list[np.ndarray], offset: int, rules: int = 3, min_width: int = 0) -> np.ndarray:
    """The page (float32 RGB) of ``rules`` rules, at least ``min_width`` px wide, with the digits side by side on
    the middle rule, their boxes' bottom ``offset`` px below its top."""
    gap = round(GAP * HEIGHT)
    width = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1)
    page = np.ones((rules * RULE_STEP + 20, max(width + 120, min_width), 3), np.float32) * PAPER
    rule_tops = [10 + RULE_STEP // 2 + k * RULE_STEP for k in range(rules)]
    for top in rule_tops:
        page[top:top + RULE_WIDTH] = RULE
    ink = np.zeros(page.shape[:2], np.float32)
    x, bottom = 60, rule_tops[rules // 2] + offset
    for glyph in glyphs:
        region = ink[bottom - glyph.shape[0]:bottom, x:x + glyph.shape[1]]
        np.maximum(region, np.clip(glyph, 0, 1), out=region)
        x += glyph.shape[1] + gap
    cover = ink[..., None]
    return page * (1 - cover) + INK * cover


def scan(page: np.ndarray) -> Image.Image:
    """The page as a clean scan."""
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))


def photo(page: np.ndarray, rng: np.random.Generator) -> bytes:
    """The page as a phone photo: sensor noise, then the lens's blur and a JPEG (``noisy_photos.jpeg``)."""
    return jpeg(page + NOISE * rng.standard_normal(page.shape[:2], dtype=np.float32)[..., None])


def run(sets: list[str], data: Path, strings: int, model: str) -> str:
    """Read every set's numbers at every offset, as scans and as photos; a markdown table."""
    recognizer = Recognizer.load(model)
    lines = [f"Model {model!r}, {DIGITS} digits {HEIGHT} px tall on a {RULE_WIDTH} px rule, {strings} numbers per cell, "
             "`read(only=\"digits\")`: read exactly / with a stray mark", "",
             "| set | page | " + " | ".join(_offset_name(offset) for offset in OFFSETS) + " |",
             "|---|---|" + "---|" * len(OFFSETS)]
    for name in sets:
        images, labels = digit_images(data, name, strings * DIGITS, random.Random(0))
        glyphs = [to_height(image, HEIGHT) for image in images]
        for kind in PAGES:
            cells = []
            for offset in OFFSETS:
                rng = np.random.default_rng(offset + 100)
                right = marked = 0
                for s in range(strings):
                    chosen = range(s * DIGITS, (s + 1) * DIGITS)
                    page = lined_page([glyphs[i] for i in chosen], offset, *PAGES[kind])
                    text = recognizer.read(photo(page, rng) if "photo" in kind else scan(page), only="digits").text
                    right += text == "".join(labels[i] for i in chosen)
                    marked += any(mark in text for mark in MARKS)
                cells.append(f"{right / strings:.0%} / {marked / strings:.0%}")
            lines.append(f"| {name} | {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _offset_name(offset: int) -> str:
    if offset < 0:
        return f"{-offset} px above the rule"
    if offset == 0:
        return "on the rule"
    return f"{offset} px into it" if offset <= RULE_WIDTH else f"{offset} px: through it"


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    return digit_strings_main("on_the_rule", __doc__.split("\n")[0], run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
