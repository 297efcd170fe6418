"""The web app: a drawing page and an HTTP API over ``Recognizer`` and ``LineReader``, plus the corrections store.

    from inkread.serving import ServeConfig, serve, create_app
    serve(ServeConfig(port=8000))               # what ``inkread serve`` runs
    app = create_app(ServeConfig(models=["digits"]))  # the ASGI app, for tests or another server

Importing this package is cheap: FastAPI and uvicorn are imported when ``serve`` or
``create_app`` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inkread.serving.config import ServeConfig

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ServeConfig", "serve", "create_app"]


def serve(config: ServeConfig) -> None:
    """Run the web app under uvicorn until Ctrl-C; prints the address it listens on."""
    from inkread.serving.server import run

    run(config)


def create_app(config: ServeConfig) -> "FastAPI":
    """The FastAPI application for ``config`` (models are loaded lazily, on first use)."""
    from inkread.serving.app import create_app as build

    return build(config)
