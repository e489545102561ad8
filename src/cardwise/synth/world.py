"""Reference data turned into the arrays the vectorised generators index into."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cardwise.reference.categories import CategoryCatalog, load_categories
from cardwise.reference.products import ProductCatalog, load_products
from cardwise.reference.regions import RegionCatalog, load_regions
from cardwise.synth.population import AGE_BANDS

CHANNEL_OFFLINE, CHANNEL_ONLINE, CHANNEL_MIXED = 0, 1, 2


@dataclass
class World:
    categories: CategoryCatalog
    regions: RegionCatalog
    products: ProductCatalog
    codes: tuple[str, ...]
    share: npt.NDArray[np.float64]
    median: npt.NDArray[np.float64]
    sigma: npt.NDArray[np.float64]
    weekend: npt.NDArray[np.float64]
    channel: npt.NDArray[np.int64]
    online_share: npt.NDArray[np.float64]
    overseas_share: npt.NDArray[np.float64]
    age_weight: npt.NDArray[np.float64]  # C x 6
    female_weight: npt.NDArray[np.float64]
    fraud_weight: npt.NDArray[np.float64]
    recurring: npt.NDArray[np.bool_]
    hour_cdf_by_band: npt.NDArray[np.float64]  # (C*6) x 24
    home_codes: tuple[str, ...]  # region slots 0..R-1
    home_weight: npt.NDArray[np.float64]
    home_is_seoul: npt.NDArray[np.bool_]
    home_lat: npt.NDArray[np.float64]
    home_lon: npt.NDArray[np.float64]
    home_names_ko: tuple[str, ...]

    @property
    def n_categories(self) -> int:
        return len(self.codes)

    @property
    def n_slots(self) -> int:
        """Home regions, then overseas, then the nationwide slot for online merchants."""
        return len(self.home_codes) + 2

    @property
    def overseas_slot(self) -> int:
        return len(self.home_codes)

    @property
    def online_slot(self) -> int:
        return len(self.home_codes) + 1

    def cat(self, code: str) -> int:
        return self.codes.index(code)


def build_world() -> World:
    cats = load_categories()
    regions = load_regions()
    products = load_products()
    cs = cats.categories
    channel_map = {"offline": CHANNEL_OFFLINE, "online": CHANNEL_ONLINE, "mixed": CHANNEL_MIXED}
    age_weight = np.array([[c.age_weights[b] for b in AGE_BANDS] for c in cs], dtype=np.float64)
    profiles = cats.hour_profiles
    hour = np.array([profiles[c.hour_profile] for c in cs], dtype=np.float64)
    # Age shapes the day as well as the basket: 65+ spend mostly 10-19h, 20s stay out later (KB).
    hours = np.arange(24)
    band_shape = np.ones((6, 24))
    band_shape[0, (hours >= 21) | (hours <= 1)] = 1.5
    band_shape[4, (hours >= 10) & (hours <= 18)] = 1.4
    band_shape[4, (hours >= 21) | (hours <= 5)] = 0.5
    band_shape[5, (hours >= 10) & (hours <= 18)] = 1.9
    band_shape[5, (hours >= 20) | (hours <= 6)] = 0.25
    by_band = hour[:, None, :] * band_shape[None, :, :] + 1e-6
    by_band = by_band / by_band.sum(axis=2, keepdims=True)
    hour_cdf = np.cumsum(by_band, axis=2).reshape(len(cs) * 6, 24)
    hour_cdf[:, -1] = 1.0
    home = regions.home_regions
    return World(
        categories=cats,
        regions=regions,
        products=products,
        codes=tuple(c.code for c in cs),
        share=np.array([c.share for c in cs]),
        median=np.array([c.amount_median_krw for c in cs], dtype=np.float64),
        sigma=np.array([c.amount_sigma for c in cs]),
        weekend=np.array([c.weekend_factor for c in cs]),
        channel=np.array([channel_map[c.channel] for c in cs], dtype=np.int64),
        online_share=np.array([c.online_share for c in cs]),
        overseas_share=np.array([c.overseas_share for c in cs]),
        age_weight=age_weight,
        female_weight=np.array([c.female_weight for c in cs]),
        fraud_weight=np.array([c.fraud_weight for c in cs]),
        recurring=np.array([c.recurring for c in cs]),
        hour_cdf_by_band=hour_cdf,
        home_codes=tuple(h.code for h in home),
        home_weight=np.array([h.weight for h in home], dtype=np.float64),
        home_is_seoul=np.array([h.region.parent_code == "11" for h in home]),
        home_lat=np.array([h.region.lat for h in home], dtype=np.float64),
        home_lon=np.array([h.region.lon for h in home], dtype=np.float64),
        home_names_ko=tuple(h.region.name_ko for h in home),
    )
