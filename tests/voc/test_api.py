"""VOC risk over HTTP and in the single view, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.voc.features import TARGETS
from cardwise.voc.models import VocCampaignMember, VocScore
from tests.voc.conftest import SCORED, VocDb


def _riskiest(db: VocDb, target: str) -> VocScore:
    with Session(db.engine) as s:
        column = getattr(VocScore, target)
        return s.execute(select(VocScore).where(VocScore.month == SCORED).order_by(column.desc()).limit(1)).scalar_one()


def test_customer_risk(client: TestClient, voc_db: VocDb) -> None:
    top = _riskiest(voc_db, "complaint")
    r = client.get(f"/v1/customers/{top.customer_id}/risk")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer_id"] == top.customer_id and body["month"] == "2023-09"
    assert set(body["scores"]) == set(TARGETS)
    complaint = body["scores"]["complaint"]
    assert complaint["decile"] == 1 and complaint["level"] == "high" and complaint["level_ko"] == "상위 10%"
    assert abs(complaint["probability"] - top.complaint) < 1e-4
    assert complaint["drivers"] and complaint["drivers"][0]["impact"] > 0
    assert client.get(f"/v1/customers/{top.customer_id}/risk", params={"month": "2023-09"}).json() == body
    assert client.get(f"/v1/customers/{top.customer_id}/risk", params={"month": "2023-08"}).status_code == 404
    assert client.get("/v1/customers/0/risk").status_code == 422
    assert client.get("/v1/customers/9999999/risk").status_code == 404
    assert client.get(f"/v1/customers/{top.customer_id}/risk", params={"month": "Sept"}).status_code == 422


def test_single_view_carries_the_risk_block_and_risk_actions(client: TestClient, voc_db: VocDb) -> None:
    churner = _riskiest(voc_db, "churn")
    view = client.get(f"/v1/customers/{churner.customer_id}/single-view").json()
    risk = view["risk"]
    assert risk["available"] and risk["month"] == "2023-09" and risk["model_version"] == churner.model_version
    assert risk["scores"]["churn"]["decile"] == 1 and risk["summary_ko"].startswith("이탈↑")
    codes = {a["code"]: a["because"] for a in view["actions"]}
    assert "RETENTION_COUPON" in codes
    with Session(voc_db.engine) as s:
        loans = s.execute(
            select(VocScore.customer_id, VocScore.delinquency_decile).where(
                VocScore.month == SCORED, VocScore.card_loan_decile == 1
            )
        ).all()
    for customer, delinquency_decile in loans[:15]:
        actions = {a["code"] for a in client.get(f"/v1/customers/{customer}/single-view").json()["actions"]}
        assert ("CARD_LOAN_INFO" in actions) == (delinquency_decile > 3)


def test_campaigns_over_http(client: TestClient, voc_db: VocDb) -> None:
    r = client.post("/v1/voc/campaigns", json={"kind": "CHURN_DEFENCE", "month": "2023-09"})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["advertising"] and c["target"] == "churn" and c["members"] > 0 and c["deciles"] == [1]
    assert client.post("/v1/voc/campaigns", json={"kind": "CHURN_DEFENCE", "month": "2023-09"}).status_code == 409
    for bad in (
        {"kind": "GOLD"},
        {"kind": "CHURN_DEFENCE", "month": "09-2023"},
        {"kind": "CHURN_DEFENCE", "control_share": 1},
    ):
        assert client.post("/v1/voc/campaigns", json=bad).status_code == 422, bad
    assert any(x["campaign_id"] == c["campaign_id"] for x in client.get("/v1/voc/campaigns").json())

    report = client.get(f"/v1/voc/campaigns/{c['campaign_id']}").json()
    assert report["treatment"]["with_outcome"] == 0 and report["effect"] is None
    assert report["outcome_window"] == ["2023-10-01", "2023-11-01"]
    with Session(voc_db.engine) as s:
        member = s.execute(
            select(VocCampaignMember.customer_id).where(VocCampaignMember.campaign_id == c["campaign_id"]).limit(1)
        ).scalar_one()
    outcome = {"outcomes": [{"customer_id": member, "outcome": True, "observed_on": "2023-10-12"}]}
    r = client.post(f"/v1/voc/campaigns/{c['campaign_id']}/outcomes", json=outcome)
    assert r.status_code == 200, r.text
    assert r.json()["treatment"]["with_outcome"] + r.json()["control"]["with_outcome"] == 1
    stranger = {"outcomes": [{"customer_id": 10**12, "outcome": True}]}
    assert client.post(f"/v1/voc/campaigns/{c['campaign_id']}/outcomes", json=stranger).status_code == 422
    assert client.post("/v1/voc/campaigns/999999/outcomes", json=stranger).status_code == 404
    assert client.get("/v1/voc/campaigns/999999").status_code == 404


def test_runs(client: TestClient) -> None:
    runs = client.get("/v1/voc/runs").json()
    assert runs and runs[0]["status"] == "succeeded" and runs[0]["month"] == "2023-09-01"
    assert runs[0]["counts"]["customers"] > 350
