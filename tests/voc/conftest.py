"""The small lake's marts and text signals (once per session), a model trained on them, and a loaded
database with the model's September 2023 scores and the marketing batch of that month."""

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
from cardwise.voc.jobs import score_job, train_job
from cardwise.voc.signals import TextSignals
from cardwise.voc.training import TrainedVocModel, train_voc
from tests.auth_helpers import as_staff
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, loaded_database

SCORED = date(2023, 9, 1)


@dataclass
class Sources:
    marts: Marts
    signals: TextSignals


@pytest.fixture(scope="session")
def sources(small_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Sources:
    root = tmp_path_factory.mktemp("voc_marts")
    return Sources(Marts(root, small_lake), TextSignals(root, small_lake))


@pytest.fixture
def con(small_lake: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(small_lake)
    yield c
    c.close()


@pytest.fixture(scope="session")
def trained(small_lake: Path, sources: Sources) -> TrainedVocModel:
    c = connect(small_lake)
    try:
        model, _ = train_voc(c, sources.marts, sources.signals, seed=0)
    finally:
        c.close()
    return model


@dataclass
class VocDb:
    url: str
    engine: Engine
    settings: Settings


@pytest.fixture(scope="session", params=DB_PARAMS)
def voc_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, small_lake: Path
) -> Iterator[VocDb]:
    """A database loaded from the small lake: a VOC model trained, September scored, the single views built."""
    with ExitStack() as stack:
        data_dir = tmp_path_factory.mktemp("var")
        (data_dir / "lake").symlink_to(small_lake, target_is_directory=True)
        url, engine = loaded_database(request.param, data_dir, small_lake, stack)
        settings = Settings(
            environment="test", database_url=url, data_dir=data_dir, pan_hmac_key=TEST_PAN_KEY, scheduler_enabled=False
        )
        train_job(settings, seed=0)
        score_job(settings, SCORED)
        run_month(settings, SCORED)
        yield VocDb(url=url, engine=engine, settings=settings)


@pytest.fixture
def client(voc_db: VocDb) -> Iterator[TestClient]:
    with TestClient(create_app(voc_db.settings), headers=as_staff("agent")) as c:
        yield c
