"""A loaded database per back end (session-wide), an API client on it, and fresh cards per test."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.db.models import Card, Merchant, Region
from tests.auth_helpers import as_staff
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, loaded_database


@dataclass
class LoadedDb:
    url: str
    engine: Engine
    settings: Settings
    cards: Iterator[tuple[int, str, int]]  # card_id, token, customer_id of cards no test has touched yet


@pytest.fixture(scope="session", params=DB_PARAMS)
def loaded_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, small_lake: Path
) -> Iterator[LoadedDb]:
    with ExitStack() as stack:
        url, engine = loaded_database(request.param, tmp_path_factory.mktemp("safety"), small_lake, stack)
        with engine.connect() as conn:
            rows = conn.execute(
                select(Card.card_id, Card.token, Card.customer_id)
                .where(Card.closed_on.is_(None))
                .order_by(Card.card_id)
            ).all()
        settings = Settings(
            environment="test",
            database_url=url,
            data_dir=tmp_path_factory.mktemp("var"),
            pan_hmac_key=TEST_PAN_KEY,
            scheduler_enabled=False,
        )
        yield LoadedDb(url=url, engine=engine, settings=settings, cards=iter([(r[0], r[1], r[2]) for r in rows]))


@pytest.fixture
def db(loaded_db: LoadedDb) -> LoadedDb:
    return loaded_db


@pytest.fixture
def card(db: LoadedDb) -> tuple[int, str, int]:
    return next(db.cards)


@pytest.fixture
def client(db: LoadedDb) -> Iterator[TestClient]:
    # The payment switch and a call-centre agent: the card tests act on many customers' cards.
    with TestClient(create_app(db.settings), headers=as_staff("switch", "agent", actor="safety-test")) as c:
        yield c


def merchant_in(
    db: LoadedDb,
    *,
    category: str | None = None,
    province: str | None = None,
    overseas: bool = False,
    online: bool | None = None,
) -> int:
    stmt = select(Merchant.merchant_id).join(Region, Region.region_code == Merchant.region_code)
    if category:
        stmt = stmt.where(Merchant.category_code == category)
    if overseas:
        stmt = stmt.where(Merchant.region_code == "XX")
    elif province:
        stmt = stmt.where((Region.parent_code == province) | (Region.region_code == province))
    if online is not None:
        stmt = stmt.where(Merchant.channel == ("online" if online else "offline"))
    with db.engine.connect() as conn:
        mid = conn.execute(stmt.order_by(Merchant.merchant_id).limit(1)).scalar_one()
    return int(mid)


_keys = itertools.count()


def new_key() -> str:
    return f"test-{uuid.uuid4().hex}-{next(_keys)}"
