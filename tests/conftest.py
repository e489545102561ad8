"""Shared fixtures: one small generated lake per test session, settings that point at tmp dirs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cardwise.config import Settings
from cardwise.lake.build import build_lake
from cardwise.lake.store import connect
from cardwise.synth.presets import get_preset

TEST_PAN_KEY = "test-pan-key"
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lake") / "lake"
    build_lake(get_preset("small"), seed=SMALL_SEED, out=out, overwrite=False, pan_key=TEST_PAN_KEY)
    return out


@pytest.fixture(scope="session")
def lake_con(small_lake: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(small_lake, include_restricted=True)
    yield con
    con.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "var", pan_hmac_key=TEST_PAN_KEY, scheduler_enabled=False)


def postgres_url() -> str | None:
    return os.environ.get("CARDWISE_TEST_POSTGRES_URL") or None
