"""Health and lake endpoints over HTTP."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from cardwise.api import create_app
from cardwise.config import Settings
from tests.auth_helpers import as_staff


def test_healthz_without_lake(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["lake"] is False


def test_lake_summary(settings: Settings, small_lake: Path) -> None:
    settings.data_dir.mkdir(parents=True)
    shutil.copytree(small_lake, settings.lake_dir)
    client = TestClient(create_app(settings))
    assert client.get("/healthz").json()["lake"] is True
    body = client.get("/v1/lake", headers=as_staff("analyst")).json()
    names = {t["name"] for t in body["tables"]}
    assert "transactions" in names and "customer_identity" not in names
    tx = next(t for t in body["tables"] if t["name"] == "transactions")
    assert tx["rows"] > 100_000


def test_lake_summary_without_lake_is_404(settings: Settings) -> None:
    r = TestClient(create_app(settings)).get("/v1/lake", headers=as_staff("analyst"))
    assert r.status_code == 404 and "cardwise generate" in r.json()["detail"]


def test_openapi_docs(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    assert client.get("/openapi.json").json()["info"]["title"] == "cardwise"
