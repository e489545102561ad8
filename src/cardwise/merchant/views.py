"""Merchant search over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cardwise.deps import SessionDep
from cardwise.merchant import service
from cardwise.merchant.schemas import MerchantOut
from cardwise.security.permissions import allow

router = APIRouter(tags=["merchants"])


@router.get("/merchants/search", response_model=list[MerchantOut], dependencies=[allow("catalog.read")])
def search(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=100, description="Part of the merchant's name.")] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    region: Annotated[str | None, Query(max_length=8, description="Province or Seoul district code.")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=50)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[MerchantOut]:
    """Find a merchant for a payment by name, category, region and distance from a point."""
    hits = service.search(
        session, q=q, category=category, region=region, lat=lat, lon=lon, radius_km=radius_km, limit=limit
    )
    return [MerchantOut.model_validate(h) for h in hits]
