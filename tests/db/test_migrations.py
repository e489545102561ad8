"""The migration history applies on an empty database, rolls back, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from cardwise.db import all_models  # noqa: F401
from cardwise.db.base import Base
from cardwise.db.migrate import current_heads, downgrade, upgrade


def test_upgrade_creates_every_table(db_url: str, engine: Engine) -> None:
    upgrade(db_url)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() in current_heads()


def test_models_and_migrations_agree(db_url: str, engine: Engine) -> None:
    upgrade(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models differ from the migrations: {diff}"


def test_downgrade_and_upgrade_again(db_url: str, engine: Engine) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    upgrade(db_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
