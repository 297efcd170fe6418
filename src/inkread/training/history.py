"""Training history as CSV and JSON in the run folder."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from inkread.files import write_text_atomic

COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
LINE_COLUMNS = ("epoch", "train_loss", "val_cer", "val_exact", "lr", "seconds")  # a line model's (train-lines)


def write_history(run_dir: Path, history: list[dict], columns: tuple[str, ...] = COLUMNS) -> None:
    """Write RUN/history.csv and RUN/history.json (atomically)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(history)
    write_text_atomic(Path(run_dir) / "history.csv", buffer.getvalue())
    write_text_atomic(Path(run_dir) / "history.json", json.dumps(history, indent=2) + "\n")
