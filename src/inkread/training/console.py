"""What training prints: a progress bar per epoch and one line per event (both off with progress=False),
and warnings (always, on stderr)."""

from __future__ import annotations

import sys


def progress_bar(enabled: bool, total: int, description: str):
    """A tqdm bar on stderr, or None when progress is off."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=description, leave=False, file=sys.stderr, mininterval=0.5, dynamic_ncols=True)


def say(enabled: bool, message: str) -> None:
    """Print ``message`` (flushed: training logs are often piped) when progress is on."""
    if enabled:
        print(message, flush=True)


def warn(message: str) -> None:
    """Print a warning on stderr, even with progress off: it is about the result, not the progress."""
    print(f"inkread: warning: {message}", file=sys.stderr, flush=True)
