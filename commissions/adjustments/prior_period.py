"""Changes that touch a locked period become prior-period adjustments (plans.md section 6).

The deal (or quota) table holds the truth and is updated; the locked period's ledger
and summaries are never written. Instead the period is recomputed with the change (a
read-only computation) and, per person, the difference between that and what is in
force for it — its own lines plus every adjustment already booked for it elsewhere —
is booked as one line in the earliest open period of the same kind, naming the
original period and the deal: kind ``clawback`` when a cancellation takes commission
back, ``adjustment`` otherwise (``deal_id`` None for a quota change). Delivering the
same change twice books nothing the second time: the difference is then zero.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions import engine as eng
from commissions.calculation.ledger import book_lines
from commissions.calculation.rows import stored_id
from commissions.calculation.service import (
    ENGINE_KINDS,
    compute,
    line_minor,
    locked_draw_balances,
    next_period_key,
    recompute,
)
from commissions.calculation.state import touch
from commissions.core import periods as period_keys
from commissions.core.audit import record_event
from commissions.core.money import format_money, from_minor
from commissions.core.periods import ensure_period, key_of_day, lock_period
from commissions.core.principal import Principal
from commissions.models import Deal, PayoutLine, Period

log = logging.getLogger("quotaboard.adjustments")

PRIOR_COMPONENT = "Prior-period adjustment"
CLAWBACK_COMPONENT = "Clawback"


@dataclass
class Booked:
    period: str  # the locked period
    into: str | None = None  # the open period the lines went to
    lines: list[PayoutLine] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # people whose recomputation has errors (nothing booked)


def adjustment_period(session: Session, locked: Period) -> Period:
    """Where a change to ``locked`` is booked: the earliest open period of the same kind after it (plans.md 6)
    that has started (``starts_on`` <= today), never a future one while a started one can take it.

    1. walking the periods after ``locked`` in order up to today: the first that is open, or that does not
       exist yet (created then: a quarter with no activity is still open, and the earliest);
    2. only when every period after ``locked`` up to today is closed or approved (or ``locked`` is the
       current period): the earliest open or missing period after it, i.e. the next one.
    Approved, locked and paid periods are skipped; periods before the window of those that may be created
    are not walked (a change to a very old period lands in the first period inside the window).
    """
    today = period_keys.today()
    kind = locked.kind
    day = max(locked.ends_on, period_keys.period_window(on=today).earliest - timedelta(days=1))
    rows = {
        row.key: row
        for row in session.exec(
            select(Period).where(Period.kind == kind, Period.starts_on > day, Period.starts_on <= today)
        ).all()
    }
    while True:
        bounds = eng.parse_period(key_of_day(kind, day + timedelta(days=1)))
        if bounds.start > today:
            break
        row = rows.get(bounds.key)
        if row is None:
            return ensure_period(session, bounds.key)
        if row.state == "open":
            return row
        day = bounds.end
    # nothing started is open: the next period, existing (a quota set ahead of time) or created
    after = (Period.kind == kind, Period.state == "open", Period.starts_on > day)
    future = session.exec(select(Period).where(*after).order_by(col(Period.starts_on))).first()
    while True:
        bounds = eng.parse_period(key_of_day(kind, day + timedelta(days=1)))
        existing = session.exec(select(Period).where(Period.key == bounds.key)).first()
        if existing is None:
            break
        day = bounds.end
    if future is not None and future.starts_on < bounds.start:
        return future
    return ensure_period(session, bounds.key)


def in_force_for(session: Session, period: Period, people: set[int]) -> dict[int, int]:
    """Per person: what the locked period pays now, its own engine lines plus adjustments booked for it since."""
    reversal = aliased(PayoutLine)
    not_reversed = ~exists().where(col(reversal.reverses_id) == PayoutLine.id)
    out = {pid: 0 for pid in people}
    own = session.exec(
        select(PayoutLine.person_id, func.sum(PayoutLine.amount_minor))
        .where(
            PayoutLine.period_id == period.id,
            col(PayoutLine.kind).in_(ENGINE_KINDS),
            not_reversed,
            col(PayoutLine.person_id).in_(sorted(people)),
        )
        .group_by(col(PayoutLine.person_id))
    ).all()
    later = session.exec(
        select(PayoutLine.person_id, func.sum(PayoutLine.amount_minor))
        .where(
            PayoutLine.original_period_id == period.id,
            col(PayoutLine.kind).in_(("adjustment", "clawback")),
            not_reversed,
            col(PayoutLine.person_id).in_(sorted(people)),
        )
        .group_by(col(PayoutLine.person_id))
    ).all()
    for pid, total in [*own, *later]:
        out[pid] += int(total or 0)
    return out


def recomputed_for(
    session: Session, period: Period, people: set[int]
) -> tuple[dict[int, int], dict[int, str], dict[int, int], dict[int, str], dict[int, int]]:
    """Per person: the locked period's total recomputed from today's data (nothing stored).

    Returns (totals, currencies, plan version ids, people whose computation has errors with why,
    recoverable draw balances out).
    """
    computation = compute(session, period.key, person_ids=people)
    totals = {pid: 0 for pid in people}
    currencies: dict[int, str] = {}
    versions: dict[int, int] = {}
    failed: dict[int, str] = {}
    balances: dict[int, int] = {}
    for outcome in computation.outcomes:
        if computation.inputs is None:
            raise RuntimeError(f"{period.key}: a computation with outcomes but no inputs")
        digits = eng.minor_digits(outcome.result.currency)
        failed.update((pid, why) for pid, why in outcome.failed.items() if pid in people)
        for payee in outcome.result.payees:
            pid = computation.inputs.id_of[payee.person]
            if pid not in people:
                continue
            currencies[pid] = outcome.result.currency
            versions[pid] = stored_id(outcome.plan.version)
            if payee.errors:
                failed[pid] = "; ".join(str(error) for error in payee.errors)
                continue
            totals[pid] += sum(line_minor(line.amount, digits) for c in payee.components for line in c.lines)
            if payee.draw_balance_out is not None:
                balances[pid] = balances.get(pid, 0) + line_minor(payee.draw_balance_out, digits)
    return totals, currencies, versions, failed, balances


def book_locked_change(
    session: Session,
    *,
    period: Period,
    people: set[int],
    deal: Deal | None,
    what: str,
    actor: Principal | None,
    trigger: str,
) -> Booked:
    """Book the difference a change makes to a locked ``period`` for ``people``; in the caller's transaction.

    ``what`` describes a change without a deal (a quota change) for the line's text.
    """
    booked = Booked(period.key)
    if not people:
        return booked
    new, currencies, versions, failed, new_balances = recomputed_for(session, period, people)
    old = in_force_for(session, period, people)
    old_balances = locked_draw_balances(session, period, people)
    booked.skipped = sorted(str(pid) for pid in failed)
    # a recoverable draw's balance out of the locked period can move without any money changing hands
    # (a late deal that the draw top-up absorbed): the line then carries the balance correction only
    balance_moves = {
        pid: new_balances[pid] - old_balances.get(pid, 0)
        for pid in new_balances
        if pid not in failed and new_balances[pid] != old_balances.get(pid, 0)
    }
    diffs = {
        pid: new[pid] - old[pid]
        for pid in sorted(people)
        if pid not in failed and (new[pid] != old[pid] or pid in balance_moves)
    }
    if failed:
        log.warning("locked period %s: not recomputable for %s, nothing booked for them", period.key, sorted(failed))
        # said where people look (the deal's page, the audit log), not only in the server's log: a late deal
        # that pays nobody must not pass unnoticed
        record_event(  # filed under the deal when there is one: its page reads its own events (an index)
            session,
            actor,
            "period.prior_adjustment_skipped",
            "deal" if deal is not None else "period",
            deal.external_id if deal is not None else period.key,
            {
                "period": period.key,
                "deal": deal.external_id if deal is not None else None,
                "change": what,
                "people": [{"person_id": pid, "why": why[:500]} for pid, why in sorted(failed.items())],
            },
        )
    if not diffs:
        return booked
    target = adjustment_period(session, period)
    lock_period(session, target.key)
    booked.into = target.key
    cancelled = deal is not None and deal.status == "cancelled"
    for pid, diff in diffs.items():
        currency = currencies.get(pid) or _currency_in_force(session, period, pid)
        clawback = cancelled and diff < 0
        amount = format_money(diff, currency)
        if deal is not None:
            subject = f"deal {deal.external_id} {deal.name}"
            text = (
                f"Clawback for {period.key}: {subject} cancelled on {deal.cancelled_at}: {amount}"
                if clawback
                else f"Prior-period adjustment for {period.key}, {subject}: {amount}"
            )
        else:
            text = f"Prior-period adjustment for {period.key}, {what}: {amount}"
        if pid in balance_moves:
            text += (
                f" (draw balance out of {period.key}: {format_money(old_balances.get(pid, 0), currency)} → "
                f"{format_money(new_balances[pid], currency)})"
            )
        line = PayoutLine(
            person_id=pid,
            period_id=stored_id(target),
            plan_version_id=versions.get(pid),
            component=CLAWBACK_COMPONENT if clawback else PRIOR_COMPONENT,
            kind="clawback" if clawback else "adjustment",
            deal_id=deal.id if deal is not None else None,
            deal_owner_id=deal.owner_id if deal is not None else None,
            amount_minor=diff,
            currency=currency,
            text=text,
            original_period_id=period.id,
            basis={
                "original_period": period.key,
                "deal": deal.external_id if deal is not None else None,
                "change": what,
                "recomputed": str(from_minor(new[pid], currency)),
                "in_force": str(from_minor(old[pid], currency)),
                "trigger": trigger[:200],
                "draw_balance_delta_minor": balance_moves.get(pid, 0),
            },
        )
        session.add(line)
        booked.lines.append(line)
    session.flush()
    book_lines(session, line_ids=[stored_id(line) for line in booked.lines])
    record_event(
        session,
        actor,
        "period.prior_adjustment",
        "period",
        period.key,
        {
            "into": target.key,
            "deal": deal.external_id if deal is not None else None,
            "change": what,
            "lines": [
                {
                    "person_id": line.person_id,
                    "kind": line.kind,
                    "amount": str(from_minor(line.amount_minor, line.currency)),
                }
                for line in booked.lines
            ],
        },
    )
    # their statements in the open period are recomputed (they may have none there yet); a moved draw
    # balance reaches the period right after the locked one (queued when that is not the target)
    recompute(session, target.key, person_ids=set(diffs), trigger=f"prior-period adjustment for {period.key}")
    if balance_moves:
        following = next_period_key(eng.parse_period(period.key))
        if following != target.key:
            touch(session, set(balance_moves), {following})
    return booked


def _currency_in_force(session: Session, period: Period, person_id: int) -> str:
    found = session.exec(
        select(PayoutLine.currency).where(PayoutLine.period_id == period.id, PayoutLine.person_id == person_id)
    ).first()
    return found or "USD"
