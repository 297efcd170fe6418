"""Checkpoints: the whole training state, written atomically after every epoch."""

from __future__ import annotations

import io
from pathlib import Path

import torch

from inkread.errors import InkreadError
from inkread.files import write_bytes_atomic

CHECKPOINT_FILE = "checkpoint.pt"


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
