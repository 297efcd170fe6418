"""The training loop: ``train(TrainConfig)`` reads a data set, trains, and writes a model bundle.

Read top to bottom: set up (data, model, optimizer, maybe resume), then one epoch at a time
(shuffle, augment, step; validate; checkpoint), then the final bundle with test metrics.

Reproducibility: every random draw of epoch ``e`` comes from generators seeded with (seed, e), so
a run interrupted and resumed from its last checkpoint replays exactly the epochs it had left and
ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F

from inkread.data.load import absolute_spec, same_data_set, training_split
from inkread.data.splits import SPLIT_BY, LabelsOutsideSet
from inkread.errors import DatasetError, InkreadError, first_few, first_line, how_to_resume, option, option_value, plural
from inkread.models import ARCHITECTURES, build_model, count_parameters
from inkread.training.augment import PRESETS, AugmentConfig, augment_batch
from inkread.training.checkpoint import (CHECKPOINT_FILE, check_unchanged_on_resume, diverged, load_checkpoint, misfit, refuse_existing_run, restore,
                                         run_folder_lock, save_checkpoint, say_interrupted)
from inkread.training.console import progress_bar, say, warn
from inkread.training.config import FIXED_ON_RESUME, TrainConfig, check_recipe
from inkread.training.history import write_history
from inkread.training.styles import add_writing_styles

# Called after every optimizer step with (step, epoch, network): the network that would be shipped
# if training stopped now (the weight average when there is one). The benchmark uses it to measure
# time-to-accuracy. It may switch that network to eval mode; the loop puts its own back in training.
# Its time is left out of the epoch "seconds" in the history.
StepCallback = Callable[[int, int, torch.nn.Module], None]

EVAL_BATCH = 1000
MIN_STEPS_PER_EPOCH = 50  # a small data set trains in smaller batches (down to MIN_BATCH) to take this many steps
MIN_BATCH = 16
MIN_ONECYCLE_STEPS = 15  # fewer steps in all train at a constant learning rate (see _make_optimizer)


def train(config: TrainConfig, *, splits=None, on_step: Optional[StepCallback] = None) -> Path:
    """Train as ``config`` says and return the folder of the model bundle (RUN/model).

    ``splits`` (a ``DatasetSplits``) may be given to skip loading ``config.dataset``. A second
    training into the same ``config.out`` while this one runs is refused (``run_folder_lock``).
    """
    with run_folder_lock(config.out), torch_threads_restored():
        return _train(config, splits, on_step)


@contextlib.contextmanager
def torch_threads_restored() -> Iterator[None]:
    """Give PyTorch's thread count back as it was: a run's ``threads`` must not stay set in the caller's process."""
    before = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train(config: TrainConfig, splits, on_step: Optional[StepCallback]) -> Path:
    config, batch_given, resume_state, init_meta, inherited = _run_config(config)
    run_dir = Path(config.out)
    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    if splits is None:
        splits = _load_splits(config, resume_state, init_meta, inherited)
    _check_training_data(config, splits, resume_state)
    if not batch_given:
        config = _small_data_batch(config, len(splits.train.targets))

    torch.manual_seed(config.seed)
    model = build_model(config.arch, len(splits.labels))
    # Channels-last convolutions are faster on CPU (oneDNN's native layout): ~25% at 1 thread.
    model = model.to(memory_format=torch.channels_last)
    if init_meta is not None and resume_state is None:
        _load_initial_weights(model, config.init_from, init_meta, splits.labels)
    batch_starts = _batch_starts(len(splits.train.targets), config.batch_size)
    optimizer, scheduler = _make_optimizer(model, config, len(batch_starts))
    # The weight average (EMA) is what gets validated, checkpointed as best, and shipped: it is
    # smoother than the raw weights, which jump around at the high learning rates we train with.
    average = _make_average(model, config.ema)
    run = _RunState()
    if resume_state is not None:
        run = _restored(resume_state, run_dir, model, average, optimizer, scheduler)
        say(config.progress, f"resuming {run_dir} after epoch {run.epoch}" if run.epoch < config.epochs else
            f"{run_dir} has trained all its {plural(config.epochs, 'epoch', 'epochs')}: its bundle is written again from the last checkpoint")
    _announce(config, splits, model, resume_state)
    try:
        for epoch in range(run.epoch, config.epochs):
            record = _train_epoch(config, epoch, model, average, optimizer, scheduler, splits, batch_starts, run, on_step)
            run.history.append(record)
            say(config.progress, f"epoch {epoch + 1}/{config.epochs}: train loss {record['train_loss']:.4f} acc {record['train_acc']:.4f}"
                         f" | val loss {record['val_loss']:.4f} acc {record['val_acc']:.4f} | {record['seconds']:.0f}s")
            stop = _judge_epoch(run, record, shipped(model, average), config.patience)
            write_history(run_dir, run.history)
            save_checkpoint(run_dir, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "average": average.state_dict() if average is not None else None,
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "epoch": epoch + 1, "history": run.history, "best_val_loss": run.best_val_loss,
                "best_score": run.best_score, "best_state": run.best_state, "bad_epochs": run.bad_epochs,
                "config": config.to_dict(), "labels": list(splits.labels),
                "split_by": splits.source.get("split_by", SPLIT_BY), "train_images": len(splits.train.targets),
                # the start model's model.json (its weights are in "model" now): resuming needs no start model
                **({"started_from": meta_record(init_meta)} if init_meta is not None else {}),
            })
            if stop:
                say(config.progress, f"early stopping: validation loss has not improved for {run.bad_epochs} epochs")
                break
    except KeyboardInterrupt:
        say_interrupted(run_dir, len(run.history))
        raise
    return _finish(config, run, shipped(model, average), splits, init_meta)


def _run_config(config: TrainConfig):
    """The run's config, checked and with its recipe filled in; whether a batch size was given (else a small data
    set gets a smaller one); its checkpoint if resumed; the start model's model.json if fine-tuned; and the split
    that start model was trained with if the run inherits it."""
    resume_state = None
    # Recorded absolute, as folder:/csv: paths are: the record names the start model and the data
    # directory from any directory (export reads the run's --data-dir).
    # Made so before the run's own is taken on resume: an older run's relative one is relative to a
    # directory no longer known, and is kept as it was written.
    config = replace(config, init_from=absolute_model(config.init_from),
                     data_dir=str(Path(config.data_dir).expanduser().resolve()) if config.data_dir else None)
    if config.resume:
        resume_state = load_checkpoint(Path(config.out))
        # options not given again are the run's own: `inkread train --out RUN --resume` continues it as it was
        config = config.with_saved(resume_state.get("config", {}))
    if config.dataset is None:
        raise InkreadError(f"no data set to train on: give {option('dataset')} (mnist, emnist-pool, folder:PATH, csv:PATH)")
    # Fine-tuning: the starting model's model.json, read once. Its architecture is the default
    # --arch, and its training record goes into the new bundle (evaluation checks it for overlap).
    # A resumed run takes it from its checkpoint: the start model may be moved or deleted by then.
    init_meta = _start_meta(config.init_from, resume_state, Path(config.out)) if config.init_from else None
    if config.arch is None and init_meta is not None:
        config = replace(config, arch=init_meta.arch)
    # Fine-tuning a model on the data set it was trained on: what it held out stays held out (its way of
    # splitting, and its split seed unless --split-seed is given): a model split by "content+class" would
    # otherwise be tested, after fine-tuning, on images it was trained on.
    inherited = _inherited_split(init_meta, config.dataset) if init_meta is not None and resume_state is None else None
    if inherited is not None and config.split_seed is None:
        config = replace(config, split_seed=inherited["seed"])
    batch_given = config.batch_size is not None
    # A folder:/csv: path is recorded absolute: export and evaluate find the data from any directory.
    config = replace(config.resolved(), dataset=absolute_spec(config.dataset))
    _check_config(config)
    run_dir = Path(config.out)
    if resume_state is not None:
        _check_resume_matches(resume_state, config)
    else:
        refuse_existing_run(run_dir)
    if init_meta is not None and init_meta.arch != config.arch:  # before the data set is loaded: fail fast
        raise InkreadError(f"{config.init_from} is a model of architecture {init_meta.arch}: fine-tune it with "
                           f"{option_value('arch', init_meta.arch)}, or leave {option('arch')} out")
    return config, batch_given, resume_state, init_meta, inherited


def _load_splits(config: TrainConfig, resume_state: dict | None, init_meta, inherited: dict | None):
    """The run's data set, split as the run (or the start model it inherits its split from) was split."""
    from inkread.data import load_dataset

    # A resumed run keeps the split it started with (runs before 2026-12-04 split folders by position).
    split_by = resume_state.get("split_by", "position") if resume_state is not None else \
        inherited["split_by"] if inherited is not None else SPLIT_BY
    try:
        return load_dataset(config.dataset, data_dir=config.data_dir, seed=config.split_seed,
                            val_fraction=config.val_fraction, limit=config.limit, split_by=split_by,
                            labels=_known_labels(init_meta, resume_state))
    except LabelsOutsideSet as error:
        if init_meta is None or resume_state is not None:
            raise
        # Renaming the images is rarely the fix here: the starting model is the wrong one.
        raise DatasetError(f"{config.dataset} has labels {config.init_from} does not know: {first_few(error.unknown)} "
                           f"(it knows {''.join(init_meta.labels)[:62]}): fine-tune a model that knows them "
                           f"(characters knows digits and letters), or train without {option('init_from')}") from None


@dataclass
class _RunState:
    """Where a run stands after its last complete epoch (what a checkpoint keeps besides the weights)."""

    epoch: int = 0
    history: list = field(default_factory=list)
    best_val_loss: float = math.inf
    best_score: tuple | None = None  # ranks epochs for shipping: validation accuracy, then lower validation loss
    best_state: dict | None = None   # the shipped weights of the best epoch so far
    bad_epochs: int = 0              # epochs since the validation loss last fell (early stopping)


def _restored(resume_state: dict, run_dir: Path, model, average, optimizer, scheduler) -> _RunState:
    """Load a checkpoint's weights and optimizer into the run's objects and return where it stood."""
    restore(resume_state, run_dir, optional=("average", "scheduler"), model=model, average=average, optimizer=optimizer,
            scheduler=scheduler)
    try:
        return _RunState(epoch=int(resume_state["epoch"]), history=list(resume_state["history"]),
                         best_val_loss=resume_state["best_val_loss"], best_state=resume_state["best_state"],
                         bad_epochs=resume_state["bad_epochs"],
                         best_score=tuple(resume_state["best_score"]) if resume_state.get("best_score") else None)
    except (KeyError, TypeError, ValueError) as error:
        raise misfit(run_dir, error) from None


def _announce(config: TrainConfig, splits, model, resume_state: dict | None) -> None:
    """The run's one-line start, and warnings about data too small to check the model or labelled by number."""
    say(config.progress, f"training {config.arch} ({count_parameters(model):,} parameters) on {splits.name}: "
                 f"{len(splits.train.targets):,} train / {len(splits.val.targets):,} val images, "
                 f"{plural(len(splits.labels), 'class', 'classes')}")
    if resume_state is None and (not len(splits.val.targets) or not len(splits.test.targets)):
        missing = " and ".join(name for name, part in (("validation", splits.val), ("test", splits.test)) if not len(part.targets))
        warn(f"{splits.name} has too few images to hold out {missing} images: "
             + ("every epoch trains on all of them and the last one is shipped, unchecked; " if not len(splits.val.targets) else "")
             + "add images for a measured model")
    if resume_state is None and len(splits.labels) > 10 and all(label.isdigit() for label in splits.labels):
        warn(f"the {len(splits.labels)} labels of {splits.name} are numbers ({', '.join(sorted(splits.labels, key=int)[:4])}"
             "...): if they are class indices, as in Kaggle's EMNIST CSV files, the model will answer with those "
             "numbers; write the characters as labels (Kaggle's EMNIST images are also stored transposed)")


def _train_epoch(config: TrainConfig, epoch: int, model, average, optimizer, scheduler, splits, batch_starts: list[int],
                 run: _RunState, on_step: Optional[StepCallback]) -> dict:
    """One epoch of training, then validation of the shipped (averaged) weights: the epoch's history record."""
    started = time.perf_counter()
    steps_per_epoch = len(batch_starts)
    step = epoch * steps_per_epoch
    augment = config.augment_config.scaled(PRESETS[config.augment]) if config.augment in PRESETS else None
    bf16 = use_bf16(config.precision)
    # Seed everything random in this epoch from (seed, epoch): resume == uninterrupted.
    torch.manual_seed(config.seed * 100_003 + epoch)
    generator = torch.Generator().manual_seed(config.seed * 7_919 + epoch)
    order = torch.randperm(len(splits.train.targets), generator=generator)
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    bar = progress_bar(config.progress, steps_per_epoch, f"epoch {epoch + 1}/{config.epochs}")
    for images, targets in _training_batches(_tensor(splits.train.images), _tensor(splits.train.targets, np.int64),
                                             order, batch_starts, augment, splits.labels, generator):
        images = images.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(images)
            loss = F.cross_entropy(logits, targets, label_smoothing=config.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if average is not None:
            average.update_parameters(model)
        step += 1
        loss_sum += loss.item() * len(targets)
        correct += (logits.argmax(1) == targets).sum().item()
        seen += len(targets)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
        if on_step is not None:
            callback_started = time.perf_counter()
            on_step(step, epoch, shipped(model, average))
            model.train()
            started += time.perf_counter() - callback_started  # an epoch's seconds are training only
    if bar is not None:
        bar.close()
    if not math.isfinite(loss_sum):
        raise diverged(epoch + 1, loss_sum / seen, config.lr)
    val_loss, val_acc = evaluate_torch(shipped(model, average), _tensor(splits.val.images),
                                       _tensor(splits.val.targets, np.int64))
    return {"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen,
            "val_loss": val_loss, "val_acc": val_acc, "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - started}


def _tensor(array: np.ndarray, dtype=None) -> torch.Tensor:
    """A tensor of images (sharing their memory where it can: no copy of the training images per epoch) or of
    targets (a copy, as ``dtype``)."""
    return torch.from_numpy(np.ascontiguousarray(array) if dtype is None else array.astype(dtype))


def _judge_epoch(run: _RunState, record: dict, shipped_model, patience: int | None) -> bool:
    """Keep the best epoch so far and count epochs without progress; whether to stop early.

    Early stopping watches the validation loss; the epoch shipped is the most accurate on validation
    (loss overstates late epochs' harm: they grow confident, not wrong).
    """
    val_loss, val_acc = record["val_loss"], record["val_acc"]
    if val_loss < run.best_val_loss:
        run.best_val_loss, run.bad_epochs = val_loss, 0
    elif not math.isnan(val_loss):  # no validation images: nothing to stop early on
        run.bad_epochs += 1
    score = (val_acc, -val_loss)
    if not math.isnan(val_acc) and (run.best_score is None or score > run.best_score):
        run.best_score, run.best_state = score, copy.deepcopy(shipped_model.state_dict())
    return patience is not None and run.bad_epochs >= patience


def _finish(config: TrainConfig, run: _RunState, model, splits, init_meta) -> Path:
    """Write the bundle of the best epoch's shipped weights (the last epoch's without validation images)."""
    # Guessing uniformly costs ln(classes); a run that ends far above that has blown up (a finite loss
    # of thousands at too high a learning rate), however its validation scores look.
    classes = len(splits.labels)
    if run.history and run.history[-1]["train_loss"] > 3 * math.log(classes):
        warn(f"the training loss ends at {run.history[-1]['train_loss']:.4g}, far above the {math.log(classes):.2f} of "
             f"guessing: the run diverged; lower {option('lr')} (this run: {config.lr:g}) and train again")
    if run.best_state is not None:  # None without a validation split: the last epoch is shipped
        model.load_state_dict(run.best_state)
    model = model.to(memory_format=torch.contiguous_format)
    from inkread.training.bundle import MODEL_FOLDER, write_bundle

    run_dir = Path(config.out)
    try:
        return write_bundle(run_dir / MODEL_FOLDER, model, config, splits, run.history, started_from=init_meta)
    except KeyboardInterrupt:
        print(f"\ninterrupted while writing the model: every epoch is saved; write it with: {how_to_resume(run_dir)}",
              file=sys.stderr)
        raise


# Batches augmented together: the distortions are drawn per image, but one call for several
# batches spends less on the many small operations (about 5% of a step at 128 images a batch).
AUGMENT_BATCHES = 8


def _training_batches(images: torch.Tensor, targets: torch.Tensor, order: torch.Tensor, batch_starts: list[int],
                      augment: AugmentConfig | None, labels, generator: torch.Generator):
    """Yield one epoch's (images, targets) batches in ``order``: 0..1 floats, (B, 1, H, W), augmented."""
    ends = [*batch_starts[1:], len(order)]
    for group in range(0, len(batch_starts), AUGMENT_BATCHES):
        starts, stops = batch_starts[group:group + AUGMENT_BATCHES], ends[group:group + AUGMENT_BATCHES]
        index = order[starts[0]:stops[-1]]
        group_images = images[index].unsqueeze(1).float().div_(255)
        group_targets = targets[index]
        if augment is not None:
            group_images, refit = add_writing_styles(group_images, group_targets, labels, augment, generator)
            group_images = augment_batch(group_images, augment, generator, refit)
        for first, last in zip(starts, stops):
            batch = slice(first - starts[0], last - starts[0])
            yield group_images[batch], group_targets[batch]


def small_data_batch(count: int, recipe_batch: int) -> int:
    """The batch size for ``count`` training images: the recipe's, halved (down to MIN_BATCH) until an
    epoch has MIN_STEPS_PER_EPOCH steps.

    At 128 a few hundred images are a handful of steps an epoch: 138 images trained for 8 steps in
    all and the model guessed (every answer flagged uncertain); batches of 16 learned them.
    """
    batch = recipe_batch
    while batch // 2 >= MIN_BATCH and count < MIN_STEPS_PER_EPOCH * batch:
        batch //= 2
    return batch


def _batch_starts(count: int, batch_size: int) -> list[int]:
    """Where each batch of an epoch starts: a last batch of one image joins the one before.

    Batch norm cannot normalize a batch of one image in training mode (a 129-image data set at
    batch 128 would fail on its last step).
    """
    starts = list(range(0, count, batch_size))
    if len(starts) > 1 and count - starts[-1] == 1:
        starts.pop()
    return starts


def evaluate_torch(model: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on uint8 (N, 28, 28) images."""
    if len(targets) == 0:
        return float("nan"), float("nan")
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for first in range(0, len(targets), EVAL_BATCH):
            batch = images[first:first + EVAL_BATCH].unsqueeze(1).float().div_(255)
            batch = batch.contiguous(memory_format=torch.channels_last)
            logits = model(batch)
            expected = targets[first:first + EVAL_BATCH]
            loss_sum += F.cross_entropy(logits, expected, reduction="sum").item()
            correct += (logits.argmax(1) == expected).sum().item()
    return loss_sum / len(targets), correct / len(targets)


def shipped(model: torch.nn.Module, average) -> torch.nn.Module:
    """The network that is validated and shipped: the weight average if there is one."""
    return model if average is None else average.module


def _make_average(model: torch.nn.Module, decay: float):
    """An exponential moving average of the weights and batch-norm statistics, or None (decay 0).

    The decay warms up as (1 + n) / (10 + n) so that early averages do not drag along the
    random initial weights.
    """
    if not decay:
        return None
    from torch.optim.swa_utils import AveragedModel

    @torch.no_grad()
    def blend(averaged: list[torch.Tensor], current: list[torch.Tensor], count) -> None:
        # Called once per dtype with every tensor of it: one fused lerp instead of three
        # operations per tensor (a few percent of a training step).
        keep = min(decay, (1 + int(count)) / (10 + int(count)))
        if torch.is_floating_point(averaged[0]):
            torch._foreach_lerp_(averaged, current, 1 - keep)
        else:  # batch norm's integer step counters
            for average_tensor, current_tensor in zip(averaged, current):
                average_tensor.copy_(average_tensor + (current_tensor - average_tensor) * (1 - keep))

    return AveragedModel(model, multi_avg_fn=blend, use_buffers=True)


def use_bf16(precision: str) -> bool:
    """bf16 autocast for "bf16", and for "auto" where oneDNN has native bf16 (else it is slower)."""
    if precision == "bf16":
        return True
    if precision != "auto" or not torch.backends.mkldnn.is_available():
        return False
    # PyTorch has no public query for native bf16; this private one has existed since 1.12. If a
    # later release drops it, fall back to fp32 (always correct, only slower) instead of failing.
    supported = getattr(getattr(torch.ops, "mkldnn", None), "_is_mkldnn_bf16_supported", None)
    try:
        return bool(supported()) if supported is not None else False
    except RuntimeError:
        return False


OPTIMIZERS = ("adam", "adamw", "muon")  # adam: the seed projects' (no weight decay unless asked for)


def _make_optimizer(model, config: TrainConfig, steps_per_epoch: int):
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    elif config.optimizer == "muon":
        from inkread.training.muon import MuonWithAdamW

        optimizer = MuonWithAdamW(model, lr=config.lr, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    total_steps = config.epochs * steps_per_epoch
    # A one-cycle schedule needs a warm-up of 2 steps or more (PyTorch's divides by zero at exactly 5
    # steps in all: 5 epochs of a data set of one batch); so few steps learn little either way.
    if config.schedule == "constant" or total_steps < MIN_ONECYCLE_STEPS:
        return optimizer, None
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=total_steps, pct_start=0.2,
        div_factor=10, final_div_factor=200)
    return optimizer, scheduler


def _load_initial_weights(model, init_from: str, init_meta, labels) -> None:
    """Fine-tuning: start from a bundle's weights.pt; a different label set gets a fresh output layer."""
    from inkread.inference.onnx_model import resolve_bundle

    weights = resolve_bundle(init_from) / init_meta.files.get("weights", "weights.pt")
    if not weights.exists():
        raise InkreadError(f"{init_from} has no PyTorch weights ({weights.name}) to fine-tune from: use a run folder made by inkread train")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as error:
        raise InkreadError(f"cannot read {weights} ({type(error).__name__}): the file is corrupt") from None
    if not isinstance(state, dict):
        raise InkreadError(f"{weights} holds no weights ({type(state).__name__}): use a bundle made by inkread train")
    new_label_set = list(init_meta.labels) != list(labels)
    if new_label_set:
        current = model.state_dict()
        state = {k: v for k, v in state.items() if k in current and v.shape == current[k].shape}
    try:
        missing = model.load_state_dict(state, strict=False).missing_keys
    except RuntimeError as error:
        raise InkreadError(f"{init_from} does not fit {option_value('arch', init_meta.arch)}: {first_line(error, 200)}") from None
    # Only the output layer (its weight and bias) may start fresh, and only for a new label set.
    fresh_allowed = 2 if new_label_set else 0
    if len(missing) > fresh_allowed:
        raise InkreadError(f"{weights} lacks {len(missing)} of the network's weights ({missing[0]}, ...): "
                           "it is not a complete inkread model; fine-tune from another bundle")


def _check_config(config: TrainConfig) -> None:
    if config.arch not in ARCHITECTURES:
        raise InkreadError(f"unknown architecture {config.arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    check_recipe(config, "images")
    if config.split_seed < 0:
        raise InkreadError(f"{option('split_seed')} must be 0 or more")
    if config.limit is not None and config.limit < 1:  # said before the data set is loaded, which can take minutes
        raise InkreadError(f"{option('limit')} must be at least 1 training image, got {config.limit}")
    if config.patience is not None and config.patience < 1:
        raise InkreadError(f"{option('patience')} must be at least 1 epoch, got {config.patience}")
    if config.precision not in ("fp32", "bf16", "auto"):
        raise InkreadError(f"{option('precision')} must be one of fp32, bf16, auto")
    if config.optimizer not in OPTIMIZERS:
        raise InkreadError(f"{option('optimizer')} must be one of {', '.join(OPTIMIZERS)}")
    if not (0 <= config.ema < 1):
        raise InkreadError(f"{option('ema')} must be at least 0 and below 1")
    if config.augment not in ("off", *PRESETS):
        raise InkreadError(f"{option('augment')} must be one of off, {', '.join(PRESETS)}")
    # before the data set is loaded (minutes, for some): a run folder that cannot be made fails now
    from inkread.training.bundle import check_run_folder

    check_run_folder(config.out)


def _known_labels(init_meta, resume_state: dict | None) -> tuple[str, ...] | None:
    """The label set training must keep: the fine-tuned model's, or the resumed run's (a run on the
    digits 1, 4 and 7 started before such a folder made a 3-class set keeps its 10 classes); None: the data's."""
    if init_meta is not None:
        return tuple(init_meta.labels)
    if resume_state is not None and resume_state.get("labels"):
        return tuple(resume_state["labels"])
    return None


def _inherited_split(init_meta, dataset: str) -> dict | None:
    """How the start model split ``dataset`` (``training_split``: seed, val_fraction, split_by) if it was
    trained on it, else None."""
    training = init_meta.training or {}
    source = training.get("data_source") or {}
    if not (same_data_set(source.get("spec"), dataset) or same_data_set(training.get("dataset"), dataset)):
        return None
    return training_split(training, dataset)


def _check_training_data(config: TrainConfig, splits, resume_state: dict | None) -> None:
    """Refuse data a run cannot learn from (or that changed since a resumed run began); note what the user should know."""
    num_classes = len(splits.labels)
    if len(splits.train.targets) < 2:
        raise InkreadError(f"data set {config.dataset!r} has {len(splits.train.targets)} training image(s): "
                           "training needs at least 2 (batch norm), and far more to learn anything")
    _check_several_classes(splits, config.dataset)
    merged = splits.source.get("merged_classes")
    if merged:  # a "c" folder fine-tuned into a 47-class model is its class "C": the user should know
        say(config.progress, f"note: {plural(len(merged), 'class', 'classes')} of {config.dataset} "
                             f"{'is' if len(merged) == 1 else 'are'} trained as the model's own, which has one "
                             f"class for both: {' '.join(merged)}")
    taught = set(np.unique(splits.train.targets).tolist())
    untaught = [label for index, label in enumerate(splits.labels) if index not in taught]
    if untaught and not config.init_from:  # a fine-tuned model keeps classes its new data lacks
        warn(f"{len(untaught)} of the {plural(num_classes, 'class', 'classes')} {'has' if len(untaught) == 1 else 'have'} "
             f"no training image ({first_few(untaught)}): the model cannot learn them; add images of them"
             f"{', or take more with ' + option('limit') if config.limit else ''}")
    if resume_state is not None and list(resume_state.get("labels", splits.labels)) != list(splits.labels):
        raise InkreadError(f"the classes of {config.dataset} changed since the run started "
                           f"({len(resume_state['labels'])} then, {num_classes} now): start a new run in another folder ({option('out')})")
    if resume_state is not None and resume_state.get("train_images", len(splits.train.targets)) != len(splits.train.targets):
        raise InkreadError(f"{config.dataset} changed since the run started ({resume_state['train_images']:,} training "
                           f"images then, {len(splits.train.targets):,} now): a resumed run must see the same data; "
                           f"start a new run in another folder ({option('out')})")


def _small_data_batch(config: TrainConfig, train_images: int) -> TrainConfig:
    """``config`` with batches small enough for a small data set to take enough steps an epoch (said in a note)."""
    batch = small_data_batch(train_images, config.batch_size)
    if batch == config.batch_size:
        return config
    steps = max(1, math.ceil(train_images / batch))
    why = f"for {MIN_STEPS_PER_EPOCH} steps or more an epoch" if steps >= MIN_STEPS_PER_EPOCH else \
        f"the smallest, {steps} step{'s' * (steps > 1)} an epoch"
    say(config.progress, f"note: {train_images:,} training images: batches of {batch} instead of the "
                         f"recipe's {config.batch_size}, {why} ({option('batch_size')} to choose)")
    return replace(config, batch_size=batch)


def absolute_model(init_from: str | None) -> str | None:
    """``--init-from`` as recorded: a path made absolute (so that it names the start model from any
    directory); a shipped model's name ("digits") and None as they are."""
    from inkread.inference.onnx_model import PRETRAINED

    if init_from is None or init_from in PRETRAINED:
        return init_from
    return str(Path(init_from).expanduser().resolve())


def _check_several_classes(splits, dataset: str) -> None:
    """Refuse a data set whose images are all of one class, before any training.

    A model shown one class learns to answer it whatever it is shown, and its test accuracy is a
    meaningless 100% (the test images are of that class too). The usual cause is --dataset naming
    one class's folder (folder:digits/3) instead of the folder holding the class folders.
    """
    found = np.unique(np.concatenate([part.targets for part in (splits.train, splits.val, splits.test)]))
    if len(found) >= 2:
        return
    label = repr(splits.labels[int(found[0])]) if len(found) else "none"
    source = getattr(splits, "source", {}) or {}
    if source.get("layout") == "class folders":
        fix = (f"{option('dataset')} must name the folder that holds one sub-folder per class (folder:{Path(source['spec'][7:]).parent}"
               " if this is one class's folder), with images of two classes or more")
    elif source.get("layout") == "labels.csv":
        fix = f"label images of two classes or more in its labels.csv, or point {option('dataset')} at a data set that has them"
    else:
        fix = f"add images of other classes, or point {option('dataset')} at a data set of two classes or more"
    raise DatasetError(f"{dataset} has images of one class only ({label}): a model learns to tell classes apart, and "
                       f"one trained on a single class answers it to every image; {fix}")


def meta_record(meta) -> dict:
    """A model.json as plain data for the checkpoint (``weights_only`` loads no other), its history left out."""
    from dataclasses import asdict

    return {key: value for key, value in asdict(meta).items() if key != "history"}


def _start_meta(init_from: str, resume_state: dict | None, run_dir: Path):
    """The model.json (a ``ModelMeta``) of the model a run fine-tunes: read from ``init_from`` when the
    run starts, from the checkpoint's record when it resumes.

    A resumed run's weights are in its checkpoint: the start model is needed only for its record,
    and may be gone. A checkpoint written before that record was kept has only the path: the model
    is read from there if it still exists, else the run goes on without the record (a warning says so).
    """
    from inkread.inference.bundle_format import ModelMeta

    if resume_state is None:
        return _read_start(init_from)
    if resume_state.get("started_from"):
        return ModelMeta.from_dict(resume_state["started_from"], where=f"{run_dir / CHECKPOINT_FILE} (its start model)")
    try:
        return _read_start(init_from)
    except InkreadError as error:
        warn(f"the model this run was fine-tuned from cannot be read ({error}); the run resumes from its checkpoint, "
             "and its bundle will not record that model's training data")
        return None


def _read_start(init_from: str):
    """The model.json (a ``ModelMeta``) of the bundle that ``--init-from`` names."""
    from inkread.inference.bundle_format import ModelMeta
    from inkread.inference.line_reader import LINE_ARCH
    from inkread.inference.onnx_model import resolve_bundle

    meta = ModelMeta.read(resolve_bundle(init_from))
    if meta.arch == LINE_ARCH:
        raise InkreadError(f"{init_from} is a line model: {option('init_from')} needs a character model (digits, characters, "
                           "or a run folder of inkread train); line models are trained with inkread train-lines")
    return meta


def _check_resume_matches(state: dict, config: TrainConfig) -> None:
    saved = dict(state.get("config", {}))
    if "seed" in saved:
        saved.setdefault("split_seed", saved["seed"])  # runs from before --split-seed split by --seed
    if saved.get("augment_config") and {key: value for key, value in config.augment_config.to_dict().items()
                                        if key in saved["augment_config"]} != saved["augment_config"]:
        styles = option("augment_config", "--styles")
        raise InkreadError(f"{option('resume')} with other {styles} (or distortions) than the run was started with: "
                           f"leave {styles} out to keep the run's, or use another folder ({option('out')})")
    # --epochs sets the length of the one-cycle schedule, --limit the data, --lr the schedule's peak...
    # (a folder:/csv: path is the same data set however it is spelled: relative in older runs)
    check_unchanged_on_resume(config, saved, FIXED_ON_RESUME, same={"dataset": same_data_set})
