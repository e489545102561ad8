"""The caller value the family views depend on."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from cardwise.security.principal import Principal, require_back_office, require_customer


def test_customer_and_staff() -> None:
    # How the token's identity reaches the family views (tokens themselves: tests/security/test_auth_tokens.py).
    p = Principal(customer_id=42, roles=frozenset({"customer"}), user_id=3)
    assert require_customer(p) == 42 and not p.is_back_office and p.audit_name == "customer:42"
    staff = Principal(customer_id=None, roles=frozenset({"agent"}), actor_id="kim.agent")
    assert staff.is_back_office and staff.audit_name == "agent:kim.agent" and require_back_office(staff) is staff


def test_wrong_kind_of_caller_is_403() -> None:
    with pytest.raises(HTTPException) as err:
        require_customer(Principal(customer_id=None, roles=frozenset({"agent"})))
    assert err.value.status_code == 403
    with pytest.raises(HTTPException) as err:
        require_back_office(Principal(customer_id=7, roles=frozenset({"customer"})))
    assert err.value.status_code == 403
