"""The generator: one seed in, the whole synthetic card-data lake out, byte for byte the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cardwise.lake.schema import (
    APP_EVENT_TYPES,
    CHANNELS,
    DEVICES,
    FRAUD_SCENARIOS,
    HOUSEHOLD_TYPES,
    LIFE_EVENTS,
    MARITAL_STATUSES,
    NOTIFY_CHANNELS,
    OCCUPATIONS,
    RELATIONS,
    TOPICS,
    table,
)
from cardwise.synth.cards import BRANDS, card_counts, generate_cards
from cardwise.synth.merchants import generate_merchants
from cardwise.synth.outcomes import NO_EVENT, decide_life_events, decide_outcomes
from cardwise.synth.population import generate_population
from cardwise.synth.presets import Preset
from cardwise.synth.text import korean_name, mobile_phone, romanized_email
from cardwise.synth.transactions import (
    Calendar,
    Scene,
    TransactionRows,
    _activity,
    generate_event_spikes,
    generate_everyday,
    generate_fraud,
    generate_recurring,
    preference_matrix,
)
from cardwise.synth.unstructured import (
    PAGES,
    Identity,
    generate_app_events,
    generate_memos,
    generate_transcripts,
    ip_strings,
)
from cardwise.synth.world import World, build_world

Step = Callable[[str], None]

# Each part of the world draws from its own stream, so changing one generator leaves the others' output as it was.
_STREAMS = (
    "population",
    "events",
    "outcomes",
    "preferences",
    "cards",
    "merchants",
    "everyday",
    "recurring",
    "spikes",
    "fraud",
    "identity",
    "transcripts",
    "memos",
    "app",
)


@dataclass
class GeneratedLake:
    preset: Preset
    seed: int
    tables: dict[str, pa.Table]


def _pick(values: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    """Codes to a dictionary-encoded string column (negative codes are nulls).

    Parquet stores strings dictionary-encoded anyway, so the strings are never materialised.
    """
    codes = idx.astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(values, type=pa.string()))


def _date(a: np.ndarray) -> pa.Array:
    return pa.array(a.astype("datetime64[D]"), type=pa.date32(), from_pandas=True)


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype("datetime64[us]"), type=pa.timestamp("us"))


def _column(value: object, field: pa.Field) -> tuple[pa.Array, pa.Field]:
    if isinstance(value, pa.DictionaryArray) and field.type == pa.string():
        return value, field.with_type(value.type)
    if isinstance(value, pa.Array):
        return value.cast(field.type), field
    return pa.array(value, type=field.type), field


def _make(name: str, columns: dict[str, object]) -> pa.Table:
    schema = table(name).arrow_schema
    arrays, fields = zip(*(_column(columns[f.name], f) for f in schema), strict=True)
    return pa.Table.from_arrays(list(arrays), schema=pa.schema(list(fields)))


def reference_tables(world: World) -> dict[str, pa.Table]:
    cats = world.categories
    groups = {g.code: g for g in cats.groups}
    cs = cats.categories
    categories = _make(
        "categories",
        {
            "category_code": [c.code for c in cs],
            "group_code": [c.group for c in cs],
            "name_ko": [c.name_ko for c in cs],
            "name_en": [c.name_en for c in cs],
            "group_name_ko": [groups[c.group].name_ko for c in cs],
            "group_name_en": [groups[c.group].name_en for c in cs],
            "prev_month_excluded": [c.prev_month_excluded for c in cs],
        },
    )
    rs = world.regions.regions
    regions = _make(
        "regions",
        {
            "region_code": [r.code for r in rs],
            "level": [r.level for r in rs],
            "parent_code": [r.parent_code or None for r in rs],
            "name_ko": [r.name_ko for r in rs],
            "name_en": [r.name_en for r in rs],
            "lat": [r.lat for r in rs],
            "lon": [r.lon for r in rs],
        },
    )
    ps = world.products.products
    products = _make(
        "products",
        {
            "product_id": [p.product_id for p in ps],
            "name_ko": [p.name_ko for p in ps],
            "name_en": [p.name_en for p in ps],
            "card_type": [p.card_type for p in ps],
            "annual_fee_krw": [p.annual_fee_krw for p in ps],
            "launched_on": [p.launched_on for p in ps],
            "discontinued_on": [p.discontinued_on for p in ps],
            "benefits_json": [json.dumps(p.model_dump(mode="json"), ensure_ascii=False, sort_keys=True) for p in ps],
        },
    )
    return {"categories": categories, "regions": regions, "products": products}


def generate(preset: Preset, seed: int, *, pan_key: str, step: Step = lambda _: None) -> GeneratedLake:
    if seed < 0:
        raise ValueError("seed must be zero or positive")
    rngs = dict(
        zip(
            _STREAMS, (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STREAMS))), strict=True
        )
    )
    world = build_world()
    cal = Calendar.of(preset.start, preset.end)
    step("customers and households")
    pop = generate_population(
        rngs["population"], preset.n_customers, region_weights=world.home_weight, start=preset.start, end=preset.end
    )
    events = decide_life_events(
        rngs["events"], pop, start=preset.start, end=preset.end, region_weights=world.home_weight
    )
    pref = preference_matrix(rngs["preferences"], pop, world)
    # Outcomes depend on how many cards a customer holds, the cards on outcomes (closed at churn).
    n_cards = card_counts(rngs["cards"], pop.n, preset.cards_per_customer)
    outcomes = decide_outcomes(rngs["outcomes"], pop, n_cards, start=preset.start, end=preset.end)
    step("cards")
    cards = generate_cards(
        rngs["cards"], pop, world, pref, outcomes, count=n_cards, start=preset.start, end=preset.end, pan_key=pan_key
    )
    step("merchants")
    merchants = generate_merchants(
        rngs["merchants"], world, n_target=preset.n_merchants, start=preset.start, end=preset.end
    )
    step("transactions")
    scene = Scene(
        world=world, pop=pop, cards=cards, merchants=merchants, events=events, outcomes=outcomes, cal=cal, pref=pref
    )
    # Customers who make a handful of payments a year (seed000) rarely have their bills on the card.
    per_customer_month = preset.target_transactions / preset.n_customers / cal.n_months
    recurring = generate_recurring(rngs["recurring"], scene, share_billed=min(1.0, per_customer_month / 20))
    spikes = generate_event_spikes(rngs["spikes"], scene)
    n_fraud = round(preset.fraud_rate * preset.target_transactions)
    everyday_target = max(preset.n_customers, preset.target_transactions - len(recurring) - len(spikes) - n_fraud)
    everyday = generate_everyday(rngs["everyday"], scene, target=everyday_target)
    fraud = generate_fraud(rngs["fraud"], scene, target_rows=n_fraud)
    rows = TransactionRows.concat([everyday, recurring, spikes, fraud])
    # Time order; ties keep generation order, which is itself deterministic.
    rows = rows.take(np.argsort(rows.ts, kind="stable"))

    step("identities, transcripts, memos")
    rng_id = rngs["identity"]
    names = [korean_name(rng_id, "F" if f else "M") for f in pop.is_female.tolist()]
    identity = Identity(
        name=names, phone=[mobile_phone(rng_id) for _ in names], email=[romanized_email(rng_id, nm) for nm in names]
    )
    transcripts = generate_transcripts(
        rngs["transcripts"],
        world=world,
        pop=pop,
        outcomes=outcomes,
        events=events,
        fraud=fraud,
        identity=identity,
        cal=cal,
        rate=preset.transcripts_per_customer,
    )
    active = _activity(pop, outcomes, cal) > 0
    memos = generate_memos(
        rngs["memos"],
        pop=pop,
        events=events,
        identity=identity,
        cal=cal,
        rate_per_month=preset.memos_per_customer_month,
        active=active,
    )
    step("app events")
    app = generate_app_events(
        rngs["app"],
        world=world,
        pop=pop,
        outcomes=outcomes,
        cal=cal,
        rate_per_month=preset.app_sessions_per_customer_month,
        active=active,
    )
    app_order = np.lexsort((app.event_type, app.session, app.ts))

    step("assembling tables")
    tables = reference_tables(world)
    # The target group follows the cards a customer holds.
    has_credit = np.bincount(cards.customer, weights=cards.is_credit, minlength=pop.n) > 0
    has_check = np.bincount(cards.customer, weights=~cards.is_credit, minlength=pop.n) > 0
    target_group = np.where(has_credit & has_check, 2, np.where(has_credit, 0, 1))
    tables["households"] = _make(
        "households",
        {
            "household_id": np.arange(1, len(pop.household_type) + 1),
            "household_type": _pick(HOUSEHOLD_TYPES, pop.household_type),
            "size": pop.household_size.astype(np.int8),
            "region_code": _pick(world.home_codes, pop.household_region),
        },
    )
    tables["customers"] = _make(
        "customers",
        {
            "customer_id": pop.customer_id,
            "birth_year": pop.birth_year,
            "gender": _pick(("M", "F"), pop.is_female.astype(np.int64)),
            "home_region_code": _pick(world.home_codes, pop.home_region),
            "occupation": _pick(OCCUPATIONS, pop.occupation),
            "is_sole_proprietor": pop.occupation == OCCUPATIONS.index("self_employed"),
            "marital_status": _pick(MARITAL_STATUSES, pop.marital),
            "household_id": pop.household_id,
            "relation_to_head": _pick(RELATIONS, pop.relation),
            "income_band": pop.income_band.astype(np.int8),
            "target_group": _pick(("credit", "check", "simple_pay"), target_group),
            "marketing_consent": pop.marketing_consent,
            "preferred_channel": _pick(NOTIFY_CHANNELS, pop.preferred_channel),
            "joined_on": _date(pop.joined_on),
        },
    )
    tables["customer_identity"] = _make(
        "customer_identity",
        {
            "customer_id": pop.customer_id,
            "name": identity.name,
            "phone": identity.phone,
            "email": identity.email,
        },
    )
    product_ids = tuple(p.product_id for p in world.products.products)
    tables["cards"] = _make(
        "cards",
        {
            "card_id": cards.card_id,
            "customer_id": pop.customer_id[cards.customer],
            "product_id": _pick(product_ids, cards.product),
            "card_type": _pick(("check", "credit"), cards.is_credit.astype(np.int64)),
            "token": cards.token,
            "last4": cards.last4,
            "brand": _pick(BRANDS, cards.brand),
            "issued_on": _date(cards.issued_on),
            "expires_on": _date(cards.expires_on),
            "closed_on": _date(cards.closed_on),
            "is_primary": cards.is_primary,
            "contactless_enabled": cards.contactless_enabled,
            "overseas_enabled": cards.overseas_enabled,
        },
    )
    tables["merchants"] = _make(
        "merchants",
        {
            "merchant_id": merchants.merchant_id,
            "name": merchants.name,
            "category_code": _pick(world.codes, merchants.category),
            "region_code": merchants.region_code,
            "country": merchants.country,
            "channel": _pick(("offline", "online"), merchants.online.astype(np.int64)),
            "lat": pa.array(np.round(merchants.lat, 6), from_pandas=True),
            "lon": pa.array(np.round(merchants.lon, 6), from_pandas=True),
            "opened_on": _date(merchants.opened_on),
            "closed_on": _date(merchants.closed_on),
        },
    )
    merchant_region = pa.array(merchants.region_code).dictionary_encode()
    m_codes = merchant_region.dictionary.to_pylist()
    m_idx = merchant_region.indices.to_numpy()
    fraud_idx = rows.fraud.astype(np.int64)
    tables["transactions"] = _make(
        "transactions",
        {
            "transaction_id": np.arange(1, len(rows) + 1, dtype=np.int64),
            "ts": _ts(rows.ts),
            "card_id": cards.card_id[rows.card],
            "customer_id": pop.customer_id[rows.customer],
            "merchant_id": merchants.merchant_id[rows.merchant],
            "category_code": _pick(world.codes, rows.category),
            "region_code": _pick(tuple(m_codes), m_idx[rows.merchant]),
            "amount_krw": rows.amount,
            "channel": _pick(CHANNELS, rows.channel.astype(np.int64)),
            "card_present": rows.card_present,
            "contactless": rows.contactless,
            "installment_months": rows.installments,
            "is_fraud": fraud_idx >= 0,
            "fraud_scenario": _pick(FRAUD_SCENARIOS, fraud_idx),
        },
    )
    has_event = events.kind != NO_EVENT
    ev = np.flatnonzero(has_event)
    moving = events.kind[ev] == LIFE_EVENTS.index("moving")
    tables["life_events"] = _make(
        "life_events",
        {
            "customer_id": pop.customer_id[ev],
            "event_type": _pick(LIFE_EVENTS, events.kind[ev]),
            "event_date": _date(events.date[ev]),
            "to_region_code": [
                world.home_codes[r] if mv else None
                for r, mv in zip(events.to_region[ev].tolist(), moving.tolist(), strict=True)
            ],
        },
    )
    tables["labels"] = _make(
        "labels",
        {
            "customer_id": pop.customer_id,
            "churned": outcomes.churned,
            "churned_on": _date(outcomes.churned_on),
            "complained": outcomes.complained,
            "complained_on": _date(outcomes.complained_on),
            "delinquent": outcomes.delinquent,
            "delinquent_on": _date(outcomes.delinquent_on),
            "card_loan": outcomes.card_loan,
            "card_loan_on": _date(outcomes.card_loan_on),
        },
    )
    tables["call_transcripts"] = _make(
        "call_transcripts",
        {
            "transcript_id": np.arange(1, len(transcripts.customer) + 1),
            "customer_id": pop.customer_id[transcripts.customer],
            "started_at": _ts(transcripts.started_us),
            "duration_s": transcripts.duration_s,
            "channel": _pick(("phone", "chat"), transcripts.chat.astype(np.int64)),
            "topic": _pick(TOPICS, transcripts.topic),
            "text": transcripts.text,
        },
    )
    tables["transfer_memos"] = _make(
        "transfer_memos",
        {
            "memo_id": np.arange(1, len(memos.customer) + 1),
            "customer_id": pop.customer_id[memos.customer],
            "ts": _ts(memos.ts),
            "direction": _pick(("out", "in"), memos.incoming.astype(np.int64)),
            "amount_krw": memos.amount,
            "memo_kind": memos.kind,
            "memo": memos.memo,
        },
    )
    a = app_order
    session_ids = pa.compute.binary_join_element_wise("s", pa.array(app.session[a]).cast(pa.string()), "")
    cookie_ids = pa.compute.binary_join_element_wise("c", pa.array(app.cookie[a]).cast(pa.string()), "")
    page = app.page[a]
    tables["app_events"] = _make(
        "app_events",
        {
            "event_id": np.arange(1, len(a) + 1),
            "customer_id": pop.customer_id[app.customer[a]],
            "ts": _ts(app.ts[a]),
            "event_type": _pick(APP_EVENT_TYPES, app.event_type[a]),
            "page": _pick(PAGES, page),
            "session_id": session_ids,
            "cookie_id": cookie_ids,
            "device": _pick(DEVICES, app.device[a]),
            "ip": ip_strings(app.ip[a]),
        },
    )
    return GeneratedLake(preset=preset, seed=seed, tables=tables)
