"""Life events and outcomes (churn, complaint, delinquency, card loan), decided before behaviour.

Deciding them first lets the behaviour generators lead up to them: a churner's spending fades
in the months before, a future card-loan customer calls about card loans, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from cardwise.lake.schema import LIFE_EVENTS, MARITAL_STATUSES
from cardwise.synth.population import Population

NO_EVENT = -1


@dataclass
class LifeEvents:
    kind: npt.NDArray[np.int64]  # index into LIFE_EVENTS, NO_EVENT when none
    date: npt.NDArray[np.datetime64]
    to_region: npt.NDArray[np.int64]  # new home slot after moving, else the old one


@dataclass
class Outcomes:
    churned: npt.NDArray[np.bool_]
    churned_on: npt.NDArray[np.datetime64]
    complained: npt.NDArray[np.bool_]
    complained_on: npt.NDArray[np.datetime64]
    delinquent: npt.NDArray[np.bool_]
    delinquent_on: npt.NDArray[np.datetime64]
    card_loan: npt.NDArray[np.bool_]
    card_loan_on: npt.NDArray[np.datetime64]


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def _dates_between(rng: np.random.Generator, n: int, lo: date, hi: date) -> npt.NDArray[np.datetime64]:
    a, b = np.datetime64(lo, "D"), np.datetime64(hi, "D")
    return a + rng.integers(0, int((b - a).astype(int)) + 1, n).astype("timedelta64[D]")


def decide_life_events(
    rng: np.random.Generator, pop: Population, *, start: date, end: date, region_weights: npt.NDArray[np.float64]
) -> LifeEvents:
    n = pop.n
    married = pop.marital == MARITAL_STATUSES.index("married")
    age = pop.age
    p = np.zeros((n, len(LIFE_EVENTS)))
    p[:, LIFE_EVENTS.index("marriage")] = np.where(~married & (age >= 26) & (age <= 38), 0.07, 0.0)
    p[:, LIFE_EVENTS.index("car_purchase")] = np.where((age >= 25) & (age <= 65), 0.05, 0.01)
    p[:, LIFE_EVENTS.index("moving")] = np.where(age < 45, 0.06, 0.03)
    p[:, LIFE_EVENTS.index("childbirth")] = np.where(married & (age >= 27) & (age <= 42) & pop.is_female, 0.07, 0.0)
    u = rng.random((n, len(LIFE_EVENTS)))
    hit = u < p
    # At most one event per customer keeps the ground truth unambiguous.
    kind = np.where(hit.any(axis=1), np.argmax(hit, axis=1), NO_EVENT).astype(np.int64)
    # Events fall between the 3rd month and the second-to-last one, so before/after are both observable.
    first = (np.datetime64(start, "M") + 2).astype("datetime64[D]")
    last = (np.datetime64(end, "M") - 1).astype("datetime64[D]") - 1
    event_date = _dates_between(rng, n, first.astype(date), last.astype(date))
    # Only customers who were already with us can show a before and an after.
    kind = np.where(pop.joined_on > event_date - 60, NO_EVENT, kind)
    event_date = np.where(kind == NO_EVENT, np.datetime64("NaT"), event_date)
    to_region = pop.home_region.copy()
    movers = np.flatnonzero(kind == LIFE_EVENTS.index("moving"))
    w = region_weights / region_weights.sum()
    new = rng.choice(len(w), size=len(movers), p=w)
    same = new == to_region[movers]
    new[same] = (new[same] + 1) % len(w)
    to_region[movers] = new
    return LifeEvents(kind=kind, date=event_date.astype("datetime64[D]"), to_region=to_region)


def decide_outcomes(
    rng: np.random.Generator, pop: Population, n_cards: npt.NDArray[np.int64], *, start: date, end: date
) -> Outcomes:
    n = pop.n
    tenure_years = (np.datetime64(end, "D") - pop.joined_on).astype(int) / 365.25
    churn_logit = (
        -3.2 + 0.95 * pop.dissatisfaction - 0.35 * np.log1p(tenure_years) + 0.5 * (n_cards == 1) - 0.25 * pop.activity
    )
    complaint_logit = -3.5 + 1.35 * pop.dissatisfaction
    delinquency_logit = -4.1 + 1.45 * pop.stress + 0.4 * (pop.income_band == 1)
    loan_logit = -3.3 + 1.15 * pop.stress + 0.5 * (pop.occupation == 3)  # self-employed need working capital
    churned = rng.random(n) < _sigmoid(churn_logit)
    # Customers who joined late in the period are not allowed to churn within it.
    churned &= pop.joined_on < np.datetime64(start, "D") + 150
    complained = rng.random(n) < _sigmoid(complaint_logit)
    delinquent = rng.random(n) < _sigmoid(delinquency_logit)
    card_loan = rng.random(n) < _sigmoid(loan_logit)
    late = (np.datetime64(end, "M") - 5).astype("datetime64[D]").astype(date)
    nat = np.datetime64("NaT", "D")

    def when(flag: npt.NDArray[np.bool_], lo: date) -> npt.NDArray[np.datetime64]:
        return np.where(flag, _dates_between(rng, n, lo, end), nat).astype("datetime64[D]")

    return Outcomes(
        churned=churned,
        churned_on=when(churned, late),
        complained=complained,
        complained_on=when(complained, late),
        delinquent=delinquent,
        delinquent_on=when(delinquent, late),
        card_loan=card_loan,
        card_loan_on=when(card_loan, late),
    )
