"""Households and customers, with the hidden traits that drive their behaviour.

The traits (activity, lifestyle, dissatisfaction, financial stress …) never reach the lake; only
their consequences do (spending, calls, app use, outcomes), so models have something real to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from cardwise.lake.schema import HOUSEHOLD_TYPES, MARITAL_STATUSES, OCCUPATIONS, RELATIONS

AS_OF_YEAR = 2023  # ages 20-80 are ages in the data's last year
AGE_MIN, AGE_MAX = 20, 80
AGE_BANDS = ("20s", "30s", "40s", "50s", "60s", "70s")

# Card holders by age: a card issuer's book peaks in the 40s-50s and thins out after 70.
_AGE_WEIGHT = {20: 0.8, 30: 1.0, 40: 1.15, 50: 1.15, 60: 0.9, 70: 0.5, 80: 0.5}

# (type, number of customers in it, share of households)
_HOUSEHOLD_SHAPES: tuple[tuple[str, int, float], ...] = (
    ("single", 1, 0.34),
    ("married_couple", 2, 0.22),
    ("unmarried_partners", 2, 0.03),
    ("cohabitants", 2, 0.03),
    ("parent_child", 2, 0.13),
    ("couple_with_child", 3, 0.11),
    ("siblings", 2, 0.07),
    ("three_generations", 3, 0.07),
)
assert tuple(s[0] for s in _HOUSEHOLD_SHAPES) == HOUSEHOLD_TYPES

_OCCUPATION_BY_BAND: dict[str, dict[str, float]] = {
    "20s": {
        "office_worker": 0.50,
        "student": 0.16,
        "service_worker": 0.14,
        "professional": 0.06,
        "self_employed": 0.05,
        "public_servant": 0.04,
        "unemployed": 0.05,
    },
    "30s": {
        "office_worker": 0.52,
        "professional": 0.10,
        "self_employed": 0.12,
        "public_servant": 0.08,
        "service_worker": 0.08,
        "homemaker": 0.08,
        "unemployed": 0.02,
    },
    "40s": {
        "office_worker": 0.45,
        "professional": 0.10,
        "self_employed": 0.18,
        "public_servant": 0.08,
        "service_worker": 0.08,
        "homemaker": 0.10,
        "unemployed": 0.01,
    },
    "50s": {
        "office_worker": 0.36,
        "professional": 0.08,
        "self_employed": 0.24,
        "public_servant": 0.07,
        "service_worker": 0.10,
        "homemaker": 0.12,
        "farmer_fisher": 0.02,
        "unemployed": 0.01,
    },
    "60s": {
        "retired": 0.36,
        "self_employed": 0.22,
        "homemaker": 0.16,
        "service_worker": 0.12,
        "office_worker": 0.07,
        "farmer_fisher": 0.05,
        "professional": 0.02,
    },
    "70s": {"retired": 0.70, "homemaker": 0.14, "self_employed": 0.08, "farmer_fisher": 0.06, "service_worker": 0.02},
}
_INCOME_BASE = {
    "office_worker": 3.0,
    "public_servant": 3.2,
    "professional": 4.3,
    "self_employed": 3.0,
    "service_worker": 2.2,
    "student": 1.0,
    "homemaker": 1.5,
    "retired": 1.6,
    "unemployed": 1.0,
    "farmer_fisher": 2.0,
}


@dataclass
class Population:
    customer_id: npt.NDArray[np.int64]
    birth_year: npt.NDArray[np.int16]
    age: npt.NDArray[np.int64]
    age_band: npt.NDArray[np.int64]  # index into AGE_BANDS
    is_female: npt.NDArray[np.bool_]
    home_region: npt.NDArray[np.int64]  # index into the catalog's home regions
    occupation: npt.NDArray[np.int64]  # index into OCCUPATIONS
    marital: npt.NDArray[np.int64]  # index into MARITAL_STATUSES
    household_id: npt.NDArray[np.int64]
    relation: npt.NDArray[np.int64]  # index into RELATIONS
    income_band: npt.NDArray[np.int64]
    marketing_consent: npt.NDArray[np.bool_]
    preferred_channel: npt.NDArray[np.int64]  # 0 sms, 1 email, 2 push
    joined_on: npt.NDArray[np.datetime64]
    household_type: npt.NDArray[np.int64]  # per household, index into HOUSEHOLD_TYPES
    household_size: npt.NDArray[np.int64]
    household_region: npt.NDArray[np.int64]
    # hidden traits
    activity: npt.NDArray[np.float64]
    spend_level: npt.NDArray[np.float64]
    dissatisfaction: npt.NDArray[np.float64]
    stress: npt.NDArray[np.float64]
    digital: npt.NDArray[np.float64]
    has_car: npt.NDArray[np.bool_]
    has_pet: npt.NDArray[np.bool_]
    golfer: npt.NDArray[np.bool_]
    traveller: npt.NDArray[np.bool_]
    young_children: npt.NDArray[np.bool_]

    @property
    def n(self) -> int:
        return len(self.customer_id)


def _age_distribution() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    ages = np.arange(AGE_MIN, AGE_MAX + 1)
    w = np.array([_AGE_WEIGHT[(int(a) // 10) * 10] for a in ages], dtype=np.float64)
    return ages, w


def sample_ages(rng: np.random.Generator, k: int, lo: int, hi: int) -> npt.NDArray[np.int64]:
    ages, w = _age_distribution()
    keep = (ages >= lo) & (ages <= hi)
    p = w[keep] / w[keep].sum()
    return rng.choice(ages[keep], size=k, p=p).astype(np.int64)


def age_band_of(age: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.clip((age - 20) // 10, 0, 5).astype(np.int64)


def _household_members(
    rng: np.random.Generator, shape: str, k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Ages, female flags, relations and marital statuses (k x size) for k households of a shape."""
    rel = {r: i for i, r in enumerate(RELATIONS)}
    mar = {m: i for i, m in enumerate(MARITAL_STATUSES)}
    clip = lambda a: np.clip(a, AGE_MIN, AGE_MAX).astype(np.int64)  # noqa: E731
    head_female = rng.random(k) < 0.5

    def default_marital(ages: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        u = rng.random(len(ages))
        young = ages < 35
        mid = (ages >= 35) & (ages < 60)
        out = np.full(len(ages), mar["married"])
        out[young & (u < 0.88)] = mar["single"]
        out[mid & (u < 0.33)] = mar["single"]
        out[mid & (u >= 0.33) & (u < 0.50)] = mar["divorced"]
        out[mid & (u >= 0.50) & (u < 0.55)] = mar["widowed"]
        old = ages >= 60
        out[old & (u < 0.35)] = mar["widowed"]
        out[old & (u >= 0.35) & (u < 0.45)] = mar["divorced"]
        out[old & (u >= 0.45) & (u < 0.50)] = mar["single"]
        return out

    if shape == "single":
        a = sample_ages(rng, k, 20, 80)
        return a[:, None], head_female[:, None], np.full((k, 1), rel["head"]), default_marital(a)[:, None]
    if shape in ("married_couple", "unmarried_partners"):
        married = shape == "married_couple"
        a = sample_ages(rng, k, 26 if married else 23, 80 if married else 65)
        b = clip(a + np.round(rng.normal(-1.0, 3.0, k)))
        same_sex = (~np.full(k, married)) & (rng.random(k) < 0.08)
        fem = np.stack([head_female, np.where(same_sex, head_female, ~head_female)], axis=1)
        relation = np.tile([rel["head"], rel["spouse"] if married else rel["unmarried_partner"]], (k, 1))
        if married:
            status = np.full((k, 2), mar["married"])
        else:
            status = np.where(rng.random((k, 2)) < 0.15, mar["divorced"], mar["single"])
        return np.stack([a, b], axis=1), fem, relation, status
    if shape == "cohabitants":
        a = sample_ages(rng, k, 20, 80)
        b = clip(a + rng.integers(-20, 21, k))
        ages = np.stack([a, b], axis=1)
        fem = np.stack([head_female, rng.random(k) < 0.5], axis=1)
        relation = np.tile([rel["head"], rel["cohabitant"]], (k, 1))
        status = np.stack([default_marital(a), default_marital(b)], axis=1)
        status[status == mar["married"]] = mar["single"]
        return ages, fem, relation, status
    if shape == "siblings":
        a = sample_ages(rng, k, 20, 75)
        b = clip(a + rng.choice([-1, 1], k) * rng.integers(1, 10, k))
        ages = np.stack([a, b], axis=1)
        fem = rng.random((k, 2)) < 0.5
        relation = np.tile([rel["head"], rel["sibling"]], (k, 1))
        status = np.where(rng.random((k, 2)) < 0.2, mar["divorced"], mar["single"])
        return ages, fem, relation, status
    if shape == "parent_child":
        p = sample_ages(rng, k, 46, 80)
        c = clip(p - rng.integers(23, 37, k))
        parent_is_head = rng.random(k) < 0.5
        ages = np.where(parent_is_head[:, None], np.stack([p, c], 1), np.stack([c, p], 1))
        fem = rng.random((k, 2)) < 0.5
        relation = np.where(
            parent_is_head[:, None], np.array([rel["head"], rel["child"]]), np.array([rel["head"], rel["parent"]])
        )
        u = rng.random(k)
        parent_status = np.where(u < 0.4, mar["married"], np.where(u < 0.75, mar["widowed"], mar["divorced"]))
        child_status = np.full(k, mar["single"])
        status = np.where(
            parent_is_head[:, None],
            np.stack([parent_status, child_status], 1),
            np.stack([child_status, parent_status], 1),
        )
        return ages, fem, relation, status
    if shape == "couple_with_child":
        p = sample_ages(rng, k, 46, 78)
        s = clip(p + rng.integers(-3, 4, k))
        c = clip(p - rng.integers(24, 36, k))
        ages = np.stack([p, s, c], axis=1)
        fem = np.stack([head_female, ~head_female, rng.random(k) < 0.5], axis=1)
        relation = np.tile([rel["head"], rel["spouse"], rel["child"]], (k, 1))
        status = np.stack([np.full(k, mar["married"])] * 2 + [np.full(k, mar["single"])], axis=1)
        return ages, fem, relation, status
    if shape == "three_generations":
        g = sample_ages(rng, k, 66, 80)
        m = clip(g - rng.integers(22, 29, k))
        y = clip(m - rng.integers(20, 29, k))
        young_is_head = rng.random(k) < 0.5
        ages = np.where(young_is_head[:, None], np.stack([y, m, g], 1), np.stack([g, m, y], 1))
        fem = rng.random((k, 3)) < 0.5
        relation = np.where(
            young_is_head[:, None],
            np.array([rel["head"], rel["parent"], rel["grandparent"]]),
            np.array([rel["head"], rel["child"], rel["grandchild"]]),
        )
        g_status = np.where(rng.random(k) < 0.6, mar["widowed"], mar["married"])
        m_status = np.where(rng.random(k) < 0.7, mar["married"], mar["divorced"])
        y_status = np.where(rng.random(k) < 0.85, mar["single"], mar["married"])
        status = np.where(
            young_is_head[:, None],
            np.stack([y_status, m_status, g_status], 1),
            np.stack([g_status, m_status, y_status], 1),
        )
        return ages, fem, relation, status
    raise ValueError(f"unknown household shape {shape}")


def generate_population(
    rng: np.random.Generator,
    n: int,
    *,
    region_weights: npt.NDArray[np.float64],
    start: date,
    end: date,
) -> Population:
    shapes = _HOUSEHOLD_SHAPES
    sizes = np.array([s[1] for s in shapes])
    probs = np.array([s[2] for s in shapes])
    probs = probs / probs.sum()
    n_households = int(n / float(sizes @ probs) * 1.1) + 10
    htype = rng.choice(len(shapes), size=n_households, p=probs)
    hsize = sizes[htype]
    cum = np.cumsum(hsize)
    keep = cum <= n
    htype, hsize = htype[keep], hsize[keep]
    missing = n - int(hsize.sum())
    if missing:  # top up with one-person households
        htype = np.concatenate([htype, np.zeros(missing, dtype=htype.dtype)])
        hsize = np.concatenate([hsize, np.ones(missing, dtype=hsize.dtype)])
    order = rng.permutation(len(htype))
    htype, hsize = htype[order], hsize[order]
    n_h = len(htype)
    offsets = np.concatenate([[0], np.cumsum(hsize)[:-1]])

    age = np.zeros(n, dtype=np.int64)
    female = np.zeros(n, dtype=bool)
    relation = np.zeros(n, dtype=np.int64)
    marital = np.zeros(n, dtype=np.int64)
    for t, (shape, size, _) in enumerate(shapes):
        idx = np.flatnonzero(htype == t)
        if len(idx) == 0:
            continue
        a, f, r, m = _household_members(rng, shape, len(idx))
        for j in range(size):
            pos = offsets[idx] + j
            age[pos], female[pos], relation[pos], marital[pos] = a[:, j], f[:, j], r[:, j], m[:, j]
    household_id = np.repeat(np.arange(1, n_h + 1, dtype=np.int64), hsize)
    household_region = rng.choice(len(region_weights), size=n_h, p=region_weights / region_weights.sum())
    home_region = household_region[household_id - 1]

    band = age_band_of(age)
    occupation = np.zeros(n, dtype=np.int64)
    occ_index = {o: i for i, o in enumerate(OCCUPATIONS)}
    for b, name in enumerate(AGE_BANDS):
        idx = np.flatnonzero(band == b)
        table = _OCCUPATION_BY_BAND[name]
        occupation[idx] = rng.choice(
            [occ_index[o] for o in table], size=len(idx), p=np.array(list(table.values())) / sum(table.values())
        )
    # Homemakers are mostly women in this generation; swap a man's label for office work.
    swap = (occupation == occ_index["homemaker"]) & ~female & (rng.random(n) < 0.85)
    occupation[swap] = np.where(band[swap] >= 4, occ_index["retired"], occ_index["office_worker"])
    income_base = np.array([_INCOME_BASE[o] for o in OCCUPATIONS])[occupation]
    income_band = np.clip(np.round(income_base + rng.normal(0, 0.8, n) - 0.3 * (band == 0)), 1, 5).astype(np.int64)

    # Hidden traits.
    band_activity = np.array([0.9, 1.1, 1.15, 1.05, 0.85, 0.6])[band]
    activity = rng.lognormal(0.0, 0.55, n) * band_activity * (0.8 + 0.1 * income_band)
    spend_level = rng.lognormal(0.0, 0.25, n) * (0.75 + 0.12 * income_band)
    dissatisfaction = rng.normal(0.0, 1.0, n)
    stress = rng.normal(0.0, 1.0, n) + 0.35 * (income_band <= 2) + 0.2 * (band == 0)
    digital = rng.lognormal(0.0, 0.5, n) * np.array([1.0, 0.95, 0.8, 0.55, 0.3, 0.15])[band]
    has_car = rng.random(n) < np.where((age >= 25) & (age <= 70), 0.62, 0.28)
    has_pet = rng.random(n) < 0.22
    golfer = rng.random(n) < np.where((age >= 40) & (income_band >= 3), 0.25, 0.03)
    traveller = rng.random(n) < 0.12 + 0.05 * income_band
    young_children = rng.random(n) < np.where((age >= 30) & (age <= 45) & (marital == 1), 0.55, 0.03)

    # Tenure: most customers joined before the period; some join during it (on the 1st of a month).
    start64 = np.datetime64(start, "D")
    months_in = (end.year - start.year) * 12 + end.month - start.month + 1
    joined_before = start64 - rng.integers(30, 365 * 15, n).astype("timedelta64[D]")
    earliest = np.array([np.datetime64(f"{AS_OF_YEAR - a + 19}-01-01") for a in range(81)], dtype="datetime64[D]")
    joined_before = np.maximum(joined_before, earliest[age])
    new_month = rng.integers(1, months_in - 1, n)
    joined_new = (np.datetime64(start, "M") + new_month.astype("timedelta64[M]")).astype("datetime64[D]")
    joined_on = np.where(rng.random(n) < 0.06, joined_new, joined_before)

    marketing_consent = rng.random(n) < np.where(band <= 1, 0.72, 0.6)
    preferred_channel = np.where(rng.random(n) < 0.55 + 0.07 * band, 0, np.where(rng.random(n) < 0.5, 1, 2))

    return Population(
        customer_id=np.arange(1, n + 1, dtype=np.int64),
        birth_year=(AS_OF_YEAR - age).astype(np.int16),
        age=age,
        age_band=band,
        is_female=female,
        home_region=home_region,
        occupation=occupation,
        marital=marital,
        household_id=household_id,
        relation=relation,
        income_band=income_band,
        marketing_consent=marketing_consent,
        preferred_channel=preferred_channel.astype(np.int64),
        joined_on=joined_on,
        household_type=htype.astype(np.int64),
        household_size=hsize.astype(np.int64),
        household_region=household_region,
        activity=activity,
        spend_level=spend_level,
        dissatisfaction=dissatisfaction,
        stress=stress,
        digital=digital,
        has_car=has_car,
        has_pet=has_pet,
        golfer=golfer,
        traveller=traveller,
        young_children=young_children,
    )
