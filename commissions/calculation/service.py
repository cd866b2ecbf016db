"""Recomputing statements: run the engine for the people a change touches and store the result.

The ledger is append-only. When a person's newly computed lines differ from their
current ones, every current line is reversed by a negative ``reversal`` line and the
new lines are added; a statement reads the lines that are neither reversed nor
reversals, and the sum of all of a person's lines always equals their current total.
Locked and paid periods are never recomputed.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, text
from sqlmodel import Session, select

from commissions import engine as eng
from commissions.calculation.loader import (
    PeriodInputs,
    PlanInPeriod,
    load_period_inputs,
    periods_touching,
    plans_in_period,
)
from commissions.db import transaction
from commissions.models import CalculationRun, PayeeSummary, PayoutLine, Period
from commissions.models.base import utcnow

log = logging.getLogger("quotaboard.calculation")

_KIND_OF_COMPONENT = {"cap": "cap", "draw": "draw"}
PPM = Decimal(1_000_000)


@dataclass
class RecomputeReport:
    period: str
    people: set[int] = field(default_factory=set)  # whose statement changed
    computed: int = 0
    skipped_locked: bool = False
    warnings: list[str] = field(default_factory=list)


def serialise_period(session: Session, key: str) -> None:
    """One recomputation of a period at a time (PostgreSQL advisory lock; SQLite writes are already serial)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"period:{key}".encode())})


def ensure_period(session: Session, key: str) -> Period:
    row = session.exec(select(Period).where(Period.key == key)).first()
    if row is None:
        p = eng.parse_period(key)
        row = Period(key=p.key, kind=p.kind, starts_on=p.start, ends_on=p.end)
        session.add(row)
        session.flush()
    return row


def _minor(value: Decimal, digits: int) -> int:
    return int(eng_round(value, digits).scaleb(digits))


def eng_round(value: Decimal, digits: int) -> Decimal:
    from commissions.engine.money import round_money

    return round_money(value, digits)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def recompute(session: Session, key: str, *, person_ids: set[int] | None = None, trigger: str) -> RecomputeReport:
    """Recompute period ``key`` for ``person_ids`` (everyone on a plan when None) inside the caller's transaction."""
    report = RecomputeReport(key)
    serialise_period(session, key)
    period_row = ensure_period(session, key)
    if period_row.state in ("locked", "paid"):
        report.skipped_locked = True
        return report
    period = eng.parse_period(key)
    plans = plans_in_period(session, period)
    if not plans:
        return report
    inputs = load_period_inputs(session, period)
    run = CalculationRun(period_id=period_row.id, trigger=trigger[:200])
    session.add(run)
    session.flush()
    for plan in plans:
        _recompute_plan(session, inputs, plan, period_row, run, person_ids, report)
    run.people_count = report.computed
    run.finished_at = utcnow()
    session.add(run)
    return report


def _recompute_plan(session: Session, inputs: PeriodInputs, plan: PlanInPeriod, period_row: Period,
                    run: CalculationRun, person_ids: set[int] | None, report: RecomputeReport) -> None:
    period = inputs.period
    assigned = {
        a.person_id for a in plan.assignments
        if a.starts_on <= period.end and (a.ends_on is None or a.ends_on >= period.start)
    }
    scope = assigned if person_ids is None else assigned & person_ids
    if not scope:
        return
    participants = [inputs.email_of[pid] for pid in sorted(scope)]
    result = eng.calculate(
        plan.parsed, period, inputs.people, inputs.quotas_for(plan), inputs.deals, inputs.campaigns,
        participants=participants,
    )
    report.warnings.extend(result.warnings)
    digits = eng.minor_digits(result.currency)
    measure_digits = 2 if result.metric == "deals" else digits
    paid: set[int] = set()
    for payee in result.payees:
        person_id = inputs.id_of[payee.person]
        paid.add(person_id)
        report.computed += 1
        new_lines = [] if payee.errors else [
            PayoutLine(
                run_id=run.id, person_id=person_id, period_id=period_row.id, plan_version_id=plan.version.id,
                component=component.name, kind=_KIND_OF_COMPONENT.get(component.kind, "earning"),
                deal_id=inputs.deal_ids.get(line.deal_id) if line.deal_id else None,
                amount_minor=_minor(line.amount, digits), currency=result.currency, text=line.text,
                basis=_json_safe({**line.basis, "kind": component.kind}),
            )
            for component in payee.components
            for line in component.lines
        ]
        if _replace_lines(session, person_id, period_row.id, plan.version.plan_id, new_lines):
            report.people.add(person_id)
        _write_summary(session, person_id, period_row.id, plan, run.id, payee, result.currency, digits, measure_digits,
                       result.metric)
    for person_id in scope - paid:  # no longer paid under this plan: reverse what they had
        if _replace_lines(session, person_id, period_row.id, plan.version.plan_id, []):
            report.people.add(person_id)
        session.execute(delete(PayeeSummary).where(
            PayeeSummary.person_id == person_id, PayeeSummary.period_id == period_row.id,
            PayeeSummary.plan_id == plan.plan.id))


def current_lines_query(person_id: int, period_id: int, *columns: Any):  # type: ignore[no-untyped-def]
    """Lines in force: not reversals, and not reversed by a later line (plus any extra ``columns``)."""
    reversal = select(PayoutLine.reverses_id).where(PayoutLine.reverses_id.is_not(None),
                                                     PayoutLine.person_id == person_id, PayoutLine.period_id == period_id)
    return select(PayoutLine, *columns).where(
        PayoutLine.person_id == person_id, PayoutLine.period_id == period_id, PayoutLine.kind != "reversal",
        PayoutLine.id.not_in(reversal),
    )


def _signature(line: PayoutLine) -> tuple:
    return (line.component, line.kind, line.deal_id, line.amount_minor, line.text, line.plan_version_id)


def _replace_lines(session: Session, person_id: int, period_id: int, plan_id: int, new_lines: list[PayoutLine]) -> bool:
    """Append reversals and new lines if the computed lines differ; True when the statement changed."""
    from commissions.models import PlanVersion

    versions = select(PlanVersion.id).where(PlanVersion.plan_id == plan_id)
    current = session.exec(
        current_lines_query(person_id, period_id).where(
            PayoutLine.plan_version_id.in_(versions), PayoutLine.kind.in_(("earning", "cap", "draw"))
        ).order_by(PayoutLine.id)
    ).all()
    if Counter(map(_signature, current)) == Counter(map(_signature, new_lines)):
        return False
    for old in current:
        session.add(PayoutLine(
            run_id=new_lines[0].run_id if new_lines else None, person_id=person_id, period_id=period_id,
            plan_version_id=old.plan_version_id, component=old.component, kind="reversal", deal_id=old.deal_id,
            amount_minor=-old.amount_minor, currency=old.currency, text=f"Reverses: {old.text}", basis={},
            reverses_id=old.id,
        ))
    session.add_all(new_lines)
    session.flush()
    return True


def _write_summary(session: Session, person_id: int, period_id: int, plan: PlanInPeriod, run_id: int | None,
                   payee: eng.Payee, currency: str, digits: int, measure_digits: int, metric: str) -> None:
    row = session.exec(select(PayeeSummary).where(
        PayeeSummary.person_id == person_id, PayeeSummary.period_id == period_id, PayeeSummary.plan_id == plan.plan.id
    )).first() or PayeeSummary(person_id=person_id, period_id=period_id, plan_id=plan.plan.id,
                               plan_version_id=plan.version.id, metric=metric, currency=currency)
    row.plan_version_id = plan.version.id
    row.run_id = run_id
    row.metric = metric
    row.currency = currency
    row.credited_minor = _minor(payee.credited, measure_digits)
    row.quota_minor = None if payee.quota is None else _minor(payee.quota, measure_digits)
    row.attainment_ppm = None if payee.attainment is None else int((payee.attainment * PPM).to_integral_value())
    row.total_minor = None if payee.total is None else _minor(payee.total, digits)
    row.errors = list(payee.errors)
    row.updated_at = utcnow()
    session.add(row)


def recompute_touched(session: Session, *, people: set[int], days: set[date], trigger: str) -> list[RecomputeReport]:
    """Inside the change's own transaction: recompute the touched people in every period containing the days.

    Doing it in the same transaction means a deal is never stored without its
    statements: if the recomputation fails, the delivery fails and can be retried.
    """
    if not people or not days:
        return []
    return [recompute(session, key, person_ids=people, trigger=trigger) for key in sorted(periods_touching(session, days))]


def recalc_period(engine: Engine, key: str, *, trigger: str = "recalc") -> RecomputeReport:
    with transaction(engine) as session:
        return recompute(session, key, trigger=trigger)
