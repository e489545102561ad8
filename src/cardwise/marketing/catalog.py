"""The marketing catalogue (segments, grade scores, target groups, life stages), validated at load."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyarrow as pa
import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from cardwise.reference.categories import load_categories

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
TARGET_GROUPS = ("credit", "check", "simple_pay", "sole_proprietor")


class Segment(BaseModel):
    code: str = Field(pattern=r"^[A-Z][A-Z_]+$")
    name_ko: str
    name_en: str
    categories: list[str] = Field(min_length=1)
    channels: list[str] = Field(default_factory=list)  # spending in these channels counts too (any category)
    min_monthly_krw: int = Field(ge=0)
    min_active_months: int | None = Field(default=None, ge=1)


class TargetGroup(BaseModel):
    name_ko: str
    name_en: str
    card_types: list[str]


class LifeStageDef(BaseModel):
    code: str
    name_ko: str
    name_en: str
    min_age: int | None = None
    max_age: int | None = None


class LifeStageRules(BaseModel):
    childcare_share: float = Field(gt=0, lt=1)
    childcare_categories: list[str]
    stages: list[LifeStageDef]

    def stage(self, code: str) -> LifeStageDef:
        return next(s for s in self.stages if s.code == code)


class Catalog(BaseModel):
    window_months: int = Field(ge=1, le=12)
    min_active_months: int = Field(ge=1)
    grade_scores: dict[int, int]
    revenue_rate: float = Field(gt=0, lt=0.1)
    target_groups: dict[str, TargetGroup]
    segments: list[Segment] = Field(min_length=15)
    life_stage: LifeStageRules

    @field_validator("grade_scores")
    @classmethod
    def _seven_grades(cls, v: dict[int, int]) -> dict[int, int]:
        if sorted(v) != list(range(1, 8)):
            raise ValueError("grade_scores needs grades 1..7")
        if any(v[g] <= v[g + 1] for g in range(1, 7)):
            raise ValueError("grade scores must fall from grade 1 to grade 7")
        return v

    @model_validator(mode="after")
    def _known_codes(self) -> Catalog:
        if tuple(self.target_groups) != TARGET_GROUPS:
            raise ValueError(f"target_groups must be {', '.join(TARGET_GROUPS)}")
        known = {c.code for c in load_categories().categories}
        for seg in self.segments:
            unknown = set(seg.categories) - known
            if unknown:
                raise ValueError(f"segment {seg.code}: unknown categories {sorted(unknown)}")
            if seg.min_active_months is not None and seg.min_active_months > self.window_months:
                raise ValueError(f"segment {seg.code}: min_active_months exceeds the window")
        for c in self.life_stage.childcare_categories:
            if c not in known:
                raise ValueError(f"life_stage: unknown category {c}")
        codes = [s.code for s in self.segments]
        if len(set(codes)) != len(codes):
            raise ValueError("segment codes must be unique")
        return self

    def segment(self, code: str) -> Segment:
        for s in self.segments:
            if s.code == code:
                return s
        raise KeyError(code)

    def segment_rules(self) -> pa.Table:
        """One row per (segment, category or channel) for the SQL that measures segment usage."""
        rows: dict[str, list[object]] = {
            "segment_code": [],
            "category_code": [],
            "channel": [],
            "min_monthly_krw": [],
            "min_active_months": [],
        }
        for s in self.segments:
            active = s.min_active_months or self.min_active_months
            for cat, chan in [(c, None) for c in s.categories] + [(None, ch) for ch in s.channels]:
                rows["segment_code"].append(s.code)
                rows["category_code"].append(cat)
                rows["channel"].append(chan)
                rows["min_monthly_krw"].append(s.min_monthly_krw)
                rows["min_active_months"].append(active)
        return pa.table(
            rows,
            schema=pa.schema(
                [
                    ("segment_code", pa.string()),
                    ("category_code", pa.string()),
                    ("channel", pa.string()),
                    ("min_monthly_krw", pa.int64()),
                    ("min_active_months", pa.int32()),
                ]
            ),
        )

    def grade_score_table(self) -> pa.Table:
        return pa.table(
            {"grade": list(self.grade_scores), "score": list(self.grade_scores.values())},
            schema=pa.schema([("grade", pa.int32()), ("score", pa.int32())]),
        )


def parse_catalog(text: str) -> Catalog:
    return Catalog.model_validate(yaml.safe_load(text))


@cache
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    return parse_catalog(path.read_text(encoding="utf-8"))
