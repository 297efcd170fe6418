"""What this machine lets the process use."""

from __future__ import annotations

import os

from inkread.errors import option_value, warn


def usable_cores() -> int:
    """CPUs this process may run on: what ``taskset`` or a container's CPU set allows, not ``os.cpu_count()``
    (the machine's), which oversubscribes a process pinned to fewer cores."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def threads_to_use(asked: int | None, setting: str = "threads") -> int:
    """The threads to compute with: ``asked``, at most the usable cores (with a warning), or all of them.

    More threads than cores only take turns: ``--threads 999`` on one core ran 20 times slower."""
    cores = usable_cores()
    if not asked:
        return cores
    if asked > cores:
        warn(f"{option_value(setting, asked)}: this process may use {cores} CPU core{'s' if cores != 1 else ''}; "
             f"using {cores} thread{'s' if cores != 1 else ''}")
        return cores
    return asked
