"""Who is credited with which deal (plans.md section 3), and which deals count at all.

One pass over the period's counting deals, in deal order, gives every person their own
credited shares as ``(position, deal, share)`` (owner or split share, or the deals their
campaigns sourced under ``sourced_revenue``); ``position`` is the deal's place in deal
order. They are kept as columns (``Shares``: positions, deals, shares), which read as those
tuples: a million tuples and position numbers took ~75 MiB. Team credit (``scope: team``) and the shares an ``override`` pays on are the own
shares of a person's reports (recursively), merged in deal order only for the people
who need them, so a deep hierarchy costs nothing per deal.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING

from commissions.engine.errors import InputError, NoExchangeRate
from commissions.engine.inputs import Campaign, Deal, Period, Person
from commissions.engine.money import CONTEXT, HUNDRED, ONE, ZERO
from commissions.engine.rates import ConvertedDeal, RateBook

if TYPE_CHECKING:  # the plan's components import this module
    from commissions.engine.plan import Plan

#: (position, deal, share): share is a fraction of the deal (ONE for sole credit).
Entry = tuple[int, Deal, Decimal]
#: (position, deal, share, email): a report's own share, as an override pays on it.
ReportRow = tuple[int, Deal, Decimal, str]


class Shares:
    """One person's credited shares in deal order, as three columns: each deal's ``positions`` (its
    place in deal order), the ``deals`` and the ``shares`` (ONE for sole credit). Read as a sequence
    it gives the ``(position, deal, share)`` entries; the engine's own loops read the columns."""

    __slots__ = ("deals", "positions", "shares")

    def __init__(self) -> None:
        self.positions: array[int] = array("q")
        self.deals: list[Deal] = []
        self.shares: list[Decimal] = []

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Shares:
        shares = cls()
        for position, deal, share in entries:
            shares.add(position, deal, share)
        return shares

    def add(self, position: int, deal: Deal, share: Decimal) -> None:
        self.positions.append(position)
        self.deals.append(deal)
        self.shares.append(share)

    def __len__(self) -> int:
        return len(self.deals)

    def __iter__(self) -> Iterator[Entry]:
        return zip(self.positions, self.deals, self.shares, strict=True)

    def __getitem__(self, index: int) -> Entry:
        return self.positions[index], self.deals[index], self.shares[index]

    def __repr__(self) -> str:
        return f"Shares({list(self)!r})"


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
                cycle = [*path[path.index(current) :], current]
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


def all_reports(chains: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Every manager's reports, direct and indirect."""
    reports: dict[str, list[str]] = {}
    for person, chain in chains.items():
        for manager in chain:
            reports.setdefault(manager, []).append(person)
    return reports


def counting_deals(
    plan: Plan, period: Period, deals: Iterable[Deal], people: Mapping[str, Person], rates: RateBook | None = None
) -> list[Deal]:
    """The period's deals that count, in deal order, not dropped by ``credit.when`` or by a
    cancellation within the clawback window. A deal in another currency than the plan's counts
    as a ``ConvertedDeal`` (its amount converted with ``rates`` on its ``closed_at``, plans.md 3);
    without a rate for it, an input error."""
    currency = plan.currency
    start, end = period.start, period.end
    condition = plan.credit.condition
    test = condition.test if condition is not None else None
    clawback = plan.clawback_days
    by_day: dict[date, list[Deal]] = {}
    for deal in deals:
        closed = deal.closed_at
        if closed < start or closed > end:
            continue
        if deal.owner not in people:
            raise InputError(f"deal {deal.external_id}: owner {deal.owner} is not a known person")
        if deal.amount < 0:
            raise InputError(f"deal {deal.external_id}: amount {deal.amount} is negative")
        if deal.splits:
            _check_splits(deal, people)
        if deal.status != "won":
            if deal.status != "cancelled":
                raise InputError(f"deal {deal.external_id}: unknown status {deal.status!r} (won or cancelled)")
            if deal.cancelled_at is None:
                raise InputError(f"deal {deal.external_id} is cancelled but has no cancelled_at")
            if clawback is None or (deal.cancelled_at - closed).days <= clawback:
                continue
        if deal.currency != currency:  # after cancellations: a cancelled deal that earns nothing is never converted
            deal = _converted(deal, currency, rates)
        if test is not None and not test(deal):
            continue
        bucket = by_day.get(closed)
        if bucket is None:
            by_day[closed] = [deal]
        else:
            bucket.append(deal)
    # deal order: closed_at, then external_id as text (bucketing by day keeps the sort cheap)
    kept: list[Deal] = []
    by_id = attrgetter("external_id")
    for day in sorted(by_day):
        bucket = by_day[day]
        bucket.sort(key=by_id)
        kept.extend(bucket)
    for previous, deal in pairwise(kept):
        if previous.external_id == deal.external_id and previous.closed_at == deal.closed_at:
            raise InputError(f"deal {deal.external_id} is listed twice")
    return kept


def _converted(deal: Deal, currency: str, rates: RateBook | None) -> ConvertedDeal:
    try:
        conversion = (rates or _NO_RATES).convert(deal.amount, deal.currency, currency, deal.closed_at)
    except NoExchangeRate as error:
        raise NoExchangeRate(error.source, error.target, error.day, deal.external_id) from None
    return ConvertedDeal.of(deal, conversion)


_NO_RATES = RateBook()


def _check_splits(deal: Deal, people: Mapping[str, Person]) -> None:
    total = ZERO
    seen: set[str] = set()
    for email, share in deal.splits:
        if email not in people:
            raise InputError(f"deal {deal.external_id}: split to {email}, who is not a known person")
        if email in seen:
            raise InputError(f"deal {deal.external_id}: {email} appears twice in its splits")
        if share <= 0:
            raise InputError(f"deal {deal.external_id}: split share {share} for {email} must be above 0")
        seen.add(email)
        total += share
    if total != HUNDRED:
        raise InputError(f"deal {deal.external_id}: split shares sum to {total}, not 100")


@dataclass(slots=True)
class Credits:
    """Own credited shares per person, in deal order, and what is derived from them."""

    own: dict[str, Shares] = field(default_factory=dict)
    reports: dict[str, list[str]] = field(default_factory=dict)  # manager → all reports
    warnings: list[str] = field(default_factory=list)

    def reports_entries(self, person: str) -> list[Entry]:
        """The own shares of all of ``person``'s reports, merged per deal, in deal order
        (what an override pays on). Shares of one deal are summed; ``reports_detail`` keeps them apart."""
        return _merge([self.own[r] for r in self.reports.get(person, ()) if r in self.own])

    def team_entries(self, person: str) -> list[Entry]:
        """``scope: team``: own shares plus every report's, merged per deal in deal order."""
        lists = [self.own[r] for r in self.reports.get(person, ()) if r in self.own]
        if person in self.own:
            lists.append(self.own[person])
        return _merge(lists)

    def reports_detail(self, person: str) -> list[ReportRow]:
        """Each report's share as ``(position, deal, share, email)``, in deal order (for
        override lines; reports of one deal in email order)."""
        detail = [
            (position, deal, share, r)
            for r in sorted(self.reports.get(person, ()))
            if r in self.own
            for position, deal, share in self.own[r]
        ]
        detail.sort(key=_position)  # stable: runs of sorted lists merge in C
        return detail

    def has_report_credit(self, person: str) -> bool:
        return any(r in self.own for r in self.reports.get(person, ()))


_position = itemgetter(0)


def _merge(lists: list[Shares]) -> list[Entry]:
    if not lists:
        return []
    if len(lists) == 1:
        return list(lists[0])
    merged: list[Entry] = []
    for entry in heapq.merge(*lists, key=_position):
        if merged and merged[-1][0] == entry[0]:
            share = merged[-1][2] + entry[2]
            merged[-1] = (entry[0], entry[1], ONE if share == ONE else share)
        else:
            merged.append(entry)
    return merged


def assign_credit(
    plan: Plan,
    deals: list[Deal],
    chains: Mapping[str, tuple[str, ...]],
    campaigns: Mapping[str, Campaign],
) -> Credits:
    """Credit the counting deals (already in deal order) to people."""
    credits = Credits(reports=all_reports(chains))
    own = credits.own
    sourced = plan.metric == "sourced_revenue"
    unknown_campaigns: set[str] = set()
    fractions: dict[Decimal, Decimal] = {}
    for position, deal in enumerate(deals):
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
            recipient = campaign.owner
        elif deal.splits:
            for email, percent in deal.splits:
                fraction = fractions.get(percent)
                if fraction is None:
                    fraction = fractions[percent] = CONTEXT.divide(percent, HUNDRED)
                entries = own.get(email)
                if entries is None:
                    entries = own[email] = Shares()
                entries.add(position, deal, fraction)
            continue
        else:
            recipient = deal.owner
        entries = own.get(recipient)
        if entries is None:
            entries = own[recipient] = Shares()
        entries.positions.append(position)
        entries.deals.append(deal)
        entries.shares.append(ONE)
    return credits
