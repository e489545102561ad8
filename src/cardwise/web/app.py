"""Wiring of the pages into the FastAPI app: static files, the local Plotly bundle, the page routers and
error pages (a page never answers with JSON or a bare 500; the API keeps its JSON answers)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from cardwise.core.errors import DomainError
from cardwise.logging import get_logger
from cardwise.web import agent, analyst, backoffice, customer, session_pages
from cardwise.web.i18n import N_
from cardwise.web.templating import render

log = get_logger(__name__)

STATIC = Path(__file__).with_name("static")
# Paths that are pages (HTML errors, login redirects); everything under /v1 stays JSON.
PAGE_PREFIXES: tuple[str, ...] = (
    "/home",
    "/login",
    "/logout",
    "/lang",
    "/display",
    "/my",
    "/backoffice",
    "/agent",
    "/analyst",
)
API_PREFIXES: tuple[str, ...] = ("/v1/", "/docs", "/redoc", "/openapi.json", "/healthz", "/metrics", "/static/")
ROUTERS = [session_pages.router, customer.router, backoffice.router, agent.router, analyst.router]

ERROR_TITLES = {
    400: N_("The request could not be handled"),
    403: N_("You do not have access to this page"),
    404: N_("Page not found"),
    409: N_("That cannot be done now"),
    413: N_("The request is too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many requests; please wait a moment"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is unavailable for a moment"),
}


def is_page_request(request: Request) -> bool:
    path = request.url.path
    if path.startswith(API_PREFIXES):
        return False
    if any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES):
        return True
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    title = ERROR_TITLES.get(status, ERROR_TITLES[400 if status < 500 else 500])
    return render(request, "error.html", status_code=status, title=title, status=status, detail=detail)


def _plotly_js() -> Path:
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


def install(app: FastAPI) -> None:
    """Called by ``create_app`` once the API routers are in."""

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            _plotly_js(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)

    # The API's own handlers (cardwise.api), kept for everything that is not a page.
    api_domain: Any = app.exception_handlers.get(DomainError)
    api_invalid: Any = app.exception_handlers.get(RequestValidationError, request_validation_exception_handler)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not is_page_request(request):
            return await http_exception_handler(request, exc)
        if 300 <= exc.status_code < 400 and exc.headers and "Location" in exc.headers:
            return RedirectResponse(exc.headers["Location"], status_code=exc.status_code)
        return error_page(request, exc.status_code)

    async def invalid(request: Request, exc: Exception) -> Response:
        if not is_page_request(request):
            return await api_invalid(request, exc)
        return error_page(request, 422)

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not is_page_request(request) and api_domain is not None:
            return await api_domain(request, exc)
        return error_page(request, exc.status_code, exc.message)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette logs the exception itself after this answer.
        if is_page_request(request):
            try:
                return error_page(request, 500)
            except Exception:  # the error page itself failed: plain text
                log.exception("error page failed")
        return PlainTextResponse("Internal Server Error", status_code=500)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(Exception, server_error)
