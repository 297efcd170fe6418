"""Run the web app under uvicorn: bind the socket ourselves, print the address, serve until Ctrl-C.

Binding before uvicorn starts lets a busy port or a bad host fail as one clear line, and lets
``--port 0`` pick a free port whose address is printed (tests and scripts read it).
"""

from __future__ import annotations

import socket
import sys

from inkread.errors import InkreadError
from inkread.serving.config import ServeConfig

LOOPBACK = ("127.0.0.1", "::1", "localhost")


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
    """Serve ``config`` in this process until interrupted."""
    import uvicorn

    from inkread.serving.app import create_app

    sock = bind(config.host, config.port)
    try:
        app = create_app(config)
        url = url_of(sock)
        print(f"inkread: serving {', '.join(app.state.registry.names)} at {url}  (API docs: {url}/docs; Ctrl-C to stop)",
              flush=True)
        if config.host not in LOOPBACK:
            print(f"inkread: warning: listening on {config.host}: other machines can reach this server", file=sys.stderr)
        server = uvicorn.Server(uvicorn.Config(
            app, log_level="info" if config.log_requests else "warning", access_log=config.log_requests,
            server_header=False, timeout_graceful_shutdown=5,
        ))
        server.run(sockets=[sock])
    finally:
        sock.close()
