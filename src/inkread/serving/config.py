"""``ServeConfig``: the options of ``inkread serve``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

MB = 1024 * 1024


@dataclass
class ServeConfig:
    """What ``inkread serve`` serves, where, and with which limits.

    ``models`` are "digits", "characters", "lines" or bundle paths; empty means every shipped model that is
    installed. The first one is the default model of the API and the page.
    """

    host: str = "127.0.0.1"  # loopback only unless the user asks for more
    port: int = 8000  # 0 picks a free port (the address printed at start says which)
    models: list[str] = field(default_factory=list)
    data_dir: str | os.PathLike | None = None  # corrections.sqlite3 goes here
    cors_origins: list[str] = field(default_factory=list)  # browser origins allowed to call the API
    max_body_bytes: int = 8 * MB  # larger requests get 413 while they are being read
    body_timeout_s: float = 30.0  # a body still arriving after this long gets 408 (a stalled or trickling client)
    header_timeout_s: float = 10.0  # a connection whose request headers are not all in after this long is closed
    # Server processes sharing the socket. One Python process is held near one core by the GIL, so
    # the default is one per core, up to 2 (measured: 236 req/s with 1, 522 req/s with 2 on 2 cores;
    # benchmarks/load_test.py). 1 starts fastest and uses the least memory.
    workers: int = field(default_factory=lambda: max(1, min(2, os.cpu_count() or 1)))
    inference_threads: int = 2  # requests of one process running the model at once (the rest wait their turn)
    log_requests: bool = False  # one access-log line per request (off: it costs throughput)
