"""Reads for accounting: the settings, a period's contract costs, accruals and journal movements.

Everything is computed from stored rows, never stored itself. A locked (or paid) period is read
as of its lock: lines written after ``locked_at`` (late deals, adjustments, clawbacks booked in later
periods) and reversals written after it are left out, and its own lines never change, so its
figures and journal are the same bytes on every download (docs/finance.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, exists, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions.accounting.accruals import PersonAccrual
from commissions.accounting.amortisation import (
    ContractCost,
    Movements,
    ScheduleRow,
    is_capitalised,
    month_end,
    movements,
    rows_in,
    schedule,
)
from commissions.accounting.entries import Movement
from commissions.core.i18n import gettext
from commissions.core.money import to_minor
from commissions.holds.cash import held_by_person, payable_changes
from commissions.models import AccountingSettings, ContractTerm, Deal, PayoutLine, Period, Person, Team
from commissions.models.accounting import DEFAULT_ACCOUNTS
from commissions.payroll.service import payout_rows

SETTINGS_ID = 1


def accounting_settings(session: Session) -> AccountingSettings:
    """The settings in use (row 1), or the defaults when none were saved."""
    return session.get(AccountingSettings, SETTINGS_ID) or AccountingSettings(id=SETTINGS_ID)


def accounts_of(settings: AccountingSettings) -> dict[str, str]:
    return {name: str(getattr(settings, name)) for name in DEFAULT_ACCOUNTS}


def cutoff_of(period: Period) -> datetime | None:
    """A locked or paid period is read as of its lock; an open or approved one as it is now."""
    return period.locked_at if period.state in ("locked", "paid") else None


@dataclass(frozen=True, slots=True)
class DealCost:
    """A capitalised contract cost and its schedule."""

    cost: ContractCost
    person_name: str
    rows: list[ScheduleRow]

    def in_period(self, period: Period) -> Movements:
        return movements(self.rows, period.starts_on, period.ends_on)


def deal_costs(session: Session, period: Period, settings: AccountingSettings) -> list[DealCost]:
    """Capitalised commissions (per person, deal, currency and the period they were booked in) of periods of
    the same kind up to ``period``, with their schedules; clawbacks booked up to ``period`` reverse them.
    A deal's close date and term are those kept when its period was locked (``contract_term``), else the
    deal's own."""
    cutoff = cutoff_of(period)
    reversal = aliased(PayoutLine)
    booked_in = aliased(Period)
    reversed_by = exists().where(col(reversal.reverses_id) == PayoutLine.id)
    if cutoff is not None:
        reversed_by = reversed_by.where(col(reversal.created_at) <= cutoff)
    term_column = case((col(ContractTerm.deal_id).is_(None), Deal.term_months), else_=ContractTerm.term_months)
    benefit_column = case((func.coalesce(term_column, 0) > 0, term_column), else_=settings.default_benefit_months)
    columns: list[Any] = [
        PayoutLine.person_id,
        Person.email,
        Person.name,
        Deal.external_id,
        func.coalesce(ContractTerm.closed_on, Deal.closed_at),
        term_column,
        Deal.cancelled_at,
        PayoutLine.kind,
        PayoutLine.currency,
        PayoutLine.amount_minor,
        PayoutLine.original_period_id,
        booked_in.id,
        booked_in.starts_on,
        booked_in.ends_on,
    ]
    query = (
        sa_select(*columns)
        .select_from(PayoutLine)
        .join(Person, col(Person.id) == PayoutLine.person_id)
        .join(Deal, col(Deal.id) == PayoutLine.deal_id)
        .join(ContractTerm, col(ContractTerm.deal_id) == Deal.id, isouter=True)
        .join(booked_in, col(booked_in.id) == PayoutLine.period_id)
        .where(
            col(PayoutLine.kind).in_(("earning", "clawback")),
            col(booked_in.kind) == period.kind,
            col(booked_in.starts_on) <= period.ends_on,
            benefit_column > settings.capitalisation_threshold_months,  # only contracts that are capitalised
            ~reversed_by,
        )
        .order_by(col(PayoutLine.id))
    )
    if cutoff is not None:
        query = query.where(col(PayoutLine.created_at) <= cutoff)
    amounts: dict[tuple[Any, ...], int] = defaultdict(int)
    facts: dict[tuple[Any, ...], tuple[str, date, int | None]] = {}
    clawbacks: dict[tuple[Any, ...], date] = {}
    for row in session.execute(query).all():
        (
            person_id,
            email,
            name,
            deal,
            closed_at,
            term,
            cancelled_at,
            kind,
            currency,
            amount,
            original,
            pid,
            starts,
            ends,
        ) = row
        if kind == "earning":
            key = (person_id, deal, currency, pid)
            amounts[key] += amount
            facts[key] = (f"{email}\x00{name}", max(closed_at, starts), term)
        elif original is not None:  # a clawback of a locked period's commission, booked in a later period
            on = min(max(cancelled_at or starts, starts), ends)
            key = (person_id, deal, currency, original)
            clawbacks[key] = min(clawbacks.get(key, on), on)
    found = []
    for key, amount in amounts.items():
        _, deal, currency, _pid = key
        who, closed_on, term = facts[key]
        benefit = term if term else settings.default_benefit_months
        if amount <= 0 or not is_capitalised(benefit, settings.capitalisation_threshold_months):
            continue
        email, name = who.split("\x00")
        cost = ContractCost(deal, email, currency, closed_on, benefit, amount, clawbacks.get(key))
        found.append(DealCost(cost, name, schedule(cost)))
    return sorted(found, key=lambda d: (d.cost.closed_on, d.cost.deal, d.cost.person, d.cost.currency))


def touching(costs: list[DealCost], period: Period) -> list[DealCost]:
    """The deal costs with a balance or a movement in the period."""
    return [d for d in costs if (m := d.in_period(period)).opening or m.capitalised or m.amortised or m.reversed]


def period_movements(costs: list[DealCost], period: Period) -> dict[str, Movements]:
    """The period's totals per currency: opening, capitalised, amortised, reversed (closing follows)."""
    totals: dict[str, Movements] = {}
    for d in costs:
        totals[d.cost.currency] = totals.get(d.cost.currency, Movements()) + d.in_period(period)
    return dict(sorted(totals.items()))


def accruals(session: Session, period: Period, costs: list[DealCost]) -> list[PersonAccrual]:
    """Per person and currency: earned (the statement's total: the payroll export's net_payable before what
    waits for payment, is held or is released into the period), paid (a paid period's export; else 0), held
    (``holds.cash``), and what of earned was capitalised. accrued = earned - paid - held."""
    rows = payout_rows(session, period)
    emails = {r.email for r in rows}
    people = {
        email: (pid, team or "")
        for pid, email, team in session.exec(
            select(Person.id, Person.email, Team.name)
            .join(Team, col(Team.id) == Person.team_id, isouter=True)
            .where(col(Person.email).in_(emails))
        ).all()
    }
    held = held_by_person(session, period.key)
    # the export's net_payable leaves out what waits for payment and what is held, and adds holds and cash
    # released into the period; earned is the statements' own total, before those
    moved = payable_changes(session, period)
    capitalised: dict[tuple[str, str], int] = defaultdict(int)
    for d in costs:
        capitalised[(d.cost.person, d.cost.currency)] += d.in_period(period).capitalised
    seen: set[str] = set()
    found = []
    for r in rows:
        pid, team = people.get(r.email, (None, ""))
        held_amount = held.get(pid, Decimal(0)) if pid is not None and r.email not in seen else Decimal(0)
        seen.add(r.email)
        found.append(
            PersonAccrual(
                person=r.email,
                name=r.name,
                team=team or gettext("(no team)"),
                plan=r.plan or gettext("(no plan: adjustments)"),
                currency=r.currency,
                earned=r.net_minor - (moved.get((pid, r.currency), 0) if pid is not None else 0),
                paid=r.net_minor if period.state == "paid" else 0,
                held=to_minor(held_amount, r.currency),
                capitalised=capitalised.get((r.email, r.currency), 0),
            )
        )
    return found


def journal_movements(period: Period, people: list[PersonAccrual], costs: list[DealCost]) -> list[Movement]:
    """What the period journals: accruals, capitalisations, amortisation, reversals and (paid) payments."""
    reversed_: dict[tuple[str, str], int] = defaultdict(int)
    found: list[Movement] = []
    for d in costs:
        c = d.cost
        for row in rows_in(d.rows, period.starts_on, period.ends_on):
            if row.capitalised:
                memo = f"Capitalised commission on {c.deal}: {c.benefit_months}-month benefit period (ASC 340-40)"
                found.append(
                    Movement("capitalisation", c.closed_on, c.currency, row.capitalised, c.person, c.deal, memo)
                )
            if row.amortised:
                memo = f"Amortisation of {c.deal} for {row.month:%Y-%m}"
                found.append(
                    Movement("amortisation", month_end(row.month), c.currency, row.amortised, c.person, c.deal, memo)
                )
            if row.reversed:
                memo = f"Clawback of {c.deal}: the remaining contract cost asset reversed"
                on = c.clawback_on or row.month
                found.append(Movement("reversal", on, c.currency, row.reversed, c.person, c.deal, memo))
                reversed_[(c.person, c.currency)] += row.reversed
    for p in people:
        expensed = p.earned - p.capitalised + reversed_.get((p.person, p.currency), 0)
        memo = f"Commission earned in {period.key} (expensed): {p.name}"
        found.append(Movement("accrual", period.ends_on, p.currency, expensed, p.person, "", memo))
        if p.paid and period.paid_at is not None:
            memo = f"Commission of {period.key} paid: {p.name}"
            found.append(Movement("payment", period.paid_at.date(), p.currency, p.paid, p.person, "", memo))
    return found
