"""Loading the lake into the relational store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from cardwise.db.load import load_lake
from cardwise.db.migrate import upgrade
from cardwise.db.models import Card, Merchant
from cardwise.lake.store import LakeError, read_manifest


def test_load_copies_the_lake(db_url: str, engine: Engine, small_lake: Path) -> None:
    upgrade(db_url)
    with engine.begin() as conn:
        counts = load_lake(conn, small_lake)
    expected = read_manifest(small_lake)["tables"]
    assert isinstance(expected, dict)
    for name in ("categories", "regions", "products", "customers", "cards", "merchants"):
        assert counts[name] == expected[name], name
    with engine.connect() as conn:
        card = conn.execute(select(Card).order_by(Card.card_id).limit(1)).one()
        assert len(card.token) == 32 and len(card.last4) == 4
        merchant = conn.execute(select(Merchant).where(Merchant.country == "KR").limit(1)).one()
        assert merchant.lat is not None


def test_reload_is_idempotent(db_url: str, engine: Engine, small_lake: Path) -> None:
    upgrade(db_url)
    with engine.begin() as conn:
        first = load_lake(conn, small_lake)
    with engine.begin() as conn:
        second = load_lake(conn, small_lake)
    assert first == second


def test_failed_load_writes_nothing(db_url: str, engine: Engine, small_lake: Path, tmp_path: Path) -> None:
    import shutil

    upgrade(db_url)
    broken = tmp_path / "broken"
    shutil.copytree(small_lake, broken)
    shutil.rmtree(broken / "cards")  # fails after categories .. merchants were inserted
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017
        load_lake(conn, broken)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 0


def test_missing_lake_is_a_clear_error(db_url: str, engine: Engine, tmp_path: Path) -> None:
    upgrade(db_url)
    with pytest.raises(LakeError, match="cardwise generate"), engine.begin() as conn:
        load_lake(conn, tmp_path / "none")
