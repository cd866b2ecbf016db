"""Who is credited with which deal (plans.md section 3), and which deals count at all.

One pass over the period's deals in deal order builds, per person, the list of
``(deal, share)`` they are credited with: their own (owner or split share, or the
deals their campaigns sourced under ``sourced_revenue``), their team's (``scope:
team``: every report's shares, recursively, merged per deal), and the shares of their
reports that an ``override`` pays on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from commissions.engine.errors import InputError
from commissions.engine.inputs import Campaign, Deal, Period, Person
from commissions.engine.money import CONTEXT, HUNDRED, ONE, ZERO
from commissions.engine.plan import Plan

Entry = list  # [deal, share]: share a fraction of the deal (1 for sole credit)


def manager_chains(people: Mapping[str, Person]) -> dict[str, tuple[str, ...]]:
    """Every person's managers, nearest first. A cycle or an unknown manager is an input error."""
    chains: dict[str, tuple[str, ...]] = {}
    for email in people:
        if email in chains:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = email
        while current is not None and current not in chains:
            if current in on_path:
                cycle = path[path.index(current) :] + [current]
                raise InputError("manager cycle: " + " -> ".join(cycle))
            on_path.add(current)
            path.append(current)
            manager = people[current].manager
            if manager is not None and manager not in people:
                raise InputError(f"the manager of {current} is {manager}, who is not a known person")
            current = manager
        tail: tuple[str, ...] = () if current is None else (current, *chains[current])
        for person in reversed(path):
            chains[person] = tail
            tail = (person, *tail)
    return chains


@dataclass(slots=True)
class Credits:
    """Credited shares per person, in deal order."""

    own: dict[str, list[Entry]] = field(default_factory=dict)
    team: dict[str, list[Entry]] = field(default_factory=dict)  # own + reports (scope: team only)
    reports: dict[str, list[tuple[Deal, str, Decimal]]] = field(default_factory=dict)  # for overrides
    deals: int = 0  # deals that count
    warnings: list[str] = field(default_factory=list)

    def credited(self, person: str, scope: str) -> list[Entry]:
        return (self.team if scope == "team" else self.own).get(person, [])


def _add(index: dict[str, list[Entry]], person: str, deal: Deal, share: Decimal) -> None:
    entries = index.get(person)
    if entries is None:
        index[person] = [[deal, share]]
    elif entries[-1][0] is deal:  # the same deal again (a split within a team): merge
        merged = entries[-1][1] + share
        entries[-1][1] = ONE if merged == ONE else merged
    else:
        entries.append([deal, share])


def counting_deals(plan: Plan, period: Period, deals: Iterable[Deal], people: Mapping[str, Person]) -> list[Deal]:
    """The period's deals that count, in deal order: in the plan's currency (else an input
    error), not dropped by ``credit.when`` or by a cancellation within the clawback window."""
    currency = plan.currency
    start, end = period.start, period.end
    condition = plan.credit.condition
    clawback = plan.clawback_days
    kept: list[Deal] = []
    for deal in deals:
        closed = deal.closed_at
        if closed < start or closed > end:
            continue
        if deal.currency != currency:
            raise InputError(f"deal {deal.external_id} is in {deal.currency}, the plan pays in {currency}")
        if deal.owner not in people:
            raise InputError(f"deal {deal.external_id}: owner {deal.owner} is not a known person")
        if deal.amount < 0:
            raise InputError(f"deal {deal.external_id}: amount {deal.amount} is negative")
        if deal.splits:
            total = ZERO
            for email, share in deal.splits:
                if email not in people:
                    raise InputError(f"deal {deal.external_id}: split to {email}, who is not a known person")
                total += share
            if total != HUNDRED:
                raise InputError(f"deal {deal.external_id}: split shares sum to {total}, not 100")
        if deal.status != "won":
            if deal.status != "cancelled":
                raise InputError(f"deal {deal.external_id}: unknown status {deal.status!r} (won or cancelled)")
            if deal.cancelled_at is None:
                raise InputError(f"deal {deal.external_id} is cancelled but has no cancelled_at")
            if clawback is None or (deal.cancelled_at - closed).days <= clawback:
                continue
        if condition is not None and not condition.test(deal):
            continue
        kept.append(deal)
    kept.sort(key=_deal_order)
    return kept


def _deal_order(deal: Deal) -> tuple:
    return (deal.closed_at, deal.external_id)


def assign_credit(
    plan: Plan,
    deals: list[Deal],
    chains: Mapping[str, tuple[str, ...]],
    campaigns: Mapping[str, Campaign],
    *,
    with_overrides: bool,
) -> Credits:
    """Credit the counting deals (already in deal order) to people."""
    credits = Credits(deals=len(deals))
    own, team, reports = credits.own, credits.team, credits.reports
    by_team = plan.credit.scope == "team"
    sourced = plan.metric == "sourced_revenue"
    unknown_campaigns: set[str] = set()
    split_shares: dict[tuple[str, Decimal], Decimal] = {}
    for deal in deals:
        if sourced:
            code = deal.source_campaign
            if not code:
                continue
            campaign = campaigns.get(code)
            if campaign is None:
                if code not in unknown_campaigns:
                    unknown_campaigns.add(code)
                    credits.warnings.append(f"deal {deal.external_id}: campaign {code!r} is unknown; it credits no one")
                continue
            recipients: Iterable[tuple[str, Decimal]] = ((campaign.owner, ONE),)
        elif deal.splits:
            recipients = []
            for email, percent in deal.splits:
                key = (email, percent)
                fraction = split_shares.get(key)
                if fraction is None:
                    fraction = split_shares[key] = CONTEXT.divide(percent, HUNDRED)
                recipients.append((email, fraction))
        else:
            recipients = ((deal.owner, ONE),)
        for email, share in recipients:
            _add(own, email, deal, share)
            if by_team or with_overrides:
                for manager in chains.get(email, ()):
                    if by_team:
                        _add(team, manager, deal, share)
                    if with_overrides:
                        reports.setdefault(manager, []).append((deal, email, share))
            if by_team:
                _add(team, email, deal, share)
    return credits
