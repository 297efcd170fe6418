"""Pure ASGI middlewares (no per-request overhead to speak of): body size limit, security headers,
cross-site writes and foreign Host names refused, an answer for requests cut short by shutdown, HEAD
answered as GET."""

from __future__ import annotations

import asyncio
import contextlib
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MB = 1024 * 1024

# The page and the API use only this server: no external origin may run code, load styles or be
# called. Images may be data:/blob: URLs (the preprocessed view, uploaded files shown back).
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
# /docs is Swagger UI (served by this app too) started by an inline script: that page alone may
# run inline code; it still loads nothing from another origin.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
COMMON = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)


class HttpMiddleware:
    """Base of the middlewares here: HTTP requests go to ``handle``, other scopes (lifespan) straight to the app."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request (subclasses)."""
        raise NotImplementedError


class HeadAsGetMiddleware(HttpMiddleware):
    """Answers HEAD like GET, without the body: FastAPI routes list GET only, but ``curl -I`` and
    health checks send HEAD, and HTTP says every GET resource takes HEAD."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class SecurityHeadersMiddleware(HttpMiddleware):
    """Adds CSP, nosniff and friends; API answers are also marked ``Cache-Control: no-store``."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        csp = DOCS_CSP if path.startswith("/docs") else PAGE_CSP
        no_store = path.startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["content-security-policy"] = csp
                for name, value in COMMON:
                    headers[name] = value
                if no_store and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"  # predictions and corrections are never cached
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes the limit; the app's handler answers 413."""

    def __init__(self, message: str):
        # closed: the rest of the body may still be on its way (BodyLimitMiddleware.discard_body)
        super().__init__(status_code=413, detail=message, headers={"connection": "close"})


class BodyTimeout(HTTPException):
    """Raised from ``receive`` when a body is still arriving after the deadline; answered 408."""

    def __init__(self, seconds: float):
        super().__init__(status_code=408, detail=f"the request body did not arrive within {seconds:g} s: "
                                                 "check the connection and send it again",
                         headers={"connection": "close"})


class BodyBudgetFull(HTTPException):
    """Raised from ``receive`` when a body's bytes would take those held by the requests in flight past
    the budget; answered 503 with ``Retry-After``."""

    def __init__(self):
        super().__init__(status_code=503, detail="the server is handling too many large uploads at once: "
                                                 "send it again in a few seconds",
                         headers={"connection": "close", "retry-after": "2"})


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware with origins compared as ``normalize_origin`` writes them and its
    refused preflights (a plain-text "Disallowed CORS origin") answered as one-line JSON 400s like every
    other error, saying what was refused and how to allow it.

    ``allow_origins`` must already be normalized (``ServeConfig.origins``).
    """

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether a request's ``Origin`` is allowed; compared lowercase, as the configured origins are."""
        return super().is_allowed_origin(origin.rstrip("/").lower())

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's preflight answer; a refusal as ``{"detail": ...}`` naming each refused part."""
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        text = bytes(response.body).decode("utf-8", "replace")
        failures = text.removeprefix("Disallowed CORS ").split(", ")
        origin = request_headers.get("origin", "")[:100]
        reasons = {
            "origin": f"pages of {origin} may not call this API (start the server with --cors-origin {origin} to allow them)",
            "method": f"the method {request_headers.get('access-control-request-method', '')[:20]} is not allowed "
                      f"(allowed: {', '.join(self.allow_methods)})",
            "headers": f"a requested header is not allowed (allowed: {', '.join(self.allow_headers)})",
            "private-network": "private network access is not allowed",
        }
        detail = "cross-origin request refused: " + "; ".join(reasons.get(failure, failure) for failure in failures)
        headers = {name: value for name, value in response.headers.items() if name not in ("content-length", "content-type")}
        return JSONResponse({"detail": detail}, status_code=400, headers=headers)


class SameSiteWriteMiddleware(HttpMiddleware):
    """Refuse (403) a POST or DELETE sent by a page of another site.

    A browser sends a form POST to any address without asking first (no CORS preflight), with the
    sending page's ``Origin``: any page open in the same browser could otherwise add or delete
    corrections, which become fine-tuning data. A request whose ``Origin`` is neither this server's
    own (its ``Host``) nor one given with ``--cors-origin`` is refused; programs (curl, scripts) send
    no ``Origin`` and are not affected.
    """

    WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, app: ASGIApp, allowed_origins: list[str] | tuple[str, ...] = ()):
        super().__init__(app)
        self.allowed = set(allowed_origins)  # normalized by ServeConfig.origins

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in self.WRITES:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
            if origin is not None and origin.rstrip("/").lower() not in (own, *self.allowed):
                message = (f"cross-site request refused: a page of {origin} may not send {scope['method']} requests "
                           "to this server (start it with --cors-origin ORIGIN to allow that page)")
                await JSONResponse({"detail": message}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class HostCheckMiddleware(HttpMiddleware):
    """Refuse (400) a request whose ``Host`` is not one of ``allowed`` (names, any port).

    A server on 127.0.0.1 is reachable from any page open in the browser through DNS rebinding: a
    site's name is made to point at 127.0.0.1, and its page, now "same-origin" with this server,
    can read predictions and add or delete corrections. Its requests still carry that site's name in
    ``Host``; a loopback server answers only to its own names.
    """

    def __init__(self, app: ASGIApp, allowed: list[str] | tuple[str, ...]):
        super().__init__(app)
        self.allowed = {name.lower().strip("[]") for name in allowed}
        names = ", ".join(sorted(self.allowed))
        self.fix = f"this server answers to {names}; start it with --allowed-host NAME if NAME is meant to reach it"

    # a Host header as HTTP allows it: a name or IPv4 address, or an IPv6 address in brackets; then maybe a port
    HOST = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::[0-9]{1,5})?")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = Headers(scope=scope).get("host", "")
        match = self.HOST.fullmatch(host)
        name = (match.group("v6") or match.group("name")) if match else None
        if name is None or name.lower() not in self.allowed:
            shown = host if len(host) <= 80 else host[:80] + "..."
            detail = f"the Host header {shown!r} is not a name of this server: {self.fix}"
            await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware(HttpMiddleware):
    """Refuse request bodies above ``max_bytes`` with 413, without ever buffering more than that,
    bodies still arriving ``timeout_s`` after the request began with 408, and a body whose bytes
    would take those held by the requests being handled past ``max_in_flight`` with 503 (try again soon).

    A declared ``Content-Length`` above the limit is refused before the body is read; a chunked
    body is counted as it arrives and refused as soon as it passes the limit. The deadline frees
    the connection of a client that stalls or trickles its upload a byte at a time. The budget in
    flight bounds the memory many large uploads at once take (150 uploads of 8 MB: 2 GB). Bytes are
    charged to it as they arrive, and given back when the request ends: charged on the declared length
    before any byte came, 16 connections that sent only their headers (Content-Length: 8 MB, or chunked
    and no chunk) held the whole budget for 30 s, and every upload, even a drawing, got 503.

    The rest of a body refused with 413 or 503 is read and thrown away before the answer, up to
    ``max_discarded`` bytes and within the deadline: answered and closed with the body unread, the
    connection was reset, and a client still sending (Python's http.client) saw "connection reset"
    instead of the answer. A client that waits for ``100 Continue`` has sent no body: it is answered at once.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float = 30.0, max_in_flight: int | None = None,
                 max_discarded: int = 64 * MB):
        super().__init__(app)
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.max_in_flight = max(max_bytes, max_in_flight or 16 * max_bytes)
        self.max_discarded = max_discarded
        self.in_flight = 0  # bytes received of the bodies of the requests being handled (one event loop: no lock needed)
        self.message = f"request body too large: the limit is {max_bytes / MB:g} MB; send a smaller image"

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        declared = int(headers["content-length"]) if headers.get("content-length", "").isdigit() else None
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        if declared is not None and declared > self.max_bytes:
            if headers.get("expect", "").lower() != "100-continue":  # asking for the body would invite it
                await self.discard_body(receive, deadline, declared)
            await JSONResponse({"detail": self.message}, status_code=413, headers={"connection": "close"})(scope, receive, send)
            return
        received, complete = 0, False  # this request's body bytes so far, all charged to in_flight

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:  # after the body, receive() waits for a disconnect: no deadline on that
                return await receive()
            message = await self.receive_by(receive, deadline)
            if message["type"] == "http.request":
                size = len(message.get("body", b""))
                refusal = (BodyTooLarge(self.message) if received + size > self.max_bytes
                           else BodyBudgetFull() if self.in_flight + size > self.max_in_flight else None)
                if refusal is not None:
                    if message.get("more_body", False):
                        await self.discard_body(receive, deadline, None if declared is None else declared - received - size)
                    raise refusal
                self.in_flight += size
                received += size
                complete = not message.get("more_body", False)
            return message

        try:
            await self.app(scope, limited_receive, send)
        finally:
            self.in_flight -= received

    async def receive_by(self, receive: Receive, deadline: float) -> Message:
        """``receive()``, or BodyTimeout when nothing came by ``deadline`` (``loop.time()``)."""
        # The deadline cancels this task's own wait (as asyncio.timeout does, which 3.10 lacks).
        # Not asyncio.wait_for: before 3.12 it can swallow the server's own cancellation at
        # shutdown, and the ShutdownAnswerMiddleware would never see it.
        task, expired = asyncio.current_task(), False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        timer = asyncio.get_running_loop().call_at(deadline, expire)
        try:
            return await receive()
        except asyncio.CancelledError:
            if not expired:
                raise
            if hasattr(task, "uncancel"):  # 3.11+: this cancellation is handled here
                task.uncancel()
            raise BodyTimeout(self.timeout_s) from None
        finally:
            timer.cancel()

    async def discard_body(self, receive: Receive, deadline: float, remaining: int | None) -> None:
        """Read and throw away the rest of a refused body (``remaining`` bytes, None if unknown), so that its client
        gets the answer; nothing when it is over ``max_discarded`` (it would be cut short anyway), and no more than
        that, nor past ``deadline``: a refused body holds no memory, and a connection no longer than any other."""
        discarded = 0
        if remaining is not None and remaining > self.max_discarded:
            return
        with contextlib.suppress(BodyTimeout):
            while discarded <= self.max_discarded:
                message = await self.receive_by(receive, deadline)
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                discarded += len(message.get("body", b""))


class ShutdownAnswerMiddleware(HttpMiddleware):
    """Answer 503 (JSON, ``Retry-After``) to a request the server cancels before it has answered.

    When the server stops (Ctrl-C, SIGTERM, the supervisor's death), uvicorn gives the requests in
    flight ``timeout_graceful_shutdown`` seconds, then cancels them; uvicorn itself would answer a
    plain-text 500. The client got no answer and should send the request again, which a 503 says.
    (A correction whose database write had already begun may then be stored twice: never lost.)
    """

    MESSAGE = "the server is shutting down and did not finish this request: send it again"

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if not started:
                response = JSONResponse({"detail": self.MESSAGE}, status_code=503,
                                        headers={"retry-after": "1", "connection": "close"})
                await response(scope, receive, send)
            raise  # the cancellation goes on: the server is stopping
