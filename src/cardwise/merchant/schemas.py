"""Merchant search responses."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MerchantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    distance_km: float | None = None
