"""Quota targets: who may set whose, the grid, validated changes with optimistic locking, copy, proration.

Keyword-friendly functions that take the session; the caller owns the transaction
(``commissions.core.db.transaction``), so a refused batch leaves nothing half-written.

Units: ``Quota.target_minor`` is minor units of the person's plan currency for money
metrics (bookings, sourced_revenue) and hundredths for ``deals``. Everything outside
the database is ``Decimal``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, delete, or_, update
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.db import write
from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.money import format_money
from commissions.core.periods import (
    CLOSED_STATES,
    PeriodKey,
    PeriodKeyError,
    PeriodOutOfWindow,
    check_period_in_window,
    ensure_period,
    next_period,
    parse_period_key,
    period_row,
    previous_period,
)
from commissions.core.principal import Principal
from commissions.engine.money import CONTEXT, minor_digits
from commissions.models import Period, Person, Plan, PlanAssignment, Quota, Team
from commissions.models.base import MONEY_METRICS, utcnow
from commissions.people.queries import normalise_email, people_by_email
from commissions.people.service import report_ids

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
# 250000, 250000.50, 250,000.50 — never 250.000,50 (which would silently mean something else)
_NUMBER = re.compile(r"^(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$")

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
        if not _NUMBER.match(raw):
            raise InputProblem("target", f"{raw!r} is not a number: write it like 250000.00")
        try:
            value = Decimal(raw.replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
            raise InputProblem("target", f"{raw!r} is not a number") from exc
    if value <= 0:
        raise InputProblem("target", "must be greater than 0 (leave it empty to remove the quota)")
    if value > MAX_TARGET:
        raise InputProblem("target", "is too large")
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


def display_target(value: Decimal, metric: str, currency: str) -> str:
    """For reading: ``250,000.00 USD`` for money, ``8 deals`` for counts (rounded half-up for display)."""
    if is_money(metric):
        digits = minor_digits(currency)
        return format_money(int(value.scaleb(digits).quantize(Decimal(1), rounding=ROUND_HALF_UP)), currency)
    return f"{plain_target(value, metric, currency)} {COUNT_UNITS.get(metric, 'deals')}"


def check_open(period: Period | None) -> None:
    if period is not None and period.state != "open":
        raise Conflict("period", f"{period.key} is {period.state}: its quotas no longer change")


# ---------------------------------------------------------------- who may edit whom


def editable_person_ids(session: Session, principal: Principal) -> set[int] | None:
    """Whose quotas the caller may read and set: None means everyone (admin).

    A manager sets the quotas of their reports, recursively, never their own (their
    own manager or an admin does that).
    """
    if principal.role == "admin":
        return None
    if principal.role == "manager" and principal.person_id is not None:
        return report_ids(session, principal.person_id)
    return set()


def may_edit(session: Session, principal: Principal, person_id: int) -> bool:
    ids = editable_person_ids(session, principal)
    return ids is None or person_id in ids


# ---------------------------------------------------------------- currency and proration


def _overlapping_assignments(
    session: Session, person_ids: Iterable[int], key: PeriodKey
) -> list[tuple[int, date, date | None, bool, str]]:
    ids = list(person_ids)
    if not ids:
        return []
    columns: tuple[Any, ...] = (  # more columns than select()'s typed overloads: rows are untyped
        PlanAssignment.person_id,
        PlanAssignment.starts_on,
        PlanAssignment.ends_on,
        PlanAssignment.prorate,
        Plan.currency,
    )
    return list(
        session.exec(
            select(*columns)
            .join(Plan, col(Plan.id) == PlanAssignment.plan_id)
            .where(
                col(PlanAssignment.person_id).in_(ids),
                col(PlanAssignment.starts_on) <= key.ends_on,
                or_(col(PlanAssignment.ends_on).is_(None), col(PlanAssignment.ends_on) >= key.starts_on),
            )
            .order_by(col(PlanAssignment.starts_on), col(PlanAssignment.id))
        ).all()
    )


def plan_currencies(session: Session, person_ids: Iterable[int], key: PeriodKey) -> dict[int, str]:
    """The currency of the plan each person is on in the period (the latest assignment wins)."""
    return {pid: currency for pid, _s, _e, _p, currency in _overlapping_assignments(session, person_ids, key)}


@dataclass(frozen=True, slots=True)
class Proration:
    active_days: int
    days: int

    def apply(self, target: Decimal) -> Decimal:
        """target × active days / days in the period, exact (rounded for display only)."""
        return CONTEXT.divide(CONTEXT.multiply(target, Decimal(self.active_days)), Decimal(self.days))


def prorations(session: Session, person_ids: Iterable[int], key: PeriodKey) -> dict[int, Proration]:
    """People whose prorated plan assignment covers only part of the period.

    Active days are the days of the period covered by any of the person's assignments
    (a plan change mid-period is not a part-time period); proration applies when one
    of those assignments says ``prorate``.
    """
    by_person: dict[int, list[tuple[date, date, bool]]] = {}
    for pid, starts_on, ends_on, prorate, _currency in _overlapping_assignments(session, person_ids, key):
        first = max(starts_on, key.starts_on)
        last = min(ends_on or key.ends_on, key.ends_on)
        by_person.setdefault(pid, []).append((first, last, prorate))
    days = (key.ends_on - key.starts_on).days + 1
    out: dict[int, Proration] = {}
    for pid, spans in by_person.items():
        if not any(p for _f, _l, p in spans):
            continue
        active, reached = 0, key.starts_on - timedelta(days=1)
        for first, last, _p in sorted(spans):
            first = max(first, reached + timedelta(days=1))
            if last >= first:
                active += (last - first).days + 1
                reached = last
        if active < days:
            out[pid] = Proration(active, days)
    return out


def effective_target(session: Session, person_id: int, metric: str, period_key: str | PeriodKey) -> Decimal | None:
    """The target the calculation uses: the stored (full) target, prorated when the person's
    ``prorate`` plan assignment covers only part of the period. None when there is no quota.

    Money in the plan currency, counts for ``deals``; exact (not rounded).
    """
    key = period_key if isinstance(period_key, PeriodKey) else parse_period_key(period_key)
    minor = session.exec(
        select(Quota.target_minor)
        .join(Period, col(Period.id) == Quota.period_id)
        .where(Period.key == key.key, Quota.person_id == person_id, Quota.metric == metric)
    ).first()
    if minor is None:
        return None
    currency = plan_currencies(session, [person_id], key).get(person_id, DEFAULT_CURRENCY)
    full = target_value(minor, metric, currency)
    proration = prorations(session, [person_id], key).get(person_id)
    return proration.apply(full) if proration else full


# ---------------------------------------------------------------- the grid


@dataclass
class Cell:
    person_id: int
    person_name: str
    metric: str
    period: str
    currency: str
    minor: int | None = None
    version: int = 0  # 0: there was no quota when this cell was rendered
    proration: Proration | None = None
    editable: bool = True
    error: str | None = None
    attempted: str | None = None  # what the editor typed, when it was refused
    saved: bool = False

    @property
    def dom_id(self) -> str:
        return f"q-{self.person_id}-{self.metric}"

    @property
    def value(self) -> Decimal | None:
        return None if self.minor is None else target_value(self.minor, self.metric, self.currency)

    @property
    def input_value(self) -> str:
        if self.attempted is not None:
            return self.attempted
        return "" if self.value is None else plain_target(self.value, self.metric, self.currency)

    @property
    def display(self) -> str:
        return "" if self.value is None else display_target(self.value, self.metric, self.currency)

    @property
    def prorated_display(self) -> str | None:
        if self.value is None or self.proration is None:
            return None
        return display_target(self.proration.apply(self.value), self.metric, self.currency)

    @property
    def unit(self) -> str:
        return self.currency if is_money(self.metric) else COUNT_UNITS.get(self.metric, "deals")

    @property
    def label(self) -> str:
        return f"{METRIC_LABELS.get(self.metric, self.metric)} target for {self.person_name}"


@dataclass
class Row:
    person: Person
    currency: str
    proration: Proration | None
    cells: dict[str, Cell]


@dataclass
class Grid:
    period: PeriodKey
    state: str
    groups: list[tuple[str, list[Row]]] = field(default_factory=list)
    metrics: tuple[str, ...] = GRID_METRICS
    labels: dict[str, str] = field(default_factory=lambda: dict(METRIC_LABELS))

    @property
    def editable(self) -> bool:
        return self.state == "open"

    @property
    def people(self) -> int:
        return sum(len(rows) for _team, rows in self.groups)

    @property
    def previous(self) -> PeriodKey:
        return previous_period(self.period)

    @property
    def next(self) -> PeriodKey:
        return next_period(self.period)


def _quota_map(session: Session, period: Period | None, person_ids: Iterable[int]) -> dict[tuple[int, str], Quota]:
    ids = list(person_ids)
    if period is None or not ids:
        return {}
    rows = session.exec(
        select(Quota).where(
            Quota.period_id == period.id, col(Quota.person_id).in_(ids), col(Quota.metric).in_(GRID_METRICS)
        )
    ).all()
    return {(q.person_id, q.metric): q for q in rows if q.person_id is not None}  # the query has people's only


def build_grid(session: Session, principal: Principal, key: PeriodKey) -> Grid:
    """Rows: the people whose quotas the caller sets (a manager's reports, or everyone on a
    sales or marketing role for an admin), grouped by team; columns: the grid metrics."""
    ids = editable_person_ids(session, principal)
    period = period_row(session, key)
    grid = Grid(period=key, state=period.state if period else "open")
    query = select(Person)
    if ids is None:
        query = query.where(col(Person.role).in_(("rep", "manager")))
    elif ids:
        query = query.where(col(Person.id).in_(ids))
    else:
        return grid
    people = session.exec(query).all()
    quotas = _quota_map(session, period, [stored_id(p) for p in people])
    with_quota = {pid for pid, _m in quotas}
    people = [p for p in people if p.active or p.id in with_quota]  # leavers stay while they have quotas
    person_ids = [stored_id(p) for p in people]
    currencies = plan_currencies(session, person_ids, key)
    prorated = prorations(session, person_ids, key)
    teams = {t.id: t.name for t in session.exec(select(Team)).all()}
    marketing_teams = set(session.exec(select(Team.id).where(Team.kind == "marketing")).all())
    groups: dict[str, list[Row]] = {}
    used: set[str] = set()
    for person in people:
        pid = stored_id(person)
        currency = currencies.get(pid, DEFAULT_CURRENCY)
        cells = {}
        columns = MARKETING_COLUMNS if person.team_id in marketing_teams else SALES_COLUMNS
        used.update(columns)
        for metric in columns:
            q = quotas.get((pid, metric))
            cells[metric] = Cell(
                person_id=pid,
                person_name=person.name,
                metric=metric,
                period=key.key,
                currency=currency,
                minor=q.target_minor if q else None,
                version=q.version if q else 0,
                proration=prorated.get(pid),
                editable=grid.editable,
            )
        team = teams.get(person.team_id, NO_TEAM) if person.team_id else NO_TEAM
        groups.setdefault(team, []).append(Row(person, currency, prorated.get(pid), cells))
    grid.metrics = tuple(m for m in GRID_METRICS if m in used)
    grid.groups = [
        (team, sorted(rows, key=lambda r: (r.person.name.lower(), r.person.email)))
        for team, rows in sorted(groups.items(), key=lambda item: (item[0] == NO_TEAM, item[0].lower()))
    ]
    return grid


def columns_of(session: Session, person: Person) -> tuple[str, ...]:
    """The quota metrics a person can carry: marketing ones on a marketing team, sales ones elsewhere."""
    kind = session.get(Team, person.team_id).kind if person.team_id else None  # type: ignore[union-attr]
    return MARKETING_COLUMNS if kind == "marketing" else SALES_COLUMNS


def load_cell(session: Session, principal: Principal, person_id: int, metric: str, key: PeriodKey) -> Cell | None:
    """One cell of the grid, or None when the caller may not see that person (or the metric is not one of theirs)."""
    if metric not in GRID_METRICS or not may_edit(session, principal, person_id):
        return None
    person = session.get(Person, person_id)
    if person is None or metric not in columns_of(session, person):
        return None
    period = period_row(session, key)
    quota = _quota_map(session, period, [person_id]).get((person_id, metric))
    return Cell(
        person_id=person_id,
        person_name=person.name,
        metric=metric,
        period=key.key,
        currency=plan_currencies(session, [person_id], key).get(person_id, DEFAULT_CURRENCY),
        minor=quota.target_minor if quota else None,
        version=quota.version if quota else 0,
        proration=prorations(session, [person_id], key).get(person_id),
        editable=period is None or period.state == "open",
    )


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


def _fmt(minor: int | None, metric: str, currency: str) -> str | None:
    return None if minor is None else plain_target(target_value(minor, metric, currency), metric, currency)


def _audit(
    session: Session,
    by: Principal | None,
    action: str,
    quota_id: int | None,
    change: Change,
    old: int | None,
    new: int | None,
    version: int,
    source: str,
    **extra: object,
) -> None:
    detail = {
        "person": change.email,
        "metric": change.metric,
        "period": change.period.key,
        "old": _fmt(old, change.metric, change.currency),
        "new": _fmt(new, change.metric, change.currency),
        "unit": change.currency if is_money(change.metric) else "count",
        "version": version,
        "source": source,
        **extra,
    }
    record_event(session, by, action, "quota", quota_id, detail)


def _conflict(quota: Quota | None, change: Change) -> QuotaConflict:
    now = _fmt(quota.target_minor if quota else None, change.metric, change.currency)
    where = f"{change.where}: " if change.where else ""
    return QuotaConflict(
        f"{where}changed by someone else since you loaded it: it is now {now if now is not None else 'empty'}",
        current_minor=quota.target_minor if quota else None,
        current_version=quota.version if quota else 0,
    )


def apply_change(
    session: Session, change: Change, *, by: Principal | None, source: str = "grid", closed_ok: bool = False
) -> Outcome:
    """Set or remove one quota with optimistic locking; audited; raises QuotaConflict or Conflict.

    Only open periods, unless ``closed_ok``: then a locked or paid period's quota is recorded and
    the difference it makes is booked as a prior-period adjustment in the earliest open period.
    """
    if closed_ok:
        from commissions.core.periods import lock_period

        lock_period(session, change.period.key)
    return _queue_recompute(session, _apply_change(session, change, by=by, source=source, closed_ok=closed_ok), by=by)


def _apply_change(
    session: Session, change: Change, *, by: Principal | None, source: str, closed_ok: bool = False
) -> Outcome:
    period = (
        ensure_period(session, change.period) if change.target_minor is not None else period_row(session, change.period)
    )
    if period is None:  # removing a quota from a period that does not exist: nothing to do
        return Outcome(change, "unchanged", None, None)
    if not closed_ok:
        check_open(period)
    quota = session.exec(
        select(Quota).where(
            Quota.period_id == period.id, Quota.person_id == change.person_id, Quota.metric == change.metric
        )
    ).first()
    old = quota.target_minor if quota else None
    if old == change.target_minor:  # the same value again (a double submit) is never a conflict
        return Outcome(change, "unchanged", old, quota)
    if change.version is not None and change.version != (quota.version if quota else 0):
        raise _conflict(quota, change)
    if quota is None:
        if change.target_minor is None:  # removing a quota that is not there: unchanged (old == None above)
            return Outcome(change, "unchanged", None, None)
        quota = Quota(
            person_id=change.person_id,
            metric=change.metric,
            period_id=stored_id(period),
            target_minor=change.target_minor,
            version=1,
        )
        session.add(quota)
        session.flush()
        _audit(session, by, "quota.set", quota.id, change, None, change.target_minor, 1, source)
        return Outcome(change, "created", None, quota)
    seen_version = quota.version
    if change.target_minor is None:
        result = cast(
            "CursorResult[Any]",
            session.execute(delete(Quota).where(col(Quota.id) == quota.id, col(Quota.version) == seen_version)),
        )
        if result.rowcount != 1:
            session.expire(quota)
            raise _conflict(session.get(Quota, quota.id), change)
        session.expunge(quota)
        _audit(session, by, "quota.delete", quota.id, change, old, None, seen_version, source)
        return Outcome(change, "deleted", old, None)
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(Quota)
            .where(col(Quota.id) == quota.id, col(Quota.version) == seen_version)
            .values(target_minor=change.target_minor, version=seen_version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    session.expire(quota)
    if result.rowcount != 1:  # a concurrent writer got there between our read and our write
        raise _conflict(session.get(Quota, quota.id), change)
    session.refresh(quota)
    _audit(session, by, "quota.set", quota.id, change, old, change.target_minor, quota.version, source)
    return Outcome(change, "updated", old, quota)


def apply_changes(
    session: Session, changes: list[Change], *, by: Principal | None, source: str, closed_ok: bool = False
) -> list[Outcome]:
    from commissions.core.periods import lock_period

    for key in sorted({change.period.key for change in changes}):  # in key order, like every writer: no deadlock
        lock_period(session, key)
    return [apply_change(session, change, by=by, source=source, closed_ok=closed_ok) for change in changes]


def _queue_recompute(session: Session, outcome: Outcome, *, by: Principal | None = None) -> Outcome:
    """A changed target changes attainment: the person's statement is recomputed by the worker
    (in a locked period: the difference is booked at once as a prior-period adjustment)."""
    if outcome.action != "unchanged":
        from commissions.calculation.state import touch

        period = period_row(session, outcome.change.period)
        if period is not None and period.state in CLOSED_STATES:
            from commissions.adjustments.prior_period import book_locked_change

            c = outcome.change
            what = (
                f"quota change ({c.metric}: {_fmt(outcome.old_minor, c.metric, c.currency) or 'none'} → "
                f"{_fmt(c.target_minor, c.metric, c.currency) or 'none'})"
            )
            book_locked_change(
                session,
                period=period,
                people={c.person_id},
                deal=None,
                what=what,
                actor=by,
                trigger=f"quota {c.email} {c.metric} {c.period.key}",
            )
        else:
            touch(session, {outcome.change.person_id}, {outcome.change.period.key})
    return outcome


def run_write(engine: Engine, work: Callable[[Session], T], *, attempts: int = 3) -> T:
    """One write transaction, retried when a concurrent writer created the same period or quota first."""
    return write(engine, work, attempts=attempts)


def cell_change(
    session: Session,
    principal: Principal,
    *,
    person_id: int,
    metric: str,
    key: PeriodKey,
    target: str,
    version: int | None,
) -> Change:
    """Validate one grid cell edit (the caller has checked that the person is editable)."""
    person = session.get(Person, person_id)
    if person is None:
        raise InputProblem("person", "no such person")
    currency = plan_currencies(session, [person_id], key).get(person_id, DEFAULT_CURRENCY)
    return Change(person_id, person.email, metric, key, parse_target(target, metric, currency), currency, version)


# ---------------------------------------------------------------- batches (CSV and API)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as written in quotas.csv or sent to the API, before validation."""

    where: str
    person: str
    metric: str
    period: str
    target: str | Decimal | None
    version: int | None = None
    index: int | None = None


def resolve_rows(
    session: Session, principal: Principal, rows: list[RawRow], *, closed_ok: bool = False
) -> list[Change]:
    """With ``closed_ok`` (the API) quotas of approved, locked and paid periods may change too: a locked
        period's change becomes a prior-period adjustment (docs/finance.md).

    Validate a whole batch; raise RowsForbidden (anyone outside the caller's team: 403) or
        RowsProblem (every bad row, by line and field), else return the changes.

        For a manager an unknown email and a colleague outside their team read the same
        ("not in your team"), so the answer does not reveal who exists.
    """
    ids = editable_person_ids(session, principal)
    emails = {normalise_email(r.person) for r in rows if r.person}
    people = people_by_email(session, emails)
    periods: dict[str, Period | None] = {}
    problems: list[RowProblem] = []
    forbidden: list[RowProblem] = []
    seen: dict[tuple[int, str, str], str] = {}
    changes: list[Change] = []
    for row in rows:

        def bad(field_name: str, message: str, row: RawRow = row) -> None:
            problems.append(RowProblem(row.where, field_name, message, row.index))

        email = normalise_email(row.person or "")
        person = people.get(email)
        if not email:
            bad("person", "is empty")
        elif person is None or (ids is not None and person.id not in ids):
            if ids is None:
                bad("person", f"no person with email {email}")
            else:
                forbidden.append(RowProblem(row.where, "person", f"{email} is not in your team", row.index))
                problems.append(forbidden[-1])
            person = None
        metric = (row.metric or "").strip().lower()
        if metric not in GRID_METRICS:
            bad("metric", f"{row.metric!r} is not one of {', '.join(GRID_METRICS)}")
            metric = ""
        key = None
        try:
            key = parse_period_key(row.period or "")
        except PeriodKeyError as exc:
            bad("period", str(exc))
        if key is not None:
            if key.key not in periods:
                periods[key.key] = period_row(session, key)
            stored = periods[key.key]
            if stored is not None and stored.state != "open" and not closed_ok:
                bad("period", f"{key.key} is {stored.state}: its quotas no longer change")
            if stored is None:
                try:
                    check_period_in_window(key)
                except PeriodOutOfWindow as exc:
                    bad("period", exc.message)
                    key = None
        if person is not None and metric and metric not in columns_of(session, person):
            bad("metric", f"{metric} is not a quota of {email}: {', '.join(columns_of(session, person))}")
            continue
        if person is None or not metric or key is None:
            continue
        currency = plan_currencies(session, [stored_id(person)], key).get(stored_id(person), DEFAULT_CURRENCY)
        try:
            minor = parse_target(row.target, metric, currency)
        except InputProblem as exc:
            bad("target", exc.message)
            continue
        ident = (stored_id(person), metric, key.key)
        if ident in seen:
            bad("person", f"{email} {metric} {key.key} is also on {seen[ident]}")
            continue
        seen[ident] = row.where
        changes.append(Change(stored_id(person), person.email, metric, key, minor, currency, row.version, row.where))
    if forbidden:  # refused as a whole; the report lists every other problem too, in file order
        raise RowsForbidden(problems)
    if problems:
        raise RowsProblem(problems)
    return changes


@dataclass(frozen=True, slots=True)
class PreviewRow:
    change: Change
    name: str
    old_minor: int | None
    version: int

    @property
    def action(self) -> str:
        if self.old_minor == self.change.target_minor:
            return "unchanged"
        if self.old_minor is None:
            return "add"
        return "remove" if self.change.target_minor is None else "change"

    def _show(self, minor: int | None) -> str:
        c = self.change
        return "" if minor is None else display_target(target_value(minor, c.metric, c.currency), c.metric, c.currency)

    @property
    def old(self) -> str:
        return self._show(self.old_minor)

    @property
    def new(self) -> str:
        return self._show(self.change.target_minor)


def preview(session: Session, changes: list[Change]) -> list[PreviewRow]:
    """What a batch would change, without changing anything."""
    out = []
    names = (
        dict(
            session.exec(select(Person.id, Person.name).where(col(Person.id).in_({c.person_id for c in changes}))).all()
        )
        if changes
        else {}
    )
    period_ids: dict[str, int | None] = {}
    for change in changes:
        if change.period.key not in period_ids:
            row = period_row(session, change.period)
            period_ids[change.period.key] = row.id if row else None
        pid = period_ids[change.period.key]
        quota = (
            None
            if pid is None
            else session.exec(
                select(Quota).where(
                    Quota.period_id == pid, Quota.person_id == change.person_id, Quota.metric == change.metric
                )
            ).first()
        )
        out.append(
            PreviewRow(
                change,
                names.get(change.person_id, change.email),
                quota.target_minor if quota else None,
                quota.version if quota else 0,
            )
        )
    return out


def fingerprint(rows: list[PreviewRow]) -> str:
    """What the preview was based on: confirming refuses if any of those quotas changed since."""
    basis = sorted([r.change.person_id, r.change.metric, r.change.period.key, r.version] for r in rows)
    return hashlib.sha256(json.dumps(basis).encode()).hexdigest()


# ---------------------------------------------------------------- copy from the last period


@dataclass(frozen=True, slots=True)
class CopyResult:
    source: str
    copied: int
    people: int


def copy_from_previous(session: Session, principal: Principal, key: PeriodKey, *, by: Principal | None) -> CopyResult:
    """Copy the previous period's (same kind) quotas of the caller's people into ``key`` for
    everyone who has no quota in ``key`` yet. Only active people get copies."""
    source_key = previous_period(key)
    source = period_row(session, source_key)
    if source is None:
        return CopyResult(source_key.key, 0, 0)
    ids = editable_person_ids(session, principal)
    if ids is not None and not ids:
        return CopyResult(source_key.key, 0, 0)
    query = (
        select(Quota, Person.email)
        .join(Person, col(Person.id) == Quota.person_id)
        .where(Quota.period_id == source.id, col(Quota.metric).in_(GRID_METRICS), Person.active)
        .order_by(Person.email, Quota.metric)
    )
    if ids is not None:
        query = query.where(col(Quota.person_id).in_(ids))
    previous = session.exec(query).all()
    if not previous:
        return CopyResult(source_key.key, 0, 0)
    target = ensure_period(session, key)
    check_open(target)
    have = set(
        session.exec(
            select(Quota.person_id).where(Quota.period_id == target.id, col(Quota.person_id).is_not(None))
        ).all()
    )
    # the join with Person leaves team quotas (no person_id) out
    currencies = plan_currencies(session, {q.person_id for q, _e in previous if q.person_id is not None}, key)
    copied, people = 0, set[int]()
    for quota, email in previous:
        person_id = quota.person_id
        if person_id is None or person_id in have:
            continue
        new = Quota(
            person_id=person_id,
            metric=quota.metric,
            period_id=stored_id(target),
            target_minor=quota.target_minor,
            version=1,
        )
        session.add(new)
        session.flush()
        change = Change(
            person_id,
            email,
            quota.metric,
            key,
            quota.target_minor,
            currencies.get(person_id, DEFAULT_CURRENCY),
        )
        _audit(
            session, by, "quota.set", new.id, change, None, quota.target_minor, 1, "copy", copied_from=source_key.key
        )
        copied += 1
        people.add(person_id)
    if people:  # new targets change attainment: their statements are recomputed
        from commissions.calculation.state import touch

        touch(session, people, {key.key})
    return CopyResult(source_key.key, copied, len(people))


# ---------------------------------------------------------------- the pages' and the API's transactions


class CellNotFound(LookupError):
    """No such quota cell, or not one the caller may edit (the person left their team meanwhile)."""


class PreviewStale(Conflict):
    """Quotas of a previewed file changed since the preview: ``rows`` is the new preview."""

    def __init__(self, rows: list[PreviewRow]) -> None:
        super().__init__("file", "some of these quotas changed since the preview: check the new preview")
        self.rows = rows


def save_cell(
    engine: Engine, principal: Principal, *, person_id: int, metric: str, key: PeriodKey, target: str, version: int
) -> Cell:
    """One grid cell edit in its own transaction (retried on a race); returns the cell as stored, marked saved."""

    def work(session: Session) -> Cell:
        if load_cell(session, principal, person_id, metric, key) is None:  # checked again, in the write
            raise CellNotFound()
        change = cell_change(
            session, principal, person_id=person_id, metric=metric, key=key, target=target, version=version
        )
        apply_change(session, change, by=principal, source="grid")
        cell = load_cell(session, principal, person_id, metric, key)
        assert cell is not None
        cell.saved = True
        return cell

    return run_write(engine, work)


def copy_previous(engine: Engine, principal: Principal, key: PeriodKey) -> CopyResult:
    """``copy_from_previous`` in its own transaction (retried on a race)."""
    return run_write(engine, lambda s: copy_from_previous(s, principal, key, by=principal))


def confirm_upload(engine: Engine, principal: Principal, raw: list[RawRow], previewed: str) -> tuple[int, str]:
    """Apply the rows of a previewed quotas.csv if nothing they change moved since the preview (``previewed``: the
    preview's fingerprint; else PreviewStale with the new preview). Returns how many quotas changed and the first
    row's period."""

    def work(session: Session) -> tuple[int, str]:
        changes = resolve_rows(session, principal, raw)
        rows = preview(session, changes)
        if fingerprint(rows) != previewed:
            raise PreviewStale(rows)
        outcomes = apply_changes(session, changes, by=principal, source="csv")
        return sum(o.action != "unchanged" for o in outcomes), changes[0].period.key

    return run_write(engine, work)


@dataclass(frozen=True, slots=True)
class StoredQuota:
    """A quota as the API answers it after a write (target as plain text, unit: the currency or "count")."""

    person: str
    metric: str
    period: str
    target: str | None
    unit: str
    version: int


def _stored(outcome: Outcome) -> StoredQuota:
    c = outcome.change
    target = (
        None
        if outcome.quota is None
        else plain_target(target_value(outcome.quota.target_minor, c.metric, c.currency), c.metric, c.currency)
    )
    unit = c.currency if is_money(c.metric) else "count"
    return StoredQuota(c.email, c.metric, c.period.key, target, unit, outcome.version)


def set_quotas(engine: Engine, principal: Principal, rows: list[RawRow]) -> list[StoredQuota]:
    """The API's batch: all or nothing, closed periods included (prior-period adjustments), in request order; the
    stored quotas are read in the transaction."""

    def work(session: Session) -> list[StoredQuota]:
        outcomes = apply_changes(
            session,
            resolve_rows(session, principal, rows, closed_ok=True),
            by=principal,
            source="api",
            closed_ok=True,
        )
        return [_stored(o) for o in outcomes]

    return run_write(engine, work)
