"""The stored batch over HTTP: the single view, segment summaries, campaign audiences, reruns."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cardwise.marketing.batch import BatchError
from cardwise.marketing.jobs import run_month
from cardwise.marketing.models import CustomerSingleView, MarketingRun, SegmentGrade
from tests.marketing.conftest import MarketingDb

BLOCKS = {
    "status",
    "life_stage",
    "main_categories",
    "segments",
    "value",
    "events",
    "triggers",
    "trend",
    "risk",
    "channels",
    "actions",
}


def any_customer(db: MarketingDb) -> int:
    with Session(db.engine) as s:
        return int(s.execute(select(func.min(CustomerSingleView.customer_id))).scalar_one())


def test_single_view_has_every_block(client: TestClient, marketing_db: MarketingDb) -> None:
    cid = any_customer(marketing_db)
    r = client.get(f"/v1/customers/{cid}/single-view")
    assert r.status_code == 200, r.text
    view = r.json()
    assert set(view) >= BLOCKS
    assert view["month"] == "2023-09"
    assert view["life_stage"]["code"] and view["life_stage"]["evidence"]
    assert view["status"]["age_band_ko"].endswith("대") or view["status"]["age_band_ko"] == "70대 이상"
    assert client.get(f"/v1/customers/{cid}/single-view", params={"month": "2023-09"}).json() == view


def test_single_view_errors_are_clear(client: TestClient) -> None:
    assert client.get("/v1/customers/0/single-view").status_code == 422
    assert client.get("/v1/customers/1/single-view", params={"month": "2023-13"}).status_code == 422
    r = client.get("/v1/customers/999999999/single-view")
    assert r.status_code == 404 and "no single view" in r.json()["detail"]
    assert client.get("/v1/customers/1/single-view", params={"month": "2021-01"}).status_code == 404


def test_audience_counts_match_the_grades(client: TestClient, marketing_db: MarketingDb) -> None:
    r = client.get(
        "/v1/marketing/audience", params={"target_group": "credit", "segment": "GROCERY", "grades": [1, 2], "limit": 5}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    with Session(marketing_db.engine) as s:
        expected = s.execute(
            select(func.count()).where(
                SegmentGrade.month == date(2023, 9, 1),
                SegmentGrade.target_group == "credit",
                SegmentGrade.segment_code == "GROCERY",
                SegmentGrade.grade.in_([1, 2]),
            )
        ).scalar_one()
    assert body["total"] == expected > 0
    assert len(body["customers"]) == min(5, expected)
    assert {c["grade"] for c in body["customers"]} <= {1, 2}
    if body["next_after"] is not None:
        page2 = client.get(
            "/v1/marketing/audience",
            params={
                "target_group": "credit",
                "segment": "GROCERY",
                "grades": [1, 2],
                "limit": 5,
                "after_customer_id": body["next_after"],
            },
        ).json()
        assert min(c["customer_id"] for c in page2["customers"]) > body["next_after"]


def test_audience_refuses_bad_input(client: TestClient) -> None:
    base = {"target_group": "check", "segment": "CAR_CARE"}
    assert client.get("/v1/marketing/audience", params={**base, "grades": [8]}).status_code == 422
    assert (
        client.get("/v1/marketing/audience", params={**base, "target_group": "gold", "grades": [1]}).status_code == 422
    )
    assert client.get("/v1/marketing/audience", params={**base, "segment": "NOPE", "grades": [1]}).status_code == 404
    assert client.get("/v1/marketing/audience", params=base).status_code == 422  # grades are required


def test_segment_summary_per_target_group(client: TestClient) -> None:
    for group in ("credit", "check", "simple_pay", "sole_proprietor"):
        r = client.get("/v1/marketing/segments/summary", params={"target_group": group})
        assert r.status_code == 200, r.text
        segs = r.json()["segments"]
        assert len(segs) >= 15
        for seg in segs:
            grades = seg["by_grade"]
            members = sum(grades[str(g)] for g in range(1, 6))
            assert seg["members"] == members
            # Grades 1-5 hold a fifth of the members each, 6-7 half of the others (within one customer).
            assert max(grades[str(g)] for g in range(1, 6)) - min(grades[str(g)] for g in range(1, 6)) <= 1
            assert abs(grades["6"] - grades["7"]) <= 1


def test_segments_and_runs_are_listed(client: TestClient) -> None:
    assert len(client.get("/v1/marketing/segments").json()) >= 15
    runs = client.get("/v1/marketing/runs").json()
    assert any(r["status"] == "succeeded" and r["month"] == "2023-09" for r in runs)


def test_rerun_replaces_the_month_and_a_failed_run_keeps_it(marketing_db: MarketingDb) -> None:
    def snapshot() -> tuple[int, int]:
        with Session(marketing_db.engine) as s:
            grades = s.execute(select(func.count()).where(SegmentGrade.month == date(2023, 9, 1))).scalar_one()
            views = s.execute(select(func.count()).where(CustomerSingleView.month == date(2023, 9, 1))).scalar_one()
            return int(grades), int(views)

    before = snapshot()
    run_month(marketing_db.settings, date(2023, 9, 1))
    assert snapshot() == before  # replaced, not doubled
    with pytest.raises(BatchError, match="outside"):
        run_month(marketing_db.settings, date(2030, 1, 1))
    assert snapshot() == before
    with Session(marketing_db.engine) as s:
        failed = s.execute(select(MarketingRun).where(MarketingRun.status == "failed")).scalars().all()
    assert failed and "outside" in (failed[-1].error or "")


def test_triggers_endpoint(client: TestClient, marketing_db: MarketingDb) -> None:
    from cardwise.marketing.models import CustomerTrigger

    with Session(marketing_db.engine) as s:
        cid = s.execute(select(CustomerTrigger.customer_id).limit(1)).scalar_one()
    r = client.get(f"/v1/customers/{cid}/triggers")
    assert r.status_code == 200 and r.json() and all("evidence" in t for t in r.json())
