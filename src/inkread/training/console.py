"""What training prints: a progress bar per epoch and one line per event (both off with progress=False),
and warnings (always, on stderr)."""

from __future__ import annotations

import sys

from inkread.errors import warn

__all__ = ["progress_bar", "say", "warn"]  # warn: training's warnings, one line on stderr


def progress_bar(enabled: bool, total: int, description: str):
    """A tqdm bar on stderr, or None when progress is off or stderr is no terminal (a log file: its redrawn
    fragments filled it; the one line per epoch says the same there)."""
    if not enabled or not (sys.stderr and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=description, leave=False, file=sys.stderr, mininterval=0.5, dynamic_ncols=True)


def say(enabled: bool, message: str) -> None:
    """Print ``message`` (flushed: training logs are often piped) when progress is on."""
    if enabled:
        print(message, flush=True)
