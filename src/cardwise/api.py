"""The FastAPI application: every domain's router is mounted here, domain errors mapped once."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url

from cardwise import __version__
from cardwise.config import Settings, get_settings
from cardwise.core.errors import DomainError
from cardwise.db.engine import make_engine
from cardwise.family.views import backoffice as family_backoffice
from cardwise.family.views import router as family_router
from cardwise.ingest.views import router as ingest_router
from cardwise.lake.views import router as lake_router
from cardwise.logging import get_logger
from cardwise.logs.app import install as install_firewall_and_logs
from cardwise.logs.app import on_shutdown as logs_shutdown
from cardwise.logs.app import on_startup as logs_startup
from cardwise.logs.views import backoffice as logs_backoffice
from cardwise.marketing.views import router as marketing_router
from cardwise.merchant.views import router as merchant_router
from cardwise.mlops.views import backoffice as mlops_backoffice
from cardwise.mlops.views import router as mlops_router
from cardwise.privacy.crypto import Keyring
from cardwise.privacy.crypto import install as install_keyring
from cardwise.privacy.dsr_views import backoffice as privacy_backoffice
from cardwise.privacy.dsr_views import router as privacy_router
from cardwise.recommend.views import router as recommend_router
from cardwise.safety.anomaly import TrainedAnomalyModel, load_latest
from cardwise.safety.views import backoffice as safety_backoffice
from cardwise.safety.views import router as safety_router
from cardwise.security.auth_views import router as auth_router
from cardwise.security.events_views import backoffice as security_backoffice
from cardwise.system.views import router as system_router
from cardwise.voc.views import router as voc_router
from cardwise.web.app import install as install_pages

log = get_logger(__name__)


async def _open_pg_pool(settings: Settings) -> AsyncConnectionPool | None:
    """On PostgreSQL, a pool of non-blocking autocommit connections for the authorization hot path."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() != "postgresql":
        return None
    _, params = make_engine(settings.sqlalchemy_url).dialect.create_connect_args(url)
    pool = AsyncConnectionPool(
        kwargs={**params, "autocommit": True}, min_size=2, max_size=settings.pg_pool_size, open=False
    )
    await pool.open()
    return pool


def _load_anomaly_model(settings: Settings) -> TrainedAnomalyModel | None:
    """The registry's champion (else the newest file from `cardwise safety train`): approved
    authorizations are then scored inline."""
    from cardwise.mlops.lifecycle import load_champion

    try:
        champion = load_champion(settings, "anomaly")
    except Exception:  # a broken registry must not stop payments; fall back to the file model
        log.exception("model registry unavailable; trying the file model")
        champion = None
    if champion is not None:
        info, model = champion
        log.info("anomaly champion loaded", extra={"model.version": info.version, "model.source": "registry"})
        return model
    try:
        model = load_latest(settings.models_dir)
    except FileNotFoundError:
        log.info("no anomaly model yet; approved authorizations are not scored")
        return None
    log.info("anomaly model loaded", extra={"model.version": model.version})
    return model


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    previous_events = logs_startup(app)  # log files in server workers, this app's security-event store
    pool = await _open_pg_pool(app.state.settings)
    app.state.pg_pool = pool
    app.state.anomaly_model = _load_anomaly_model(app.state.settings)
    scheduler = None
    if app.state.settings.scheduler_enabled:
        from cardwise.scheduler import start_scheduler

        scheduler = start_scheduler(app.state.settings)
    yield
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    if pool is not None:
        await pool.close()
    engine = getattr(app.state, "engine", None)
    logs_shutdown(app, previous_events)
    if engine is not None:
        engine.dispose()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _openapi_with_domain_errors(app: FastAPI) -> dict[str, Any]:
    """The schema, with 422 bodies as they really are: FastAPI's list of validation errors, or the one
    message of a domain error (``{"detail": "unknown region code"}``). Found by the schema fuzzer."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
        if error is not None:
            listed = error["properties"]["detail"]
            error["properties"]["detail"] = {"title": "Detail", "anyOf": [listed, {"type": "string"}]}
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="cardwise",
        version=__version__,
        description="Customer-data and AI platform for card issuers (카드사 고객 데이터·AI 플랫폼).",
        lifespan=_lifespan,
    )
    app.state.settings = settings or get_settings()
    install_keyring(Keyring.from_settings(app.state.settings))  # the encrypted columns' keys
    app.state.pg_pool = None  # opened by the lifespan on PostgreSQL
    app.state.anomaly_model = None  # loaded by the lifespan when one has been trained

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message})

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input; a NaN or Infinity in a JSON body (Python's parser accepts
        # them) then cannot be serialized and the 422 became a 500. Same answer, non-finite numbers as text.
        return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(exc.errors()))})

    app.openapi = lambda: _openapi_with_domain_errors(app)  # type: ignore[method-assign]
    app.include_router(system_router)
    app.include_router(auth_router, prefix="/v1")
    app.include_router(lake_router, prefix="/v1")
    app.include_router(safety_router, prefix="/v1")
    app.include_router(merchant_router, prefix="/v1")
    app.include_router(marketing_router, prefix="/v1")
    app.include_router(recommend_router, prefix="/v1")
    app.include_router(mlops_router)
    app.include_router(ingest_router, prefix="/v1")
    app.include_router(mlops_backoffice, prefix="/v1")
    app.include_router(safety_backoffice, prefix="/v1")
    app.include_router(family_router, prefix="/v1")
    app.include_router(family_backoffice, prefix="/v1")
    app.include_router(voc_router, prefix="/v1")
    app.include_router(security_backoffice, prefix="/v1")
    app.include_router(logs_backoffice, prefix="/v1")
    install_firewall_and_logs(app, app.state.settings)  # firewall and access log around every route
    app.include_router(privacy_router, prefix="/v1")
    app.include_router(privacy_backoffice, prefix="/v1")
    install_pages(app)  # server-rendered pages, static files, HTML error pages (cardwise.web)
    return app
