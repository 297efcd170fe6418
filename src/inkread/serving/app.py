"""The FastAPI application: the drawing page, the /api/v1 endpoints and their error answers.

Every error is JSON ``{"detail": "<one line: what is wrong and how to fix it>"}``: 400 unreadable
image, 404 unknown id or path, 408 body too slow, 413 body too large, 415 not an image / wrong
Content-Type, 422 invalid field; 503 when the server's model files or database fail, 500 for a bug.
Model inference, SQLite writes and the parsing of large JSON bodies run in worker threads, never on the event
loop; capacity limiters keep the CPU-bound parts from oversubscribing cores.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import unicodedata
from dataclasses import asdict
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Callable, TypeVar

import anyio
from fastapi import FastAPI, HTTPException, Path as PathParam, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from inkread import __version__
from inkread.errors import InkreadError, InputImageError, ModelBundleError, StorageError, spell_labels
from inkread.imaging.decode import WORK_PIXELS, pixel_count
from inkread.labels import merge_case
from inkread.serving import schemas
from inkread.serving.config import ServeConfig
from inkread.serving.corrections import MAX_ID, Correction, CorrectionStore, database_path
from inkread.serving.images import as_png, model_input_data_url
from inkread.serving.inputs import parsing_limiter, printable, read_image_request, validation_message
from inkread.serving.memory import MemoryReleaser
from inkread.serving.middleware import (BodyLimitMiddleware, HeadAsGetMiddleware, HostCheckMiddleware, JsonCORSMiddleware,
                                       SameSiteWriteMiddleware, SecurityHeadersMiddleware, ShutdownAnswerMiddleware)
from inkread.serving.registry import ModelRegistry

STATIC_DIR = Path(__file__).resolve().parent / "static"
API = "/api/v1"
DEFAULT_TOP_K = 5
STORAGE_THREADS = 4  # database calls at once (the rest wait without a thread): see _add_correction_routes
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/bmp", "image/gif", "image/tiff")
R = TypeVar("R")
Q = TypeVar("Q", bound=BaseModel)
logger = logging.getLogger("inkread.serving")
# The multipart parser logs each malformed body it meets ("Expected boundary character 45, got 103 at
# index 2") with no request to tie it to; the client already gets a 400 that says what is wrong.
for name in ("python_multipart", "multipart"):  # the parser's logger before python-multipart 0.0.13: "multipart"
    logging.getLogger(name).setLevel(logging.ERROR)

DESCRIPTION = """Read handwritten digits and characters.

Send an image to `/api/v1/predict` (one character) or `/api/v1/read` (several) as JSON
`{"image": "<base64 or data URL>"}`, as a multipart upload (field `file`), or as the raw image
body with an `image/*` Content-Type. A line model (`kind` "line" in `/api/v1/models`) reads whole
lines: it answers `/api/v1/read` only. Errors are `{"detail": "..."}`: a 4xx status for what the request
got wrong, 503 when the server's model files or database fail, too many requests wait (see Retry-After),
or it is shutting down."""

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.ErrorResponse, "description": text}
    for status, text in ((400, "the image cannot be read"), (413, "request body too large"),
                         (415, "not an image, or an unsupported Content-Type"), (422, "an invalid field"),
                         (501, "a lexicon asked of a server without the word list (inkread[words])"),
                         (503, "the server cannot answer now: its model files or database failed, too many requests wait, "
                               "or it is shutting down"))
}


def create_app(config: ServeConfig) -> FastAPI:
    """The web app for ``config``: checks the models and the corrections database, loads nothing heavy."""
    origins = config.cors_origins  # normalized by ServeConfig, for the CORS and the cross-site write checks alike
    registry = ModelRegistry(config.models)
    store = CorrectionStore(database_path(config.data_dir))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # load the ONNX models in the background: the server answers at once, and the first
        # prediction does not pay for loading
        loader = threading.Thread(target=registry.load_all, name="inkread-model-loader", daemon=True)
        loader.start()
        yield
        # A shutdown (Ctrl-C) within a second of the start finds it still loading: the process must not end
        # under ONNX Runtime's feet ("terminate called without an active exception", exit code 134).
        await anyio.to_thread.run_sync(loader.join)

    # FastAPIOffline: FastAPI whose /docs (Swagger UI) is served from its package, not from a CDN
    # redirect_slashes off: "/api/v1/predict/" was an empty 307 (curl -F printed nothing); it is a 404 that
    # names the path without the slash instead (``_install_error_handlers``)
    app = FastAPIOffline(title="inkread", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                         redoc_url=None, static_url="/docs-static", favicon_url="/static/icon.svg", redirect_slashes=False)
    app.state.registry = registry
    app.state.store = store
    _install_error_handlers(app)
    _install_middleware(app, config, origins)
    threads = InferenceThreads(config.inference_threads, config.waiting_per_inference_thread)
    app.state.inference = threads
    parsing = parsing_limiter()
    _add_page(app)
    _add_recognition_routes(app, registry, threads, parsing)
    _add_information_routes(app, registry)
    _add_correction_routes(app, registry, store, threads, parsing)
    return app


def _model_name(registry: ModelRegistry, name: str | None) -> str:
    """The served model a request names (the default if it names none); a 422 for one this server lacks."""
    if name is None:
        return registry.default
    if name not in registry:
        hint = "; in a URL write + as %2B (a + there is a space)" if " " in name and name.replace(" ", "+") in registry.names else ""
        raise HTTPException(422, f"field 'model': unknown model {name!r}; this server has {', '.join(registry.names)}{hint}")
    return name


def _refuse_line_model(registry: ModelRegistry, name: str, instead: str) -> None:
    """A 422 when ``name`` is a line model on an endpoint of single characters; ``instead`` says what to do."""
    if registry[name].reads_lines:
        raise HTTPException(422, f"field 'model': {name!r} is a line model, it reads whole lines: {instead}")


def _check_lexicon(registry: ModelRegistry, name: str) -> None:
    """A 422 unless ``name`` reads whole lines (the lexicon rescores a line model's spellings); a 501 when this
    server lacks the word list's packages."""
    if not registry[name].reads_lines:
        lines = [other for other in registry.names if registry[other].reads_lines]
        raise HTTPException(422, f"field 'lexicon': words are looked up in the readings of a line model "
                                 f"({', '.join(lines) or 'this server has none'}); {name!r} reads characters one by one")
    from inkread.inference.lexicon import words_available

    if not words_available():
        raise HTTPException(501, 'field \'lexicon\': this server has no word list: install it there with '
                                 'pip install "inkread[words]"')


def _add_page(app: FastAPI) -> None:
    """The drawing page and its files."""
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def _add_recognition_routes(app: FastAPI, registry: ModelRegistry, threads: "InferenceThreads",
                            parsing: anyio.CapacityLimiter) -> None:
    """/predict (one character) and /read (lines of characters); ``parsing``: see ``read_image_request``."""
    image_body = _image_body(schemas.ImageJSON, schemas.ImageOptions, raw=True, names=registry.names)

    async def image_request(request: Request) -> tuple[bytes, schemas.ImageOptions, str]:
        image, body = await read_image_request(request, schemas.ImageOptions, schemas.ImageJSON, parsing)
        # the query string fills in the options the body leaves out (validated here rather than by a
        # FastAPI query-model dependency, which costs more per request than the rest of the parsing)
        options = query_options(request, body)
        return image, options, _model_name(registry, options.model)

    @app.post(f"{API}/predict", response_model=schemas.PredictResponse, responses=ERRORS,
              openapi_extra={"requestBody": image_body, "parameters": QUERY_OPTIONS}, tags=["recognize"])
    async def predict(request: Request) -> Any:
        """Recognize the one character in an image: best label, confidence, top-k ranking (character models only)."""
        image, options, name = await image_request(request)
        _refuse_line_model(registry, name, f"send the image to {API}/read, not {API}/predict")
        if options.lexicon is not None:
            raise HTTPException(422, f"field 'lexicon': words are looked up by {API}/read with a line model; "
                                     f"{API}/predict reads one character")

        def run() -> dict:
            prediction = registry.recognizer(name).predict(image, only=options.only, top_k=options.top_k or DEFAULT_TOP_K)
            answer = prediction.to_dict()
            answer.pop("error", None)  # always None here: unreadable images raise instead
            answer["model"] = name
            answer["preprocessed"] = None
            if options.include_preprocessed and prediction.image is not None:
                answer["preprocessed"] = model_input_data_url(prediction.image)
            return answer

        return JSONResponse(await threads.recognize(request, image, run))  # built from to_dict(): no second validation pass

    @app.post(f"{API}/read", response_model=schemas.ReadResponse, responses=ERRORS,
              openapi_extra={"requestBody": image_body, "parameters": QUERY_OPTIONS}, tags=["recognize"])
    async def read(request: Request) -> Any:
        """Read several characters (one or more lines): the text and each character's box (any model)."""
        image, options, name = await image_request(request)
        if options.include_preprocessed:  # asked for, it would be silently missing
            raise HTTPException(422, f"field 'include_preprocessed': {API}/read answers hold no preprocessed image; "
                                     f"{API}/predict gives the one of a single character")

        if options.lexicon is not None:
            _check_lexicon(registry, name)

        def run() -> dict:
            result = registry.recognizer(name).read(image, only=options.only, top_k=options.top_k or DEFAULT_TOP_K,
                                                    lexicon=options.lexicon)
            return {**result.to_dict(), "model": name}

        return JSONResponse(await threads.recognize(request, image, run))


def _add_information_routes(app: FastAPI, registry: ModelRegistry) -> None:
    """/models (what is served) and /healthz."""
    @app.get(f"{API}/models", response_model=schemas.ModelsResponse, tags=["models"], responses=QUERY_ERRORS)
    def models(request: Request) -> Any:
        """The models this server offers, with their labels and test metrics (from model.json)."""
        from inkread.inference.lexicon import ENGLISH, words_available

        query_values(request, NoQuery)
        lexicons = [ENGLISH] if words_available() else []  # what /read takes as lexicon= with a line model
        return {"models": [
            {"name": name, "default": name == registry.default, "loaded": served.recognizer is not None,
             "kind": "line" if served.reads_lines else "character", "arch": served.meta.arch,
             "label_set": served.meta.label_set, "labels": served.meta.labels,
             "lexicons": lexicons if served.reads_lines else [],
             "recipe": served.meta.recipe, "metrics": served.meta.metrics}
            for name, served in registry.models.items()
        ]}

    @app.get("/healthz", response_model=schemas.Health, tags=["health"],
             responses={503: {"model": schemas.Health, "description": "the default model failed to load"}, **QUERY_ERRORS})
    async def healthz(request: Request) -> Any:  # on the event loop: no thread pool a stuck request could fill
        """Health: 200 while the server runs ("ok", or "degraded" when a model other than the default failed to
        load); 503 ("failing") when the default model failed, since requests naming no model then fail."""
        query_values(request, NoQuery)
        health = registry.health()
        return JSONResponse(health, status_code=503 if health["status"] == "failing" else 200)


def _correction_out(correction: Correction) -> dict:
    return {**asdict(correction), "image_url": f"{API}/corrections/{correction.id}/image"}


def _add_correction_routes(app: FastAPI, registry: ModelRegistry, store: CorrectionStore, threads: "InferenceThreads",
                           parsing: anyio.CapacityLimiter) -> None:
    """/corrections: drawings kept with their right labels, listed, shown and deleted (``parsing``: see
    ``read_image_request``)."""
    # The database's calls in threads of their own, a few at once: waiting on a locked database (up to its
    # busy timeout) they filled the shared pool, and /healthz and /predict waited 9-10 s behind them.
    storage_limiter = anyio.CapacityLimiter(STORAGE_THREADS)

    async def storage(func: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs), limiter=storage_limiter)

    @app.post(f"{API}/corrections", status_code=201, response_model=schemas.CorrectionOut, tags=["corrections"],
              responses=ERRORS, openapi_extra={"requestBody": _image_body(
                  schemas.CorrectionJSON, schemas.CorrectionFields, raw=False, names=registry.names)})
    async def add_correction(request: Request, response: Response) -> Any:
        """Keep a drawing with its right label (for fine-tuning); 201 once it is safely on disk."""
        # the fields come in the body: a query string is a mistake, not ignored
        query_values(request, NoQuery, body_fields=(*schemas.CorrectionFields.model_fields, "image", "file"))
        image, fields = await read_image_request(request, schemas.CorrectionFields, schemas.CorrectionJSON, parsing,
                                                 allow_raw=False)
        name = _model_name(registry, fields.model)
        _refuse_line_model(registry, name, "corrections are single characters, for a character model")
        labels = tuple(registry[name].meta.labels)
        try:
            # "c" is the class "C" in case-merged sets; a fullwidth "７" (typed with a CJK keyboard) is "7"
            typed = fields.label.strip()
            label = merge_case(typed if typed in labels else unicodedata.normalize("NFKC", typed), labels)
        except KeyError:
            raise HTTPException(422, f"field 'label': {fields.label!r} is not a label of the model {name!r} "
                                     f"(its labels: {spell_labels(labels)})") from None
        # what the model read is one of its labels too: another model's answer ("B" for digits) is a client's mix-up
        # (as an answer reports it: "o" for the O class under only="lower")
        # spelled as the label may be (stripped, in any Unicode spelling: a fullwidth "７" is "7"), and stored so;
        # blank (spaces, a line separator alone) is not given
        predicted = unicodedata.normalize("NFKC", fields.predicted or "").strip() or None
        if predicted is not None:
            try:
                merge_case(predicted, labels)
            except KeyError:
                raise HTTPException(422, f"field 'predicted': {fields.predicted!r} is not a label of the model {name!r}: "
                                         "send the answer this model gave, or leave the field out") from None

        def check() -> bytes:
            recognizer = registry.recognizer(name)
            if recognizer.predict(image, top_k=1).no_ink:  # decodes with the bomb and format checks
                raise HTTPException(422, "field 'image': the drawing is blank; draw the character first")
            return as_png(image)

        png = await threads.run(request, check)
        # stored outside the model's threads: a database waiting on its lock held every drawing up behind it
        # "digits+lines": its digits model's folder, the model the corrections teach
        correction = await storage(store.add, image_png=png, label=label, model=name, predicted=predicted,
                                   model_folder=registry[name].own_folder)
        response.headers["location"] = f"{API}/corrections/{correction.id}"
        return _correction_out(correction)

    @app.get(f"{API}/corrections", response_model=schemas.CorrectionPage, tags=["corrections"],
             responses=QUERY_ERRORS, openapi_extra={"parameters": query_parameters(CorrectionsQuery)})
    async def list_corrections(request: Request) -> Any:
        """Stored corrections, newest first; each image is at its ``image_url``."""
        query = query_values(request, CorrectionsQuery)
        model = None if query.model is None else _model_name(registry, query.model)
        items, total = await storage(store.page_and_total, query.limit, query.offset, model)
        return {"items": [_correction_out(c) for c in items], "total": total, "limit": query.limit, "offset": query.offset}

    @app.get(f"{API}/corrections/{{correction_id}}", response_model=schemas.CorrectionOut, tags=["corrections"],
             responses={404: {"model": schemas.ErrorResponse, "description": "no such correction"}, **QUERY_ERRORS})
    async def get_correction(request: Request, correction_id: Annotated[int, PathParam(ge=1, le=MAX_ID)]) -> Any:
        """One stored correction."""
        query_values(request, NoQuery)
        correction = await storage(store.get, correction_id)
        if correction is None:
            raise HTTPException(404, f"no correction with id {correction_id}: list them at {API}/corrections")
        return _correction_out(correction)

    @app.get(f"{API}/corrections/{{correction_id}}/image", tags=["corrections"], response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "the PNG"},
                        404: {"model": schemas.ErrorResponse, "description": "no such correction"}, **QUERY_ERRORS})
    async def correction_image(request: Request, correction_id: Annotated[int, PathParam(ge=1, le=MAX_ID)]) -> Response:
        """The drawing of one correction, as PNG."""
        query_values(request, NoQuery)
        png = await storage(store.image, correction_id)
        if png is None:
            raise HTTPException(404, f"no correction with id {correction_id}: list them at {API}/corrections")
        return Response(png, media_type="image/png")

    @app.delete(f"{API}/corrections/{{correction_id}}", status_code=204, response_class=Response, tags=["corrections"],
                responses={404: {"model": schemas.ErrorResponse, "description": "no such correction"}, **QUERY_ERRORS})
    async def delete_correction(request: Request, correction_id: Annotated[int, PathParam(ge=1, le=MAX_ID)]) -> Response:
        """Remove one correction (a label taught by mistake); 204 once it is gone from disk."""
        query_values(request, NoQuery)
        if not await storage(store.delete, correction_id):
            raise HTTPException(404, f"no correction with id {correction_id}: list them at {API}/corrections")
        return Response(status_code=204)


class InferenceThreads:
    """Where requests run the models: worker threads, ``count`` at once, each giving a large image's memory back.

    An image the server must reduce first (a photo, a scanned page) takes 0.1-1 s to read; a drawing,
    milliseconds. Large ones also queue for all but one of the threads, so that a drawing never waits
    behind a queue of pages (benchmarks/mixed_load.py: 12 clients reading pages).

    At most ``waiting_per_thread`` x ``count`` requests wait for a thread; more are answered 503 with
    Retry-After. A request whose client hung up while it waited is not run: 10 abandoned /read of a
    small page of wavy lines (1.3 s each) held a drawing up 12.8 s, 4 with the lexicon 38.9 s.
    """

    BUSY = "the server has {} requests waiting to be read: send it again in a few seconds"

    def __init__(self, count: int, waiting_per_thread: int = 16):
        self.limiter = anyio.CapacityLimiter(max(1, count))
        self.large_limiter = anyio.CapacityLimiter(max(1, count - 1))
        self.max_waiting = max(1, waiting_per_thread * max(1, count))
        self.waiting = 0  # requests waiting for a thread (counted on the event loop: no lock needed)
        self.memory = MemoryReleaser()

    def _then_release_memory(self, func: Callable[..., R], *args: Any) -> R:
        try:
            return func(*args)
        finally:
            self.memory.release_if_grown()  # after a large image: give its memory back, in this worker thread

    async def run(self, request: Request, func: Callable[..., R], *args: Any, large: bool = False) -> R:
        """``func(*args)`` in a worker thread, when one is free (``large``: and a large-image slot); a 503 when
        too many requests wait already, ClientDisconnect (nothing run) when the client hung up meanwhile."""
        if self.waiting >= self.max_waiting:
            raise HTTPException(503, self.BUSY.format(self.waiting), headers={"retry-after": "2"})
        async with contextlib.AsyncExitStack() as turn:
            self.waiting += 1
            try:
                if large:
                    await turn.enter_async_context(self.large_limiter)
                await turn.enter_async_context(self.limiter)
            finally:
                self.waiting -= 1
            if await request.is_disconnected():  # nobody to answer: the thread goes to the next request
                raise ClientDisconnect()
            # the thread itself from anyio's default pool: our own limiter, held above, bounds how many run
            return await anyio.to_thread.run_sync(self._then_release_memory, func, *args)

    async def recognize(self, request: Request, image: bytes, func: Callable[[], R]) -> R:
        """``run(func)``, ``func`` reading ``image``: a large image queues for the large-image slots first."""
        return await self.run(request, func, large=(pixel_count(image) or 0) > WORK_PIXELS)


def _install_middleware(app: FastAPI, config: ServeConfig, origins: list[str]) -> None:
    """The middlewares, innermost first (each added one wraps the ones before)."""
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes, timeout_s=config.body_timeout_s,
                       max_in_flight=config.max_body_bytes_in_flight, max_discarded=config.max_discarded_body_bytes)
    app.add_middleware(SameSiteWriteMiddleware, allowed_origins=origins)
    app.add_middleware(ShutdownAnswerMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # outside the others: the 413s get the headers too
    if origins:  # closed unless asked: browsers on other origins cannot call the API
        app.add_middleware(JsonCORSMiddleware, allow_origins=origins,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["content-type"])
    host_names = config.host_names()
    if host_names is not None:  # added last, so outermost: checked before anything else (CORS preflights too)
        app.add_middleware(HostCheckMiddleware, allowed=host_names)


def _install_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"detail": one line}``; user-fixable ``InkreadError``s as 4xx, never 500."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail
        path = _shown_path(request.url.path)
        if error.status_code == 404 and detail == "Not Found":
            without_slash = request.url.path.rstrip("/")
            if without_slash and without_slash != request.url.path and _has_route(app, request, without_slash):
                detail = f"no such endpoint {path}: did you mean {_shown_path(without_slash)}?"
            else:
                detail = f"no such endpoint {path}: the page is /, the API is under {API} (see /docs)"
        elif error.status_code == 405 and detail == "Method Not Allowed":
            # every method the path's routes take: Starlette's Allow names only the first route's (DELETE on
            # /corrections said "use POST", not GET)
            allowed = ", ".join(_allowed_methods(app, request))
            detail = f"{_shown_path(request.method)} is not allowed on {path}" + (f": use {allowed}" if allowed else "")
            others = {key: value for key, value in (error.headers or {}).items() if key.lower() != "allow"}
            return JSONResponse({"detail": detail}, status_code=405, headers={**others, "allow": allowed})
        return JSONResponse({"detail": str(detail)}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(list(error.errors()))}, status_code=422)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, error: ClientDisconnect) -> Response:
        # The page aborts an upload when the user draws on: normal, nobody to answer, nothing to log.
        return Response(status_code=499)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # A bug, not the request's fault: still one line of JSON (the traceback goes to the log).
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
        return JSONResponse({"detail": f"internal error ({type(error).__name__}) while handling this request: "
                                       "try again; if it persists, report it with the server log"}, status_code=500)

    @app.exception_handler(InkreadError)
    async def inkread_error(request: Request, error: InkreadError) -> JSONResponse:
        if isinstance(error, InputImageError):
            status = 400
        elif isinstance(error, (ModelBundleError, StorageError)):
            status = 503  # the server's model files or database are at fault, not the request
        else:
            status = 422  # e.g. only= names no class of the model
        return JSONResponse({"detail": str(error)}, status_code=status)


def _routes_serving(app: FastAPI, scope) -> list:
    """The routes and mounts of ``app`` that serve the path of ``scope`` (with any method)."""
    return [route for route in app.router.routes if route.matches(scope)[0] != Match.NONE]


def _has_route(app: FastAPI, request: Request, path: str) -> bool:
    """Whether some route or mount of ``app`` serves ``path`` (with any method)."""
    return bool(_routes_serving(app, {**request.scope, "path": path}))


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods the routes serving the request's path take, sorted (HEAD with GET, as the server answers it)."""
    methods = {method for route in _routes_serving(app, request.scope) for method in getattr(route, "methods", None) or ()}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _shown_path(path: str, limit: int = 100) -> str:
    """A request's path (or method) as it may appear in a one-line message: escaped, at most ``limit`` characters."""
    shown = printable(path)
    return shown if len(shown) <= limit else shown[:limit] + "..."


# --- query strings ----------------------------------------------------------------------------------
# Every endpoint reads its query string through query_values, with a pydantic model that forbids extra
# fields: a parameter it does not have ("limt" for "limit"), or one given twice, is a 422 naming it,
# never silently dropped or overridden.

class NoQuery(BaseModel):
    """The query string of an endpoint that takes no query parameters."""

    model_config = ConfigDict(extra="forbid")


class CorrectionsQuery(BaseModel):
    """The query parameters of GET /api/v1/corrections."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(20, ge=1, le=100, description="how many corrections (a page)")
    offset: int = Field(0, ge=0, le=MAX_ID, description="how many of the newest to skip")
    model: str | None = Field(None, max_length=schemas.MAX_MODEL_NAME_CHARS, description="only this served model's corrections")


QUERY_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": schemas.ErrorResponse, "description": "an unknown, repeated or invalid query parameter"}}


def query_parameters(model: type[BaseModel]) -> list[dict]:
    """The fields of ``model`` as OpenAPI query parameters (for the endpoints that read them with query_values)."""
    return [{"name": name, "in": "query", "required": False, "schema": schema, "description": schema.get("description", "")}
            for name, schema in model.model_json_schema()["properties"].items()]


# The options of /predict and /read as query parameters, documented from the same pydantic model.
QUERY_OPTIONS = query_parameters(schemas.ImageOptions)


def query_values(request: Request, model: type[Q], body_fields: tuple[str, ...] = ()) -> Q:
    """The query string of ``request`` validated by ``model``: a one-line 422 naming a parameter the endpoint
    does not have (``model`` forbids extra fields; one of ``body_fields`` is said to go in the body), one
    given more than once, or a bad value."""
    query = request.query_params
    if len(query.multi_items()) != len(query):  # a key repeated: "?top_k=1&top_k=3" is not "3"
        name = next(name for name in query.keys() if len(query.getlist(name)) > 1)
        raise HTTPException(422, f"field {printable(name)!r}: given {len(query.getlist(name))} times in the query "
                                 "string; give it once")
    misplaced = next((name for name in query.keys() if name in body_fields), None)
    if misplaced is not None:  # "no such field (misspelled?)" would be wrong: it is a field, in the wrong place
        raise HTTPException(422, f"field {misplaced!r}: goes in the request body (a form field or JSON), "
                                 "not the query string")
    try:
        return model.model_validate(dict(query.items()))  # validation_message escapes a bad name
    except ValidationError as error:
        raise HTTPException(422, validation_message(error)) from None


def query_options(request: Request, body: schemas.ImageOptions) -> schemas.ImageOptions:
    """The options of a request: the body's, completed from the query string (422 naming a bad one,
    or one given in both with different values)."""
    given = body.model_dump(exclude_unset=True, exclude_none=True)  # a JSON null means "the default"
    options = query_values(request, schemas.ImageOptions)
    for name in sorted(given.keys() & request.query_params.keys()):  # given twice: both must say the same
        if getattr(options, name) != given[name]:
            raise HTTPException(422, f"field {name!r} is given twice, {given[name]!r} in the body and "
                                     f"{request.query_params[name]!r} in the query string: give it once")
    return options.model_copy(update=given)


def _image_body(json_model, fields_model, raw: bool, names: list[str]) -> dict:
    """The OpenAPI requestBody of an endpoint that takes an image as JSON, multipart or raw bytes."""
    json_schema = json_model.model_json_schema()
    # Swagger UI fills a form field with its example as text: null would be sent as "null", "" is not sent at all
    form_properties = {key: {**value, "examples": [""]} if value.get("examples") == schemas.UNSET else value
                       for key, value in json_schema["properties"].items() if key != "image"}
    model_choice = {"anyOf": [{"type": "string", "enum": names}, {"type": "null"}], "description": "served model"}
    json_schema["properties"]["model"] = form_properties["model"] = model_choice
    form_schema = {"type": "object", "required": ["file", *[k for k in json_schema.get("required", []) if k != "image"]],
                   "properties": {"file": {"type": "string", "format": "binary"}, **form_properties}}
    content: dict[str, Any] = {
        "application/json": {"schema": json_schema},
        "multipart/form-data": {"schema": form_schema, "encoding": {"file": {"contentType": ", ".join(IMAGE_TYPES)}}},
    }
    if raw:
        for kind in IMAGE_TYPES[:2]:
            content[kind] = {"schema": {"type": "string", "format": "binary"}}
    return {"required": True, "content": content}
