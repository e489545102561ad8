"""A private copy of the small lake (tests append data to it), a migrated database and a registry per test."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from cardwise.config import Settings
from cardwise.db.migrate import upgrade
from tests.conftest import TEST_PAN_KEY


@pytest.fixture
def lc_settings(small_lake: Path, tmp_path: Path) -> Settings:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copytree(small_lake, data_dir / "lake")
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'cardwise.db'}",
        pan_hmac_key=TEST_PAN_KEY,
        scheduler_enabled=False,
    )
    upgrade(settings.sqlalchemy_url)
    return settings


def append_month(lake: Path) -> int:
    """New data arrives: the last month's transactions again, one month later, with new ids.
    Returns how many rows were added."""
    months = sorted(p.name for p in (lake / "transactions").iterdir() if p.name.startswith("month="))
    last = pq.read_table(lake / "transactions" / months[-1])
    shift = timedelta(days=31)
    ts = pc.add(last["ts"], pa.scalar(shift, pa.duration("us")))
    max_id = pc.max(pq.read_table(lake / "transactions", columns=["transaction_id"])["transaction_id"]).as_py()
    new = last.set_column(last.schema.get_field_index("ts"), "ts", ts)
    year, month = (int(x) for x in months[-1].removeprefix("month=").split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    after = datetime(year + (month == 12), month % 12 + 1, 1)
    new = new.filter(pc.less(new["ts"], pa.scalar(after, pa.timestamp("us"))))  # stay inside the new month
    new = new.set_column(
        new.schema.get_field_index("transaction_id"),
        "transaction_id",
        pa.array(range(max_id + 1, max_id + 1 + len(new)), pa.int64()),
    )
    out = lake / "transactions" / f"month={year:04d}-{month:02d}"
    out.mkdir()
    pq.write_table(new, out / "part-0.parquet")
    return len(new)
