"""Reading holds and payments for finance's page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from commissions.core.money import from_minor
from commissions.core.periods import normalise_key
from commissions.holds.cash import held_amounts
from commissions.models import CommissionHold, Deal, InvoicePayment, Period, Person

MAX_ROWS = 500
STATUSES = ("held", "released")


@dataclass(frozen=True)
class HeldAmount:
    person: str  # email (the API's key)
    currency: str
    amount: str
    name: str = ""  # for pages
    amount_minor: int = 0


@dataclass(frozen=True)
class HoldRow:
    id: int
    period: str
    period_state: str
    deal: str | None
    person: str | None
    reason: str
    state: str
    created_at: datetime
    release_note: str
    released_at: datetime | None
    payable_period: str | None
    amounts: list[HeldAmount]


def find_hold(session: Session, hold_id: int) -> HoldRow:
    """One hold as the list shows it (404 when there is none)."""
    from commissions.holds.service import HoldNotFound

    found = next((row for row in list_holds(session, hold_id=hold_id)), None)
    if found is None:
        raise HoldNotFound("hold", f"no hold {hold_id}")
    return found


def list_holds(
    session: Session, *, period: str = "", status: str = "", search: str = "", hold_id: int | None = None
) -> list[HoldRow]:
    """Holds, newest first, filtered by period key, status (held | released) and a deal id, email or reason."""
    query = select(CommissionHold, Period).join(Period, col(Period.id) == CommissionHold.period_id)
    if hold_id is not None:
        query = query.where(CommissionHold.id == hold_id)
    if period.strip():
        query = query.where(Period.key == normalise_key(period))
    if status.strip():
        query = query.where(CommissionHold.state == status.strip())
    if search.strip():
        like = f"%{search.strip().lower()}%"
        query = (
            query.outerjoin(Deal, col(Deal.id) == CommissionHold.deal_id)
            .outerjoin(Person, col(Person.id) == CommissionHold.person_id)
            .where(
                or_(
                    col(Deal.external_id).ilike(like),
                    col(Person.email).ilike(like),
                    col(CommissionHold.reason).ilike(like),
                )
            )
        )
    rows = session.exec(query.order_by(col(CommissionHold.id).desc()).limit(MAX_ROWS)).all()
    held = [
        (hold, held_period, held_amounts(session, held_period, [hold]).get(hold.id or 0, {}))
        for hold, held_period in rows
    ]
    # the people these holds name, not everyone: the page costs what it shows
    wanted = {pid for _, _, amounts in held for pid, _ in amounts} | {h.person_id for h, _, _ in held if h.person_id}
    people = (
        {
            pid: (email, name)
            for pid, email, name in session.exec(
                select(Person.id, Person.email, Person.name).where(col(Person.id).in_(sorted(wanted)))
            ).all()
        }
        if wanted
        else {}
    )
    emails = {pid: email for pid, (email, _) in people.items()}
    out = []
    for hold, held_period, amounts in held:
        deal = session.get(Deal, hold.deal_id) if hold.deal_id else None
        out.append(
            HoldRow(
                id=hold.id or 0,
                period=held_period.key,
                period_state=held_period.state,
                deal=deal.external_id if deal else None,
                person=emails.get(hold.person_id) if hold.person_id else None,
                reason=hold.reason,
                state=hold.state,
                created_at=hold.created_at,
                release_note=hold.release_note,
                released_at=hold.released_at,
                payable_period=hold.payable_period_key,
                amounts=[
                    HeldAmount(
                        emails.get(pid, str(pid)),
                        currency,
                        str(from_minor(minor, currency)),
                        people.get(pid, ("", ""))[1] or emails.get(pid, str(pid)),
                        minor,
                    )
                    for (pid, currency), minor in sorted(amounts.items())
                ],
            )
        )
    return out


@dataclass(frozen=True)
class PaymentRow:
    invoice: str
    deal: str
    amount_minor: int
    currency: str
    paid_at: date


def recent_payments(session: Session, limit: int = 50) -> list[PaymentRow]:
    rows = session.exec(
        select(InvoicePayment, Deal.external_id)
        .join(Deal, col(Deal.id) == InvoicePayment.deal_id)
        .order_by(col(InvoicePayment.id).desc())
        .limit(limit)
    ).all()
    return [PaymentRow(p.invoice, external_id, p.amount_minor, p.currency, p.paid_at) for p, external_id in rows]
