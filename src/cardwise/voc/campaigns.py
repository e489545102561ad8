"""Campaigns on the VOC risk scores (M8): who gets a churn-defence coupon, a complaint-prevention call,
a payment reminder or a card-loan offer, who is held out to measure the effect, and what happened.

Pure rules: frames in, frames out; the service stores them and queues the messages.

- Advertising (a coupon, a loan offer) goes only to customers who consented to marketing, and its text
  starts with (광고) as Korean law requires; service notices (a payment reminder, a care call) do not.
- A card-loan offer never goes to the three riskiest tenths for delinquency (responsible lending) and
  carries the statutory warnings on credit scores.
- A share of the selected customers is held out as a control group by a hash of the campaign and the
  customer, so the split is random, reproducible and needs no stored state.
- A customer contacted by the same kind of campaign in the two months before is left out (fatigue).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from cardwise.marketing.marts import add_months

DEFAULT_CONTROL_SHARE: Final = 0.1
COOL_DOWN_MONTHS: Final = 2
LOAN_EXCLUDED_DELINQUENCY_DECILES: Final = (1, 2, 3)


@dataclass(frozen=True)
class CampaignKind:
    code: str
    target: str
    ko: str
    en: str
    advertising: bool
    subject: str
    body: str


KINDS: Final[dict[str, CampaignKind]] = {
    k.code: k
    for k in (
        CampaignKind(
            "CHURN_DEFENCE",
            "churn",
            "이탈 방어 쿠폰 발송",
            "Churn-defence coupon",
            True,
            "(광고) 카드와이즈 감사 쿠폰",
            "(광고) 그동안 카드와이즈카드를 이용해 주셔서 감사합니다. 다음 달 말까지 쓰실 수 있는 "
            "1만 원 캐시백 쿠폰을 드렸습니다. 앱의 이벤트 메뉴에서 확인하세요. 수신거부: 앱 설정 > 알림",
        ),
        CampaignKind(
            "COMPLAINT_CARE",
            "complaint",
            "민원 예방 선제 상담",
            "Proactive care call to prevent a complaint",
            False,
            "카드와이즈 고객센터 안내",
            "최근 이용하시면서 불편하신 점이 있으셨다면 먼저 살펴보겠습니다. 전담 상담사가 2영업일 안에 "
            "연락드리겠습니다. 바로 상담을 원하시면 고객센터로 전화 주세요.",
        ),
        CampaignKind(
            "DELINQUENCY_CARE",
            "delinquency",
            "연체 예방 결제일 안내",
            "Payment reminder and instalment options",
            False,
            "카드와이즈 결제일 안내",
            "다가오는 결제일 전에 결제 계좌의 잔액을 확인해 주세요. 결제일 변경, 일부 결제와 분할 납부 "
            "상담도 도와드립니다. 연체되면 연체이자가 붙고 신용점수에 영향이 있을 수 있습니다.",
        ),
        CampaignKind(
            "CARD_LOAN_OFFER",
            "card_loan",
            "카드론 금리·한도 안내",
            "Card loan rate and limit information",
            True,
            "(광고) 카드와이즈 카드론 안내",
            "(광고) 고객님의 카드론 한도와 금리를 앱에서 확인하실 수 있습니다. 대출 시 개인신용평점이 "
            "하락할 수 있으며, 상환 능력에 비해 대출금이 과도할 경우 개인신용평점이 하락할 수 있습니다. "
            "수신거부: 앱 설정 > 알림",
        ),
    )
}


def control_draw(campaign_key: str, customer_id: int) -> float:
    """A uniform number in [0, 1) from the campaign and the customer: the same split on every run."""
    digest = hashlib.sha256(f"{campaign_key}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def campaign_key(kind: str, month: date) -> str:
    return f"{kind}:{month:%Y-%m}"


def message_key(kind: str, month: date, customer_id: int) -> str:
    """The outbox deduplication key: one message per customer, kind and month, however often it runs."""
    return f"voc:{kind}:{month:%Y-%m}:{customer_id}"


def select_members(
    scores: pd.DataFrame,
    kind: CampaignKind,
    month: date,
    *,
    deciles: tuple[int, ...],
    consent: pd.Series,
    recently_contacted: set[int] | frozenset[int] = frozenset(),
    control_share: float = DEFAULT_CONTROL_SHARE,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The members (customer_id, arm, probability, decile) and how many were left out, by reason.

    ``scores`` is one month's scores (``customer_id``, the target's probability and ``<target>_decile``,
    ``delinquency_decile``); ``consent`` maps customer ids to marketing consent.
    """
    if not 0 <= control_share < 1:
        raise ValueError("control_share must lie in [0, 1)")
    decile_col = f"{kind.target}_decile"
    chosen = scores[scores[decile_col].isin(deciles)]
    excluded: dict[str, int] = {}
    if kind.advertising:
        ok = chosen["customer_id"].map(consent).fillna(False).to_numpy(dtype=bool)
        excluded["no_marketing_consent"] = int((~ok).sum())
        chosen = chosen[ok]
    if kind.code == "CARD_LOAN_OFFER":
        risky = chosen["delinquency_decile"].isin(LOAN_EXCLUDED_DELINQUENCY_DECILES).to_numpy()
        excluded["delinquency_risk"] = int(risky.sum())
        chosen = chosen[~risky]
    fatigued = chosen["customer_id"].isin(list(recently_contacted)).to_numpy()
    excluded["contacted_recently"] = int(fatigued.sum())
    chosen = chosen[~fatigued]
    key = campaign_key(kind.code, month)
    draws = np.array([control_draw(key, int(c)) for c in chosen["customer_id"]], dtype=np.float64)
    members = pd.DataFrame(
        {
            "customer_id": chosen["customer_id"].astype(np.int64).to_numpy(),
            "arm": np.where(draws < control_share, "control", "treatment"),
            "probability": chosen[kind.target].to_numpy(dtype=np.float64),
            "decile": chosen[decile_col].astype(np.int64).to_numpy(),
        }
    )
    return members.sort_values("customer_id").reset_index(drop=True), excluded


def outcome_window(month: date) -> tuple[date, date]:
    """Outcomes are judged in the month after the scores' month: what the scores predicted."""
    return add_months(month, 1), add_months(month, 2)


LABEL_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "churn": ("churned", "churned_on"),
    "complaint": ("complained", "complained_on"),
    "delinquency": ("delinquent", "delinquent_on"),
    "card_loan": ("card_loan", "card_loan_on"),
}


def outcomes_from_labels(
    labels: pd.DataFrame, target: str, month: date, customers: list[int]
) -> list[tuple[int, bool, date | None]]:
    """(customer, event happened in the outcome window, when) from a labels table like the lake's."""
    flag, when = LABEL_COLUMNS[target]
    start, end = outcome_window(month)
    dates: dict[int, date] = {
        int(c): pd.Timestamp(d).date()
        for c, f, d in zip(labels["customer_id"], labels[flag], labels[when], strict=True)
        if bool(f) and pd.notna(d)
    }
    out: list[tuple[int, bool, date | None]] = []
    for customer in customers:
        on = dates.get(int(customer))
        happened_on = on if on is not None and start <= on < end else None
        out.append((int(customer), happened_on is not None, happened_on))
    return out


def effect(members: pd.DataFrame, *, advertising_conversion: bool) -> dict[str, object]:
    """Event rates per arm among members with a recorded outcome, and the difference.

    For a risk-reduction campaign the effect is control rate minus treatment rate (events avoided);
    for an offer (card loan) it is treatment minus control (uptake caused)."""
    out: dict[str, object] = {}
    rates: dict[str, float | None] = {}
    for arm in ("treatment", "control"):
        m = members[members["arm"] == arm]
        known = m[m["outcome"].notna()]
        events = int(known["outcome"].astype(bool).sum())
        rates[arm] = events / len(known) if len(known) else None
        out[arm] = {"members": len(m), "with_outcome": len(known), "events": events, "rate": rates[arm]}
    t, c = rates["treatment"], rates["control"]
    out["effect"] = None if t is None or c is None else round((t - c) if advertising_conversion else (c - t), 4)
    out["effect_meaning"] = (
        "uptake caused per treated customer (treatment - control)"
        if advertising_conversion
        else "events avoided per treated customer (control - treatment)"
    )
    return out
