"""Card transactions: everyday spending, recurring bills, life-event spikes and injected fraud.

Every row is built in three steps, each vectorised over millions of rows: who and when
(customer, timestamp), what (category), then the rest (channel, region, merchant, card, amount)
by :func:`_materialize`, which all four kinds of rows share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from cardwise.lake.schema import FRAUD_SCENARIOS, LIFE_EVENTS
from cardwise.synth.cards import Cards
from cardwise.synth.merchants import Merchants
from cardwise.synth.outcomes import NO_EVENT, LifeEvents, Outcomes
from cardwise.synth.population import Population
from cardwise.synth.sampling import hash_uniform, row_cdf, sample_in_groups, sample_rows
from cardwise.synth.world import CHANNEL_MIXED, CHANNEL_OFFLINE, CHANNEL_ONLINE, World

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000
NO_FRAUD = -1

# Category multipliers after each life event (the "after" profile), and the purchases around it.
_EVENT_SHIFT: dict[str, dict[str, float]] = {
    "marriage": {
        "HYPERMARKET": 1.5,
        "SUPERMARKET": 1.3,
        "FURNITURE": 2.0,
        "BAR": 0.5,
        "KARAOKE": 0.5,
        "HOUSEHOLD": 1.6,
    },
    "car_purchase": {"GAS_STATION": 1.6, "CAR_REPAIR": 1.6, "TRANSIT": 0.5, "TAXI": 0.5},
    "moving": {"INTERIOR": 2.0, "HOUSEHOLD": 1.5, "FURNITURE": 1.5},
    "childbirth": {
        "BABY": 8.0,
        "PHARMACY": 1.6,
        "CLINIC": 1.6,
        "HOSPITAL": 1.5,
        "BAR": 0.3,
        "KARAOKE": 0.3,
        "ONLINE_MALL": 1.4,
        "CAFE": 0.8,
    },
}
_EVENT_SPIKE: dict[str, tuple[tuple[str, int, float], ...]] = {  # (category, count, amount multiplier)
    "marriage": (("FURNITURE", 2, 3.0), ("APPLIANCE", 2, 3.0), ("JEWELRY", 1, 4.0), ("HOTEL", 1, 2.0)),
    "car_purchase": (("CAR_SALES", 1, 2.0), ("CAR_REPAIR", 1, 1.0), ("GAS_STATION", 2, 1.0)),
    "moving": (("INTERIOR", 2, 3.0), ("FURNITURE", 1, 2.0), ("APPLIANCE", 1, 2.0)),
    "childbirth": (("BABY", 4, 2.0), ("HOSPITAL", 2, 2.0)),
}
_FRAUD_ONLINE_CATS = ("ONLINE_MALL", "DIGITAL_CONTENT", "AIRLINE", "DUTY_FREE", "HOTEL", "COSMETICS", "CLOTHING")
_SPIKE_CATS = ("JEWELRY", "APPLIANCE", "DUTY_FREE", "DEPT_STORE")


@dataclass
class TransactionRows:
    ts: npt.NDArray[np.int64]  # microseconds since epoch, local wall-clock
    card: npt.NDArray[np.int64]  # card index
    customer: npt.NDArray[np.int64]
    merchant: npt.NDArray[np.int64]  # merchant index
    category: npt.NDArray[np.int64]
    amount: npt.NDArray[np.int64]
    channel: npt.NDArray[np.int8]  # 0 offline, 1 online, 2 overseas
    card_present: npt.NDArray[np.bool_]
    contactless: npt.NDArray[np.bool_]
    installments: npt.NDArray[np.int8]
    fraud: npt.NDArray[np.int8]  # index into FRAUD_SCENARIOS or NO_FRAUD

    def __len__(self) -> int:
        return len(self.ts)

    @staticmethod
    def concat(parts: list[TransactionRows]) -> TransactionRows:
        return TransactionRows(
            **{f: np.concatenate([getattr(p, f) for p in parts]) for f in TransactionRows.__dataclass_fields__}
        )

    def take(self, idx: npt.NDArray[np.int64]) -> TransactionRows:
        return TransactionRows(**{f: getattr(self, f)[idx] for f in TransactionRows.__dataclass_fields__})


@dataclass
class Calendar:
    start: date
    end: date
    month_start_us: npt.NDArray[np.int64]  # per month index
    month_days: npt.NDArray[np.int64]
    month_number: npt.NDArray[np.int64]  # 1..12
    first_weekday: npt.NDArray[np.int64]  # Monday = 0

    @property
    def n_months(self) -> int:
        return len(self.month_start_us)

    @staticmethod
    def of(start: date, end: date) -> Calendar:
        months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)
        starts = months.astype("datetime64[D]")
        ends = (months + 1).astype("datetime64[D]")
        return Calendar(
            start=start,
            end=end,
            month_start_us=starts.astype("datetime64[us]").astype(np.int64),
            month_days=(ends - starts).astype(np.int64),
            month_number=(months.astype(np.int64) % 12) + 1,
            first_weekday=((starts.astype(np.int64) + 3) % 7),  # 1970-01-01 was a Thursday
        )

    def month_of(self, ts_us: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.clip(np.searchsorted(self.month_start_us, ts_us, side="right") - 1, 0, self.n_months - 1)


@dataclass(frozen=True)
class Scene:
    """What every transaction generator reads: the world, the people in it and their futures."""

    world: World
    pop: Population
    cards: Cards
    merchants: Merchants
    events: LifeEvents
    outcomes: Outcomes
    cal: Calendar
    pref: npt.NDArray[np.float64]  # each customer's category mix (N x C)


def preference_matrix(rng: np.random.Generator, pop: Population, world: World) -> npt.NDArray[np.float64]:
    """Each customer's category mix (N x C): population shares shaped by age, gender and lifestyle."""
    w = world.share[None, :] * world.age_weight[:, pop.age_band].T
    w = w * np.where(pop.is_female[:, None], world.female_weight[None, :], 1.0)
    w = w * rng.gamma(1.5, 1 / 1.5, size=w.shape)  # individual taste
    mult = np.ones_like(w)

    def bump(codes: tuple[str, ...], mask: npt.NDArray[np.bool_], yes: float, no: float) -> None:
        for code in codes:
            j = world.cat(code)
            mult[:, j] *= np.where(mask, yes, no)

    bump(("GAS_STATION", "CAR_REPAIR"), pop.has_car, 1.8, 0.12)
    bump(("PET",), pop.has_pet, 6.0, 0.05)
    bump(("GOLF",), pop.golfer, 8.0, 0.08)
    bump(("AIRLINE", "HOTEL", "DUTY_FREE", "TRAVEL_AGENCY"), pop.traveller, 3.0, 0.6)
    bump(("BABY", "KINDERGARTEN", "ACADEMY"), pop.young_children, 6.0, 0.25)
    # Money worries show up as smaller everyday baskets and more convenience-store and online spend.
    stress = np.clip(pop.stress, -2, 3)
    for code in ("CONVENIENCE", "FASTFOOD"):
        mult[:, world.cat(code)] *= np.exp(0.15 * stress)
    w = w * mult
    w[:, world.recurring] = 0.0
    return w / w.sum(axis=1, keepdims=True)


def _day_cdf(cal: Calendar, world: World) -> npt.NDArray[np.float64]:
    """Day-of-month distribution per (month, category): weekends weighted by the category's factor."""
    c_n = world.n_categories
    days = np.arange(31)
    weekday = (cal.first_weekday[:, None] + days[None, :]) % 7  # M x 31
    weekend = weekday >= 5
    valid = days[None, :] < cal.month_days[:, None]
    w = np.where(weekend[:, None, :], world.weekend[None, :, None], 1.0)  # M x C x 31
    # Paydays (the 10th and 25th) lift spending a little in the days after.
    payday = ((days >= 10) & (days <= 12)) | ((days >= 24) & (days <= 26))
    w = w * np.where(payday, 1.12, 1.0)[None, None, :]
    w = np.where(valid[:, None, :], w, 0.0)
    return row_cdf(w.reshape(cal.n_months * c_n, 31))


def _season(cal: Calendar, world: World) -> npt.NDArray[np.float64]:
    """Category x month seasonality (M x C): year-end spending, summer and holiday travel."""
    s = np.ones((cal.n_months, world.n_categories))
    month = cal.month_number
    s *= np.where(month == 12, 1.12, np.where(np.isin(month, (1, 2)), 0.94, 1.0))[:, None]
    travel = [world.cat(c) for c in ("AIRLINE", "HOTEL", "DUTY_FREE", "TRAVEL_AGENCY")]
    s[:, travel] *= np.where(np.isin(month, (7, 8)), 1.6, np.where(np.isin(month, (1, 12)), 1.3, 0.9))[:, None]
    for code, months in (("FLORIST", (2, 5)), ("DEPT_STORE", (12, 9)), ("CLOTHING", (3, 9, 10))):
        s[:, world.cat(code)] *= np.where(np.isin(month, months), 1.5, 1.0)
    return s


def _fade(pop: Population, outcomes: Outcomes, cal: Calendar) -> npt.NDArray[np.float64]:
    """Per customer and month: 0 before joining and after churning, fading in the months before churn."""
    month_start = cal.month_start_us.astype("datetime64[us]").astype("datetime64[D]")
    joined_month = np.searchsorted(month_start, pop.joined_on, side="right") - 1
    before_join = np.arange(cal.n_months)[None, :] < joined_month[:, None]
    churn = outcomes.churned_on
    has = ~np.isnat(churn)
    cm = np.full(pop.n, 10**6)
    cm[has] = np.searchsorted(month_start, churn[has], side="right") - 1
    rel = np.arange(cal.n_months)[None, :] - cm[:, None]
    fade = np.select([rel <= -4, rel == -3, rel == -2, rel == -1, rel == 0], [1.0, 0.75, 0.5, 0.3, 0.15], 0.0)
    return np.where(before_join, 0.0, fade)


def _activity(pop: Population, outcomes: Outcomes, cal: Calendar) -> npt.NDArray[np.float64]:
    """Relative spending intensity per customer and month (N x M)."""
    return pop.activity[:, None] * _fade(pop, outcomes, cal)


def _materialize(
    rng: np.random.Generator,
    s: Scene,
    *,
    customer: npt.NDArray[np.int64],
    category: npt.NDArray[np.int64],
    ts: npt.NDArray[np.int64],
    card: npt.NDArray[np.int64] | None = None,
    slot: npt.NDArray[np.int64] | None = None,
    force_online: npt.NDArray[np.bool_] | None = None,
    amount_mult: npt.NDArray[np.float64] | None = None,
    favourites: bool = True,
    fraud: int = NO_FRAUD,
) -> TransactionRows:
    world, pop, cards, merchants, events, cal = s.world, s.pop, s.cards, s.merchants, s.events, s.cal
    n = len(customer)
    # Channel: a category is bought offline, online, or either.
    online = np.where(
        world.channel[category] == CHANNEL_ONLINE,
        True,
        np.where(world.channel[category] == CHANNEL_MIXED, rng.random(n) < world.online_share[category], False),
    )
    if force_online is not None:
        online = force_online
    # Where: home region (the new one after moving), elsewhere now and then, abroad for travellers.
    after_move = (events.kind[customer] == LIFE_EVENTS.index("moving")) & (
        ts >= events.date[customer].astype("datetime64[us]").astype(np.int64)
    )
    home = np.where(after_move, events.to_region[customer], pop.home_region[customer])
    if slot is None:
        r_n = len(world.home_codes)
        seoul = world.home_is_seoul[home]
        u = rng.random(n)
        stay = u < np.where(seoul, 0.55, 0.86)
        seoul_w = np.where(world.home_is_seoul, world.home_weight, 0.0)
        other_w = np.where(world.home_is_seoul, 0.0, world.home_weight)
        to_seoul = rng.random(n) < np.where(seoul, 0.78, 0.45)
        pick_seoul = rng.choice(r_n, size=n, p=seoul_w / seoul_w.sum())
        pick_other = rng.choice(r_n, size=n, p=other_w / other_w.sum())
        slot = np.where(stay, home, np.where(to_seoul, pick_seoul, pick_other))
        abroad_p = world.overseas_share[category] * np.where(pop.traveller[customer], 1.8, 0.4)
        abroad = rng.random(n) < abroad_p
        slot = np.where(abroad, world.overseas_slot, slot)
        slot = np.where(online & ~abroad, world.online_slot, slot)
    abroad = slot == world.overseas_slot
    group = category * world.n_slots + slot
    # A group with no merchants (e.g. overseas convenience stores) falls back to the home region.
    empty = merchants.anchor[group] < 0
    if np.any(empty):
        slot = np.where(empty, np.where(world.channel[category] == CHANNEL_ONLINE, world.online_slot, home), slot)
        group = category * world.n_slots + slot
        abroad = slot == world.overseas_slot
    # Which merchant: regulars at a few favourite places, the rest spread by popularity.
    u = rng.random(n)
    if favourites:
        fav = rng.random(n) < np.where(world.channel[category] == CHANNEL_OFFLINE, 0.6, 0.45)
        k = np.searchsorted(np.array([0.6, 0.9, 1.0]), rng.random(n), side="right")
        u = np.where(fav, hash_uniform(customer, category, k, slot), u)
    merchant = sample_in_groups(merchants.group, merchants.weight, group, u)
    month = cal.month_of(ts)
    growth = merchants.trend[merchant] * (month - np.where(merchants.trend[merchant] > 0, cal.n_months - 1, 0))
    open_now = (ts >= merchants.opened_on[merchant].astype("datetime64[us]").astype(np.int64)) & ~(
        ts >= merchants.closed_on[merchant].astype("datetime64[us]").astype(np.int64)
    )
    keep = open_now & (rng.random(n) < np.exp(np.minimum(growth, 0.0)))
    merchant = np.where(keep, merchant, merchants.anchor[group])
    # Which card: the holder's cards by usage, the primary one when a card was not valid then.
    if card is None:
        card = sample_in_groups(cards.customer, cards.weight, customer, rng.random(n))
        issued = cards.issued_on[card].astype("datetime64[us]").astype(np.int64)
        closed = cards.closed_on[card]
        valid = (ts >= issued) & (np.isnat(closed) | (ts < closed.astype("datetime64[us]").astype(np.int64)))
        card = np.where(valid, card, cards.primary_of_customer[customer])
    # How much: log-normal per category, scaled by the customer's spending level.
    z = rng.standard_normal(n)
    amount = world.median[category] * pop.spend_level[customer] * np.exp(world.sigma[category] * z)
    if amount_mult is not None:
        amount = amount * amount_mult
    amount = np.where(amount < 1000, np.round(amount / 10) * 10, np.round(amount / 100) * 100)
    amount = np.clip(amount, 100, 100_000_000).astype(np.int64)
    credit = cards.is_credit[card]
    inst_p = np.where(credit & (amount >= 50_000), np.minimum(0.5, 0.04 + amount / 2_000_000), 0.0)
    inst_p = inst_p * (1 + 0.4 * np.clip(pop.stress[customer], 0, 2))
    inst = rng.random(n) < inst_p
    months = np.array([2, 3, 4, 5, 6, 10, 12], dtype=np.int8)[rng.integers(0, 7, n)]
    installments = np.where(inst, months, 0).astype(np.int8)
    channel = np.where(abroad, 2, np.where(online, 1, 0)).astype(np.int8)
    card_present = ~online
    young = pop.age[customer] < 40
    contactless = (
        card_present & ~abroad & cards.contactless_enabled[card] & (rng.random(n) < np.where(young, 0.45, 0.2))
    )
    return TransactionRows(
        ts=ts.astype(np.int64),
        card=card.astype(np.int64),
        customer=customer.astype(np.int64),
        merchant=merchant.astype(np.int64),
        category=category.astype(np.int64),
        amount=amount.astype(np.int64),
        channel=channel,
        card_present=card_present,
        contactless=contactless,
        installments=installments,
        fraud=np.full(n, fraud, dtype=np.int8),
    )


def _timestamps(
    rng: np.random.Generator,
    cal: Calendar,
    world: World,
    pop: Population,
    customer: npt.NDArray[np.int64],
    month: npt.NDArray[np.int64],
    category: npt.NDArray[np.int64],
    day_cdf: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    n = len(customer)
    day = sample_rows(day_cdf, month * world.n_categories + category, rng.random(n))
    hour = sample_rows(world.hour_cdf_by_band, category * 6 + pop.age_band[customer], rng.random(n))
    within = rng.integers(0, US_PER_HOUR // 1_000_000, n) * 1_000_000
    return cal.month_start_us[month] + day * US_PER_DAY + hour * US_PER_HOUR + within


def generate_everyday(
    rng: np.random.Generator,
    s: Scene,
    *,
    target: int,
) -> TransactionRows:
    world, pop, events, outcomes, cal, pref = s.world, s.pop, s.events, s.outcomes, s.cal, s.pref
    act = _activity(pop, outcomes, cal)  # N x M
    season = _season(cal, world)  # M x C
    # Expected count per customer-month: activity x the season of the customer's own basket.
    basket_season = pref @ season.T  # N x M
    lam = act * basket_season
    lam *= target / lam.sum()
    counts = rng.poisson(lam)
    customer = np.repeat(np.arange(pop.n, dtype=np.int64), counts.sum(axis=1))
    month = np.tile(np.arange(cal.n_months), pop.n).repeat(counts.ravel())
    n = len(customer)
    # Category from the customer's before/after-event profile, reweighted by the month's season.
    after = np.zeros((pop.n, world.n_categories))
    has_event = events.kind != NO_EVENT
    after[:] = pref
    for kind, shift in _EVENT_SHIFT.items():
        idx = np.flatnonzero(events.kind == LIFE_EVENTS.index(kind))
        for code, f in shift.items():
            after[idx, world.cat(code)] *= f
    # A first car turns a non-driver into a driver: undo the non-driver damping as well.
    first_car = np.flatnonzero((events.kind == LIFE_EVENTS.index("car_purchase")) & ~pop.has_car)
    for code in ("GAS_STATION", "CAR_REPAIR"):
        after[first_car, world.cat(code)] *= 1.8 / 0.12
    after /= after.sum(axis=1, keepdims=True)
    month_start_day = cal.month_start_us.astype("datetime64[us]").astype("datetime64[D]")
    event_month = np.where(has_event, np.searchsorted(month_start_day, events.date, side="right") - 1, 10**6)
    phase_after = month > event_month[customer]
    profiles = np.concatenate([pref, after])  # 2N x C
    # Seasonality by category within a month: sample from profile, then thin by season via acceptance.
    cdf = row_cdf(profiles)
    category = sample_rows(cdf, customer + pop.n * phase_after, rng.random(n))
    in_season = season[month, category]
    accept = rng.random(n) < in_season / season.max()
    redraw = ~accept
    category[redraw] = sample_rows(cdf, (customer + pop.n * phase_after)[redraw], rng.random(int(redraw.sum())))
    ts = _timestamps(rng, cal, world, pop, customer, month, category, _day_cdf(cal, world))
    # Nothing after churn.
    churn_us = outcomes.churned_on.astype("datetime64[us]").astype(np.int64)
    keep = ~(~np.isnat(outcomes.churned_on[customer]) & (ts >= churn_us[customer] + US_PER_DAY))
    customer, category, ts = customer[keep], category[keep], ts[keep]
    return _materialize(
        rng,
        s,
        customer=customer,
        category=category,
        ts=ts,
    )


def generate_recurring(rng: np.random.Generator, s: Scene, *, share_billed: float = 1.0) -> TransactionRows:
    """Monthly bills (telecom, insurance, utilities, subscriptions) on a fixed day, on the main card.

    ``share_billed`` scales how many customers pay bills by card at all.
    """
    world, pop, cards, outcomes, cal = s.world, s.pop, s.cards, s.outcomes, s.cal
    band = pop.age_band
    probs = {
        "TELECOM": np.full(pop.n, 0.92),
        "INSURANCE": np.where(band >= 1, 0.55, 0.3),
        "UTILITIES": np.full(pop.n, 0.35),
        "DIGITAL_CONTENT": np.array([0.6, 0.5, 0.4, 0.25, 0.12, 0.05])[band],
    }
    # A churner moves the automatic payments to another issuer's card as the fade sets in.
    billed = _fade(pop, outcomes, cal) >= 0.75
    parts = []
    for code, p in probs.items():
        c = world.cat(code)
        has = np.flatnonzero(rng.random(pop.n) < p * share_billed)
        day = rng.integers(0, 27, len(has))
        level = world.median[c] * rng.lognormal(0, world.sigma[c], len(has))
        cust = np.repeat(has, cal.n_months)
        month = np.tile(np.arange(cal.n_months), len(has))
        live = billed[cust, month]
        cust, month = cust[live], month[live]
        d = np.repeat(day, cal.n_months)[live]
        hour = rng.integers(1, 7, len(cust))  # auto-debits run before dawn
        ts = cal.month_start_us[month] + d * US_PER_DAY + hour * US_PER_HOUR + rng.integers(0, 3600, len(cust)) * 10**6
        mult = (
            np.repeat(level, cal.n_months)[live]
            / (world.median[c] * pop.spend_level[cust])
            * rng.normal(1, 0.03, len(cust))
        )
        primary = cards.primary_of_customer[cust]
        rows = _materialize(
            rng,
            s,
            customer=cust,
            category=np.full(len(cust), c),
            ts=ts,
            card=primary,
            amount_mult=mult,
            favourites=True,
        )
        rows.installments[:] = 0
        parts.append(rows)
    return TransactionRows.concat(parts)


def generate_event_spikes(
    rng: np.random.Generator,
    s: Scene,
) -> TransactionRows:
    world, events = s.world, s.events
    parts = []
    for kind, spikes in _EVENT_SPIKE.items():
        who = np.flatnonzero(events.kind == LIFE_EVENTS.index(kind))
        if len(who) == 0:
            continue
        base = events.date[who].astype("datetime64[us]").astype(np.int64)
        for code, count, mult in spikes:
            cust = np.repeat(who, count)
            ts = (
                np.repeat(base, count)
                + rng.integers(0, 12, len(cust)) * US_PER_DAY
                + rng.integers(10, 20, len(cust)) * US_PER_HOUR
                + rng.integers(0, 3600, len(cust)) * 10**6
            )
            parts.append(
                _materialize(
                    rng,
                    s,
                    customer=cust,
                    category=np.full(len(cust), world.cat(code)),
                    ts=ts,
                    amount_mult=np.full(len(cust), mult),
                    favourites=False,
                )
            )
    return TransactionRows.concat(parts)


def generate_fraud(
    rng: np.random.Generator,
    s: Scene,
    *,
    target_rows: int,
) -> TransactionRows:
    """Fraud episodes on real cards: bursts after a loss, card-not-present abroad, odd patterns, spikes."""
    world, pop, cards, cal, pref = s.world, s.pop, s.cards, s.cal, s.pref
    start_us = cal.month_start_us[0]
    end_us = cal.month_start_us[-1] + cal.month_days[-1] * US_PER_DAY
    eligible = np.flatnonzero(np.isnat(cards.closed_on) & (cards.issued_on < np.datetime64(cal.start, "D")))
    mix = {
        "lost_stolen_burst": (0.45, 5.5),
        "overseas_card_not_present": (0.25, 2.5),
        "unusual_pattern": (0.15, 1.5),
        "amount_spike": (0.15, 1.0),
    }
    mean_rows = sum(p * r for p, r in mix.values())
    n_episodes = max(4, round(target_rows / mean_rows))
    kinds = rng.choice(len(mix), size=n_episodes, p=[p for p, _ in mix.values()])
    parts = []
    r_n = len(world.home_codes)
    offline_cats = np.flatnonzero((world.channel != CHANNEL_ONLINE) & ~world.recurring)
    for k, name in enumerate(mix):
        n_ep = int((kinds == k).sum())
        if n_ep == 0:
            continue
        card = rng.choice(eligible, size=n_ep)
        cust = cards.customer[card]
        t0 = start_us + (rng.random(n_ep) * (end_us - start_us - 2 * US_PER_DAY)).astype(np.int64)
        t0 = t0 - t0 % US_PER_DAY  # the day; the hour is set per scenario
        if name == "lost_stolen_burst":
            size = np.clip(3 + rng.poisson(2.5, n_ep), 3, 10)
            ep = np.repeat(np.arange(n_ep), size)
            night = rng.random(n_ep) < 0.6
            hour0 = np.where(night, rng.choice([22, 23, 0, 1, 2, 3, 4], n_ep), rng.integers(9, 21, n_ep))
            gaps = rng.exponential(25 * 60 * 10**6, len(ep)).astype(np.int64)
            first = np.concatenate([[0], np.cumsum(size)[:-1]])
            offs = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first] - gaps[first], size)
            when = np.repeat(t0 + hour0 * US_PER_HOUR, size) + offs
            fw = world.fraud_weight[offline_cats]
            category = offline_cats[rng.choice(len(offline_cats), size=len(ep), p=fw / fw.sum())]
            home = pop.home_region[cust[ep]]
            elsewhere = rng.choice(r_n, size=n_ep, p=world.home_weight / world.home_weight.sum())
            slot = np.where(np.repeat(rng.random(n_ep) < 0.4, size), home, np.repeat(elsewhere, size))
            online = False
            amount_mult = rng.lognormal(0.9, 0.5, len(ep))
        elif name == "overseas_card_not_present":
            size = np.clip(1 + rng.poisson(1.5, n_ep), 1, 6)
            ep = np.repeat(np.arange(n_ep), size)
            gaps = rng.exponential(40 * 60 * 10**6, len(ep)).astype(np.int64)
            when = np.repeat(t0 + rng.integers(0, 24, n_ep) * US_PER_HOUR, size) + np.cumsum(gaps) % (6 * US_PER_HOUR)
            cands = np.array([world.cat(c) for c in _FRAUD_ONLINE_CATS])
            category = cands[rng.integers(0, len(cands), len(ep))]
            slot = np.full(len(ep), world.overseas_slot)
            online = True
            amount_mult = rng.lognormal(0.6, 0.6, len(ep))
        elif name == "unusual_pattern":
            size = rng.integers(1, 3, n_ep)
            ep = np.repeat(np.arange(n_ep), size)
            when = (
                np.repeat(t0, size) + rng.integers(1, 5, len(ep)) * US_PER_HOUR + rng.integers(0, 3600, len(ep)) * 10**6
            )
            # A category this customer hardly ever uses, in a region far from home.
            p = pref[cust[ep]][:, offline_cats]
            rare = 1.0 / (p + 1e-3)
            category = offline_cats[sample_rows(row_cdf(rare), np.arange(len(ep)), rng.random(len(ep)))]
            home = pop.home_region[cust[ep]]
            far = rng.choice(r_n, size=len(ep), p=world.home_weight / world.home_weight.sum())
            far = np.where(far == home, (far + 7) % r_n, far)
            slot = far
            online = False
            amount_mult = rng.lognormal(0.4, 0.4, len(ep))
        else:  # amount_spike
            when = t0 + rng.integers(10, 21, n_ep) * US_PER_HOUR + rng.integers(0, 3600, n_ep) * 10**6
            cands = np.array([world.cat(c) for c in _SPIKE_CATS])
            category = cands[rng.integers(0, len(cands), n_ep)]
            ep = np.arange(n_ep)
            slot = None
            online = False
            amount_mult = rng.uniform(6, 20, n_ep)
        rows = _materialize(
            rng,
            s,
            customer=cust[ep],
            category=category,
            ts=when,
            card=card[ep],
            slot=slot,
            force_online=np.full(len(ep), online),
            amount_mult=amount_mult,
            favourites=False,
            fraud=FRAUD_SCENARIOS.index(name),
        )
        parts.append(rows)
    out = TransactionRows.concat(parts)
    inside = (out.ts >= start_us) & (out.ts < end_us)
    return out.take(np.flatnonzero(inside))
