"""Back office: the log lines, searched with fixed, parameterised filters (never SQL from HTTP)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel

from cardwise.deps import SettingsDep
from cardwise.logs.query import LogFilter, search
from cardwise.security.principal import BackOfficePrincipal

backoffice = APIRouter(prefix="/backoffice", tags=["back office", "logs"])


class LogLine(BaseModel):
    ts: datetime | None
    level: str | None
    logger: str | None
    message: str | None
    dataset: str | None
    kind: str | None
    action: str | None
    outcome: str | None
    user_id: str | None
    user_name: str | None
    source_ip: str | None
    method: str | None
    path: str | None
    status: int | None
    duration_ns: int | None


@backoffice.get("/logs", response_model=list[LogLine])
async def list_logs(
    settings: SettingsDep,
    _: BackOfficePrincipal,
    kind: Annotated[
        str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="event.action, e.g. http_request")
    ] = None,
    dataset: Annotated[
        str | None, Query(pattern=r"^cardwise\.[a-z]{2,20}$", description="cardwise.access, .security, .session")
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="Lines at or after this moment.")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Text in the message.")] = None,
    user_id: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[LogLine]:
    """Log lines newest first (로그 조회): by action, dataset, time, text and customer."""
    f = LogFilter(action=kind, dataset=dataset, since=since, q=q, user_id=user_id, limit=limit, offset=offset)
    rows = await run_in_threadpool(search, settings.log_dir, f)
    return [LogLine(**r) for r in rows]
