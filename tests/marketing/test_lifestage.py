"""Life stage rules: order, evidence, and properties over any customer."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from cardwise.marketing.catalog import load_catalog
from cardwise.marketing.lifestage import LifeStageInput, decide

RULES = load_catalog().life_stage


def person(age: int, marital: str = "single", share: float = 0.0, **kw: date | None) -> LifeStageInput:
    return LifeStageInput(
        customer_id=1,
        age=age,
        marital_status=marital,
        occupation="office_worker",
        childcare_share=share,
        marriage_on=kw.get("marriage_on"),
        childbirth_on=kw.get("childbirth_on"),
    )


def test_the_seed_example_is_marriageable_and_a_detected_marriage_makes_a_newlywed() -> None:
    assert decide(person(31), RULES)[0] == "MARRIAGEABLE"
    stage, evidence = decide(person(31, marriage_on=date(2023, 5, 1)), RULES)
    assert stage == "NEWLYWED" and any(e["code"] == "marriage" for e in evidence)


def test_each_stage() -> None:
    assert decide(person(24), RULES)[0] == "EARLY_CAREER"
    assert decide(person(38, "married", share=0.08), RULES)[0] == "PARENTING"
    assert decide(person(33, "married", childbirth_on=date(2023, 6, 1)), RULES)[0] == "PARENTING"
    assert decide(person(45, "married"), RULES)[0] == "MIDDLE_AGE"
    assert decide(person(58, "married"), RULES)[0] == "PRE_RETIREMENT"
    assert decide(person(70, "widowed"), RULES)[0] == "SENIOR"


@given(
    st.integers(20, 90),
    st.sampled_from(["single", "married", "divorced", "widowed"]),
    st.floats(0, 1),
    st.booleans(),
    st.booleans(),
)
def test_every_customer_gets_one_known_stage_with_evidence(
    age: int, marital: str, share: float, married_now: bool, birth: bool
) -> None:
    stage, evidence = decide(
        person(
            age,
            marital,
            share,
            marriage_on=date(2023, 5, 1) if married_now else None,
            childbirth_on=date(2023, 6, 1) if birth else None,
        ),
        RULES,
    )
    assert stage in {s.code for s in RULES.stages}
    assert evidence and evidence[0]["code"] == "age"
    if age >= 65:
        assert stage == "SENIOR"
    if stage in ("EARLY_CAREER", "MARRIAGEABLE"):
        assert marital != "married" and not married_now
