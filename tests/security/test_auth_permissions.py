"""The role→permission map: its validation, its resolution (properties), the analysts' lake tables, and
each role's reach over HTTP (a table written by hand, not derived from the map it checks)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.db.models import Card
from cardwise.lake.schema import TABLES
from cardwise.security.permissions import (
    PERMISSIONS_PATH,
    PermissionsError,
    allowed_lake_tables,
    load_permissions,
    parse_permissions,
    require_permission,
)
from cardwise.security.principal import Principal
from tests.auth_helpers import as_customer, as_staff
from tests.security.auth_fixtures import AuthDb

MAP = load_permissions()
ROLES = sorted(MAP.roles)
OPEN_TABLES = frozenset(t.name for t in TABLES if not t.restricted)


def _principal(*roles: str) -> Principal:
    return Principal(customer_id=None, roles=frozenset(roles))


# --- the file ------------------------------------------------------------------------------------------------------


def _with(extra: str) -> str:
    return PERMISSIONS_PATH.read_text(encoding="utf-8") + extra


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("  spy:\n    description: x\n    permissions: [cards.steal]\n", "unknown permission 'cards.steal'"),
        (
            "  spy:\n    description: x\n    permissions: [lake.read]\n    lake_tables: [secrets]\n",
            "unknown lake table",
        ),
        (
            "  spy:\n    description: x\n    permissions: [lake.read]\n    lake_tables: [customer_identity]\n",
            "'customer_identity' is restricted",
        ),
        ("  spy:\n    description: x\n    permissions: []\n    lake_tables: [transactions]\n", "without lake.read"),
        ("  Spy!:\n    description: x\n    permissions: []\n", "role 'Spy!'"),
        ("  spy:\n    description: x\n    permissions: []\n    admin: true\n", "Extra inputs are not permitted"),
        ("  spy:\n    permissions: []\n", "description"),
    ],
)
def test_a_wrong_map_is_refused_with_the_reason(extra: str, message: str) -> None:
    with pytest.raises(PermissionsError, match=message.replace("(", r"\(")):
        parse_permissions(_with(extra))


def test_not_yaml_and_unknown_permissions_in_code_are_refused() -> None:
    with pytest.raises(PermissionsError, match="not YAML"):
        parse_permissions("roles: [")
    with pytest.raises(PermissionsError, match=r"cards\.stael"):
        require_permission("cards.stael")  # a typo in a view stops the app at import


# --- resolution ----------------------------------------------------------------------------------------------------

role_sets = st.frozensets(st.sampled_from([*ROLES, "ghost", "root"]), max_size=4)


@given(role_sets, role_sets)
def test_permissions_of_several_roles_are_the_union(a: frozenset[str], b: frozenset[str]) -> None:
    assert MAP.resolve(a | b) == MAP.resolve(a) | MAP.resolve(b)
    assert MAP.resolve(a) <= frozenset(MAP.permissions)
    assert MAP.lake_tables(a) <= MAP.lake_tables(a | b) <= OPEN_TABLES
    if "lake.read" not in MAP.resolve(a):
        assert MAP.lake_tables(a) == frozenset()
    if MAP.is_service(a):
        assert all(MAP.roles[r].service for r in a)


def test_who_holds_what() -> None:
    assert MAP.resolve(frozenset({"admin"})) == frozenset(MAP.permissions)
    assert MAP.resolve(frozenset({"ghost"})) == frozenset()
    assert MAP.is_service(frozenset({"switch"})) and not MAP.is_service(frozenset({"switch", "agent"}))
    # No one but administrators both reads any customer and manages users.
    for role in ROLES:
        granted = MAP.resolve(frozenset({role}))
        if role != "admin":
            assert "users.manage" not in granted and "models.promote" not in granted
    # Analysts: the lake and aggregates, no single customer's data.
    analyst = MAP.resolve(frozenset({"analyst"}))
    assert {"customers.read", "customer.own", "cards.read", "marketing.audience"}.isdisjoint(analyst)


def test_analysts_lake_tables() -> None:
    tables = allowed_lake_tables(_principal("analyst"))
    assert {"transactions", "customers", "merchants", "cards"} <= tables
    assert {"customer_identity", "call_transcripts", "transfer_memos", "app_events", "event_log"}.isdisjoint(tables)
    assert allowed_lake_tables(_principal("admin")) == OPEN_TABLES
    assert allowed_lake_tables(_principal("agent")) == frozenset()
    assert allowed_lake_tables(Principal(customer_id=5, roles=frozenset({"customer"}))) == frozenset()


# --- each role's reach over HTTP -----------------------------------------------------------------------------------

EVERYONE_HUMAN = {"customer", "agent", "admin", "analyst", "auditor"}
# (method, path, body, roles that may call it). {cid} and {card} are the calling customer's own.
REACH: list[tuple[str, str, object, set[str]]] = [
    ("GET", "/v1/auth/me", None, {*ROLES}),
    ("GET", "/v1/lake", None, {"analyst", "admin"}),
    ("POST", "/v1/authorizations", {}, {"switch", "admin"}),
    ("POST", "/v1/anomaly", {}, {"switch", "admin"}),
    ("GET", "/v1/cards/{card}/controls", None, {"customer", "agent", "auditor", "admin"}),
    ("PUT", "/v1/cards/{card}/controls", {"max_amount_krw": -1}, {"customer", "agent", "admin"}),
    ("POST", "/v1/cards/{card}/lost-report", {"kind": "?"}, {"customer", "agent", "admin"}),
    ("GET", "/v1/merchants/search?q=cafe", None, EVERYONE_HUMAN),
    ("GET", "/v1/products/CR01/similar", None, EVERYONE_HUMAN),
    ("GET", "/v1/marketing/segments", None, EVERYONE_HUMAN),
    ("GET", "/v1/customers/{cid}/single-view", None, {"customer", "agent", "admin"}),
    ("GET", "/v1/customers/{cid}/recommendations", None, {"customer", "agent", "admin"}),
    ("GET", "/v1/customers/{cid}/report", None, {"customer", "agent", "admin"}),
    ("GET", "/v1/customers/{cid}/triggers", None, {"agent", "admin"}),
    ("GET", "/v1/customers/{cid}/risk", None, {"agent", "admin"}),
    ("GET", "/v1/marketing/segments/summary?target_group=credit", None, {"agent", "analyst", "auditor", "admin"}),
    ("GET", "/v1/marketing/audience?target_group=credit&segment=CAR_CARE&grades=1", None, {"agent", "admin"}),
    ("GET", "/v1/merchants/1/targets", None, {"agent", "admin"}),
    ("GET", "/v1/recommendations/runs", None, {"agent", "analyst", "auditor", "admin"}),
    ("GET", "/v1/backoffice/lost-reports", None, {"agent", "auditor", "admin"}),
    ("POST", "/v1/backoffice/lost-reports/1/close", {}, {"agent", "admin"}),
    ("GET", "/v1/backoffice/family-documents", None, {"agent", "auditor", "admin"}),
    ("POST", "/v1/backoffice/family-documents/1/review", {}, {"agent", "admin"}),
    ("GET", "/v1/backoffice/models", None, {"analyst", "auditor", "admin"}),
    ("GET", "/v1/backoffice/jobs", None, {"analyst", "auditor", "admin"}),
    ("GET", "/v1/family-groups/mine", None, {"customer"}),  # staff, admin too, are not family members
    ("GET", "/v1/voc/campaigns", None, {"agent", "analyst", "auditor", "admin"}),
    ("POST", "/v1/voc/campaigns", {}, {"agent", "admin"}),
    ("POST", "/v1/events", {"events": []}, {"customer", "ingest", "admin"}),
    ("POST", "/v1/voc/transcripts", {}, {"ingest", "admin"}),
]


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_reach(role: str, auth_client: TestClient, auth_db: AuthDb) -> None:
    cid = auth_db.customers[-1]  # read-only use: no other test signs this customer in
    with Session(auth_db.engine) as s:
        card = s.scalar(select(Card.card_id).where(Card.customer_id == cid).limit(1))
    headers = as_customer(cid, auth_db.settings) if role == "customer" else as_staff(role, settings=auth_db.settings)
    wrong: list[str] = []
    for method, path, body, allowed in REACH:
        url = path.format(cid=cid, card=card)
        status = auth_client.request(method, url, json=body, headers=headers).status_code
        if role in allowed and status in (401, 403):
            wrong.append(f"{method} {path}: {status}, expected access")
        elif role not in allowed and status != 403:
            wrong.append(f"{method} {path}: {status}, expected 403")
    assert not wrong, "\n".join(wrong)
