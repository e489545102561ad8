"""The quarterly cluster job mails each opted-in member the blocks recommended for their cluster,
through the outbox, to a real SMTP server."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cardwise.db.models import Customer
from cardwise.notify.channels import ConsoleChannel, EmailChannel
from cardwise.notify.models import OutboxMessage
from cardwise.notify.worker import run_once
from cardwise.safety.clusters import recommendation_mails
from cardwise.scheduler import cluster_job
from tests.notify.test_worker import Inbox
from tests.safety.conftest import LoadedDb


def test_cluster_job_mails_opted_in_members_once(
    db: LoadedDb, small_lake: Path, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    shutil.copytree(small_lake, tmp_path / "lake")
    settings = db.settings.model_copy(update={"data_dir": tmp_path})
    run_id = cluster_job(settings)
    assert run_id and (tmp_path / "reports" / "clusters" / f"{run_id}.json").exists()
    with Session(db.engine) as s:
        queued = s.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like(f"cluster-mail:{run_id}:%"))
        ).scalar_one()
        consenting = s.execute(
            select(func.count()).select_from(Customer).where(Customer.marketing_consent.is_(True))
        ).scalar_one()
        non_consenting_mailed = s.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .join(Customer, Customer.customer_id == OutboxMessage.customer_id)
            .where(OutboxMessage.dedupe_key.like(f"cluster-mail:{run_id}:%"), Customer.marketing_consent.is_(False))
        ).scalar_one()
    assert 0 < queued <= consenting and non_consenting_mailed == 0
    inbox, port = smtp
    channels = {
        "email": EmailChannel("127.0.0.1", port, "cardwise <no-reply@cardwise.example>"),
        "console": ConsoleChannel(),
    }
    for _ in range(30):
        if run_once(db.engine, channels, batch=1000).claimed == 0:
            break
    mails = [m for m in inbox.messages if m["key"].startswith(f"cluster-mail:{run_id}:")]
    assert len(mails) == queued
    assert all("안심서비스" in m["body"] and "차단" in m["body"] for m in mails)


def test_mailing_a_run_twice_sends_nothing_more(db: LoadedDb, small_lake: Path) -> None:
    from datetime import date

    from cardwise.lake.store import connect
    from cardwise.safety.clusters import run_clusters

    con = connect(small_lake)
    try:
        run = run_clusters(con, start=date(2023, 7, 1), end=date(2023, 10, 1))
    finally:
        con.close()
    with Session(db.engine) as s:
        first = recommendation_mails(s, run, "rerun-test")
        s.commit()
        recommendation_mails(s, run, "rerun-test")
        s.commit()
        stored = s.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("cluster-mail:rerun-test:%"))
        ).scalar_one()
    assert first > 0 and stored == first
