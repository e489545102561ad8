"""The header navigation: each entry names the roles that see it (admin sees the staff entries)."""

from __future__ import annotations

from dataclasses import dataclass

from cardwise.security.principal import Principal
from cardwise.web.i18n import N_


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str  # an English msgid (N_), translated when shown
    href: str
    roles: frozenset[str]


_CUSTOMER = frozenset({"customer"})
_BACK_OFFICE = frozenset({"agent", "auditor", "admin"})

NAV: list[NavItem] = [
    NavItem(N_("My cards"), "/my/cards", _CUSTOMER),
    NavItem(N_("Alerts"), "/my/alerts", _CUSTOMER),
    NavItem(N_("Spending report"), "/my/report", _CUSTOMER),
    NavItem(N_("Family"), "/my/family", _CUSTOMER),
    # Staff: the back office (agents, auditors, admins) and the analyst portal (web/backoffice.py, analyst.py).
    NavItem(N_("Back office"), "/backoffice", _BACK_OFFICE),
    NavItem(N_("Payment log"), "/backoffice/payments", _BACK_OFFICE),
    NavItem(N_("Clusters"), "/backoffice/clusters", _BACK_OFFICE),
    NavItem(N_("Anomalies"), "/backoffice/anomaly", _BACK_OFFICE),
    NavItem(N_("Analyst portal"), "/analyst", frozenset({"analyst", "admin"})),
]


def items_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [item for item in NAV if principal.roles & item.roles]


def home_for(principal: Principal) -> str | None:
    """Where a person lands after signing in: the first entry of the navigation they see."""
    items = items_for(principal)
    return items[0].href if items else None
