"""Data augmentation on whole batches, in PyTorch.

Random rotation, scale, shear and translation are one affine warp (``affine_grid`` +
``grid_sample``) for the whole batch, and stroke thickness is changed by blending each image with
its grey-scale dilation or erosion. Doing this on batch tensors costs a few percent of a training
step, where per-image PIL transforms in a data loader would cost more than the network on 2 cores.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F

from inkread.errors import InkreadError
from inkread.training.styles import STYLED_CHARACTERS


@dataclass
class AugmentConfig:
    """Ranges of the random distortions (uniformly drawn per image)."""

    rotate_deg: float = 12.0
    scale: float = 0.12          # size factor in [1 - scale, 1 + scale]
    shear: float = 0.25          # horizontal shear factor (slant)
    translate_px: float = 2.5    # shift in pixels of a 28x28 image
    thickness: float = 0.6       # blend strength towards dilation/erosion (0 = off)
    thicker_share: float = 0.5   # share of images made thicker rather than thinner
    stretch: float = 0.0         # aspect change: width/height multiplied by up to (1 + stretch) either way
    slashed_zero: float = 0.1    # share of 0s drawn with a slash (see styles.py)
    flagged_one: float = 0.15    # share of 1s drawn with a flag, half of them with a foot
    low_stem_four: float = 0.15  # share of 4s whose stem starts well below the top of the arm
    crossed_seven: float = 0.15  # share of 7s drawn with a bar across the stem
    hooked_nine: float = 0.15    # share of 9s whose tail ends in a hook to the left
    elastic_px: float = 0.0      # elastic distortion: typical displacement in pixels (0 = off)
    elastic_cells: int = 4       # ...smooth over a grid of this many cells per side

    def to_dict(self) -> dict:
        return asdict(self)

    def with_styles(self, names: str) -> "AugmentConfig":
        """The same config with only the named writing styles drawn (the others' shares set to 0).

        ``names``: "all", "none", or style names joined by commas, with dashes or underscores
        (``slashed-zero,flagged-one``; see ``training/styles.py``).
        """
        wanted = names.strip().lower()
        if wanted == "all":
            return self
        chosen = set() if wanted == "none" else {name.strip().replace("-", "_") for name in wanted.split(",")}
        unknown = sorted(chosen - set(STYLED_CHARACTERS))
        if unknown:
            choices = ", ".join(name.replace("_", "-") for name in STYLED_CHARACTERS)
            raise InkreadError(f"unknown writing style {unknown[0].replace('_', '-')!r}: use all, none, or some of {choices}")
        return replace(self, **{name: 0.0 for name in STYLED_CHARACTERS if name not in chosen})

    def scaled(self, factor: float) -> "AugmentConfig":
        """The same distortions with every range and share multiplied by ``factor``.

        ``thicker_share`` splits thickening from thinning; it is not a strength, so it stays.
        """
        return replace(self, **{name: getattr(self, name) * factor for name in SCALED_FIELDS})


SCALED_FIELDS = ("rotate_deg", "scale", "shear", "translate_px", "thickness", "stretch", "slashed_zero", "flagged_one",
                 "low_stem_four", "crossed_seven", "hooked_nine", "elastic_px")

# "on": the digits recipe; "light": half the ranges, for characters, where strong slant and
# rotation blur real distinctions (l/1/I, 6/G, 9/g) and the larger model under-fits otherwise.
PRESETS = {"on": 1.0, "light": 0.5}


def augment_batch(images: torch.Tensor, config: AugmentConfig, generator: torch.Generator,
                  refit: torch.Tensor | None = None) -> torch.Tensor:
    """Randomly distort a (B, 1, H, W) float batch of ink-high images; returns a new tensor.

    ``refit`` (B,) optionally scales each image before the random scale (see styles.py).
    """
    batch, _, height, width = images.shape

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.rand(batch, generator=generator) * (high - low) + low

    angle = uniform(-config.rotate_deg, config.rotate_deg) * (math.pi / 180)
    # Sample the scale in log space so that shrinking and growing are equally likely.
    scale = torch.exp(uniform(math.log(1 - config.scale), math.log(1 + config.scale)))
    if refit is not None:
        scale = scale * refit
    shear = uniform(-config.shear, config.shear)
    shift_x = uniform(-config.translate_px, config.translate_px) * (2 / width)
    shift_y = uniform(-config.translate_px, config.translate_px) * (2 / height)

    # affine_grid maps output coordinates to input coordinates, so this is the inverse transform:
    # dividing by the scale makes the character larger when scale > 1.
    # Anisotropic stretch (scans that stretch characters to fill their box): sx * sy stays 1.
    aspect = torch.exp(uniform(-math.log(1 + config.stretch), math.log(1 + config.stretch))) if config.stretch else torch.ones(batch)
    inv_x, inv_y = 1 / (scale * aspect.sqrt()), aspect.sqrt() / scale
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([
        torch.stack([cos * inv_x, (-sin + shear * cos) * inv_y, shift_x], dim=1),
        torch.stack([sin * inv_x, (cos + shear * sin) * inv_y, shift_y], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    if config.elastic_px > 0:
        grid = grid + _elastic_field(batch, height, width, config, generator)
    warped = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    if config.thickness > 0:
        dilated, eroded = _dilate_erode(warped)
        strength = (torch.rand(batch, generator=generator) * config.thickness).view(batch, 1, 1, 1)
        thicker = (torch.rand(batch, generator=generator) < config.thicker_share).view(batch, 1, 1, 1)
        target = torch.where(thicker, dilated, eroded)
        warped = warped + strength * (target - warped)
    return warped.clamp_(0.0, 1.0)


def _elastic_field(batch: int, height: int, width: int, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """A smooth random displacement (B, H, W, 2) in grid units, to add to a sampling grid.

    Simard et al. (2003) smooth per-pixel noise with a Gaussian; random offsets on a coarse grid
    of ``elastic_cells`` cells, upsampled bicubically, give the same kind of field at a fraction of
    the cost on whole batches.
    """
    cells = config.elastic_cells + 1
    coarse = torch.randn(batch, 2, cells, cells, generator=generator) * config.elastic_px
    field = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True)
    scale = torch.tensor([2 / width, 2 / height]).view(1, 2, 1, 1)  # pixels -> grid units (x, y)
    return (field * scale).permute(0, 2, 3, 1)


def _dilate_erode(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey-scale 3x3 dilation and erosion of a (B, 1, H, W) batch (pixels outside count as absent).

    The same as ``max_pool2d(x, 3, 1, 1)`` and ``-max_pool2d(-x, 3, 1, 1)``, but as nine shifted
    element-wise maxima and minima: on one-channel 28x28 images pooling is ~15x slower on a CPU.
    """
    height, width = images.shape[2], images.shape[3]
    low = F.pad(images, (1, 1, 1, 1), value=-math.inf)
    high = F.pad(images, (1, 1, 1, 1), value=math.inf)
    dilated, eroded = images.clone(), images.clone()
    for dy in range(3):
        for dx in range(3):
            if dy == 1 and dx == 1:
                continue
            torch.maximum(dilated, low[:, :, dy:dy + height, dx:dx + width], out=dilated)
            torch.minimum(eroded, high[:, :, dy:dy + height, dx:dx + width], out=eroded)
    return dilated, eroded
