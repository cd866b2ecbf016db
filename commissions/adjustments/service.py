"""Manual adjustments by finance: an ``adjustment`` row plus a ledger line, never an edit.

``add_manual_adjustment`` writes in the caller's transaction (the disputes of the
payroll branch call it too). A correction is ``reverse_adjustment``: a new ``reversal``
line that takes the old one back (and a negative ``adjustment`` row recording why);
nothing is updated or deleted.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from sqlalchemy import Engine, exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from commissions.adjustments.schemas import AdjustmentIn, AdjustmentOut
from commissions.calculation.ledger import book_lines
from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.db import transaction, write
from commissions.core.errors import Conflict, InputProblem
from commissions.core.money import MoneyError, from_minor, to_minor, typed_number
from commissions.core.periods import CLOSED_STATES, ensure_period, lock_period, normalise_key
from commissions.core.principal import Principal
from commissions.models import (
    Adjustment,
    Deal,
    PayeeSummary,
    PayoutLine,
    Period,
    Person,
    Plan,
    PlanAssignment,
)
from commissions.people.queries import person_by_email

MANUAL_COMPONENT = "Manual adjustment"
DEFAULT_CURRENCY = "USD"


class AdjustmentNotFound(InputProblem):
    status_code = 404


_Model = TypeVar("_Model", bound=SQLModel)


def _stored(session: Session, model: type[_Model], row_id: int | None) -> _Model:
    """A row another stored row refers to (by a foreign key): it exists."""
    row = session.get(model, row_id) if row_id is not None else None
    if row is None:
        raise RuntimeError(f"{model.__name__} {row_id} is referred to but not stored")
    return row


def _actor(session: Session, actor_id: int) -> Principal:
    person = session.get(Person, actor_id)
    if person is None:
        raise InputProblem("actor", f"no person with id {actor_id}")
    return Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)


def currency_of(session: Session, person_id: int, period: Period) -> str:
    """The person's pay currency in the period: their statement's, else their plan's, else USD."""
    found = session.exec(
        select(PayeeSummary.currency).where(PayeeSummary.person_id == person_id, PayeeSummary.period_id == period.id)
    ).first()
    if found:
        return found
    found = session.exec(
        select(Plan.currency)
        .join(PlanAssignment, col(PlanAssignment.plan_id) == Plan.id)
        .where(
            PlanAssignment.person_id == person_id,
            PlanAssignment.starts_on <= period.ends_on,
            (col(PlanAssignment.ends_on).is_(None)) | (col(PlanAssignment.ends_on) >= period.starts_on),
        )
        .order_by(Plan.name)
    ).first()
    return found or DEFAULT_CURRENCY


def writable_period(session: Session, period_key: str, *, field: str = "period") -> Period:
    """An open (or approved) period to book into; locked and paid periods never change."""
    from commissions.core.periods import normalise_key

    key = normalise_key(period_key)
    lock_period(session, key)
    period = ensure_period(session, key)
    if period.state in CLOSED_STATES:
        raise Conflict(field, f"{key} is {period.state}: it never changes; book the adjustment in an open period")
    return period


def _reopen_if_approved(session: Session, period: Period, person_id: int, what: str) -> None:
    if period.state == "approved":
        from commissions.core.periods import reopen_after_change

        reopen_after_change(session, period, people={person_id}, trigger=what)


def parse_amount(value: Decimal | str | int | None, currency: str) -> int:
    if value is None or str(value).strip() == "":
        raise InputProblem("amount", "an amount is required, e.g. 250.00 or -120.00")
    try:
        minor = to_minor(Decimal(typed_number(str(value))), currency)
    except MoneyError as exc:
        raise InputProblem("amount", f"{value!r} is not an amount in {currency}: {exc}") from None
    except (InvalidOperation, ValueError):
        raise InputProblem("amount", f"{value!r} is not an amount: write it like 250.00 or -120.00") from None
    if minor == 0:
        raise InputProblem("amount", "an adjustment of zero changes nothing")
    if abs(minor) >= 10**15:
        raise InputProblem("amount", "that amount is too large")
    return minor


class OwnPay(InputProblem):
    """Four eyes on pay: a finance person never books (or takes back) an adjustment of their own statement
    (HTTP 403; the forms show it on the field, like any refusal)."""

    status_code = 403

    def __init__(self, field: str) -> None:
        super().__init__(field, "nobody adjusts their own pay: another finance person books it")


def add_manual_adjustment(
    session: Session,
    *,
    person_id: int,
    period_key: str,
    amount: Decimal,
    reason: str,
    actor_id: int,
    deal_id: int | None = None,
) -> Adjustment:
    """Book a manual adjustment (positive or negative) on a person's statement in an open period."""
    reason = (reason or "").strip()
    if not reason:
        raise InputProblem("reason", "say why: the reason shows on the statement")
    if len(reason) > 1000:
        raise InputProblem("reason", "at most 1000 characters")
    person = session.get(Person, person_id)
    if person is None:
        raise InputProblem("person", f"no person with id {person_id}")
    if person_id == actor_id:
        raise OwnPay("person")
    deal = session.get(Deal, deal_id) if deal_id is not None else None
    if deal_id is not None and deal is None:
        raise InputProblem("deal", f"no deal with id {deal_id}")
    actor = _actor(session, actor_id)
    period = writable_period(session, period_key)
    currency = currency_of(session, stored_id(person), period)
    minor = parse_amount(amount, currency)
    adjustment = Adjustment(
        person_id=stored_id(person),
        period_id=stored_id(period),
        amount_minor=minor,
        currency=currency,
        reason=reason,
        deal_id=deal_id,
        created_by_id=actor_id,
    )
    session.add(adjustment)
    session.flush()
    line = PayoutLine(
        person_id=stored_id(person),
        period_id=stored_id(period),
        component=MANUAL_COMPONENT,
        kind="adjustment",
        deal_id=deal_id,
        deal_owner_id=deal.owner_id if deal is not None else None,
        amount_minor=minor,
        currency=currency,
        text=reason,
        basis={"adjustment_id": adjustment.id, "by": actor.label, "reason": reason, "manual": True},
    )
    session.add(line)
    session.flush()
    book_lines(session, line_ids=[stored_id(line)])
    record_event(
        session,
        actor,
        "adjustment.created",
        "adjustment",
        adjustment.id,
        {
            "person": person.email,
            "period": period.key,
            "amount": str(from_minor(minor, currency)),
            "currency": currency,
            "reason": reason,
            "deal_id": deal_id,
        },
    )
    _reopen_if_approved(session, period, stored_id(person), f"manual adjustment {adjustment.id}")
    return adjustment


def reverse_adjustment(session: Session, *, line_id: int, reason: str, actor_id: int) -> PayoutLine:
    """Take a manual adjustment line back with a reversing line (its period must still be open)."""
    reason = (reason or "").strip() or "reversed by finance"
    line = session.get(PayoutLine, line_id)
    if line is None or line.kind != "adjustment" or not (line.basis or {}).get("manual"):
        raise AdjustmentNotFound("line", f"no manual adjustment line {line_id}")
    if line.person_id == actor_id:  # taking back a deduction raises one's own pay as much as adding to it
        raise OwnPay("line")
    period = _stored(session, Period, line.period_id)
    writable_period(session, period.key, field="line")
    reversal = aliased(PayoutLine)
    if session.exec(select(exists().where(col(reversal.reverses_id) == line.id))).first():
        raise Conflict("line", f"adjustment line {line_id} is already reversed")
    actor = _actor(session, actor_id)
    original_id = (line.basis or {}).get("adjustment_id")
    record = Adjustment(
        person_id=line.person_id,
        period_id=line.period_id,
        amount_minor=-line.amount_minor,
        currency=line.currency,
        reason=f"Reverses adjustment {original_id}: {reason}"[:1000],
        deal_id=line.deal_id,
        created_by_id=actor_id,
    )
    session.add(record)
    session.flush()
    out = PayoutLine(
        person_id=line.person_id,
        period_id=line.period_id,
        component=line.component,
        kind="reversal",
        deal_id=line.deal_id,
        deal_owner_id=line.deal_owner_id,
        amount_minor=-line.amount_minor,
        currency=line.currency,
        text=f"Reverses: {line.text} ({reason})",
        reverses_id=line.id,
        basis={"adjustment_id": record.id, "reverses_adjustment_id": original_id, "by": actor.label, "reason": reason},
    )
    session.add(out)
    session.flush()
    book_lines(session, line_ids=[stored_id(out)])
    record_event(
        session,
        actor,
        "adjustment.reversed",
        "adjustment",
        original_id,
        {
            "line": line.id,
            "reversal_line": out.id,
            "amount": str(from_minor(-line.amount_minor, line.currency)),
            "reason": reason,
        },
    )
    _reopen_if_approved(session, period, line.person_id, f"reversal of adjustment {original_id}")
    return out


def line_of(session: Session, adjustment: Adjustment) -> PayoutLine | None:
    """The ledger line an adjustment row booked."""
    lines = session.exec(
        select(PayoutLine).where(
            PayoutLine.person_id == adjustment.person_id,
            PayoutLine.period_id == adjustment.period_id,
            PayoutLine.kind == "adjustment",
            PayoutLine.component == MANUAL_COMPONENT,
        )
    ).all()
    return next((line for line in lines if (line.basis or {}).get("adjustment_id") == adjustment.id), None)


def recent_manual_lines(session: Session, *, limit: int = 100) -> list[tuple[PayoutLine, Person, Period, bool]]:
    """Manual adjustment lines, newest first: (line, person, period, reversed?)."""
    reversal = aliased(PayoutLine)
    return list(
        session.exec(
            select(PayoutLine, Person, Period, exists().where(col(reversal.reverses_id) == PayoutLine.id))
            .join(Person, col(Person.id) == PayoutLine.person_id)
            .join(Period, col(Period.id) == PayoutLine.period_id)
            .where(PayoutLine.kind == "adjustment", PayoutLine.component == MANUAL_COMPONENT)
            .order_by(col(PayoutLine.id).desc())
            .limit(limit)
        ).all()
    )


# ---- the page's and the API's writes, each in its own transaction ---------------------------------


def _person(session: Session, email: str) -> Person:
    person = person_by_email(session, email or "")
    if person is None:
        raise InputProblem("person", f"no person with email {(email or '').strip()}")
    return person


def _deal_id(session: Session, external_id: str | None) -> int | None:
    if not external_id or not external_id.strip():
        return None
    found = session.exec(select(Deal.id).where(Deal.external_id == external_id.strip())).first()
    if found is None:
        raise InputProblem("deal", f"no deal {external_id.strip()}")
    return found


def adjustment_out(session: Session, adjustment: Adjustment) -> AdjustmentOut:
    """The API's view of an adjustment: emails, keys and external ids instead of row ids."""
    person = _stored(session, Person, adjustment.person_id)
    period = _stored(session, Period, adjustment.period_id)
    deal = session.get(Deal, adjustment.deal_id) if adjustment.deal_id else None
    line = line_of(session, adjustment)
    return AdjustmentOut(
        id=stored_id(adjustment),
        person=person.email,
        period=period.key,
        amount=str(from_minor(adjustment.amount_minor, adjustment.currency)),
        currency=adjustment.currency,
        reason=adjustment.reason,
        deal=deal.external_id if deal else None,
        line=line.id if line else None,
    )


def new_request_key() -> str:
    """A form's key: the same form sent twice (a double click, a resubmit) books once."""
    return secrets.token_urlsafe(18)


def checked_request_key(value: str | None, field: str) -> str | None:
    """A request's key as given (None when there is none): 1 to 64 visible ASCII characters, a UUID say."""
    if value is None or value == "":
        return None
    if len(value) > 64 or not all("!" <= c <= "~" for c in value):
        raise InputProblem(field, "a key is 1 to 64 visible ASCII characters (no spaces), e.g. a UUID")
    return value


def _booked_with_key(session: Session, actor_id: int, request_key: str) -> Adjustment | None:
    return session.exec(
        select(Adjustment).where(Adjustment.created_by_id == actor_id, Adjustment.request_key == request_key)
    ).first()


def _same_request(
    session: Session, earlier: Adjustment, person_id: int, data: AdjustmentIn, deal_id: int | None
) -> bool:
    """Whether ``data`` asks for what ``earlier`` booked (the period and amount as written may differ in form)."""
    period = _stored(session, Period, earlier.period_id)
    try:
        same_period = normalise_key(data.period) == period.key
        same_amount = parse_amount(data.amount, earlier.currency) == earlier.amount_minor
    except (InputProblem, ValueError):
        return False
    return (
        earlier.person_id == person_id
        and same_period
        and same_amount
        and earlier.reason == (data.reason or "").strip()
        and earlier.deal_id == deal_id
    )


def book_adjustment(
    session: Session,
    principal: Principal,
    data: AdjustmentIn,
    *,
    request_key: str | None = None,
    key_field: str = "request_key",
) -> tuple[Adjustment, bool]:
    """A manual adjustment as the page and the API describe it (the person's email, the deal's external id).

    Returns the adjustment and whether it was booked now. With a ``request_key`` the same request again (a
    retry after a lost answer, a second click) finds what the first booked and books nothing; the key with
    other values is refused (``key_field`` names it), since a new adjustment needs a new key.
    """
    if principal.person_id is None:
        raise InputProblem(
            "token", "an adjustment names who made it: use a token bound to a finance person (--as EMAIL)"
        )
    person = _person(session, data.person)
    deal_id = _deal_id(session, data.deal)
    if request_key is not None and (earlier := _booked_with_key(session, principal.person_id, request_key)):
        if not _same_request(session, earlier, stored_id(person), data, deal_id):
            raise Conflict(
                key_field,
                f"this key already booked adjustment {earlier.id} with other values: a new adjustment needs a new key",
            )
        return earlier, False
    adjustment = add_manual_adjustment(
        session,
        person_id=stored_id(person),
        period_key=data.period,
        amount=data.amount,  # type: ignore[arg-type]
        reason=data.reason,
        actor_id=principal.person_id,
        deal_id=deal_id,
    )
    if request_key is not None:
        adjustment.request_key = request_key
        session.add(adjustment)
        session.flush()  # a twin request racing this one fails here, and its retry finds this adjustment
    return adjustment, True


def book_from_form(engine: Engine, principal: Principal, data: AdjustmentIn, *, request_key: str | None = None) -> str:
    """``book_adjustment`` in a transaction of its own; returns the key of the period it was booked in."""

    def work(session: Session) -> str:
        adjustment, _ = book_adjustment(session, principal, data, request_key=request_key)
        return _stored(session, Period, adjustment.period_id).key

    return write(engine, work)


def book_and_describe(
    engine: Engine, principal: Principal, data: AdjustmentIn, *, request_key: str | None = None
) -> tuple[AdjustmentOut, bool]:
    """``book_adjustment`` in a transaction of its own, answered as the API shows it, and whether it is new."""

    def work(session: Session) -> tuple[AdjustmentOut, bool]:
        adjustment, booked = book_adjustment(
            session, principal, data, request_key=request_key, key_field="Idempotency-Key"
        )
        return adjustment_out(session, adjustment), booked

    return write(engine, work)


def reverse_line(engine: Engine, *, line_id: int, reason: str, actor_id: int) -> None:
    """``reverse_adjustment`` in a transaction of its own."""
    with transaction(engine) as session:
        reverse_adjustment(session, line_id=line_id, reason=reason, actor_id=actor_id)


def reverse_and_describe(engine: Engine, *, adjustment_id: int, reason: str, actor_id: int) -> AdjustmentOut:
    """Reverse the manual adjustment with this id in a transaction of its own; the reversal as the API shows it."""
    with transaction(engine) as session:
        adjustment = session.get(Adjustment, adjustment_id)
        line = line_of(session, adjustment) if adjustment else None
        if line is None:
            raise AdjustmentNotFound("adjustment", f"no manual adjustment {adjustment_id}")
        out = reverse_adjustment(session, line_id=stored_id(line), reason=reason, actor_id=actor_id)
        record = _stored(session, Adjustment, out.basis["adjustment_id"])
        return adjustment_out(session, record)
