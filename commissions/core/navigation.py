"""The navigation bar: one list, filtered by role, so each role sees what it may use and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from commissions.core.i18n import N_
from commissions.core.principal import Principal

EVERYONE = frozenset({"rep", "manager", "finance", "admin"})


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[str]


NAV_ITEMS: list[NavItem] = [
    NavItem(N_("Home"), "/", EVERYONE),
    NavItem(N_("Deals"), "/deals", EVERYONE),
    NavItem(N_("Statements"), "/statements", frozenset({"rep", "manager", "finance"})),
    NavItem(N_("My team"), "/team", frozenset({"manager"})),
    NavItem(N_("Quotas"), "/quotas", frozenset({"manager", "admin"})),
    NavItem(N_("Campaigns"), "/campaigns", EVERYONE),  # read-only for all; admins and marketing managers edit
    NavItem(N_("Marketing"), "/marketing", EVERYONE),  # the revenue-marketing dashboard (docs/metrics.md)
    NavItem(N_("Pulse"), "/pulse", frozenset({"rep", "manager"})),  # answer your team's eNPS pulse
    NavItem(N_("Periods"), "/finance/periods", frozenset({"finance"})),
    NavItem(N_("Finance"), "/finance", frozenset({"finance"})),
    NavItem(N_("Rates"), "/finance/rates", frozenset({"finance", "admin"})),  # exchange rates (docs/finance.md)
    NavItem(N_("People"), "/admin/people", frozenset({"admin"})),
    NavItem(N_("Teams"), "/admin/teams", frozenset({"admin"})),
    NavItem(N_("API tokens"), "/admin/tokens", frozenset({"admin"})),
    NavItem(N_("Plans"), "/plans", frozenset({"admin"})),
    NavItem(N_("Deal fields"), "/admin/custom-fields", frozenset({"admin"})),  # custom fields plan conditions use
    NavItem(N_("Audit log"), "/admin/audit", frozenset({"admin"})),
    NavItem(N_("Webhooks"), "/admin/webhooks/outbound", frozenset({"admin", "finance"})),  # subscriptions, log
]


EXTRA_ITEMS: list[NavItem] = []  # from extensions (see commissions.app.assembly._extensions), after the core items


def set_extra_items(items: list[NavItem]) -> None:
    EXTRA_ITEMS[:] = items


def nav_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [item for item in [*NAV_ITEMS, *EXTRA_ITEMS] if principal.role in item.roles]
