"""The stored answers: one recommendation document and one spend-pattern report per customer, one
target document per merchant, one similar-products document per product, and the cold-start
fallbacks — built once by the monthly run so that the API answers with one indexed read.

Everything here turns the scores of ``pipeline.Scores`` into plain JSON values (ints, floats, strings,
lists, dicts) with Korean and English wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cardwise.marketing.marts import add_months
from cardwise.recommend import cards as card_logic
from cardwise.recommend.categories import category_lift
from cardwise.recommend.history import AGE_BANDS, ONLINE, History, Reference
from cardwise.recommend.pipeline import Scores
from cardwise.reference.categories import load_categories
from cardwise.reference.products import CardProduct

BEST_CARDS = 3
POPULAR_CARDS = 5
CATEGORIES = 5
MERCHANTS = 10
TARGETS = 20
SIMILAR_PRODUCTS = 5
REPORT_MONTHS = 3
CHANGE_MIN_KRW = 30_000
CHANGE_MIN_RATIO = 0.3

JSON = dict[str, Any]
STAGE_KO = {
    "new": "신규",
    "growing": "성장",
    "mature": "성숙",
    "declining": "쇠퇴",
    "closed": "폐업",
    "inactive": "거래 없음",
}
TYPE_KO = {"credit": "신용", "check": "체크"}


def _ym(d: date) -> str:
    return f"{d:%Y-%m}"


def _krw(value: float) -> int:
    """Won amounts shown to people: rounded to ₩100 (₩10 below ₩1,000)."""
    v = float(value)
    return int(round(v / 10) * 10) if abs(v) < 1000 else int(round(v / 100) * 100)


def _p(value: float) -> float:
    return round(float(value), 4)


def with_and(word: str) -> str:
    """A Korean noun with the particle "and/with" that fits it: 과 after a final consonant, 와 after a vowel."""
    last = word[-1:] if word else ""
    if "가" <= last <= "힣":
        return word + ("과" if (ord(last) - 0xAC00) % 28 else "와")
    return word + "와(과)"


def _iso(value: object) -> str | None:
    """A date as ISO text; None for a missing one (pandas gives NaT, itself a datetime, for those)."""
    return value.isoformat() if isinstance(value, date) and not pd.isna(value) else None


class Names:
    """Display names for categories, regions and products."""

    def __init__(self, ref: Reference) -> None:
        self.ref = ref
        self.products = ref.products.products

    def category(self, index: int) -> JSON:
        code = self.ref.categories[index]
        ko, en = self.ref.category_names[code]
        return {"category_code": code, "name_ko": ko, "name_en": en}

    def category_list(self, indices: list[int], lang: str) -> str:
        pos = 0 if lang == "ko" else 1
        sep = "·" if lang == "ko" else ", "
        return sep.join(self.ref.category_names[self.ref.categories[i]][pos] for i in indices)

    def place(self, place: str) -> tuple[str, str]:
        if place == ONLINE:
            return "온라인", "Online"
        return self.ref.regions.get(place, (place, place))

    def product(self, j: int) -> JSON:
        p = self.products[j]
        return {
            "product_id": p.product_id,
            "name_ko": p.name_ko,
            "name_en": p.name_en,
            "card_type": p.card_type,
            "annual_fee_krw": p.annual_fee_krw,
        }


# --- best cards ---------------------------------------------------------------------------------------


def _tier_text(product: CardProduct, tier: int) -> tuple[str, str]:
    if not product.prev_month_tiers_krw:
        return "전월실적 조건 없음", "no previous-month spending requirement"
    if tier < 0:
        low = product.prev_month_tiers_krw[0]
        return f"전월실적 {low // 10_000}만원 미달", f"below the ₩{low:,} previous-month requirement"
    level = product.prev_month_tiers_krw[tier]
    return f"전월실적 {level // 10_000}만원 이상 구간", f"the ₩{level:,}+ previous-month tier"


def card_entry(names: Names, scores: Scores, c: int, j: int) -> JSON:
    """One product for one customer: what it would have paid, where, and why."""
    sim = scores.cards.simulation
    net = scores.cards.net_benefit
    assert sim is not None and net is not None
    product = names.products[j]
    months = list(sim.report_months)
    monthly = float(sim.benefit_krw[c, j, months].mean())
    by_cat = sim.by_category_krw[j, c].astype(np.float64)
    total = float(by_cat.sum())
    top = [int(k) for k in np.argsort(-by_cat, kind="stable")[:3] if by_cat[k] > 0]
    earned = [
        {
            **names.category(k),
            "monthly_benefit_krw": _krw(by_cat[k] / len(months)),
            "share": round(float(by_cat[k]) / total, 3) if total else 0.0,
        }
        for k in top
    ]
    tier_ko, tier_en = _tier_text(product, int(sim.tier[c, j, months[-1]]))
    share = sum(e["share"] for e in earned)
    where_ko = names.category_list(top, "ko")
    where_en = names.category_list(top, "en")
    fee = product.annual_fee_krw
    reason_ko = (
        f"최근 {len(months)}개월 소비로 계산하면 월 평균 {_krw(monthly):,}원 혜택"
        + (f", 연회비 {fee:,}원을 빼면 연 {_krw(net[c, j]):,}원" if fee else f", 연 {_krw(net[c, j]):,}원")
        + (f"입니다. {where_ko}에서 혜택의 {round(share * 100)}%가 나옵니다." if top else "입니다.")
        + f" ({tier_ko})"
    )
    reason_en = (
        f"Replaying your last {len(months)} months: ₩{_krw(monthly):,} a month"
        + (f", ₩{_krw(net[c, j]):,} a year after the ₩{fee:,} annual fee" if fee else f", ₩{_krw(net[c, j]):,} a year")
        + (f"; {round(share * 100)}% of it from {where_en}." if top else ".")
        + f" ({tier_en})"
    )
    return {
        **names.product(j),
        "held": bool(scores.cards.held[c, j]),
        "monthly_benefit_krw": _krw(monthly),
        "net_annual_benefit_krw": _krw(net[c, j]),
        "earned_in": earned,
        "reason_ko": reason_ko,
        "reason_en": reason_en,
    }


# --- customers ----------------------------------------------------------------------------------------


def customer_documents(ref: Reference, history: History, scores: Scores, cold: JSON) -> tuple[list[JSON], list[JSON]]:
    """(recommendations, reports) for every customer: active customers from their own history, the
    others from the cold-start fallbacks."""
    names = Names(ref)
    month = history.months[scores.as_of]
    new_reasons = _new_category_reasons(names, history, scores)
    matrices = _CategoryMatrices(scores)
    merchant_lists = _customer_merchants(ref, scores)
    frame = scores.categories.frame
    row_of = {int(c): i for i, c in enumerate(frame.customers)}
    recs: list[JSON] = []
    reports: list[JSON] = []
    ids = ref.customer_ids
    for c in range(len(ids)):
        i = row_of.get(c)
        if i is None:
            person = ref.customers.iloc[c]
            recs.append(
                cold_start_document(
                    cold,
                    int(ids[c]),
                    int(person["birth_year"]),
                    str(person["gender"]),
                    str(person["home_region_code"]),
                    scores=scores,
                    c=c,
                    names=names,
                )
            )
            reports.append(empty_report(int(ids[c]), month))
            continue
        best = _best_cards(names, scores, c)
        rec: JSON = {
            "customer_id": int(ids[c]),
            "month": _ym(month),
            "cold_start": False,
            "best_cards": best["best_cards"],
            "best_by_type": best["best_by_type"],
            "current_cards": best["current_cards"],
            "gain_over_current_krw": best["gain_over_current_krw"],
            "similar_members": _similar_members(names, scores, c),
            "popular_cards": _popular_cards(names, scores, c),
            "categories": _categories(names, matrices, i, new_reasons.get(c, {})),
            "merchants": merchant_lists.get(c, {"preferred": [], "new": []}),
        }
        recs.append(rec)
        reports.append(_report(names, history, scores, c, rec))
    return recs, reports


def _best_cards(names: Names, scores: Scores, c: int) -> JSON:
    net = scores.cards.net_benefit
    assert net is not None
    on_sale = scores.cards.on_sale
    order = card_logic.rank_products(net[c : c + 1], on_sale[None, :], BEST_CARDS)[0]
    best = [card_entry(names, scores, c, int(j)) for j in order if j >= 0]
    by_type: JSON = {}
    for kind in ("credit", "check"):
        allowed = on_sale & np.array([p.card_type == kind for p in names.products])
        j = card_logic.rank_products(net[c : c + 1], allowed[None, :], 1)[0][0]
        if j >= 0:
            by_type[kind] = {**names.product(int(j)), "net_annual_benefit_krw": _krw(net[c, j])}
    held = np.flatnonzero(scores.cards.held[c])
    current = sorted(
        ({**names.product(int(j)), "net_annual_benefit_krw": _krw(net[c, j])} for j in held),
        key=lambda e: -e["net_annual_benefit_krw"],
    )
    gain = None
    if best and current:
        gain = max(0, best[0]["net_annual_benefit_krw"] - current[0]["net_annual_benefit_krw"])
    return {"best_cards": best, "best_by_type": by_type, "current_cards": current, "gain_over_current_krw": gain}


def _similar_members(names: Names, scores: Scores, c: int) -> JSON:
    groups = scores.similar.lifestyles
    if groups is None or groups.label[c] < 0:
        return {"size": 0, "label_ko": "", "label_en": "", "categories": [], "neighbours": 0}
    g = int(groups.label[c])
    top = list(groups.top_categories[g])
    size = int(groups.sizes[g])
    label_ko = names.category_list(top, "ko")
    label_en = names.category_list(top, "en")
    return {
        "size": size,
        "label_ko": label_ko,
        "label_en": label_en,
        "categories": [names.ref.categories[k] for k in top],
        "neighbours": int((scores.similar.neighbours.index[c] >= 0).sum()),
        "text_ko": f"고객님과 유사한 '{label_ko}' 소비성향을 가진 회원: {size:,}명",
        "text_en": f"Members with a lifestyle like yours ({label_en}): {size:,}",
    }


def _popular_cards(names: Names, scores: Scores, c: int) -> list[JSON]:
    s = scores.cards
    allowed = s.on_sale & ~s.held[c]
    order = card_logic.rank_products(s.adoption_p[c : c + 1], allowed[None, :], POPULAR_CARDS)[0]
    total = float(s.adoption_p[c, allowed].sum()) or 1.0
    return [
        {
            **names.product(int(j)),
            "score": _p(s.adoption_p[c, j] / total),
            "share_of_similar_members": round(float(s.neighbour_share[c, j]), 3),
        }
        for j in order
        if j >= 0
    ]


class _CategoryMatrices:
    """The category frame's columns as customers × categories arrays (row lookups stay cheap)."""

    def __init__(self, scores: Scores) -> None:
        frame = scores.categories.frame
        self.p = scores.categories.p
        self.used = frame.matrix("n_6m") > 0
        self.share = frame.matrix("share_3m")
        self.trend = frame.matrix("trend")
        self.neighbours = frame.matrix("neighbours_rate")
        self.peers = frame.matrix("peer_rate")


def _categories(names: Names, m: _CategoryMatrices, i: int, reasons: Mapping[int, tuple[str, str]]) -> JSON:
    p = m.p[i]
    bills = names.ref.recurring_mask
    order = [int(k) for k in np.argsort(-p, kind="stable") if not bills[k]]
    preferred = [k for k in order if m.used[i, k]][:CATEGORIES]
    new = [k for k in order if not m.used[i, k]][:CATEGORIES]

    def reason(k: int) -> tuple[str, str]:
        if k in reasons:
            return reasons[k]
        nb, peer = float(m.neighbours[i, k]), float(m.peers[i, k])
        if nb >= peer:
            pct = round(nb * 100)
            return f"소비 패턴이 비슷한 회원의 {pct}%가 이용", f"{pct}% of members who spend like you use it"
        pct = round(peer * 100)
        return f"같은 연령대·성별 회원의 {pct}%가 이용", f"{pct}% of members of your age and gender use it"

    trend = m.trend[i]
    return {
        "preferred": [
            {
                **names.category(k),
                "probability": _p(p[k]),
                "share_3m": round(float(m.share[i, k]), 3),
                "trend": "up" if trend[k] > 0.4 else "down" if trend[k] < -0.4 else "steady",
            }
            for k in preferred
        ],
        "new": [
            {**names.category(k), "probability": _p(p[k]), "reason_ko": reason(k)[0], "reason_en": reason(k)[1]}
            for k in new
        ],
    }


def _new_category_reasons(names: Names, history: History, scores: Scores) -> dict[int, dict[int, tuple[str, str]]]:
    """For customers who newly took up a category: the categories that often go with it, and why."""
    frame = scores.categories.frame
    lift = category_lift(history.count[:, scores.as_of] > 0)
    newly = frame.matrix("newly_taken_up") > 0
    out: dict[int, dict[int, tuple[str, str]]] = {}
    for i in np.flatnonzero(newly.any(axis=1)):
        fresh = np.flatnonzero(newly[i])
        strongest = lift[fresh]  # fresh × categories
        best_j = fresh[np.argmax(strongest, axis=0)]
        best_lift = strongest.max(axis=0)
        reasons: dict[int, tuple[str, str]] = {}
        for k in np.flatnonzero(best_lift >= 1.5):
            ko = names.category_list([int(best_j[k])], "ko")
            en = names.category_list([int(best_j[k])], "en")
            reasons[int(k)] = (
                f"최근 새로 이용하신 {with_and(ko)} 함께 많이 이용하는 업종",
                f"often goes with {en}, which you recently started using",
            )
        out[int(frame.customers[i])] = reasons
    return out


def _customer_merchants(ref: Reference, scores: Scores) -> dict[int, JSON]:
    pairs = scores.merchants.pairs.pairs
    frame = pd.DataFrame(
        {
            "c": pairs["c"].to_numpy(),
            "m": pairs["m"].to_numpy(),
            "history": (pairs["source"] == "history").to_numpy(),
            "regular": pairs["regular"].to_numpy(),
            "days_6m": pairs["days_6m"].to_numpy(),
            "visit": scores.merchants.visit_p,
            "repeat": scores.merchants.regular_p,
        }
    )
    top = (
        frame.sort_values(["c", "history", "visit", "m"], ascending=[True, False, False, True], kind="stable")
        .groupby(["c", "history"], sort=False)
        .head(MERCHANTS)
    )
    merchants = ref.merchants
    names = merchants["name"].to_numpy()
    cats = merchants["category_code"].to_numpy()
    places = merchants["place"].to_numpy()
    out: dict[int, JSON] = {}
    cat_names = ref.category_names
    place_names: dict[str, tuple[str, str]] = {}
    c_list = top["c"].to_numpy().tolist()
    m_arr = top["m"].to_numpy()
    from_history = top["history"].to_numpy().tolist()
    regular = top["regular"].to_numpy().tolist()
    days = top["days_6m"].to_numpy(dtype=np.int64).tolist()
    visit = np.round(top["visit"].to_numpy(dtype=np.float64), 4).tolist()
    repeat = np.round(top["repeat"].to_numpy(dtype=np.float64), 4).tolist()
    merchant_ids = ref.merchant_ids[m_arr].tolist()
    for i, m in enumerate(m_arr.tolist()):
        place = str(places[m])
        if place not in place_names:
            place_names[place] = ("온라인", "Online") if place == ONLINE else ref.regions.get(place, (place, place))
        code = str(cats[m])
        entry: JSON = {
            "merchant_id": merchant_ids[i],
            "name": str(names[m]),
            "category_code": code,
            "category_name_ko": cat_names[code][0],
            "place_ko": place_names[place][0],
            "visit_probability": visit[i],
            "repeat_probability": repeat[i],
        }
        if from_history[i]:
            entry["regular"] = bool(regular[i])
            entry["days_6m"] = days[i]
        doc = out.setdefault(c_list[i], {"preferred": [], "new": []})
        doc["preferred" if from_history[i] else "new"].append(entry)
    return out


# --- report -------------------------------------------------------------------------------------------


def empty_report(customer_id: int, month: date) -> JSON:
    start = add_months(month, -(REPORT_MONTHS - 1))
    return {
        "customer_id": customer_id,
        "month": _ym(month),
        "cold_start": True,
        "period": {"from": _ym(start), "to": _ym(month), "months": REPORT_MONTHS},
        "total_spend_krw": 0,
        "monthly_average_krw": 0,
        "purchases": 0,
        "monthly": [],
        "top_categories": [],
        "changes": [],
        "channels": {},
        "best_card": None,
        "summary_ko": (
            "최근 이용 내역이 없어 소비패턴을 분석할 수 없습니다. 카드를 이용하시면 다음 달부터 리포트가 만들어집니다."
        ),
        "summary_en": "No recent card use to analyse; the report starts the month after you use a card.",
    }


def _report(names: Names, history: History, scores: Scores, c: int, rec: JSON) -> JSON:
    t = scores.as_of
    lo = max(0, t - REPORT_MONTHS + 1)
    months = list(range(lo, t + 1))
    spend = history.spend[c, lo : t + 1].astype(np.float64)  # months × categories
    count = history.count[c, lo : t + 1].astype(np.float64)
    total = float(spend.sum())
    by_cat = spend.sum(axis=0)
    top = [int(k) for k in np.argsort(-by_cat, kind="stable")[:5] if by_cat[k] > 0]
    prev_lo = max(0, lo - REPORT_MONTHS)
    previous = history.spend[c, prev_lo:lo].astype(np.float64).sum(axis=0) if lo > 0 else np.zeros_like(by_cat)
    changes: list[JSON] = []
    if lo > 0:
        scale = len(months) / max(lo - prev_lo, 1)  # compare like with like when fewer months came before
        diff = by_cat - previous * scale
        for k in np.argsort(-np.abs(diff), kind="stable"):
            before, now = float(previous[k] * scale), float(by_cat[k])
            if abs(diff[k]) < CHANGE_MIN_KRW or len(changes) == 5:
                break
            if before and abs(now - before) / before < CHANGE_MIN_RATIO:
                continue
            direction = "new" if before == 0 else "gone" if now == 0 else "up" if now > before else "down"
            changes.append(
                {
                    **names.category(int(k)),
                    "previous_krw": _krw(before),
                    "current_krw": _krw(now),
                    "change_pct": None if before == 0 else round((now - before) / before * 100),
                    "direction": direction,
                }
            )
    channel = history.channel_spend[c, lo : t + 1].astype(np.float64).sum(axis=0)
    chan_total = float(channel.sum()) or 1.0
    monthly_avg = total / len(months)
    best = rec["best_cards"][0] if rec["best_cards"] else None
    top_ko = names.category_list(top[:3], "ko")
    top_en = names.category_list(top[:3], "en")
    summary_ko = f"최근 {len(months)}개월 월평균 {_krw(monthly_avg):,}원을 쓰셨고, {top_ko} 순으로 많이 쓰셨습니다."
    summary_en = f"Over the last {len(months)} months you spent ₩{_krw(monthly_avg):,} a month, most on {top_en}."
    if best:
        summary_ko += f" 이 소비에 가장 맞는 카드는 {best['name_ko']}(연 {best['net_annual_benefit_krw']:,}원)입니다."
        summary_en += (
            f" The card that fits it best is the {best['name_en']} (₩{best['net_annual_benefit_krw']:,} a year)."
        )
    return {
        "customer_id": rec["customer_id"],
        "month": rec["month"],
        "cold_start": False,
        "period": {"from": _ym(history.months[lo]), "to": _ym(history.months[t]), "months": len(months)},
        "total_spend_krw": _krw(total),
        "monthly_average_krw": _krw(monthly_avg),
        "purchases": int(count.sum()),
        "monthly": [
            {"month": _ym(history.months[m]), "spend_krw": _krw(spend[i].sum()), "purchases": int(count[i].sum())}
            for i, m in enumerate(months)
        ],
        "top_categories": [
            {
                **names.category(k),
                "spend_krw": _krw(by_cat[k]),
                "share": round(float(by_cat[k]) / total, 3) if total else 0.0,
                "purchases": int(count[:, k].sum()),
            }
            for k in top
        ],
        "changes": changes,
        "channels": {
            name: round(float(v) / chan_total, 3)
            for name, v in zip(("offline", "online", "overseas"), channel, strict=True)
        },
        "lifestyle": rec["similar_members"],
        "best_card": best,
        "summary_ko": summary_ko,
        "summary_en": summary_en,
    }


# --- cold start ---------------------------------------------------------------------------------------


def age_band_of(birth_year: int, month: date) -> int:
    return int(np.clip((month.year - birth_year) // 10 - 2, 0, len(AGE_BANDS) - 1))


def cold_start(ref: Reference, history: History, scores: Scores) -> JSON:
    """Fallbacks for customers without recent purchases, by age band and gender and by home place."""
    names = Names(ref)
    as_of = scores.as_of
    month = history.months[as_of]
    band = ref.age_band(month)
    female = (ref.customers["gender"].to_numpy() == "F").astype(np.int64)
    used = history.count[:, as_of] > 0
    active = scores.active
    start = add_months(month, -11)
    recent = ref.cards[(ref.cards["issued_on"] >= start) & (ref.cards["issued_on"] < add_months(month, 1))]
    rc = ref.customer_index(recent["customer_id"])
    rp = recent["product_index"].to_numpy()
    on_sale = scores.cards.on_sale
    peers: JSON = {}
    for b in range(len(AGE_BANDS)):
        for g, gender in enumerate(("M", "F")):
            sel = (band == b) & (female == g)
            issued = np.bincount(rp[sel[rc]], minlength=len(names.products)).astype(np.float64)
            issued += 1e-3 * scores.cards.popularity  # ties and empty groups fall back to overall popularity
            order = [int(j) for j in np.argsort(-issued, kind="stable") if on_sale[j]][:POPULAR_CARDS]
            rate = used[sel & active].mean(axis=0) if (sel & active).any() else used[active].mean(axis=0)
            cats = [int(k) for k in np.argsort(-rate, kind="stable") if not ref.recurring_mask[k]][:CATEGORIES]
            peers[f"{AGE_BANDS[b]}:{gender}"] = {
                "cards": [names.product(j) for j in order],
                "categories": [{**names.category(k), "share_of_members": round(float(rate[k]), 3)} for k in cats],
            }
    state = scores.merchants.pairs.state
    merchants = ref.merchants
    open_ = state.open_
    busiest = np.argsort(-state.customers_3m, kind="stable")
    by_place: dict[str, list[JSON]] = {}
    places = merchants["place"].to_numpy()
    for m in busiest:
        if not open_[m] or state.customers_3m[m] <= 0:
            continue
        lst = by_place.setdefault(str(places[m]), [])
        if len(lst) < MERCHANTS:
            lst.append(_merchant_brief(ref, names, int(m), state.customers_3m[m]))
    return {"month": _ym(month), "peers": peers, "merchants_by_place": by_place}


def _merchant_brief(ref: Reference, names: Names, m: int, customers_3m: float) -> JSON:
    row = ref.merchants.iloc[m]
    code = str(row["category_code"])
    ko, en = names.place(str(row["place"]))
    return {
        "merchant_id": int(row["merchant_id"]),
        "name": str(row["name"]),
        "category_code": code,
        "category_name_ko": ref.category_names[code][0],
        "category_name_en": ref.category_names[code][1],
        "place_ko": ko,
        "place_en": en,
        "customers_per_month": round(float(customers_3m), 1),
    }


def cold_start_document(
    cold: JSON,
    customer_id: int,
    birth_year: int,
    gender: str,
    home_region_code: str,
    *,
    scores: Scores | None = None,
    c: int | None = None,
    names: Names | None = None,
) -> JSON:
    """Recommendations for a customer without recent purchases: what members of the same age band and
    gender take up and use, and the busiest merchants where they live and online."""
    month = date.fromisoformat(cold["month"] + "-01")
    band = age_band_of(birth_year, month)
    peer = cold["peers"].get(f"{AGE_BANDS[band]}:{gender}") or next(iter(cold["peers"].values()))
    places = cold["merchants_by_place"]
    local = list(places.get(home_region_code, [])) + list(places.get(ONLINE, []))
    held: set[str] = set()
    if scores is not None and c is not None and names is not None:
        held = {names.products[int(j)].product_id for j in np.flatnonzero(scores.cards.held[c])}
    return {
        "customer_id": customer_id,
        "month": cold["month"],
        "cold_start": True,
        "reason_ko": "최근 6개월 이용 내역이 없어 같은 연령대·성별 회원의 이용을 바탕으로 추천합니다.",
        "reason_en": "No purchases in the last six months: recommendations follow members of your age and gender.",
        "best_cards": [],
        "best_by_type": {},
        "current_cards": [],
        "gain_over_current_krw": None,
        "similar_members": {"size": 0, "label_ko": "", "label_en": "", "categories": [], "neighbours": 0},
        "popular_cards": [dict(card) for card in peer["cards"] if card["product_id"] not in held],
        "categories": {"preferred": [], "new": list(peer["categories"])},
        "merchants": {"preferred": [], "new": local[:MERCHANTS]},
    }


# --- merchants ----------------------------------------------------------------------------------------


def merchant_documents(ref: Reference, history: History, scores: Scores) -> list[JSON]:
    """Per merchant: life-cycle stage with its evidence, likely new visitors and likely regulars."""
    names = Names(ref)
    state = scores.merchants.pairs.state
    pairs = scores.merchants.pairs.pairs
    visit = scores.merchants.visit_p
    regular = scores.merchants.regular_p
    frame = pd.DataFrame(
        {
            "m": pairs["m"].to_numpy(),
            "c": pairs["c"].to_numpy(),
            "fresh": (pairs["days_6m"] == 0).to_numpy(),
            "regular_now": pairs["regular"].to_numpy(),
            "days_6m": pairs["days_6m"].to_numpy(),
            "visit": visit,
            "repeat": regular,
        }
    )
    fresh = frame[frame["fresh"]]
    expected = np.bincount(fresh["m"], weights=fresh["visit"], minlength=len(ref.merchants))
    ids = ref.customer_ids
    visitors = _top_per_merchant(fresh, "visit", ids)
    growing = frame[~frame["regular_now"]]
    expected_regulars = np.bincount(growing["m"], weights=growing["repeat"], minlength=len(ref.merchants))
    regulars = _top_per_merchant(growing, "repeat", ids)
    month = history.months[scores.as_of]
    months = [_ym(history.months[t]) for t in range(scores.as_of - 5, scores.as_of + 1) if t >= 0]
    docs: list[JSON] = []
    merchants = ref.merchants
    cols = {
        name: merchants[name].to_numpy()
        for name in (
            "merchant_id",
            "name",
            "category_code",
            "region_code",
            "place",
            "channel",
            "opened_on",
            "closed_on",
        )
    }
    for m in range(len(merchants)):
        code = str(cols["category_code"][m])
        place_ko, place_en = names.place(str(cols["place"][m]))
        stage = state.stage[m]
        opened, closed = cols["opened_on"][m], cols["closed_on"][m]
        docs.append(
            {
                "merchant_id": int(cols["merchant_id"][m]),
                "month": _ym(month),
                "name": str(cols["name"][m]),
                "category_code": code,
                "category_name_ko": ref.category_names[code][0],
                "category_name_en": ref.category_names[code][1],
                "region_code": str(cols["region_code"][m]),
                "place_ko": place_ko,
                "place_en": place_en,
                "channel": str(cols["channel"][m]),
                "opened_on": _iso(opened),
                "closed_on": _iso(closed),
                "stage": stage,
                "stage_ko": STAGE_KO[stage],
                "stage_evidence": {
                    "months": months[-state.monthly_purchases.shape[1] :],
                    "monthly_purchases": [int(x) for x in state.monthly_purchases[m][-len(months) :]],
                    "monthly_growth": round(float(np.expm1(state.slope[m])), 4),
                    "p_value": round(float(state.p_value[m]), 4),
                    "age_months": int(state.age_months[m]),
                },
                "customers_last_month": int(state.customers_1m[m]),
                "regulars": int(state.regulars[m]),
                "expected_new_visitors": round(float(expected[m]), 2),
                "expected_new_regulars": round(float(expected_regulars[m]), 2),
                "likely_visitors": visitors.get(m, []),
                "likely_regulars": regulars.get(m, []),
            }
        )
    return docs


def _top_per_merchant(frame: pd.DataFrame, column: str, ids: npt.NDArray[np.int64]) -> dict[int, list[JSON]]:
    """Per merchant position, its best ``TARGETS`` customers by ``column`` as ready JSON entries."""
    top = (
        frame.sort_values(["m", column, "c"], ascending=[True, False, True], kind="stable")
        .groupby("m", sort=False)
        .head(TARGETS)
    )
    m = top["m"].to_numpy()
    # Converted once, column by column: far cheaper than a float() and a round() per entry.
    customer = ids[top["c"].to_numpy()].tolist()
    score = np.round(top[column].to_numpy(dtype=np.float64), 4).tolist()
    days = top["days_6m"].to_numpy(dtype=np.int64).tolist()
    with_days = column == "repeat"
    out: dict[int, list[JSON]] = {}
    bounds = np.flatnonzero(np.diff(m)) + 1
    for lo, hi in zip(np.concatenate([[0], bounds]).tolist(), np.concatenate([bounds, [len(m)]]).tolist(), strict=True):
        if hi > lo:
            out[int(m[lo])] = [
                {"customer_id": customer[i], "score": score[i], "days_6m": days[i]}
                if with_days
                else {"customer_id": customer[i], "score": score[i]}
                for i in range(lo, hi)
            ]
    return out


# --- products -----------------------------------------------------------------------------------------


def product_documents(
    ref: Reference, history: History, scores: Scores, similarity: card_logic.ProductSimilarity
) -> list[JSON]:
    names = Names(ref)
    products = names.products
    on_sale = scores.cards.on_sale
    month = history.months[scores.as_of]
    docs: list[JSON] = []
    overall = similarity.overall
    for j, p in enumerate(products):
        candidates = [i for i, q in enumerate(products) if i != j and on_sale[i] and q.card_type == p.card_type]
        candidates.sort(key=lambda i: (-overall[j, i], i))
        docs.append(
            {
                **names.product(j),
                "month": _ym(month),
                "launched_on": p.launched_on.isoformat(),
                "discontinued_on": p.discontinued_on.isoformat() if p.discontinued_on else None,
                "on_sale": bool(on_sale[j]),
                "holders": int(scores.cards.held[:, j].sum()),
                "similar": [
                    {
                        **names.product(i),
                        "similarity": round(float(overall[j, i]), 3),
                        "by_rules": round(float(similarity.rules[j, i]), 3),
                        "by_payout": round(float(similarity.payout[j, i]), 3),
                        "by_holders": round(float(similarity.holders[j, i]), 3),
                        "shared_categories": sorted(p.categories & products[i].categories),
                    }
                    for i in candidates[:SIMILAR_PRODUCTS]
                ],
            }
        )
    return docs


def median_tickets(ref: Reference) -> npt.NDArray[np.float64]:
    """The median purchase of each category (the catalogue's), to spread fixed-amount benefits over."""
    catalog = load_categories()
    return np.array(
        [catalog.by_code(c).amount_median_krw if c in catalog else 10_000 for c in ref.categories], dtype=np.float64
    )
