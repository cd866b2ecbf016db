"""The navigation bar: one list, filtered by role, so each role sees what it may use and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from commissions.core.principal import Principal

EVERYONE = frozenset({"rep", "manager", "finance", "admin"})


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[str]


NAV_ITEMS: list[NavItem] = [
    NavItem("Home", "/", EVERYONE),
    NavItem("Deals", "/deals", EVERYONE),
    NavItem("Statements", "/statements", frozenset({"rep", "manager", "finance"})),
    NavItem("My team", "/team", frozenset({"manager"})),
    NavItem("Quotas", "/quotas", frozenset({"manager", "admin"})),
    NavItem("Campaigns", "/campaigns", EVERYONE),  # read-only for all; admins and marketing managers edit
    NavItem("Marketing", "/marketing", EVERYONE),  # the revenue-marketing dashboard (docs/metrics.md)
    NavItem("Pulse", "/pulse", frozenset({"rep", "manager"})),  # answer your team's eNPS pulse
    NavItem("Periods", "/finance/periods", frozenset({"finance"})),
    NavItem("Finance", "/finance", frozenset({"finance"})),
    NavItem("People", "/admin/people", frozenset({"admin"})),
    NavItem("API tokens", "/admin/tokens", frozenset({"admin"})),
    NavItem("Plans", "/plans", frozenset({"admin"})),
    NavItem("Deal fields", "/admin/custom-fields", frozenset({"admin"})),  # custom fields plan conditions use
    NavItem("Audit log", "/admin/audit", frozenset({"admin"})),
]


EXTRA_ITEMS: list[NavItem] = []  # from extensions (see commissions.app.assembly._extensions), after the core items


def set_extra_items(items: list[NavItem]) -> None:
    EXTRA_ITEMS[:] = items


def nav_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [item for item in [*NAV_ITEMS, *EXTRA_ITEMS] if principal.role in item.roles]
