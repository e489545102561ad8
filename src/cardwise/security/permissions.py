"""Role-based permissions: the role→permission map (``permissions.yaml``), its resolution, and the
route dependencies that enforce it on every endpoint.

Views declare what they need, once, in the route: ``dependencies=[allow("lake.read")]`` when the
view does not need the caller, ``principal: Annotated[Principal, allow("family.member")]`` when it
does, ``card_access(write=True)`` / ``customer_access(...)`` when the path names a card or a customer
(a customer reaches only their own; another customer's id answers 404, exactly like an id that does
not exist, so ids cannot be probed).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import Depends, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from starlette.requests import Request

from cardwise.deps import SessionDep
from cardwise.security.events import emit
from cardwise.security.principal import CurrentPrincipal, Principal, client_ip

PERMISSIONS_PATH = Path(__file__).with_name("permissions.yaml")
ALL = "*"
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_PERMISSION = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")


class PermissionsError(ValueError):
    pass


class RoleDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str = Field(min_length=1)
    service: bool = False  # a machine user: no lockout (its secret is random), no refresh token
    permissions: tuple[str, ...]
    lake_tables: tuple[str, ...] = ()


class PermissionMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = Field(ge=1)
    permissions: dict[str, str]
    roles: dict[str, RoleDef]

    @model_validator(mode="after")
    def _consistent(self) -> PermissionMap:
        from cardwise.lake.schema import TABLES

        tables = {t.name: t for t in TABLES}
        problems: list[str] = []
        for name in self.permissions:
            if not _PERMISSION.match(name):
                problems.append(f"permission {name!r}: use dotted lowercase names like cards.read")
        for role, d in self.roles.items():
            if not _ROLE.match(role):
                problems.append(f"role {role!r}: lowercase letters, digits, - and _")
            for p in d.permissions:
                if p != ALL and p not in self.permissions:
                    problems.append(f"role {role}: unknown permission {p!r}")
            for t in d.lake_tables:
                if t == ALL:
                    continue
                if t not in tables:
                    problems.append(f"role {role}: unknown lake table {t!r}")
                elif tables[t].restricted:  # identity data never reaches the portal
                    problems.append(f"role {role}: lake table {t!r} is restricted")
            if d.lake_tables and not self.grants(frozenset({role}), "lake.read"):
                problems.append(f"role {role}: lake tables without lake.read")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def resolve(self, roles: frozenset[str]) -> frozenset[str]:
        """Every permission the roles give together; unknown roles give nothing."""
        out: set[str] = set()
        for role in roles:
            d = self.roles.get(role)
            if d is None:
                continue
            if ALL in d.permissions:
                return frozenset(self.permissions)
            out.update(d.permissions)
        return frozenset(out)

    def grants(self, roles: frozenset[str], permission: str) -> bool:
        return permission in self.resolve(roles)

    def lake_tables(self, roles: frozenset[str]) -> frozenset[str]:
        from cardwise.lake.schema import TABLES

        if not self.grants(roles, "lake.read"):
            return frozenset()
        out: set[str] = set()
        for role in roles:
            d = self.roles.get(role)
            if d is None:
                continue
            if ALL in d.lake_tables:
                return frozenset(t.name for t in TABLES if not t.restricted)
            out.update(d.lake_tables)
        return frozenset(out)

    def is_service(self, roles: frozenset[str]) -> bool:
        """A service user has only service roles (a human with one extra service role is still a human)."""
        return bool(roles) and all(r in self.roles and self.roles[r].service for r in roles)


def parse_permissions(text: str, source: str = "permissions") -> PermissionMap:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PermissionsError(f"{source}: not YAML ({exc})") from None
    try:
        return PermissionMap.model_validate(data)
    except ValidationError as exc:
        msgs = [f"{'.'.join(str(x) for x in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()]
        raise PermissionsError(f"{source}: " + "; ".join(msgs)) from None


@cache
def load_permissions(path: Path = PERMISSIONS_PATH) -> PermissionMap:
    return parse_permissions(path.read_text(encoding="utf-8"), str(path))


def permissions_of(principal: Principal) -> frozenset[str]:
    return load_permissions().resolve(principal.roles)


def has_permission(principal: Principal, permission: str) -> bool:
    return load_permissions().grants(principal.roles, permission)


def allowed_lake_tables(principal: Principal) -> frozenset[str]:
    """The lake tables the principal may browse and query in the analyst portal (D4)."""
    return load_permissions().lake_tables(principal.roles)


# --- route dependencies ---------------------------------------------------------------------------------------------


def _denied(request: Request, principal: Principal, permission: str, status: int) -> HTTPException:
    emit(
        "permission_denied",
        client_ip=client_ip(request),
        user=principal.audit_name,
        detail={"permission": permission, "method": request.method, "path": request.url.path},
    )
    if status == 404:
        return HTTPException(status_code=404, detail="not found")
    return HTTPException(status_code=403, detail=f"permission {permission} required (권한이 없습니다)")


def _known(permission: str) -> None:
    # A typo in a view must stop the app at import, not deny (or allow) at run time.
    if permission not in load_permissions().permissions:
        raise PermissionsError(f"unknown permission {permission!r} (not in permissions.yaml)")


def require_permission(*permissions: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, if they hold at least one of the permissions; 403 otherwise."""
    if not permissions:
        raise PermissionsError("require_permission needs at least one permission")
    for p in permissions:
        _known(p)

    # async: no I/O here, and a sync dependency would cost a thread hop on the authorization hot path.
    async def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        granted = permissions_of(principal)
        if not any(p in granted for p in permissions):
            raise _denied(request, principal, " or ".join(permissions), 403)
        return principal

    return dependency


def allow(*permissions: str) -> Any:
    """``Depends`` on :func:`require_permission`, for ``dependencies=[...]`` or an annotated parameter."""
    return Depends(require_permission(*permissions))


CardId = Annotated[int, PathParam(gt=0, le=2**63 - 1)]
CustomerPathId = Annotated[int, PathParam(gt=0, le=2**63 - 1)]


def card_access(*, write: bool) -> Any:
    """The caller may read (or change) the card in the path: staff with cards.read/cards.write reach any
    card; a customer with cards.own reaches their own; anyone else's card answers 404 (no probing)."""
    any_permission = "cards.write" if write else "cards.read"

    def dependency(card_id: CardId, request: Request, principal: CurrentPrincipal, session: SessionDep) -> Principal:
        from cardwise.db.models import Card

        granted = permissions_of(principal)
        if any_permission in granted:
            return principal
        if "cards.own" not in granted or principal.customer_id is None:
            raise _denied(request, principal, any_permission, 403)
        owner = session.scalar(select(Card.customer_id).where(Card.card_id == card_id))
        if owner != principal.customer_id:
            raise _denied(request, principal, "cards.own", 404)
        return principal

    return Depends(dependency)


def customer_access(*, own: bool) -> Any:
    """The caller may read the customer in the path: customers.read reaches anyone; with ``own`` a
    customer (customer.own) reaches themself and gets 404 for anyone else."""

    async def dependency(customer_id: CustomerPathId, request: Request, principal: CurrentPrincipal) -> Principal:
        granted = permissions_of(principal)
        if "customers.read" in granted:
            return principal
        if not own or "customer.own" not in granted or principal.customer_id is None:
            raise _denied(request, principal, "customers.read", 403)
        if customer_id != principal.customer_id:
            raise _denied(request, principal, "customer.own", 404)
        return principal

    return Depends(dependency)
