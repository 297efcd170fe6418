"""A download's minimum speed, enforced while pooch downloads.

requests' read timeout is per read: a server that sends a byte every few seconds never trips it, and
a download from it never ends. ``SpeedWatchdog`` counts the bytes written and, when a window of
``window`` seconds brings fewer than ``min_bytes``, shuts the connection's socket down, which ends
the read blocked in it (with an error that ``too_slow`` then explains).
"""

from __future__ import annotations

import socket
import threading
from typing import IO


class SpeedWatchdog:
    """Watch one download; use as ``with watchdog: pooch.retrieve(..., downloader=watchdog.downloader(http))``."""

    def __init__(self, min_bytes: int, window: float):
        self.min_bytes, self.window = min_bytes, window
        self.written = 0
        self.too_slow = False
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def downloader(self, http):
        """A pooch downloader doing what ``http`` (a ``pooch.HTTPDownloader``) does, its bytes counted and its
        connection watched (``http`` must pass ``hooks`` on to requests, as pooch's does)."""
        http.kwargs["hooks"] = {"response": self._attach}

        def download(url: str, output_file: str, pooch_object) -> None:
            with open(output_file, "w+b") as handle:
                http(url, _Counted(handle, self), pooch_object)
        return download

    def __enter__(self) -> "SpeedWatchdog":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _attach(self, response, *args, **kwargs):
        """requests' response hook: keep the socket the body will be read from (urllib3's connection's)."""
        connection = getattr(response.raw, "connection", None)
        self._sock = getattr(connection, "sock", None)
        return response

    def _watch(self) -> None:
        start = self.written
        while not self._stop.wait(self.window):
            if self._sock is not None and self.written - start < self.min_bytes:
                self.too_slow = True
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # closed meanwhile: the download ended anyway
                return
            start = self.written


class _Counted:
    """A file that counts the bytes written to it into ``watchdog.written``."""

    def __init__(self, handle: IO[bytes], watchdog: SpeedWatchdog):
        self._handle, self._watchdog = handle, watchdog

    def write(self, data: bytes) -> int:
        """Write ``data`` and count it."""
        self._watchdog.written += len(data)
        return self._handle.write(data)

    def flush(self) -> None:
        """Flush the file."""
        self._handle.flush()
