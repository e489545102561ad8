"""Merchant search for a payment (S9): by name, category, region and distance from a point."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from cardwise.core.errors import Invalid
from cardwise.db.models import Category, Merchant, Region

EARTH_KM = 6371.0088


@dataclass(frozen=True)
class MerchantHit:
    merchant_id: int
    name: str
    category_code: str
    category_name_ko: str
    category_name_en: str
    region_code: str
    region_name_ko: str
    region_name_en: str
    lat: float | None
    lon: float | None
    distance_km: float | None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def search(
    session: Session,
    *,
    q: str | None = None,
    category: str | None = None,
    region: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    radius_km: float | None = None,
    limit: int = 20,
) -> list[MerchantHit]:
    if (lat is None) != (lon is None):
        raise Invalid("give both lat and lon, or neither")
    if radius_km is not None and lat is None:
        raise Invalid("radius_km needs lat and lon")
    parent = aliased(Region)
    stmt = (
        select(Merchant, Category.name_ko, Category.name_en, Region.name_ko, Region.name_en)
        .join(Category, Category.category_code == Merchant.category_code)
        .join(Region, Region.region_code == Merchant.region_code)
        .outerjoin(parent, parent.region_code == Region.parent_code)
    )
    if q:
        stmt = stmt.where(Merchant.name.contains(q.strip(), autoescape=True))
    if category:
        if session.get(Category, category) is None:
            raise Invalid(f"unknown category code: {category}")
        stmt = stmt.where(Merchant.category_code == category)
    if region:
        if session.get(Region, region) is None:
            raise Invalid(f"unknown region code: {region}")
        stmt = stmt.where(or_(Merchant.region_code == region, Region.parent_code == region))
    if lat is not None and lon is not None:
        radius = radius_km or 5.0
        # A bounding box in SQL narrows the rows; the exact distance is computed here.
        dlat = radius / 111.0
        dlon = radius / (111.0 * max(math.cos(math.radians(lat)), 0.01))
        stmt = stmt.where(Merchant.lat.between(lat - dlat, lat + dlat), Merchant.lon.between(lon - dlon, lon + dlon))
        rows = session.execute(stmt.limit(5_000)).all()
        hits = [
            (haversine_km(lat, lon, m.lat, m.lon), m, cko, cen, rko, ren)
            for m, cko, cen, rko, ren in rows
            if m.lat is not None and m.lon is not None
        ]
        hits = sorted((h for h in hits if h[0] <= radius), key=lambda h: (h[0], h[1].merchant_id))[:limit]
        return [_hit(m, cko, cen, rko, ren, round(d, 3)) for d, m, cko, cen, rko, ren in hits]
    rows = session.execute(stmt.order_by(Merchant.name, Merchant.merchant_id).limit(limit)).all()
    return [_hit(m, cko, cen, rko, ren, None) for m, cko, cen, rko, ren in rows]


def _hit(m: Merchant, cko: str, cen: str, rko: str, ren: str, distance: float | None) -> MerchantHit:
    return MerchantHit(
        m.merchant_id, m.name, m.category_code, cko, cen, m.region_code, rko, ren, m.lat, m.lon, distance
    )
