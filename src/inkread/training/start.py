"""What a training run starts from, checked before the first step: ``run_config`` (the options, filled
in from the recipe, a resumed run's checkpoint or the model it fine-tunes), ``load_splits`` (the data
set, split as the run or its start model was split), ``check_training_data`` (data a run cannot learn
from is refused) and ``load_initial_weights`` (fine-tuning).

Every check that can fail does so before training, most before the data set is loaded, with a
one-line message that says what to change.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from inkread.data.load import absolute_spec, same_data_set, training_split
from inkread.data.splits import SPLIT_BY, LabelsOutsideSet, classes_one_level_down
from inkread.errors import DatasetError, InkreadError, first_few, first_line, option, option_value, plural, spell_labels
from inkread.models import ARCHITECTURES
from inkread.training.augment import PRESETS
from inkread.training.checkpoint import CHECKPOINT_FILE, check_unchanged_on_resume, load_checkpoint, refuse_existing_run
from inkread.training.config import FIXED_ON_RESUME, OPTIMIZERS, PRECISIONS, SCHEDULES, TrainConfig, check_recipe
from inkread.training.console import say, warn

MIN_STEPS_PER_EPOCH = 50  # a small data set trains in smaller batches (down to MIN_BATCH) to take this many steps
MIN_BATCH = 16
FEW_STEPS = 10  # a batch size given that leaves fewer steps an epoch (and a smaller batch would take more) is said


def run_config(config: TrainConfig):
    """The run's config, checked and with its recipe filled in; whether a batch size was given (else a small data
    set gets a smaller one); its checkpoint if resumed; the start model's model.json if fine-tuned; and the split
    that start model was trained with if the run inherits it."""
    resume_state = None
    # Recorded absolute, as folder:/csv: paths are: the record names the start model and the data
    # directory from any directory (export reads the run's --data-dir).
    # Made so before the run's own is taken on resume: an older run's relative one is relative to a
    # directory no longer known, and is kept as it was written.
    config = replace(config, init_from=absolute_model(config.init_from), data_dir=absolute_folder(config.data_dir))
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
        check_resume_matches(resume_state, config)
    else:
        refuse_existing_run(run_dir)
    if init_meta is not None and init_meta.arch != config.arch:  # before the data set is loaded: fail fast
        raise InkreadError(f"{config.init_from} is a model of architecture {init_meta.arch}: fine-tune it with "
                           f"{option_value('arch', init_meta.arch)}, or leave {option('arch')} out")
    return config, batch_given, resume_state, init_meta, inherited


def load_splits(config: TrainConfig, resume_state: dict | None, init_meta, inherited: dict | None):
    """The run's data set, split as the run (or the start model it inherits its split from) was split."""
    from inkread.data import load_dataset

    # A resumed run keeps the split it started with (runs before 2026-12-04 split folders by position).
    split_by = resume_state.get("split_by", "position") if resume_state is not None else \
        inherited["split_by"] if inherited is not None else SPLIT_BY
    kind, _, where = config.dataset.partition(":")
    if resume_state is not None and kind in ("folder", "csv") and where and not Path(where).exists():
        # (the folder layout's advice was wrong here, and another --dataset is refused on resume: a run trains on one set)
        raise DatasetError(f"the run's data set is no longer at {where}: move it back there to resume "
                           f"{config.out}, or start a new run on it where it is now")
    try:
        return load_dataset(config.dataset, data_dir=config.data_dir, seed=config.split_seed,
                            val_fraction=config.val_fraction, limit=config.limit, split_by=split_by,
                            labels=_known_labels(init_meta, resume_state))
    except LabelsOutsideSet as error:
        if init_meta is None or resume_state is not None:
            raise
        # Renaming the images is rarely the fix here: the starting model is the wrong one.
        labels = init_meta.labels
        known = spell_labels(labels)
        # (the shipped characters model is the one to name, unless the start model knows as much already)
        other = "" if set("0123456789aZ") <= set(labels) else " (characters knows digits and letters)"
        fix = error.hint or f"fine-tune a model that knows them{other}, or train without {option('init_from')}"
        raise DatasetError(f"{config.dataset} has labels {config.init_from} does not know: {first_few(error.unknown)} "
                           f"(it knows {known}): {fix}") from None


def check_training_data(config: TrainConfig, splits, resume_state: dict | None) -> None:
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


def with_small_data_batch(config: TrainConfig, train_images: int, batch_given: bool) -> TrainConfig:
    """``config`` with batches small enough for a small data set to take enough steps an epoch (said in a note);
    a batch size given (``batch_given``) is kept, but said if it leaves under ``FEW_STEPS`` an epoch where a smaller
    one would take more."""
    if batch_given:
        # what leaving it out gives: the recipe's batch, halved for small data (halving the one given advised 24
        # where leaving it out gave 16)
        batch = small_data_batch(train_images, replace(config, batch_size=None).resolved().batch_size)
        steps = len(batch_starts(train_images, batch))
        given = len(batch_starts(train_images, config.batch_size))
        if batch < config.batch_size and given < FEW_STEPS:  # 81 images in batches of 1000: one step, a model at chance
            say(config.progress, f"note: {train_images:,} training images in batches of {config.batch_size}: "
                                 f"{plural(given, 'step', 'steps')} an epoch, few to learn from (batches of {batch} "
                                 f"take {steps}: leave {option('batch_size')} out to have them)")
        return config
    batch = small_data_batch(train_images, config.batch_size)
    steps = len(batch_starts(train_images, batch))
    if batch == config.batch_size:
        return config
    why = f"for {MIN_STEPS_PER_EPOCH} steps or more an epoch" if steps >= MIN_STEPS_PER_EPOCH else \
        f"the smallest, {plural(steps, 'step', 'steps')} an epoch"
    say(config.progress, f"note: {train_images:,} training images: batches of {batch} instead of the "
                         f"recipe's {config.batch_size}, {why} ({option('batch_size')} to choose)")
    return replace(config, batch_size=batch)


def batch_starts(count: int, batch_size: int) -> list[int]:
    """Where each batch of an epoch starts: a last batch of one image joins the one before.

    Batch norm cannot normalize a batch of one image in training mode (a 129-image data set at
    batch 128 would fail on its last step).
    """
    starts = list(range(0, count, batch_size))
    if len(starts) > 1 and count - starts[-1] == 1:
        starts.pop()
    return starts


def load_initial_weights(model, init_from: str, init_meta, labels) -> None:
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
    """Refuse options no run can use, before the data set is loaded (which can take minutes)."""
    if config.arch not in ARCHITECTURES:
        raise InkreadError(f"unknown architecture {config.arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    check_recipe(config, "images")
    if config.split_seed < 0:
        raise InkreadError(f"{option('split_seed')} must be 0 or more")
    if config.limit is not None and config.limit < 1:  # said before the data set is loaded, which can take minutes
        raise InkreadError(f"{option('limit')} must be at least 1 training image, got {config.limit}")
    if config.patience is not None and config.patience < 1:
        raise InkreadError(f"{option('patience')} must be at least 1 epoch, got {config.patience}")
    if config.precision not in PRECISIONS:
        raise InkreadError(f"{option('precision')} must be one of {', '.join(PRECISIONS)}")
    if config.optimizer not in OPTIMIZERS:
        raise InkreadError(f"{option('optimizer')} must be one of {', '.join(OPTIMIZERS)}")
    if not (0 <= config.ema < 1):
        raise InkreadError(f"{option('ema')} must be at least 0 and below 1")
    if not (0 <= config.label_smoothing < 1):
        raise InkreadError(f"{option('label_smoothing')} must be at least 0 and below 1, got {config.label_smoothing}")
    if config.schedule not in SCHEDULES:  # anything else trained one-cycle, and model.json said it was that
        raise InkreadError(f"{option('schedule')} must be one of {', '.join(SCHEDULES)}")
    if config.augment not in ("off", *PRESETS):
        raise InkreadError(f"{option('augment')} must be one of off, {', '.join(PRESETS)}")
    # before the data set is loaded (minutes, for some): a run folder that cannot be made fails now
    from inkread.files import check_outside_data_set
    from inkread.training.bundle import check_run_folder

    check_run_folder(config.out)
    check_outside_data_set(config.out, config.dataset, "run")  # its checkpoints would be read as a class


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


def absolute_folder(folder: str | None) -> str | None:
    """A folder setting as recorded: absolute, so that a resumed run finds it from any directory (train-lines kept
    ``--data-dir ../shared/datasets`` as typed, and resumed elsewhere it looked for EMNIST in the wrong place)."""
    return str(Path(folder).expanduser().resolve()) if folder else None


def absolute_model(init_from: str | None) -> str | None:
    """``--init-from`` as recorded: a path made absolute (so that it names the start model from any
    directory); a shipped model's name ("digits") and None as they are."""
    from inkread.inference.onnx_model import PRETRAINED

    if init_from is None or init_from in PRETRAINED:
        return init_from
    if not Path(init_from).expanduser().exists() and not any(sep in init_from for sep in ("/", os.sep)):
        return init_from  # no such folder, and not written as a path: a mistyped name, told "did you mean 'digits'?"
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
        root = Path(source["spec"][len("folder:"):])
        # a data set unzipped into a folder of its own (data/my_digits/7/...): its classes are one level down
        # (the parent folder, suggested otherwise, was the wrong way)
        fix = classes_one_level_down(root, [splits.labels[int(found[0])]] if len(found) else []) or \
            (f"{option('dataset')} must name the folder that holds one sub-folder per class (folder:{root.parent}"
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

    meta = ModelMeta.read(resolve_bundle(init_from, "digits or characters"))  # (not lines: refused below)
    if meta.arch == LINE_ARCH:
        raise InkreadError(f"{init_from} is a line model: {option('init_from')} needs a character model (digits, characters, "
                           "or a run folder of inkread train); line models are trained with inkread train-lines")
    return meta


def check_resume_matches(state: dict, config: TrainConfig) -> None:
    """Refuse to resume a run with options that would change what its checkpoint holds (the data, the
    network, the recipe), or with other writing styles or distortions than it started with."""
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
