"""Checkpoints: the whole training state, written atomically after every epoch."""

from __future__ import annotations

import io
from contextlib import AbstractContextManager
from pathlib import Path

import torch

from inkread.errors import InkreadError
from inkread.files import check_writable_folder, folder_lock, write_bytes_atomic
from inkread.inference.bundle_format import CHECKPOINT_FILE  # named with the bundle's files: inference reads it too

__all__ = ["CHECKPOINT_FILE", "load_checkpoint", "run_folder_lock", "save_checkpoint"]


def run_folder_lock(out: str | Path) -> AbstractContextManager[None]:
    """Hold the run folder ``out`` for one training: a second one into it at the same time is refused at once
    (the two would overwrite each other's checkpoints and bundle)."""
    check_writable_folder(out)
    return folder_lock(out, f"--out {out} is being written by another training run right now: "
                            "wait for it to finish, or choose another --out")


def save_checkpoint(run_dir: Path, state: dict) -> None:
    """Write ``state`` to RUN/checkpoint.pt via a temp file + rename (never half-written)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes_atomic(Path(run_dir) / CHECKPOINT_FILE, buffer.getvalue())


def load_checkpoint(run_dir: Path) -> dict:
    """Read RUN/checkpoint.pt; a missing or corrupt file raises a one-line ``InkreadError``."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.exists():
        raise InkreadError(f"nothing to resume: {path} does not exist (run without --resume to start)")
    try:
        # weights_only: tensors and plain data only, which is all save_checkpoint writes; a full
        # unpickler would run any code a checkpoint planted in a run folder carries (--resume RUN)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types (pickle, zip, EOF) for a damaged file
        raise InkreadError(f"checkpoint {path} is corrupt or holds more than tensors and plain data ({type(error).__name__}), "
                           "so it was not loaded: delete it to start the run over") from None
    if not isinstance(state, dict) or "model" not in state or "epoch" not in state:
        raise InkreadError(f"checkpoint {path} is not an inkread checkpoint: delete it to start the run over")
    return state
