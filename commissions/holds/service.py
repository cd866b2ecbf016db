"""Holds (finance holds a deal's or a person's commission of a period, then releases it) and invoice payments.

Each function writes in the caller's transaction and records an audit event; nothing here touches the
ledger: what is held, waiting or released is worked out when the statement or the export is read
(``holds.cash``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.calculation.loader import plan_catalogue
from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import Conflict, InputProblem
from commissions.core.money import MoneyError, from_minor, to_minor
from commissions.core.periods import (
    CLOSED_STATES,
    ensure_period,
    key_of_day,
    lock_period,
    next_period,
    normalise_key,
    parse_period_key,
    period_row,
)
from commissions.core.principal import Principal
from commissions.core.upserts import ItemProblem, Outcome, UpsertRefused, UpsertReport
from commissions.models import CommissionHold, Deal, DealSplit, InvoicePayment, PayoutLine, Period, Person
from commissions.people.queries import person_by_email

MAX_TEXT = 1000
PAYMENT_COLUMNS = ("invoice", "deal", "amount", "currency", "paid_at")


class HoldNotFound(InputProblem):
    status_code = 404


def _text(value: str | None, field: str, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputProblem(field, f"a {field} is required: it is shown on the statement and in the audit trail")
    if len(text) > MAX_TEXT:
        raise InputProblem(field, f"at most {MAX_TEXT} characters")
    return text


class OwnHold(InputProblem):
    """Four eyes on pay, as for adjustments: a finance person never holds or releases their own commission
    (releasing it pays them; HTTP 403)."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__("hold", "nobody holds or releases their own pay: another finance person does")


def _not_own(session: Session, principal: Principal, *, person_id: int | None, deal_id: int | None) -> None:
    """Refuse a hold, or its release, of the caller's own commission: theirs by person, or a deal crediting them."""
    me = principal.person_id
    if me is None:
        return
    if person_id == me:
        raise OwnHold()
    if deal_id is not None:
        deal = session.get(Deal, deal_id)
        shares = session.exec(select(DealSplit.person_id).where(DealSplit.deal_id == deal_id)).all()
        if (deal is not None and deal.owner_id == me) or me in shares:
            raise OwnHold()


def place_hold(
    session: Session,
    principal: Principal,
    *,
    period: str,
    reason: str,
    deal: str | None = None,
    person: str | None = None,
) -> CommissionHold:
    """Hold one deal's or one person's commission of an open period (409 for a locked or paid one)."""
    deal, person = (deal or "").strip() or None, (person or "").strip() or None
    if deal is None and person is None:
        raise InputProblem("deal", "name what to hold: a deal by its CRM id (external_id), or a person by email")
    if deal is not None and person is not None:
        raise InputProblem(
            "deal", "name a deal or a person to hold, not both: a deal's hold already holds it for everyone it pays"
        )
    why = _text(reason, "reason", required=True)
    key = normalise_key(period)
    deal_row = person_row = None
    if deal is not None:
        deal_row = session.exec(select(Deal).where(Deal.external_id == deal)).first()
        if deal_row is None:
            raise InputProblem("deal", f"no deal with external_id {deal!r}")
    else:
        person_row = person_by_email(session, person or "")
        if person_row is None:
            raise InputProblem("person", f"no person with email {person!r}")
    _not_own(
        session, principal, person_id=person_row.id if person_row else None, deal_id=deal_row.id if deal_row else None
    )
    lock_period(session, key)
    row = period_row(session, key)
    if row is None:  # holding it must not make a period (an open one would take over the finance pages)
        raise InputProblem("period", f"{key} has no statements yet: nothing of it can be held")
    if row.state in CLOSED_STATES:
        raise Conflict("period", f"{key} is {row.state}: its payroll is final and cannot be held")
    if deal_row is not None and not _pays_in(session, deal_row, row):
        home = key_of_day(row.kind, deal_row.closed_at)
        raise InputProblem(
            "period",
            f"deal {deal_row.external_id} closed on {deal_row.closed_at}, in {home}, and pays nothing in {key}: "
            f"hold it in {home}",
        )
    target = (CommissionHold.deal_id == deal_row.id) if deal_row else (CommissionHold.person_id == person_row.id)  # type: ignore[union-attr]
    if session.exec(
        select(CommissionHold.id).where(CommissionHold.period_id == row.id, CommissionHold.state == "held", target)
    ).first():
        raise Conflict("period", f"{deal or person} is already held in {key}")
    hold = CommissionHold(
        period_id=stored_id(row),
        deal_id=deal_row.id if deal_row else None,
        person_id=person_row.id if person_row else None,
        reason=why,
        created_by_id=principal.person_id,
    )
    session.add(hold)
    session.flush()
    record_event(
        session,
        principal,
        "hold.created",
        "commission_hold",
        hold.id,
        {"period": key, "deal": deal, "person": person_row.email if person_row else None, "reason": why},
    )
    return hold


def _pays_in(session: Session, deal: Deal, period: Period) -> bool:
    """Whether the deal closed in the period or has a line there (a prior-period adjustment, say)."""
    if period.starts_on <= deal.closed_at <= period.ends_on:
        return True
    return (
        session.exec(
            select(PayoutLine.id).where(PayoutLine.deal_id == deal.id, PayoutLine.period_id == period.id).limit(1)
        ).first()
        is not None
    )


def payable_period_for(session: Session, period: Period) -> Period:
    """Where a released hold is paid: its own period while that is not locked, else the next one not locked."""
    if period.state not in CLOSED_STATES:
        return period
    key = next_period(parse_period_key(period.key))
    while True:
        row = session.exec(select(Period).where(Period.key == key.key)).first()
        if row is None or row.state not in CLOSED_STATES:
            return ensure_period(session, key.key)
        key = next_period(key)


def release_hold(session: Session, principal: Principal, *, hold_id: int, note: str) -> CommissionHold:
    """Release a hold (409 if released already); the held amount becomes payable (``payable_period_for``)."""
    hold = session.get(CommissionHold, hold_id)
    if hold is None:
        raise HoldNotFound("hold", f"no hold {hold_id}")
    why = _text(note, "note", required=False)
    _not_own(session, principal, person_id=hold.person_id, deal_id=hold.deal_id)
    period = session.get(Period, hold.period_id)
    if period is None:
        raise RuntimeError(f"hold {hold_id} refers to no period")
    lock_period(session, period.key)
    session.refresh(period)
    session.refresh(hold)
    if hold.state != "held":
        raise Conflict("hold", f"hold {hold_id} was already released")
    payable = payable_period_for(session, period)
    hold.state = "released"
    hold.release_note = why
    hold.released_by_id = principal.person_id
    from commissions.models.base import utcnow

    hold.released_at = utcnow()
    hold.payable_period_key = payable.key
    session.add(hold)
    session.flush()
    record_event(
        session,
        principal,
        "hold.released",
        "commission_hold",
        hold.id,
        {"period": period.key, "payable_in": payable.key, "note": why, "reason": hold.reason},
    )
    return hold


@dataclass(frozen=True, slots=True)
class PaymentItem:
    invoice: str
    deal: str
    amount: str
    paid_at: str
    currency: str | None = None


def _payment_problems(
    session: Session, index: int, item: PaymentItem, seen: set[str]
) -> tuple[list[ItemProblem], InvoicePayment | None]:
    problems: list[ItemProblem] = []

    def bad(field: str, message: str) -> tuple[list[ItemProblem], None]:
        problems.append(ItemProblem(index, field, message))
        return problems, None

    invoice = item.invoice.strip()
    if not invoice or len(invoice) > 128:
        return bad("invoice", "an invoice id of 1 to 128 characters is required")
    if invoice in seen:
        return bad("invoice", f"invoice {invoice!r} appears twice in this request")
    seen.add(invoice)
    deal = session.exec(select(Deal).where(Deal.external_id == item.deal.strip())).first()
    if deal is None:
        return bad("deal", f"no deal with external_id {item.deal.strip()!r}")
    currency = (item.currency or "").strip().upper() or deal.currency
    if currency != deal.currency:
        return bad("currency", f"deal {deal.external_id} is in {deal.currency}, not {currency}")
    try:
        amount = to_minor(Decimal(item.amount.strip()), currency)
    except MoneyError as exc:
        return bad("amount", f"{item.amount!r} is not an amount in {currency}: {exc}")
    except (InvalidOperation, ValueError):
        return bad("amount", f"{item.amount!r} is not an amount: write it like 20000.00")
    if amount <= 0:
        return bad("amount", "a payment is a positive amount")
    if amount >= 10**15:
        return bad("amount", "that amount is too large")
    try:
        paid_at = date.fromisoformat(item.paid_at.strip())
    except ValueError:
        return bad("paid_at", f"{item.paid_at!r} is not a date like 2026-03-10")
    return problems, InvoicePayment(
        invoice=invoice, deal_id=stored_id(deal), amount_minor=amount, currency=currency, paid_at=paid_at
    )


def record_payments(session: Session, principal: Principal, items: list[PaymentItem]) -> UpsertReport:
    """Record invoice payments, all or nothing; idempotent by invoice (the same payment again is unchanged).

    A payment is never changed: an invoice already recorded with another deal, amount or date is refused."""
    problems: list[ItemProblem] = []
    outcomes: list[tuple[str, Outcome]] = []
    new: list[InvoicePayment] = []
    positions: list[int] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        found, payment = _payment_problems(session, index, item, seen)
        problems.extend(found)
        if payment is None:
            continue
        stored = session.exec(select(InvoicePayment).where(InvoicePayment.invoice == payment.invoice)).first()
        if stored is None:
            new.append(payment)
            positions.append(index)
            outcomes.append((payment.invoice, "created"))
        elif (stored.deal_id, stored.amount_minor, stored.currency, stored.paid_at) == (
            payment.deal_id,
            payment.amount_minor,
            payment.currency,
            payment.paid_at,
        ):
            outcomes.append((payment.invoice, "unchanged"))
        else:
            problems.append(
                ItemProblem(
                    index,
                    "invoice",
                    f"invoice {payment.invoice!r} is already recorded with another deal, amount or date; "
                    "a payment is never changed",
                )
            )
    kinds = plan_catalogue(session).period_kinds
    for index, payment in zip(
        positions, new, strict=True
    ):  # the period a payment releases into exists, so payroll lists it
        for kind in sorted(kinds):
            try:
                payable_period_for(session, ensure_period(session, key_of_day(kind, payment.paid_at), field="paid_at"))
            except InputProblem as exc:
                problems.append(ItemProblem(index, "paid_at", exc.message))
    if problems:
        raise UpsertRefused(problems)
    for payment in new:
        payment.created_by_id = principal.person_id
        session.add(payment)
    session.flush()
    if new:
        record_event(
            session,
            principal,
            "payment.recorded",
            "invoice_payment",
            ",".join(p.invoice for p in new)[:128],
            {
                "payments": [
                    {
                        "invoice": p.invoice,
                        "deal_id": p.deal_id,
                        "amount": str(from_minor(p.amount_minor, p.currency)),
                        "currency": p.currency,
                        "paid_at": p.paid_at.isoformat(),
                    }
                    for p in new
                ]
            },
        )
    return UpsertReport.of(outcomes)


def payments_from_csv(text: str) -> list[PaymentItem]:
    """Rows of ``invoice,deal,amount,currency,paid_at`` (a header row first): 400 naming a wrong header."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = tuple((name or "").strip() for name in (reader.fieldnames or ()))
    missing = [c for c in PAYMENT_COLUMNS if c not in header]
    if missing:
        raise InputProblem("file", f"the header must be {','.join(PAYMENT_COLUMNS)} (missing: {', '.join(missing)})")
    return [
        PaymentItem(
            invoice=row.get("invoice") or "",
            deal=row.get("deal") or "",
            amount=row.get("amount") or "",
            currency=row.get("currency") or None,
            paid_at=row.get("paid_at") or "",
        )
        for row in reader
    ]


def hold_target(session: Session, hold: CommissionHold) -> tuple[str | None, str | None]:
    """(deal external_id, person email) of a hold."""
    deal = session.get(Deal, hold.deal_id) if hold.deal_id else None
    person = session.get(Person, hold.person_id) if hold.person_id else None
    return (deal.external_id if deal else None, person.email if person else None)


# ---------------------------------------------------------------- one transaction each (for the web and API)


def hold_in_transaction(engine: Engine, principal: Principal, **fields: str | None) -> int:
    """``place_hold`` in a transaction of its own; the new hold's id."""
    with transaction(engine) as session:
        return stored_id(place_hold(session, principal, **fields))  # type: ignore[arg-type]


def release_in_transaction(engine: Engine, principal: Principal, *, hold_id: int, note: str) -> None:
    with transaction(engine) as session:
        release_hold(session, principal, hold_id=hold_id, note=note)


def payments_in_transaction(engine: Engine, principal: Principal, items: list[PaymentItem]) -> UpsertReport:
    """``record_payments`` in a transaction of its own (rolled back whole when an item is refused)."""
    with transaction(engine) as session:
        return record_payments(session, principal, items)
