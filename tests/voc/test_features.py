"""The feature definitions: engine-neutral SQL, one driver group and one readable label per feature,
and no ground-truth call topic among the inputs."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import sqlglot

from cardwise.voc.features import (
    DRIVER_GROUPS,
    RFM_FEATURES,
    TEXT_FEATURES,
    TRANSFORMS,
    WITH_TEXT,
    WITHOUT_TEXT,
    feature_label,
    format_value,
)


def test_voc_transforms_transpile_to_spark() -> None:
    for t in TRANSFORMS:
        bound = t.bind(**{p: date(2023, 9, 1) for p in t.params})
        spark = bound.sql_for("spark")
        parsed = sqlglot.parse_one(spark, read="spark")
        assert parsed.named_selects == sqlglot.parse_one(bound.sql, read="duckdb").named_selects


def test_feature_sets() -> None:
    assert len(set(WITH_TEXT)) == len(WITH_TEXT)
    assert set(WITHOUT_TEXT) | set(TEXT_FEATURES) == set(WITH_TEXT)
    assert not set(WITHOUT_TEXT) & set(TEXT_FEATURES)
    assert set(RFM_FEATURES) <= set(WITHOUT_TEXT)
    # the marketing features calls_<topic> come from the lake's ground-truth topic: never an input
    assert not [f for f in WITH_TEXT if f.startswith("calls_") and f not in ("calls_3m", "calls_6m")]


def test_every_feature_is_in_one_driver_group_and_has_a_label() -> None:
    counts = Counter(f for g in DRIVER_GROUPS for f in g.features)
    assert {f for f, n in counts.items() if n != 1} == set()
    assert set(counts) == set(WITH_TEXT)
    for f in WITH_TEXT:
        ko, en = feature_label(f)
        assert ko != f and ko and en  # Korean always; English may equal a plain name ("age")


@pytest.mark.parametrize(
    ("feature", "value", "expected"),
    [
        ("online_share", 0.256, ("26%", "26%")),
        ("spend_krw", 52000.0, ("52,000원", "KRW 52,000")),
        ("married", 1.0, ("예", "yes")),
        ("sentiment_mean_3m", -0.5, ("-0.50", "-0.50")),
        ("calls_3m", 3.0, ("3", "3")),
    ],
)
def test_values_read_as_an_agent_reads_them(feature: str, value: float, expected: tuple[str, str]) -> None:
    assert format_value(feature, value) == expected
