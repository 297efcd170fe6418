"""What this machine lets the process use."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """CPUs this process may run on: what ``taskset`` or a container's CPU set allows, not ``os.cpu_count()``
    (the machine's), which oversubscribes a process pinned to fewer cores."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
