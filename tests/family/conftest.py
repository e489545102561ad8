"""A loaded database per back end (session-wide), an API client on it, and fresh customers per test.

Every test takes customers no other test has used (a customer is in one group at a time, and the
database is shared by the whole session), split by age so a test can ask for an older member."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.db.models import Customer
from cardwise.db.types import utcnow
from cardwise.notify.models import CustomerContact
from tests.auth_helpers import as_customer, as_staff  # noqa: F401  (as_customer: used by the family tests)
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, loaded_database

AGENT = as_staff("agent", actor="agent-7")


@dataclass
class FamilyDb:
    url: str
    engine: Engine
    settings: Settings
    older: Iterator[int]  # aged 50 or over this year, never used by another test
    younger: Iterator[int]  # under 50
    phones: dict[int, str]

    def phone(self, customer_id: int) -> str:
        return self.phones[customer_id]


def _split_by_age(engine: Engine, now: datetime) -> tuple[list[int], list[int], dict[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Customer.customer_id, Customer.birth_year, CustomerContact.phone)
            .join(CustomerContact, CustomerContact.customer_id == Customer.customer_id)
            .order_by(Customer.customer_id)
        ).all()
    older = [r[0] for r in rows if now.year - r[1] >= 50]
    younger = [r[0] for r in rows if now.year - r[1] < 50]
    return older, younger, {r[0]: r[2] for r in rows}


@pytest.fixture(scope="session", params=DB_PARAMS)
def family_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, small_lake: Path
) -> Iterator[FamilyDb]:
    with ExitStack() as stack:
        url, engine = loaded_database(request.param, tmp_path_factory.mktemp("family"), small_lake, stack)
        older, younger, phones = _split_by_age(engine, utcnow())
        settings = Settings(
            environment="test",
            database_url=url,
            data_dir=tmp_path_factory.mktemp("var"),
            pan_hmac_key=TEST_PAN_KEY,
            scheduler_enabled=False,
        )
        yield FamilyDb(url, engine, settings, iter(older), iter(younger), phones)


@pytest.fixture
def db(family_db: FamilyDb) -> FamilyDb:
    return family_db


@pytest.fixture
def client(db: FamilyDb) -> Iterator[TestClient]:
    with TestClient(create_app(db.settings)) as c:
        yield c
