"""Database fixtures, imported by the conftest files that need them.

PostgreSQL tests get a schema of their own per session, dropped at the end, so runs never see
each other's tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from cardwise.db.engine import make_engine
from cardwise.db.load import load_lake
from cardwise.db.migrate import upgrade
from tests.conftest import postgres_url

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def temporary_schema() -> Iterator[str]:
    """A URL of the test PostgreSQL server whose tables live in a new schema, dropped afterwards."""
    base = postgres_url()
    if not base:
        pytest.skip("CARDWISE_TEST_POSTGRES_URL is not set")
    schema = f"cw_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'cardwise.db'}"
        return
    with temporary_schema() as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


DB_PARAMS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def loaded_database(backend: str, directory: Path, lake: Path, stack: ExitStack) -> tuple[str, Engine]:
    """A migrated database loaded from ``lake``: a SQLite file in ``directory`` or a temporary
    PostgreSQL schema; everything is released when ``stack`` closes."""
    url = f"sqlite:///{directory / 'cardwise.db'}" if backend == "sqlite" else stack.enter_context(temporary_schema())
    upgrade(url)
    engine = make_engine(url)
    stack.callback(engine.dispose)
    with engine.begin() as conn:
        load_lake(conn, lake)
    return url, engine
