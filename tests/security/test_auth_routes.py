"""Sweeps over every route of the app, so a new endpoint cannot slip through without access control:

- without credentials every API route answers 401 and every page sends the visitor to the login page,
  except an explicit allow-list;
- a customer given another customer's real ids (card, customer, group, invitation, pause …) never gets a 2xx
  (no IDOR), over the API (bearer token) and on the pages (session cookie with its CSRF token), and the other
  customer's data is unchanged afterwards.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.db.models import Card, Customer
from cardwise.db.types import utcnow
from cardwise.family.models import FamilyGroup
from cardwise.safety.models import CardControl, CardPause, LostReport
from tests.auth_helpers import as_customer
from tests.security.auth_fixtures import BASE_URL, PASSWORD, AuthDb

# Routes anyone may call: health and metrics for the load balancer and Prometheus (restrict /metrics by
# network, docs/security.md), the docs, signing in, and the published family bundle rules.
OPEN = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/v1/auth/token"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/session"),
    ("GET", "/v1/family-policy"),
}
# Pages anyone may see: the landing and login pages, language and text-size switches, static files.
OPEN_PAGES = {
    ("GET", "/static/plotly.min.js"),
    ("GET", "/home"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/lang/{code}"),
    ("GET", "/display/{size}"),
}
SYSTEM = {"/", "/healthz", "/metrics"}
# Path parameters that name no customer's object (catalog and model names): routes with only these are not
# part of the IDOR sweep.
PUBLIC_PARAMS = {"product_id", "name", "code", "size"}
PLACEHOLDER = {"product_id": "CR01", "name": "anomaly", "code": "ko", "size": "large"}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    out = []
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            out.extend((m, str(ctx.path)) for m in sorted(ctx.methods or ()) if m != "HEAD")
    return out


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def is_page(path: str) -> bool:
    return not path.startswith("/v1/") and path not in SYSTEM


def test_every_route_needs_credentials_except_the_allow_list(auth_client: TestClient) -> None:
    routes = api_routes(auth_client.app)  # type: ignore[arg-type]
    assert len(routes) >= 60 and set(routes) >= OPEN  # the sweep really sees the app
    unprotected, pages = [], 0
    for method, path in routes:
        if (method, path) in OPEN | OPEN_PAGES:
            continue
        url = re.sub(r"{(\w+)}", lambda m: PLACEHOLDER.get(m.group(1), "1"), path)
        r = auth_client.request(method, url, json={}, follow_redirects=False)
        if is_page(path):
            pages += 1
            if r.status_code != 303 or not r.headers.get("location", "").startswith("/login"):
                unprotected.append(f"page {method} {path} → {r.status_code}")
        elif r.status_code != 401 or not r.headers.get("www-authenticate", "").startswith("Bearer"):
            unprotected.append(f"{method} {path} → {r.status_code}")
    print(f"401 sweep: {len(routes)} routes, {pages} pages")
    assert not unprotected, "routes without authentication:\n" + "\n".join(unprotected)


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def test_no_customer_reaches_another_customers_objects(auth_client: TestClient, auth_db: AuthDb) -> None:
    client = auth_client
    now = utcnow()
    with Session(auth_db.engine) as s:
        # B founds a family group, so B must be 50 or older; A, C and D are anyone with a card.
        older = set(s.scalars(select(Customer.customer_id).where(Customer.birth_year <= now.year - 55)))
        pool = [c for c in reversed(auth_db.customers[:-1]) if c not in auth_db.customers[:40]]
        b = next(c for c in pool if c in older)
        a, c, d = [x for x in pool if x != b][:3]
        b_card = s.scalar(select(Card.card_id).where(Card.customer_id == b, Card.closed_on.is_(None)).limit(1))
        a_card = s.scalar(select(Card.card_id).where(Card.customer_id == a, Card.closed_on.is_(None)).limit(1))
    as_a, as_b = as_customer(a, auth_db.settings), as_customer(b, auth_db.settings)

    # B's objects, made through the API as B.
    group = _ok(client.post("/v1/family-groups", json={"name": "B네"}, headers=as_b), 201)
    gid = group["group_id"]
    inv = _ok(
        client.post(f"/v1/family-groups/{gid}/invitations", json={"relation": "child", "customer_id": c}, headers=as_b),
        201,
    )
    window = {"starts_at": (now + timedelta(days=3)).isoformat(), "ends_at": (now + timedelta(days=4)).isoformat()}
    pause = _ok(client.post(f"/v1/cards/{b_card}/pauses", json=window, headers=as_b), 201)
    ids = {
        "card_id": b_card,
        "customer_id": b,
        "group_id": gid,
        "invitation_id": inv["invitation_id"],
        "pause_id": pause["pause_id"],
        "merchant_id": 1,
        "report_id": 1,
        "document_id": 1,
        "campaign_id": 1,
        "request_id": 1,  # back-office only (privacy requests); customers see theirs without an id
        "run_id": 1,  # back-office only (cluster runs)
    }
    bodies: dict[tuple[str, str], Any] = {  # valid bodies, so a refusal cannot hide behind a 422
        ("PUT", "/v1/cards/{card_id}/controls"): {"block_online": True},
        ("POST", "/v1/cards/{card_id}/pauses"): window,
        ("POST", "/v1/cards/{card_id}/lost-report"): {"kind": "lost"},
        ("POST", "/v1/family-groups/{group_id}/invitations"): {"relation": "child", "customer_id": d},
        ("POST", "/v1/family-groups/{group_id}/what-if"): {"leave_customer_id": b},
        ("POST", "/v1/family-groups/{group_id}/members/{customer_id}/documents"): {
            "kind": "family_relation_certificate",
            "issued_on": now.date().isoformat(),
            "reference": "docs/x.pdf",
        },
        ("POST", "/v1/backoffice/lost-reports/{report_id}/close"): {"reissue": False},
        ("POST", "/v1/backoffice/family-documents/{document_id}/review"): {"decision": "verified"},
        ("POST", "/v1/backoffice/family-groups/{group_id}/members/{customer_id}/remove"): {"reason": "test"},
        ("POST", "/v1/voc/campaigns/{campaign_id}/outcomes"): {"outcomes": []},
    }

    # A on the pages: a real user with a page session (the pages read only the cookie).
    a_user = auth_db.user("customer", customer_id=a, prefix="idor")
    pages = TestClient(client.app, base_url=BASE_URL, follow_redirects=False)
    signed = pages.post("/v1/auth/session", data={"username": a_user, "password": PASSWORD})
    csrf = _ok(signed)["csrf_token"]

    swept, not_found, leaks = 0, 0, []
    for method, path in api_routes(client.app):  # type: ignore[arg-type]
        names = _params(path)
        if not names or set(names) <= PUBLIC_PARAMS:
            continue
        missing = [n for n in names if n not in ids and n not in PUBLIC_PARAMS]
        assert not missing, f"{method} {path}: give the sweep a real id of customer B for {missing}"
        url = re.sub(r"{(\w+)}", lambda m: str(ids.get(m.group(1), PLACEHOLDER.get(m.group(1)))), path)
        if is_page(path):
            r = pages.request(method, url, data={"csrf_token": csrf} if method == "POST" else None)
        else:
            r = client.request(method, url, json=bodies.get((method, path)), headers=as_a)
        swept += 1
        not_found += r.status_code == 404
        if r.status_code not in (403, 404):
            leaks.append(f"{method} {path} → {r.status_code} {r.text[:120]}")
    assert not leaks, "customer A reached customer B's objects:\n" + "\n".join(leaks)
    # The sweep covered the customer routes (cards, own customer views, family): those answer 404.
    print(f"IDOR sweep: {swept} routes, {not_found} answered 404")
    assert swept >= 40 and not_found >= 30, (swept, not_found)

    # B's things are as B left them; A's own card is A's to use (the sweep's control).
    with Session(auth_db.engine) as s:
        assert s.get(FamilyGroup, gid).status == "forming"  # type: ignore[union-attr]
        assert s.get(CardPause, pause["pause_id"]).status == "scheduled"  # type: ignore[union-attr]
        assert s.scalar(select(LostReport.report_id).where(LostReport.card_id == b_card)) is None
        control = s.get(CardControl, b_card)
        assert control is None or not control.block_online
    assert _ok(client.get(f"/v1/family-groups/{gid}/pending", headers=as_b))["group_id"] == gid
    assert client.put(f"/v1/cards/{a_card}/controls", json={"block_online": True}, headers=as_a).status_code == 200
    assert client.get(f"/v1/customers/{a}/single-view", headers=as_a).status_code in (200, 404)  # no batch run here


def test_a_new_route_without_auth_fails_the_sweep(auth_db: AuthDb) -> None:
    """The sweep's own check: an endpoint added without a dependency is reported."""
    app = create_app(auth_db.settings)

    @app.get("/v1/cards/{card_id}/secret")
    def leak(card_id: int) -> dict[str, int]:
        return {"card_id": card_id}

    with TestClient(app) as c:
        assert ("GET", "/v1/cards/{card_id}/secret") in api_routes(app)
        assert c.get("/v1/cards/1/secret").status_code == 200  # what the 401 sweep would flag
