"""The caller of a request, as one small value every view can depend on.

Interim mechanism, to be replaced by JWTs in the security issue: the identity is asserted by a
trusted gateway in request headers, which the gateway sets after authenticating the user and strips
from anything a client sends:

- ``X-Customer-Id``: the signed-in customer's id (absent for staff);
- ``X-Roles``: comma-separated roles (``customer``, ``agent``, ``admin`` …);
- ``X-Actor-Id``: the staff member's id, recorded in audit trails (optional).

The app must therefore never be reachable except through that gateway (P2). Views only use
:data:`CurrentPrincipal` and the ``require_*`` helpers, so swapping the mechanism changes this file only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, HTTPException

BACK_OFFICE_ROLES = frozenset({"agent", "admin"})
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_ACTOR = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Principal:
    customer_id: int | None
    roles: frozenset[str] = field(default_factory=frozenset)
    actor_id: str | None = None

    @property
    def is_back_office(self) -> bool:
        return bool(self.roles & BACK_OFFICE_ROLES)

    @property
    def audit_name(self) -> str:
        """How the caller is named in audit trails and event logs."""
        if self.is_back_office:
            return f"agent:{self.actor_id or 'unknown'}"
        return f"customer:{self.customer_id}" if self.customer_id is not None else "unknown"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Gateway"})


def current_principal(
    x_customer_id: Annotated[str | None, Header()] = None,
    x_roles: Annotated[str | None, Header()] = None,
    x_actor_id: Annotated[str | None, Header()] = None,
) -> Principal:
    """The caller from the gateway's headers; 401 when there is no identity or it is malformed."""
    customer_id: int | None = None
    if x_customer_id is not None and x_customer_id.strip():
        value = x_customer_id.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) <= 0:
            raise _unauthorized("malformed caller identity (X-Customer-Id)")
        customer_id = int(value)
    roles = frozenset(r.strip().lower() for r in (x_roles or "").split(",") if r.strip())
    if any(not _ROLE.match(r) for r in roles):
        raise _unauthorized("malformed caller roles (X-Roles)")
    actor = x_actor_id.strip() if x_actor_id else None
    if actor is not None and not _ACTOR.match(actor):
        raise _unauthorized("malformed caller identity (X-Actor-Id)")
    if customer_id is None and not roles:
        raise _unauthorized("authentication required")
    return Principal(customer_id=customer_id, roles=roles, actor_id=actor)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_customer(principal: Principal) -> int:
    """The calling customer's id; 403 for a caller who is not a customer (staff use the back office)."""
    if principal.customer_id is None:
        raise HTTPException(status_code=403, detail="this endpoint is for signed-in customers")
    return principal.customer_id


def require_back_office(principal: Principal) -> Principal:
    if not principal.is_back_office:
        raise HTTPException(status_code=403, detail="back-office role (agent or admin) required")
    return principal


def _back_office(principal: CurrentPrincipal) -> Principal:
    return require_back_office(principal)


BackOfficePrincipal = Annotated[Principal, Depends(_back_office)]
