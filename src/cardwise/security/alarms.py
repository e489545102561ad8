"""Alarms on abnormal access (L2): bursts of failed logins, bursts of blocked requests, one account used
from many addresses. The thresholds live in the firewall rule file (``alarms:``).

When: right after the event writer stores a batch (:class:`cardwise.security.events.EventStore`), over the
stored events, not on per-process counters. Why not a job every minute: an alarm then comes within a second
instead of up to a minute; the work is done only when security events happen (never on quiet traffic) and
off the request path (the writer thread). Why the database and not in-memory counters: a burst spread over
several server workers or replicas is counted whole, because every process writes to the same table.

Each alarm is stored once per rule, subject and window (``security_alarms.dedupe_key`` is unique; windows are
aligned to multiples of ``window_seconds``), and in the same transaction one message for the
administrators goes to the outbox with the same key, so an alarm is never doubled, even when two
processes see the burst at the same moment. It also counts in ``cardwise_security_alarms_total{kind}``
and writes an ECS line with ``event.kind: alert``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cardwise.logging import get_logger
from cardwise.security.events import EventRecord, ecs_fields
from cardwise.security.events_models import SecurityAlarm, SecurityEvent
from cardwise.security.waf_rules import AlarmRule

log = get_logger("cardwise.security.alarms")

SECURITY_ALARMS = Counter("cardwise_security_alarms", "Security alarms raised, by alarm rule", ["kind"])

_INSERT_ONCE = {
    # RETURNING tells whether this call inserted (rowcount is -1 on PostgreSQL with implicit RETURNING).
    name: dialect_insert(SecurityAlarm.__table__)  # type: ignore[arg-type]
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(SecurityAlarm.__table__.c.alarm_id)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


@dataclass(frozen=True)
class Alarm:
    rule: str
    subject: str
    observed: int
    threshold: int
    window_start: datetime
    dedupe_key: str


def window_start(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def dedupe_key(rule: str, subject: str, start: datetime) -> str:
    # The subject (an account or address) is hashed: keys are short and do not spread personal data.
    digest = hashlib.sha256(subject.encode()).hexdigest()[:16]
    return f"alarm:{rule}:{digest}:{start:%Y%m%dT%H%M%S}"


def _subjects(rule: AlarmRule, batch: Sequence[EventRecord]) -> set[str]:
    rows = [r for r in batch if r.kind in rule.kinds]
    if rule.group_by == "none":
        return {"*"} if rows else set()
    attr = "user_name" if rule.group_by == "user" else "source_ip"
    return {v for r in rows if (v := getattr(r, attr))}


def _observed(conn: Any, rule: AlarmRule, subjects: set[str], since: datetime) -> dict[str, int]:
    measure = func.count(func.distinct(SecurityEvent.source_ip)) if rule.distinct else func.count()
    where = [SecurityEvent.kind.in_(rule.kinds), SecurityEvent.at >= since]
    if rule.group_by == "none":
        return {"*": int(conn.execute(select(measure).where(*where)).scalar_one())}
    col = SecurityEvent.user_name if rule.group_by == "user" else SecurityEvent.source_ip
    rows = conn.execute(select(col, measure).where(*where, col.in_(sorted(subjects))).group_by(col)).all()
    return {str(k): int(n) for k, n in rows}


class AlarmEvaluator:
    """Called by the event writer after each stored batch."""

    def __init__(self, rules: Sequence[AlarmRule], *, alarm_email: str | None = None) -> None:
        self.rules = list(rules)
        self.alarm_email = alarm_email
        self._fired: set[str] = set()  # keys already raised by this process: skip their queries under a flood

    def __call__(self, engine: Engine, batch: list[EventRecord]) -> list[Alarm]:
        return self.evaluate(engine, batch, now=datetime.now(UTC))

    def evaluate(self, engine: Engine, batch: Sequence[EventRecord], *, now: datetime) -> list[Alarm]:
        raised: list[Alarm] = []
        for rule in self.rules:
            start = window_start(now, rule.window_seconds)
            subjects = {s for s in _subjects(rule, batch) if dedupe_key(rule.id, s, start) not in self._fired}
            if not subjects:
                continue
            with engine.connect() as conn:
                observed = _observed(conn, rule, subjects, now - timedelta(seconds=rule.window_seconds))
            for subject, n in sorted(observed.items()):
                if n < rule.threshold:
                    continue
                alarm = Alarm(rule.id, subject, n, rule.threshold, start, dedupe_key(rule.id, subject, start))
                self._fired.add(alarm.dedupe_key)
                if self._store(engine, rule, alarm, now):
                    raised.append(alarm)
        if len(self._fired) > 10_000:
            self._fired.clear()
        return raised

    def _store(self, engine: Engine, rule: AlarmRule, alarm: Alarm, now: datetime) -> bool:
        """The alarm row and its outbox message in one transaction; False when another process was first."""
        from cardwise.notify.service import enqueue

        detail = {"description": rule.description, "kinds": rule.kinds, "window_seconds": rule.window_seconds}
        with Session(engine) as session, session.begin():
            conn = session.connection()
            inserted = conn.execute(
                _INSERT_ONCE[conn.dialect.name],
                {
                    "dedupe_key": alarm.dedupe_key,
                    "rule": alarm.rule,
                    "subject": alarm.subject[:128],
                    "window_start": alarm.window_start,
                    "at": now,
                    "observed": alarm.observed,
                    "threshold": alarm.threshold,
                    "detail": detail,
                },
            ).first()
            if inserted is None:
                return False
            enqueue(
                session,
                dedupe_key=alarm.dedupe_key,
                customer_id=None,
                kind="security_alarm",
                channel="email" if self.alarm_email else "console",
                subject=f"[cardwise 보안 경보 / security alarm] {alarm.rule}",
                body=_message(rule, alarm),
                payload={
                    "rule": alarm.rule,
                    "subject": alarm.subject,
                    "observed": alarm.observed,
                    "threshold": alarm.threshold,
                    "window_start": alarm.window_start.isoformat(),
                    **({"to_email": self.alarm_email} if self.alarm_email else {}),
                },
            )
        SECURITY_ALARMS.labels(kind=alarm.rule).inc()
        user = alarm.subject if rule.group_by == "user" else None
        ip = alarm.subject if rule.group_by == "source_ip" else None
        fields = ecs_fields(f"alarm_{alarm.rule}", "unknown", ip, user)
        fields["event.kind"] = "alert"
        fields["cardwise.detail"] = {"observed": alarm.observed, "threshold": alarm.threshold, "rule": alarm.rule}
        log.error("security alarm: %s", alarm.rule, extra=fields)
        return True


def _message(rule: AlarmRule, alarm: Alarm) -> str:
    what = "건의 이벤트" if not rule.distinct else "개의 서로 다른 주소"
    return (
        f"보안 경보: {rule.description}\n"
        f"대상: {alarm.subject} / 관측: 최근 {rule.window_seconds}초 동안 {alarm.observed}{what} "
        f"(기준 {alarm.threshold}) / 경보 구간 시작: {alarm.window_start.isoformat()}\n"
        f"Security alarm {alarm.rule}: {alarm.observed} (threshold {alarm.threshold}) within "
        f"{rule.window_seconds} s for {alarm.subject}. Back office: GET /v1/backoffice/security/events"
    )


def alarm_counts(engine: Engine) -> dict[str, int]:
    """Alarms stored per rule, for the /metrics exposition (the same in every server process)."""
    with engine.connect() as conn:
        rows = conn.execute(select(SecurityAlarm.rule, func.count()).group_by(SecurityAlarm.rule)).all()
    return {str(r): int(n) for r, n in rows}


class _AlarmCollector:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily

        family = CounterMetricFamily(
            "cardwise_security_alarms", "Security alarms raised, by alarm rule", labels=["kind"]
        )
        for kind, n in sorted(self.counts.items()):
            family.add_metric([kind], n)
        yield family


def add_alarm_metrics(registry: Any, engine: Engine) -> None:
    """Expose the stored alarms as ``cardwise_security_alarms_total{kind}`` on a per-scrape registry, so
    every server process reports the same numbers (the in-process counter only sees its own)."""
    try:
        counts = alarm_counts(engine)
    except Exception:  # not migrated yet: no alarm metrics rather than a failed scrape
        return
    registry.register(_AlarmCollector(counts))
