"""The generated lake's statistics: the designed dependencies are really in the data."""

from __future__ import annotations

import duckdb
import pytest

from cardwise.synth.presets import get_preset


def one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = con.execute(sql).fetchone()
    assert row is not None
    return float(row[0])


def test_ages_are_20_to_80(lake_con: duckdb.DuckDBPyConnection) -> None:
    lo, hi = lake_con.execute("SELECT min(2023 - birth_year), max(2023 - birth_year) FROM customers").fetchone()
    assert lo >= 20 and hi <= 80
    # both ends are populated: not a narrow band
    assert lo <= 22 and hi >= 75


def test_about_three_cards_per_customer(lake_con: duckdb.DuckDBPyConnection) -> None:
    per = one(lake_con, "SELECT count(*) / (SELECT count(*) FROM customers) FROM cards")
    assert 2.7 <= per <= 3.5
    assert (
        one(
            lake_con,
            "SELECT count(*) FROM customers c WHERE NOT EXISTS "
            "(SELECT 1 FROM cards k WHERE k.customer_id = c.customer_id)",
        )
        == 0
    )


def test_transaction_volume_and_period(lake_con: duckdb.DuckDBPyConnection) -> None:
    preset = get_preset("small")
    n = one(lake_con, "SELECT count(*) FROM transactions")
    assert abs(n - preset.target_transactions) / preset.target_transactions < 0.08
    months = one(lake_con, "SELECT count(DISTINCT month) FROM transactions")
    assert months == 13


def _share(con: duckdb.DuckDBPyConnection, codes: tuple[str, ...], where: str) -> float:
    inlist = ", ".join(f"'{c}'" for c in codes)
    return one(
        con,
        f"SELECT avg((category_code IN ({inlist}))::INT) FROM transactions t "
        f"JOIN customers c USING (customer_id) WHERE NOT is_fraud AND {where}",
    )


def test_category_mix_differs_by_age(lake_con: duckdb.DuckDBPyConnection) -> None:
    young, old = "2023 - birth_year < 30", "2023 - birth_year >= 60"
    medical = ("CLINIC", "PHARMACY", "HOSPITAL")
    assert _share(lake_con, medical, old) > 1.8 * _share(lake_con, medical, young)
    youthful = ("CAFE", "CONVENIENCE", "ONLINE_MALL", "CLOTHING")
    assert _share(lake_con, youthful, young) > 1.4 * _share(lake_con, youthful, old)


def test_category_mix_differs_by_gender(lake_con: duckdb.DuckDBPyConnection) -> None:
    beauty = ("COSMETICS", "BEAUTY_SERVICE")
    assert _share(lake_con, beauty, "gender = 'F'") > 2 * _share(lake_con, beauty, "gender = 'M'")
    car = ("GAS_STATION", "CAR_REPAIR")
    assert _share(lake_con, car, "gender = 'M'") > 1.4 * _share(lake_con, car, "gender = 'F'")


def _hour_share(con: duckdb.DuckDBPyConnection, code: str, lo: int, hi: int) -> float:
    return one(
        con,
        f"SELECT avg((hour(ts) BETWEEN {lo} AND {hi})::INT) FROM transactions "
        f"WHERE category_code = '{code}' AND NOT is_fraud",
    )


def test_hour_profile_per_category(lake_con: duckdb.DuckDBPyConnection) -> None:
    # Cafés peak around lunch, bars in the evening, almost nothing happens at 4 am.
    assert _hour_share(lake_con, "CAFE", 11, 14) > 0.3
    assert _hour_share(lake_con, "BAR", 19, 23) > 0.55
    assert _hour_share(lake_con, "KOREAN", 3, 5) < 0.02
    assert _hour_share(lake_con, "BAR", 11, 14) < _hour_share(lake_con, "KOREAN", 11, 14) / 3


def test_older_customers_spend_in_daytime(lake_con: duckdb.DuckDBPyConnection) -> None:
    day = "hour(ts) BETWEEN 10 AND 18"
    old = one(
        lake_con,
        f"SELECT avg(({day})::INT) FROM transactions JOIN customers USING (customer_id) "
        "WHERE 2023 - birth_year >= 65 AND NOT is_fraud AND channel <> 'online'",
    )
    young = one(
        lake_con,
        f"SELECT avg(({day})::INT) FROM transactions JOIN customers USING (customer_id) "
        "WHERE 2023 - birth_year < 40 AND NOT is_fraud AND channel <> 'online'",
    )
    assert old > young + 0.08


def test_weekend_pattern(lake_con: duckdb.DuckDBPyConnection) -> None:
    # Per-day intensity: transit is a weekday habit, dining out a weekend one.
    def ratio(code: str) -> float:
        return one(
            lake_con,
            f"""
            SELECT (count(*) FILTER (WHERE dayofweek(ts) IN (0, 6)) / 2.0)
                 / (count(*) FILTER (WHERE dayofweek(ts) NOT IN (0, 6)) / 5.0)
            FROM transactions WHERE category_code = '{code}' AND NOT is_fraud""",
        )

    assert ratio("TRANSIT") < 0.8
    assert ratio("HYPERMARKET") > 1.1


def test_fraud_rate_and_scenarios(lake_con: duckdb.DuckDBPyConnection) -> None:
    rate = one(lake_con, "SELECT avg(is_fraud::INT) FROM transactions")
    assert 0.001 <= rate <= 0.005
    scenarios = {
        r[0] for r in lake_con.execute("SELECT DISTINCT fraud_scenario FROM transactions WHERE is_fraud").fetchall()
    }
    assert scenarios == {"lost_stolen_burst", "overseas_card_not_present", "unusual_pattern", "amount_spike"}


def test_fraud_looks_unusual(lake_con: duckdb.DuckDBPyConnection) -> None:
    night = "(hour(ts) >= 22 OR hour(ts) <= 5)"
    fraud_night = one(lake_con, f"SELECT avg({night}::INT) FROM transactions WHERE is_fraud")
    normal_night = one(lake_con, f"SELECT avg({night}::INT) FROM transactions WHERE NOT is_fraud")
    assert fraud_night > 2 * normal_night
    overseas = one(
        lake_con,
        "SELECT avg((channel = 'overseas')::INT) FROM transactions WHERE fraud_scenario = 'overseas_card_not_present'",
    )
    assert overseas == 1.0
    # Amount spikes are large for the customer: far above the customer's own median.
    ratio = one(
        lake_con,
        """
        WITH med AS (SELECT customer_id, median(amount_krw) m FROM transactions WHERE NOT is_fraud GROUP BY 1)
        SELECT median(amount_krw / m) FROM transactions JOIN med USING (customer_id)
        WHERE fraud_scenario = 'amount_spike'""",
    )
    assert ratio > 10


def test_churners_fade_before_churn(lake_con: duckdb.DuckDBPyConnection) -> None:
    # Spend in the 3 months before churn against the customer's months before that.
    ratio = one(
        lake_con,
        """
        WITH ch AS (SELECT customer_id, churned_on FROM labels WHERE churned),
        per AS (
          SELECT t.customer_id,
                 sum(amount_krw) FILTER (WHERE t.ts >= ch.churned_on - INTERVAL 90 DAY) / 3.0 AS late,
                 sum(amount_krw) FILTER (WHERE t.ts < ch.churned_on - INTERVAL 90 DAY)
                   / greatest(date_diff('day', DATE '2022-10-01', ch.churned_on - INTERVAL 90 DAY) / 30.4, 1) AS early
          FROM transactions t JOIN ch USING (customer_id) WHERE NOT is_fraud GROUP BY t.customer_id, ch.churned_on)
        SELECT median(late / early) FROM per WHERE early > 0""",
    )
    assert ratio < 0.75
    after = one(
        lake_con,
        "SELECT count(*) FROM transactions t JOIN labels l USING (customer_id) "
        "WHERE l.churned AND t.ts::DATE > l.churned_on AND NOT t.is_fraud",
    )
    assert after == 0


def _topic_lift(con: duckdb.DuckDBPyConnection, label: str, topic: str) -> float:
    """P(label | had a call on topic) / P(label | did not)."""
    return one(
        con,
        f"""
        WITH t AS (SELECT DISTINCT customer_id FROM call_transcripts WHERE topic = '{topic}')
        SELECT avg(l.{label}::INT) FILTER (WHERE t.customer_id IS NOT NULL)
             / avg(l.{label}::INT) FILTER (WHERE t.customer_id IS NULL)
        FROM labels l LEFT JOIN t USING (customer_id)""",
    )


def test_labels_follow_their_drivers(lake_con: duckdb.DuckDBPyConnection) -> None:
    assert _topic_lift(lake_con, "complained", "complaint") > 2
    assert _topic_lift(lake_con, "card_loan", "card_loan_inquiry") > 2
    assert _topic_lift(lake_con, "churned", "cancellation_intent") > 2
    assert _topic_lift(lake_con, "delinquent", "payment_inquiry") > 1.5
    rates = lake_con.execute(
        "SELECT avg(churned::INT), avg(complained::INT), avg(delinquent::INT), avg(card_loan::INT) FROM labels"
    ).fetchone()
    assert all(0.01 < r < 0.25 for r in rates)


def test_life_event_shifts_spending(lake_con: duckdb.DuckDBPyConnection) -> None:
    share = one(
        lake_con,
        """
        WITH ev AS (SELECT customer_id, event_date FROM life_events WHERE event_type = 'car_purchase'),
        s AS (SELECT t.customer_id, t.ts::DATE > ev.event_date + 30 AS after,
                     avg((category_code IN ('GAS_STATION', 'CAR_REPAIR'))::INT) AS fuel
              FROM transactions t JOIN ev USING (customer_id) WHERE NOT is_fraud GROUP BY 1, 2)
        SELECT avg(a.fuel) / avg(b.fuel) FROM s a JOIN s b USING (customer_id) WHERE a.after AND NOT b.after""",
    )
    assert share > 1.5
    cars = one(
        lake_con,
        """SELECT count(*) FROM life_events e JOIN transactions t USING (customer_id)
        WHERE e.event_type = 'car_purchase' AND t.category_code = 'CAR_SALES'
          AND t.ts::DATE BETWEEN e.event_date AND e.event_date + 12""",
    )
    assert cars >= one(lake_con, "SELECT count(*) FROM life_events WHERE event_type = 'car_purchase'")


def test_moving_changes_home_region(lake_con: duckdb.DuckDBPyConnection) -> None:
    moved = one(
        lake_con,
        """
        WITH mv AS (SELECT customer_id, event_date, to_region_code FROM life_events WHERE event_type = 'moving')
        SELECT avg((t.region_code = mv.to_region_code)::INT) FILTER (WHERE t.ts::DATE > mv.event_date + 30)
             - avg((t.region_code = mv.to_region_code)::INT) FILTER (WHERE t.ts::DATE < mv.event_date)
        FROM transactions t JOIN mv USING (customer_id) WHERE t.channel = 'offline' AND NOT t.is_fraud""",
    )
    assert moved > 0.3


def test_households_have_relations_and_shared_region(lake_con: duckdb.DuckDBPyConnection) -> None:
    relations = {r[0] for r in lake_con.execute("SELECT DISTINCT relation_to_head FROM customers").fetchall()}
    assert {"head", "spouse", "child", "parent", "sibling", "grandparent"} <= relations
    mixed = one(
        lake_con,
        "SELECT count(*) FROM (SELECT household_id FROM customers GROUP BY 1 "
        "HAVING count(DISTINCT home_region_code) > 1)",
    )
    assert mixed == 0
    # Parents are older than their children.
    gap = one(
        lake_con,
        """SELECT min(c.birth_year - h.birth_year) FROM customers c
        JOIN customers h ON h.household_id = c.household_id AND h.relation_to_head = 'head'
        WHERE c.relation_to_head = 'child'""",
    )
    assert gap >= 0


def test_target_groups_follow_card_holdings(lake_con: duckdb.DuckDBPyConnection) -> None:
    wrong = one(
        lake_con,
        """
        WITH h AS (SELECT customer_id, bool_or(card_type = 'credit') cr, bool_or(card_type = 'check') ck
                   FROM cards GROUP BY 1)
        SELECT count(*) FROM customers JOIN h USING (customer_id)
        WHERE target_group <> CASE WHEN cr AND ck THEN 'simple_pay' WHEN cr THEN 'credit' ELSE 'check' END""",
    )
    assert wrong == 0
    groups = {r[0] for r in lake_con.execute("SELECT DISTINCT target_group FROM customers").fetchall()}
    assert groups == {"credit", "check", "simple_pay"}


def test_unstructured_data_is_keyed_and_masked(lake_con: duckdb.DuckDBPyConnection) -> None:
    assert one(lake_con, "SELECT count(*) FROM call_transcripts") > 100
    assert one(lake_con, "SELECT count(*) FROM transfer_memos") > 1000
    assert one(lake_con, "SELECT count(DISTINCT topic) FROM call_transcripts") == 8
    assert one(lake_con, "SELECT count(*) FROM app_events WHERE event_type = 'failed_login'") > 0
    # Older customers use the app less.
    per_young = one(
        lake_con,
        "SELECT count(*) / (SELECT count(*) FROM customers WHERE birth_year > 1988) "
        "FROM app_events JOIN customers USING (customer_id) WHERE birth_year > 1988",
    )
    per_old = one(
        lake_con,
        "SELECT count(*) / (SELECT count(*) FROM customers WHERE birth_year <= 1958) "
        "FROM app_events JOIN customers USING (customer_id) WHERE birth_year <= 1958",
    )
    assert per_young > 2 * per_old


@pytest.mark.parametrize("column", ["text"])
def test_no_card_or_resident_numbers_in_texts(lake_con: duckdb.DuckDBPyConnection, column: str) -> None:
    from cardwise.privacy.masking import find_pii

    texts = [r[0] for r in lake_con.execute(f"SELECT {column} FROM call_transcripts").fetchall()]
    texts += [r[0] for r in lake_con.execute("SELECT memo FROM transfer_memos").fetchall()]
    leaks = [t for t in texts if any(m.kind in ("card", "rrn", "phone") for m in find_pii(t))]
    assert leaks == []
