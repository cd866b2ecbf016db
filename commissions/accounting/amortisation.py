"""ASC 340-40 / IFRS 15 incremental costs of obtaining a contract: capitalise, amortise, reverse. Pure: no I/O.

A commission on a contract whose benefit period is longer than the threshold (12 months) is an
asset at the close date (ASC 340-40-25-1, IFRS 15.91), amortised straight-line over the benefit
period from the close date (ASC 340-40-35-1, IFRS 15.99): a monthly amount rounded half-up, the
first month prorated by days (days from the close date to the month's end inclusive / days in the
month), the last, partial month taking the remainder so the total is exact to the cent. Contracts
of 12 months or less are expensed at once (the practical expedient, ASC 340-40-25-4, IFRS 15.94).
A clawback reverses the asset still on the books in the clawback's month (no amortisation that
month); what was amortised before stays expensed. Amounts are integer minor units (cents).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CAPITALISATION_THRESHOLD_MONTHS = 12


@dataclass(frozen=True, slots=True)
class ContractCost:
    """One person's commission on one deal, in the plan currency."""

    deal: str
    person: str
    currency: str
    closed_on: date
    benefit_months: int
    amount_minor: int
    clawback_on: date | None = None


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    month: date  # the month's first day
    opening: int
    capitalised: int
    amortised: int
    reversed: int
    closing: int


@dataclass(frozen=True, slots=True)
class Movements:
    """A period's totals: closing = opening + capitalised - amortised - reversed, exactly."""

    opening: int = 0
    capitalised: int = 0
    amortised: int = 0
    reversed: int = 0

    @property
    def closing(self) -> int:
        return self.opening + self.capitalised - self.amortised - self.reversed

    def __add__(self, other: Movements) -> Movements:
        return Movements(
            self.opening + other.opening,
            self.capitalised + other.capitalised,
            self.amortised + other.amortised,
            self.reversed + other.reversed,
        )


def is_capitalised(benefit_months: int, threshold_months: int = CAPITALISATION_THRESHOLD_MONTHS) -> bool:
    """More than the threshold (12 months): capitalised; 12 months or less: expensed at once."""
    return benefit_months > threshold_months


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def monthly_amount(amount_minor: int, benefit_months: int) -> int:
    return half_up(Decimal(amount_minor) / Decimal(benefit_months))


def first_month_amount(amount_minor: int, benefit_months: int, closed_on: date) -> int:
    """The monthly amount × days from the close date to the month's end inclusive / days in the month."""
    days_in_month = calendar.monthrange(closed_on.year, closed_on.month)[1]
    days = days_in_month - closed_on.day + 1
    return half_up(Decimal(monthly_amount(amount_minor, benefit_months)) * days / days_in_month)


def amortisation_plan(amount_minor: int, benefit_months: int, closed_on: date) -> list[tuple[date, int]]:
    """(month, amount) from the close date's month to the month the benefit period ends in; sums to the amount.

    Month 1 is prorated, months 2..N take the monthly amount, month N+1 (the partial month the period
    ends in) the remainder. A month never takes more than what is left (a rounded-up monthly amount
    can otherwise overshoot: the remainder is then taken earlier), and months of zero are left out."""
    monthly = monthly_amount(amount_minor, benefit_months)
    start = first_of_month(closed_on)
    planned = [first_month_amount(amount_minor, benefit_months, closed_on)] + [monthly] * (benefit_months - 1)
    left = amount_minor
    rows: list[tuple[date, int]] = []
    for index, wanted in enumerate(planned):
        take = min(wanted, left)
        left -= take
        rows.append((add_months(start, index), take))
    rows.append((add_months(start, benefit_months), left))
    return [(month, value) for month, value in rows if value]


def schedule(cost: ContractCost) -> list[ScheduleRow]:
    """The deal's rows month by month: capitalised in the close month, amortised, reversed on a clawback."""
    plan = dict(amortisation_plan(cost.amount_minor, cost.benefit_months, cost.closed_on))
    reversal_month = first_of_month(cost.clawback_on) if cost.clawback_on else None
    month = first_of_month(cost.closed_on)
    last = max(plan) if plan else month
    balance = 0
    rows: list[ScheduleRow] = []
    while month <= last:
        opening = balance
        capitalised = cost.amount_minor if month == first_of_month(cost.closed_on) else 0
        if reversal_month is not None and month >= reversal_month:
            amortised, reversed_ = 0, opening + capitalised
        else:
            amortised, reversed_ = plan.get(month, 0), 0
        balance = opening + capitalised - amortised - reversed_
        rows.append(ScheduleRow(month, opening, capitalised, amortised, reversed_, balance))
        if reversed_ or (reversal_month is not None and month >= reversal_month):
            break
        month = add_months(month, 1)
    return rows


def movements(rows: Iterable[ScheduleRow], starts_on: date, ends_on: date) -> Movements:
    """One schedule's totals over the months from ``starts_on`` to ``ends_on`` (a period)."""
    opening = 0
    capitalised = amortised = reversed_ = 0
    for row in rows:
        if row.month < first_of_month(starts_on):
            opening = row.closing
        elif row.month <= ends_on:
            capitalised += row.capitalised
            amortised += row.amortised
            reversed_ += row.reversed
    return Movements(opening, capitalised, amortised, reversed_)


def rows_in(rows: Iterable[ScheduleRow], starts_on: date, ends_on: date) -> list[ScheduleRow]:
    """The schedule's rows of the months of a period."""
    return [row for row in rows if first_of_month(starts_on) <= row.month <= ends_on]
