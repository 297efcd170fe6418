"""``ServeConfig``: the options of ``inkread serve``."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from inkread.errors import InkreadError, option
from inkread.machine import usable_cores

MB = 1024 * 1024
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443}
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
HOST_NAME = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")  # a name, an IPv4 or an IPv6 address


def normalize_origin(text: str) -> str:
    """``text`` as a browser writes it in an ``Origin`` header: ``scheme://host[:port]``, lowercase, no
    trailing slash, no default port; InkreadError naming the option when it is not an origin.

    A browser sends ``http://localhost:3000``: the ``http://localhost:3000/`` or ``http://LOCALHOST:3000``
    a user types must match it, or the CORS and cross-site write checks silently refuse that page.
    """
    fix = "give scheme://host[:port] with no path, as the browser's address bar shows it, like http://localhost:3000"
    stripped = text.strip()
    parts = urlsplit(stripped.rstrip("/") if stripped.count("/") == 3 else stripped)  # "http://a/" -> "http://a"
    try:
        port = parts.port
    except ValueError:
        raise InkreadError(f"{option('cors_origins', '--cors-origin')} {text!r}: the port is not a number from 0 to 65535; {fix}") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if (not SCHEME.fullmatch(scheme) or not host or parts.path or parts.query or parts.fragment
            or parts.username is not None or "://" not in stripped):
        raise InkreadError(f"{option('cors_origins', '--cors-origin')} {text!r} is not an origin: {fix}")
    if ":" in host:  # IPv6, written in brackets in an origin
        host = f"[{host}]"
    return f"{scheme}://{host}" + ("" if port is None or port == DEFAULT_PORTS.get(scheme) else f":{port}")


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
    # Host names the server answers to besides its loopback names (a reverse proxy's, a LAN name). A
    # loopback server checks Host (against DNS rebinding); one on another address checks it only if
    # names are given here, since machines reach it by names it cannot know.
    allowed_hosts: list[str] = field(default_factory=list)
    max_body_bytes: int = 8 * MB  # larger requests get 413 while they are being read
    # the bytes of bodies received by the requests a worker handles at once, together (past it, 503, try again):
    # 150 uploads of 8 MB at once took a worker to 2 GB. Counted as the bytes arrive, so connections that sent
    # only headers hold none of it, and a drawing (a few KB) is held up only when that much really is in memory
    max_body_bytes_in_flight: int = 128 * MB
    body_timeout_s: float = 30.0  # a body still arriving after this long gets 408 (a stalled or trickling client)
    # Of a body refused with 413 or 503, the bytes read and thrown away (within body_timeout_s) before the answer, so
    # that a client still sending gets it: with the body unread, closing the connection reset it and http.client or
    # requests reported "connection reset". A body with more left than this is not read, and its client may see that.
    max_discarded_body_bytes: int = 64 * MB
    header_timeout_s: float = 10.0  # a connection whose request headers are not all in after this long is closed
    # Request line and headers still incomplete past this many bytes get 431 (h11's limit, its default; headers
    # that arrive whole in one read of the socket, up to 256 KB, are parsed whatever their size)
    max_header_bytes: int = 16 * 1024
    # Server processes sharing the socket. One Python process is held near one core by the GIL, so
    # the default is one per core, up to 2 (measured: 236 req/s with 1, 522 req/s with 2 on 2 cores;
    # benchmarks/load_test.py). 1 starts fastest and uses the least memory.
    workers: int = field(default_factory=lambda: min(2, usable_cores()))
    inference_threads: int = 2  # requests of one process running the model at once (the rest wait their turn)
    # requests of one process waiting for an inference thread, per thread; past it, 503 with Retry-After. Without a
    # bound, 4 slow reads queued held a drawing up 39 s. 16 per thread lets the 32 clients of
    # benchmarks/load_test.py wait their turn on one worker (a drawing takes milliseconds).
    waiting_per_inference_thread: int = 16
    log_requests: bool = False  # one access-log line per request (off: it costs throughput)

    def __post_init__(self) -> None:
        # checked when the command is read, so a mistyped origin or host name stops the start with one line
        self.cors_origins = self.origins()
        for name in self.allowed_hosts:
            if not HOST_NAME.fullmatch(name.strip("[]")):
                raise InkreadError(f"{option('allowed_hosts', '--allowed-host')} {name!r} is not a host name: give the name alone, as the Host "
                                   "header carries it without its port, like ink.example (no scheme, port or path)")

    def origins(self) -> list[str]:
        """``cors_origins`` normalized (``normalize_origin``), duplicates dropped; InkreadError for one that is not an origin."""
        return list(dict.fromkeys(normalize_origin(origin) for origin in self.cors_origins))

    def is_loopback(self) -> bool:
        """Whether only this machine can reach the server (localhost, 127.x.x.x, ::1 in any spelling, ::ffff:127.x.x.x)."""
        try:
            address = ipaddress.ip_address(self.host.strip("[]"))
        except ValueError:
            return self.host.lower() == "localhost"
        mapped = getattr(address, "ipv4_mapped", None)
        return address.is_loopback or (mapped is not None and mapped.is_loopback)

    def host_names(self) -> list[str] | None:
        """The Host names to answer to, or None to answer to any (a server on a public address, no --allowed-host)."""
        if not self.is_loopback() and not self.allowed_hosts:
            return None
        return list(dict.fromkeys([*LOOPBACK_NAMES, self.host, *self.allowed_hosts]))
