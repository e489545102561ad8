"""The FastAPI application: every domain's router is mounted here."""

from __future__ import annotations

from fastapi import FastAPI

from cardwise import __version__
from cardwise.config import Settings, get_settings
from cardwise.lake.views import router as lake_router
from cardwise.system.views import router as system_router


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="cardwise",
        version=__version__,
        description="Customer-data and AI platform for card issuers (카드사 고객 데이터·AI 플랫폼).",
    )
    app.state.settings = settings or get_settings()
    app.include_router(system_router)
    app.include_router(lake_router, prefix="/v1")
    return app
