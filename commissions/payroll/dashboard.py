"""Finance's dashboard figures for one period, all from stored rows (lines in force, summaries, quotas)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from commissions.calculation.ledger import totals_query
from commissions.calculation.rows import stored_id
from commissions.core.i18n import N_, gettext
from commissions.holds.cash import holds_touch, payable_changes, releases_on_cash
from commissions.models import (
    LedgerTotal,
    PayeeSummary,
    Period,
    Person,
    Plan,
    PlanAssignment,
    Quota,
    Team,
)
from commissions.payroll.service import missing_payment_rate

NO_TEAM = N_("(no team)")
NO_PLAN = N_("(no plan: adjustments)")
PAYEE_ROLES = ("rep", "manager")


@dataclass(frozen=True, slots=True)
class Total:
    label: str
    currency: str
    amount_minor: int
    lines: int


@dataclass
class PersonProblems:
    person: Person
    problems: list[str] = field(default_factory=list)


@dataclass
class Dashboard:
    period: Period
    by_team: list[Total]
    by_component: list[Total]
    by_plan: list[Total]
    totals: list[Total]  # one per currency: the ledger (what the statements add up to)
    people_paid: int
    line_count: int
    problems: list[PersonProblems]
    payable: list[Total] = field(default_factory=list)  # per currency, what the payroll export pays (net_payable)
    export_problem: str | None = None  # why the payroll export would be refused (a missing exchange rate)

    @property
    def payable_differs(self) -> bool:
        """Holds, or commission waiting for payment, make payroll pay other than the ledger's total."""
        return [(t.currency, t.amount_minor) for t in self.payable] != [
            (t.currency, t.amount_minor) for t in self.totals
        ]


def _totals(
    session: Session, period_id: int, label_column: Any, *joins: tuple[Any, ColumnElement[bool]]
) -> list[Total]:
    """The period's running totals summed by ``label_column`` and currency: a few rows per person, never its lines."""
    query = totals_query(
        period_id, label_column, LedgerTotal.currency, func.sum(LedgerTotal.amount_minor), func.sum(LedgerTotal.lines)
    )
    for target, on in joins:
        query = query.join(target, on, isouter=True)
    rows = session.exec(query.group_by(label_column, LedgerTotal.currency)).all()
    return sorted(
        (Total(label or "", cur, int(amount), int(n)) for label, cur, amount, n in rows),
        key=lambda t: (t.currency, t.label),
    )


def period_dashboard(session: Session, period: Period) -> Dashboard:
    by_team = [
        Total(t.label or gettext(NO_TEAM), t.currency, t.amount_minor, t.lines)
        for t in _totals(
            session,
            stored_id(period),
            Team.name,
            (Person, col(Person.id) == LedgerTotal.person_id),
            (Team, col(Team.id) == Person.team_id),
        )
    ]
    by_component = _totals(session, stored_id(period), LedgerTotal.component)
    by_plan = [
        Total(t.label or gettext(NO_PLAN), t.currency, t.amount_minor, t.lines)
        for t in _totals(session, stored_id(period), Plan.name, (Plan, col(Plan.id) == LedgerTotal.plan_id))
    ]
    currencies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in by_component:
        currencies[t.currency][0] += t.amount_minor
        currencies[t.currency][1] += t.lines
    totals = [Total("Total", cur, amount, n) for cur, (amount, n) in sorted(currencies.items())]
    changes = _cash_changes(session, period)
    payable = dict.fromkeys(currencies, 0)
    for (_person, currency), change in changes.items():
        payable[currency] = payable.get(currency, 0) + change
    people_paid = _people_paid(session, period, changes)
    return Dashboard(
        period,
        by_team,
        by_component,
        by_plan,
        totals,
        int(people_paid),
        sum(t.lines for t in totals),
        people_with_problems(session, period),
        [Total("Payable", cur, currencies.get(cur, [0, 0])[0] + change, 0) for cur, change in sorted(payable.items())],
        missing_payment_rate(session, period),
    )


def _people_paid(session: Session, period: Period, changes: dict[tuple[int, str], int]) -> int:
    """How many people the payroll export pays an amount other than zero: each one's statement total plus what
    payroll pays beyond it (a released hold paid here, less what is held), as the export computes ``net_payable``.
    One row per person and currency from the running totals, never the lines."""
    net: dict[tuple[int, str], int] = dict(changes)
    query: SelectOfScalar[Any] = totals_query(
        stored_id(period), LedgerTotal.person_id, LedgerTotal.currency, func.sum(LedgerTotal.amount_minor)
    ).group_by(LedgerTotal.person_id, LedgerTotal.currency)
    for person_id, currency, amount in session.exec(query).all():
        net[person_id, currency] = net.get((person_id, currency), 0) + int(amount)
    return len({person_id for (person_id, _currency), amount in net.items() if amount})


def _cash_changes(session: Session, period: Period) -> dict[tuple[int, str], int]:
    """What payroll pays beyond the ledger per person and currency (the export's rule), read only when a hold
    concerns the period or a plan releases commission on cash: otherwise there is none, and no read."""
    if not releases_on_cash(session) and not session.exec(select(holds_touch(period))).one():
        return {}
    return payable_changes(session, period)


def people_with_problems(session: Session, period: Period) -> list[PersonProblems]:
    """Active reps and managers with no plan in the period, no quota in it, or calculation errors.

    The database finds them (three anti-joins and the summaries with errors): the page costs the
    people it lists, not every payee of the organisation (20,000 people were loaded and checked in
    Python for a list that is usually empty)."""
    on_a_plan = (
        select(PlanAssignment.id)
        .where(
            PlanAssignment.person_id == Person.id,
            PlanAssignment.starts_on <= period.ends_on,
            or_(col(PlanAssignment.ends_on).is_(None), col(PlanAssignment.ends_on) >= period.starts_on),
        )
        .exists()
    )
    own_quota = select(Quota.id).where(Quota.period_id == period.id, Quota.person_id == Person.id).exists()
    team_quota = select(Quota.id).where(Quota.period_id == period.id, Quota.team_id == Person.team_id).exists()
    has_errors = cast(PayeeSummary.errors, Text) != "[]"
    with_errors = (
        select(PayeeSummary.id)
        .where(PayeeSummary.person_id == Person.id, PayeeSummary.period_id == period.id, has_errors)
        .exists()
    )
    people = session.exec(
        select(Person, on_a_plan, or_(own_quota, team_quota)).where(
            Person.active,
            col(Person.role).in_(PAYEE_ROLES),
            or_(~on_a_plan, ~or_(own_quota, team_quota), with_errors),
        )
    ).all()
    errors: dict[int, list[str]] = defaultdict(list)
    ids = [stored_id(person) for person, _, _ in people]
    for start in range(0, len(ids), 500):
        for person_id, plan_name, plan_errors in session.exec(
            select(PayeeSummary.person_id, Plan.name, PayeeSummary.errors)
            .join(Plan, col(Plan.id) == PayeeSummary.plan_id)
            .where(
                PayeeSummary.period_id == period.id,
                col(PayeeSummary.person_id).in_(ids[start : start + 500]),
                has_errors,
            )
            .order_by(col(PayeeSummary.id))
        ).all():
            errors[person_id].extend(f"{plan_name}: {e}" for e in plan_errors or [])
    found: list[PersonProblems] = []
    for person, planned, with_quota in people:
        entry = PersonProblems(person)
        if not planned:
            entry.problems.append("no plan in this period")
        elif not with_quota:
            entry.problems.append("no quota in this period")
        entry.problems.extend(errors.get(stored_id(person), []))
        if entry.problems:
            found.append(entry)
    return sorted(found, key=lambda e: e.person.email)


def default_period(session: Session) -> Period | None:
    """The latest period with computed statements, else the latest period at all."""
    latest = session.exec(
        select(Period).join(PayeeSummary, col(PayeeSummary.period_id) == Period.id).order_by(col(Period.ends_on).desc())
    ).first()
    return latest or session.exec(select(Period).order_by(col(Period.ends_on).desc())).first()


def periods_newest_first(session: Session) -> list[Period]:
    """Every period, the latest first: the dashboard's period picker."""
    return list(session.exec(select(Period).order_by(col(Period.ends_on).desc())).all())
