"""Storing runs: a rerun replaces the month in one transaction, a failure stores nothing and is
recorded, old months are dropped after KEEP_MONTHS (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cardwise.db.engine import make_engine
from cardwise.db.migrate import upgrade
from cardwise.recommend import service
from cardwise.recommend.batch import RecommendError, RunResult
from cardwise.recommend.jobs import run_month
from cardwise.recommend.models import CustomerRecommendation, MerchantTarget, ProductSimilarity, RecommendRun
from tests.recommend.conftest import RecommendDb


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    """An empty migrated database (documents reference no other table)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _counts(engine: Engine) -> dict[date, int]:
    with Session(engine) as s:
        rows = s.execute(
            select(CustomerRecommendation.month, func.count()).group_by(CustomerRecommendation.month)
        ).all()
    return {m: int(n) for m, n in rows}


def _store(engine: Engine, result: RunResult) -> int:
    with Session(engine, expire_on_commit=False) as s:
        run_id = service.start_run(s, result.month)
        service.store_run(s, run_id, result, 1.0)
    return run_id


def test_a_rerun_replaces_the_month_and_reads_see_the_new_run(store: Engine, run: RunResult) -> None:
    first = _store(store, run)
    second = _store(store, run)
    assert _counts(store) == {date(2023, 9, 1): 400}
    with Session(store) as s:
        assert s.execute(select(func.count()).select_from(MerchantTarget)).scalar_one() == len(run.merchants)
        assert s.execute(select(func.count()).select_from(ProductSimilarity)).scalar_one() == 27
        assert {r.run_id for r in s.execute(select(CustomerRecommendation)).scalars()} == {second}
        statuses = {r.run_id: r.status for r in service.runs(s)}
        assert statuses == {first: "succeeded", second: "succeeded"}
        cid = run.recommendations[0]["customer_id"]
        assert json.loads(service.recommendations(s, cid)) == run.recommendations[0]
        assert json.loads(service.report(s, cid, date(2023, 9, 1))) == run.reports[0]


def test_a_failure_while_storing_leaves_the_stored_month_as_it_was(
    store: Engine, run: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(store, run)
    with Session(store) as s:
        before = s.execute(select(CustomerRecommendation.run_id).distinct()).scalars().all()
    real = service.dumps

    def failing(doc: Any) -> str:
        if "stage" in doc:  # merchant documents come after the customers' were written
            raise OSError("disk full")
        return real(doc)

    monkeypatch.setattr(service, "dumps", failing)
    with Session(store, expire_on_commit=False) as s:
        run_id = service.start_run(s, run.month)
        with pytest.raises(OSError):
            service.store_run(s, run_id, run, 1.0)
        service.fail_run(s, run_id, "OSError: disk full")
    assert _counts(store) == {date(2023, 9, 1): 400}
    with Session(store) as s:
        assert s.execute(select(CustomerRecommendation.run_id).distinct()).scalars().all() == before
        failed = s.get(RecommendRun, run_id)
        assert failed is not None and failed.status == "failed" and failed.error == "OSError: disk full"


def test_only_the_newest_months_are_kept(store: Engine, run: RunResult) -> None:
    for m in (5, 6, 7, 8, 9):
        _store(store, dataclasses.replace(run, month=date(2023, m, 1)))
    assert sorted(_counts(store)) == [date(2023, 7, 1), date(2023, 8, 1), date(2023, 9, 1)]
    assert service.KEEP_MONTHS == 3
    with Session(store) as s:
        months = s.execute(select(MerchantTarget.month).distinct()).scalars().all()
        assert sorted(months) == [date(2023, 7, 1), date(2023, 8, 1), date(2023, 9, 1)]
        # Without a month the newest is read; a kept older month on request.
        cid = run.recommendations[0]["customer_id"]
        assert service.recommendations(s, cid)
        assert service.recommendations(s, cid, date(2023, 7, 1))


def test_a_month_the_lake_cannot_serve_is_refused_and_recorded(recommend_db: RecommendDb) -> None:
    with pytest.raises(RecommendError, match="is outside it"):
        run_month(recommend_db.settings, date(2031, 1, 1))
    with pytest.raises(RecommendError, match="earlier lake months"):
        run_month(recommend_db.settings, date(2022, 11, 1))
    with Session(recommend_db.engine) as s:
        failed = (
            s.execute(select(RecommendRun).where(RecommendRun.status == "failed").order_by(RecommendRun.run_id.desc()))
            .scalars()
            .first()
        )
        assert failed is not None and "RecommendError" in (failed.error or "")
        # The stored month is untouched.
        assert s.execute(select(func.count()).select_from(CustomerRecommendation)).scalar_one() == 400
