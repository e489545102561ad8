"""Retention by time travel (a fixed ``now``): what expired is destroyed in the database, the lake and the
log files; nothing younger than its cutoff is touched; every run is recorded; a dry run changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cardwise.db.models import Card, Customer, Merchant
from cardwise.lake.check import check_lake
from cardwise.mlops.models import JobRun
from cardwise.notify.models import OutboxMessage
from cardwise.privacy.erasure import ANONYMOUS_ID_BASE
from cardwise.privacy.models import RetentionRun
from cardwise.privacy.retention import DEFAULT_POLICY, RetentionPolicyError, load_policy, run_retention
from cardwise.safety.models import Authorization

NOW = datetime(2024, 1, 15, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
WEB_CUTOFF_LOCAL = datetime(2023, 10, 15, 12, 0)  # 3 months before, Seoul wall-clock (the lake's time)
EVERYTHING = {"include_synthetic": True}  # the test lake is synthetic; these tests treat it as real data


def test_the_packaged_policy_loads_and_bad_policies_list_every_problem(tmp_path: Path) -> None:
    policy = load_policy()
    kinds = {k.name: k for k in policy.kinds}
    assert kinds["transaction_records"].period == "5y" and kinds["transaction_records"].clock == "relationship_end"
    assert kinds["web_app_logs"].cutoff(NOW) == datetime(2023, 10, 15, 3, 0, tzinfo=UTC)
    assert kinds["notifications"].cutoff(NOW) == NOW - timedelta(days=90)
    assert kinds["web_app_logs"].cutoff(datetime(2024, 5, 31, tzinfo=UTC)) == datetime(2024, 2, 29, tzinfo=UTC)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kinds:\n"
        "  a: {period: 5 years, clock: created, where: [db:outbox.created_at]}\n"
        "  b: {period: 3m, clock: whenever, where: [db:outbox.no_such_column]}\n"
        "  c: {period: 1y, clock: created, where: [lake:nowhere.ts], colour: red}\n"
    )
    with pytest.raises(RetentionPolicyError) as err:
        load_policy(bad)
    message = str(err.value)
    for part in ("a: period '5 years'", "b: clock", "outbox.no_such_column", "nowhere.ts", "unknown keys colour"):
        assert part in message
    with pytest.raises(RetentionPolicyError, match="kinds"):
        (tmp_path / "empty.yaml").write_text("{}\n")
        load_policy(tmp_path / "empty.yaml")
    assert DEFAULT_POLICY.exists()


def _app_events(lake: Path) -> tuple[int, int]:
    con = duckdb.connect()
    try:
        glob = str(lake / "app_events" / "*" / "*.parquet")
        row = con.execute(
            f"SELECT count(*) FILTER (WHERE ts < ?), count(*) FILTER (WHERE ts >= ?) FROM read_parquet('{glob}')",
            [WEB_CUTOFF_LOCAL, WEB_CUTOFF_LOCAL],
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1])


def _seed(env) -> dict[str, int]:  # type: ignore[no-untyped-def]
    old, young = NOW - timedelta(days=200), NOW - timedelta(days=10)
    with Session(env.engine) as s:
        for key, status, at in (("o-sent", "sent", old), ("o-dead", "dead", old), ("o-pend", "pending", old),
                                ("y-sent", "sent", young)):  # fmt: skip
            s.add(OutboxMessage(dedupe_key=key, customer_id=None, kind="t", channel="console", subject="s", body="b",
                                payload={}, status=status, attempts=0, created_at=at, next_attempt_at=at))  # fmt: skip
        for job, at in (("old", old), ("young", young)):
            s.add(JobRun(job=job, trigger="cli", status="succeeded", started_at=at, detail={}))
        # Two anonymous holders of kept transaction records: one whose 5 years are over, one not.
        merchant = s.execute(select(Merchant.merchant_id).limit(1)).scalar_one()
        template = s.execute(select(Card).limit(1)).scalar_one()
        for i, ended in enumerate((date(2018, 12, 1), date(2020, 6, 1))):
            anon = ANONYMOUS_ID_BASE + i
            s.add(Customer(customer_id=anon, birth_year=0, gender="X", home_region_code=template and "XX",
                           occupation="erased", is_sole_proprietor=False, marital_status="erased", household_id=0,
                           relation_to_head="erased", income_band=0, target_group="erased", marketing_consent=False,
                           preferred_channel="none", joined_on=ended))  # fmt: skip
            s.flush()
            s.add(Card(card_id=10**15 + i, customer_id=anon, product_id=template.product_id, card_type="credit",
                       token=f"anon-token-{i}", last4="0000", brand="LOCAL", issued_on=date(2015, 1, 1),
                       expires_on=date(2020, 1, 1), closed_on=None, is_primary=True, contactless_enabled=False,
                       overseas_enabled=False))  # fmt: skip
            s.flush()
            s.add(Authorization(idempotency_key=f"anon-{i}", request_hash="h", card_id=10**15 + i,
                                merchant_id=merchant, amount_krw=1000, requested_at=old, channel="offline",
                                contactless=False, approved=True, reasons=[], created_at=old))  # fmt: skip
        s.commit()
    logs = env.settings.log_dir
    logs.mkdir(parents=True, exist_ok=True)
    line = lambda at, m: json.dumps({"@timestamp": at.isoformat().replace("+00:00", "Z"), "message": m}) + "\n"  # noqa: E731
    (logs / "cardwise.a.1.jsonl").write_text(
        line(NOW - timedelta(days=120), "expired") + line(NOW - timedelta(days=30), "kept") + "not json\n"
    )
    (logs / "cardwise.a.2.jsonl").write_text(line(NOW - timedelta(days=400), "all expired"))
    return {"anon": ANONYMOUS_ID_BASE}


def _state(env) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with Session(env.engine) as s:
        return {
            "outbox": sorted(s.execute(select(OutboxMessage.dedupe_key)).scalars()),
            "jobs": sorted(s.execute(select(JobRun.job)).scalars()),
            "anon": sorted(
                s.execute(select(Customer.customer_id).where(Customer.customer_id >= ANONYMOUS_ID_BASE)).scalars()
            ),
            "auth": sorted(s.execute(select(Authorization.idempotency_key)).scalars()),
            "events": _app_events(env.settings.lake_dir),
            "logs": sorted(p.name for p in env.settings.log_dir.iterdir()),
        }


def test_retention_destroys_what_expired_and_nothing_younger(env) -> None:  # type: ignore[no-untyped-def]
    _seed(env)
    before = _state(env)
    old_events, young_events = before["events"]  # type: ignore[misc]
    assert old_events > 0 and young_events > 0
    policy = load_policy()
    with env.engine.begin() as conn:  # a dry run first: counts, no change
        dry = run_retention(conn, policy=policy, now=NOW, lake=env.settings.lake_dir, log_dir=env.settings.log_dir,
                            dry_run=True, include_synthetic=True)  # fmt: skip
    assert _state(env) == before
    with env.engine.begin() as conn:
        done = run_retention(
            conn,
            policy=policy,
            now=NOW,
            lake=env.settings.lake_dir,
            log_dir=env.settings.log_dir,
            include_synthetic=True,
        )
    got = {(d.kind, d.location, d.place): d.rows for d in done}
    assert got == {(d.kind, d.location, d.place): d.rows for d in dry}
    after = _state(env)
    assert after["outbox"] == ["o-pend", "y-sent"]
    assert after["jobs"] == ["young"]
    assert after["anon"] == [ANONYMOUS_ID_BASE + 1] and after["auth"] == ["anon-1"]
    assert after["events"] == (0, young_events)
    assert got[("web_app_logs", "lake", "app_events.ts")] == old_events
    assert got[("notifications", "db", "outbox.created_at")] == 2
    assert got[("transaction_records", "db", "anonymous_holders")] == 1
    assert got[("transaction_records", "lake", "transactions.ts")] == 0  # the lake's 2022-2023 rows are < 5 years
    assert after["logs"] == ["cardwise.a.1.jsonl"]  # the file whose every line expired is gone
    kept_lines = (env.settings.log_dir / "cardwise.a.1.jsonl").read_text()
    assert "kept" in kept_lines and "expired" not in kept_lines and "not json" in kept_lines
    assert got[("log_files", "logs", str(env.settings.log_dir))] == 2
    assert check_lake(env.settings.lake_dir) == []
    with Session(env.engine) as s:
        runs = s.execute(select(RetentionRun)).scalars().all()
        assert len(runs) == len(done) and all(r.ran_at == NOW and not r.dry_run for r in runs)
        web = next(r for r in runs if r.kind == "web_app_logs" and r.location == "lake")
        assert web.cutoff == datetime(2023, 10, 15, 3, 0, tzinfo=UTC) and web.rows_destroyed == old_events
    # A second run the same day finds nothing more.
    with env.engine.begin() as conn:
        again = run_retention(
            conn,
            policy=policy,
            now=NOW,
            lake=env.settings.lake_dir,
            log_dir=env.settings.log_dir,
            include_synthetic=True,
        )
    assert sum(d.rows for d in again) == 0
    with Session(env.engine) as s:
        assert s.execute(select(func.count()).select_from(RetentionRun)).scalar_one() == 2 * len(done)


def test_a_synthetic_lake_keeps_its_generated_files_unless_asked(env) -> None:  # type: ignore[no-untyped-def]
    """The demo lake is 2022-2023 data generated for made-up people: the daily job must not wipe it."""
    before = _app_events(env.settings.lake_dir)
    with env.engine.begin() as conn:
        done = run_retention(
            conn, policy=load_policy(), now=NOW, lake=env.settings.lake_dir, log_dir=env.settings.log_dir
        )
    assert _app_events(env.settings.lake_dir) == before
    assert all(d.rows == 0 for d in done if d.location == "lake")
