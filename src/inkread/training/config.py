"""``TrainConfig``: everything ``inkread train`` needs, with per-architecture recipe defaults."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Optional

from inkread.errors import InkreadError, check_setting_kinds, option
from inkread.files import folder_setting
from inkread.training.augment import AugmentConfig

SCHEDULES = ("onecycle", "constant")
OPTIMIZERS = ("adam", "adamw", "muon")  # adam: the seed projects' (no weight decay unless asked for)
PRECISIONS = ("auto", "bf16", "fp32")  # auto: bf16 where the CPU has it natively

# The recipes. "seed" is exactly what the seed projects do; "inknet" is ours (see benchmarks/).
RECIPES = {
    "seed": dict(epochs=10, batch_size=128, lr=1e-3, augment="off", schedule="constant", weight_decay=0.0,
                 label_smoothing=0.0, patience=None, ema=0.0, precision="fp32", optimizer="adam"),
    "inknet": dict(epochs=7, batch_size=128, lr=4e-3, augment="on", schedule="onecycle", weight_decay=5e-4,
                   label_smoothing=0.05, patience=None, ema=0.998, precision="auto", optimizer="adamw"),
}

# Fine-tuning (--init-from) starts from a trained model: 0.3 of the recipe's learning rate. At the full 4e-3, 45
# right images of 1, 4 and 7 (what the web app's corrections export) took the shipped digits model from 99.3% to
# 68-90% on MNIST (6s and 9s read as 4); at 1.2e-3 it keeps 98.6-99.2%, and learns 62% of the scanned digits it
# misread from 40 others taught (4e-4: 99.2-99.4%, but 31%). benchmarks/fine_tuning.py
FINE_TUNE_LR = 0.3

# What a resumed run takes from its checkpoint when not given again (``inkread train --out RUN --resume``)...
# (threads too: another thread count sums in another order, so the run would not end as it would have uninterrupted;
# left out, it was all cores again, up to 14x slower on a busy machine than the --threads 1 it ran with)
RESUMED_OPTIONS = ("dataset", "data_dir", "arch", "epochs", "seed", "split_seed", "init_from", "batch_size", "lr",
                   "augment", "patience", "limit", "schedule", "weight_decay", "label_smoothing", "ema", "precision",
                   "optimizer", "threads")
# ...and those it refuses to change: the data, the network, and the recipe whose state the checkpoint
# holds (the schedule, the optimizer's, the weight average). A resumed run's record must say what it did.
FIXED_ON_RESUME = ("dataset", "arch", "seed", "split_seed", "batch_size", "epochs", "limit", "lr", "augment",
                   "schedule", "weight_decay", "label_smoothing", "ema", "precision", "optimizer")


@dataclass
class TrainConfig:
    """Options of ``inkread train``; ``None`` means "the architecture's recipe default"."""

    dataset: Optional[str]               # None only with resume: the run's own
    out: str
    arch: Optional[str] = None           # default: the --init-from model's architecture, else "inknet"
    epochs: Optional[int] = None
    seed: Optional[int] = None           # weights' initialization, batch order, augmentation (default 0)
    split_seed: Optional[int] = None     # which images are held out for validation (and test, where no official one; default 0)
    resume: bool = False
    init_from: Optional[str] = None
    data_dir: Optional[str] = None
    threads: Optional[int] = None
    batch_size: Optional[int] = None
    lr: Optional[float] = None
    augment: Optional[str] = None        # "on" | "light" | "off"
    patience: Optional[int] = None       # early stopping on validation loss, in epochs
    limit: Optional[int] = None          # first N training images only
    progress: bool = True
    schedule: Optional[str] = None       # "onecycle" | "constant"
    weight_decay: Optional[float] = None
    label_smoothing: Optional[float] = None
    ema: Optional[float] = None          # decay of the weight average that is validated and shipped (0 = off)
    precision: Optional[str] = None      # "fp32" | "bf16" | "auto" (bf16 where the CPU has it natively)
    optimizer: Optional[str] = None      # "adam" | "adamw" | "muon" (see training/muon.py)
    val_fraction: float = 0.1
    augment_config: AugmentConfig = field(default_factory=AugmentConfig)
    name: Optional[str] = None           # bundle name in model.json (default: run folder name)

    def __post_init__(self) -> None:
        # Python callers pass paths as Path objects; the run's records (checkpoint, model.json) hold strings.
        from inkread.data.load import dataset_spec

        if self.dataset is not None:
            self.dataset = dataset_spec(self.dataset)  # a Path names a folder:/csv: data set
        self.out = folder_setting(self.out)
        check_setting_kinds(self)  # the other paths made strings too

    def resolved(self) -> "TrainConfig":
        """A copy with every ``None`` recipe field filled from the architecture's recipe."""
        recipe = RECIPES["seed" if self.arch == "seed" else "inknet"]
        values = asdict(self)
        values["augment_config"] = self.augment_config
        values["arch"] = self.arch or "inknet"
        if self.init_from:
            recipe = {**recipe, "lr": recipe["lr"] * FINE_TUNE_LR}
        for key, default in {**recipe, "seed": 0, "split_seed": 0}.items():
            if values.get(key) is None:
                values[key] = default
        return TrainConfig(**values)

    def with_saved(self, saved: dict) -> "TrainConfig":
        """A copy with the options not given (``None``) taken from a run's saved config, to resume it as it was.

        The distortions and writing styles (``augment_config``) are the run's unless other ones were
        given (the default ``AugmentConfig()`` counts as not given: ``--styles`` left out).
        """
        values = asdict(self)
        values["augment_config"] = self.augment_config
        for key in RESUMED_OPTIONS:
            if values.get(key) is None and saved.get(key) is not None:
                values[key] = saved[key]
        if self.augment_config == AugmentConfig() and saved.get("augment_config"):
            known = {f.name for f in fields(AugmentConfig)}  # a field of a later version is not ours to set
            values["augment_config"] = AugmentConfig(**{k: v for k, v in saved["augment_config"].items() if k in known})
        return TrainConfig(**values)

    def to_dict(self) -> dict:
        values = asdict(self)
        values["augment_config"] = self.augment_config.to_dict()
        return values


def check_recipe(config, per_batch: str) -> None:
    """Refuse the settings every training command shares (``TrainConfig``, ``LineTrainConfig``) that cannot
    work: fewer than one epoch, a batch batch norm cannot use (``per_batch``: "images", "lines"), no
    threads, a learning rate that is not positive, a negative seed; and numbers of the wrong kind (from Python,
    ``epochs="2"`` was a TypeError's traceback: the configs check their fields' kinds when made)."""
    if config.epochs < 1:
        raise InkreadError(f"{option('epochs')} must be at least 1")
    if config.batch_size < 2:
        raise InkreadError(f"{option('batch_size')} must be at least 2 (batch norm needs two {per_batch} per batch)")
    if config.threads is not None and config.threads < 1:
        raise InkreadError(f"{option('threads')} must be at least 1, got {config.threads}")
    if not (0 < config.lr < math.inf):  # inf trained a whole epoch before it "diverged"
        raise InkreadError(f"{option('lr')} must be a positive number, got {config.lr}")
    if config.seed < 0:
        raise InkreadError(f"{option('seed')} must be 0 or more")
    if config.weight_decay < 0:  # PyTorch's optimizers refuse it with a ValueError's traceback
        raise InkreadError(f"{option('weight_decay')} must be 0 or more, got {config.weight_decay}")
