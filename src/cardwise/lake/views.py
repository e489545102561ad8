"""Read-only lake metadata over HTTP (the analyst portal builds on it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from cardwise.deps import SettingsDep
from cardwise.lake.schema import TABLES
from cardwise.lake.store import LakeError, read_manifest
from cardwise.security.permissions import allow, allowed_lake_tables
from cardwise.security.principal import Principal

router = APIRouter(tags=["lake"])


class LakeTable(BaseModel):
    name: str
    description: str
    rows: int
    columns: list[str]


class LakeSummary(BaseModel):
    preset: str
    seed: int
    start: str
    end: str
    tables: list[LakeTable]


@router.get("/lake", response_model=LakeSummary)
def lake_summary(settings: SettingsDep, principal: Annotated[Principal, allow("lake.read")]) -> LakeSummary:
    """The lake's tables the caller may query (per-role table permissions, D4), with row counts."""
    visible = allowed_lake_tables(principal)
    try:
        manifest = read_manifest(settings.lake_dir)
    except LakeError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    counts = manifest["tables"]
    assert isinstance(counts, dict)
    return LakeSummary(
        preset=str(manifest["preset"]),
        seed=int(str(manifest["seed"])),
        start=str(manifest["start"]),
        end=str(manifest["end"]),
        tables=[
            LakeTable(
                name=t.name,
                description=t.description,
                rows=int(counts.get(t.name, 0)),
                columns=[c.name for c in t.columns],
            )
            for t in TABLES
            if not t.restricted and t.name in visible
        ],
    )
