"""Merchant categories: the taxonomy and per-category behaviour the synthetic generator samples from.

The data lives in ``data/categories.yaml``; every number there (count shares, amount distributions,
hour profiles, age/gender multipliers, fraud attractiveness) is explained, with its source or the
assumption behind it, in docs/reference-data.md ("Categories and regions"). Validation happens here,
on load, so a bad edit to the YAML fails loudly at import time of the catalog instead of silently
skewing millions of generated transactions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

AGE_BANDS: Final[tuple[str, ...]] = ("20s", "30s", "40s", "50s", "60s", "70s")
HOURS_PER_DAY: Final = 24
SHARE_TOLERANCE: Final = 1e-3
_CODE_PATTERN: Final = r"^[A-Z][A-Z0-9_]*$"
_PROFILE_PATTERN: Final = r"^[a-z][a-z0-9_]*$"

Channel = Literal["offline", "online", "mixed"]


class CategoryGroup(BaseModel):
    """A top-level group (Shinhan-style 대분류) used for reports and coarse segment features."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE_PATTERN)
    name_ko: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class AgeWeights(BaseModel):
    """Multipliers per age band, relative to the all-customer baseline share.

    A model rather than a dict so that the six bands are enforced by the schema (no band missing,
    no unknown band) and so that a frozen :class:`Category` stays hashable.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    age_20s: float = Field(alias="20s", gt=0, le=10)
    age_30s: float = Field(alias="30s", gt=0, le=10)
    age_40s: float = Field(alias="40s", gt=0, le=10)
    age_50s: float = Field(alias="50s", gt=0, le=10)
    age_60s: float = Field(alias="60s", gt=0, le=10)
    age_70s: float = Field(alias="70s", gt=0, le=10)

    def __getitem__(self, band: str) -> float:
        if band not in AGE_BANDS:
            raise KeyError(f"unknown age band {band!r}; expected one of {', '.join(AGE_BANDS)}")
        value: float = getattr(self, f"age_{band}")
        return value

    def as_tuple(self) -> tuple[float, ...]:
        """The weights in :data:`AGE_BANDS` order (20s first), ready for a NumPy row."""
        return tuple(self[band] for band in AGE_BANDS)

    def as_dict(self) -> dict[str, float]:
        return {band: self[band] for band in AGE_BANDS}


class Category(BaseModel):
    """One merchant category and how customers use it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE_PATTERN)
    group: str = Field(pattern=_CODE_PATTERN)
    name_ko: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    share: float = Field(ge=0, le=1, description="Baseline share of transaction count.")
    amount_median_krw: int = Field(gt=0, le=100_000_000)
    amount_sigma: float = Field(gt=0, le=2.5, description="Sigma of log(amount).")
    hour_profile: str = Field(pattern=_PROFILE_PATTERN)
    weekend_factor: float = Field(gt=0, le=5)
    channel: Channel
    online_share: float = Field(ge=0, le=1)
    overseas_share: float = Field(ge=0, le=1)
    age_weights: AgeWeights
    female_weight: float = Field(gt=0, le=10)
    fraud_weight: float = Field(gt=0, le=20)
    prev_month_excluded: bool
    recurring: bool

    @model_validator(mode="before")
    @classmethod
    def _default_online_share(cls, data: Any) -> Any:
        """Offline and online categories imply their online share; only `mixed` must state one."""
        if isinstance(data, dict) and data.get("online_share") is None:
            channel = data.get("channel")
            if channel == "mixed":
                raise ValueError(f"mixed category {data.get('code')} needs an online_share between 0 and 1")
            implied = {"offline": 0.0, "online": 1.0}.get(str(channel))
            if implied is not None:
                data = {**data, "online_share": implied}
        return data

    @model_validator(mode="after")
    def _channel_matches_online_share(self) -> Category:
        if self.channel == "offline" and self.online_share != 0:
            raise ValueError(f"offline category {self.code} must have online_share 0")
        if self.channel == "online" and self.online_share != 1:
            raise ValueError(f"online category {self.code} must have online_share 1")
        if self.channel == "mixed" and not 0 < self.online_share < 1:
            raise ValueError(f"mixed category {self.code} needs an online_share strictly between 0 and 1")
        return self

    @property
    def mean_amount_krw(self) -> float:
        """Mean of the log-normal amount: median x exp(sigma^2 / 2)."""
        return self.amount_median_krw * math.exp(self.amount_sigma**2 / 2)


class CategoryCatalog:
    """All categories, groups and hour profiles, validated together.

    Positions (:meth:`index`) are stable for a given file, so the generator and the models can use
    them as array columns.
    """

    __slots__ = ("_by_code", "_categories", "_groups", "_hour_profiles", "_index")

    def __init__(
        self,
        categories: tuple[Category, ...],
        groups: tuple[CategoryGroup, ...],
        hour_profiles: Mapping[str, tuple[float, ...]],
    ) -> None:
        _check_catalog(categories, groups, hour_profiles)
        self._categories = categories
        self._groups = groups
        self._hour_profiles: Mapping[str, tuple[float, ...]] = MappingProxyType(dict(hour_profiles))
        self._by_code = {c.code: c for c in categories}
        self._index = {c.code: i for i, c in enumerate(categories)}

    @property
    def categories(self) -> tuple[Category, ...]:
        return self._categories

    @property
    def groups(self) -> tuple[CategoryGroup, ...]:
        return self._groups

    @property
    def hour_profiles(self) -> Mapping[str, tuple[float, ...]]:
        """Profile name -> 24 relative weights (read-only view; the catalog is shared via a cache)."""
        return self._hour_profiles

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    def __len__(self) -> int:
        return len(self._categories)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def by_code(self, code: str) -> Category:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown merchant category {code!r}") from None

    def index(self, code: str) -> int:
        """Position of ``code`` in file order."""
        try:
            return self._index[code]
        except KeyError:
            raise KeyError(f"unknown merchant category {code!r}") from None

    def group(self, code: str) -> CategoryGroup:
        """The group with this group code."""
        for g in self._groups:
            if g.code == code:
                return g
        raise KeyError(f"unknown category group {code!r}")

    def hour_weights(self, code: str) -> tuple[float, ...]:
        """The category's hour profile normalised to sum to 1."""
        profile = self._hour_profiles[self.by_code(code).hour_profile]
        total = sum(profile)
        return tuple(w / total for w in profile)

    def amount_shares(self) -> dict[str, float]:
        """Expected share of spending AMOUNT per category (count share x mean amount, normalised)."""
        raw = {c.code: c.share * c.mean_amount_krw for c in self._categories}
        total = sum(raw.values())
        return {code: value / total for code, value in raw.items()}


def _check_catalog(
    categories: tuple[Category, ...],
    groups: tuple[CategoryGroup, ...],
    hour_profiles: Mapping[str, tuple[float, ...]],
) -> None:
    """Cross-record checks that a single record's schema cannot express."""
    if not categories:
        raise ValueError("categories.yaml: no categories defined")
    for kind, codes in (("category", [c.code for c in categories]), ("group", [g.code for g in groups])):
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"categories.yaml: duplicate {kind} codes: {', '.join(dupes)}")
    group_codes = {g.code for g in groups}
    for c in categories:
        if c.group not in group_codes:
            raise ValueError(f"categories.yaml: category {c.code} refers to unknown group {c.group!r}")
        if c.hour_profile not in hour_profiles:
            raise ValueError(
                f"categories.yaml: category {c.code} refers to unknown hour_profile {c.hour_profile!r}; "
                f"defined profiles: {', '.join(sorted(hour_profiles))}"
            )
    total = math.fsum(c.share for c in categories)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"categories.yaml: category shares sum to {total:.6f}, expected 1.0 ± {SHARE_TOLERANCE:g}")


class _ProfileRow(BaseModel):
    """Schema of one hour profile: exactly 24 non-negative weights with a positive total."""

    model_config = ConfigDict(frozen=True)

    weights: tuple[float, ...]

    @field_validator("weights")
    @classmethod
    def _check(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != HOURS_PER_DAY:
            raise ValueError(f"needs {HOURS_PER_DAY} hourly weights, got {len(v)}")
        if any(w < 0 or not math.isfinite(w) for w in v):
            raise ValueError("hourly weights must be finite and non-negative")
        if sum(v) <= 0:
            raise ValueError("hourly weights must not all be zero")
        return v


def _readable(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in err.errors())


def parse_categories(text: str) -> CategoryCatalog:
    """Parse and validate categories YAML text; any problem raises ValueError naming the culprit.

    Exposed (not only :func:`load_categories`) so tests and tools can validate an edited file.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"categories.yaml: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError("categories.yaml: expected a mapping with hour_profiles, groups and categories")
    missing = [k for k in ("hour_profiles", "groups", "categories") if k not in doc]
    if missing:
        raise ValueError(f"categories.yaml: missing top-level keys: {', '.join(missing)}")
    raw_profiles, raw_groups, raw_categories = doc["hour_profiles"], doc["groups"], doc["categories"]
    if not isinstance(raw_profiles, dict):
        raise ValueError("categories.yaml: hour_profiles must map a name to 24 weights")
    if not isinstance(raw_groups, list) or not isinstance(raw_categories, list):
        raise ValueError("categories.yaml: groups and categories must be lists")

    profiles: dict[str, tuple[float, ...]] = {}
    for name, weights in raw_profiles.items():
        try:
            profiles[str(name)] = _ProfileRow(weights=weights).weights
        except ValidationError as exc:
            raise ValueError(f"categories.yaml: hour_profile {name!r}: {_readable(exc)}") from None

    groups: list[CategoryGroup] = []
    for i, raw in enumerate(raw_groups):
        try:
            groups.append(CategoryGroup.model_validate(raw))
        except ValidationError as exc:
            raise ValueError(f"categories.yaml: group #{i + 1}: {_readable(exc)}") from None

    categories: list[Category] = []
    for i, raw in enumerate(raw_categories):
        label = raw.get("code", f"#{i + 1}") if isinstance(raw, dict) else f"#{i + 1}"
        try:
            categories.append(Category.model_validate(raw))
        except ValidationError as exc:
            raise ValueError(f"categories.yaml: category {label}: {_readable(exc)}") from None

    return CategoryCatalog(tuple(categories), tuple(groups), profiles)


@cache
def load_categories() -> CategoryCatalog:
    """The packaged category catalog, parsed once per process."""
    text = files("cardwise.reference").joinpath("data", "categories.yaml").read_text(encoding="utf-8")
    return parse_categories(text)
