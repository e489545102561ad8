"""Data-subject requests end to end over HTTP: filing (422 on bad input), deadlines and the back office's
overdue-first list, access export, correction, restriction honoured by the batches, and erasure that
leaves no trace in the database, the lake, the marts, the reports or the log files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, BigInteger, Integer, String, Text, func, inspect, select, text
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.db.base import Base
from cardwise.db.models import Card, Merchant
from cardwise.db.types import utcnow
from cardwise.lake.check import check_lake
from cardwise.notify.models import CustomerContact
from cardwise.notify.service import enqueue
from cardwise.privacy import dsr
from cardwise.privacy.crypto import phone_index
from cardwise.privacy.dsr_restriction import restricted_ids
from cardwise.privacy.erasure import ANONYMOUS_ID_BASE
from cardwise.privacy.models import DataSubjectRequest
from cardwise.safety.models import Authorization
from cardwise.security.principal import CurrentPrincipal, Principal


def _dep(alias: Any) -> Any:
    return alias.__metadata__[0].dependency


@pytest.fixture
def api(env) -> Iterator[tuple[TestClient, dict[str, Principal]]]:  # type: ignore[no-untyped-def]
    app = create_app(env.settings)
    caller: dict[str, Principal] = {}
    app.dependency_overrides[_dep(CurrentPrincipal)] = lambda: caller["p"]
    with TestClient(app) as client:
        yield client, caller


def _customer(env, n: int = 0) -> int:  # type: ignore[no-untyped-def]
    """A customer with cards and contacts (the n-th by id)."""
    with Session(env.engine) as s:
        return int(
            s.execute(
                select(CustomerContact.customer_id)
                .join(Card, Card.customer_id == CustomerContact.customer_id)
                .group_by(CustomerContact.customer_id)
                .order_by(CustomerContact.customer_id)
                .offset(n)
                .limit(1)
            ).scalar_one()
        )


def as_customer(caller: dict[str, Principal], cid: int) -> None:
    caller["p"] = Principal(customer_id=cid, roles=frozenset({"customer"}))


def as_agent(caller: dict[str, Principal]) -> None:
    caller["p"] = Principal(customer_id=None, roles=frozenset({"agent"}), actor_id="agent7")


def test_filing_validates_and_a_second_request_of_a_kind_returns_the_first(env, api) -> None:  # type: ignore[no-untyped-def]
    client, caller = api
    cid = _customer(env)
    as_customer(caller, cid)
    first = client.post("/v1/privacy/requests", json={"kind": "access", "note": "내 정보 보여주세요"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["kind_ko"] == "열람" and body["status"] == "received"
    received = pd.Timestamp(body["received_at"])
    assert pd.Timestamp(body["due_at"]) - received == pd.Timedelta(days=10)
    again = client.post("/v1/privacy/requests", json={"kind": "access"})
    assert again.status_code == 200 and again.json()["request_id"] == body["request_id"]
    for bad in (
        {"kind": "everything"},
        {"kind": "correction", "correction": {"phone": "12345"}},
        {"kind": "correction", "correction": {"email": "not-an-address"}},
        {"kind": "correction", "correction": {"rrn": "900101-1234567"}},
        {"kind": "correction"},
        {"kind": "access", "correction": {"name": "김철수"}},
        {"kind": "access", "extra": 1},
    ):
        r = client.post("/v1/privacy/requests", json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert "900101-1234567" not in r.text  # input that looks like an RRN is not echoed back
    mine = client.get("/v1/privacy/requests").json()
    assert [m["request_id"] for m in mine] == [body["request_id"]]
    as_agent(caller)
    assert client.post("/v1/privacy/requests", json={"kind": "access"}).status_code == 403


def test_back_office_lists_overdue_first_with_days_left(env, api) -> None:  # type: ignore[no-untyped-def]
    client, caller = api
    now = utcnow()
    a, b, c = _customer(env, 0), _customer(env, 1), _customer(env, 2)
    with Session(env.engine) as s:
        late, _ = dsr.file_request(s, env.settings, customer_id=a, kind="deletion", now=now - timedelta(days=12))
        fresh, _ = dsr.file_request(s, env.settings, customer_id=b, kind="access", now=now - timedelta(days=1))
        mid, _ = dsr.file_request(s, env.settings, customer_id=c, kind="restriction", now=now - timedelta(days=5))
        s.commit()
        ids = (late.request_id, mid.request_id, fresh.request_id)
    as_agent(caller)
    listed = client.get("/v1/backoffice/privacy/requests").json()
    assert [x["request_id"] for x in listed] == list(ids)
    assert [x["overdue"] for x in listed] == [True, False, False]
    assert [x["days_left"] for x in listed] == [-3, 4, 8]
    as_customer(caller, a)
    assert client.get("/v1/backoffice/privacy/requests").status_code == 403
    as_agent(caller)
    closed = client.post(
        f"/v1/backoffice/privacy/requests/{fresh.request_id}/close", json={"status": "rejected", "reason": " "}
    )
    assert closed.status_code == 422
    closed = client.post(
        f"/v1/backoffice/privacy/requests/{fresh.request_id}/close",
        json={"status": "rejected", "reason": "본인 확인 불가 (identity not verified)"},
    )
    assert closed.status_code == 200 and closed.json()["status"] == "rejected"
    assert client.post(f"/v1/backoffice/privacy/requests/{fresh.request_id}/process").status_code == 409
    assert client.post("/v1/backoffice/privacy/requests/999999/process").status_code == 404
    assert client.post("/v1/backoffice/privacy/requests/0/process").status_code == 422


def test_access_export_has_everything_and_no_full_card_number(env, api) -> None:  # type: ignore[no-untyped-def]
    client, caller = api
    cid = _customer(env)
    with Session(env.engine) as s:
        contact = s.get(CustomerContact, cid)
        assert contact is not None
        name, phone = contact.name, contact.phone
        cards = s.execute(select(Card).where(Card.customer_id == cid)).scalars().all()
    as_customer(caller, cid)
    rid = client.post("/v1/privacy/requests", json={"kind": "access"}).json()["request_id"]
    as_agent(caller)
    done = client.post(f"/v1/backoffice/privacy/requests/{rid}/process")
    assert done.status_code == 200, done.text
    export = done.json()["export"]
    db = export["database"]
    assert db["customer_contacts"][0]["name"] == name and db["customer_contacts"][0]["phone"] == phone
    assert "phone_index" not in db["customer_contacts"][0]
    assert {c["card_id"] for c in db["cards"]} == {c.card_id for c in cards}
    assert all(c["card_number"] == f"****-****-****-{c['last4']}" for c in db["cards"])
    lake = export["lake"]
    assert lake["customers"][0]["customer_id"] == cid
    assert lake["customer_identity"][0]["name"] == name
    assert len(lake["transactions"]) > 0 and all(t["customer_id"] == cid for t in lake["transactions"])
    assert done.json()["request"]["status"] == "completed" and done.json()["request"]["handled_by"] == "agent:agent7"


def test_correction_updates_the_contact_and_its_blind_index(env, api) -> None:  # type: ignore[no-untyped-def]
    client, caller = api
    cid = _customer(env)
    as_customer(caller, cid)
    rid = client.post(
        "/v1/privacy/requests",
        json={"kind": "correction", "correction": {"phone": "010 9999 8888", "email": "new.me@example.com"}},
    ).json()["request_id"]
    with env.engine.connect() as conn:  # the requested values are sealed while the request waits
        raw = conn.execute(text(f"SELECT payload FROM data_subject_requests WHERE request_id = {rid}")).scalar_one()
    assert "9999" not in raw and raw.startswith("cw1:")
    as_agent(caller)
    assert client.post(f"/v1/backoffice/privacy/requests/{rid}/process").status_code == 200
    with Session(env.engine) as s:
        contact = s.get(CustomerContact, cid)
        assert contact is not None and (contact.phone, contact.email) == ("010-9999-8888", "new.me@example.com")
        found = s.execute(
            select(CustomerContact.customer_id).where(CustomerContact.phone_index == phone_index("01099998888"))
        ).scalars()
        assert list(found) == [cid]
        assert s.get(DataSubjectRequest, rid).payload is None  # type: ignore[union-attr]


def test_restriction_is_honoured_by_scores_campaigns_marketing_and_recommendations(env, api) -> None:  # type: ignore[no-untyped-def]
    from cardwise.marketing.batch import MonthResult
    from cardwise.marketing.models import CustomerSingleView, SegmentGrade
    from cardwise.marketing.service import start_run as start_marketing
    from cardwise.marketing.service import store_month
    from cardwise.recommend.models import CustomerRecommendation, MerchantTarget
    from cardwise.recommend.service import without_restricted as rec_without
    from cardwise.voc.models import VocScore
    from cardwise.voc.service import start_run, store_scores

    client, caller = api
    stopped, other = _customer(env, 0), _customer(env, 1)
    as_customer(caller, stopped)
    rid = client.post("/v1/privacy/requests", json={"kind": "restriction"}).json()["request_id"]
    as_agent(caller)
    assert client.post(f"/v1/backoffice/privacy/requests/{rid}/process").status_code == 200
    month = pd.Timestamp("2023-09-01").date()
    with Session(env.engine) as s:
        assert restricted_ids(s) == {stopped}
        # VOC scores: the next scoring stores nothing for the customer.
        run = start_run(s, month=month, model_version="v1")
        scores = pd.DataFrame(
            {
                "customer_id": [stopped, other],
                "model_version": "v1",
                **{t: [0.9, 0.8] for t in ("churn", "complaint", "delinquency", "card_loan")},
                **{f"{t}_decile": [1, 1] for t in ("churn", "complaint", "delinquency", "card_loan")},
                "drivers": [{}, {}],
                "keywords": [[], []],
            }
        )
        assert store_scores(s, run_id=run, month=month, scores=scores, duration_s=1.0) == 1
        assert s.execute(select(VocScore.customer_id)).scalars().all() == [other]
        # Marketing: no grades or single view.
        mrun = start_marketing(s, month)
        grade = {
            "month": month, "target_group": "credit", "segment_code": "CAR_CARE", "grade": 1, "score": 1.0,
            "avg_usage_krw": 1.0, "active_months": 1, "in_segment": True,
        }  # fmt: skip
        result = MonthResult(
            month=month,
            quarter=month,
            grades=pd.DataFrame([{**grade, "customer_id": stopped}, {**grade, "customer_id": other}]),
            stages=pd.DataFrame({"customer_id": [], "stage": [], "evidence": []}),
            triggers=pd.DataFrame({"customer_id": [], "kind": [], "p_value": [], "evidence": []}),
            views=[{"customer_id": stopped}, {"customer_id": other}],
            features=pd.DataFrame({"customer_id": [stopped, other]}),
        )
        store_month(s, mrun, result, 1.0)
        assert s.execute(select(SegmentGrade.customer_id)).scalars().all() == [other]
        assert s.execute(select(CustomerSingleView.customer_id)).scalars().all() == [other]
    # Recommendations: no documents, and the merchants' target lists leave the customer out.
    from cardwise.recommend.batch import RunResult

    res = RunResult(
        month=month,
        recommendations=[{"customer_id": stopped}, {"customer_id": other}],
        reports=[{"r": 1}, {"r": 2}],
        merchants=[{"merchant_id": 1, "likely_visitors": [{"customer_id": stopped}, {"customer_id": other}]}],
        products=[],
        cold_start={},
        scores=None,  # type: ignore[arg-type]
    )
    kept = rec_without(res, {stopped})
    assert [r["customer_id"] for r in kept.recommendations] == [other] and kept.reports == [{"r": 2}]
    assert kept.merchants[0]["likely_visitors"] == [{"customer_id": other}]
    assert CustomerRecommendation and MerchantTarget  # the tables the store writes from these lists


# --- erasure --------------------------------------------------------------------------------------------------


def _seed_traces(env, cid: int, name: str, phone: str) -> None:  # type: ignore[no-untyped-def]
    """What a live platform accumulates about a customer outside the loaded tables."""
    settings = env.settings
    now = utcnow()
    with Session(env.engine) as s:
        card = s.execute(select(Card).where(Card.customer_id == cid).limit(1)).scalar_one()
        merchant = s.execute(select(Merchant.merchant_id).limit(1)).scalar_one()
        s.add(
            Authorization(
                idempotency_key=f"erase-{cid}", request_hash="h", card_id=card.card_id, merchant_id=merchant,
                amount_krw=12_000, requested_at=now, channel="offline", contactless=False, approved=True,
                reasons=[], created_at=now,
            )
        )  # fmt: skip
        enqueue(s, dedupe_key=f"n-{cid}", customer_id=cid, kind="t", subject="s", body=f"{name} 고객님 안내")
        s.commit()
    marts = settings.data_dir / "marts" / "cm_activity"
    marts.mkdir(parents=True)
    pq.write_table(
        pa.table({"customer_id": pa.array([cid, cid + 1], pa.int64()), "spend": [1, 2]}), marts / "m.parquet"
    )
    clusters = settings.data_dir / "reports" / "clusters"
    clusters.mkdir(parents=True)
    (clusters / "r.json").write_text(json.dumps({"run_id": "r", "members": {str(cid): 1, str(cid + 1): 2}}))
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        {"@timestamp": now.isoformat(), "message": "page view", "user": {"id": str(cid)}},
        {"@timestamp": now.isoformat(), "message": "other", "user": {"id": str(cid + 1)}},
        {"@timestamp": now.isoformat(), "message": "flat", "user.id": str(cid)},
        {"@timestamp": now.isoformat(), "message": "security event", "user": {"name": f"customer:{cid}"}},
    ]
    (settings.log_dir / "cardwise.test.1.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def _db_traces(env, cid: int, needles: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every table, every column: the id in an id-like column, the name or phone in any text."""
    found = []
    with env.engine.connect() as conn:
        for name in inspect(env.engine).get_table_names():
            if name == "alembic_version":
                continue
            table = Base.metadata.tables.get(name)
            if table is None:
                continue
            for col in table.c:
                if isinstance(col.type, BigInteger | Integer) and (
                    col.name.endswith("customer_id") or col.name in ("representative_id", "invited_by", "submitted_by")
                ):
                    if conn.execute(select(func.count()).where(col == cid)).scalar_one():
                        found.append(f"{name}.{col.name}")
                elif isinstance(col.type, String | Text | JSON):
                    raw = conn.execute(text(f'SELECT "{col.name}" FROM "{name}"')).scalars().all()
                    blob = "\n".join(str(v) for v in raw if v is not None)
                    for needle in needles:
                        if needle in blob:
                            found.append(f"{name}.{col.name}: {needle}")
    return found


def _file_traces(root: Path, cid: int, needles: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*.parquet"):
        rows = pq.ParquetFile(path).read()
        if "customer_id" in rows.column_names and cid in rows["customer_id"].to_pylist():
            found.append(str(path))
        blob = str(rows.to_pylist())
        found += [f"{path}: {n}" for n in needles if n in blob]
    for path in root.rglob("*"):
        if path.suffix in (".jsonl", ".json", ".log") and path.name != "_manifest.json":
            blob = path.read_text()
            found += [f"{path}: {n}" for n in needles if n in blob]
    return found


def test_erasure_leaves_no_trace_and_keeps_the_transaction_records_anonymous(env, api) -> None:  # type: ignore[no-untyped-def]
    client, caller = api
    cid = _customer(env, 4)
    with Session(env.engine) as s:
        contact = s.get(CustomerContact, cid)
        assert contact is not None
        name, phone, email = contact.name, contact.phone, contact.email
    _seed_traces(env, cid, name, phone)
    needles = [name, phone, email, f'"customer_id": {cid},', f'"customer_id":{cid},', f"customer:{cid}"]
    assert _db_traces(env, cid, needles) and _file_traces(env.settings.data_dir, cid, [name])  # there was a trace
    as_customer(caller, cid)
    rid = client.post("/v1/privacy/requests", json={"kind": "deletion", "note": "탈회 후 삭제 요청"}).json()[
        "request_id"
    ]
    as_agent(caller)
    done = client.post(f"/v1/backoffice/privacy/requests/{rid}/process")
    assert done.status_code == 200, done.text
    outcome = done.json()["request"]["outcome"]
    assert outcome["database"]["kept"]["authorizations"] == 1 and outcome["lake"]["transactions"] > 0
    assert outcome["marts_rows"] == 1 and outcome["reports"] == 1 and outcome["log_lines"] >= 3
    assert done.json()["request"]["customer_id"] is None

    assert _db_traces(env, cid, needles) == []
    assert _file_traces(env.settings.data_dir, cid, [name, phone, email]) == []
    assert check_lake(env.settings.lake_dir) == []  # the lake is still consistent (manifest, households)
    with Session(env.engine) as s:
        auth = s.execute(select(Authorization).where(Authorization.idempotency_key == f"erase-{cid}")).scalar_one()
        holder = s.get(Card, auth.card_id)
        assert holder is not None and holder.customer_id >= ANONYMOUS_ID_BASE
        assert s.get(DataSubjectRequest, rid).subject_ref  # type: ignore[union-attr]
    logs = (env.settings.log_dir / "cardwise.test.1.jsonl").read_text()
    assert '"other"' in logs  # other customers' lines stay
    # Filing again for an erased customer: there is nobody left.
    as_customer(caller, cid)
    assert client.post("/v1/privacy/requests", json={"kind": "access"}).status_code == 404
