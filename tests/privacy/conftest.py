"""A data directory of its own per test (a copy of the small lake, a loaded database, log files), so
erasure and retention can rewrite files freely."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cardwise.config import Settings
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, db_url, engine, loaded_database  # noqa: F401


@dataclass
class Env:
    settings: Settings
    engine: Engine
    url: str


@pytest.fixture(params=DB_PARAMS)
def env(request: pytest.FixtureRequest, tmp_path: Path, small_lake: Path) -> Iterator[Env]:
    data = tmp_path / "var"
    shutil.copytree(small_lake, data / "lake")
    with ExitStack() as stack:
        url, engine = loaded_database(request.param, tmp_path, data / "lake", stack)
        settings = Settings(
            environment="test", data_dir=data, database_url=url, pan_hmac_key=TEST_PAN_KEY, scheduler_enabled=False
        )
        yield Env(settings, engine, url)
