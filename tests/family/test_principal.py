"""The interim caller identity (gateway headers) that the family views depend on."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from cardwise.security.principal import Principal, current_principal, require_back_office, require_customer


def test_customer_and_staff() -> None:
    p = current_principal(x_customer_id=" 42 ", x_roles="Customer, ", x_actor_id=None)
    assert p == Principal(customer_id=42, roles=frozenset({"customer"}))
    assert require_customer(p) == 42 and not p.is_back_office and p.audit_name == "customer:42"
    staff = current_principal(x_customer_id=None, x_roles="agent", x_actor_id="kim.agent")
    assert staff.is_back_office and staff.audit_name == "agent:kim.agent" and require_back_office(staff) is staff


@pytest.mark.parametrize(
    ("customer", "roles", "actor"),
    [(None, None, None), ("", "", None), ("abc", None, None), ("0", None, None), ("1" * 19, None, None),
     ("٣", None, None), (None, "agent;admin", None), (None, "agent", "bad actor!")],
)  # fmt: skip
def test_missing_or_malformed_identity_is_401(customer: str | None, roles: str | None, actor: str | None) -> None:
    with pytest.raises(HTTPException) as err:
        current_principal(x_customer_id=customer, x_roles=roles, x_actor_id=actor)
    assert err.value.status_code == 401


def test_wrong_kind_of_caller_is_403() -> None:
    with pytest.raises(HTTPException) as err:
        require_customer(Principal(customer_id=None, roles=frozenset({"agent"})))
    assert err.value.status_code == 403
    with pytest.raises(HTTPException) as err:
        require_back_office(Principal(customer_id=7, roles=frozenset({"customer"})))
    assert err.value.status_code == 403
