"""What the SafetyOne back office reads (S8, S10): the payment log over millions of rows, the anomaly
service's users and alerts, the safety service's users and their declines.

The payment log has two sources with one filter and one page shape:

- ``live``: the platform's own authorizations in the database, approved and declined, newest first,
  paged by keyset on (requested_at, authorization_id) (indexes of migration 0012; never OFFSET);
- ``lake``: the lake's approved card transactions (5M rows on seed002) through DuckDB over the month
  partitions, newest month first, so a page reads one or two months' files, not the table.

Card numbers never appear: a card is its id and last four digits; a token is accepted as a filter only.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
from sqlalchemy import and_, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from cardwise.core.errors import Invalid
from cardwise.db.models import Card, Merchant
from cardwise.lake.schema import table as lake_table
from cardwise.lake.store import table_dir
from cardwise.notify.models import OutboxMessage
from cardwise.safety.models import Authorization, CardControl
from cardwise.safety.rules import SEOUL

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
Source = Literal["live", "lake"]
Decision = Literal["approved", "declined"]
_TOKEN = re.compile(r"^[0-9a-f]{32,64}$")
_LAST4 = re.compile(r"^\d{4}$")
# Written as the partial indexes name it: SQLite uses ix_authorizations_declined_* only for this exact form
# (SQLAlchemy's ``~approved`` renders ``approved = 0`` there and scans the table).
DECLINED = text("NOT authorizations.approved")


# --- the filter and its cursor ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFilter:
    """What the payment log shows; every field optional. Days are Seoul calendar days, both inclusive."""

    source: Source = "live"
    start: date | None = None
    end: date | None = None
    card: str | None = None  # last four digits or a card token
    customer_id: int | None = None
    merchant: str | None = None  # a merchant id, or the start of its name
    category: str | None = None
    decision: Decision | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    page_size: int = PAGE_SIZE

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise Invalid("the start day is after the end day (시작일이 종료일보다 늦습니다)")
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            raise Invalid("the minimum amount is above the maximum (최소 금액이 최대 금액보다 큽니다)")
        if self.card is not None and not (_LAST4.match(self.card) or _TOKEN.match(self.card)):
            raise Invalid("a card is its last four digits or its token (카드 끝 4자리 또는 토큰)")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise Invalid(f"page size must be 1..{MAX_PAGE_SIZE}")


@dataclass(frozen=True)
class Cursor:
    at: datetime  # Seoul wall clock for the lake, UTC for live authorizations
    row_id: int

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.row_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            at, row_id = raw.split("|")
            return Cursor(datetime.fromisoformat(at), int(row_id))
        except (ValueError, UnicodeDecodeError):
            raise Invalid(
                "the page link is damaged; start from the first page (페이지 정보가 잘못되었습니다)"
            ) from None


@dataclass(frozen=True)
class PaymentRow:
    row_id: int
    at: datetime  # timezone-aware
    card_id: int
    last4: str
    customer_id: int | None
    merchant_id: int
    merchant_name: str
    category_code: str
    region_code: str
    amount_krw: int
    channel: str
    approved: bool
    reason_codes: tuple[str, ...] = ()
    is_fraud: bool | None = None  # lake ground truth (never shown to customers)


@dataclass(frozen=True)
class PaymentPage:
    rows: list[PaymentRow]
    next_cursor: str | None
    source: Source
    months_read: tuple[str, ...] = field(default_factory=tuple)  # lake partitions the page opened


def _seoul_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    lo = datetime.combine(start, time(), SEOUL) if start else None
    hi = datetime.combine(end + timedelta(days=1), time(), SEOUL) if end else None
    return lo, hi


def _card_ids(session: Session, f: PaymentFilter) -> list[int] | None:
    """The card ids a card or customer filter allows (None: no card filter)."""
    if f.card is None and f.customer_id is None:
        return None
    q = select(Card.card_id)
    if f.card is not None:
        q = q.where(Card.last4 == f.card) if _LAST4.match(f.card) else q.where(Card.token == f.card)
    if f.customer_id is not None:
        q = q.where(Card.customer_id == f.customer_id)
    return list(session.execute(q.limit(1000)).scalars())


def _merchant_ids(session: Session, f: PaymentFilter) -> list[int] | None:
    if not f.merchant:
        return None
    text = f.merchant.strip()
    if text.isdigit():
        return [int(text)]
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        session.execute(select(Merchant.merchant_id).where(Merchant.name.like(like, escape="\\")).limit(500)).scalars()
    )


def payment_log(
    session: Session, f: PaymentFilter, *, cursor: str | None = None, lake: Path | None = None
) -> PaymentPage:
    """One page of the payment log, newest first; ``next_cursor`` continues after its last row."""
    after = Cursor.decode(cursor)
    cards = _card_ids(session, f)
    merchants = _merchant_ids(session, f)
    if cards == [] or merchants == []:
        return PaymentPage([], None, f.source)
    if f.source == "lake":
        if lake is None:
            raise Invalid("no lake configured")
        return _lake_page(session, lake, f, after, cards, merchants)
    return _live_page(session, f, after, cards, merchants)


def _live_page(
    session: Session, f: PaymentFilter, after: Cursor | None, cards: list[int] | None, merchants: list[int] | None
) -> PaymentPage:
    a = Authorization
    q = (
        select(
            a.authorization_id,
            a.requested_at,
            a.card_id,
            Card.last4,
            Card.customer_id,
            a.merchant_id,
            Merchant.name,
            Merchant.category_code,
            Merchant.region_code,
            a.amount_krw,
            a.channel,
            a.approved,
            a.reasons,
        )
        .join(Card, Card.card_id == a.card_id)
        .join(Merchant, Merchant.merchant_id == a.merchant_id)
    )
    lo, hi = _seoul_bounds(f.start, f.end)
    if lo is not None:
        q = q.where(a.requested_at >= lo)
    if hi is not None:
        q = q.where(a.requested_at < hi)
    if cards is not None:
        q = q.where(a.card_id.in_(cards))
    if merchants is not None:
        q = q.where(a.merchant_id.in_(merchants))
    if f.category:
        sqlite = session.get_bind().dialect.name == "sqlite"
        # SQLite would start from the category's merchants and sort all their payments; the unary + keeps it
        # walking the time index newest first and stopping at the page's end (PostgreSQL plans by statistics).
        column = literal_column("+merchants.category_code") if sqlite else Merchant.category_code
        q = q.where(column == f.category)
    if f.decision == "approved":
        q = q.where(a.approved)
    elif f.decision == "declined":
        q = q.where(DECLINED)
    if f.min_amount is not None:
        q = q.where(a.amount_krw >= f.min_amount)
    if f.max_amount is not None:
        q = q.where(a.amount_krw <= f.max_amount)
    if after is not None:
        at = after.at if after.at.tzinfo else after.at.replace(tzinfo=UTC)
        q = q.where(or_(a.requested_at < at, and_(a.requested_at == at, a.authorization_id < after.row_id)))
    q = q.order_by(a.requested_at.desc(), a.authorization_id.desc()).limit(f.page_size + 1)
    rows = [
        PaymentRow(
            row_id=r.authorization_id,
            at=r.requested_at,
            card_id=r.card_id,
            last4=r.last4,
            customer_id=r.customer_id,
            merchant_id=r.merchant_id,
            merchant_name=r.name,
            category_code=r.category_code,
            region_code=r.region_code,
            amount_krw=r.amount_krw,
            channel=r.channel,
            approved=r.approved,
            reason_codes=tuple(x.get("code", "") for x in (r.reasons or [])),
        )
        for r in session.execute(q)
    ]
    more = len(rows) > f.page_size
    rows = rows[: f.page_size]
    nxt = Cursor(rows[-1].at.astimezone(UTC), rows[-1].row_id).encode() if more and rows else None
    return PaymentPage(rows, nxt, "live")


def lake_months(lake: Path, start: date | None = None, end: date | None = None) -> list[str]:
    """The transactions' month partitions (YYYY-MM) within [start, end], newest first."""
    base = table_dir(lake, lake_table("transactions"))
    months = sorted((p.name.split("=", 1)[1] for p in base.glob("month=*") if p.is_dir()), reverse=True)
    lo = f"{start:%Y-%m}" if start else "0000-00"
    hi = f"{end:%Y-%m}" if end else "9999-99"
    return [m for m in months if lo <= m <= hi]


def _in_list(values: Sequence[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


_LAKE: duckdb.DuckDBPyConnection | None = None
_LAKE_LOCK = threading.Lock()
_RECENT = 4_096  # a first look at the newest ids only: a page without selective filters is found there


def _lake_cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on one process-wide in-memory DuckDB (opening a database costs tens of milliseconds)."""
    global _LAKE
    with _LAKE_LOCK:
        if _LAKE is None:
            _LAKE = duckdb.connect(":memory:")
            _LAKE.execute("SET threads = 2")
        return _LAKE.cursor()


def _lake_page(
    session: Session,
    lake: Path,
    f: PaymentFilter,
    after: Cursor | None,
    cards: list[int] | None,
    merchants: list[int] | None,
) -> PaymentPage:
    """Transaction ids are in time order in the lake, so "newest first" is "highest id first": each month's
    file is read newest id first, first within the top few thousand ids (cheap), then all of it if needed."""
    if f.decision == "declined":  # the lake's transactions are the approved ones
        return PaymentPage([], None, "lake")
    where: list[str] = []
    params: dict[str, Any] = {}
    lo, hi = _seoul_bounds(f.start, f.end)
    if lo is not None:
        where.append("ts >= $lo")
        params["lo"] = lo.replace(tzinfo=None)
    if hi is not None:
        where.append("ts < $hi")
        params["hi"] = hi.replace(tzinfo=None)
    if cards is not None:
        where.append(f"card_id IN ({_in_list(cards)})")
    if merchants is not None:
        where.append(f"merchant_id IN ({_in_list(merchants)})")
    if f.category:
        where.append("category_code = $category")
        params["category"] = f.category
    if f.min_amount is not None:
        where.append("amount_krw >= $min_amount")
        params["min_amount"] = f.min_amount
    if f.max_amount is not None:
        where.append("amount_krw <= $max_amount")
        params["max_amount"] = f.max_amount
    last_month = f"{after.at:%Y-%m}" if after is not None else None
    months = [m for m in lake_months(lake, f.start, f.end) if last_month is None or m <= last_month]
    want = f.page_size + 1
    found: list[tuple[Any, ...]] = []
    read: list[str] = []
    columns = (
        "transaction_id, ts, card_id, customer_id, merchant_id, category_code, region_code, amount_krw, channel, "
        "is_fraud"
    )
    con = _lake_cursor()
    try:
        base = table_dir(lake, lake_table("transactions"))
        for month in months:
            src = "read_parquet('" + str(base / f"month={month}" / "*.parquet").replace("'", "''") + "')"
            top = con.execute(f"SELECT max(transaction_id) FROM {src}").fetchall()[0][0]
            if top is None:
                continue
            upper = min(int(top) + 1, after.row_id) if after is not None else int(top) + 1
            read.append(month)
            for floor in (upper - _RECENT, None):
                clauses = [*where, f"transaction_id < {upper}"] + ([f"transaction_id >= {floor}"] if floor else [])
                sql = (
                    f"SELECT {columns} FROM {src} WHERE {' AND '.join(clauses)} "
                    f"ORDER BY transaction_id DESC LIMIT {want - len(found)}"
                )
                used = {k: v for k, v in params.items() if f"${k}" in sql}
                batch = con.execute(sql, used).fetchall()
                if floor is None or len(batch) >= want - len(found):
                    found += batch
                    break
            if len(found) >= want:
                break
    finally:
        con.close()
    more = len(found) > f.page_size
    found = found[: f.page_size]
    names = _merchant_names(session, [r[4] for r in found])
    last4 = dict(session.execute(select(Card.card_id, Card.last4).where(Card.card_id.in_({r[2] for r in found}))).all())
    rows = [
        PaymentRow(
            row_id=r[0],
            at=r[1].replace(tzinfo=SEOUL),
            card_id=r[2],
            last4=last4.get(r[2], "????"),
            customer_id=r[3],
            merchant_id=r[4],
            merchant_name=names.get(r[4], str(r[4])),
            category_code=r[5],
            region_code=r[6],
            amount_krw=r[7],
            channel=r[8],
            approved=True,
            is_fraud=bool(r[9]),
        )
        for r in found
    ]
    nxt = Cursor(found[-1][1], found[-1][0]).encode() if more and found else None
    return PaymentPage(rows, nxt, "lake", tuple(read))


def _merchant_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(select(Merchant.merchant_id, Merchant.name).where(Merchant.merchant_id.in_(set(ids)))).all()
    )


# --- anomaly service ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    message_id: int
    customer_id: int | None
    created_at: datetime
    status: str
    channel: str
    codes: tuple[str, ...]
    authorization_id: int | None
    card_id: int | None
    last4: str | None = None
    amount_krw: int | None = None
    merchant_name: str | None = None
    category_code: str | None = None


def anomaly_alerts(
    session: Session, *, customer_id: int | None = None, before_id: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[AlertRow], int | None]:
    """Anomaly alerts (outbox messages of kind anomaly_alert) newest first, with the payment they were
    about; a customer's own when ``customer_id`` is given. Returns the rows and the next page's key."""
    q = select(OutboxMessage).where(OutboxMessage.kind == "anomaly_alert")
    if customer_id is not None:
        q = q.where(OutboxMessage.customer_id == customer_id)
    if before_id is not None:
        q = q.where(OutboxMessage.message_id < before_id)
    messages = list(session.execute(q.order_by(OutboxMessage.message_id.desc()).limit(limit + 1)).scalars())
    more = len(messages) > limit
    messages = messages[:limit]
    auth_ids = {int(m.payload["authorization_id"]) for m in messages if m.payload.get("authorization_id")}
    auths = {
        r.authorization_id: r
        for r in session.execute(
            select(Authorization.authorization_id, Authorization.amount_krw, Authorization.merchant_id, Card.last4)
            .join(Card, Card.card_id == Authorization.card_id)
            .where(Authorization.authorization_id.in_(auth_ids))
        )
    }
    merchants = {
        r.merchant_id: r
        for r in session.execute(
            select(Merchant.merchant_id, Merchant.name, Merchant.category_code).where(
                Merchant.merchant_id.in_({a.merchant_id for a in auths.values()})
            )
        )
    }
    out = []
    for m in messages:
        auth_id = m.payload.get("authorization_id")
        auth = auths.get(int(auth_id)) if auth_id else None
        merchant = merchants.get(auth.merchant_id) if auth else None
        out.append(
            AlertRow(
                message_id=m.message_id,
                customer_id=m.customer_id,
                created_at=m.created_at,
                status=m.status,
                channel=m.channel,
                codes=tuple(m.payload.get("codes") or ()),
                authorization_id=int(auth_id) if auth_id else None,
                card_id=m.payload.get("card_id"),
                last4=auth.last4 if auth else None,
                amount_krw=auth.amount_krw if auth else None,
                merchant_name=merchant.name if merchant else None,
                category_code=merchant.category_code if merchant else None,
            )
        )
    return out, (messages[-1].message_id if more and messages else None)


@dataclass(frozen=True)
class AlertedCustomer:
    customer_id: int
    alerts: int
    last_at: datetime


def alerted_customers(session: Session, *, limit: int = PAGE_SIZE) -> list[AlertedCustomer]:
    """The anomaly service's users who were alerted, most recently alerted first, with their alert counts."""
    q = (
        select(OutboxMessage.customer_id, func.count(), func.max(OutboxMessage.created_at))
        .where(OutboxMessage.kind == "anomaly_alert", OutboxMessage.customer_id.is_not(None))
        .group_by(OutboxMessage.customer_id)
        .order_by(func.max(OutboxMessage.created_at).desc())
        .limit(limit)
    )
    out = []
    for customer_id, n, last_at in session.execute(q):
        at = last_at if isinstance(last_at, datetime) else datetime.fromisoformat(str(last_at))
        out.append(AlertedCustomer(int(customer_id or 0), int(n), at if at.tzinfo else at.replace(tzinfo=UTC)))
    return out


# --- safety service -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyUser:
    card_id: int
    last4: str
    customer_id: int
    locked: bool
    regions: int | None  # allowed regions (None: anywhere)
    windows: int
    categories: int
    max_amount_krw: int | None
    blocks: tuple[str, ...]  # online, overseas, contactless
    updated_at: datetime
    declines: int = 0


def safety_users(
    session: Session, *, customer_id: int | None = None, after_card: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[SafetyUser], int | None]:
    """Cards with customer-set rules, by card id (keyset), each with its count of declined payments."""
    q = select(CardControl, Card.last4, Card.customer_id, Card.locked).join(Card, Card.card_id == CardControl.card_id)
    if customer_id is not None:
        q = q.where(Card.customer_id == customer_id)
    if after_card is not None:
        q = q.where(CardControl.card_id > after_card)
    rows = list(session.execute(q.order_by(CardControl.card_id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r[0].card_id for r in rows]
    declines = dict(
        session.execute(
            select(Authorization.card_id, func.count())
            .where(Authorization.card_id.in_(ids), DECLINED)
            .group_by(Authorization.card_id)
        ).all()
    )
    out = []
    for control, last4, cust, locked in rows:
        blocks = tuple(
            name
            for name, on in (
                ("online", control.block_online),
                ("overseas", control.block_overseas),
                ("contactless", control.block_contactless),
            )
            if on
        )
        out.append(
            SafetyUser(
                card_id=control.card_id,
                last4=last4,
                customer_id=cust,
                locked=locked,
                regions=None if control.allowed_regions is None else len(control.allowed_regions),
                windows=len(control.blocked_windows or []),
                categories=len(control.blocked_categories or []),
                max_amount_krw=control.max_amount_krw,
                blocks=blocks,
                updated_at=control.updated_at,
                declines=int(declines.get(control.card_id, 0)),
            )
        )
    return out, (ids[-1] if more and ids else None)


def declines(session: Session, f: PaymentFilter, *, cursor: str | None = None) -> PaymentPage:
    """Declined authorizations newest first (the payment log's live source, declined only)."""
    return payment_log(session, replace(f, source="live", decision="declined"), cursor=cursor)


def safety_counts(session: Session) -> dict[str, int]:
    """Headline numbers for the back office's start page."""
    return {
        "cards_with_rules": int(session.scalar(select(func.count()).select_from(CardControl)) or 0),
        "declined": int(session.scalar(select(func.count()).select_from(Authorization).where(DECLINED)) or 0),
        "anomaly_alerts": int(
            session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "anomaly_alert"))
            or 0
        ),
    }
