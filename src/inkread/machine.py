"""What this machine lets the process use."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
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


def libc_function(name: str):
    """A function of the C library (glibc's ``malloc_trim``, ``mallopt``), or None where the library or the
    function is not there (macOS, musl, Windows)."""
    library = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(library), name, None) if library else None
    except OSError:
        return None


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
HEAP_BUFFERS_BYTES = 256 * 1024 * 1024


@functools.cache  # once per process (two threads setting the same thresholds at once is harmless)
def keep_large_buffers_in_heap() -> None:
    """Have glibc serve buffers up to ``HEAP_BUFFERS_BYTES`` from its heap, and keep that much freed there, rather
    than map and unmap each one (once per process; nothing elsewhere than glibc).

    ONNX Runtime runs without its memory arena (``inference.onnx_model.new_session``: the arena kept a model's
    largest run for good), so each run allocates its buffers anew: above glibc's mmap threshold (at most 32 MB)
    each was mapped and unmapped, a 256-image batch ran 2.1x and the line model 1.4x slower. Memory freed on the
    heap is given back by ``malloc_trim`` (the server's ``serving.memory``) or reused by the next run.
    """
    mallopt = libc_function("mallopt")
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, HEAP_BUFFERS_BYTES)
        mallopt(M_TRIM_THRESHOLD, HEAP_BUFFERS_BYTES)
