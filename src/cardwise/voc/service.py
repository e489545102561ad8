"""VOC risk in the relational store: scoring runs and scores, the single view's risk blocks, campaigns
with their messages and outcomes.

Services take keyword arguments and an explicit session and flush; the request or the job commits, so
a campaign, its members and its outbox messages are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from cardwise.core.errors import Conflict, Invalid, NotFound
from cardwise.db.models import Customer
from cardwise.db.types import utcnow
from cardwise.marketing.marts import add_months
from cardwise.notify.service import enqueue
from cardwise.privacy.dsr_restriction import restricted_ids
from cardwise.voc import campaigns as rules
from cardwise.voc.dataset import FEEDBACK_COLUMNS
from cardwise.voc.features import TARGETS
from cardwise.voc.models import VocCampaign, VocCampaignMember, VocRun, VocScore
from cardwise.voc.risk import risk_block

_CHUNK = 5_000
_SCORE_COLUMNS = (
    "customer_id",
    "model_version",
    *TARGETS,
    *(f"{t}_decile" for t in TARGETS),
    "drivers",
    "keywords",
)


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), _CHUNK):
        yield rows[i : i + _CHUNK]


# --- scoring runs ---------------------------------------------------------------------------------------------


def start_run(session: Session, *, month: date, model_version: str | None) -> int:
    run = VocRun(month=month, model_version=model_version, status="running", started_at=utcnow())
    session.add(run)
    session.flush()
    return run.run_id


def fail_run(session: Session, *, run_id: int, error: str) -> None:
    run = session.get(VocRun, run_id)
    if run is not None:
        run.status = "failed"
        run.finished_at = utcnow()
        run.error = error[:2000]
        session.flush()


def store_scores(session: Session, *, run_id: int, month: date, scores: pd.DataFrame, duration_s: float) -> int:
    """Replace the month's scores with ``scores`` (one row per customer) and close the run."""
    run = session.get(VocRun, run_id)
    if run is None:
        raise NotFound(f"VOC run {run_id} not found")
    conn: Connection = session.connection()
    conn.execute(delete(VocScore).where(VocScore.month == month))
    restricted = restricted_ids(session)  # customers who asked to stop processing get no scores
    if restricted:
        scores = scores[~scores["customer_id"].isin(restricted)]
    now = utcnow()
    rows = [
        {
            "month": month,
            "computed_at": now,
            "customer_id": int(r["customer_id"]),
            "model_version": str(r["model_version"]),
            **{t: float(r[t]) for t in TARGETS},
            **{f"{t}_decile": int(r[f"{t}_decile"]) for t in TARGETS},
            "drivers": r["drivers"],
            "keywords": list(r["keywords"]),
        }
        for r in scores[list(_SCORE_COLUMNS)].to_dict("records")
    ]
    for chunk in _chunks(rows):
        conn.execute(insert(VocScore), chunk)
    run.status = "succeeded"
    run.finished_at = utcnow()
    run.duration_s = round(duration_s, 3)
    run.counts = {
        "customers": len(rows),
        **{f"{t}_mean_probability": round(float(scores[t].mean()), 5) if len(scores) else 0.0 for t in TARGETS},
    }
    session.flush()
    return len(rows)


def runs(session: Session, limit: int = 20) -> list[VocRun]:
    return list(session.execute(select(VocRun).order_by(VocRun.run_id.desc()).limit(limit)).scalars())


# --- reading scores ---------------------------------------------------------------------------------------------


def latest_month(session: Session, *, until: date | None = None) -> date | None:
    query = select(func.max(VocScore.month))
    if until is not None:
        query = query.where(VocScore.month <= until)
    month: date | None = session.execute(query).scalar_one_or_none()
    return month


def _as_mapping(score: VocScore) -> dict[str, Any]:
    return {c.key: getattr(score, c.key) for c in VocScore.__table__.columns}


def customer_risk(session: Session, *, customer_id: int, month: date | None = None) -> dict[str, Any]:
    """The customer's risk block of ``month`` (the newest scored month if absent)."""
    query = select(VocScore).where(VocScore.customer_id == customer_id)
    query = query.where(VocScore.month == month) if month else query.order_by(VocScore.month.desc()).limit(1)
    score = session.execute(query).scalar_one_or_none()
    if score is None:
        raise NotFound(f"no VOC risk scores for customer {customer_id}" + (f" in {month:%Y-%m}" if month else ""))
    return {"customer_id": customer_id, **risk_block(_as_mapping(score))}


def risk_for_month(session: Session, month: date) -> dict[int, dict[str, Any]]:
    """Risk blocks for the single views of ``month``: that month's scores, or the newest before it."""
    scored = latest_month(session, until=month)
    if scored is None:
        return {}
    return {
        int(s.customer_id): risk_block(_as_mapping(s))
        for s in session.execute(select(VocScore).where(VocScore.month == scored)).scalars()
    }


def month_scores(session: Session, month: date) -> pd.DataFrame:
    columns = ["customer_id", "model_version", *TARGETS, *(f"{t}_decile" for t in TARGETS)]
    rows = session.execute(select(*(getattr(VocScore, c) for c in columns)).where(VocScore.month == month)).all()
    return pd.DataFrame(rows, columns=columns)


# --- campaigns --------------------------------------------------------------------------------------------------


def _campaign_dict(c: VocCampaign) -> dict[str, Any]:
    kind = rules.KINDS[c.kind]
    return {
        "campaign_id": c.campaign_id,
        "kind": c.kind,
        "ko": kind.ko,
        "en": kind.en,
        "target": c.target,
        "month": f"{c.month:%Y-%m}",
        "deciles": list(c.deciles),
        "control_share": c.control_share,
        "model_version": c.model_version,
        "advertising": kind.advertising,
        "members": c.members,
        "treated": c.treated,
        "excluded": dict(c.excluded),
        "created_at": c.created_at,
    }


def create_campaign(
    session: Session,
    *,
    kind: str,
    month: date | None = None,
    deciles: Sequence[int] | None = None,
    control_share: float = rules.DEFAULT_CONTROL_SHARE,
) -> dict[str, Any]:
    """Select the members from the month's scores, hold out the control group and queue one message
    per treated customer in the same transaction. One campaign per kind and month."""
    spec = rules.KINDS.get(kind)
    if spec is None:
        raise Invalid(f"campaign kind must be one of {', '.join(rules.KINDS)}")
    chosen = tuple(sorted(set(deciles or (1,))))
    if not chosen or any(not 1 <= d <= 10 for d in chosen):
        raise Invalid("deciles must lie between 1 (the riskiest tenth) and 10")
    if not 0 <= control_share < 1:
        raise Invalid("control_share must lie in [0, 1)")
    month = month or latest_month(session)
    if month is None:
        raise NotFound("no VOC risk scores yet (cardwise voc score --month YYYY-MM)")
    existing = session.execute(
        select(VocCampaign.campaign_id).where(VocCampaign.kind == kind, VocCampaign.month == month)
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"a {kind} campaign for {month:%Y-%m} exists already (campaign {existing})")
    scores = month_scores(session, month)
    if scores.empty:
        raise NotFound(f"no VOC risk scores for {month:%Y-%m}")
    consent = pd.Series(
        {int(c): bool(ok) for c, ok in session.execute(select(Customer.customer_id, Customer.marketing_consent))},
        dtype=bool,
    )
    recent = set(
        session.execute(
            select(VocCampaignMember.customer_id)
            .join(VocCampaign, VocCampaign.campaign_id == VocCampaignMember.campaign_id)
            .where(
                VocCampaign.kind == kind,
                VocCampaignMember.arm == "treatment",
                VocCampaign.month >= add_months(month, -rules.COOL_DOWN_MONTHS),
                VocCampaign.month < month,
            )
        ).scalars()
    )
    restricted = restricted_ids(session)  # scored before they asked to stop processing: still left out
    restricted_rows = scores["customer_id"].isin(restricted)
    scores = scores[~restricted_rows]
    members, excluded = rules.select_members(
        scores, spec, month, deciles=chosen, consent=consent, recently_contacted=recent, control_share=control_share
    )
    campaign = VocCampaign(
        kind=kind,
        month=month,
        target=spec.target,
        deciles=list(chosen),
        control_share=control_share,
        model_version=str(scores["model_version"].iloc[0]),
        created_at=utcnow(),
        members=len(members),
        treated=int((members["arm"] == "treatment").sum()),
        excluded={**excluded, "processing_restricted": int(restricted_rows.sum())},
    )
    session.add(campaign)
    session.flush()
    rows = []
    for m in members.to_dict("records"):
        treated = m["arm"] == "treatment"
        key = rules.message_key(kind, month, int(m["customer_id"])) if treated else None
        rows.append(
            {
                "campaign_id": campaign.campaign_id,
                "customer_id": int(m["customer_id"]),
                "arm": m["arm"],
                "probability": float(m["probability"]),
                "decile": int(m["decile"]),
                "message_key": key,
            }
        )
        if key is not None:
            enqueue(
                session,
                dedupe_key=key,
                customer_id=int(m["customer_id"]),
                kind=f"voc_{kind.lower()}",
                subject=spec.subject,
                body=spec.body,
                payload={"campaign_id": campaign.campaign_id, "month": f"{month:%Y-%m}", "kind": kind},
            )
    for chunk in _chunks(rows):
        session.connection().execute(insert(VocCampaignMember), chunk)
    session.flush()
    return _campaign_dict(campaign)


def list_campaigns(session: Session) -> list[dict[str, Any]]:
    found = session.execute(select(VocCampaign).order_by(VocCampaign.campaign_id.desc())).scalars()
    return [_campaign_dict(c) for c in found]


def _campaign(session: Session, campaign_id: int) -> VocCampaign:
    campaign = session.get(VocCampaign, campaign_id)
    if campaign is None:
        raise NotFound(f"VOC campaign {campaign_id} not found")
    return campaign


def campaign_members(session: Session, campaign_id: int) -> pd.DataFrame:
    _campaign(session, campaign_id)
    rows = session.execute(
        select(VocCampaignMember.customer_id, VocCampaignMember.arm, VocCampaignMember.outcome).where(
            VocCampaignMember.campaign_id == campaign_id
        )
    ).all()
    return pd.DataFrame(rows, columns=["customer_id", "arm", "outcome"])


def campaign_report(session: Session, campaign_id: int) -> dict[str, Any]:
    """The campaign with event rates per arm among members whose outcome is known."""
    campaign = _campaign(session, campaign_id)
    members = campaign_members(session, campaign_id)
    spec = rules.KINDS[campaign.kind]
    start, end = rules.outcome_window(campaign.month)
    return {
        **_campaign_dict(campaign),
        "outcome_window": [start.isoformat(), end.isoformat()],
        **rules.effect(members, advertising_conversion=spec.code == "CARD_LOAN_OFFER"),
    }


def record_outcomes(
    session: Session,
    *,
    campaign_id: int,
    outcomes: Sequence[tuple[int, bool, date | None]],
    source: str,
) -> int:
    """Store whether each member's target event happened (a rerun overwrites). Unknown members are refused."""
    _campaign(session, campaign_id)
    members = {
        m.customer_id: m
        for m in session.execute(
            select(VocCampaignMember).where(VocCampaignMember.campaign_id == campaign_id)
        ).scalars()
    }
    strangers = [c for c, _, _ in outcomes if c not in members]
    if strangers:
        raise Invalid(f"customers not in campaign {campaign_id}: {', '.join(map(str, strangers[:5]))}")
    now = utcnow()
    for customer, happened, on in outcomes:
        m = members[customer]
        m.outcome, m.outcome_on, m.outcome_source, m.recorded_at = happened, on, source, now
    session.flush()
    return len(outcomes)


def feedback_frame(session: Session) -> pd.DataFrame:
    """Every campaign membership with its outcome: the training labels that campaigns give back."""
    rows = session.execute(
        select(
            VocCampaignMember.customer_id,
            VocCampaign.month,
            VocCampaign.target,
            VocCampaignMember.arm,
            VocCampaignMember.outcome,
        ).join(VocCampaign, VocCampaign.campaign_id == VocCampaignMember.campaign_id)
    ).all()
    return pd.DataFrame(rows, columns=list(FEEDBACK_COLUMNS))
