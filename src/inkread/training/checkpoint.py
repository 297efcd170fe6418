"""Checkpoints: the whole training state, written atomically after every epoch."""

from __future__ import annotations

import io
import operator
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch

from inkread.errors import InkreadError, command, first_line, how_to_resume, option, option_value
from inkread.files import check_writable_folder, folder_lock, write_bytes_atomic
from inkread.inference.bundle_format import CHECKPOINT_FILE  # named with the bundle's files: inference reads it too

__all__ = ["CHECKPOINT_FILE", "check_unchanged_on_resume", "diverged", "load_checkpoint", "misfit", "refuse_existing_run", "restore", "run_folder_lock", "save_checkpoint",
           "say_interrupted"]


def run_folder_lock(out: str | Path) -> AbstractContextManager[None]:
    """Hold the run folder ``out`` for one training: a second one into it at the same time is refused at once
    (the two would overwrite each other's checkpoints and bundle)."""
    check_writable_folder(out)
    return folder_lock(out, f"{option_value('out', out)} is being written by another training run right now: "
                            "wait for it to finish, or choose another folder")


def save_checkpoint(run_dir: Path, state: dict) -> None:
    """Write ``state`` to RUN/checkpoint.pt via a temp file + rename (never half-written)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes_atomic(Path(run_dir) / CHECKPOINT_FILE, buffer.getvalue())


def load_checkpoint(run_dir: Path, lines: bool = False) -> dict:
    """Read RUN/checkpoint.pt of a run of ``inkread train`` (of ``train-lines`` with ``lines``); a missing or corrupt
    file, or another command's run, raises a one-line ``InkreadError``."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.exists():
        raise InkreadError(f"nothing to resume: {path} does not exist (run without {option('resume')} to start)")
    try:
        # weights_only: tensors and plain data only, which is all save_checkpoint writes; a full
        # unpickler would run any code a checkpoint planted in a run folder carries (--resume RUN)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types (pickle, zip, EOF) for a damaged file
        raise InkreadError(f"checkpoint {path} is corrupt or holds more than tensors and plain data ({type(error).__name__}), "
                           "so it was not loaded: delete it to start the run over") from None
    if not isinstance(state, dict) or "model" not in state or "epoch" not in state:
        raise InkreadError(f"checkpoint {path} is not an inkread checkpoint: delete it to start the run over")
    if _line_run(state) != lines:  # it would not fit ("delete the checkpoint", of a good run) or lack its settings
        raise InkreadError(f"{run_dir} is a run of {_command(not lines)}, not of {_command(lines)}: continue it with "
                           f"`{how_to_resume(run_dir, not lines)}`")
    return state


def _line_run(state: dict) -> bool:
    """Whether a checkpoint is a line model's run (``train-lines``: its settings count lines per epoch)."""
    return "lines_per_epoch" in (state.get("config") or {})


def _command(lines: bool) -> str:
    return command("inkread train-lines" if lines else "inkread train", "train_lines" if lines else "train")


def refuse_existing_run(run_dir: Path, lines: bool = False) -> None:
    """A new run (of ``train-lines`` with ``lines``) into a folder that holds one: refused (starting over would
    overwrite its checkpoint); said how to continue it, by the command that made it."""
    if not (Path(run_dir) / CHECKPOINT_FILE).exists():
        return
    try:
        load_checkpoint(run_dir, lines)
    except InkreadError as error:  # another command's run (or a damaged one: said so)
        raise InkreadError(f"{run_dir} already holds a training run: {error}, or choose another folder ({option('out')})") from None
    raise InkreadError(f"{run_dir} already holds a training run: add {option('resume')} to continue it, or choose another folder "
                       f"({option('out')})")


def restore(state: dict, run_dir: Path, optional: tuple[str, ...] = (), **objects) -> None:
    """Load each of ``objects`` (model=, optimizer=, ...; None: this run has none) from the checkpoint ``state``'s
    entry of that name. An ``optional`` entry the checkpoint lacks (an older run's) is skipped.

    A checkpoint of another network or optimizer raises a one-line ``InkreadError`` (``misfit``).
    """
    try:
        for name, target in objects.items():
            if target is not None and not (name in optional and state.get(name) is None):
                target.load_state_dict(state[name])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise misfit(run_dir, error) from None


def check_unchanged_on_resume(config, started_with: dict, keys: Iterable[str],
                              same: Mapping[str, Callable[[Any, Any], bool]] | None = None) -> None:
    """Refuse to resume a run with any setting of ``keys`` other than ``started_with`` (the checkpoint's record)
    holds; ``same`` gives a key its own comparison where == is not it (a data set spelled two ways)."""
    for key in keys:
        equal = (same or {}).get(key, operator.eq)
        if key in started_with and not equal(started_with[key], getattr(config, key)):
            raise InkreadError(f"{option('resume')} with a different {option(key)} ({getattr(config, key)!r}) than the run "
                               f"was started with ({started_with[key]!r}): use the same, or another folder ({option('out')})")


def misfit(run_dir: Path, error: Exception) -> InkreadError:
    """The error for a checkpoint that does not hold what this run needs."""
    return InkreadError(f"{Path(run_dir) / CHECKPOINT_FILE} does not fit this run ({type(error).__name__}: "
                        f"{first_line(error, 200)}): start over in another folder ({option('out')}), or delete the checkpoint")


def diverged(epoch: int, loss: float, lr: float) -> InkreadError:
    """The error for a run whose loss stopped being a number: its checkpoints hold the same fate, so start anew."""
    return InkreadError(f"training diverged in epoch {epoch}: the loss is {loss:g}; lower {option('lr')} (this run: {lr:g}) "
                        f"and start again in another folder ({option('out')})")


def say_interrupted(run_dir: Path, epochs_done: int, lines: bool = False) -> None:
    """What a Ctrl-C left behind, and how to continue it (a line model's run with ``lines``)."""
    if (Path(run_dir) / CHECKPOINT_FILE).exists():
        print(f"\ninterrupted after {epochs_done} complete epoch(s); continue with: {how_to_resume(run_dir, lines)}",
              file=sys.stderr)
    else:
        print("\ninterrupted during the first epoch: nothing was saved, run the command again", file=sys.stderr)
