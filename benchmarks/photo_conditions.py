"""Benchmark: the shipped digits model on real handwriting rendered as phone photos and scans would show it.

    python benchmarks/photo_conditions.py [--data ../shared/datasets] [--out DIR] [--numbers 60] [--only TEXT...]

500 real handwritten digits (hwd1000 200, unipen 200, semeion 50, optdigits 50; seed 0) are drawn
about 110-150 px tall on a 320x320 page and rendered under one condition at a time (pen colour,
textured paper, uneven light, a shadow (soft, or hard-edged over ruled paper), ruled, squared or dotted paper, small in a large photo, blur, JPEG,
rotation, perspective, a page on a dark table, also running off a corner of the photo, chalk on a board in a
frame or on a wall, a black-and-white scan whose grays are dithered) and combined,
then read with ``Recognizer.predict_batch`` (what ``inkread predict`` runs); 60 three-digit numbers are
rendered the same way and read with ``read`` (exact text, and the character error rate).
The conditions are simulated on real handwriting, not real photos. Prints a table of accuracy per
condition and source; failure grids (the input beside what the model saw) go to --out.
Deterministic; no training; about 12 minutes on one core. Needs scipy (installed with inkread[train], by scikit-learn).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from inkread import Recognizer
from inkread.evaluation.text import character_error_rate
from inkread.imaging.decode import load_image

REPO = Path(__file__).resolve().parents[1]
OUT = Path("/tmp/inkread-photo-conditions")  # set from --out
DS = REPO.parent / "shared" / "datasets"       # set from --data
SEED = 0
N_PER_DIGIT = {"hwd1000": 20, "unipen": 20, "semeion": 5, "optdigits": 5}
N_NUMBERS = 60  # set from --numbers

PAPER = np.array([243, 239, 228], np.float32)       # off-white
INKS = {"blue": (0x1a, 0x2a, 0x6c), "pencil": (0x55, 0x55, 0x55), "red": (0xc0, 0x1e, 0x2a), "black": (20, 20, 20)}
RULE = np.array([150, 190, 230], np.float32)         # light blue ruling
DOT = np.array([150, 150, 150], np.float32)          # grey dots of dotted (bullet-journal) paper
BOARD = np.array([45, 62, 52], np.float32)           # a green chalkboard...
CHALK = np.array([228, 228, 220], np.float32)        # ...written on in chalk
FRAMES = {"wood": np.array([176, 134, 88], np.float32), "metal": np.array([196, 198, 202], np.float32)}
WALL = np.array([232, 228, 218], np.float32)


# ---------------------------------------------------------------------- data
def pick_samples(rng: random.Random):
    out = []
    hw = sorted(p.name for p in (DS / "hwd1000").glob("*.png"))
    un = sorted(p.name for p in (DS / "unipen_chars").glob("digit_*.png"))
    with open(DS / "semeion/labels.csv", newline="") as semeion, open(DS / "optdigits_orig/labels.csv", newline="") as optdigits:
        se = list(csv.DictReader(semeion))
        od = [r for r in csv.DictReader(optdigits) if "_tes_" in r["file"]]
    for d in range(10):
        for name in rng.sample([n for n in hw if n.startswith(f"{d}-")], N_PER_DIGIT["hwd1000"]):
            out.append(("hwd1000", DS / "hwd1000" / name, str(d)))
        for name in rng.sample([n for n in un if n.startswith(f"digit_{d}_")], N_PER_DIGIT["unipen"]):
            out.append(("unipen", DS / "unipen_chars" / name, str(d)))
        for r in rng.sample([r for r in se if r["label"] == str(d)], N_PER_DIGIT["semeion"]):
            out.append(("semeion", DS / "semeion" / r["file"], str(d)))
        for r in rng.sample([r for r in od if r["label"] == str(d)], N_PER_DIGIT["optdigits"]):
            out.append(("optdigits", DS / "optdigits_orig" / r["file"], str(d)))
    return out


def source_ink(path: Path) -> np.ndarray:
    """Ink map (1 = ink) cropped to the ink box; all sources are dark ink on white."""
    g = np.asarray(Image.open(path).convert("L"), np.float32) / 255.0
    ink = 1.0 - g
    ys, xs = np.nonzero(ink > 0.05)
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def scaled(ink: np.ndarray, height: float) -> np.ndarray:
    h, w = ink.shape
    s = height / h
    im = Image.fromarray(ink.astype(np.float32)).resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.BICUBIC)
    a = np.clip(np.asarray(im, np.float32), 0, 1)
    if s > 3:  # a bicubic blow-up of a tiny bitmap has soft ramps 's' px wide: re-sharpen like a pen edge
        a = np.clip((a - 0.5) * 2.5 + 0.5, 0, 1)
    return a


# ---------------------------------------------------------------------- rendering
class Scene:
    """Alpha layers in paper coordinates, then geometry, colour, light, noise, blur, JPEG."""

    def __init__(self, W, H, rng: np.random.Generator):
        self.W, self.H, self.rng = W, H, rng
        self.ink = np.zeros((H, W), np.float32)
        self.rules = np.zeros((H, W), np.float32)
        self.rule_colour = RULE

    def put(self, glyph, x, y):
        h, w = glyph.shape
        x, y = int(x), int(y)
        self.ink[y:y + h, x:x + w] = np.maximum(self.ink[y:y + h, x:x + w], glyph[: self.H - y, : self.W - x])

    def lined(self, step=30, squared=False, width=2):
        off = int(self.rng.integers(0, step))
        for y in range(off, self.H, step):
            self.rules[y:y + width] = 1.0
        if squared:
            for x in range(off, self.W, step):
                self.rules[:, x:x + width] = 1.0
        self.rules = ndimage.gaussian_filter(self.rules, 0.5) * 0.9

    def dotted(self, step=30, radius=1.0):
        """Grey printed dots every ``step`` pixels, each about 3 px across."""
        off_x, off_y = (int(v) for v in self.rng.integers(0, step, 2))
        dots = np.zeros((self.H, self.W), np.float32)
        dots[off_y::step, off_x::step] = 1.0
        dots = ndimage.gaussian_filter(dots, radius)
        self.rules = np.clip(dots / dots.max() * 1.6, 0, 1)
        self.rule_colour = DOT

    def render(self, ink_colour="black", paper=False, light=None, rotate=False, perspective=False,
               blur=0.0, jpeg=None, noise=0.0, pencil_grain=False, table=0.0, off_corner=False, board=None,
               halftone=False):
        rng = self.rng
        ink, rules = self.ink.copy(), self.rules.copy()
        if pencil_grain or board:  # chalk is grainy too
            grain = np.clip(rng.normal(0.8, 0.25, ink.shape), 0.2, 1.0).astype(np.float32)
            ink = ink * ndimage.gaussian_filter(grain, 0.7)
        if rotate or perspective:
            ink, rules = self._geom(ink, rules, rotate, perspective)
        paper_rgb = BOARD if board else PAPER if paper else np.array([255, 255, 255], np.float32)
        base = np.broadcast_to(paper_rgb, (self.H, self.W, 3)).astype(np.float32).copy()
        if paper:  # fibres / uneven paper: low-frequency + fine texture
            lo = ndimage.gaussian_filter(rng.normal(0, 1, (self.H, self.W)), 12)
            lo = lo / (lo.std() + 1e-6) * 4.0
            hi = ndimage.gaussian_filter(rng.normal(0, 1, (self.H, self.W)), 0.8) * 5.0
            base += (lo + hi)[..., None]
        if rules.any():
            base = base * (1 - rules[..., None]) + self.rule_colour * rules[..., None]
        c = CHALK if board else np.array(INKS[ink_colour], np.float32)
        img = base * (1 - ink[..., None]) + c * ink[..., None]
        if light is not None:
            img *= self._light(light)[..., None]
        if noise:
            img += rng.normal(0, noise, img.shape).astype(np.float32)
        if board in ("wood", "metal", "wall", "wall_turned"):
            img = self._framed(img, "wood" if board.startswith("wall") else board, wall=board.startswith("wall"),
                               turned=board == "wall_turned")
        im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
        if table:
            im = self._on_table(im, table, off_corner)
        if blur:
            im = im.filter(ImageFilter.GaussianBlur(blur))
        if jpeg:
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=jpeg)
            im = Image.open(io.BytesIO(buf.getvalue()))
            im.load()
        if halftone:  # a scanner's or fax's black-and-white mode: grays drawn as scattered dots (Floyd-Steinberg)
            im = im.convert("1")
        return im

    def _on_table(self, page: Image.Image, size: float, off_corner: bool = False) -> Image.Image:
        """The page lying on a dark wooden table, turned up to 6 degrees, in a photo ``size`` times as wide
        and as tall as the page (4:3 at least): at 2.2 the page covers a fifth of the photo or less. ``off_corner``:
        the page runs off one corner of the photo, 5-12% of it beyond each of the two edges."""
        rng = self.rng
        w, h = round(size * max(page.width, 0.75 * page.height * 4 / 3)), round(size * max(page.height, 0.75 * page.width))
        grain = ndimage.gaussian_filter(rng.normal(0, 1, (h, w)), (1, 12))  # wood: long grain along the rows
        wood = np.array([92, 68, 50], np.float32) + (grain / (grain.std() + 1e-6) * 8)[..., None]
        photo = Image.fromarray(np.clip(wood, 0, 255).astype(np.uint8), "RGB")
        turned = page.convert("RGBA").rotate(rng.uniform(-6, 6), Image.Resampling.BILINEAR, expand=True)
        x = int(rng.integers(0, w - turned.width + 1))
        y = int(rng.integers(0, h - turned.height + 1))
        if off_corner:
            cut_x, cut_y = (round(rng.uniform(0.05, 0.12) * side) for side in (turned.width, turned.height))
            x = -cut_x if rng.random() < 0.5 else w - turned.width + cut_x
            y = -cut_y if rng.random() < 0.5 else h - turned.height + cut_y
        photo.paste(turned, (x, y), turned)
        return photo

    def _framed(self, board: np.ndarray, frame: str, wall: bool = False, turned: bool = False) -> np.ndarray:
        """The board in a frame (wood, grained along its length, or brushed metal) 2-6% of its side wide, photographed
        with the frame cut off on one side now and then; ``wall``: with a light wall around, the board a half to
        two thirds of the photo's width; ``turned``: the framed board turned 8-20 degrees either way on the wall."""
        rng = self.rng
        h, w = board.shape[:2]
        f = max(3, round(rng.uniform(0.02, 0.06) * max(h, w)))
        grain = 18.0 if frame == "wood" else 5.0
        out = np.broadcast_to(FRAMES[frame], (h + 2 * f, w + 2 * f, 3)).copy()
        out[:f] += (ndimage.gaussian_filter(rng.normal(0, 1, (f, w + 2 * f)), (1, 12)) * grain * 3)[..., None]
        out[-f:] += (ndimage.gaussian_filter(rng.normal(0, 1, (f, w + 2 * f)), (1, 12)) * grain * 3)[..., None]
        out[:, :f] += (ndimage.gaussian_filter(rng.normal(0, 1, (h + 2 * f, f)), (12, 1)) * grain * 3)[..., None]
        out[:, -f:] += (ndimage.gaussian_filter(rng.normal(0, 1, (h + 2 * f, f)), (12, 1)) * grain * 3)[..., None]
        out[f:f + h, f:f + w] = board
        if wall:
            scale = rng.uniform(1.5, 2.0)
            W, H = round(scale * out.shape[1]), round(max(scale * out.shape[0], 0.75 * scale * out.shape[1]))
            photo = np.broadcast_to(WALL, (H, W, 3)).copy() + rng.normal(0, 3, (H, W, 1))
            if turned:
                angle = rng.uniform(8, 20) * rng.choice([-1, 1])
                board_image = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
                board_image = board_image.rotate(angle, Image.Resampling.BILINEAR, expand=True)
                scale = min(1.0, 0.95 * W / board_image.width, 0.95 * H / board_image.height)
                if scale < 1.0:
                    board_image = board_image.resize((round(board_image.width * scale), round(board_image.height * scale)))
                wall = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8), "RGB")
                wall.paste(board_image, (int(rng.integers(0, W - board_image.width + 1)),
                                         int(rng.integers(0, H - board_image.height + 1))), board_image)
                return np.asarray(wall, np.float32)
            y, x = int(rng.integers(0, H - out.shape[0] + 1)), int(rng.integers(0, W - out.shape[1] + 1))
            photo[y:y + out.shape[0], x:x + out.shape[1]] = out
            return photo
        if rng.random() < 0.3:  # the photo cuts the frame off on one side
            side = int(rng.integers(0, 4))
            out = [out[f:], out[:-f], out[:, f:], out[:, :-f]][side]
        return out

    def _light(self, kind):
        rng, H, W = self.rng, self.H, self.W
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        f = np.ones((H, W), np.float32)
        kinds = kind.split("+")
        if "linear" in kinds:
            a = rng.uniform(0, 2 * math.pi)
            t = (xx - W / 2) * math.cos(a) + (yy - H / 2) * math.sin(a)
            t = (t - t.min()) / (t.max() - t.min())
            f *= 1.0 - 0.5 * t                      # 100% -> 50% brightness across the image
        if "radial" in kinds:
            cx, cy = rng.uniform(0.3, 0.7) * W, rng.uniform(0.3, 0.7) * H
            r = np.hypot(xx - cx, yy - cy) / math.hypot(W, H)
            f *= 1.0 - 0.9 * r ** 1.5 * 1.6          # vignette, corners ~45-55%
        if "shadow" in kinds or "hardshadow" in kinds:  # a shadow (hand/phone) over part of the image:
            a = rng.uniform(0, 2 * math.pi)             # soft, or hard-edged and 25-45% darker
            d = (xx - W / 2) * math.cos(a) + (yy - H / 2) * math.sin(a)
            off = rng.uniform(-0.15, 0.15) * min(W, H)
            hard = "hardshadow" in kinds
            edge = (0.003 if hard else 0.04) * min(W, H)
            s = 1 / (1 + np.exp(-np.clip((d - off) / edge, -50, 50)))
            f *= 1.0 - (rng.uniform(0.25, 0.45) if hard else 0.45) * s
        return np.clip(f, 0.2, 1.0)

    def _geom(self, ink, rules, rotate, perspective):
        rng, W, H = self.rng, self.W, self.H
        src = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float64)
        dst = src.copy()
        if rotate:
            ang = math.radians(rng.uniform(-8, 8))
            c = np.array([W / 2, H / 2])
            R = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
            dst = (dst - c) @ R.T + c
        if perspective:
            dst = dst + rng.uniform(-0.08, 0.08, dst.shape) * [W, H]
        coeffs = _persp_coeffs(dst, src)  # maps output (dst) pixel -> input (src) pixel
        out = []
        for layer in (ink, rules):
            im = Image.fromarray(layer).transform((W, H), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
            out.append(np.asarray(im, np.float32))
        return out


def _persp_coeffs(out_pts, in_pts):
    A, b = [], []
    for (x, y), (u, v) in zip(out_pts, in_pts):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    return np.linalg.solve(np.array(A), np.array(b)).tolist()


# ---------------------------------------------------------------------- conditions (single digit)
CANVAS = (320, 320)
PHOTO = dict(ink_colour="blue", paper=True, light="linear+shadow", rotate=True, perspective=True, blur=1.0, jpeg=40, noise=4)

CONDITIONS = {
    # name: (scene setup, render kwargs)
    "render_black_white": ({}, dict()),
    "ink_blue_paper": ({}, dict(ink_colour="blue", paper=True, noise=4)),
    "ink_pencil_paper": ({}, dict(ink_colour="pencil", paper=True, noise=4, pencil_grain=True)),
    "ink_red_paper": ({}, dict(ink_colour="red", paper=True, noise=4)),
    "light_linear": ({}, dict(light="linear")),
    "light_radial": ({}, dict(light="radial")),
    "light_shadow": ({}, dict(light="shadow")),
    "lined_paper": ({"lined": 30}, dict()),
    "squared_paper": ({"squared": 30}, dict()),
    "small_in_1200x900": ({"small": True}, dict()),
    "small_1200x900_paper": ({"small": True}, dict(ink_colour="blue", paper=True, noise=4)),
    "fills_image": ({"fill": True}, dict()),
    "blur_1.2": ({}, dict(blur=1.2)),
    "jpeg_q40": ({}, dict(jpeg=40)),
    "rotate_8": ({}, dict(rotate=True)),
    "perspective": ({}, dict(perspective=True)),
    "combined_no_lines": ({}, PHOTO),
    "combined_lined": ({"lined": 30}, PHOTO),
    "combined_small_lined": ({"small": True, "lined": 30}, PHOTO),
    # disentangling: one degradation on textured paper (photo path) instead of exact-white paper (clean path)
    "paper+radial": ({}, dict(ink_colour="blue", paper=True, noise=4, light="radial")),
    "paper+shadow": ({}, dict(ink_colour="blue", paper=True, noise=4, light="shadow")),
    "paper+lined": ({"lined": 30}, dict(ink_colour="blue", paper=True, noise=4)),
    "paper+squared": ({"squared": 30}, dict(ink_colour="blue", paper=True, noise=4)),
    "combined_lined_no_shadow": ({"lined": 30}, {**PHOTO, "light": "linear"}),
    # the page lying on a dark table that fills most of the photo
    "page_on_table": ({}, dict(ink_colour="blue", paper=True, noise=4, table=2.2)),
    "page_on_table_photo": ({}, {**PHOTO, "rotate": False, "perspective": False, "table": 2.2}),
    "page_off_corner": ({}, dict(ink_colour="blue", paper=True, noise=4, table=2.2, off_corner=True)),
    "page_off_corner_close": ({}, dict(ink_colour="blue", paper=True, noise=4, table=1.5, off_corner=True)),
    "page_off_corner_photo": ({}, {**PHOTO, "rotate": False, "perspective": False, "table": 1.5, "off_corner": True}),
    # a hard-edged shadow (a phone's, held close) across ruled paper: the rules run from light into shade
    "lined_hard_shadow": ({"lined": 30}, dict(ink_colour="blue", paper=True, noise=4, light="hardshadow")),
    "small_lined_hard_shadow": ({"small": True, "lined": 60}, dict(ink_colour="blue", paper=True, noise=4, light="hardshadow", jpeg=75)),
    # dotted (bullet-journal) paper: grey dots on a square grid
    "dotted_paper": ({"dotted": 30}, dict()),
    "paper+dotted": ({"dotted": 30}, dict(ink_colour="blue", paper=True, noise=4)),
    "combined_dotted": ({"dotted": 30}, PHOTO),
    "small_dotted_1200x900": ({"small": True, "dotted": 40}, dict(ink_colour="blue", paper=True, noise=4, jpeg=75)),
    # the page filling the photo but for a strip of table (up to 7% of the photo each side: the page turned up to 6 degrees)
    "page_fills_photo": ({}, dict(ink_colour="blue", paper=True, noise=4, table=1.15)),
    # chalk on a green board: filling the photo, in a light wooden or metal frame, on a light wall (turned 8-20 degrees)
    "chalkboard": ({}, dict(board="plain", noise=4, light="linear", jpeg=75)),
    "chalkboard_wood_frame": ({}, dict(board="wood", noise=4, light="linear", jpeg=75)),
    "chalkboard_metal_frame": ({}, dict(board="metal", noise=4, light="linear", jpeg=75)),
    "chalkboard_on_wall": ({}, dict(board="wall", noise=4, light="linear", jpeg=75)),
    "chalkboard_turned_on_wall": ({}, dict(board="wall_turned", noise=4, light="linear", jpeg=75)),
    # scanned in black and white, grays dithered
    "halftone_pencil_paper": ({}, dict(ink_colour="pencil", paper=True, noise=4, pencil_grain=True, halftone=True)),
    "halftone_blur_2": ({}, dict(blur=2.0, halftone=True)),
    "halftone_light_linear": ({}, dict(light="linear", halftone=True)),
}


def make_digit_scene(glyph, setup, rng):
    if setup.get("small"):
        W, H = 1200, 900
        g = scaled(glyph, 40)
        sc = Scene(W, H, rng)
        sc.put(g, rng.integers(100, W - 100 - g.shape[1]), rng.integers(100, H - 100 - g.shape[0]))
    elif setup.get("fill"):
        g = scaled(glyph, 300)
        W, H = g.shape[1] + 8, g.shape[0] + 8
        sc = Scene(W, H, rng)
        sc.put(g, 4, 4)
    else:
        W, H = CANVAS
        g = scaled(glyph, rng.uniform(110, 150))
        sc = Scene(W, H, rng)
        sc.put(g, (W - g.shape[1]) // 2 + rng.integers(-20, 21), (H - g.shape[0]) // 2 + rng.integers(-20, 21))
    if "lined" in setup:
        sc.lined(setup["lined"])
    if "squared" in setup:
        sc.lined(setup["squared"], squared=True)
    if "dotted" in setup:
        sc.dotted(setup["dotted"])
    return sc


# ---------------------------------------------------------------------- grids
def tile(img: Image.Image, side=160):
    im = img.convert("RGB").copy()
    im.thumbnail((side, side))
    t = Image.new("RGB", (side, side), (128, 128, 128))
    t.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    return t


def save_grid(rows, path, side=160):
    """rows: list of (input PIL, preprocessed 28x28 or None, caption)."""
    if not rows:
        return
    n = len(rows)
    per_row = 2  # two examples per grid row
    grid_rows = math.ceil(n / per_row)
    canvas = Image.new("RGB", (per_row * 2 * side + (per_row - 1) * 12, grid_rows * (side + 18)), "white")
    d = ImageDraw.Draw(canvas)
    for i, (img, pre, cap) in enumerate(rows):
        r, c = divmod(i, per_row)
        x0, y0 = c * (2 * side + 12), r * (side + 18)
        canvas.paste(tile(img, side), (x0, y0))
        if isinstance(pre, Image.Image):
            canvas.paste(tile(pre, side), (x0 + side, y0))
        elif pre is not None:
            p = Image.fromarray((np.clip(pre, 0, 1) * 255).astype(np.uint8)).resize((side, side), Image.Resampling.NEAREST)
            canvas.paste(p.convert("RGB"), (x0 + side, y0))
        d.text((x0 + 2, y0 + side + 2), cap, fill="black")
    canvas.save(path)


# ---------------------------------------------------------------------- main
def main():
    global OUT, DS, N_NUMBERS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DS, help="the shared datasets folder")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for failure grids, examples and results.json")
    parser.add_argument("--numbers", type=int, default=N_NUMBERS, help="three-digit numbers to read per condition")
    parser.add_argument("--only", nargs="+", default=None, metavar="TEXT",
                        help="run only the conditions whose names hold one of these (each with the seed it has in a full run)")
    args = parser.parse_args()
    chosen = lambda name: args.only is None or any(text in name for text in args.only)  # noqa: E731
    OUT, DS, N_NUMBERS = args.out, args.data, args.numbers
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rng = random.Random(SEED)
    samples = pick_samples(rng)
    r = Recognizer.load("digits")
    results = {}
    fails_dir = OUT / "fails"
    fails_dir.mkdir(parents=True, exist_ok=True)
    (OUT / "examples").mkdir(exist_ok=True)

    # clean, as given
    preds = r.predict_batch([str(p) for _, p, _ in samples], errors="return")
    results["clean_as_given"] = [(s, y, pr.label) for (s, _, y), pr in zip(samples, preds)]
    bad = [(Image.open(p), pr.image, f"{s} true {y} got {pr.label!r}") for (s, p, y), pr in zip(samples, preds) if pr.label != y]
    save_grid(bad[:12], fails_dir / "clean_as_given.png")

    glyphs = [source_ink(p) for _, p, _ in samples]
    for ci, (name, (setup, kw)) in enumerate(CONDITIONS.items()):
        if not chosen(name):
            continue
        nrng = np.random.default_rng([SEED, ci])
        images = []
        for g in glyphs:
            sc = make_digit_scene(g, setup, nrng)
            images.append(sc.render(**kw))
        preds = r.predict_batch(images, errors="return")
        results[name] = [(s, y, pr.label) for (s, _, y), pr in zip(samples, preds)]
        bad = []
        for idx, ((s, p, y), pr, im) in enumerate(zip(samples, preds, images)):
            if pr.label != y:
                bad.append((im, pr.image if pr.label else None, f"#{idx} {s} {y}->{pr.label!r} {pr.confidence:.2f}"))
        # spread the failures over sources
        bad.sort(key=lambda b: b[2].split()[1])
        pick = bad[:: max(1, len(bad) // 12)][:12]
        save_grid(pick, fails_dir / f"{name}.png")
        images[0].save(OUT / "examples" / f"{name}_0.png")
        images[200].save(OUT / "examples" / f"{name}_200.png")
        acc = np.mean([y == l for _, y, l in results[name]])
        print(f"{name:28s} acc {acc:.3f}  ({time.time() - t0:.0f}s)", flush=True)

    # ---- three-digit numbers on a line, read --model digits
    un = sorted(p for p in (DS / "unipen_chars").glob("digit_*.png"))
    hw = sorted((DS / "hwd1000").glob("*.png"))
    nr = random.Random(SEED + 1)
    numbers = []
    for i in range(N_NUMBERS):
        pool = un if i % 2 == 0 else hw
        files = nr.sample(pool, 3)
        label = "".join((f.name.split("_")[1] if pool is un else f.name[0]) for f in files)
        numbers.append(("unipen" if pool is un else "hwd1000", files, label))
    NUM_CONDS = {
        "num_render_black_white": ({}, dict()),
        "num_ink_blue_paper": ({}, dict(ink_colour="blue", paper=True, noise=4)),
        "num_pencil_paper": ({}, dict(ink_colour="pencil", paper=True, noise=4, pencil_grain=True)),
        "num_light_linear+shadow": ({}, dict(light="linear+shadow")),
        "num_lined_paper": ({"lined": 30}, dict()),
        "num_blur_jpeg": ({}, dict(blur=1.0, jpeg=40)),
        "num_rotate_persp": ({}, dict(rotate=True, perspective=True)),
        "num_small_in_1200x900": ({"small": True}, dict()),
        "num_combined_no_lines": ({}, PHOTO),
        "num_combined_lined": ({"lined": 30}, PHOTO),
        "num_paper+shadow": ({}, dict(ink_colour="blue", paper=True, noise=4, light="shadow")),
        "num_combined_lined_no_shadow": ({"lined": 30}, {**PHOTO, "light": "linear"}),
        "num_small_1200x900_paper": ({"small": True}, dict(ink_colour="blue", paper=True, noise=4)),
        "num_page_on_table": ({}, dict(ink_colour="blue", paper=True, noise=4, table=2.2)),
        "num_lined_hard_shadow": ({"lined": 30}, dict(ink_colour="blue", paper=True, noise=4, light="hardshadow")),
        "num_small_lined_hard_shadow": ({"small": True, "lined": 60}, dict(ink_colour="blue", paper=True, noise=4, light="hardshadow", jpeg=75)),
        "num_dotted_paper": ({"dotted": 30}, dict(ink_colour="blue", paper=True, noise=4)),
        "num_combined_dotted": ({"dotted": 30}, PHOTO),
        "num_small_dotted": ({"small": True, "dotted": 40}, dict(ink_colour="blue", paper=True, noise=4, jpeg=75)),
        "num_page_fills_photo": ({}, dict(ink_colour="blue", paper=True, noise=4, table=1.15)),
        "num_chalkboard": ({}, dict(board="plain", noise=4, light="linear", jpeg=75)),
        "num_chalkboard_wood_frame": ({}, dict(board="wood", noise=4, light="linear", jpeg=75)),
        "num_chalkboard_on_wall": ({}, dict(board="wall", noise=4, light="linear", jpeg=75)),
        "num_chalkboard_turned_on_wall": ({}, dict(board="wall_turned", noise=4, light="linear", jpeg=75)),
        "num_halftone_pencil_paper": ({}, dict(ink_colour="pencil", paper=True, noise=4, pencil_grain=True, halftone=True)),
        "num_halftone_blur_2": ({}, dict(blur=2.0, halftone=True)),
        "num_halftone_light_linear": ({}, dict(light="linear", halftone=True)),
    }
    for ci, (name, (setup, kw)) in enumerate(NUM_CONDS.items()):
        if not chosen(name):
            continue
        nrng = np.random.default_rng([SEED, 100 + ci])
        rows, bad = [], []
        for src, files, label in numbers:
            h = 40 if setup.get("small") else nrng.uniform(70, 100)
            gl = [scaled(source_ink(f), h) for f in files]
            gap = max(6, int(h * nrng.uniform(0.2, 0.4)))
            if setup.get("small"):
                W, H = 1200, 900
            else:
                W, H = sum(g.shape[1] for g in gl) + 2 * gap + 120, int(h * 2.4)
            sc = Scene(W, H, nrng)
            x = nrng.integers(40, W - (sum(g.shape[1] for g in gl) + 2 * gap) - 40 + 1)
            y0 = nrng.integers(int(0.3 * H), H - int(h * 1.05) - int(0.1 * H) + 1) if not setup.get("small") else nrng.integers(100, 700)
            for g in gl:
                sc.put(g, x, y0 + (int(h) - g.shape[0]) // 2)
                x += g.shape[1] + gap
            if "lined" in setup:
                sc.lined(setup["lined"])
            if "dotted" in setup:
                sc.dotted(setup["dotted"])
            im = sc.render(**kw)
            try:
                text = r.read(im).text
            except Exception as e:  # noqa: BLE001
                text = f"ERR {type(e).__name__}: {e}"[:60]
            ok = text.replace(" ", "").replace("\n", "") == label
            rows.append((src, label, text))
            if not ok:
                try:
                    inkmap = Image.fromarray((load_image(im) * 255).astype(np.uint8))
                except Exception:  # noqa: BLE001
                    inkmap = None
                bad.append((im, inkmap, f"{src} {label} -> {text!r}"[:44]))
        results[name] = [(s, l, t.replace(" ", "").replace("\n", "")) for s, l, t in rows]
        save_grid(bad[:10], fails_dir / f"{name}.png", side=200)
        im.save(OUT / "examples" / f"{name}_last.png")
        acc = np.mean([l == t for _, l, t in results[name]])
        cer = character_error_rate([t for _, _, t in results[name]], [l for _, l, _ in results[name]])
        print(f"{name:28s} exact {acc:.3f}  CER {cer:.3f}  ({time.time() - t0:.0f}s)", flush=True)

    # ---- table
    srcs = ["hwd1000", "unipen", "semeion", "optdigits"]
    lines = ["| condition | all | " + " | ".join(srcs) + " |", "|---|---|" + "---|" * len(srcs)]
    for name, res in results.items():
        def acc(sel):
            sub = [y == l for s, y, l in res if sel(s)]
            return f"{np.mean(sub):.3f} (n={len(sub)})" if sub else "-"
        lines.append(f"| {name} | {acc(lambda s: True)} | " + " | ".join(acc(lambda s, k=k: s == k) for k in srcs) + " |")
    table = "\n".join(lines)
    print(table)
    (OUT / "table.md").write_text(table + "\n")
    (OUT / "results.json").write_text(json.dumps(results))
    print(f"done in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
