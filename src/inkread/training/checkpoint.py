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
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises many types (pickle, zip, EOF) for a damaged file
        raise InkreadError(f"checkpoint {path} is corrupt ({type(error).__name__}): delete it to start the run over") from None
    if not isinstance(state, dict) or "model" not in state or "epoch" not in state:
        raise InkreadError(f"checkpoint {path} is not an inkread checkpoint: delete it to start the run over")
    return state
