"""Synthetic lines written in handwriting fonts: the joined-up letter shapes EMNIST has not got.

EMNIST's characters were written apart, in boxes, so the line reader trained on them alone learns
printed letters put side by side (``data/lines.py``). Real joined-up writing has other letter forms
(a looped l, a cursive r, an s that leans into the next letter). Handwriting and script fonts (Dancing
Script, Kristi, Ecolier, Kaushan Script, ... packaged by Debian, see FONT_PACKAGES) have them, joined
as a pen joins them. A font line is the text drawn in one font at a random size and word spacing,
then bent by a smooth random warp (Pillow's mesh transform) so that no two lines of a font are alike,
and normalized as a user's image is (``normalize_line``).
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inkread.errors import DatasetError
from inkread.imaging.line import normalize_line

# Debian's handwriting and script fonts (`apt-get install` these; scripts/setup.sh does) and where each puts its files.
FONT_FOLDERS = {
    "fonts-dancingscript": "/usr/share/fonts/opentype/dancingscript", "fonts-kristi": "/usr/share/fonts/truetype/kristi",
    "fonts-ecolier-court": "/usr/share/fonts/truetype/ecolier-court",
    "fonts-kaushanscript": "/usr/share/fonts/opentype/kaushanscript",
    "fonts-dkg-handwriting": "/usr/share/fonts/truetype/fifthhorseman", "fonts-breip": "/usr/share/fonts/truetype/breip",
    "fonts-bwht": "/usr/share/fonts/opentype/bwht", "fonts-femkeklaver": "/usr/share/fonts/truetype/femkeklaver",
    "fonts-humor-sans": "/usr/share/fonts/truetype/humor-sans", "fonts-comic-neue": "/usr/share/fonts/opentype/comic-neue",
    "fonts-klee": "/usr/share/fonts/truetype/klee",
}
FONT_PACKAGES = tuple(FONT_FOLDERS)
FONT_SUFFIXES = (".ttf", ".otf")
FONT_SIZE = (32, 52)  # pixels; the line is scaled to the model's height afterwards, so this sets the detail
WARP = 0.06  # the mesh's corners move by up to this share of the line's height


def find_fonts(folder: str | os.PathLike | None = None) -> list[Path]:
    """The font files (.ttf, .otf) below ``folder``, or below the system's handwriting-font folders (None)."""
    folders = [Path(folder)] if folder is not None else [Path(f) for f in FONT_FOLDERS.values()]
    if folder is not None and not Path(folder).is_dir():
        raise DatasetError(f"{folder} is not a folder: give a folder of .ttf or .otf handwriting fonts")
    return sorted(path for root in folders if root.is_dir() for path in root.rglob("*")
                  if path.suffix.lower() in FONT_SUFFIXES and path.is_file())


def missing_fonts_message(folder: str | os.PathLike | None, left_out: list[str] | tuple[str, ...] = ()) -> str:
    """What to do when no handwriting fonts are found (``left_out``: the names of fonts found that lack most of the
    characters lines are written with)."""
    where = f"in {folder}" if folder is not None else "on this machine"
    found = "no handwriting fonts (.ttf, .otf) found"
    if left_out:  # "none found" beside a folder of fonts sent the user looking for a typo
        shown = ", ".join(left_out[:3]) + (f" and {len(left_out) - 3} more" if len(left_out) > 3 else "")
        found = f"no font {where} has half the letters, digits and marks lines are written with ({shown}: left out)"
        where = ""
    return (f"{found}{' ' + where if where else ''}: install Debian's handwriting fonts (apt-get install "
            f"{' '.join(FONT_PACKAGES)}), give a folder of your own with --fonts DIR, or train on EMNIST lines only "
            "with --font-share 0")


class FontBank:
    """Handwriting fonts and the characters each one has, to write lines with."""

    def __init__(self, files: list[Path], charset: str):
        from fontTools.ttLib import TTFont, TTLibError

        # fontTools logs harmless quirks of real fonts ("1 extra bytes in post.stringData array"): not the user's business
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        self.fonts: list[tuple[str, frozenset[str]]] = []
        self.left_out: list[str] = []  # the names of fonts that lack most of ``charset``
        for path in files:
            try:
                with TTFont(path, fontNumber=0, lazy=True) as font:
                    mapped = font.getBestCmap() or {}
            except (TTLibError, OSError, ValueError, KeyError, AssertionError) as error:
                raise DatasetError(f"{path} is not a font fontTools can read ({error}): remove it from the fonts folder") from None
            try:  # what draws the lines: a font fontTools reads may still be one FreeType refuses ("broken table"),
                _font(str(path), FONT_SIZE[0])  # which failed mid-training, in a data loader's worker
            except OSError as error:
                raise DatasetError(f"{path} is not a font FreeType can open ({error}): remove it from the fonts folder") from None
            covered = frozenset(char for char in charset if ord(char) in mapped)
            if len(covered) > len(charset) // 2:  # a symbol or non-Latin font has nothing to teach here
                self.fonts.append((str(path), covered))
            else:
                self.left_out.append(Path(path).name)

    @property
    def names(self) -> list[str]:
        """The fonts' file names, for the model's training record."""
        return [Path(path).name for path, _ in self.fonts]

    def pick(self, text: str, rng: np.random.Generator) -> str | None:
        """A random font that has every character of ``text``, or None."""
        needed = set(text) - {" "}
        fitting = [path for path, covered in self.fonts if needed <= covered]
        return fitting[int(rng.integers(len(fitting)))] if fitting else None


def compose_font_line(text: str, bank: FontBank, rng: np.random.Generator) -> np.ndarray | None:
    """The normalized line image (float32, LINE_HEIGHT x W) of ``text`` in one of ``bank``'s fonts; None if none has it."""
    path = bank.pick(text, rng)
    if path is None:
        return None
    size = int(rng.integers(*FONT_SIZE))
    font = _font(path, size)
    words = text.split(" ")
    space = font.getlength(" ")
    gaps = [int(space * rng.uniform(0.7, 1.6)) for _ in words[1:]]
    width = int(sum(font.getlength(word) for word in words) + sum(gaps)) + 2 * size
    ascent, descent = font.getmetrics()
    canvas = Image.new("L", (width, ascent + descent + size), 0)
    draw = ImageDraw.Draw(canvas)
    x = size
    for k, word in enumerate(words):
        draw.text((x, size // 2), word, font=font, fill=255)
        x += int(font.getlength(word)) + (gaps[k] if k < len(gaps) else 0)
    warped = np.asarray(_warp(canvas, rng, rng.uniform(0.0, WARP)), np.float32) / 255.0
    if warped.max(initial=0.0) <= 0.0:
        return None
    return normalize_line(warped)


@lru_cache(maxsize=None)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A loaded font (kept: a worker draws thousands of lines in a few dozen fonts and sizes)."""
    return ImageFont.truetype(path, size)


def _warp(image: Image.Image, rng: np.random.Generator, amount: float) -> Image.Image:
    """``image`` bent smoothly: a mesh of cells about a third of its height, each corner moved at random by up
    to ``amount`` x its height, each cell mapped from its moved corners (Pillow's MESH transform)."""
    width, height = image.size
    step = max(4, height // 3)
    columns, rows = width // step + 1, height // step + 1
    xs, ys = np.linspace(0, width, columns + 1), np.linspace(0, height, rows + 1)
    moved = rng.uniform(-1, 1, (rows + 1, columns + 1, 2)) * amount * height
    mesh = []
    for r in range(rows):
        for c in range(columns):
            box = (int(xs[c]), int(ys[r]), int(xs[c + 1]), int(ys[r + 1]))
            corners = [(c, r), (c, r + 1), (c + 1, r + 1), (c + 1, r)]  # PIL's quad order: NW, SW, SE, NE
            quad = [value for cc, rr in corners for value in (xs[cc] + moved[rr, cc, 0], ys[rr] + moved[rr, cc, 1])]
            mesh.append((box, quad))
    return image.transform(image.size, Image.Transform.MESH, mesh, resample=Image.Resampling.BILINEAR)
