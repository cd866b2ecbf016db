"""Setting exchange rates, all or nothing, and queueing the statements a change alters.

A rate is keyed by (from, to, effective_from): the same body again changes nothing; a different rate for the
same key corrects it, and the audit log keeps the old and new value (``rate.set``, the pair's history).
A change queues the statements it can alter: the people credited by a deal in either currency of the pair
closed on or after the rate's date (and before the next rate of the pair, which converts those after it),
and everyone above them, in each period whose plan for that person pays in the other currency of the pair. Open periods are queued for the worker; a locked period is never
recomputed, the difference is booked as a prior-period adjustment (plans.md 6), as for any late change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine, union
from sqlmodel import Session, col, select

from commissions import engine as eng
from commissions.calculation.loader import people_directory, plan_period_kinds, plans_in_period
from commissions.calculation.state import touch
from commissions.core.audit import record_event
from commissions.core.db import write
from commissions.core.money import currency_problem
from commissions.core.periods import CLOSED_STATES, key_of_day, lock_period
from commissions.core.principal import Principal
from commissions.core.upserts import ItemProblem, Outcome, UpsertRefused
from commissions.models import Campaign, Deal, DealSplit, ExchangeRate, Period
from commissions.models.rates import RATE_PRECISION, RATE_SCALE, plain_rate

CURRENCY = re.compile(r"[A-Z]{3}")
AUDIT_OBJECT = "exchange_rate"


@dataclass(frozen=True, slots=True)
class RateInput:
    """One rate as given (text from a form or a CSV row, or already typed from the API)."""

    source: str
    target: str
    rate: str | Decimal
    effective_from: str | date


@dataclass(frozen=True, slots=True)
class RateChange:
    source: str
    target: str
    rate: Decimal
    effective_from: date
    before: Decimal | None  # None: a new rate


@dataclass
class RatesSet:
    outcomes: list[tuple[str, Outcome]]
    changes: list[RateChange]
    queued: int = 0  # statements marked for recompute
    adjusted: list[str] = field(default_factory=list)  # locked periods that got prior-period adjustments

    @property
    def changed(self) -> int:
        return len(self.changes)


def rate_key(source: str, target: str, day: date) -> str:
    return f"{source}/{target} {day.isoformat()}"


def _currency(value: str, index: int, name: str, problems: list[ItemProblem]) -> str:
    code = (value or "").strip().upper()
    if (problem := currency_problem(value or "")) is not None:
        problems.append(ItemProblem(index, name, problem))
    return code


def _rate(value: str | Decimal, index: int, problems: list[ItemProblem]) -> Decimal | None:
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        problems.append(ItemProblem(index, "rate", f"{value!r} is not a number (e.g. 1.0850)"))
        return None
    if not rate.is_finite() or rate <= 0:
        problems.append(ItemProblem(index, "rate", f"{value} is not a rate: it must be a number above 0"))
        return None
    exponent = rate.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -exponent > RATE_SCALE:
        problems.append(ItemProblem(index, "rate", f"{value} has more than {RATE_SCALE} decimals"))
        return None
    if rate >= Decimal(10) ** (RATE_PRECISION - RATE_SCALE):
        problems.append(
            ItemProblem(
                index, "rate", f"{value} is too large (at most {RATE_PRECISION - RATE_SCALE} digits before the point)"
            )
        )
        return None
    if len(rate.normalize().as_tuple().digits) > 15:  # exact through SQLite's floating point as well
        problems.append(ItemProblem(index, "rate", f"{value} has more than 15 significant digits"))
        return None
    return rate


def _day(value: str | date, index: int, problems: list[ItemProblem]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(ItemProblem(index, "effective_from", f"{value!r} is not a date (YYYY-MM-DD)"))
        return None


def checked(items: list[RateInput]) -> list[tuple[str, str, Decimal, date]]:
    """The items as (from, to, rate, effective_from); ``UpsertRefused`` naming every bad item and field."""
    problems: list[ItemProblem] = []
    out: list[tuple[str, str, Decimal, date]] = []
    seen: dict[tuple[str, str, date], int] = {}
    for index, item in enumerate(items):
        before = len(problems)
        source = _currency(item.source, index, "from", problems)
        target = _currency(item.target, index, "to", problems)
        if len(problems) == before and source == target:
            problems.append(
                ItemProblem(index, "to", f"a rate converts between two currencies: from and to are both {source}")
            )
        rate = _rate(item.rate, index, problems)
        day = _day(item.effective_from, index, problems)
        if len(problems) > before or rate is None or day is None:
            continue
        first = seen.setdefault((source, target, day), index)
        if first != index:
            problems.append(
                ItemProblem(
                    index, "effective_from", f"{source} to {target} from {day} is already item {first} of this list"
                )
            )
            continue
        out.append((source, target, rate, day))
    if problems:
        raise UpsertRefused(problems)
    return out


def set_rates(session: Session, items: list[RateInput], *, actor: Principal | None) -> RatesSet:
    """Upsert the rates (in the caller's transaction), record each change in the audit log and queue what it alters."""
    rows = checked(items)
    stored = {
        (r.source, r.target, r.effective_from): r
        for r in session.exec(
            select(ExchangeRate).where(
                col(ExchangeRate.source).in_({s for s, *_ in rows}),
                col(ExchangeRate.target).in_({t for _, t, *_ in rows}),
            )
        ).all()
    }
    outcomes: list[tuple[str, Outcome]] = []
    changes: list[RateChange] = []
    for source, target, rate, day in rows:
        key = rate_key(source, target, day)
        row = stored.get((source, target, day))
        if row is not None and row.rate == rate:
            outcomes.append((key, "unchanged"))
            continue
        if row is None:
            session.add(
                ExchangeRate(
                    source=source,
                    target=target,
                    rate=rate,
                    effective_from=day,
                    created_by_id=actor.person_id if actor else None,
                )
            )
            changes.append(RateChange(source, target, rate, day, None))
            outcomes.append((key, "created"))
        else:
            changes.append(RateChange(source, target, rate, day, plain_rate(row.rate)))
            row.rate = rate
            session.add(row)
            outcomes.append((key, "updated"))
    result = RatesSet(outcomes, changes)
    if not changes:
        return result
    session.flush()
    for change in changes:
        record_event(
            session,
            actor,
            "rate.set",
            AUDIT_OBJECT,
            f"{change.source}/{change.target}",
            {
                "effective_from": change.effective_from.isoformat(),
                "before": None if change.before is None else str(change.before),
                "after": str(plain_rate(change.rate)),
            },
        )
    result.queued, result.adjusted = _queue_statements(session, changes, actor)
    return result


def set_rates_in(engine: Engine, items: list[RateInput], *, actor: Principal | None) -> RatesSet:
    """``set_rates`` in its own transaction (retried when it lost a race)."""
    return write(engine, lambda session: set_rates(session, items, actor=actor))


# ---------------------------------------------------------------- what a change alters


def _credited_since(session: Session, currencies: set[str], since: date) -> list[tuple[int, str, date]]:
    """(person, deal currency, close day) of everyone a deal in one of ``currencies`` closed on or after
    ``since`` credits: owners, split partners and source campaigns' owners (one query, distinct rows)."""
    owned = select(col(Deal.owner_id), col(Deal.currency), col(Deal.closed_at)).where(
        col(Deal.currency).in_(currencies), Deal.closed_at >= since
    )
    split = (
        select(col(DealSplit.person_id), col(Deal.currency), col(Deal.closed_at))
        .join(Deal, col(Deal.id) == DealSplit.deal_id)
        .where(col(Deal.currency).in_(currencies), Deal.closed_at >= since)
    )
    sourced = (
        select(col(Campaign.owner_id), col(Deal.currency), col(Deal.closed_at))
        .join(Campaign, col(Campaign.code) == Deal.source_campaign)
        .where(col(Deal.currency).in_(currencies), Deal.closed_at >= since)
    )
    return [(int(p), str(c), d) for p, c, d in session.execute(union(owned, split, sourced)).all() if p is not None]


def _superseded_on(session: Session, changes: list[RateChange], currencies: set[str]) -> dict[RateChange, date]:
    """For each change, the first later date of a stored rate of its pair (either direction): deals closed from
    then on convert with that one. ``date.max`` when none follows."""
    days: dict[frozenset[str], list[date]] = {}
    for source, target, day in session.exec(
        select(col(ExchangeRate.source), col(ExchangeRate.target), col(ExchangeRate.effective_from)).where(
            col(ExchangeRate.source).in_(currencies), col(ExchangeRate.target).in_(currencies)
        )
    ).all():
        days.setdefault(frozenset((source, target)), []).append(day)
    return {
        change: min(
            (d for d in days.get(frozenset((change.source, change.target)), ()) if d > change.effective_from),
            default=date.max,
        )
        for change in changes
    }


def affected_statements(session: Session, changes: Iterable[RateChange]) -> dict[str, set[int]]:
    """Period key -> the people whose statement there a change of these rates can alter (see the module)."""
    changes = list(changes)
    if not changes:
        return {}
    kinds = sorted(plan_period_kinds(session))
    currencies = {c for change in changes for c in (change.source, change.target)}
    until = _superseded_on(session, changes, currencies)
    rows = _credited_since(session, currencies, min(change.effective_from for change in changes))
    # (deal currency, the plan currency it converts to, period key) -> the people credited
    credited: dict[tuple[str, str, str], set[int]] = {}
    for person, currency, day in rows:
        for change in changes:
            if currency not in (change.source, change.target) or not change.effective_from <= day < until[change]:
                continue
            other = change.target if currency == change.source else change.source
            for kind in kinds:
                credited.setdefault((currency, other, key_of_day(kind, day)), set()).add(person)
    directory = people_directory(session)
    memo: dict[Any, Any] = {}
    out: dict[str, set[int]] = {}
    for (_currency, plan_currency, key), people in sorted(credited.items()):
        chain = directory.with_managers(people)
        for plan in plans_in_period(session, eng.parse_period(key), chain, invalid={}, catalogue=memo):
            if plan.parsed.currency == plan_currency:
                out.setdefault(key, set()).update(a.person_id for a in plan.assignments)
    return out


def _queue_statements(session: Session, changes: list[RateChange], actor: Principal | None) -> tuple[int, list[str]]:
    from commissions.adjustments.prior_period import book_locked_change

    affected = affected_statements(session, changes)
    if not affected:
        return 0, []
    closed = {
        p.key: p
        for p in session.exec(
            select(Period).where(col(Period.key).in_(sorted(affected)), col(Period.state).in_(CLOSED_STATES))
        ).all()
    }
    for key in sorted(affected):
        lock_period(session, key, shared=not closed)  # booking adjustments: every period exclusive, as campaigns do
    what = "exchange rates " + ", ".join(
        f"{c.source} to {c.target} from {c.effective_from}: {plain_rate(c.rate)}" for c in changes
    )
    adjusted = []
    for key in sorted(closed):
        booked = book_locked_change(
            session,
            period=closed[key],
            people=affected[key],
            deal=None,
            what=what[:500],
            actor=actor,
            trigger="rate change",
        )
        if booked.lines:
            adjusted.append(key)
    queued = sum(touch(session, people, {key}) for key, people in sorted(affected.items()) if key not in closed)
    return queued, adjusted
