"""Run the web app under uvicorn: bind the socket ourselves, print the address, serve until Ctrl-C.

Binding before uvicorn starts lets a busy port or a bad host fail as one clear line, and lets
``--port 0`` pick a free port whose address is printed (tests and scripts read it). With
``workers > 1`` the bound socket is shared by forked worker processes (one Python process is held
near one core by the GIL; the model's preprocessing is mostly Python and numpy on small arrays).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import time

from inkread.errors import InkreadError
from inkread.serving.config import ServeConfig

LOOPBACK = ("127.0.0.1", "::1", "localhost")
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; InkreadError when that is impossible."""
    if not 0 <= port <= 65535:
        raise InkreadError(f"--port {port} is not a port number: use 1-65535 (or 0 for any free port)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise InkreadError(f"--host {host}: {error.strerror}; use an address like 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    try:
        # reuse the port at once after a restart (connections of the old process in TIME_WAIT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise InkreadError(f"cannot listen on {host}:{port} ({error.strerror}): "
                           "is another server using it? choose another --port") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(config: ServeConfig) -> None:
    """Serve ``config`` in this process (or in ``config.workers`` forked processes) until interrupted."""
    from inkread.serving.app import create_app

    if config.workers < 1:
        raise InkreadError(f"--workers {config.workers}: give 1 or more server processes")
    sock = bind(config.host, config.port)
    try:
        app = create_app(config)
        url = url_of(sock)
        print(f"inkread: serving {', '.join(app.state.registry.names)} at {url}  (API docs: {url}/docs; Ctrl-C to stop)",
              flush=True)
        if config.host not in LOOPBACK:
            print(f"inkread: warning: listening on {config.host}: other machines can reach this server", file=sys.stderr)
        if config.workers == 1:
            _serve(app, sock, config)
        else:
            _supervise(app, sock, config)
    finally:
        sock.close()


def _serve(app, sock: socket.socket, config: ServeConfig) -> None:
    """Run uvicorn on an already bound socket until a signal stops it."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(
        app, log_level="info" if config.log_requests else "warning", access_log=config.log_requests,
        server_header=False, timeout_graceful_shutdown=5,
    ))
    server.run(sockets=[sock])


def _supervise(app, sock: socket.socket, config: ServeConfig) -> None:
    """Fork ``config.workers`` servers sharing ``sock``; replace any that dies; stop all on a signal.

    Forking after the imports and ``create_app`` (no thread, no model loaded yet: each worker loads
    its models in its own background thread) makes a worker start in milliseconds, where uvicorn's
    own ``--workers`` spawns fresh interpreters that import everything again.
    """
    parent = os.getpid()
    children: set[int] = set()
    stopping = False

    def start_worker() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.default_int_handler)  # not the supervisor's handler
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _die_with(parent)
                _serve(app, sock, config)
            except BaseException:  # noqa: BLE001 - a worker must never return into the supervisor's loop
                code = 1
            finally:
                os._exit(code)
        children.add(pid)

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # uvicorn finishes the requests in flight, then exits

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(config.workers):
            start_worker()
        while children:
            try:
                pid, _ = os.wait()
            except ChildProcessError:
                break
            children.discard(pid)
            if not stopping:
                print(f"inkread: worker {pid} stopped; starting another", file=sys.stderr, flush=True)
                time.sleep(0.5)  # a worker failing at once must not spin the CPU
                start_worker()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _die_with(parent: int) -> None:
    """Linux: have the kernel send SIGTERM to this worker when the supervisor dies (even by kill -9)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(0)
