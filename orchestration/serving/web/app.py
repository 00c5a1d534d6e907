"""The application `dwell serve` runs: the JSON API, the web app and their static files, over one serving copy."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
import plotly
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestration.settings import serving_dir
from orchestration.serving.web import api, pages
from orchestration.serving.web.api import json_answer
from orchestration.serving.web.params import ApiError
from orchestration.serving.web.snapshot import ServingCopy
from orchestration.serving.web.tokens import TokenStore

HERE = Path(__file__).resolve().parent
log = logging.getLogger("dwell.web")


def create_app(serving_directory: Path | None = None, tokens_path: Path | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.serving.close()

    app = FastAPI(
        lifespan=lifespan,
        title="dwell",
        summary="Sessions, activity and engagement from dwell's serving copy",
        description="Every endpoint but /healthz needs a token: `Session-Token: <token>` or "
                    "`Authorization: Bearer <token>` (`dwell tokens create`). Errors are JSON `{\"message\": ...}`.",
        version="1",
        docs_url=None, redoc_url=None,
    )
    app.state.serving = ServingCopy(serving_directory or serving_dir())
    app.state.tokens = TokenStore(tokens_path)

    app.mount("/static/app", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/static/plotly", StaticFiles(directory=Path(plotly.__file__).parent / "package_data"), name="plotly")
    app.mount("/static/docs", StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"), name="docs")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="dwell API",
                                   swagger_js_url="/static/docs/swagger-ui-bundle.js",
                                   swagger_css_url="/static/docs/swagger-ui.css",
                                   swagger_favicon_url="/static/docs/favicon.png")

    @app.exception_handler(ApiError)
    def api_error(request: Request, error: ApiError) -> Response:
        return json_answer({"message": error.message}, status=error.status)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = error.detail if isinstance(error.detail, str) else "HTTP error"
        return json_answer({"message": message}, status=error.status_code)

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "body", "path"))
        return json_answer({"message": f"{where or 'request'}: {first.get('msg', 'invalid')}"}, status=400)

    @app.exception_handler(Exception)
    def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return json_answer({"message": "Internal error: the server log has the details"}, status=500)

    app.include_router(api.router)
    app.include_router(pages.router)

    return app
