"""Helpers for the firewall, security-event and log tests: a migrated app on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.db.engine import make_engine
from cardwise.db.migrate import upgrade
from cardwise.security.events_models import SecurityEvent
from cardwise.security.principal import Principal, current_principal
from tests.conftest import TEST_PAN_KEY

ADMIN = Principal(customer_id=None, roles=frozenset({"admin"}), actor_id="sec-admin")


def make_settings(data_dir: Path, url: str | None = None, **overrides: Any) -> Settings:
    return Settings(
        environment="test",
        data_dir=data_dir,
        database_url=url,
        pan_hmac_key=TEST_PAN_KEY,
        scheduler_enabled=False,
        **overrides,
    )


def migrated(settings: Settings) -> Settings:
    upgrade(settings.sqlalchemy_url)
    return settings


@contextmanager
def client_for(settings: Settings, principal: Principal | None = None) -> Iterator[tuple[FastAPI, TestClient]]:
    app = create_app(settings)
    if principal is not None:
        app.dependency_overrides[current_principal] = lambda: principal
    with TestClient(app) as client:
        yield app, client


def stored_events(app: FastAPI, **where: Any) -> list[SecurityEvent]:
    app.state.security_events.flush()
    engine = make_engine(app.state.settings.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            stmt = select(SecurityEvent).order_by(SecurityEvent.event_id)
            for k, v in where.items():
                stmt = stmt.where(getattr(SecurityEvent, k) == v)
            return [SecurityEvent(**r._mapping) for r in conn.execute(stmt)]
    finally:
        engine.dispose()
