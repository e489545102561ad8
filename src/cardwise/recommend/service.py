"""Storing a month's recommendations and reading them back for the API, the CLI and the pages.

Reads return the stored JSON text as it is (one primary-key lookup, no re-encoding). A customer the
run did not see (joined afterwards) gets a cold-start answer built from the run's fallbacks; an
unknown id is a ``NotFound``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from cardwise.core.errors import NotFound
from cardwise.db.models import Customer, Merchant, Product
from cardwise.db.types import utcnow
from cardwise.privacy.dsr_restriction import restricted_ids
from cardwise.recommend.batch import RunResult
from cardwise.recommend.documents import cold_start_document, empty_report
from cardwise.recommend.models import CustomerRecommendation, MerchantTarget, ProductSimilarity, RecommendRun

KEEP_MONTHS = 3  # months of documents kept (the newest runs); older months are deleted by the run that stores
_CHUNK = 5_000
NO_RUN = "no recommendations computed yet (cardwise recommend run --month YYYY-MM)"


def dumps(document: Any) -> str:
    """Compact UTF-8 JSON (Korean stays Korean: half the bytes of escaped text)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), _CHUNK):
        yield rows[i : i + _CHUNK]


def start_run(session: Session, month: date) -> int:
    run = RecommendRun(month=month, status="running", started_at=utcnow())
    session.add(run)
    session.commit()
    return run.run_id


def fail_run(session: Session, run_id: int, error: str) -> None:
    session.rollback()
    run = session.get(RecommendRun, run_id)
    if run is not None:
        run.status = "failed"
        run.finished_at = utcnow()
        run.error = error[:2000]
        session.commit()


def without_restricted(result: RunResult, restricted: set[int]) -> RunResult:
    if not restricted:
        return result
    pairs = [
        (rec, rep)
        for rec, rep in zip(result.recommendations, result.reports, strict=True)
        if int(rec["customer_id"]) not in restricted
    ]
    merchants = [
        {
            k: [e for e in v if not (isinstance(e, dict) and e.get("customer_id") in restricted)]
            if isinstance(v, list)
            else v
            for k, v in doc.items()
        }
        for doc in result.merchants
    ]
    return replace(result, recommendations=[p[0] for p in pairs], reports=[p[1] for p in pairs], merchants=merchants)


def store_run(session: Session, run_id: int, result: RunResult, duration_s: float) -> None:
    """Replace the month's documents in one transaction and drop months older than ``KEEP_MONTHS``.
    Customers who asked to stop processing get no documents and leave the merchants' target lists."""
    month = result.month
    conn: Connection = session.connection()
    result = without_restricted(result, restricted_ids(session))
    for table in (CustomerRecommendation, MerchantTarget, ProductSimilarity):
        conn.execute(delete(table).where(table.month == month))
    customer_rows = [
        {
            "customer_id": rec["customer_id"],
            "month": month,
            "run_id": run_id,
            "cold_start": bool(rec["cold_start"]),
            "recommendations": dumps(rec),
            "report": dumps(report),
        }
        for rec, report in zip(result.recommendations, result.reports, strict=True)
    ]
    for chunk in _chunks(customer_rows):
        conn.execute(insert(CustomerRecommendation), chunk)
    merchant_rows = [
        {"merchant_id": doc["merchant_id"], "month": month, "stage": doc["stage"], "document": dumps(doc)}
        for doc in result.merchants
    ]
    for chunk in _chunks(merchant_rows):
        conn.execute(insert(MerchantTarget), chunk)
    conn.execute(
        insert(ProductSimilarity),
        [{"product_id": doc["product_id"], "month": month, "document": dumps(doc)} for doc in result.products],
    )
    kept = _kept_months(session, month)
    if kept:
        for table in (CustomerRecommendation, MerchantTarget, ProductSimilarity):
            conn.execute(delete(table).where(table.month < kept[-1]))
    run = session.get(RecommendRun, run_id)
    if run is None:
        raise NotFound(f"recommendation run {run_id} not found")
    run.status = "succeeded"
    run.finished_at = utcnow()
    run.duration_s = round(duration_s, 3)
    run.counts = result.counts()
    run.metrics = {**result.metrics, "timings_s": result.timings}
    run.cold_start = dumps(result.cold_start)
    session.commit()


def _kept_months(session: Session, month: date) -> list[date]:
    """The ``KEEP_MONTHS`` newest months with documents once ``month`` is stored (newest first)."""
    stored = session.execute(
        select(CustomerRecommendation.month).distinct().order_by(CustomerRecommendation.month.desc())
    ).scalars()
    months = sorted({*stored, month}, reverse=True)
    return months[:KEEP_MONTHS] if len(months) > KEEP_MONTHS else []


def latest_run(session: Session, month: date | None = None) -> RecommendRun | None:
    query = select(RecommendRun).where(RecommendRun.status == "succeeded")
    if month is not None:
        query = query.where(RecommendRun.month == month)
    run: RecommendRun | None = session.execute(
        query.order_by(RecommendRun.month.desc(), RecommendRun.run_id.desc()).limit(1)
    ).scalar_one_or_none()
    return run


def _document(
    session: Session, column: Any, key_column: Any, key: Any, month_column: Any, month: date | None
) -> str | None:
    query = select(column).where(key_column == key)
    query = query.where(month_column == month) if month is not None else query.order_by(month_column.desc()).limit(1)
    text: str | None = session.execute(query).scalar_one_or_none()
    return text


def _cold_start_for(session: Session, customer_id: int, month: date | None) -> tuple[str, str]:
    """For a known customer the run did not see: recommendations and report from the run's fallbacks."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    run = latest_run(session, month)
    if run is None or run.cold_start is None:
        raise NotFound(NO_RUN if month is None else f"no recommendation run for {month:%Y-%m}")
    cold = json.loads(run.cold_start)
    rec = cold_start_document(cold, customer_id, customer.birth_year, customer.gender, customer.home_region_code)
    return dumps(rec), dumps(empty_report(customer_id, run.month))


def recommendations(session: Session, customer_id: int, month: date | None = None) -> str:
    """The customer's recommendation document (JSON text) for ``month`` or the latest run."""
    text = _document(
        session,
        CustomerRecommendation.recommendations,
        CustomerRecommendation.customer_id,
        customer_id,
        CustomerRecommendation.month,
        month,
    )
    return text if text is not None else _cold_start_for(session, customer_id, month)[0]


def report(session: Session, customer_id: int, month: date | None = None) -> str:
    """The customer's spend-pattern report (JSON text)."""
    text = _document(
        session,
        CustomerRecommendation.report,
        CustomerRecommendation.customer_id,
        customer_id,
        CustomerRecommendation.month,
        month,
    )
    return text if text is not None else _cold_start_for(session, customer_id, month)[1]


def merchant_targets(session: Session, merchant_id: int, month: date | None = None) -> str:
    text = _document(
        session, MerchantTarget.document, MerchantTarget.merchant_id, merchant_id, MerchantTarget.month, month
    )
    if text is not None:
        return text
    if session.get(Merchant, merchant_id) is None:
        raise NotFound(f"merchant {merchant_id} not found")
    raise NotFound(NO_RUN if month is None else f"no recommendation run for {month:%Y-%m}")


def similar_products(session: Session, product_id: str, month: date | None = None) -> str:
    text = _document(
        session, ProductSimilarity.document, ProductSimilarity.product_id, product_id, ProductSimilarity.month, month
    )
    if text is not None:
        return text
    if session.get(Product, product_id) is None:
        raise NotFound(f"product {product_id} not found")
    raise NotFound(NO_RUN if month is None else f"no recommendation run for {month:%Y-%m}")


def merchants_by_stage(session: Session, month: date | None = None) -> dict[str, Any]:
    """How many merchants are in each life-cycle stage in a month (the latest by default)."""
    if month is None:
        run = latest_run(session)
        if run is None:
            raise NotFound(NO_RUN)
        month = run.month
    rows = session.execute(
        select(MerchantTarget.stage, func.count()).where(MerchantTarget.month == month).group_by(MerchantTarget.stage)
    ).all()
    return {"month": f"{month:%Y-%m}", "stages": {str(s): int(n) for s, n in rows}}


def runs(session: Session, limit: int = 20) -> list[RecommendRun]:
    return list(session.execute(select(RecommendRun).order_by(RecommendRun.run_id.desc()).limit(limit)).scalars())
