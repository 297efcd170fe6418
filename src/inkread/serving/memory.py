"""Give the memory a large image took back to the system once the request is done.

glibc keeps freed memory for reuse: after a photo of 39 megapixels, a worker stayed 150-500 MB
larger for good (the decoded image and its ink maps). ``release_if_grown`` calls glibc's
``malloc_trim`` when the process has grown by ``GROWTH_BYTES`` since the last release: one check
(reading /proc/self/statm, ~15 us) per request, a trim (0.3-8 ms) only after large images.
Elsewhere than glibc on Linux it does nothing.
"""

from __future__ import annotations

import os
import threading

from inkread.machine import libc_function

GROWTH_BYTES = 64 * 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """This process's resident memory, or None where /proc is not there."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class MemoryReleaser:
    """Trims the heap after requests that left the process ``GROWTH_BYTES`` larger than after the last trim."""

    def __init__(self, growth_bytes: int = GROWTH_BYTES):
        self.growth_bytes = growth_bytes
        self.trim = libc_function("malloc_trim")
        self.baseline = resident_bytes()
        self.lock = threading.Lock()

    def release_if_grown(self) -> bool:
        """Trim if the process has grown enough; True if it trimmed. Call it in a worker thread, after a request."""
        if self.trim is None or self.baseline is None:
            return False
        now = resident_bytes()
        if now is None or now - self.baseline < self.growth_bytes:
            return False
        with self.lock:  # one thread trims; the others' checks see the new baseline
            self.trim(0)
            self.baseline = resident_bytes() or now
        return True
