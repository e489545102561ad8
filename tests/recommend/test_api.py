"""The stored recommendations over HTTP (SQLite and PostgreSQL): every endpoint, its schema, clear
404s for unknown ids, cold-start answers for customers the run did not see."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from cardwise.db.models import Customer
from cardwise.recommend.models import CustomerRecommendation, MerchantTarget
from cardwise.recommend.schemas import MerchantTargets, Recommendations, Report, SimilarProducts
from tests.recommend.conftest import RecommendDb


def _some(db: RecommendDb, column: object, model: type) -> int:
    with Session(db.engine) as s:
        return int(s.execute(select(func.min(column)).select_from(model)).scalar_one())


def test_a_customers_recommendations_and_report(client: TestClient, recommend_db: RecommendDb) -> None:
    cid = _some(recommend_db, CustomerRecommendation.customer_id, CustomerRecommendation)
    r = client.get(f"/v1/customers/{cid}/recommendations")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    rec = Recommendations.model_validate(r.json())
    assert rec.customer_id == cid and rec.month == "2023-09" and not rec.cold_start
    assert rec.best_cards and rec.best_cards[0].earned_in and rec.popular_cards
    assert rec.similar_members.size > 0 and rec.categories.preferred and rec.merchants.preferred
    assert client.get(f"/v1/customers/{cid}/recommendations", params={"month": "2023-09"}).json() == r.json()
    report = Report.model_validate(client.get(f"/v1/customers/{cid}/report").json())
    assert report.customer_id == cid and report.period.to == "2023-09" and report.top_categories
    assert report.best_card is not None and report.best_card.product_id == rec.best_cards[0].product_id


def test_unknown_ids_are_404_with_a_message_and_bad_ids_422(client: TestClient) -> None:
    for path, message in [
        ("/v1/customers/999999999/recommendations", "customer 999999999 not found"),
        ("/v1/customers/999999999/report", "customer 999999999 not found"),
        ("/v1/merchants/999999999/targets", "merchant 999999999 not found"),
        ("/v1/products/CR99/similar", "product CR99 not found"),
    ]:
        r = client.get(path)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["detail"] == message
    r = client.get("/v1/customers/1/recommendations", params={"month": "2021-01"})
    assert r.status_code == 404 and r.json()["detail"] == "no recommendation run for 2021-01"
    for path in (
        "/v1/customers/0/recommendations",
        "/v1/customers/1/recommendations?month=2023-13",
        "/v1/merchants/-4/targets",
        "/v1/merchants/1/targets?limit=0",
        "/v1/products/XX01/similar",
    ):
        assert client.get(path).status_code == 422, path


def test_a_customer_the_run_did_not_see_gets_a_cold_start_answer(client: TestClient, recommend_db: RecommendDb) -> None:
    new_id = 880_000_001
    with Session(recommend_db.engine) as s, s.begin():
        region = s.execute(select(Customer.home_region_code).limit(1)).scalar_one()
        s.execute(
            insert(Customer).values(
                customer_id=new_id,
                birth_year=1996,
                gender="F",
                home_region_code=region,
                occupation="office_worker",
                is_sole_proprietor=False,
                marital_status="single",
                household_id=new_id,
                relation_to_head="head",
                income_band=2,
                target_group="check",
                marketing_consent=True,
                preferred_channel="push",
                joined_on=date(2023, 10, 30),
            )
        )
    try:
        r = client.get(f"/v1/customers/{new_id}/recommendations")
        assert r.status_code == 200, r.text
        rec = Recommendations.model_validate(r.json())
        assert rec.cold_start and rec.best_cards == [] and rec.popular_cards and rec.categories.new
        assert rec.reason_ko and "연령대" in rec.reason_ko
        report = Report.model_validate(client.get(f"/v1/customers/{new_id}/report").json())
        assert report.cold_start and report.total_spend_krw == 0 and report.best_card is None
    finally:
        with Session(recommend_db.engine) as s, s.begin():
            s.execute(delete(Customer).where(Customer.customer_id == new_id))


def test_merchant_targets_and_limits(client: TestClient, recommend_db: RecommendDb) -> None:
    with Session(recommend_db.engine) as s:
        mid = (
            s.execute(
                select(MerchantTarget.merchant_id)
                .where(MerchantTarget.stage == "mature")
                .order_by(MerchantTarget.merchant_id)
            )
            .scalars()
            .first()
        )
    assert mid is not None
    doc = MerchantTargets.model_validate(client.get(f"/v1/merchants/{mid}/targets").json())
    assert doc.stage == "mature" and doc.stage_ko == "성숙" and len(doc.stage_evidence.monthly_purchases) == 6
    short = client.get(f"/v1/merchants/{mid}/targets", params={"limit": 2}).json()
    assert short["likely_visitors"] == [t.model_dump(exclude_none=True) for t in doc.likely_visitors][:2]
    assert len(short["likely_regulars"]) <= 2
    stages = client.get("/v1/recommendations/merchant-stages").json()
    assert stages["month"] == "2023-09" and stages["stages"]["mature"] >= 1
    with Session(recommend_db.engine) as s:
        assert (
            sum(stages["stages"].values()) == s.execute(select(func.count()).select_from(MerchantTarget)).scalar_one()
        )


def test_similar_products_and_runs(client: TestClient) -> None:
    doc = SimilarProducts.model_validate(client.get("/v1/products/CR17/similar").json())
    assert not doc.on_sale and doc.discontinued_on == "2021-12-31"
    assert doc.similar[0].product_id == "CR08" and doc.similar[0].by_rules > 0.8
    runs = client.get("/v1/recommendations/runs").json()
    latest = runs[0]
    assert latest["status"] == "succeeded" and latest["month"] == "2023-09"
    assert latest["counts"]["customers"] == 400 and "timings_s" in latest["metrics"]


def test_openapi_documents_the_bodies(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    path = spec["paths"]["/v1/customers/{customer_id}/recommendations"]["get"]
    assert path["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Recommendations")
    assert "/v1/merchants/{merchant_id}/targets" in spec["paths"]
    assert "/v1/products/{product_id}/similar" in spec["paths"]
