"""Core tables shared by every domain: reference data, customers, cards, merchants.

Cards are stored by token and last four digits only; names and contacts live apart (privacy).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Integer, SmallInteger, String, false
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db.base import Base


class Category(Base):
    __tablename__ = "categories"
    category_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(32))
    name_ko: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    group_name_ko: Mapped[str] = mapped_column(String(64))
    group_name_en: Mapped[str] = mapped_column(String(64))
    prev_month_excluded: Mapped[bool] = mapped_column(Boolean)


class Region(Base):
    __tablename__ = "regions"
    region_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(8))
    name_ko: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class Product(Base):
    __tablename__ = "products"
    product_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    card_type: Mapped[str] = mapped_column(String(8))
    annual_fee_krw: Mapped[int] = mapped_column(Integer)
    launched_on: Mapped[date] = mapped_column(Date)
    discontinued_on: Mapped[date | None] = mapped_column(Date)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    gender: Mapped[str] = mapped_column(String(1))
    home_region_code: Mapped[str] = mapped_column(ForeignKey("regions.region_code"))
    occupation: Mapped[str] = mapped_column(String(32))
    is_sole_proprietor: Mapped[bool] = mapped_column(Boolean)
    marital_status: Mapped[str] = mapped_column(String(16))
    household_id: Mapped[int] = mapped_column(BigInteger, index=True)
    relation_to_head: Mapped[str] = mapped_column(String(32))
    income_band: Mapped[int] = mapped_column(SmallInteger)
    target_group: Mapped[str] = mapped_column(String(16))
    marketing_consent: Mapped[bool] = mapped_column(Boolean)
    preferred_channel: Mapped[str] = mapped_column(String(8))
    joined_on: Mapped[date] = mapped_column(Date)


class Card(Base):
    __tablename__ = "cards"
    card_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"))
    card_type: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    brand: Mapped[str] = mapped_column(String(16))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # open lost/stolen report
    is_primary: Mapped[bool] = mapped_column(Boolean)
    contactless_enabled: Mapped[bool] = mapped_column(Boolean)
    overseas_enabled: Mapped[bool] = mapped_column(Boolean)


class Merchant(Base):
    __tablename__ = "merchants"
    merchant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(128), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.category_code"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.region_code"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(8))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
