"""Quota targets as numbers: the metrics a grid shows, units and parsing, display, one change of a target and
what refuses one (errors naming rows and fields)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TypeVar

from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.money import MoneyError, format_money, typed_number
from commissions.core.periods import (
    PeriodKey,
)
from commissions.engine.money import minor_digits
from commissions.models import Period, Quota
from commissions.models.base import MONEY_METRICS

GRID_METRICS = ("bookings", "sourced_revenue", "deals", "mqls", "sqls", "pipeline")  # every person quota metric
SALES_COLUMNS = ("bookings", "sourced_revenue", "deals")  # a row's columns: people outside marketing teams
MARKETING_COLUMNS = ("sourced_revenue", "mqls", "sqls", "pipeline")  # people on a team of kind marketing
METRIC_LABELS = {
    "bookings": "Bookings",
    "sourced_revenue": "Sourced revenue",
    "deals": "Deals",
    "mqls": "MQLs",
    "sqls": "SQLs",
    "pipeline": "Sourced pipeline",
}
COUNT_UNITS = {"deals": "deals", "mqls": "MQLs", "sqls": "SQLs"}
DEFAULT_CURRENCY = "USD"
MAX_TARGET = Decimal(1000000000000)  # 10^12: beyond this it is a typo, not a target
COUNT_DIGITS = 2  # counts are stored in hundredths
NO_TEAM = "No team"
# after core.money.typed_number has read the thousands commas: digits and decimals, no sign, no exponent
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")

T = TypeVar("T")


# ---------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with one row of a batch: ``where`` is "line 3" (CSV) or "[2]" (API)."""

    where: str
    field: str
    message: str
    index: int | None = None

    def __str__(self) -> str:
        return f"{self.where}, {self.field}: {self.message}" if self.where else f"{self.field}: {self.message}"


def _summary(problems: list[RowProblem]) -> str:
    head = "; ".join(str(p) for p in problems[:20])
    return head + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")


class RowsProblem(InputProblem):
    """A batch with bad rows: nothing of it was stored."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        super().__init__(problems[0].field, _summary(problems))


class RowsForbidden(Forbidden):
    """A batch naming people outside the caller's team: nothing of it was stored."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        self.field = "person"
        self.message = _summary(problems)
        super().__init__(self.message)


class QuotaConflict(Conflict):
    """The quota changed since the editor loaded it (another manager, another tab)."""

    def __init__(self, message: str, *, current_minor: int | None, current_version: int) -> None:
        super().__init__("target", message)
        self.current_minor = current_minor
        self.current_version = current_version


# ---------------------------------------------------------------- units and periods


def is_money(metric: str) -> bool:
    return metric in MONEY_METRICS


def _digits(metric: str, currency: str) -> int:
    return minor_digits(currency) if is_money(metric) else COUNT_DIGITS


def parse_target(text: str | Decimal | int | None, metric: str, currency: str) -> int | None:
    """A target as typed (or sent) to stored units; empty means "no quota"."""
    if text is None:
        return None
    if isinstance(text, Decimal | int) and not isinstance(text, bool):
        value = Decimal(text)
        if not value.is_finite():
            raise InputProblem("target", "must be a number")
    else:
        raw = str(text).strip()
        if not raw:
            return None
        try:  # 250,000.50 as people type it; never 250.000,50, which would silently mean something else
            plain = typed_number(raw)
        except MoneyError:
            plain = ""
        if plain.startswith("-") and _PLAIN.match(plain[1:]):
            raise InputProblem("target", "a target must be greater than 0 (leave it empty to remove the quota)")
        if not _PLAIN.match(plain):
            raise InputProblem("target", f"{raw!r} is not a number: write it like 250000.00")
        try:
            value = Decimal(plain)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
            raise InputProblem("target", f"{raw!r} is not a number") from exc
    if value <= 0:
        raise InputProblem("target", "a target must be greater than 0 (leave it empty to remove the quota)")
    if value > MAX_TARGET:
        raise InputProblem("target", f"{value} is too large: a target is at most {MAX_TARGET:,}")
    digits = _digits(metric, currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        unit = currency if is_money(metric) else "a count"
        raise InputProblem("target", f"{value} has more decimals than {unit} allows ({digits})")
    return int(scaled)


def target_value(minor: int, metric: str, currency: str) -> Decimal:
    digits = _digits(metric, currency)
    return Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def plain_target(value: Decimal, metric: str, currency: str) -> str:
    """For an input box: ``250000.00`` for money, ``8`` or ``8.5`` for counts."""
    if is_money(metric):
        return str(value.quantize(Decimal(1).scaleb(-minor_digits(currency))))
    value = value.quantize(Decimal("0.01"))
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value.normalize())


def input_target(value: Decimal, metric: str, currency: str) -> str:
    """For a grid's input box, grouped as the page shows figures: ``250,000.00``, ``1,200`` (parse_target reads
    the grouping back; docs/metrics.md, "Showing figures")."""
    return f"{Decimal(plain_target(value, metric, currency)):,}"


def display_target(value: Decimal, metric: str, currency: str) -> str:
    """For reading: ``250,000.00 USD`` for money, ``8 deals`` for counts (rounded half-up for display)."""
    if is_money(metric):
        digits = minor_digits(currency)
        return format_money(int(value.scaleb(digits).quantize(Decimal(1), rounding=ROUND_HALF_UP)), currency)
    return f"{plain_target(value, metric, currency)} {COUNT_UNITS.get(metric, 'deals')}"


def check_open(period: Period | None) -> None:
    if period is not None and period.state != "open":
        raise Conflict("period", f"{period.key} is {period.state}: its quotas no longer change")


# ---------------------------------------------------------------- changes


@dataclass(frozen=True, slots=True)
class Change:
    """A validated request to set (``target_minor``) or remove (None) one person's quota."""

    person_id: int
    email: str
    metric: str
    period: PeriodKey
    target_minor: int | None
    currency: str = DEFAULT_CURRENCY
    version: int | None = None  # the version the edit was based on (0: "there was none"); None: not checked
    where: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    change: Change
    action: str  # created | updated | deleted | unchanged
    old_minor: int | None
    quota: Quota | None

    @property
    def version(self) -> int:
        return self.quota.version if self.quota is not None else 0
