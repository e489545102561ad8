"""A loaded database and a private copy of the small lake per test (the exporter writes into it)."""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from cardwise.config import Settings
from cardwise.db.models import Card, Merchant
from cardwise.safety.models import Authorization
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, loaded_database


@dataclass
class IngestEnv:
    url: str
    engine: Engine
    settings: Settings


@pytest.fixture(params=DB_PARAMS)
def env(request: pytest.FixtureRequest, tmp_path: Path, small_lake: Path) -> Iterator[IngestEnv]:
    with ExitStack() as stack:
        data_dir = tmp_path / "var"
        data_dir.mkdir()
        shutil.copytree(small_lake, data_dir / "lake")
        url, engine = loaded_database(request.param, data_dir, small_lake, stack)
        settings = Settings(
            environment="test", database_url=url, data_dir=data_dir, pan_hmac_key=TEST_PAN_KEY, scheduler_enabled=False
        )
        yield IngestEnv(url=url, engine=engine, settings=settings)


def add_authorizations(engine: Engine, n: int, *, at: datetime | None = None, seed: int = 0) -> tuple[int, int]:
    """Store ``n`` authorization decisions as the service would; returns (all, approved)."""
    rng = random.Random(seed)
    with engine.begin() as conn:
        cards = conn.execute(select(Card.card_id).limit(50)).scalars().all()
        merchants = (
            conn.execute(select(Merchant.merchant_id).where(Merchant.region_code != "XX").limit(50)).scalars().all()
        )
        when = at or datetime(2023, 11, 3, 3, 0, tzinfo=UTC)
        created = datetime.now(UTC) - timedelta(minutes=5)
        rows = []
        for i in range(n):
            approved = rng.random() < 0.9
            rows.append(
                {
                    "idempotency_key": f"t-{uuid.uuid4().hex}",
                    "request_hash": "x" * 64,
                    "card_id": rng.choice(cards),
                    "merchant_id": rng.choice(merchants),
                    "amount_krw": rng.randint(1_000, 500_000),
                    "requested_at": when + timedelta(seconds=i),
                    "channel": "offline",
                    "contactless": False,
                    "approved": approved,
                    "reasons": [] if approved else [{"code": "BLOCKED_REGION"}],
                    "created_at": created,
                }
            )
        conn.execute(insert(Authorization), rows)
    return n, sum(r["approved"] for r in rows)
