"""Currency and proration: the plan currency a person's money quota is in, and the share of a period a mid-period
plan assignment covers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from commissions.core.periods import (
    PeriodKey,
    parse_period_key,
)
from commissions.engine.money import CONTEXT
from commissions.models import Period, Plan, PlanAssignment, Quota
from commissions.quotas.targets import DEFAULT_CURRENCY, target_value

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
