"""Manual adjustments: an ``adjustment`` row and its ``adjustment`` payout line, in the caller's transaction.

Minimal version for the disputes branch (the period-workflow branch owns the full one;
the signature is the shared contract).
"""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from commissions.calculation.service import ensure_period
from commissions.errors import Conflict, InputProblem
from commissions.models import Adjustment, PayeeSummary, PayoutLine, Person
from commissions.money import MoneyError, to_minor


def add_manual_adjustment(session: Session, *, person_id: int, period_key: str, amount: Decimal, reason: str,
                          actor_id: int, deal_id: int | None = None) -> Adjustment:
    if session.get(Person, person_id) is None:
        raise InputProblem("person", "no such person")
    if not reason.strip():
        raise InputProblem("reason", "give a reason for the adjustment")
    period = ensure_period(session, period_key)
    if period.state in ("locked", "paid"):
        raise Conflict("period", f"{period.key} is {period.state}: nothing in it changes any more")
    currency = session.exec(select(PayeeSummary.currency).where(
        PayeeSummary.person_id == person_id, PayeeSummary.period_id == period.id)).first() or "USD"
    try:
        minor = to_minor(amount, currency)
    except MoneyError as exc:
        raise InputProblem("amount", str(exc)) from exc
    if minor == 0:
        raise InputProblem("amount", "an adjustment cannot be zero")
    adjustment = Adjustment(person_id=person_id, period_id=period.id, amount_minor=minor, currency=currency,
                            reason=reason.strip()[:1000], deal_id=deal_id, created_by_id=actor_id)
    session.add(adjustment)
    session.flush()
    session.add(PayoutLine(person_id=person_id, period_id=period.id, component="Adjustment", kind="adjustment",
                           deal_id=deal_id, amount_minor=minor, currency=currency, text=f"Adjustment: {reason.strip()}",
                           basis={"adjustment_id": adjustment.id}))
    session.flush()
    return adjustment
