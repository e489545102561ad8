"""The migration history applies on an empty and on a loaded database, rolls back, and matches the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select

from cardwise.db import all_models  # noqa: F401
from cardwise.db.base import Base
from cardwise.db.load import load_lake
from cardwise.db.migrate import alembic_config, current_heads, downgrade, upgrade


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


def _row_counts(engine: Engine) -> dict[str, int]:
    tables = set(inspect(engine).get_table_names()) & set(Base.metadata.tables)
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(Base.metadata.tables[name])).scalar_one()
            for name in sorted(tables)
        }


def test_the_history_steps_down_and_up_on_a_loaded_database(db_url: str, engine: Engine, small_lake: Path) -> None:
    """Production databases are migrated with data in them: from a loaded database every revision is
    stepped down to the first and the whole history applied again; the loaded rows survive."""
    revisions = [r.revision for r in ScriptDirectory.from_config(alembic_config(db_url)).walk_revisions()]
    assert len(revisions) >= 8
    upgrade(db_url)
    with engine.begin() as conn:
        load_lake(conn, small_lake)
    loaded = _row_counts(engine)
    assert loaded["customers"] > 100 and loaded["cards"] > 100
    for target in revisions[1:]:  # newest first: down one revision at a time, data in place
        downgrade(db_url, target)
    engine.dispose()
    first = _row_counts(engine)
    assert first and all(first[name] == loaded[name] for name in first)
    upgrade(db_url)
    assert _row_counts(engine) == {name: loaded[name] if name in first else 0 for name in loaded}
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models differ from the migrations after the round trip: {diff}"
