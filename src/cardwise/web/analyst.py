"""The analyst portal (/analyst, D4): the lake's tables and their schemas, read-only SQL on DuckDB with a
row limit and a time limit, results as a table or a CSV file. Only the tables the analyst's role may read
are listed, and only they can be queried (``lake/query.py`` locks the connection down); identity data
never appears. Cells that look like card or resident numbers are masked, on the page and in the CSV.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cardwise.deps import SettingsDep
from cardwise.lake import query
from cardwise.security.permissions import allowed_lake_tables
from cardwise.security.principal import Principal
from cardwise.web.deps import PageForm, page_permission
from cardwise.web.i18n import N_
from cardwise.web.templating import render

router = APIRouter(prefix="/analyst", include_in_schema=False)

Analyst = Annotated[Principal, page_permission("lake.read")]
LIMITS = (100, 1_000, 5_000, 10_000)
EXAMPLE = (
    "SELECT category_code, count(*) AS payments, sum(amount_krw) AS amount_krw\n"
    "FROM transactions\nWHERE month = '2023-10'\nGROUP BY 1\nORDER BY 3 DESC\nLIMIT 20"
)


def _portal(
    request: Request,
    principal: Principal,
    settings: SettingsDep,
    *,
    sql: str = EXAMPLE,
    limit: int = 1_000,
    result: query.QueryResult | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    allowed = allowed_lake_tables(principal)
    return render(
        request,
        "analyst/portal.html",
        principal=principal,
        title=N_("Analyst portal"),
        tables=query.table_infos(settings.lake_dir, allowed),
        sql=sql,
        limit=limit,
        limits=LIMITS,
        result=result,
        error=error,
        status_code=status_code,
    )


@router.get("")
def portal(request: Request, principal: Analyst, settings: SettingsDep) -> Response:
    return _portal(request, principal, settings)


def _form_query(form: PageForm) -> tuple[str, int]:
    sql = str(form.get("sql") or "")
    try:
        limit = int(str(form.get("limit") or 1_000))
    except ValueError:
        limit = 1_000
    return sql, limit if limit in LIMITS else 1_000


@router.post("/query")
def run(request: Request, principal: Analyst, settings: SettingsDep, form: PageForm) -> Response:
    sql, limit = _form_query(form)
    try:
        result = query.run_query(
            settings.lake_dir, sql, allowed=allowed_lake_tables(principal), row_limit=limit, timeout_s=10.0
        )
    except query.QueryRefused as exc:
        return _portal(request, principal, settings, sql=sql, limit=limit, error=str(exc), status_code=403)
    except query.QueryFailed as exc:
        return _portal(request, principal, settings, sql=sql, limit=limit, error=str(exc), status_code=422)
    return _portal(request, principal, settings, sql=sql, limit=limit, result=result)


@router.post("/query.csv")
def export_csv(request: Request, principal: Analyst, settings: SettingsDep, form: PageForm) -> Response:
    """The query's rows (up to the CSV limit) as a download; masked like the page."""
    sql, _ = _form_query(form)
    try:
        result = query.run_query(
            settings.lake_dir,
            sql,
            allowed=allowed_lake_tables(principal),
            row_limit=query.CSV_ROW_LIMIT,
            timeout_s=30.0,
        )
    except query.QueryRefused as exc:
        return _portal(request, principal, settings, sql=sql, error=str(exc), status_code=403)
    except query.QueryFailed as exc:
        return _portal(request, principal, settings, sql=sql, error=str(exc), status_code=422)
    return Response(
        query.to_csv(result.columns, result.rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cardwise-query.csv"', "Cache-Control": "no-store"},
    )
