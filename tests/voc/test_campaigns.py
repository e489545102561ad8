"""Campaign rules: who is selected, who is held out, who is never offered a loan, what happened."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardwise.voc.campaigns import (
    KINDS,
    control_draw,
    effect,
    message_key,
    outcome_window,
    outcomes_from_labels,
    select_members,
)

MONTH = date(2023, 9, 1)


def _scores(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"customer_id": np.arange(1, n + 1)})
    for target in ("churn", "complaint", "delinquency", "card_loan"):
        frame[target] = rng.random(n)
        frame[f"{target}_decile"] = (frame[target].rank(ascending=False, method="first") - 1) * 10 // n + 1
    return frame


def test_advertising_needs_consent_and_service_notices_do_not() -> None:
    scores = _scores()
    consent = pd.Series((scores["customer_id"] % 2 == 0).to_numpy(), index=scores["customer_id"])
    ad, ad_out = select_members(scores, KINDS["CHURN_DEFENCE"], MONTH, deciles=(1,), consent=consent)
    care, care_out = select_members(scores, KINDS["DELINQUENCY_CARE"], MONTH, deciles=(1,), consent=consent)
    assert (ad["customer_id"] % 2 == 0).all() and ad_out["no_marketing_consent"] == 100 - len(ad)
    assert len(care) == 100 and "no_marketing_consent" not in care_out
    assert KINDS["CHURN_DEFENCE"].body.startswith("(광고)") and not KINDS["DELINQUENCY_CARE"].body.startswith("(광고)")
    assert "신용평점" in KINDS["CARD_LOAN_OFFER"].body


def test_no_loan_offer_to_the_riskiest_three_tenths_for_delinquency() -> None:
    scores = _scores()
    consent = pd.Series(True, index=scores["customer_id"])
    members, out = select_members(scores, KINDS["CARD_LOAN_OFFER"], MONTH, deciles=(1, 2), consent=consent)
    risky = set(scores.loc[scores["delinquency_decile"] <= 3, "customer_id"])
    assert members["customer_id"].isin(risky).sum() == 0 and out["delinquency_risk"] > 0
    assert len(members) + out["delinquency_risk"] == 200


def test_recently_contacted_are_left_out_and_the_control_split_is_reproducible() -> None:
    scores = _scores(5000)
    consent = pd.Series(True, index=scores["customer_id"])
    spec = KINDS["COMPLAINT_CARE"]
    recent = set(scores.loc[scores["complaint_decile"] == 1, "customer_id"].head(20))
    a, out = select_members(scores, spec, MONTH, deciles=(1,), consent=consent, recently_contacted=recent)
    b, _ = select_members(scores, spec, MONTH, deciles=(1,), consent=consent, recently_contacted=recent)
    pd.testing.assert_frame_equal(a, b)
    assert out["contacted_recently"] == 20 and not a["customer_id"].isin(recent).any()
    share = (a["arm"] == "control").mean()
    assert 0.06 < share < 0.14
    none, _ = select_members(scores, spec, MONTH, deciles=(1,), consent=consent, control_share=0.0)
    assert (none["arm"] == "treatment").all()
    with pytest.raises(ValueError):
        select_members(scores, spec, MONTH, deciles=(1,), consent=consent, control_share=1.0)


@settings(max_examples=200, deadline=None)
@given(customer=st.integers(1, 2**62), kind=st.sampled_from(sorted(KINDS)))
def test_control_draw_is_uniform_and_stable(customer: int, kind: str) -> None:
    u = control_draw(f"{kind}:2023-09", customer)
    assert 0 <= u < 1 and u == control_draw(f"{kind}:2023-09", customer)
    assert message_key(kind, MONTH, customer) == f"voc:{kind}:2023-09:{customer}"


def test_outcomes_are_judged_in_the_month_after_the_scores() -> None:
    assert outcome_window(MONTH) == (date(2023, 10, 1), date(2023, 11, 1))
    labels = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "churned": [True, True, False, True],
            "churned_on": pd.to_datetime(["2023-10-15", "2023-09-20", None, "2023-11-01"]),
        }
    )
    got = outcomes_from_labels(labels, "churn", MONTH, [1, 2, 3, 4, 5])
    assert got[0] == (1, True, date(2023, 10, 15))
    assert got[1:] == [(c, False, None) for c in (2, 3, 4, 5)]


def test_effect_per_arm() -> None:
    members = pd.DataFrame(
        {
            "customer_id": range(8),
            "arm": ["treatment"] * 5 + ["control"] * 3,
            "outcome": [True, False, False, False, None, True, True, False],
        }
    )
    r = effect(members, advertising_conversion=False)
    assert r["treatment"] == {"members": 5, "with_outcome": 4, "events": 1, "rate": 0.25}
    assert r["control"]["rate"] == pytest.approx(2 / 3)
    assert r["effect"] == pytest.approx(2 / 3 - 0.25, abs=1e-4)
    assert effect(members, advertising_conversion=True)["effect"] == pytest.approx(0.25 - 2 / 3, abs=1e-4)
    empty = effect(members.assign(outcome=None), advertising_conversion=False)
    assert empty["effect"] is None
