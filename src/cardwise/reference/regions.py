"""Korean regions: the 17 first-level divisions, Seoul's 25 districts, and one "overseas" pseudo-region.

Customers live in a home region (weighted by population) and most of their transactions happen
there; overseas transactions use the ``XX`` row. Codes are the administrative (행정구역) codes, so
external data can be joined. Coordinates and populations, and where they come from, are described in
docs/reference-data.md ("Categories and regions").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SEOUL_CODE: Final = "11"
OVERSEAS_CODE: Final = "XX"
# South Korea, Jeju and the islands included; generous enough for Dokdo (131.87 E).
LAT_RANGE: Final = (33.0, 39.0)
LON_RANGE: Final = (124.0, 132.0)
CSV_COLUMNS: Final = ("code", "level", "parent_code", "name_ko", "name_en", "lat", "lon", "population_k")

RegionLevel = Literal["province", "district", "overseas"]


class Region(BaseModel):
    """One row of regions.csv."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^(\d{2}|\d{5}|XX)$")
    level: RegionLevel
    parent_code: str | None = None
    name_ko: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    lat: float | None = None
    lon: float | None = None
    population_k: float = Field(ge=0, description="Residents in thousands (2023, approximate).")

    @field_validator("parent_code", "lat", "lon", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="after")
    def _check_level(self) -> Region:
        if self.level == "overseas":
            if self.code != OVERSEAS_CODE or self.parent_code or self.lat is not None or self.lon is not None:
                raise ValueError(f"the overseas row must be code {OVERSEAS_CODE} with no parent and no coordinates")
            return self
        if self.level == "province":
            if len(self.code) != 2 or self.parent_code is not None:
                raise ValueError(f"province {self.code} needs a 2-digit code and no parent")
        elif self.parent_code is None or len(self.code) != 5 or not self.code.startswith(self.parent_code):
            raise ValueError(f"district {self.code} needs a 5-digit code starting with its parent's code")
        if self.lat is None or self.lon is None:
            raise ValueError(f"domestic region {self.code} needs lat and lon")
        if not (LAT_RANGE[0] <= self.lat <= LAT_RANGE[1] and LON_RANGE[0] <= self.lon <= LON_RANGE[1]):
            raise ValueError(f"region {self.code} at ({self.lat}, {self.lon}) lies outside South Korea")
        if self.population_k <= 0:
            raise ValueError(f"domestic region {self.code} needs a positive population")
        return self

    @property
    def is_domestic(self) -> bool:
        return self.level != "overseas"


@dataclass(frozen=True, slots=True)
class HomeRegion:
    """A region a customer can live in, with its share of the population (all weights sum to 1)."""

    region: Region
    weight: float

    @property
    def code(self) -> str:
        return self.region.code


class RegionCatalog:
    """All regions in file order plus the views the generator needs."""

    __slots__ = ("_by_code", "_home", "_regions")

    def __init__(self, regions: tuple[Region, ...]) -> None:
        _check_catalog(regions)
        self._regions = regions
        self._by_code = {r.code: r for r in regions}
        # Seoul is represented by its districts: a customer lives in a 구, not in "Seoul".
        homes = [r for r in regions if (r.level == "province" and r.code != SEOUL_CODE) or _in_seoul(r)]
        total = sum(r.population_k for r in homes)
        self._home = tuple(HomeRegion(r, r.population_k / total) for r in homes)

    @property
    def regions(self) -> tuple[Region, ...]:
        return self._regions

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    @property
    def provinces(self) -> tuple[Region, ...]:
        return tuple(r for r in self._regions if r.level == "province")

    @property
    def seoul_districts(self) -> tuple[Region, ...]:
        return tuple(r for r in self._regions if _in_seoul(r))

    @property
    def overseas(self) -> Region:
        return self._by_code[OVERSEAS_CODE]

    @property
    def home_regions(self) -> tuple[HomeRegion, ...]:
        return self._home

    def by_code(self, code: str) -> Region:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown region {code!r}") from None

    def province_of(self, code: str) -> Region:
        """The first-level division a region belongs to (itself for a province)."""
        region = self.by_code(code)
        if region.level == "district" and region.parent_code is not None:
            return self.by_code(region.parent_code)
        return region

    def __len__(self) -> int:
        return len(self._regions)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code


def _in_seoul(region: Region) -> bool:
    return region.level == "district" and region.parent_code == SEOUL_CODE


def _check_catalog(regions: tuple[Region, ...]) -> None:
    codes = [r.code for r in regions]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ValueError(f"regions.csv: duplicate region codes: {', '.join(dupes)}")
    known = set(codes)
    for r in regions:
        if r.parent_code is not None and r.parent_code not in known:
            raise ValueError(f"regions.csv: region {r.code} refers to unknown parent {r.parent_code}")
    if sum(r.level == "overseas" for r in regions) != 1:
        raise ValueError(f"regions.csv: expected exactly one overseas row ({OVERSEAS_CODE})")
    if SEOUL_CODE not in known:
        raise ValueError("regions.csv: Seoul (11) is missing")


def parse_regions(text: str) -> RegionCatalog:
    """Parse and validate regions CSV text; any problem raises ValueError naming the row."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise ValueError(f"regions.csv: expected columns {','.join(CSV_COLUMNS)}, got {reader.fieldnames}")
    regions: list[Region] = []
    for line_no, row in enumerate(reader, start=2):
        try:
            regions.append(Region.model_validate(row))
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(row)'}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"regions.csv line {line_no} ({row.get('code')}): {detail}") from None
    return RegionCatalog(tuple(regions))


@cache
def load_regions() -> RegionCatalog:
    """The packaged region catalog, parsed once per process."""
    text = files("cardwise.reference").joinpath("data", "regions.csv").read_text(encoding="utf-8")
    return parse_regions(text)
