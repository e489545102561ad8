"""The family bundle over HTTP on SQLite and PostgreSQL: groups, invitations, proofs, benefits,
who may see and do what, and the notifications every step leaves in the outbox."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.family.models import FamilyInvitation, FamilyMembership
from cardwise.family.policy import DEFAULT_POLICY_PATH
from tests.family.conftest import AGENT, FamilyDb, as_customer
from tests.family.helpers import (
    accept,
    benefits,
    create_group,
    family,
    group,
    invite,
    join,
    ok,
    outbox,
    review,
    submit_proof,
    today,
)

FULL_PHONE = re.compile(r"01[016789]-?[0-9]{3,4}-?[0-9]{4}")
INVITATION_FIELDS = {"invitation_id", "group_id", "relation", "relation_ko", "invitee", "via", "status"} | {
    "created_at",
    "expires_at",
}


# --- identity and access --------------------------------------------------------------------------------------


def test_no_identity_is_401(client: TestClient) -> None:
    assert client.post("/v1/family-groups", json={}).status_code == 401
    assert client.get("/v1/family-groups/1/benefits").status_code == 401
    # The interim gateway headers no longer identify anyone; a malformed bearer token is refused.
    assert client.get("/v1/family-groups/1", headers={"X-Customer-Id": "12"}).status_code == 401
    assert client.get("/v1/backoffice/family-documents", headers={"X-Roles": "agent"}).status_code == 401
    assert client.get("/v1/family-groups/1", headers={"Authorization": "Bearer 12x"}).status_code == 401


def test_another_familys_group_is_404_and_staff_need_the_back_office(client: TestClient, db: FamilyDb) -> None:
    gid, rep, (child,) = family(client, db, ("child", "younger"))
    stranger = next(db.younger)
    for path in ("", "/benefits", "/history", "/pending"):
        r = client.get(f"/v1/family-groups/{gid}{path}", headers=as_customer(stranger))
        assert r.status_code == 404 and r.json()["detail"] == "family group not found", path
    # The same answer as for a group that does not exist: existence is not revealed.
    assert client.get("/v1/family-groups/999999", headers=as_customer(stranger)).json() == {
        "detail": "family group not found"
    }
    writes = [
        ("post", f"/v1/family-groups/{gid}/invitations", {"relation": "child", "customer_id": stranger}),
        ("post", f"/v1/family-groups/{gid}/leave", None),
        ("post", f"/v1/family-groups/{gid}/dissolve", None),
        ("delete", f"/v1/family-groups/{gid}/members/{child}", None),
        ("post", f"/v1/family-groups/{gid}/what-if", {"leave_customer_id": child}),
    ]
    for method, path, body in writes:
        r = client.request(method, path, json=body, headers=as_customer(stranger))
        assert r.status_code == 404, (path, r.text)
    # Staff without a customer identity cannot act as a customer; customers cannot use the back office.
    assert client.get(f"/v1/family-groups/{gid}/benefits", headers=AGENT).status_code == 403
    assert client.get("/v1/backoffice/family-documents", headers=as_customer(rep)).status_code == 403
    assert client.get(f"/v1/backoffice/family-groups/{gid}", headers=as_customer(rep)).status_code == 403
    assert client.get(f"/v1/backoffice/family-groups/{gid}", headers=AGENT).status_code == 200
    assert group(client, gid, child)["group_id"] == gid


def test_representative_only_actions_are_403_for_members(client: TestClient, db: FamilyDb) -> None:
    gid, rep, (spouse,) = family(client, db, ("spouse", "older"))
    other = next(db.younger)
    h = as_customer(spouse)
    assert (
        client.post(
            f"/v1/family-groups/{gid}/invitations", json={"relation": "child", "customer_id": other}, headers=h
        ).status_code
        == 403
    )
    assert client.get(f"/v1/family-groups/{gid}/pending", headers=h).status_code == 403
    assert client.delete(f"/v1/family-groups/{gid}/members/{rep}", headers=h).status_code == 403
    assert client.post(f"/v1/family-groups/{gid}/dissolve", headers=h).status_code == 403
    # …but a member reads the group and its benefits.
    assert group(client, gid, spouse)["eligible"] is True
    assert benefits(client, gid, spouse)["eligible"] is True


# --- groups -----------------------------------------------------------------------------------------------------


def test_create_group_forms_until_it_qualifies(client: TestClient, db: FamilyDb) -> None:
    rep = next(db.older)
    out = create_group(client, rep, "  김씨네  ")
    assert out["name"] == "김씨네" and out["status"] == "forming" and out["status_ko"] == "가족을 모으는 중"
    assert out["representative_customer_id"] == rep and out["forming_deadline"] is not None
    (me,) = out["members"]
    assert me["relation"] == "self" and me["is_representative"] and me["counted"] and me["older_member"]
    assert re.fullmatch(r".○+", me["display_name"])
    assert [p["code"] for p in out["problems"]] == ["TOO_FEW_MEMBERS"]
    assert ok(client.get("/v1/family-groups/mine", headers=as_customer(rep)))["group_id"] == out["group_id"]
    again = client.post("/v1/family-groups", json={}, headers=as_customer(rep))
    assert again.status_code == 409 and "already in family group" in again.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "   "}, {"name": "x" * 41}, {"name": "a\x00b"}, {"name": "ok", "extra": 1}, {"name": 5}],
)
def test_create_group_rejects_bad_input(client: TestClient, db: FamilyDb, body: dict) -> None:
    r = client.post("/v1/family-groups", json=body, headers=as_customer(next(db.younger)))
    assert r.status_code == 422, r.text


def test_unknown_customer_and_no_group(client: TestClient) -> None:
    assert client.post("/v1/family-groups", json={}, headers=as_customer(987654321)).status_code == 404
    assert client.get("/v1/family-groups/mine", headers=as_customer(987654321)).status_code == 404


# --- invitations --------------------------------------------------------------------------------------------------


def test_invite_by_phone_masks_the_number_and_notifies_the_invitee(client: TestClient, db: FamilyDb) -> None:
    rep, daughter = next(db.older), next(db.younger)
    gid = create_group(client, rep)["group_id"]
    phone = db.phone(daughter)
    r = client.post(
        f"/v1/family-groups/{gid}/invitations",
        json={"relation": "child", "phone": phone.replace("-", "")},
        headers=as_customer(rep),
    )
    assert r.status_code == 201, r.text
    inv = r.json()
    assert inv["invitee"] == f"010-****-{phone[-4:]}" and inv["via"] == "phone" and inv["status"] == "pending"
    assert not FULL_PHONE.search(r.text) and phone[4:8] not in r.text
    (msg,) = outbox(db, daughter, "family_invited")
    assert "자녀" in msg.body and "초대" in msg.subject and msg.payload["group_id"] == gid
    # Asking again returns the same pending invitation (200), with no second message.
    again = client.post(
        f"/v1/family-groups/{gid}/invitations", json={"relation": "child", "phone": phone}, headers=as_customer(rep)
    )
    assert again.status_code == 200 and again.json()["invitation_id"] == inv["invitation_id"]
    assert len(outbox(db, daughter, "family_invited")) == 1
    # The invitee sees it (masked representative name) and the representative sees it in the group.
    mine = ok(client.get("/v1/family-invitations", headers=as_customer(daughter)))
    assert [i["invitation_id"] for i in mine] == [inv["invitation_id"]] and "○" in mine[0]["representative_name"]
    assert [i["invitation_id"] for i in group(client, gid, rep)["invitations"]] == [inv["invitation_id"]]


def test_an_unknown_number_gets_the_same_answer_and_no_message(client: TestClient, db: FamilyDb) -> None:
    rep = next(db.older)
    gid = create_group(client, rep)["group_id"]
    known = set(db.phones.values())
    unknown = next(f"010-9{n:03d}-{n:04d}" for n in range(1000) if f"010-9{n:03d}-{n:04d}" not in known)
    before = len(outbox(db))
    r = client.post(
        f"/v1/family-groups/{gid}/invitations", json={"relation": "sibling", "phone": unknown}, headers=as_customer(rep)
    )
    assert r.status_code == 201 and set(r.json()) == INVITATION_FIELDS  # the same shape as for a customer
    assert r.json()["invitee"].startswith("010-****-") and len(outbox(db)) == before
    with Session(db.engine) as s:
        row = s.get(FamilyInvitation, r.json()["invitation_id"])
        assert row is not None and row.invitee_customer_id is None and unknown not in row.invitee_key


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"relation": "child"}, "exactly one of phone or customer_id"),
        ({"relation": "child", "phone": "010-1234-5678", "customer_id": 5}, "exactly one of phone or customer_id"),
        ({"relation": "child", "phone": "02-123-4567"}, "not a Korean mobile number"),
        ({"relation": "child", "phone": "phone"}, "not a Korean mobile number"),
        ({"relation": "neighbour", "customer_id": 5}, "unknown relation"),
        ({"relation": "Child!", "customer_id": 5}, "pattern"),
        ({"relation": "child", "customer_id": 0}, "greater than 0"),
        ({"relation": "child", "customer_id": "x"}, "integer"),
    ],
)
def test_invitation_input_is_checked(client: TestClient, db: FamilyDb, body: dict, message: str) -> None:
    rep = next(db.older)
    gid = create_group(client, rep)["group_id"]
    r = client.post(f"/v1/family-groups/{gid}/invitations", json=body, headers=as_customer(rep))
    assert r.status_code == 422 and message in r.text, r.text


def test_self_invitation_and_existing_member(client: TestClient, db: FamilyDb) -> None:
    gid, rep, (child,) = family(client, db, ("child", "younger"))
    r = client.post(
        f"/v1/family-groups/{gid}/invitations", json={"relation": "child", "customer_id": rep}, headers=as_customer(rep)
    )
    assert r.status_code == 422 and "yourself" in r.json()["detail"]
    r = client.post(
        f"/v1/family-groups/{gid}/invitations",
        json={"relation": "child", "customer_id": child},
        headers=as_customer(rep),
    )
    assert r.status_code == 409 and "already a member" in r.json()["detail"]


def test_accept_decline_and_whose_invitation(client: TestClient, db: FamilyDb) -> None:
    rep, son, stranger = next(db.older), next(db.younger), next(db.younger)
    gid = create_group(client, rep)["group_id"]
    inv = invite(client, gid, rep, son, "child")
    # Only the invitee can answer; to anyone else the invitation does not exist.
    assert (
        client.post(f"/v1/family-invitations/{inv['invitation_id']}/accept", headers=as_customer(stranger)).status_code
        == 404
    )
    assert (
        client.post(f"/v1/family-invitations/{inv['invitation_id']}/accept", headers=as_customer(rep)).status_code
        == 404
    )
    out = accept(client, inv["invitation_id"], son)
    me = next(m for m in out["members"] if m["customer_id"] == son)
    assert me["proof_status"] == "missing" and not me["counted"] and out["status"] == "forming"
    assert [m.kind for m in outbox(db, son)] == ["family_invited", "family_proof_needed"]
    assert [m.kind for m in outbox(db, rep)] == ["family_joined"]
    twice = client.post(f"/v1/family-invitations/{inv['invitation_id']}/accept", headers=as_customer(son))
    assert twice.status_code == 409 and "already accepted" in twice.json()["detail"]
    # A declined invitation cannot be accepted afterwards.
    daughter = next(db.younger)
    inv2 = invite(client, gid, rep, daughter, "child")
    declined = ok(client.post(f"/v1/family-invitations/{inv2['invitation_id']}/decline", headers=as_customer(daughter)))
    assert declined["group_id"] == gid
    late = client.post(f"/v1/family-invitations/{inv2['invitation_id']}/accept", headers=as_customer(daughter))
    assert late.status_code == 409 and "declined" in late.json()["detail"]


def test_cancelled_invitation(client: TestClient, db: FamilyDb) -> None:
    rep, son = next(db.older), next(db.younger)
    gid = create_group(client, rep)["group_id"]
    inv = invite(client, gid, rep, son, "child")
    out = ok(client.delete(f"/v1/family-groups/{gid}/invitations/{inv['invitation_id']}", headers=as_customer(rep)))
    assert out["status"] == "cancelled"
    assert (
        client.post(f"/v1/family-invitations/{inv['invitation_id']}/accept", headers=as_customer(son)).status_code
        == 409
    )
    assert (
        client.delete(
            f"/v1/family-groups/{gid}/invitations/{inv['invitation_id']}", headers=as_customer(rep)
        ).status_code
        == 409
    )


def test_a_customer_in_a_group_cannot_join_another(client: TestClient, db: FamilyDb) -> None:
    _, _, (child,) = family(client, db, ("child", "younger"))
    other_rep = next(db.older)
    other = create_group(client, other_rep)["group_id"]
    inv = invite(client, other, other_rep, child, "in_law")
    r = client.post(f"/v1/family-invitations/{inv['invitation_id']}/accept", headers=as_customer(child))
    assert r.status_code == 409 and "already in a family group" in r.json()["detail"]


def test_spouse_limit(client: TestClient, db: FamilyDb) -> None:
    gid, rep, _ = family(client, db, ("spouse", "older"))
    r = client.post(
        f"/v1/family-groups/{gid}/invitations",
        json={"relation": "spouse", "customer_id": next(db.older)},
        headers=as_customer(rep),
    )
    assert r.status_code == 409 and "at most 1 spouse" in r.json()["detail"]


# --- proofs and the back office --------------------------------------------------------------------------------------


def test_proof_rules(client: TestClient, db: FamilyDb) -> None:
    rep, mate, son = next(db.older), next(db.younger), next(db.younger)
    gid = create_group(client, rep)["group_id"]
    accept(client, invite(client, gid, rep, mate, "cohabitant")["invitation_id"], mate)
    accept(client, invite(client, gid, rep, son, "child")["invitation_id"], son)
    url = f"/v1/family-groups/{gid}/members/{mate}/documents"
    base = {"kind": "resident_registration_abstract", "issued_on": today().isoformat(), "reference": "docs/1.pdf"}
    cases = [
        ({**base, "kind": "family_relation_certificate", "same_address": True}, "resident-registration abstract"),
        ({**base, "same_address": False}, "same address"),
        ({**base, "same_address": True, "issued_on": (today() - timedelta(days=200)).isoformat()}, "6 months"),
        ({**base, "same_address": True, "issued_on": (today() + timedelta(days=2)).isoformat()}, "future"),
        ({**base, "same_address": True, "issued_on": "2024-02-30"}, "date"),
        ({**base, "same_address": True, "reference": "docs/scan 1.pdf"}, "pattern"),
    ]
    for body, message in cases:
        r = client.post(url, json=body, headers=as_customer(mate))
        assert r.status_code == 422 and message in r.text, (body, r.text)
    # A path-traversal reference does not even reach the view: the firewall refuses it (issue 11).
    r = client.post(
        url, json={**base, "same_address": True, "reference": "../../etc/passwd"}, headers=as_customer(mate)
    )
    assert r.status_code == 403 and r.json()["reference"], r.text
    # The member's own upload; a second one while the first is under review is a conflict.
    doc = submit_proof(client, gid, mate, mate, "cohabitant")
    assert doc["status"] == "pending" and doc["customer_id"] == mate
    r = client.post(url, json={**base, "same_address": True}, headers=as_customer(mate))
    assert r.status_code == 409 and "being reviewed" in r.json()["detail"]
    # One member cannot send another member's documents; the representative can.
    r = client.post(
        f"/v1/family-groups/{gid}/members/{son}/documents",
        json={**base, "kind": "family_relation_certificate"},
        headers=as_customer(mate),
    )
    assert r.status_code == 403
    assert submit_proof(client, gid, rep, son, "child")["status"] == "pending"
    # The representative has nothing to prove.
    r = client.post(
        f"/v1/family-groups/{gid}/members/{rep}/documents",
        json={**base, "kind": "family_relation_certificate"},
        headers=as_customer(rep),
    )
    assert r.status_code == 409


def test_verification_starts_the_bundle_and_tells_everyone(client: TestClient, db: FamilyDb) -> None:
    rep, daughter = next(db.older), next(db.younger)
    gid = create_group(client, rep)["group_id"]
    accept(client, invite(client, gid, rep, daughter, "child")["invitation_id"], daughter)
    doc = submit_proof(client, gid, rep, daughter, "child")
    pending = ok(client.get("/v1/backoffice/family-documents", headers=AGENT))
    assert doc["document_id"] in [d["document_id"] for d in pending]
    out = review(client, doc["document_id"])
    assert out["status"] == "verified" and out["reviewed_by"] == "agent:agent-7"
    g = group(client, gid, daughter)
    assert g["status"] == "active" and g["eligible"] and g["qualified_at"] is not None
    for who in (rep, daughter):
        (msg,) = outbox(db, who, "family_qualified")
        assert "0.1%p" in msg.body and msg.payload["body_en"]
    assert [m.kind for m in outbox(db, daughter)][-2:] == ["family_proof_verified", "family_qualified"]
    again = client.post(
        f"/v1/backoffice/family-documents/{doc['document_id']}/review", json={"decision": "verified"}, headers=AGENT
    )
    assert again.status_code == 409
    assert (
        client.post(
            "/v1/backoffice/family-documents/999999/review", json={"decision": "verified"}, headers=AGENT
        ).status_code
        == 404
    )


def test_rejection_needs_a_note_and_shows_in_pending_items(client: TestClient, db: FamilyDb) -> None:
    rep, son = next(db.older), next(db.younger)
    gid = create_group(client, rep)["group_id"]
    accept(client, invite(client, gid, rep, son, "child")["invitation_id"], son)
    doc = submit_proof(client, gid, son, son, "child")
    url = f"/v1/backoffice/family-documents/{doc['document_id']}/review"
    assert client.post(url, json={"decision": "rejected"}, headers=AGENT).status_code == 422
    assert client.post(url, json={"decision": "maybe"}, headers=AGENT).status_code == 422
    review(client, doc["document_id"], "rejected", "발급일이 보이지 않습니다")
    (msg,) = outbox(db, son, "family_proof_rejected")
    assert "발급일이 보이지 않습니다" in msg.body
    items = ok(client.get(f"/v1/family-groups/{gid}/pending", headers=as_customer(rep)))
    member = next(m for m in items["members"] if m["customer_id"] == son)
    assert member["items"][0]["code"] == "PROOF_REJECTED" and member["items"][0]["action"] == "upload_proof"
    # A new document can be sent after a rejection.
    assert submit_proof(client, gid, rep, son, "child")["status"] == "pending"


def test_pending_items_per_member_for_the_representative(client: TestClient, db: FamilyDb) -> None:
    rep, dad, son, invited = next(db.younger), next(db.older), next(db.younger), next(db.younger)
    gid = create_group(client, rep)["group_id"]
    accept(client, invite(client, gid, rep, dad, "parent")["invitation_id"], dad)
    accept(client, invite(client, gid, rep, son, "child")["invitation_id"], son)
    submit_proof(client, gid, son, son, "child")
    inv = invite(client, gid, rep, invited, "sibling", db=db)
    out = ok(client.get(f"/v1/family-groups/{gid}/pending", headers=as_customer(rep)))
    assert out["status"] == "forming"
    assert {i["code"] for i in out["group_items"]} == {"TOO_FEW_MEMBERS", "NO_OLDER_MEMBER"}
    by_member = {m["customer_id"]: m for m in out["members"]}
    assert by_member[rep]["items"] == []
    assert (
        by_member[dad]["items"][0]["code"] == "PROOF_MISSING"
        and "가족관계증명서를" in by_member[dad]["items"][0]["message_ko"]
    )
    assert by_member[son]["items"][0]["code"] == "PROOF_UNDER_REVIEW"
    waiting = by_member[None]
    assert waiting["invitation_id"] == inv["invitation_id"] and waiting["items"][0]["code"] == "INVITATION_PENDING"
    assert waiting["display_name"].startswith("010-****-") and not FULL_PHONE.search(str(out))


# --- benefits and what-if -------------------------------------------------------------------------------------------


def test_benefits_by_size_with_rules_and_tier_change_notice(client: TestClient, db: FamilyDb) -> None:
    gid, rep, (spouse,) = family(client, db, ("spouse", "older"))
    two = benefits(client, gid, rep)
    assert two["eligible"] and two["members_counted"] == 2 and two["size_tier"] == 2
    assert two["amounts"]["savings_bonus_pp"] in (0.1, 0.3)  # +0.2 when a member is 70 or over
    assert two["rules"][0]["code"] == "SIZE_TIER" and "가족 2명" in two["rules"][0]["message_ko"]
    assert {m["customer_id"] for m in two["members"]} == {rep, spouse}
    assert all(m["counted"] and m["point_pooling"] for m in two["members"])
    son = next(db.younger)
    join(client, gid, rep, son, "child")
    three = benefits(client, gid, rep)
    assert three["size_tier"] == 3
    assert three["amounts"]["savings_bonus_pp"] == pytest.approx(two["amounts"]["savings_bonus_pp"] + 0.1)
    (notice,) = outbox(db, spouse, "family_tier_changed")
    assert f"{three['amounts']['savings_bonus_pp']:g}%p" in notice.body
    # Any past date is computed from the kept history: before the group existed there was nothing.
    past = benefits(client, gid, rep, today() - timedelta(days=400))
    assert not past["eligible"] and past["members_counted"] == 0 and past["rules"][0]["code"] == "NOT_QUALIFIED"
    future = benefits(client, gid, rep, today() + timedelta(days=365 * 2))
    assert future["tenure_days"] > three["tenure_days"]


@pytest.mark.parametrize("value", ["2024-13-01", "yesterday", "1899-01-01", "2300-01-01"])
def test_benefits_date_is_checked(client: TestClient, db: FamilyDb, value: str) -> None:
    gid, rep, _ = family(client, db)
    r = client.get(f"/v1/family-groups/{gid}/benefits", params={"date": value}, headers=as_customer(rep))
    assert r.status_code == 422, r.text


def test_what_if_your_daughter_joins(client: TestClient, db: FamilyDb) -> None:
    gid, rep, (spouse,) = family(client, db, ("spouse", "older"))
    url = f"/v1/family-groups/{gid}/what-if"
    out = ok(client.post(url, json={"join": {"relation": "child", "birth_year": 1998}}, headers=as_customer(spouse)))
    assert out["after"]["amounts"]["savings_bonus_pp"] > out["before"]["amounts"]["savings_bonus_pp"]
    assert out["message_ko"].startswith("자녀가 함께하시면 적금 우대금리가") and "올라갑니다" in out["message_ko"]
    assert out["message_en"].startswith("If your child joins")
    leave = ok(client.post(url, json={"leave_customer_id": spouse}, headers=as_customer(rep)))
    assert not leave["after"]["eligible"] and "조건을 채우지 못합니다" in leave["message_ko"]
    for body in (
        {},
        {"join": {"relation": "child"}},
        {"join": {"relation": "child", "birth_year": 1800}},
        {"join": {"relation": "pet", "birth_year": 2000}},
        {"leave_customer_id": 424242},
        {"join": {"relation": "child", "birth_year": 2000, "prior_tenure_years": -1}},
    ):
        r = client.post(url, json=body, headers=as_customer(rep))
        assert r.status_code == 422, (body, r.text)


# --- leaving, grace, rejoining ---------------------------------------------------------------------------------


def test_older_member_leaves_grace_then_rejoins_with_the_same_proof(client: TestClient, db: FamilyDb) -> None:
    rep, grandma = next(db.younger), next(db.older)
    gid = create_group(client, rep)["group_id"]
    join(client, gid, rep, grandma, "grandparent")
    assert group(client, gid, rep)["status"] == "active"
    out = ok(client.post(f"/v1/family-groups/{gid}/leave", headers=as_customer(grandma)))
    assert out["status"] == "grace" and out["grace_deadline"] is not None
    assert [p["code"] for p in out["problems"]] == ["TOO_FEW_MEMBERS", "NO_OLDER_MEMBER"]
    (grace,) = outbox(db, rep, "family_grace")
    assert "50세 이상 가족 없음" in grace.body and "해지" in grace.body
    assert [m.kind for m in outbox(db, rep)][-2:] == ["family_left", "family_grace"]
    assert not benefits(client, gid, rep)["eligible"]
    # She comes back within the grace period: her verified certificate is still recent, so she counts at once.
    accept(client, invite(client, gid, rep, grandma, "grandparent")["invitation_id"], grandma)
    back = group(client, gid, rep)
    assert back["status"] == "active" and back["grace_deadline"] is None
    assert next(m for m in back["members"] if m["customer_id"] == grandma)["proof_status"] == "verified"
    assert len(outbox(db, rep, "family_requalified")) == 1
    with Session(db.engine) as s:
        stints = (
            s.execute(
                select(FamilyMembership)
                .where(FamilyMembership.customer_id == grandma)
                .order_by(FamilyMembership.joined_at)
            )
            .scalars()
            .all()
        )
    assert [(m.leave_reason, m.left_at is None) for m in stints] == [("left", False), (None, True)]
    kinds = [e["kind"] for e in ok(client.get(f"/v1/family-groups/{gid}/history", headers=as_customer(rep)))]
    assert kinds[:1] == ["created"] and "grace_started" in kinds and kinds[-1] == "requalified"


def test_representative_must_name_a_verified_successor(client: TestClient, db: FamilyDb) -> None:
    gid, rep, (spouse,) = family(client, db, ("spouse", "older"))
    son = next(db.younger)
    accept(client, invite(client, gid, rep, son, "child")["invitation_id"], son)
    url = f"/v1/family-groups/{gid}/leave"
    r = client.post(url, headers=as_customer(rep))
    assert r.status_code == 422 and "new representative" in r.json()["detail"]
    r = client.post(url, json={"new_representative_customer_id": son}, headers=as_customer(rep))
    assert r.status_code == 422 and "verified" in r.json()["detail"]
    r = client.post(url, json={"new_representative_customer_id": 5}, headers=as_customer(rep))
    assert r.status_code == 422
    r = client.post(url, json={"new_representative_customer_id": rep}, headers=as_customer(spouse))
    assert r.status_code == 422 and "only the representative" in r.json()["detail"]
    out = ok(client.post(url, json={"new_representative_customer_id": spouse}, headers=as_customer(rep)))
    assert out["representative_customer_id"] == spouse
    assert {m["customer_id"] for m in group(client, gid, spouse)["members"]} == {spouse, son}
    assert client.get(f"/v1/family-groups/{gid}", headers=as_customer(rep)).status_code == 404


def test_removal_by_representative_and_back_office(client: TestClient, db: FamilyDb) -> None:
    gid, rep, (spouse, son, daughter) = family(
        client, db, ("spouse", "older"), ("child", "younger"), ("child", "younger")
    )
    assert client.delete(f"/v1/family-groups/{gid}/members/{rep}", headers=as_customer(rep)).status_code == 422
    out = ok(client.delete(f"/v1/family-groups/{gid}/members/{son}", headers=as_customer(rep)))
    assert son not in {m["customer_id"] for m in out["members"]}
    assert len(outbox(db, son, "family_removed")) == 1 and len(outbox(db, spouse, "family_left")) == 1
    assert client.delete(f"/v1/family-groups/{gid}/members/{son}", headers=as_customer(rep)).status_code == 404
    url = f"/v1/backoffice/family-groups/{gid}/members/{daughter}/remove"
    assert client.post(url, json={}, headers=AGENT).status_code == 422
    assert client.post(url, json={"reason": "x"}, headers=as_customer(rep)).status_code == 403
    ok(client.post(url, json={"reason": "가족관계 불일치"}, headers=AGENT))
    detail = ok(client.get(f"/v1/backoffice/family-groups/{gid}", headers=AGENT))
    removed = [e for e in detail["events"] if e["kind"] == "removed"]
    assert [e["actor"] for e in removed] == [f"customer:{rep}", "agent:agent-7"]
    assert removed[1]["detail"]["note"] == "가족관계 불일치"
    assert len(detail["memberships"]) == 4 and len(detail["documents"]) == 3


def test_dissolve_by_representative_keeps_history(client: TestClient, db: FamilyDb) -> None:
    gid, rep, (spouse,) = family(client, db, ("spouse", "older"))
    out = ok(client.post(f"/v1/family-groups/{gid}/dissolve", headers=as_customer(rep)))
    assert out["status"] == "dissolved" and out["dissolved_reason"] == "by_representative"
    assert len(outbox(db, spouse, "family_dissolved")) == 1
    # Its last members still read it; it can no longer be changed; both may start anew.
    assert group(client, gid, spouse)["status"] == "dissolved"
    assert benefits(client, gid, spouse, today() - timedelta(days=1))["members_counted"] == 0
    r = client.post(
        f"/v1/family-groups/{gid}/invitations", json={"relation": "child", "customer_id": 1}, headers=as_customer(rep)
    )
    assert r.status_code == 404
    assert create_group(client, spouse)["status"] == "forming"


def test_policy_is_published(client: TestClient) -> None:
    policy = ok(client.get("/v1/family-policy"))
    assert policy["age"]["threshold"] == 50 and policy["members"]["max"] == 6
    assert policy["relations"]["cohabitant"]["proof"] == "resident_registration_abstract"


def test_no_full_phone_number_in_any_family_message(client: TestClient, db: FamilyDb) -> None:
    rep, child = next(db.older), next(db.younger)
    gid = create_group(client, rep)["group_id"]
    invite(client, gid, rep, child, "child", db=db)
    for msg in outbox(db):
        if msg.kind.startswith("family_"):
            assert not FULL_PHONE.search(msg.body + msg.subject + str(msg.payload)), msg.body


@pytest.mark.parametrize(
    "path",
    [
        "/v1/family-groups/99999999999999999999",
        "/v1/family-groups/0/benefits",
        "/v1/family-groups/-1/history",
        "/v1/family-groups/abc",
    ],
)
def test_absurd_identifiers_are_422(client: TestClient, db: FamilyDb, path: str) -> None:
    assert client.get(path, headers=as_customer(next(db.younger))).status_code == 422


def test_not_a_number_is_422(client: TestClient, db: FamilyDb) -> None:
    gid, rep, _ = family(client, db)
    body = '{"join": {"relation": "child", "birth_year": 2000, "prior_tenure_years": NaN}}'
    r = client.post(
        f"/v1/family-groups/{gid}/what-if",
        content=body,
        headers={**as_customer(rep), "Content-Type": "application/json"},
    )
    assert r.status_code == 422


def test_a_smaller_policy_and_a_policy_broken_under_a_running_server(db: FamilyDb, tmp_path: Path) -> None:
    policy_file = tmp_path / "family.yaml"
    policy_file.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("  max: 6 ", "  max: 2 "))
    # max 2 leaves the 3- and 4-member tiers unreachable: the file is refused at start.
    with pytest.raises(ValidationError, match="can never apply"):
        Settings(environment="test", family_policy_path=policy_file)
    small = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    small["members"]["max"] = 3
    small["benefits"]["size_tiers"] = small["benefits"]["size_tiers"][:2]
    policy_file.write_text(yaml.safe_dump(small, allow_unicode=True), encoding="utf-8")
    settings = db.settings.model_copy(update={"family_policy_path": policy_file})
    with TestClient(create_app(settings)) as client:
        gid, rep, _ = family(client, db, ("child", "younger"))
        invite(client, gid, rep, next(db.younger), "child")
        r = client.post(
            f"/v1/family-groups/{gid}/invitations",
            json={"relation": "child", "customer_id": next(db.younger)},
            headers=as_customer(rep),
        )
        assert r.status_code == 409 and "at most 3 members (pending invitations included)" in r.json()["detail"]
        # Someone breaks the file while the server runs: family requests answer 503, never 500.
        policy_file.write_text("members: [", encoding="utf-8")
        stat = policy_file.stat()
        os.utime(policy_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        r = client.get(f"/v1/family-groups/{gid}/benefits", headers=as_customer(rep))
        assert r.status_code == 503 and "policy" in r.json()["detail"]
