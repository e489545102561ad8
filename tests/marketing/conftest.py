"""Marts of the small lake (computed once per session) and a loaded database with a marketing run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.lake.marts import Marts
from cardwise.lake.store import connect
from cardwise.marketing.jobs import run_month
from cardwise.marketing.marts import ensure_monthly_marts, lake_months
from tests.auth_helpers import as_staff
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, loaded_database


@pytest.fixture(scope="session")
def marts(small_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Marts:
    m = Marts(tmp_path_factory.mktemp("marts"), small_lake)
    con = connect(small_lake)
    try:
        ensure_monthly_marts(con, m, lake_months(con))
    finally:
        con.close()
    return m


@pytest.fixture
def con(small_lake: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(small_lake)
    yield c
    c.close()


@dataclass
class MarketingDb:
    url: str
    engine: Engine
    settings: Settings


@pytest.fixture(scope="session", params=DB_PARAMS)
def marketing_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, small_lake: Path
) -> Iterator[MarketingDb]:
    """A database loaded from the small lake with the September 2023 batch stored."""
    with ExitStack() as stack:
        data_dir = tmp_path_factory.mktemp("var")
        (data_dir / "lake").symlink_to(small_lake, target_is_directory=True)
        url, engine = loaded_database(request.param, data_dir, small_lake, stack)
        settings = Settings(
            environment="test", database_url=url, data_dir=data_dir, pan_hmac_key=TEST_PAN_KEY, scheduler_enabled=False
        )
        run_month(settings, date(2023, 9, 1))
        yield MarketingDb(url=url, engine=engine, settings=settings)


@pytest.fixture
def client(marketing_db: MarketingDb) -> Iterator[TestClient]:
    with TestClient(create_app(marketing_db.settings), headers=as_staff("agent")) as c:
        yield c
