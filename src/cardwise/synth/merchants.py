"""Merchants: every category has shops in every home region, plus online and overseas ones.

Sampling a merchant for a transaction works on "groups" (category x region slot), so each group
gets an anchor merchant that is open for the whole period and takes over when a sampled merchant
was not open at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from cardwise.synth.text import merchant_name
from cardwise.synth.world import CHANNEL_ONLINE, World

_OVERSEAS_PLACES = (
    ("JP", "도쿄"),
    ("JP", "오사카"),
    ("US", "뉴욕"),
    ("US", "로스앤젤레스"),
    ("CN", "상하이"),
    ("VN", "다낭"),
    ("TH", "방콕"),
    ("FR", "파리"),
    ("GB", "런던"),
    ("SG", "싱가포르"),
    ("PH", "세부"),
)
# Online merchants register at head offices, mostly in the capital area.
_HQ_SLOTS_KO = ("강남구", "서초구", "송파구", "마포구", "영등포구", "중구", "구로구", "경기도")


@dataclass
class Merchants:
    merchant_id: npt.NDArray[np.int64]
    category: npt.NDArray[np.int64]
    slot: npt.NDArray[np.int64]
    group: npt.NDArray[np.int64]
    name: list[str]
    region_code: list[str]
    country: list[str]
    online: npt.NDArray[np.bool_]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    opened_on: npt.NDArray[np.datetime64]
    closed_on: npt.NDArray[np.datetime64]
    weight: npt.NDArray[np.float64]
    trend: npt.NDArray[np.float64]  # monthly log-growth of the merchant's custom
    anchor: npt.NDArray[np.int64]  # per group: a merchant open all period, -1 for an empty group

    @property
    def n(self) -> int:
        return len(self.merchant_id)


def generate_merchants(rng: np.random.Generator, world: World, *, n_target: int, start: date, end: date) -> Merchants:
    c_n = world.n_categories
    share_w = world.share**0.6
    offline_like = world.channel != CHANNEL_ONLINE
    pop = world.home_weight / world.home_weight.sum()
    budget_off = 0.9 * n_target
    per = np.outer(share_w * offline_like, pop)
    per = per / per.sum() * budget_off
    counts = np.where(offline_like[:, None], np.maximum(1, np.round(per)), 0).astype(np.int64)  # C x R
    online_like = world.online_share > 0
    n_online = np.where(online_like, np.maximum(3, np.round(0.07 * n_target * share_w / share_w.sum())), 0)
    n_overseas = np.where(
        world.overseas_share > 0,
        np.maximum(3, np.round(0.03 * n_target * world.overseas_share / world.overseas_share.sum())),
        0,
    )
    full = np.concatenate([counts, n_overseas[:, None], n_online[:, None]], axis=1).astype(np.int64)  # C x slots
    n_slots = world.n_slots
    group_counts = full.ravel()
    group = np.repeat(np.arange(c_n * n_slots, dtype=np.int64), group_counts)
    category = group // n_slots
    slot = group % n_slots
    m = len(group)

    first_of_group = np.concatenate([[0], np.cumsum(group_counts)[:-1]])
    anchor = np.where(group_counts > 0, first_of_group, -1).astype(np.int64)
    is_anchor = np.zeros(m, dtype=bool)
    is_anchor[anchor[anchor >= 0]] = True

    start64, end64 = np.datetime64(start, "D"), np.datetime64(end, "D")
    old = start64 - rng.integers(30, 365 * 18, m).astype("timedelta64[D]")
    new = start64 + rng.integers(0, int((end64 - start64).astype(int)) - 60, m).astype("timedelta64[D]")
    opened = np.where((rng.random(m) < 0.12) & ~is_anchor, new, old)
    close_day = start64 + rng.integers(60, int((end64 - start64).astype(int)), m).astype("timedelta64[D]")
    closes = (rng.random(m) < 0.05) & ~is_anchor & (close_day > opened + 90)
    closed = np.where(closes, close_day, np.datetime64("NaT", "D"))
    weight = rng.lognormal(0.0, 1.0, m)
    weight[is_anchor] = np.maximum(weight[is_anchor], 1.0)
    trend = np.where(is_anchor, 0.0, rng.normal(0.0, 0.04, m))

    online = slot == world.online_slot
    overseas = slot == world.overseas_slot
    hq_slots = np.array([world.home_names_ko.index(k) if k in world.home_names_ko else 0 for k in _HQ_SLOTS_KO])
    hq = hq_slots[rng.integers(0, len(hq_slots), m)]
    home_slot = np.where(online, hq, np.where(overseas, 0, slot))
    district = world.home_is_seoul[home_slot]
    spread = np.where(district, 0.012, 0.12)
    lat = world.home_lat[home_slot] + rng.normal(0, 1, m) * spread
    lon = world.home_lon[home_slot] + rng.normal(0, 1, m) * spread * 1.2
    lat = np.where(overseas, np.nan, lat)
    lon = np.where(overseas, np.nan, lon)
    place_idx = rng.integers(0, len(_OVERSEAS_PLACES), m)
    names: list[str] = []
    region_code: list[str] = []
    country: list[str] = []
    overseas_code = world.regions.overseas.code
    for i in range(m):
        if overseas[i]:
            cc, place = _OVERSEAS_PLACES[place_idx[i]]
            region_code.append(overseas_code)
            country.append(cc)
        else:
            place = world.home_names_ko[home_slot[i]]
            region_code.append(world.home_codes[home_slot[i]])
            country.append("KR")
        names.append(merchant_name(rng, world.codes[category[i]], place))
    return Merchants(
        merchant_id=np.arange(1, m + 1, dtype=np.int64),
        category=category,
        slot=slot,
        group=group,
        name=names,
        region_code=region_code,
        country=country,
        online=online,
        lat=lat,
        lon=lon,
        opened_on=opened.astype("datetime64[D]"),
        closed_on=closed.astype("datetime64[D]"),
        weight=weight,
        trend=trend,
        anchor=anchor,
    )
