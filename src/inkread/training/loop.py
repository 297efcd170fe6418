"""The training loop: ``train(TrainConfig)`` reads a data set, trains, and writes a model bundle.

Read top to bottom: set up (the checked options and data from ``start.py``; model, optimizer, maybe
resume), then one epoch at a time (shuffle, augment, step; validate; checkpoint), then the final
bundle with test metrics.

Reproducibility: every random draw of epoch ``e`` comes from generators seeded with (seed, e), so
a run interrupted and resumed from its last checkpoint replays exactly the epochs it had left and
ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import copy
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F

from inkread.data.splits import SPLIT_BY
from inkread.errors import DiskFullError, check_config_type, how_to_resume, option, plural
from inkread.machine import threads_to_use
from inkread.models import build_model, count_parameters
from inkread.training.augment import PRESETS, AugmentConfig, augment_batch
from inkread.training.checkpoint import CHECKPOINT_FILE, diverged, misfit, restore, run_folder_lock, save_checkpoint, say_interrupted
from inkread.training.console import progress_bar, say, warn
from inkread.training.config import TrainConfig
from inkread.training.history import write_history
from inkread.training.start import (batch_starts, check_training_data, load_initial_weights, load_splits, meta_record,
                                    run_config, with_small_data_batch)
from inkread.training.styles import add_writing_styles

# Called after every optimizer step with (step, epoch, network): the network that would be shipped
# if training stopped now (the weight average when there is one). The benchmark uses it to measure
# time-to-accuracy. It may switch that network to eval mode; the loop puts its own back in training.
# Its time is left out of the epoch "seconds" in the history.
StepCallback = Callable[[int, int, torch.nn.Module], None]

EVAL_BATCH = 1000
MIN_ONECYCLE_STEPS = 15  # fewer steps in all train at a constant learning rate (see _make_optimizer)


def train(config: TrainConfig, *, splits=None, on_step: Optional[StepCallback] = None) -> Path:
    """Train as ``config`` says and return the folder of the model bundle (RUN/model).

    ``splits`` (a ``DatasetSplits``) may be given to skip loading ``config.dataset``. A second
    training into the same ``config.out`` while this one runs is refused (``run_folder_lock``).
    """
    check_config_type(config, TrainConfig, "train")
    with run_folder_lock(config.out), torch_threads_restored(), resumable_after_disk_full(config.out):
        return _train(config, splits, on_step)


@contextlib.contextmanager
def resumable_after_disk_full(run_dir: "str | Path", lines: bool = False) -> Iterator[None]:
    """A full disk mid-run says to go on with --resume: "run again" alone was refused, the run folder
    already holding a run (every finished epoch is in its checkpoint). Full before the first checkpoint was
    written, there is nothing to resume ("nothing to resume: ... does not exist"): running again is right."""
    try:
        yield
    except DiskFullError as error:
        if not (Path(run_dir) / CHECKPOINT_FILE).exists():
            raise
        raise DiskFullError(f"{str(error).removesuffix(' and run again')}, then continue with: "
                            f"{how_to_resume(run_dir, lines)}") from None


@contextlib.contextmanager
def torch_threads_restored() -> Iterator[None]:
    """Give PyTorch's thread count back as it was: a run's ``threads`` must not stay set in the caller's process."""
    before = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train(config: TrainConfig, splits, on_step: Optional[StepCallback]) -> Path:
    config, batch_given, resume_state, init_meta, inherited = run_config(config)
    run_dir = Path(config.out)
    torch.set_num_threads(threads_to_use(config.threads))
    if splits is None:
        splits = load_splits(config, resume_state, init_meta, inherited)
    check_training_data(config, splits, resume_state)
    config = with_small_data_batch(config, len(splits.train.targets), batch_given)

    torch.manual_seed(config.seed)
    model = build_model(config.arch, len(splits.labels))
    # Channels-last convolutions are faster on CPU (oneDNN's native layout): ~25% at 1 thread.
    model = model.to(memory_format=torch.channels_last)
    start_test = None  # the start model's test accuracy: what a fine-tuning is to beat
    if init_meta is not None and resume_state is None:
        load_initial_weights(model, config.init_from, init_meta, splits.labels)
        if len(splits.test.targets):
            from inkread.training.bundle import test_metrics

            start_test = test_metrics(model, splits)["test_accuracy"]
    starts = batch_starts(len(splits.train.targets), config.batch_size)
    optimizer, scheduler = _make_optimizer(model, config, len(starts))
    # The weight average (EMA) is what gets validated, checkpointed as best, and shipped: it is
    # smoother than the raw weights, which jump around at the high learning rates we train with.
    average = _make_average(model, config.ema)
    run = _RunState(start_test=start_test)
    if resume_state is not None:
        run = _restored(resume_state, run_dir, model, average, optimizer, scheduler)
        say(config.progress, f"resuming {run_dir} after epoch {run.epoch}" if run.epoch < config.epochs else
            f"{run_dir} has trained all its {plural(config.epochs, 'epoch', 'epochs')}: its bundle is written again from the last checkpoint")
    _announce(config, splits, model, resume_state)
    try:
        for epoch in range(run.epoch, config.epochs):
            record = _train_epoch(config, epoch, model, average, optimizer, scheduler, splits, starts, run, on_step)
            run.history.append(record)
            validated = (f"val loss {record['val_loss']:.4f} acc {record['val_acc']:.4f}" if len(splits.val.targets)
                         else "no validation images")  # not "val loss nan", which reads as a diverged run
            say(config.progress, f"epoch {epoch + 1}/{config.epochs}: train loss {record['train_loss']:.4f} acc {record['train_acc']:.4f}"
                                 f" | {validated} | {record['seconds']:.0f}s")
            stop = _judge_epoch(run, record, shipped(model, average), config.patience)
            write_history(run_dir, run.history)
            save_checkpoint(run_dir, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "average": average.state_dict() if average is not None else None,
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "epoch": epoch + 1, "history": run.history, "best_val_loss": run.best_val_loss,
                "best_score": run.best_score, "best_state": run.best_state, "bad_epochs": run.bad_epochs,
                "start_test": run.start_test,
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


@dataclass
class _RunState:
    """Where a run stands after its last complete epoch (what a checkpoint keeps besides the weights)."""

    epoch: int = 0
    history: list = field(default_factory=list)
    best_val_loss: float = math.inf
    best_score: tuple | None = None  # ranks epochs for shipping: validation accuracy, then lower validation loss
    best_state: dict | None = None   # the shipped weights of the best epoch so far
    bad_epochs: int = 0              # epochs since the validation loss last fell (early stopping)
    start_test: float | None = None  # fine-tuning: the start model's accuracy on this run's test images


def _restored(resume_state: dict, run_dir: Path, model, average, optimizer, scheduler) -> _RunState:
    """Load a checkpoint's weights and optimizer into the run's objects and return where it stood."""
    restore(resume_state, run_dir, optional=("average", "scheduler"), model=model, average=average, optimizer=optimizer,
            scheduler=scheduler)
    try:
        return _RunState(epoch=int(resume_state["epoch"]), history=list(resume_state["history"]),
                         best_val_loss=resume_state["best_val_loss"], best_state=resume_state["best_state"],
                         bad_epochs=resume_state["bad_epochs"], start_test=resume_state.get("start_test"),
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
        return write_bundle(run_dir / MODEL_FOLDER, model, config, splits, run.history, started_from=init_meta,
                            start_test=run.start_test)
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
