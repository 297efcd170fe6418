"""Run the web app under uvicorn: bind the socket ourselves, print the address, serve until Ctrl-C.

Binding before uvicorn starts lets a busy port or a bad host fail as one clear line, and lets
``--port 0`` pick a free port whose address is printed (tests and scripts read it). With
``workers > 1`` the bound socket is shared by forked worker processes (one Python process is held
near one core by the GIL; the model's preprocessing is mostly Python and numpy on small arrays).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import socket
import sys
import time
import traceback

from inkread.errors import InkreadError, command_line_spelling, option, option_value
from inkread.serving.config import ServeConfig

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
RESTART_PAUSE = 0.5  # seconds before a dead worker is replaced: one failing at once must not spin the CPU
# A worker that dies this soon after it started failed to start; after a few in a row, restarting
# more would only fail the same way forever, so the supervisor gives up.
QUICK_DEATH_SECONDS = 10.0
MAX_QUICK_DEATHS = 3


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; InkreadError when that is impossible."""
    if not 0 <= port <= 65535:
        raise InkreadError(f"{option_value('port', port)} is not a port number: use 1-65535 (or 0 for any free port)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise InkreadError(f"{option_value('host', host)}: {error.strerror}; use an address like 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    try:
        # reuse the port at once after a restart (connections of the old process in TIME_WAIT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise InkreadError(f"cannot listen on {host}:{port} ({error.strerror}): "
                           f"is another server using it? choose another {option('port')}") from None
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
        raise InkreadError(f"{option_value('workers', config.workers)}: give 1 or more server processes")
    sock = bind(config.host, config.port)
    try:
        app = create_app(config)
        url = url_of(sock)
        print(f"inkread: serving {app.state.registry.described()} at {url}  (API docs: {url}/docs; Ctrl-C to stop)",
              flush=True)
        if not config.is_loopback():
            print(f"inkread: warning: listening on {config.host}: other machines can reach this server", file=sys.stderr)
        # From here on, messages answer requests, which name settings as fields (only=...), not as options.
        # (Forked workers inherit the spelling.)
        with command_line_spelling(on=False):
            if config.workers == 1:
                _serve(app, sock, config)
            else:
                _supervise(app, sock, config)
    finally:
        sock.close()


def _serve(app, sock: socket.socket, config: ServeConfig) -> None:
    """Run uvicorn on an already bound socket until a signal stops it."""
    import uvicorn

    uvicorn.Server(uvicorn_config(app, config)).run(sockets=[sock])


def uvicorn_config(app, config: ServeConfig):
    """uvicorn's settings for serving ``app``: its HTTP/1.1 protocol with a time and a size limit on request headers."""
    import uvicorn

    settings = uvicorn.Config(
        app, http=header_timeout_protocol(config.header_timeout_s), log_level="info" if config.log_requests else "warning",
        access_log=config.log_requests, server_header=False, timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=config.max_header_bytes,
    )
    # once per process, however many servers it configures (tests build several)
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, ShutdownLogFilter) for existing in error_log.filters):
        error_log.addFilter(ShutdownLogFilter())
    error_log.addFilter(without_websocket_advice)  # a filter added twice is kept once
    return settings


def without_websocket_advice(record: logging.LogRecord) -> bool:
    """False for uvicorn's advice to install a WebSocket library, logged after "Unsupported upgrade request."
    for every request that asks to upgrade: this server has no WebSocket endpoint, so the advice is wrong."""
    return not (isinstance(record.msg, str) and record.msg.startswith("No supported WebSocket library"))


class ShutdownLogFilter(logging.Filter):
    """Turns uvicorn's report of requests cut short at shutdown into one line of its own.

    When the grace period ends uvicorn logs "Cancel N running task(s)" and then, for each request,
    "Exception in ASGI application" with the CancelledError's ~90-line traceback, though
    ``ShutdownAnswerMiddleware`` has answered the client 503 (or it had its answer already): nothing
    there is a bug to report. Any other record passes unchanged (should uvicorn reword its "Cancel"
    line, that line is shown as uvicorn writes it; the tracebacks are still dropped, by exception type).
    """

    LINE = "inkread: {n} request(s) cut short by the shutdown: answered 503 (the client should send them again)"

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the records replaced (the one line is printed here instead), True for the rest."""
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, asyncio.CancelledError):
            return False  # the request's traceback: the line below has said it
        if isinstance(record.msg, str) and record.msg.startswith("Cancel %s running task(s)") and record.args:
            print(self.LINE.format(n=record.args[0]), file=sys.stderr, flush=True)
            return False
        return True


def header_timeout_protocol(seconds: float):
    """uvicorn's h11 protocol, closing a connection whose request line and headers are not in after ``seconds``.

    uvicorn times out a connection only between requests (keep-alive): a client that connects and
    sends nothing, or part of its headers, held its connection (and a file descriptor) for good.
    The body has its own limit (``ServeConfig.body_timeout_s``, a 408 from the app).
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self.header_timer = self.loop.call_later(seconds, self.headers_too_late)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            waiting = self.conn.their_state is h11.IDLE  # a request started, its headers not complete yet
            if waiting and self.header_timer is None:
                self.header_timer = self.loop.call_later(seconds, self.headers_too_late)
            elif not waiting and self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None
            super().connection_lost(exc)

        def headers_too_late(self) -> None:
            self.header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

        def send_400_response(self, msg: str) -> None:
            """uvicorn's answer to a request h11 cannot parse (two Content-Length or Host headers, a bad
            request line), as JSON with a ``detail`` like every other error of the API, not text/plain; headers
            still incomplete past ``h11_max_incomplete_event_size`` as a 431 that says so (they were a 400 "malformed")."""
            # uvicorn calls this from its ``except h11.RemoteProtocolError``: the error's status hint tells which
            error = sys.exc_info()[1]
            if getattr(error, "error_status_hint", 400) == 431:
                status, reason = 431, b"Request Header Fields Too Large"
                limit = self.config.h11_max_incomplete_event_size
                detail = (f"the request line and headers are larger than {limit / 1024:g} KB: send fewer or shorter "
                          "headers (a large Cookie or Authorization?)")
            else:
                status, reason = 400, b"Bad Request"
                detail = (f"{msg.rstrip('.')}: the request line or a header is malformed (a header given twice, a bad "
                          "Content-Length?); send one well-formed HTTP/1.1 request")
            body = json.dumps({"detail": detail})
            for event in (h11.Response(status_code=status, reason=reason,
                                       headers=[(b"content-type", b"application/json"), (b"connection", b"close")]),
                          h11.Data(data=body.encode("ascii")), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
            self.transport.close()

    return HeaderTimeoutProtocol


def _supervise(app, sock: socket.socket, config: ServeConfig) -> None:
    """Fork ``config.workers`` servers sharing ``sock``; replace any that dies; stop all on a signal.

    Forking after the imports and ``create_app`` (no thread, no model loaded yet: each worker loads
    its models in its own background thread) makes a worker start in milliseconds, where uvicorn's
    own ``--workers`` spawns fresh interpreters that import everything again. Workers that keep
    dying as they start (``MAX_QUICK_DEATHS`` in a row) stop the server with an ``InkreadError``.
    """
    parent = os.getpid()
    children: dict[int, float] = {}  # pid: when it was started (time.monotonic)
    stopping = gave_up = False
    quick_deaths = 0
    reporter = None  # the worker that reports models failing to load

    def start_worker() -> None:
        nonlocal reporter
        # Stop signals wait until the new worker is in ``children`` and has reset its handlers:
        # one that came in between would never reach it, and the supervisor would wait for it forever.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            if stopping:  # a signal came during the pause before this restart
                return
            # Every worker loads the models: one reports a broken one, or each line would come once per
            # worker. When that one has died (maybe before it could report), the next worker started reports.
            quiet = reporter in children
            pid = os.fork()
            if pid == 0:
                _work(app, sock, config, parent, mask, quiet=quiet)
            children[pid] = time.monotonic()
            if not quiet:
                reporter = pid
            if stopping:  # its handler ran after the signals were blocked, before the pid was added
                os.kill(pid, signal.SIGTERM)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # uvicorn finishes the requests in flight, then exits

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        for _ in range(config.workers):
            start_worker()
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            lived = time.monotonic() - children.pop(pid)
            if stopping:
                continue
            quick_deaths = _count_quick_deaths(quick_deaths, lived, status)
            gave_up = quick_deaths >= MAX_QUICK_DEATHS
            print(f"inkread: worker {pid} {_how_it_ended(status)}" + ("" if gave_up else "; starting another"),
                  file=sys.stderr, flush=True)
            if gave_up:
                stop(None, None)  # the other workers too: the server is stopping
                continue
            time.sleep(RESTART_PAUSE)
            start_worker()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if gave_up:
        raise InkreadError(f"{MAX_QUICK_DEATHS} server workers in a row stopped within {QUICK_DEATH_SECONDS:g} s of starting "
                           "(the reasons are above): fix the cause and start the server again")


def _count_quick_deaths(previous: int, lived: float, status: int = 0) -> int:
    """Workers that failed to start, in a row, once one that lived ``lived`` seconds dies (``os.wait`` status).

    One that served a while resets the count: it died of something else (a crash, the OOM killer),
    and replacing it is right however often that happens. One killed from outside (SIGKILL, SIGTERM:
    the OOM killer, an operator) did not fail to start, however soon: it leaves the count as it was.
    (Killed three times in a row, fresh workers stopped the server, the one serving well with them.)
    """
    code = os.waitstatus_to_exitcode(status)
    if code < 0 and -code in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        return previous
    return previous + 1 if lived < QUICK_DEATH_SECONDS else 0


def _how_it_ended(status: int) -> str:
    """How a worker ended, from its ``os.wait`` status: exited with code N, or was killed by signal N."""
    code = os.waitstatus_to_exitcode(status)
    return f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"


def _work(app, sock: socket.socket, config: ServeConfig, parent: int, mask, quiet: bool = False) -> None:
    """A forked worker: serve until stopped, then end the process; it never returns into the supervisor's loop.

    It starts with the stop signals blocked (``mask`` is the signal mask to restore) and the
    supervisor's handlers; why it stops is printed, for the supervisor's log. ``quiet``: models that
    fail to load are not reported (another worker does it).
    """
    code = 0
    try:
        if quiet:
            app.state.registry.quiet = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # not the supervisor's handler
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a stop signal sent since the fork acts now
        _die_with(parent)
        _serve(app, sock, config)
    except KeyboardInterrupt:
        pass  # Ctrl-C: the terminal sent it to the supervisor too, which stops
    except InkreadError as error:
        print(f"inkread: error: worker {os.getpid()}: {error}", file=sys.stderr)
        code = 1
    except BaseException:  # noqa: BLE001 - whatever it is, the log must say why the worker died
        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


def _die_with(parent: int) -> None:
    """Linux: have the kernel send SIGTERM to this worker when the supervisor dies (even by kill -9)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(0)
