"""Unstructured data keyed to the same customers: call transcripts, transfer memos, app events.

Texts are rendered as a speech-to-text engine would deliver them (names, phone and card numbers
included) and masked before they leave this module, so no raw text is ever written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cardwise.lake.schema import APP_EVENT_TYPES, DEVICES, FRAUD_SCENARIOS, LIFE_EVENTS, TOPICS
from cardwise.privacy.masking import mask_pii
from cardwise.privacy.pan import luhn_check_digit
from cardwise.synth.outcomes import LifeEvents, Outcomes
from cardwise.synth.population import Population
from cardwise.synth.sampling import hash_uniform, row_cdf, sample_rows
from cardwise.synth.text import MEMO_KINDS, render_memo, render_transcript
from cardwise.synth.transactions import US_PER_DAY, US_PER_HOUR, Calendar, TransactionRows
from cardwise.synth.world import World

_BASE_TOPICS = {
    "benefit_question": 0.30,
    "payment_inquiry": 0.24,
    "limit_increase": 0.12,
    "address_change": 0.07,
    "complaint": 0.10,
    "cancellation_intent": 0.05,
    "card_loan_inquiry": 0.08,
    "lost_card": 0.04,
}
assert set(_BASE_TOPICS) == set(TOPICS)
_TOPIC_MINUTES = {
    "complaint": 9.0,
    "cancellation_intent": 7.0,
    "card_loan_inquiry": 6.0,
    "lost_card": 4.0,
    "benefit_question": 5.0,
    "payment_inquiry": 5.0,
    "limit_increase": 4.0,
    "address_change": 3.0,
}


@dataclass
class Identity:
    name: list[str]
    phone: list[str]
    email: list[str]


@dataclass
class Transcripts:
    customer: npt.NDArray[np.int64]
    started_us: npt.NDArray[np.int64]
    duration_s: npt.NDArray[np.int32]
    chat: npt.NDArray[np.bool_]
    topic: npt.NDArray[np.int64]
    text: list[str]


@dataclass
class Memos:
    customer: npt.NDArray[np.int64]
    ts: npt.NDArray[np.int64]
    incoming: npt.NDArray[np.bool_]
    amount: npt.NDArray[np.int64]
    kind: list[str]
    memo: list[str]


@dataclass
class AppEvents:
    customer: npt.NDArray[np.int64]
    ts: npt.NDArray[np.int64]
    event_type: npt.NDArray[np.int64]
    page: npt.NDArray[np.int64]  # index into PAGES, -1 for none
    session: npt.NDArray[np.int64]
    cookie: npt.NDArray[np.uint64]
    device: npt.NDArray[np.int64]
    ip: npt.NDArray[np.int64]  # index into the documentation address space


PAGES = (
    "/home",
    "/cards",
    "/cards/benefits",
    "/payments",
    "/statements",
    "/events",
    "/loan",
    "/loan/apply",
    "/cards/cancel",
    "/family",
    "/safety",
    "/points",
)
_DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")


def ip_strings(ip: npt.NDArray[np.int64]) -> list[str]:
    """Addresses from the documentation ranges only (RFC 5737): never a real client's."""
    return [f"{_DOC_NETS[i // 254]}{i % 254 + 1}" for i in ip.tolist()]


def _window(
    rng: np.random.Generator, anchor: npt.NDArray[np.datetime64], days_before: int, k: int
) -> npt.NDArray[np.int64]:
    base = anchor.astype("datetime64[us]").astype(np.int64)
    return base - rng.integers(0, days_before, k) * US_PER_DAY + rng.integers(9, 18, k) * US_PER_HOUR


def _fake_pan(rng: np.random.Generator) -> str:
    partial = "9440" + "".join(map(str, rng.integers(0, 10, 11)))
    return partial + str(luhn_check_digit(partial))


def generate_transcripts(
    rng: np.random.Generator,
    *,
    world: World,
    pop: Population,
    outcomes: Outcomes,
    events: LifeEvents,
    fraud: TransactionRows,
    identity: Identity,
    cal: Calendar,
    rate: float,
) -> Transcripts:
    start_us = int(cal.month_start_us[0])
    end_us = int(cal.month_start_us[-1] + cal.month_days[-1] * US_PER_DAY)
    n = pop.n
    parts_c: list[npt.NDArray[np.int64]] = []
    parts_t: list[npt.NDArray[np.int64]] = []
    parts_ts: list[npt.NDArray[np.int64]] = []

    def add(cust: npt.NDArray[np.int64], topic: str, ts: npt.NDArray[np.int64]) -> None:
        parts_c.append(cust.astype(np.int64))
        parts_t.append(np.full(len(cust), TOPICS.index(topic), dtype=np.int64))
        parts_ts.append(ts.astype(np.int64))

    # Everyday calls: older customers phone more.
    base = rng.poisson(rate * np.array([0.7, 0.8, 0.9, 1.1, 1.3, 1.4])[pop.age_band])
    cust = np.repeat(np.arange(n), base)
    topics = rng.choice(len(TOPICS), size=len(cust), p=[_BASE_TOPICS[t] for t in TOPICS])
    parts_c.append(cust)
    parts_t.append(topics.astype(np.int64))
    parts_ts.append(start_us + (rng.random(len(cust)) * (end_us - start_us)).astype(np.int64))

    # Calls that lead up to an outcome: the text signal the risk models should find.
    def lead_up(
        flag: npt.NDArray[np.bool_], when: npt.NDArray[np.datetime64], topic: str, lam: float, days: int
    ) -> None:
        k = rng.poisson(lam, n) * flag
        c = np.repeat(np.arange(n), k)
        add(c, topic, _window(rng, when[c], days, len(c)))

    lead_up(outcomes.complained, outcomes.complained_on, "complaint", 1.3 * rate / 1.2, 90)
    lead_up(outcomes.churned, outcomes.churned_on, "cancellation_intent", 0.9 * rate / 1.2, 60)
    lead_up(outcomes.churned, outcomes.churned_on, "complaint", 0.4 * rate / 1.2, 120)
    lead_up(outcomes.card_loan, outcomes.card_loan_on, "card_loan_inquiry", 1.1 * rate / 1.2, 90)
    lead_up(outcomes.delinquent, outcomes.delinquent_on, "payment_inquiry", 0.9 * rate / 1.2, 90)
    for trait_topic, trait in (("complaint", pop.dissatisfaction), ("card_loan_inquiry", pop.stress)):
        k = rng.poisson(0.3 * rate / 1.2 * np.clip(trait, 0, None))
        c = np.repeat(np.arange(n), k)
        add(c, trait_topic, start_us + (rng.random(len(c)) * (end_us - start_us)).astype(np.int64))
    movers = np.flatnonzero((events.kind == LIFE_EVENTS.index("moving")) & (rng.random(n) < 0.6))
    add(
        movers,
        "address_change",
        events.date[movers].astype("datetime64[us]").astype(np.int64)
        + rng.integers(1, 20, len(movers)) * US_PER_DAY
        + 10 * US_PER_HOUR,
    )
    burst = fraud.fraud == FRAUD_SCENARIOS.index("lost_stolen_burst")
    victims, first = np.unique(fraud.customer[burst], return_index=True)
    calls = rng.random(len(victims)) < 0.6
    add(
        victims[calls], "lost_card", fraud.ts[burst][first][calls] + rng.integers(1, 36, int(calls.sum())) * US_PER_HOUR
    )

    customer = np.concatenate(parts_c)
    topic = np.concatenate(parts_t)
    ts = np.concatenate(parts_ts)
    ok = (ts >= start_us) & (ts < end_us)
    customer, topic, ts = customer[ok], topic[ok], ts[ok]
    order = np.lexsort((customer, ts))
    customer, topic, ts = customer[order], topic[order], ts[order]
    minutes = np.array([_TOPIC_MINUTES[t] for t in TOPICS])[topic]
    duration = np.clip(rng.lognormal(np.log(minutes * 60), 0.4), 30, 3600).astype(np.int32)
    chat = rng.random(len(customer)) < np.where(pop.age_band[customer] <= 1, 0.3, 0.08)
    texts: list[str] = []
    for c, t in zip(customer.tolist(), topic.tolist(), strict=True):
        raw = render_transcript(
            rng,
            TOPICS[t],
            customer_name=identity.name[c],
            phone=identity.phone[c],
            card_number=_fake_pan(rng),
            category_name_ko=world.categories.categories[int(rng.integers(0, world.n_categories))].name_ko,
            amount_krw=int(rng.integers(1, 300)) * 1000,
        )
        texts.append(mask_pii(raw))
    return Transcripts(customer=customer, started_us=ts, duration_s=duration, chat=chat, topic=topic, text=texts)


_MEMO_WEIGHTS = {
    "rent": 0.5,
    "allowance": 1.0,
    "utility": 1.0,
    "loan_interest": 0.2,
    "urgent_loan": 0.05,
    "gift_wedding": 0.3,
    "gift_birth": 0.1,
    "dues": 0.6,
    "salary": 1.0,
    "misc": 2.0,
    "tuition": 0.1,
}
_MEMO_AMOUNT = {
    "rent": 550_000,
    "allowance": 200_000,
    "utility": 150_000,
    "loan_interest": 300_000,
    "urgent_loan": 1_000_000,
    "gift_wedding": 100_000,
    "gift_birth": 100_000,
    "dues": 50_000,
    "salary": 3_000_000,
    "misc": 20_000,
    "tuition": 300_000,
}


def generate_memos(
    rng: np.random.Generator,
    *,
    pop: Population,
    events: LifeEvents,
    identity: Identity,
    cal: Calendar,
    rate_per_month: float,
    active: npt.NDArray[np.bool_],
) -> Memos:
    assert set(_MEMO_WEIGHTS) <= set(MEMO_KINDS), "memo kinds out of step with the text module"
    kinds = tuple(_MEMO_WEIGHTS)
    n = pop.n
    w = np.tile(np.array([_MEMO_WEIGHTS[k] for k in kinds]), (n, 1))
    col = {k: i for i, k in enumerate(kinds)}
    single_young = (pop.age < 40) & (pop.marital == 0)
    w[:, col["rent"]] *= np.where(single_young, 4.0, 0.6)
    stress = np.clip(pop.stress, 0, None)
    w[:, col["loan_interest"]] += 1.2 * stress
    w[:, col["urgent_loan"]] += 0.6 * np.clip(pop.stress - 0.5, 0, None)
    w[:, col["tuition"]] *= np.where(pop.young_children, 30.0, 1.0)
    w[:, col["gift_birth"]] *= np.where(events.kind == LIFE_EVENTS.index("childbirth"), 20.0, 1.0)
    w[:, col["salary"]] *= np.where(np.isin(pop.occupation, (0, 1, 2, 4)), 1.5, 0.3)
    months_active = active.sum(axis=1)
    counts = rng.poisson(rate_per_month * months_active)
    customer = np.repeat(np.arange(n), counts)
    kind = sample_rows(row_cdf(w), customer, rng.random(len(customer)))
    # A memo falls in one of the customer's active months.
    never_active = ~np.asarray(active.any(axis=1))
    act_cdf = row_cdf(active.astype(np.float64) + 1e-12 * never_active[:, None])
    month = sample_rows(act_cdf, customer, rng.random(len(customer)))
    day = (rng.random(len(customer)) * cal.month_days[month]).astype(np.int64)
    ts = (
        cal.month_start_us[month]
        + day * US_PER_DAY
        + rng.integers(7, 24, len(customer)) * US_PER_HOUR
        + rng.integers(0, 3600, len(customer)) * 10**6
    )
    order = np.lexsort((customer, ts))
    customer, kind, ts, month = customer[order], kind[order], ts[order], month[order]
    base = np.array([_MEMO_AMOUNT[k] for k in kinds])[kind]
    amount = (np.round(base * rng.lognormal(0, 0.45, len(kind)) / 1000) * 1000).astype(np.int64)
    amount = np.maximum(amount, 1000)
    incoming = np.where(
        kind == col["salary"],
        True,
        np.where(np.isin(kind, (col["misc"], col["urgent_loan"])), rng.random(len(kind)) < 0.5, False),
    )
    memos: list[str] = []
    kind_names: list[str] = []
    for c, k, m in zip(customer.tolist(), kind.tolist(), cal.month_number[month].tolist(), strict=True):
        name = kinds[k]
        counterpart = identity.name[(c * 7919 + k) % len(identity.name)]
        memos.append(mask_pii(render_memo(rng, name, counterpart_name=counterpart, month=int(m))))
        kind_names.append(name)
    return Memos(customer=customer, ts=ts, incoming=incoming, amount=amount, kind=kind_names, memo=memos)


def generate_app_events(
    rng: np.random.Generator,
    *,
    world: World,
    pop: Population,
    outcomes: Outcomes,
    cal: Calendar,
    rate_per_month: float,
    active: npt.NDArray[np.bool_],
) -> AppEvents:
    n = pop.n
    lam = rate_per_month * pop.digital[:, None] * active  # N x M
    sessions = rng.poisson(lam)
    s_customer = np.repeat(np.arange(n), sessions.sum(axis=1))
    s_month = np.tile(np.arange(cal.n_months), n).repeat(sessions.ravel())
    s_n = len(s_customer)
    day = (rng.random(s_n) * cal.month_days[s_month]).astype(np.int64)
    online_cdf = row_cdf(np.array([world.categories.hour_profiles["online"]]))
    hour = sample_rows(online_cdf, np.zeros(s_n, dtype=np.int64), rng.random(s_n))
    s_start = cal.month_start_us[s_month] + day * US_PER_DAY + hour * US_PER_HOUR + rng.integers(0, 3600, s_n) * 10**6
    main_device = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    device = np.where(rng.random(s_n) < 0.85, main_device[s_customer], rng.integers(0, 3, s_n))
    home_ip = (hash_uniform(np.arange(n), 17) * 762).astype(np.int64)
    ip = np.where(rng.random(s_n) < 0.8, home_ip[s_customer], rng.integers(0, 762, s_n))

    # Pages: money worries lead to the loan pages, a coming churn to the cancel page.
    w = np.ones((s_n, len(PAGES)))
    pg = {p: i for i, p in enumerate(PAGES)}
    w[:, pg["/home"]] = 3.0
    w[:, pg["/payments"]] = 2.0
    stress = np.clip(pop.stress[s_customer], 0, None)
    w[:, pg["/loan"]] = 0.3 + 1.5 * stress
    w[:, pg["/loan/apply"]] = 0.05 + 0.5 * stress
    churn_us = outcomes.churned_on.astype("datetime64[us]").astype(np.int64)
    near_churn = ~np.isnat(outcomes.churned_on[s_customer]) & (churn_us[s_customer] - s_start < 60 * US_PER_DAY)
    w[:, pg["/cards/cancel"]] = np.where(near_churn, 2.0, 0.05)
    w[:, pg["/family"]] = np.where(pop.age[s_customer] >= 50, 0.8, 0.3)

    fails = np.where(rng.random(s_n) < 0.04 + 0.03 * pop.age_band[s_customer], rng.integers(1, 3, s_n), 0)
    views = 1 + rng.poisson(2.5, s_n)
    logout = rng.random(s_n) < 0.55
    per = fails + 1 + views + logout
    session = np.repeat(np.arange(s_n), per)
    pos = np.arange(len(session)) - np.repeat(np.cumsum(per) - per, per)
    f_rep, v_rep = np.repeat(fails, per), np.repeat(views, per)
    etype = np.where(
        pos < f_rep,
        APP_EVENT_TYPES.index("failed_login"),
        np.where(
            pos == f_rep,
            APP_EVENT_TYPES.index("login"),
            np.where(pos <= f_rep + v_rep, APP_EVENT_TYPES.index("page_view"), APP_EVENT_TYPES.index("logout")),
        ),
    )
    is_view = etype == APP_EVENT_TYPES.index("page_view")
    page = np.full(len(session), -1, dtype=np.int64)
    page[is_view] = sample_rows(row_cdf(w), session[is_view], rng.random(int(is_view.sum())))
    ts = s_start[session] + pos * 45_000_000 + rng.integers(0, 30_000_000, len(session))
    e_customer = s_customer[session]
    e_device = device[session]
    cookie = (hash_uniform(e_customer, e_device, 99) * 2**52).astype(np.uint64)

    # Credential stuffing against a few accounts: bursts of failed logins from many addresses.
    victims = np.flatnonzero(rng.random(n) < 0.003)
    k = rng.integers(20, 61, len(victims))
    a_customer = np.repeat(victims, k)
    a_start = cal.month_start_us[0] + (rng.random(len(victims)) * (cal.month_days.sum() - 1) * US_PER_DAY).astype(
        np.int64
    )
    a_ts = np.repeat(a_start, k) + rng.integers(0, 600, len(a_customer)) * 10**6
    a_session = s_n + np.arange(len(a_customer))
    customer = np.concatenate([e_customer, a_customer])
    return AppEvents(
        customer=customer,
        ts=np.concatenate([ts, a_ts]),
        event_type=np.concatenate([etype, np.full(len(a_customer), APP_EVENT_TYPES.index("failed_login"))]),
        page=np.concatenate([page, np.full(len(a_customer), -1)]),
        session=np.concatenate([session, a_session]),
        cookie=np.concatenate([cookie, (hash_uniform(a_session, 7) * 2**52).astype(np.uint64)]),
        device=np.concatenate([e_device, np.full(len(a_customer), DEVICES.index("web"))]),
        ip=np.concatenate([ip[session], rng.integers(0, 762, len(a_customer))]),
    )
