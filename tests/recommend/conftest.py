"""The small lake's marts and history (once per session), one computed run, and a loaded database with
the September 2023 run stored (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.lake.marts import Marts
from cardwise.lake.store import connect
from cardwise.recommend.batch import RunResult, compute_run
from cardwise.recommend.evaluation import prepare
from cardwise.recommend.history import History, Reference
from cardwise.recommend.jobs import run_month
from tests.auth_helpers import as_staff
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, db_url, loaded_database  # noqa: F401  (db_url: an empty database per test)

RUN_MONTH = date(2023, 9, 1)


@dataclass
class Lake:
    path: Path
    marts: Marts
    ref: Reference
    history: History


@pytest.fixture(scope="session")
def lake(small_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    marts = Marts(tmp_path_factory.mktemp("rmarts"), small_lake)
    con = connect(small_lake)
    try:
        ref, history = prepare(con, marts, date(2023, 10, 1))
    finally:
        con.close()
    return Lake(path=small_lake, marts=marts, ref=ref, history=history)


@pytest.fixture(scope="session")
def run(lake: Lake) -> RunResult:
    con = connect(lake.path)
    try:
        return compute_run(con, lake.marts, RUN_MONTH)
    finally:
        con.close()


@dataclass
class RecommendDb:
    url: str
    engine: Engine
    settings: Settings
    run_id: int


@pytest.fixture(scope="session", params=DB_PARAMS)
def recommend_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, small_lake: Path
) -> Iterator[RecommendDb]:
    """A database loaded from the small lake with the September 2023 recommendations stored."""
    with ExitStack() as stack:
        data_dir = tmp_path_factory.mktemp("rvar")
        (data_dir / "lake").symlink_to(small_lake, target_is_directory=True)
        url, engine = loaded_database(request.param, data_dir, small_lake, stack)
        settings = Settings(
            environment="test", database_url=url, data_dir=data_dir, pan_hmac_key=TEST_PAN_KEY, scheduler_enabled=False
        )
        run_id, _ = run_month(settings, RUN_MONTH)
        yield RecommendDb(url=url, engine=engine, settings=settings, run_id=run_id)


@pytest.fixture
def client(recommend_db: RecommendDb) -> Iterator[TestClient]:
    with TestClient(create_app(recommend_db.settings), headers=as_staff("agent")) as c:
        yield c
