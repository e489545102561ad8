"""Life stage (M1, quarterly): from age, marital status, spending and detected life events, with the
evidence that decided it. Pure logic over one row per customer; the first matching rule wins:

1. 노년 senior — 65 or older;
2. 은퇴 준비 pre-retirement — 55-64;
3. 육아 parenting — up to 54 and childcare spending (baby goods, kindergarten) above a share of
   spend, or a childbirth detected in the last 12 months;
4. 신혼 newlywed — up to 39 and a marriage detected in the last 12 months, or married and under 35;
5. 사회초년생 early career — unmarried, up to 27;
6. 결혼 적령기 marriageable age — unmarried, up to 39;
7. 중년 middle age — everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import pandas as pd

from cardwise.marketing.catalog import LifeStageRules


@dataclass(frozen=True)
class LifeStageInput:
    customer_id: int
    age: int
    marital_status: str
    occupation: str
    childcare_share: float  # of spend over the quarter
    marriage_on: date | None  # detected within the last 12 months
    childbirth_on: date | None


def _evidence(code: str, value: Any, ko: str, en: str) -> dict[str, Any]:
    return {"code": code, "value": value, "ko": ko, "en": en}


def decide(row: LifeStageInput, rules: LifeStageRules) -> tuple[str, list[dict[str, Any]]]:
    age_ev = _evidence("age", row.age, f"나이 {row.age}세", f"age {row.age}")
    marital_ko = {"single": "미혼", "married": "기혼", "divorced": "이혼", "widowed": "사별"}.get(
        row.marital_status, ""
    )
    marital_ev = _evidence("marital_status", row.marital_status, f"혼인 상태: {marital_ko}", row.marital_status)
    married = row.marital_status == "married" or row.marriage_on is not None

    def age_within(code: str) -> bool:
        stage = rules.stage(code)
        return (stage.min_age is None or row.age >= stage.min_age) and (
            stage.max_age is None or row.age <= stage.max_age
        )

    if age_within("SENIOR"):
        return "SENIOR", [age_ev]
    if age_within("PRE_RETIREMENT"):
        return "PRE_RETIREMENT", [age_ev, marital_ev]
    if age_within("PARENTING"):
        if row.childbirth_on is not None:
            return "PARENTING", [
                age_ev,
                _evidence(
                    "childbirth",
                    row.childbirth_on.isoformat(),
                    f"출산 감지 {row.childbirth_on:%Y.%m}",
                    f"childbirth detected {row.childbirth_on:%Y-%m}",
                ),
            ]
        if row.childcare_share >= rules.childcare_share:
            share = round(row.childcare_share, 3)
            return "PARENTING", [
                age_ev,
                _evidence(
                    "childcare_share",
                    share,
                    f"육아 업종 이용 비중 {share:.1%}",
                    f"childcare share of spend {share:.1%}",
                ),
            ]
    if age_within("NEWLYWED"):
        if row.marriage_on is not None:
            return "NEWLYWED", [
                age_ev,
                _evidence(
                    "marriage",
                    row.marriage_on.isoformat(),
                    f"결혼 감지 {row.marriage_on:%Y.%m}",
                    f"marriage detected {row.marriage_on:%Y-%m}",
                ),
            ]
        if married and row.age < 35:
            return "NEWLYWED", [age_ev, marital_ev]
    if not married and age_within("EARLY_CAREER"):
        return "EARLY_CAREER", [
            age_ev,
            marital_ev,
            _evidence("occupation", row.occupation, row.occupation, row.occupation),
        ]
    if not married and age_within("MARRIAGEABLE"):
        return "MARRIAGEABLE", [age_ev, marital_ev]
    return "MIDDLE_AGE", [age_ev, marital_ev]


def decide_all(frame: pd.DataFrame, rules: LifeStageRules) -> pd.DataFrame:
    """``frame`` has the fields of :class:`LifeStageInput`; returns customer_id, stage, evidence."""
    out_stage: list[str] = []
    out_evidence: list[list[dict[str, Any]]] = []
    for rec in cast(list[dict[str, Any]], frame.to_dict("records")):
        stage, evidence = decide(
            LifeStageInput(
                customer_id=int(rec["customer_id"]),
                age=int(rec["age"]),
                marital_status=str(rec["marital_status"]),
                occupation=str(rec["occupation"]),
                childcare_share=float(rec["childcare_share"]),
                marriage_on=_date_or_none(rec["marriage_on"]),
                childbirth_on=_date_or_none(rec["childbirth_on"]),
            ),
            rules,
        )
        out_stage.append(stage)
        out_evidence.append(evidence)
    return pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(), "stage": out_stage, "evidence": out_evidence})


def _date_or_none(value: object) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, date):
        return value
    return None
