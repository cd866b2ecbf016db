"""What the engine computes from: plain frozen dataclasses, no ORM, no I/O.

The web app builds these from its database rows, the offline calculator from CSV
files. Money is ``Decimal``; dates are ``datetime.date``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from commissions.engine.errors import PeriodError
from commissions.engine.money import CONTEXT

DEAL_TYPES = ("new", "expansion", "renewal")
DEAL_STATUSES = ("won", "cancelled")
LEAD_METRICS = ("mqls", "sqls", "pipeline")  # credited from lead events, not deals (docs/metrics.md)
METRICS = ("bookings", "sourced_revenue", "deals", *LEAD_METRICS)
COUNT_METRICS = ("deals", "mqls", "sqls")  # counted (hundredths), not money
LEAD_STAGE_OF = {"mqls": "mql", "sqls": "sql", "pipeline": "opportunity"}
PERIOD_KINDS = ("month", "quarter", "year")

_NO_CUSTOM: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    name: str = ""
    manager: str | None = None
    team: str = ""
    employee_id: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Deal:
    """A closed deal. ``splits`` is ``((email, percent), ...)`` with percents summing to 100,
    or empty when the owner gets all the credit. ``custom`` holds custom fields as text.
    The standard text fields are never null (plans.md 4): empty is ``""`` (a ``None`` given
    by a caller is read as ``""`` too); ``term_months`` may be None."""

    external_id: str
    owner: str
    amount: Decimal
    currency: str
    closed_at: date
    name: str = ""
    account: str = ""
    type: str | None = "new"
    product: str | None = ""
    term_months: int | None = None
    source_campaign: str | None = ""
    status: str = "won"
    cancelled_at: date | None = None
    splits: tuple[tuple[str, Decimal], ...] = ()
    custom: Mapping[str, str] = field(default_factory=lambda: _NO_CUSTOM)

    @property
    def label(self) -> str:
        return f"{self.external_id} {self.name}" if self.name else self.external_id


def deal_field_setters() -> tuple[Any, ...]:
    """The slot setters of ``Deal``'s fields, in field order: a reader of millions of rows fills
    ``Deal.__new__(Deal)`` with them, skipping the frozen dataclass's ``__init__`` (each field
    set through ``object.__setattr__``: 1.5 µs a deal). Every field must be set, as ``__init__``
    would (``custom`` to ``NO_CUSTOM`` when there is none)."""
    return tuple(getattr(Deal, item.name).__set__ for item in fields(Deal))


#: ``Deal.custom`` of a deal without custom fields (shared, read-only).
NO_CUSTOM = _NO_CUSTOM


class DealFields:
    """``Deal``'s slots without its frozen ``__setattr__``: a reader of millions of rows sets the
    fields of one with plain attribute stores, then makes it a ``Deal`` in place with
    ``object.__setattr__(filled, "__class__", Deal)`` (the same slots in the same order, so CPython
    allows the change of class; the object is then a frozen ``Deal`` like any other). 0.6 µs a deal where the
    slot setters of ``deal_field_setters`` take 1.2 µs. Every field must be set, as ``__init__``
    would (``custom`` to ``NO_CUSTOM`` when there is none). ``tests/engine/test_lean_deals_reader.py``
    checks the slots are ``Deal``'s."""

    __slots__ = tuple(item.name for item in fields(Deal))
    external_id: str
    owner: str
    amount: Decimal
    currency: str
    closed_at: date
    name: str
    account: str
    type: str | None
    product: str | None
    term_months: int | None
    source_campaign: str | None
    status: str
    cancelled_at: date | None
    splits: tuple[tuple[str, Decimal], ...]
    custom: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Quota:
    person: str
    metric: str  # bookings | sourced_revenue | deals
    period: str  # a period key: 2026-Q1
    target: Decimal


@dataclass(frozen=True, slots=True)
class Campaign:
    code: str
    owner: str
    name: str = ""
    channel: str = ""
    cost: Decimal | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class LeadEvent:
    """A stage a lead reached, credited to its ``owner`` (a marketer) under the plan metrics
    mqls (stage mql), sqls (sql) and pipeline (opportunity, its amount). Only events in
    stage order are given to the engine (the app flags the others and never counts them)."""

    lead: str
    owner: str
    stage: str  # mql | sql | opportunity | won | lost
    occurred_at: date
    amount: Decimal | None = None
    currency: str | None = None
    campaign: str | None = None


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """One unit of ``source`` is ``rate`` units of ``target`` from ``effective_from`` on (a
    rates.csv row ``from,to,rate,effective_from``). ``rate`` > 0; ``commissions.engine.rates.RateBook``
    checks the codes and the values."""

    source: str
    target: str
    rate: Decimal
    effective_from: date


@dataclass(frozen=True, slots=True)
class DrawBalance:
    """A recoverable draw balance carried into the period (what earnings must repay first)."""

    person: str
    balance: Decimal


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # 2026-01 | 2026-Q1 | 2026
    kind: str  # month | quarter | year
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])))?$")


def parse_period(text: str) -> Period:
    """``2026-01`` (month), ``2026-Q1`` (quarter), ``2026`` (year)."""
    raw = text.strip() if isinstance(text, str) else ""
    match = _PERIOD.match(raw)
    if not match:
        raise PeriodError(f"{text!r} is not a period: write 2026-01 (month), 2026-Q1 (quarter) or 2026 (year)")
    year = int(match["year"])
    if year < 1:
        raise PeriodError(f"{text!r} is not a period: there is no year 0")
    if match["month"]:
        month = int(match["month"])
        return Period(
            raw,
            "month",
            date(year, month, 1),
            date(year, month, calendar.monthrange(year, month)[1]),
        )
    if match["quarter"]:
        last = 3 * int(match["quarter"])
        return Period(
            raw,
            "quarter",
            date(year, last - 2, 1),
            date(year, last, calendar.monthrange(year, last)[1]),
        )
    return Period(raw, "year", date(year, 1, 1), date(year, 12, 31))


def prorate(target: Decimal, period: Period, starts_on: date | None, ends_on: date | None) -> Decimal:
    """A quota target for an assignment active only part of ``period`` (``prorate: true``):
    target × active days / days in the period (exact; round for display only)."""
    first = max(period.start, starts_on or period.start)
    last = min(period.end, ends_on or period.end)
    active = max(0, (last - first).days + 1)
    return CONTEXT.divide(CONTEXT.multiply(target, Decimal(active)), Decimal(period.days))
