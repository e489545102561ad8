"""Segment grades: exactly 20% per grade among members and 50% among the others, ties broken by
customer id, usage measured per target group on the right cards."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cardwise.marketing.catalog import CATALOG_PATH, load_catalog, parse_catalog
from cardwise.marketing.segments import SEGMENT_GRADES

MONTH = date(2023, 9, 1)
WINDOW = date(2023, 7, 1)


def run_grades(holdings: pd.DataFrame, spend: pd.DataFrame, sole: frozenset[int] = frozenset()) -> pd.DataFrame:
    con = duckdb.connect()
    catalog = load_catalog()
    con.register("segment_rules", catalog.segment_rules())
    con.register("grade_scores", catalog.grade_score_table())
    customers = pd.DataFrame(
        {"customer_id": holdings["customer_id"], "is_sole_proprietor": holdings["customer_id"].isin(sole)}
    )
    con.register("customers", customers)
    con.register("cm_holdings", holdings.assign(month=MONTH))
    con.register("cm_spend", spend)
    return con.sql(SEGMENT_GRADES.bind(month_start=MONTH, window_start=WINDOW).sql_for("duckdb")).df()


def spend_rows(usage: list[int], category: str = "PET", card_type: str = "credit") -> pd.DataFrame:
    rows = []
    for cid, total in enumerate(usage, start=1):
        if total:
            for m in (date(2023, 7, 1), date(2023, 8, 1), date(2023, 9, 1)):
                rows.append((cid, m, card_type, category, "offline", total, 1, total))
    return pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "month",
            "card_type",
            "category_code",
            "channel",
            "spend_krw",
            "txn_count",
            "max_amount_krw",
        ],
    ).astype({"spend_krw": "int64", "txn_count": "int64", "max_amount_krw": "int64"})


def holders(n: int, credit: bool = True, check: bool = False) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": range(1, n + 1), "credit_cards": int(credit), "check_cards": int(check), "products": 1}
    )


# Usage drawn from a few values so that ties are common; PET members need >= 30,000 a month.
usages = st.lists(
    st.sampled_from([0, 10_000, 29_999, 30_000, 50_000, 50_000, 120_000, 400_000]), min_size=1, max_size=60
)


@settings(max_examples=60, deadline=None)
@given(usages)
def test_grades_split_members_in_fifths_and_others_in_halves(usage: list[int]) -> None:
    g = run_grades(holders(len(usage)), spend_rows(usage))
    pets = g[(g["segment_code"] == "PETS") & (g["target_group"] == "credit")]
    assert len(pets) == len(usage)
    members = pets[pets["in_segment"]]
    others = pets[~pets["in_segment"]]
    assert set(members["grade"]) <= {1, 2, 3, 4, 5}
    assert set(others["grade"]) <= {6, 7}
    assert (members["avg_usage_krw"] >= 30_000).all()
    for part, grades in ((members, range(1, 6)), (others, (6, 7))):
        n = len(part)
        sizes = [int((part["grade"] == k).sum()) for k in grades]
        # Each grade holds n / 5 (or n / 2) customers, exactly when it divides, else within one.
        assert all(n // len(sizes) <= s <= -(-n // len(sizes)) for s in sizes), sizes
        if n % len(sizes) == 0:
            assert len(set(sizes)) == 1
        # Higher usage never gets a worse grade.
        by_grade = part.groupby("grade")["avg_usage_krw"]
        lows, highs = by_grade.min(), by_grade.max()
        for a, b in zip(list(grades)[:-1], list(grades)[1:], strict=True):
            if a in lows.index and b in highs.index:
                assert lows[a] >= highs[b]
    scores = load_catalog().grade_scores
    assert (pets["score"] == pets["grade"].map(scores)).all()


@settings(max_examples=25, deadline=None)
@given(usages)
def test_ties_are_broken_the_same_way_whatever_the_row_order(usage: list[int]) -> None:
    spend = spend_rows(usage)
    shuffled = spend.sample(frac=1.0, random_state=len(usage)).reset_index(drop=True)
    a = run_grades(holders(len(usage)), spend).sort_values(["target_group", "segment_code", "customer_id"])
    b = run_grades(holders(len(usage)), shuffled).sort_values(["target_group", "segment_code", "customer_id"])
    assert a["grade"].tolist() == b["grade"].tolist()


def test_ten_members_give_two_per_grade_with_ties_by_customer_id() -> None:
    g = run_grades(holders(10), spend_rows([50_000] * 10))
    pets = g[(g["segment_code"] == "PETS") & (g["target_group"] == "credit")].sort_values("customer_id")
    assert pets["grade"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_target_groups_measure_their_own_cards() -> None:
    # Customer 1 has both cards and spends on pets with the check card only; customer 2 credit only.
    hold = pd.DataFrame({"customer_id": [1, 2], "credit_cards": [1, 1], "check_cards": [1, 0], "products": [2, 1]})
    spend = pd.concat([spend_rows([60_000], card_type="check"), spend_rows([0, 60_000], card_type="credit")])
    g = run_grades(hold, spend, sole=frozenset({2}))
    pets = g[g["segment_code"] == "PETS"].set_index(["target_group", "customer_id"])
    assert set(pets.index.get_level_values(0)) == {"credit", "check", "simple_pay", "sole_proprietor"}
    assert not pets.loc[("credit", 1), "in_segment"]  # check-card spending does not count for credit
    assert pets.loc[("check", 1), "in_segment"]
    assert pets.loc[("simple_pay", 1), "in_segment"]  # both cards count
    assert pets.loc[("credit", 2), "in_segment"]
    assert ("check", 2) not in pets.index  # no check card: not in the check target
    assert ("simple_pay", 2) not in pets.index
    assert pets.loc[("sole_proprietor", 2), "in_segment"]
    assert ("sole_proprietor", 1) not in pets.index


def test_travel_counts_overseas_spending_once() -> None:
    spend = pd.concat([spend_rows([100_000], category="AIRLINE", card_type="credit").assign(channel="overseas")])
    g = run_grades(holders(1), spend)
    travel = g[(g["segment_code"] == "OVERSEAS_TRAVEL") & (g["target_group"] == "credit")]
    assert travel["avg_usage_krw"].tolist() == [100_000]  # matched by category and channel, counted once


def test_catalog_has_at_least_fifteen_segments_in_both_languages() -> None:
    cat = load_catalog()
    assert len(cat.segments) >= 15
    assert all(s.name_ko and s.name_en for s in cat.segments)
    for code in (
        "BEAUTY_CARE",
        "CAR_CARE",
        "OVERSEAS_TRAVEL",
        "CHILDCARE",
        "PETS",
        "GOLF",
        "ONLINE_SHOPPING",
        "COFFEE_CAFE",
    ):
        cat.segment(code)


def test_a_bad_catalog_is_refused_with_a_reason() -> None:
    text = CATALOG_PATH.read_text(encoding="utf-8").replace("categories: [PET]", "categories: [PETS_AND_MORE]")
    try:
        parse_catalog(text)
    except ValueError as exc:
        assert "PETS_AND_MORE" in str(exc)
    else:
        raise AssertionError("an unknown category must be refused")
    bad_scores = CATALOG_PATH.read_text(encoding="utf-8").replace("6: 30, 7: 10", "6: 30, 7: 40")
    try:
        parse_catalog(bad_scores)
    except ValueError as exc:
        assert "fall" in str(exc)
    else:
        raise AssertionError("scores must fall with the grade")
