"""The risk block of the customer single view (M7) from a customer's VOC scores (M4).

The seed's single view shows risk as arrows ("이탈↓/연체↓ 카드론↑/민원↓"): up for the riskiest
fifth of the month's customers, down otherwise; the block also carries the probabilities, the deciles
(1 = riskiest tenth), the top drivers and the keywords of recent calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from cardwise.voc.features import TARGETS

TARGET_NAMES: Final[dict[str, tuple[str, str]]] = {
    "churn": ("이탈", "churn"),
    "complaint": ("민원", "complaint"),
    "delinquency": ("연체", "delinquency"),
    "card_loan": ("카드론", "card loan"),
}
LEVELS: Final[dict[str, tuple[str, str]]] = {
    "high": ("상위 10%", "riskiest 10%"),
    "elevated": ("상위 20%", "riskiest 20%"),
    "low": ("보통", "ordinary"),
}


def level(decile: int) -> str:
    return "high" if decile == 1 else "elevated" if decile == 2 else "low"


def risk_block(score: Mapping[str, Any]) -> dict[str, Any]:
    """The single view's risk block from one ``voc_scores`` row (as a mapping)."""
    month = score["month"]
    scores: dict[str, Any] = {}
    ko, en = [], []
    for target in TARGETS:
        decile = int(score[f"{target}_decile"])
        lv = level(decile)
        name_ko, name_en = TARGET_NAMES[target]
        arrow = "↑" if lv != "low" else "↓"
        ko.append(f"{name_ko}{arrow}")
        en.append(f"{name_en} {arrow}")
        scores[target] = {
            "ko": name_ko,
            "en": name_en,
            "probability": round(float(score[target]), 5),
            "decile": decile,
            "level": lv,
            "level_ko": LEVELS[lv][0],
            "drivers": list((score.get("drivers") or {}).get(target, [])),
        }
    return {
        "available": True,
        "month": month.strftime("%Y-%m") if isinstance(month, date) else str(month)[:7],
        "model_version": score["model_version"],
        "horizon": "next month",
        "summary_ko": " / ".join(ko),
        "summary_en": " / ".join(en),
        "scores": scores,
        "keywords": list(score.get("keywords") or []),
    }
