"""The pre-authorization decision: pure, no I/O, time passed in.

A card holder sets controls on a card (allowed regions, blocked time windows, blocked merchant
categories, an amount limit, channel blocks). An authorization request that breaks any of them is
declined before approval, and the decision lists every rule that matched, with a reason in Korean
and English. A pause suspends the customer's controls; it never lifts a lost/stolen lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
OVERSEAS = "XX"
DAY_NAMES_KO = ("월", "화", "수", "목", "금", "토", "일")


@dataclass(frozen=True)
class TimeWindow:
    """Blocked from ``start`` to ``end`` on the given weekdays (0 = Monday), Seoul time.

    A window whose end is not after its start crosses midnight: "Fri 22:00-06:00" blocks Friday
    night until Saturday 06:00. ``start == end`` blocks 24 hours from the start (00:00-00:00 is the
    whole calendar day).
    """

    days: frozenset[int]
    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        t, day = local.time().replace(tzinfo=None), local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= t < self.end
        return (day in self.days and t >= self.start) or ((day - 1) % 7 in self.days and t < self.end)

    def describe_ko(self) -> str:
        days = ",".join(DAY_NAMES_KO[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}~{self.end:%H:%M}"


@dataclass(frozen=True)
class CardControls:
    allowed_regions: frozenset[str] | None = None  # None: anywhere; codes of provinces, Seoul districts, XX
    blocked_windows: tuple[TimeWindow, ...] = ()
    blocked_categories: frozenset[str] = frozenset()
    max_amount_krw: int | None = None
    block_online: bool = False
    block_overseas: bool = False
    block_contactless: bool = False


@dataclass(frozen=True)
class CardState:
    active: bool = True  # not closed
    locked: bool = False  # a lost/stolen report is open
    expires_on: date | None = None
    paused: bool = False  # the controls are suspended at the time of the request


@dataclass(frozen=True)
class Purchase:
    """What the rules see of an authorization request."""

    amount_krw: int
    category_code: str
    region_code: str  # the merchant's region: a Seoul district, a province or XX
    province_code: str | None  # the province of a district (11 for Seoul), None abroad
    channel: str  # offline, online or overseas
    contactless: bool
    at: datetime  # timezone-aware


@dataclass(frozen=True)
class Reason:
    code: str
    message_ko: str
    message_en: str


@dataclass(frozen=True)
class Decision:
    approved: bool
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


def _region_allowed(p: Purchase, allowed: frozenset[str]) -> bool:
    if p.region_code in allowed:
        return True
    return p.province_code is not None and p.province_code in allowed


def evaluate(p: Purchase, controls: CardControls, state: CardState) -> Decision:
    """Approve or decline, with every reason that applies."""
    if p.at.tzinfo is None:
        raise ValueError("the purchase time must carry a time zone")
    local = p.at.astimezone(SEOUL)
    reasons: list[Reason] = []
    # The issuer's own blocks come first and hold whatever the customer's controls say.
    if state.locked:
        reasons.append(
            Reason(
                "CARD_LOCKED", "분실·도난 신고로 정지된 카드입니다.", "The card is blocked after a lost/stolen report."
            )
        )
    if not state.active:
        reasons.append(Reason("CARD_CLOSED", "해지된 카드입니다.", "The card is closed."))
    if state.expires_on is not None and local.date() > state.expires_on:
        reasons.append(Reason("CARD_EXPIRED", "유효기간이 지난 카드입니다.", "The card has expired."))
    if not state.paused:
        reasons += _customer_rules(p, controls, local)
    return Decision(approved=not reasons, reasons=tuple(reasons))


def _customer_rules(p: Purchase, c: CardControls, local: datetime) -> list[Reason]:
    out: list[Reason] = []
    if c.allowed_regions is not None and not _region_allowed(p, c.allowed_regions):
        out.append(
            Reason(
                "REGION_NOT_ALLOWED",
                "허용하지 않은 지역에서의 결제입니다.",
                "Payments in this region are not allowed on this card.",
            )
        )
    for w in c.blocked_windows:
        if w.contains(local):
            out.append(
                Reason(
                    "TIME_BLOCKED",
                    f"결제 차단 시간({w.describe_ko()})입니다.",
                    f"Payments are blocked at this time ({w.start:%H:%M}-{w.end:%H:%M}).",
                )
            )
            break
    if p.category_code in c.blocked_categories:
        out.append(
            Reason("CATEGORY_BLOCKED", "차단한 업종의 가맹점입니다.", "Payments in this merchant category are blocked.")
        )
    if c.max_amount_krw is not None and p.amount_krw > c.max_amount_krw:
        out.append(
            Reason(
                "AMOUNT_OVER_LIMIT",
                f"1회 결제 한도({c.max_amount_krw:,}원)를 넘었습니다.",
                f"The amount exceeds the per-payment limit of KRW {c.max_amount_krw:,}.",
            )
        )
    if c.block_online and p.channel == "online":
        out.append(Reason("ONLINE_BLOCKED", "온라인 결제를 차단했습니다.", "Online payments are blocked."))
    if c.block_overseas and (p.channel == "overseas" or p.region_code == OVERSEAS):
        out.append(Reason("OVERSEAS_BLOCKED", "해외 결제를 차단했습니다.", "Overseas payments are blocked."))
    if c.block_contactless and p.contactless:
        out.append(Reason("CONTACTLESS_BLOCKED", "비접촉 결제를 차단했습니다.", "Contactless payments are blocked."))
    return out
