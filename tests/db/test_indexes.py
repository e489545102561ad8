"""Every back-office query has an index to use on PostgreSQL (issue 12: the back office must stay fast on
an issuer's millions of rows, where a sequential scan takes seconds).

The test does not list queries by hand: it calls every back-office GET endpoint (and the agent-facing
customer reads) against a loaded PostgreSQL database, records each SELECT the app sends, and asks the
planner for its plan with sequential scans disabled. With ``enable_seqscan = off`` PostgreSQL still
answers with a sequential scan when no index can serve the query, so such a plan names a missing index.
A new endpoint whose query has no index fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, text

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.db.models import Card, Customer
from tests.auth_helpers import as_staff
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import loaded_database

pytestmark = pytest.mark.postgres

# Tables that stay small whatever the issuer's size: reference data and configuration.
SMALL_TABLES = frozenset({"categories", "regions", "products", "alembic_version", "segments"})

# Agent-facing reads outside /v1/backoffice that the back-office pages use.
AGENT_READS = ("/v1/customers/{customer_id}/single-view", "/v1/customers/{customer_id}/triggers")


def _seq_scans(plan: dict[str, Any]) -> Iterator[str]:
    if plan.get("Node Type") == "Seq Scan":
        yield str(plan.get("Relation Name"))
    for child in plan.get("Plans", []):
        yield from _seq_scans(child)


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory, small_lake: Path) -> Iterator[tuple[str, Engine, Settings]]:
    with ExitStack() as stack:
        url, engine = loaded_database("postgresql", tmp_path_factory.mktemp("idx"), small_lake, stack)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        settings = Settings(
            environment="test",
            database_url=url,
            data_dir=tmp_path_factory.mktemp("var"),
            pan_hmac_key=TEST_PAN_KEY,
            scheduler_enabled=False,
        )
        yield url, engine, settings


def _fill(path: str, ids: dict[str, str]) -> str | None:
    names = re.findall(r"{(\w+)}", path)
    if any(n not in ids for n in names):
        return None
    return path.format(**{n: ids[n] for n in names})


def test_every_back_office_query_can_use_an_index(pg: tuple[str, Engine, Settings]) -> None:
    _, engine, settings = pg
    with engine.connect() as conn:
        customer_id = conn.execute(select(Customer.customer_id).order_by(Customer.customer_id).limit(1)).scalar_one()
        card_id = conn.execute(select(Card.card_id).order_by(Card.card_id).limit(1)).scalar_one()
    ids = {
        "customer_id": str(customer_id),
        "card_id": str(card_id),
        "name": "anomaly",
        "group_id": "1",
        "document_id": "1",
        "report_id": "1",
        "request_id": "1",
    }
    app = create_app(settings)
    paths = sorted(
        p
        for p, operations in app.openapi()["paths"].items()
        if "get" in operations and (p.startswith("/v1/backoffice/") or p in AGENT_READS)
    )
    assert len(paths) >= 8, paths
    captured: list[tuple[str, str, Any]] = []
    current = {"path": ""}

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((current["path"], statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        with TestClient(app, headers=as_staff("admin", "agent", "auditor", actor="index-audit")) as client:
            for path in paths:
                concrete = _fill(path, ids)
                if concrete is None:
                    continue
                current["path"] = path
                response = client.get(concrete)
                assert response.status_code < 500, (path, response.text)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert len({p for p, _, _ in captured}) >= 6, "too few endpoints reached the database"

    missing: list[str] = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET enable_seqscan = off")
        for path, statement, parameters in captured:
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            for table in _seq_scans(plan[0]["Plan"]):
                if table not in SMALL_TABLES:
                    missing.append(f"{path}: sequential scan of {table} in {' '.join(statement.split())[:300]}")
        cursor.execute("RESET enable_seqscan")
    finally:
        raw.close()
    assert not missing, "queries without an index:\n" + "\n".join(sorted(set(missing)))
