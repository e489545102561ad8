"""Steps the API tests share: found a group, invite, accept, send and verify proofs, read the outbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.db.types import utcnow
from cardwise.family.rules import SEOUL
from cardwise.notify.models import OutboxMessage
from tests.family.conftest import AGENT, FamilyDb, as_customer

PROOF_FOR = {
    "spouse": "family_relation_certificate",
    "child": "family_relation_certificate",
    "parent": "family_relation_certificate",
    "sibling": "family_relation_certificate",
    "grandparent": "family_relation_certificate",
    "grandchild": "family_relation_certificate",
    "in_law": "family_relation_certificate",
    "cohabitant": "resident_registration_abstract",
    "unmarried_partner": "resident_registration_abstract",
}


def today() -> date:
    return utcnow().astimezone(SEOUL).date()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def create_group(client: TestClient, rep: int, name: str = "우리 가족") -> dict[str, Any]:
    return ok(client.post("/v1/family-groups", json={"name": name}, headers=as_customer(rep)), 201)


def invite(
    client: TestClient, group_id: int, rep: int, invitee: int, relation: str, *, db: FamilyDb | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"relation": relation}
    if db is not None:
        body["phone"] = db.phone(invitee)
    else:
        body["customer_id"] = invitee
    r = client.post(f"/v1/family-groups/{group_id}/invitations", json=body, headers=as_customer(rep))
    assert r.status_code in (200, 201), r.text
    return r.json()


def accept(client: TestClient, invitation_id: int, customer_id: int) -> dict[str, Any]:
    return ok(client.post(f"/v1/family-invitations/{invitation_id}/accept", headers=as_customer(customer_id)))


def submit_proof(
    client: TestClient, group_id: int, actor: int, member: int, relation: str, **overrides: Any
) -> dict[str, Any]:
    body = {
        "kind": PROOF_FOR[relation],
        "issued_on": today().isoformat(),
        "reference": f"docs/{group_id}/{member}.pdf",
        **({"same_address": True} if PROOF_FOR[relation] == "resident_registration_abstract" else {}),
        **overrides,
    }
    return ok(
        client.post(f"/v1/family-groups/{group_id}/members/{member}/documents", json=body, headers=as_customer(actor)),
        201,
    )


def review(client: TestClient, document_id: int, decision: str = "verified", note: str | None = None) -> dict:
    body: dict[str, Any] = {"decision": decision}
    if note is not None:
        body["note"] = note
    return ok(client.post(f"/v1/backoffice/family-documents/{document_id}/review", json=body, headers=AGENT))


def join(client: TestClient, group_id: int, rep: int, member: int, relation: str, *, verify: bool = True) -> None:
    inv = invite(client, group_id, rep, member, relation)
    accept(client, inv["invitation_id"], member)
    if verify:
        doc = submit_proof(client, group_id, rep, member, relation)
        review(client, doc["document_id"])


def family(
    client: TestClient, db: FamilyDb, *relations: tuple[str, str], rep_older: bool = True
) -> tuple[int, int, list[int]]:
    """A group whose representative is older (or not) with verified members: (group_id, rep, members)."""
    rep = next(db.older) if rep_older else next(db.younger)
    group_id = create_group(client, rep)["group_id"]
    members = []
    for relation, age in relations:
        member = next(db.older) if age == "older" else next(db.younger)
        join(client, group_id, rep, member, relation)
        members.append(member)
    return group_id, rep, members


def outbox(db: FamilyDb, customer_id: int | None = None, kind: str | None = None) -> list[OutboxMessage]:
    q = select(OutboxMessage).order_by(OutboxMessage.message_id)
    if customer_id is not None:
        q = q.where(OutboxMessage.customer_id == customer_id)
    if kind is not None:
        q = q.where(OutboxMessage.kind == kind)
    with Session(db.engine) as s:
        return list(s.execute(q).scalars())


def group(client: TestClient, group_id: int, customer_id: int) -> dict[str, Any]:
    return ok(client.get(f"/v1/family-groups/{group_id}", headers=as_customer(customer_id)))


def benefits(client: TestClient, group_id: int, customer_id: int, on: date | None = None) -> dict[str, Any]:
    params = {"date": on.isoformat()} if on else {}
    return ok(client.get(f"/v1/family-groups/{group_id}/benefits", params=params, headers=as_customer(customer_id)))
