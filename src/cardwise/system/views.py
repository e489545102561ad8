"""Health and version endpoints for load balancers and operators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from cardwise import __version__
from cardwise.deps import SettingsDep
from cardwise.lake.store import MANIFEST

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str
    lake: bool


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/home")  # the pages (cardwise.web); the API's documentation is at /docs


@router.get("/healthz", response_model=Health)
def healthz(settings: SettingsDep) -> Health:
    return Health(status="ok", version=__version__, lake=(settings.lake_dir / MANIFEST).exists())
