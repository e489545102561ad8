"""How the generated households would fare under a family-bundle policy: who qualifies, by household
type, why the others do not, and the benefits the qualifying ones would get at joining and later.

Each household is taken as one candidate group: its head as representative, everyone else with their
relation to the head, all joining on the report day with verified proofs (the best case a marketing
team would size). The same pure rules as the service decide, so the report and the API never disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from cardwise.family import rules
from cardwise.family.policy import SELF, AgeRule, FamilyPolicy

# The lake's relation to the household head, as a relation to the representative (the head).
RELATION_FROM_LAKE = {
    "head": SELF,
    "spouse": "spouse",
    "unmarried_partner": "unmarried_partner",
    "cohabitant": "cohabitant",
    "parent": "parent",
    "child": "child",
    "sibling": "sibling",
    "grandparent": "grandparent",
    "grandchild": "grandchild",
}
HORIZONS = (0, 1, 3, 5)  # years after joining
THRESHOLDS = (40, 45, 50, 55, 60, 65, 70)  # the age rule's sensitivity

Shape = tuple[tuple[int, str], ...]  # (birth_year, relation) of each member, sorted


@dataclass
class TypeStats:
    households: int = 0
    customers: int = 0
    qualifying: int = 0
    customers_qualifying: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    savings_at_join: Counter[str] = field(default_factory=Counter)


def _load_households(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, Shape]]:
    rows = con.execute(
        """
        SELECT h.household_id, h.household_type, c.birth_year, c.relation_to_head
        FROM households h JOIN customers c ON c.household_id = h.household_id
        ORDER BY h.household_id, c.customer_id
        """
    ).fetchall()
    out: list[tuple[int, str, Shape]] = []
    current: int | None = None
    kind = ""
    members: list[tuple[int, str]] = []
    for household_id, household_type, birth_year, relation in rows:
        if household_id != current:
            if current is not None:
                out.append((current, kind, tuple(sorted(members))))
            current, kind, members = int(household_id), str(household_type), []
        members.append((int(birth_year), RELATION_FROM_LAKE.get(str(relation), str(relation))))
    if current is not None:
        out.append((current, kind, tuple(sorted(members))))
    return out


def _facts(shape: Shape, on: date) -> list[rules.MemberFacts]:
    return [
        rules.MemberFacts(customer_id=i + 1, birth_year=by, relation=rel, joined_on=on, verified_on=on)
        for i, (by, rel) in enumerate(shape)
    ]


def _with_threshold(policy: FamilyPolicy, threshold: int) -> FamilyPolicy:
    return policy.model_copy(update={"age": AgeRule(threshold=threshold)})


def household_report(con: duckdb.DuckDBPyConnection, policy: FamilyPolicy, on: date) -> dict[str, Any]:
    """The report as plain data (JSON-ready): totals, by household type, benefit distributions."""
    households = _load_households(con)
    # Households repeat the same few shapes (ages and relations): each distinct one is evaluated once.
    shapes: Counter[tuple[str, Shape]] = Counter((kind, shape) for _, kind, shape in households)

    def evaluate(p: FamilyPolicy, shape: Shape) -> rules.Eligibility:
        return rules.eligibility(p, _facts(shape, on), on)

    by_type: dict[str, TypeStats] = defaultdict(TypeStats)
    savings: dict[int, Counter[str]] = {y: Counter() for y in HORIZONS}
    discount: dict[int, Counter[str]] = {y: Counter() for y in HORIZONS}
    sums: dict[int, Decimal] = dict.fromkeys(HORIZONS, Decimal(0))
    for (kind, shape), n in shapes.items():
        stats = by_type[kind]
        stats.households += n
        stats.customers += n * len(shape)
        elig = evaluate(policy, shape)
        if not elig.eligible:
            for p in elig.problems:
                stats.reasons[p.code] += n
            continue
        stats.qualifying += n
        stats.customers_qualifying += n * len(shape)
        facts = _facts(shape, on)
        for y in HORIZONS:
            amounts = rules.benefits(policy, facts, on + timedelta(days=365 * y)).amounts
            savings[y][rules.fmt_decimal(amounts.savings_bonus_pp)] += n
            discount[y][rules.fmt_decimal(amounts.card_discount_pct)] += n
            sums[y] += amounts.savings_bonus_pp * n
            if y == 0:
                stats.savings_at_join[rules.fmt_decimal(amounts.savings_bonus_pp)] += n

    total = sum(s.households for s in by_type.values())
    qualifying = sum(s.qualifying for s in by_type.values())
    customers = sum(s.customers for s in by_type.values())
    sensitivity = {}
    for threshold in THRESHOLDS:
        variant = _with_threshold(policy, threshold)
        sensitivity[str(threshold)] = sum(n for (_, shape), n in shapes.items() if evaluate(variant, shape).eligible)

    def _sorted(c: Counter[str]) -> dict[str, int]:
        return {k: c[k] for k in sorted(c, key=Decimal)}

    return {
        "date": on.isoformat(),
        "policy_version": policy.version,
        "age_threshold": policy.age.threshold,
        "assumption": "each household is one group: the head represents it, every member joins that day with "
        "a verified proof",
        "households": total,
        "customers": customers,
        "qualifying_households": qualifying,
        "qualifying_share": round(qualifying / total, 4) if total else 0.0,
        "customers_in_qualifying_households": sum(s.customers_qualifying for s in by_type.values()),
        "by_household_type": {
            kind: {
                "households": s.households,
                "customers": s.customers,
                "qualifying": s.qualifying,
                "qualifying_share": round(s.qualifying / s.households, 4) if s.households else 0.0,
                "not_qualifying_reasons": dict(s.reasons.most_common()),
                "savings_bonus_pp_at_join": _sorted(s.savings_at_join),
            }
            for kind, s in sorted(by_type.items())
        },
        "savings_bonus_pp": {f"year_{y}": _sorted(savings[y]) for y in HORIZONS},
        "card_discount_pct": {f"year_{y}": _sorted(discount[y]) for y in HORIZONS},
        "mean_savings_bonus_pp": {
            f"year_{y}": float(round(sums[y] / qualifying, 3)) if qualifying else 0.0 for y in HORIZONS
        },
        "qualifying_by_age_threshold": sensitivity,
    }
