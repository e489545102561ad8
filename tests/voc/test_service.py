"""VOC risk in the store, on SQLite and PostgreSQL: scores per month, the single view's risk blocks,
campaigns with their members and messages, outcomes as training labels. Each test rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cardwise.core.errors import Conflict, Invalid, NotFound
from cardwise.notify.models import OutboxMessage
from cardwise.voc import service
from cardwise.voc.features import TARGETS
from cardwise.voc.models import VocCampaignMember, VocRun, VocScore
from tests.voc.conftest import SCORED, VocDb


@pytest.fixture
def session(voc_db: VocDb) -> Iterator[Session]:
    with Session(voc_db.engine) as s:
        yield s
        s.rollback()


def test_every_current_customer_is_scored(session: Session) -> None:
    n = session.execute(select(func.count()).select_from(VocScore).where(VocScore.month == SCORED)).scalar_one()
    assert n > 350
    run = session.execute(select(VocRun).where(VocRun.month == SCORED)).scalars().first()
    assert run is not None and run.status == "succeeded" and run.counts["customers"] == n
    deciles = session.execute(
        select(VocScore.churn_decile, func.count()).where(VocScore.month == SCORED).group_by(VocScore.churn_decile)
    ).all()
    assert sorted(d for d, _ in deciles) == list(range(1, 11))


def test_a_rerun_replaces_the_month(session: Session) -> None:
    run_id = service.start_run(session, month=SCORED, model_version="test")
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "model_version": ["test", "test"],
            **{t: [0.5, 0.1] for t in TARGETS},
            **{f"{t}_decile": [1, 10] for t in TARGETS},
            "drivers": [{t: [] for t in TARGETS}] * 2,
            "keywords": [["해지"], []],
        }
    )
    assert service.store_scores(session, run_id=run_id, month=SCORED, scores=frame, duration_s=0.1) == 2
    assert len(service.month_scores(session, SCORED)) == 2
    assert service.customer_risk(session, customer_id=1)["keywords"] == ["해지"]
    with pytest.raises(NotFound):
        service.store_scores(session, run_id=10**9, month=SCORED, scores=frame, duration_s=0.1)


def test_risk_blocks_for_the_single_view(session: Session) -> None:
    blocks = service.risk_for_month(session, SCORED)
    later = service.risk_for_month(session, date(2023, 10, 1))  # not scored: the newest month before it
    assert blocks and blocks == later
    assert service.risk_for_month(session, date(2023, 8, 1)) == {}
    block = next(iter(blocks.values()))
    assert block["available"] and block["month"] == "2023-09" and set(block["scores"]) == set(TARGETS)
    assert block["summary_ko"].count("/") == 3 and ("↑" in block["summary_ko"] or "↓" in block["summary_ko"])
    customer = next(iter(blocks))
    assert service.customer_risk(session, customer_id=customer) == {"customer_id": customer, **blocks[customer]}
    with pytest.raises(NotFound):
        service.customer_risk(session, customer_id=customer, month=date(2023, 8, 1))


def test_a_campaign_selects_holds_out_and_queues_messages_once(session: Session) -> None:
    c = service.create_campaign(session, kind="COMPLAINT_CARE", month=SCORED, deciles=[1], control_share=0.2)
    decile_1 = session.execute(
        select(func.count()).where(VocScore.month == SCORED, VocScore.complaint_decile == 1)
    ).scalar_one()
    assert c["members"] == decile_1 and 0 < c["treated"] < c["members"]
    messages = session.execute(
        select(OutboxMessage.dedupe_key, OutboxMessage.kind).where(OutboxMessage.kind == "voc_complaint_care")
    ).all()
    assert len(messages) == c["treated"]
    assert all(k.startswith("voc:COMPLAINT_CARE:2023-09:") for k, _ in messages)
    with pytest.raises(Conflict):
        service.create_campaign(session, kind="COMPLAINT_CARE", month=SCORED)

    members = service.campaign_members(session, c["campaign_id"])
    treated = members[members["arm"] == "treatment"]["customer_id"].tolist()
    control = members[members["arm"] == "control"]["customer_id"].tolist()
    outcomes = [(treated[0], True, date(2023, 10, 3)), (treated[1], False, None), (control[0], True, None)]
    assert service.record_outcomes(session, campaign_id=c["campaign_id"], outcomes=outcomes, source="api") == 3
    report = service.campaign_report(session, c["campaign_id"])
    assert report["treatment"]["with_outcome"] == 2 and report["treatment"]["events"] == 1
    assert report["control"]["rate"] == 1.0 and report["effect"] == 0.5
    feedback = service.feedback_frame(session)
    mine = feedback[(feedback["target"] == "complaint") & feedback["outcome"].notna()]
    assert set(mine["customer_id"]) == {treated[0], treated[1], control[0]}
    with pytest.raises(Invalid, match="not in campaign"):
        service.record_outcomes(session, campaign_id=c["campaign_id"], outcomes=[(10**12, True, None)], source="api")


def test_campaign_requests_that_cannot_be_served(session: Session) -> None:
    with pytest.raises(Invalid, match="kind must be one of"):
        service.create_campaign(session, kind="GOLD")
    with pytest.raises(Invalid, match="deciles"):
        service.create_campaign(session, kind="CHURN_DEFENCE", deciles=[0])
    with pytest.raises(NotFound, match="no VOC risk scores for 2023-08"):
        service.create_campaign(session, kind="CHURN_DEFENCE", month=date(2023, 8, 1))
    with pytest.raises(NotFound):
        service.campaign_report(session, 10**9)
    assert session.execute(select(func.count()).select_from(VocCampaignMember)).scalar_one() >= 0
