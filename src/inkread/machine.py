"""What this machine lets the process use."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

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


def libc() -> ctypes.CDLL | None:
    """The C library, for glibc's memory calls (``malloc_trim``, ``mallopt``); None where it cannot be loaded."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
HEAP_BUFFERS_BYTES = 256 * 1024 * 1024
_heap_buffers_lock = threading.Lock()
_heap_buffers_set: list[bool] = []


def keep_large_buffers_in_heap() -> None:
    """Have glibc serve buffers up to ``HEAP_BUFFERS_BYTES`` from its heap, and keep that much freed there, rather
    than map and unmap each one (once per process; nothing elsewhere than glibc).

    ONNX Runtime runs without its memory arena (``inference.onnx_model.new_session``: the arena kept a model's
    largest run for good), so each run allocates its buffers anew: above glibc's mmap threshold (at most 32 MB)
    each was mapped and unmapped, a 256-image batch ran 2.1x and the line model 1.4x slower. Memory freed on the
    heap is given back by ``malloc_trim`` (the server's ``serving.memory``) or reused by the next run.
    """
    with _heap_buffers_lock:
        if _heap_buffers_set:
            return
        _heap_buffers_set.append(True)
        library = libc()
        mallopt = getattr(library, "mallopt", None) if library is not None else None
        if mallopt is not None:
            mallopt(M_MMAP_THRESHOLD, HEAP_BUFFERS_BYTES)
            mallopt(M_TRIM_THRESHOLD, HEAP_BUFFERS_BYTES)
