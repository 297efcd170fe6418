"""``inkread train-lines``: train the line reader (LineNet + CTC) on synthetic EMNIST lines.

Read top to bottom: the character bank (EMNIST byclass characters from ``emnist-pool:byclass``,
train split for training lines, validation split for validation lines), then one epoch at a time
(fresh synthetic lines made in a worker process, augmented, one CTC step per batch; validation
character error rate; checkpoint), then the bundle: weights, ONNX and model.json.

Every random draw of epoch ``e`` comes from (seed, e): a run resumed after an interruption makes
the same lines it would have made.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F

from inkread.data.font_lines import FontBank, find_fonts, missing_fonts_message
from inkread.data.lines import CHARSET, CharacterBank, encode, make_lines
from inkread.errors import DatasetError, InkreadError, check_config_type, check_setting_kinds, first_line, option
from inkread.evaluation.text import character_error_rate
from inkread.files import atomic_path, folder_setting
from inkread.imaging.line import LINE_HEIGHT, pad_lines
from inkread.inference.bundle_format import LINE_ARCH, ONNX_FILE, WEIGHTS_FILE, ModelMeta
from inkread.inference.ctc import ctc_greedy
from inkread.machine import threads_to_use
from inkread.models import count_parameters
from inkread.models.linenet import LineNet
from inkread.training.bundle import MODEL_FOLDER, check_run_folder, save_bundle_files, started_from_record
from inkread.training.checkpoint import (CHECKPOINT_FILE, check_unchanged_on_resume, diverged, load_checkpoint, misfit, refuse_existing_run, restore, run_folder_lock,
                                         save_checkpoint, say_interrupted)
from inkread.training.config import check_recipe
from inkread.training.console import progress_bar, say
from inkread.training.history import LINE_COLUMNS, write_history
from inkread.training.loop import resumable_after_disk_full, torch_threads_restored, use_bf16
from inkread.training.start import absolute_folder, absolute_model, meta_record

CHUNK_BATCHES = 16  # lines are made this many batches at a time and sorted by width: little padding


# The line recipe: what a setting left at None takes in a new run. A resumed run takes its own, from the
# checkpoint, as does data_dir, fonts (None: Debian's handwriting fonts), init_from (None: from scratch) and threads.
LINE_RECIPE = dict(epochs=6, lines_per_epoch=48_000, val_lines=2_000, batch_size=64, lr=2e-3, weight_decay=1e-4,
                   width=24, seed=0, font_share=0.5)
RESUMED_SETTINGS = (*LINE_RECIPE, "data_dir", "fonts", "init_from", "threads")
MAX_WIDTH = 256  # LineNet's first layer's channels at most (the shipped 24: 10x is far past what a CPU trains)
# A resumed run refuses other values of these: the schedule, the net, the lines it trains on.
FIXED_ON_RESUME = ("seed", "epochs", "lines_per_epoch", "batch_size", "width", "lr", "val_lines", "font_share", "fonts",
                   "init_from")


@dataclass
class LineTrainConfig:
    """Options of ``inkread train-lines``; ``None`` means ``LINE_RECIPE``'s value, or a resumed run's own."""

    out: str
    data_dir: Optional[str] = None
    epochs: Optional[int] = None          # 6
    lines_per_epoch: Optional[int] = None  # 48,000
    val_lines: Optional[int] = None       # 2,000
    batch_size: Optional[int] = None      # 64
    lr: Optional[float] = None            # 2e-3
    weight_decay: Optional[float] = None  # 1e-4
    width: Optional[int] = None           # 24: LineNet's first-layer channels
    seed: Optional[int] = None            # 0
    font_share: Optional[float] = None    # 0.5: lines written in handwriting fonts (data/font_lines.py); the rest: EMNIST characters
    fonts: Optional[str] = None  # a folder of .ttf/.otf fonts (default: Debian's handwriting fonts, FONT_PACKAGES)
    init_from: Optional[str] = None  # a line model to start from (fine-tuning): "lines" or a bundle/run folder
    threads: Optional[int] = None
    resume: bool = False
    progress: bool = True
    name: Optional[str] = None

    def __post_init__(self) -> None:
        self.out = folder_setting(self.out)
        check_setting_kinds(self)  # the other paths made strings too

    def resolved(self, started_with: Optional[dict] = None) -> "LineTrainConfig":
        """A copy with every ``None`` setting filled from ``started_with`` (a resumed run's checkpoint record),
        else from ``LINE_RECIPE``."""
        filled = {key: (started_with or {}).get(key, LINE_RECIPE.get(key)) for key in RESUMED_SETTINGS
                  if getattr(self, key) is None}
        return replace(self, **filled)


class LineBatches(torch.utils.data.IterableDataset):
    """One epoch of synthetic training batches: (images, targets, image widths, target lengths)."""

    def __init__(self, bank: CharacterBank, config: LineTrainConfig, epoch: int, fonts: FontBank | None):
        self.bank, self.config, self.epoch, self.fonts = bank, config, epoch, fonts

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        config = self.config
        chunk = config.batch_size * CHUNK_BATCHES
        for first in range(0, config.lines_per_epoch, chunk):
            count = min(chunk, config.lines_per_epoch - first)
            images, texts = make_lines(self.bank, count, seed=_seed(config.seed, self.epoch, first), fonts=self.fonts,
                                       font_share=config.font_share)
            order = sorted(range(count), key=lambda i: images[i].shape[1])
            batches = [order[i:i + config.batch_size] for i in range(0, count, config.batch_size)]
            rng = np.random.default_rng(_seed(config.seed, self.epoch, first + 1))
            for b in rng.permutation(len(batches)):
                if len(batches[b]) >= 2:  # batch norm needs two lines
                    yield collate([images[i] for i in batches[b]], [texts[i] for i in batches[b]])


def _seed(seed: int, epoch: int, offset: int) -> int:
    return (seed * 1_000_003 + epoch) * 10_000_019 + offset


def collate(images: list[np.ndarray], texts: list[str]) -> tuple[torch.Tensor, ...]:
    """Pad uint8 line images to the widest (even) width; CTC targets concatenated, with lengths."""
    targets = [encode(text) for text in texts]
    return (torch.from_numpy(pad_lines(images, np.uint8)), torch.tensor([c for t in targets for c in t], dtype=torch.long),
            torch.tensor([image.shape[1] for image in images]), torch.tensor([len(t) for t in targets]))


def augment_lines(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Slant, squash and shift, thicker or thinner pens, darker ink: float (N, 1, H, W) in 0..1."""
    n, _, height, width = images.shape
    rand = lambda *shape: torch.rand(*shape, generator=generator)  # noqa: E731
    shear = (rand(n) - 0.5) * 0.7  # slant up to about 19 degrees either way
    squash = 1.0 + rand(n) * 0.2  # 1.0-1.2: the ink fills 83-100% of its height
    shift = (rand(n) - 0.5) * 0.1
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = 1.0
    theta[:, 0, 1] = shear * height / width  # x_in = x + shear * y, in normalized coordinates
    theta[:, 1, 1] = squash
    theta[:, 1, 2] = shift
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    pen = rand(n)
    thicker = F.max_pool2d(images, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-images, 3, stride=1, padding=1)
    images = torch.where((pen < 0.2).view(n, 1, 1, 1), thicker, torch.where((pen > 0.9).view(n, 1, 1, 1), thinner, images))
    contrast = 1.0 + rand(n).view(n, 1, 1, 1) * 1.5
    return (images * contrast).clamp_(0.0, 1.0)


def train_lines(config: LineTrainConfig) -> Path:
    """Train as ``config`` says and return the folder of the model bundle (RUN/model)."""
    check_config_type(config, LineTrainConfig, "train_lines")
    # recorded so that they name the same files from any directory
    config = replace(config, out=folder_setting(config.out), init_from=absolute_model(config.init_from),
                     data_dir=absolute_folder(config.data_dir), fonts=absolute_folder(config.fonts))
    _check(config.resolved())  # what was given; a resumed run's own settings were checked when it started
    with run_folder_lock(config.out), torch_threads_restored(), resumable_after_disk_full(config.out, lines=True):
        return _train_lines(config)


def _train_lines(config: LineTrainConfig) -> Path:
    run_dir = Path(config.out)
    state = load_checkpoint(run_dir, lines=True) if config.resume else None
    if state is None:
        refuse_existing_run(run_dir, lines=True)
        config = config.resolved()
    else:  # what was not given again is the run's own
        started_with = state.get("config", {})
        config = config.resolved(started_with)
        check_unchanged_on_resume(config, started_with, FIXED_ON_RESUME)
    torch.set_num_threads(threads_to_use(config.threads))

    from inkread.data import load_dataset

    # the start model is read before the data: a wrong --init-from fails fast
    start_weights, started_from = _start_model(config.init_from) if config.init_from is not None and state is None else (None, None)
    if state is not None and state.get("started_from"):  # the start model's model.json; its weights are in the checkpoint
        started_from = ModelMeta.from_dict(state["started_from"], where=f"{run_dir / CHECKPOINT_FILE} (its start model)")
    splits = load_dataset("emnist-pool:byclass", data_dir=config.data_dir, seed=0)
    train_bank = CharacterBank(splits.train.images, splits.train.targets, splits.labels)
    val_bank = CharacterBank(splits.val.images, splits.val.targets, splits.labels)
    fonts = _font_bank(config)
    val_images, val_texts = make_lines(val_bank, config.val_lines, seed=_seed(config.seed, 10_000, 0), fonts=fonts,
                                       font_share=config.font_share)

    torch.manual_seed(config.seed)
    model = LineNet(len(CHARSET), width=config.width).to(memory_format=torch.channels_last)
    if start_weights is not None:
        _load_start_weights(model, start_weights, config)
    steps_per_epoch = math.ceil(config.lines_per_epoch / config.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch + 1,
                                                    pct_start=0.15, div_factor=10, final_div_factor=100)
    history: list[dict] = []
    start_epoch, best = 0, (math.inf, None)
    if state is not None:
        restore(state, run_dir, model=model, optimizer=optimizer, scheduler=scheduler)
        try:
            start_epoch, history, best = int(state["epoch"]), list(state["history"]), (state["best_cer"], state["best_state"])
        except (KeyError, TypeError, ValueError) as error:
            raise misfit(run_dir, error) from None
    written = f"EMNIST characters and {len(fonts.fonts)} handwriting fonts ({config.font_share:.0%} of lines)" if fonts else "EMNIST characters"
    say(config.progress, f"training {LINE_ARCH} ({count_parameters(model):,} parameters"
                         f"{', from ' + config.init_from if config.init_from else ''}) on synthetic lines of {written}: "
                         f"{config.lines_per_epoch:,} new lines per epoch, {config.val_lines:,} validation lines")
    # bf16 where the CPU has it natively; elsewhere oneDNN has no bf16 LSTM (and bf16 would be slower).
    bf16 = use_bf16("auto")
    try:
        for epoch in range(start_epoch, config.epochs):
            started = time.perf_counter()
            torch.manual_seed(_seed(config.seed, epoch, 11))  # dropout: resumed == uninterrupted
            generator = torch.Generator().manual_seed(_seed(config.seed, epoch, 7))
            # One worker process makes the next lines while this one trains on the last.
            loader = torch.utils.data.DataLoader(LineBatches(train_bank, config, epoch, fonts), batch_size=None,
                                                 num_workers=1, prefetch_factor=4)
            model.train()
            loss_sum, seen = 0.0, 0
            bar = progress_bar(config.progress, steps_per_epoch, f"epoch {epoch + 1}/{config.epochs}")
            for images, targets, widths, lengths in loader:
                images = augment_lines(images.float().div_(255), generator).contiguous(memory_format=torch.channels_last)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    log_probs = model(images)
                loss = F.ctc_loss(log_probs.float().transpose(0, 1), targets, widths // 2, lengths, zero_infinity=True)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)  # CTC has rare huge gradients early on
                optimizer.step()
                scheduler.step()
                loss_sum += loss.item() * len(lengths)
                seen += len(lengths)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss_sum / seen:.3f}", refresh=False)
            if bar is not None:
                bar.close()
            if not math.isfinite(loss_sum):
                raise diverged(epoch + 1, loss_sum / seen, config.lr)
            val_cer, val_exact = validate(model, val_images, val_texts)
            record = {"epoch": epoch + 1, "train_loss": loss_sum / seen, "val_cer": val_cer, "val_exact": val_exact,
                      "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - started}
            history.append(record)
            write_history(run_dir, history, LINE_COLUMNS)
            say(config.progress, f"epoch {epoch + 1}/{config.epochs}: train loss {record['train_loss']:.4f} | val CER {val_cer:.2%}, "
                         f"lines exact {val_exact:.2%} | {record['seconds']:.0f}s")
            if val_cer <= best[0]:  # a tie goes to the later epoch: a short run at 100% CER shipped its first epoch's
                best = (val_cer, {k: v.clone() for k, v in model.state_dict().items()})
            save_checkpoint(run_dir, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                      "scheduler": scheduler.state_dict(), "epoch": epoch + 1, "history": history,
                                      "best_cer": best[0], "best_state": best[1], "config": asdict(config),
                                      **({"started_from": meta_record(started_from)} if started_from else {})})
    except KeyboardInterrupt:
        say_interrupted(run_dir, len(history), lines=True)
        raise
    model.load_state_dict(best[1])
    folder = write_line_bundle(run_dir / MODEL_FOLDER, model, config, history, fonts, started_from)
    say(config.progress, f"best validation CER {best[0]:.2%}; bundle written to {folder}")
    return folder


def _font_bank(config: LineTrainConfig) -> FontBank | None:
    """The handwriting fonts to write ``font_share`` of the lines with (None for none); refused if there are none."""
    if config.font_share == 0:
        return None
    fonts = FontBank(find_fonts(config.fonts), CHARSET)
    if not fonts.fonts:
        raise DatasetError(missing_fonts_message(config.fonts, fonts.left_out))
    return fonts


def _start_model(init_from: str) -> tuple[dict, ModelMeta]:
    """The weights of the line model ``init_from`` names (a shipped name or a bundle/run folder), and its
    model.json, recorded in the new model's (a name such as "lines" names another model once a new one ships)."""
    from inkread.inference.onnx_model import resolve_bundle

    folder = resolve_bundle(init_from, "lines")
    meta = ModelMeta.read(folder)
    if meta.arch != LINE_ARCH:
        raise InkreadError(f"{init_from} is a character model: {option('init_from')} of train-lines needs a line model "
                           "(lines, or a run folder of inkread train-lines); character models are fine-tuned with inkread train")
    try:
        return torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True), meta
    except (RuntimeError, OSError, EOFError, ValueError) as error:
        raise InkreadError(f"{folder / WEIGHTS_FILE} cannot be read ({first_line(error, 200)}): "
                           "copy the bundle again, or train the line model anew") from None


def _load_start_weights(model: LineNet, weights: dict, config: LineTrainConfig) -> None:
    """Load the start model's ``weights`` into ``model``, or say why they do not fit."""
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError) as error:
        raise InkreadError(f"{config.init_from} does not fit a line model of width {config.width}: "
                           f"{first_line(error, 200)}; give {option('width')} as that model was trained") from None


def validate(model: LineNet, images: list[np.ndarray], texts: list[str], batch_size: int = 128) -> tuple[float, float]:
    """Character error rate and share of lines read exactly, greedy CTC decoding."""
    model.eval()
    order = sorted(range(len(images)), key=lambda i: images[i].shape[1])
    by_index = {}
    with torch.no_grad():
        for first in range(0, len(order), batch_size):
            chunk = order[first:first + batch_size]
            batch, _, widths, _ = collate([images[i] for i in chunk], [texts[i] for i in chunk])
            log_probs = model(batch.float().div_(255).contiguous(memory_format=torch.channels_last)).numpy()
            for k, i in enumerate(chunk):
                by_index[i] = "".join(c for c, *_ in ctc_greedy(log_probs[k, :int(widths[k]) // 2], CHARSET)).strip()
    answers = [by_index[i] for i in range(len(images))]
    exact = sum(a == t for a, t in zip(answers, texts)) / max(1, len(texts))
    return character_error_rate(answers, texts), exact


def export_line_onnx(model: LineNet, path: Path) -> None:
    """Export to ONNX with dynamic batch and width, atomically.

    The TorchScript exporter, not the dynamo one: dynamo fixes the LSTM's sequence length in the
    output's declared shape, and ONNX Runtime then warns on every line of another width.
    """
    model = model.eval()
    example = torch.zeros(2, 1, LINE_HEIGHT, 64)
    with warnings.catch_warnings(), atomic_path(path) as tmp:
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), tmp, input_names=["image"], output_names=["log_probs"], dynamo=False,
                          dynamic_axes={"image": {0: "batch", 3: "width"}, "log_probs": {0: "batch", 1: "columns"}},
                          opset_version=17)


def write_line_bundle(folder: Path, model: LineNet, config: LineTrainConfig, history: list[dict],
                      fonts: FontBank | None = None, started_from: ModelMeta | None = None) -> Path:
    """weights.pt + model.onnx + model.json, written to a staging folder and renamed into place."""
    model = model.to(memory_format=torch.contiguous_format).eval()
    best = min(history, key=lambda h: h["val_cer"]) if history else {}
    meta = ModelMeta(
        name=config.name or Path(config.out).name, arch=LINE_ARCH, labels=list(CHARSET), label_set="custom",
        input={"height": LINE_HEIGHT, "recipe": "line", "scale": "0-1", "ink": "high"},
        files={"onnx": ONNX_FILE, "weights": WEIGHTS_FILE},
        training={"command": "train-lines", "data": "synthetic lines of emnist-pool:byclass train characters"
                  + (" and of handwriting fonts" if fonts else ""), **({"fonts": fonts.names} if fonts else {}),
                  **({"started_from": started_from_record(started_from)} if started_from else {}),
                  "recipe": {k: v for k, v in asdict(config).items() if k not in ("out", "data_dir", "progress", "resume")}},
        metrics={"val_cer": best.get("val_cer"), "val_exact": best.get("val_exact")}, history=history)
    save_bundle_files(folder, model, meta, export_line_onnx)
    return folder


def _check(config: LineTrainConfig) -> None:
    check_recipe(config, "lines")
    if config.lines_per_epoch < config.batch_size or config.val_lines < 1:
        raise InkreadError(f"{option('lines_per_epoch')} must be at least one batch, and {option('val_lines')} at least 1")
    if not 1 <= config.width <= MAX_WIDTH:  # 100000 was an allocator's traceback
        raise InkreadError(f"{option('width')} (the network's width) must be from 1 to {MAX_WIDTH}, got {config.width} "
                           "(the shipped model's: 24)")
    if not 0 <= config.font_share <= 1:
        raise InkreadError(f"{option('font_share')} must be between 0 and 1 (the share of lines written in handwriting fonts)")
    check_run_folder(config.out)  # before the lines are drawn and trained on
