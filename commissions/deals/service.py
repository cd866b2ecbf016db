"""Deal transactions: one delivery and the statements it changes in one transaction,
retried if a concurrent delivery won the race."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from commissions.auth.principal import Principal
from commissions.calculation.loader import periods_touching
from commissions.calculation.service import recompute
from commissions.calculation.state import serialise_period, touch_days
from commissions.custom_fields.service import check_deal
from commissions.db import transaction
from commissions.deals.ingest import RecordResult, deal_out, record_deal
from commissions.deals.schemas import DealIn, DealOut
from commissions.models import Deal, Period

ATTEMPTS = 3


def take_period_locks(session: Session, days: set[date]) -> None:
    """Serialise with the period workflow (a lock in flight) before reading any period's state.

    Keys are taken in sorted order so two deliveries never wait for each other in a cycle.
    """
    for key in sorted(periods_touching(session, days)):
        serialise_period(session, key)


def book_locked(session: Session, result: RecordResult, *, by: Principal | None, trigger: str) -> set[str]:
    """Book prior-period adjustments for the locked periods a deal change touches; returns the other keys."""
    from commissions.adjustments.prior_period import book_locked_change

    open_keys = set()
    for key in sorted(periods_touching(session, result.days)):
        period = session.exec(select(Period).where(Period.key == key).execution_options(populate_existing=True)).first()
        if period is not None and period.state in ("locked", "paid"):
            result.booked.append(book_locked_change(
                session, period=period, people=result.people | result.chain, deal=result.deal,
                what=f"deal {result.deal.external_id if result.deal else ''}", actor=by, trigger=trigger))
        else:
            open_keys.add(key)
    return open_keys


def apply_recorded(session: Session, result: RecordResult, *, by: Principal | None, trigger: str) -> None:
    """After a deal change: recompute its people in the open periods it touches, book prior-period
    adjustments for the locked ones, queue the managers above them."""
    if result.outcome in ("unchanged", "held"):
        return
    for key in sorted(book_locked(session, result, by=by, trigger=trigger)):
        result.reports.append(recompute(session, key, person_ids=result.people, trigger=trigger))
    touch_days(session, result.chain, result.days)


def record_one(engine: Engine, data: DealIn, *, by: Principal | None) -> tuple[RecordResult, DealOut]:
    """Record a delivery; a unique-key race with an identical concurrent delivery resolves to one deal."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction(engine) as session:
                check_deal(session, data=data)  # declared custom fields: a value that cannot be read is refused
                before = session.exec(select(Deal.closed_at).where(Deal.external_id == data.external_id)).first()
                take_period_locks(session, {data.closed_at} | ({before} if before else set()))
                result = record_deal(session, data, by=by)
                apply_recorded(session, result, by=by, trigger=f"deal {data.external_id} {result.outcome}")
                if result.outcome == "held":
                    return result, held_out(data)
                return result, deal_out(session, result.deal)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def held_out(data: DealIn) -> DealOut:
    """The change as submitted, marked pending: what the deal will be once approved."""
    return DealOut(
        external_id=data.external_id, name=data.name or data.external_id, account=data.account, owner=data.owner,
        amount=str(data.amount), currency=data.currency, closed_at=data.closed_at, type=data.type,
        product=data.product, term_months=data.term_months, source_campaign=data.source_campaign,
        status=data.status, cancelled_at=data.cancelled_at,
        splits=[{"person": s.person, "share": str(s.share)} for s in data.splits],
        custom_fields=data.model_dump(mode="json")["custom_fields"], approval="pending",
    )
