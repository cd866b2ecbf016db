"""Disputes: open, answer, reply, resolve (optionally with an adjustment); who may see them.

Who sees a dispute is who may read the statement it is about (the person, their
manager chain, finance: ``may_read_statement``); anyone else gets the same 404 as for
a dispute that does not exist. Only finance answers and resolves. Disputes block
nothing: the period workflow never looks at them.

Lifecycle: ``open`` → (finance answers) ``answered`` → (a reply from the person's
side) ``open`` again … → (finance resolves, with a note and optionally an adjustment)
``resolved``, which is final: a new question opens a new dispute.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from commissions.adjustments.service import add_manual_adjustment
from commissions.calculation.ledger import current_lines_query
from commissions.calculation.rows import stored_id
from commissions.core import mail, outbox
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.money import typed_number
from commissions.core.principal import Principal
from commissions.models import Dispute, DisputeMessage, PayoutLine, Period, Person
from commissions.models.base import utcnow
from commissions.people.access import may_read_statement
from commissions.people.service import visible_person_ids


class ShownStatement(Protocol):
    """What the dispute part of a statement page needs of the statement shown (statements.queries.Statement;
    disputes sit below statements, so they name only this)."""

    @property
    def period(self) -> Period: ...


MAX_TEXT = 2000
UNRESOLVED = ("open", "answered")


class DisputeNotFound(InputProblem):
    status_code = 404


@dataclass(frozen=True, slots=True)
class DisputeRow:
    dispute: Dispute
    person: Person
    period_key: str


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    message: DisputeMessage
    author: str
    from_finance: bool


def _text(field: str, value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InputProblem(field, f"write {what}")
    if len(value) > MAX_TEXT:
        raise InputProblem(field, f"{what} is too long ({len(value)} characters; at most {MAX_TEXT})")
    return value


def find_dispute(session: Session, principal: Principal, dispute_id: int) -> Dispute:
    """The dispute if the caller may see it; 404 alike for a missing one and for someone else's."""
    dispute = session.get(Dispute, dispute_id)
    person = session.get(Person, dispute.person_id) if dispute else None
    if dispute is None or person is None or not may_read_statement(session, principal, person):
        raise DisputeNotFound("dispute", f"no dispute {dispute_id} that you may see")
    return dispute


def open_dispute(
    session: Session, *, principal: Principal, person: Person, period_key: str, line_id: int | None, question: str
) -> Dispute:
    """Flag a statement line (or the whole statement when ``line_id`` is None) with a question."""
    if principal.person_id is None:
        raise Forbidden("a dispute needs a person: sign in")
    if not may_read_statement(session, principal, person):
        raise DisputeNotFound("person", "no statement that you may see")
    period = session.exec(select(Period).where(Period.key == period_key)).first()
    if period is None:
        raise InputProblem("period", f"no period {period_key} has been computed")
    question = _text("question", question, "your question")
    line_text = ""
    if line_id is not None:
        lines: SelectOfScalar[PayoutLine] = current_lines_query(stored_id(person), stored_id(period))
        line = session.exec(lines.where(PayoutLine.id == line_id)).first()
        if line is None:
            raise InputProblem("line", f"line {line_id} is not on {person.email}'s statement for {period.key}")
        line_text = line.text[:500]
    now = utcnow()
    dispute = Dispute(
        person_id=stored_id(person),
        period_id=stored_id(period),
        payout_line_id=line_id,
        line_text=line_text,
        opened_by_id=principal.person_id,
        state="open",
        created_at=now,
        updated_at=now,
    )
    session.add(dispute)
    session.flush()
    session.add(
        DisputeMessage(
            dispute_id=stored_id(dispute), author_id=principal.person_id, kind="question", body=question, created_at=now
        )
    )
    record_event(session, principal, "dispute.open", "dispute", dispute.id, {"line": line_id, "period": period.key})
    outbox.record_event(
        session,
        "dispute.opened",
        {"dispute": dispute.id, "person": person.email, "period": period.key, "line": line_id, "by": principal.label},
        pay={"line_text": line_text} if line_text else None,  # a line's text states its amount
    )
    return dispute


def add_message(session: Session, *, principal: Principal, dispute: Dispute, body: str) -> DisputeMessage:
    """Finance's message answers (→ answered); a message from the person's side reopens (→ open)."""
    if principal.person_id is None:
        raise Forbidden("a message needs a person: sign in")
    if dispute.state == "resolved":
        raise Conflict("dispute", "this dispute is resolved: open a new one from the statement")
    body = _text("body", body, "your message")
    finance = principal.role == "finance"
    now = utcnow()
    message = DisputeMessage(
        dispute_id=stored_id(dispute),
        author_id=principal.person_id,
        kind="answer" if finance else "reply",
        body=body,
        created_at=now,
    )
    session.add(message)
    dispute.state = "answered" if finance else "open"
    dispute.updated_at = now
    session.add(dispute)
    record_event(session, principal, "dispute.answer" if finance else "dispute.reply", "dispute", dispute.id, {})
    if finance:
        _announce_answer(session, dispute, principal)
        _mail_answer(session, dispute)
    return message


def _mail_answer(session: Session, dispute: Dispute) -> None:
    """The person who opened the dispute hears that finance answered (a link to the thread, never its text)."""
    if not mail.enabled():
        return
    person = session.get(Person, dispute.opened_by_id)
    period = session.get(Period, dispute.period_id)
    if person is None or not person.active:
        return
    context = {
        "name": person.name,
        "dispute": dispute.id,
        "period": period.key if period else "",
        "url": mail.link(f"/disputes/{dispute.id}"),
    }
    mail.queue_mail(session, "dispute_answered", to=person.email, context=context, locale=person.locale)


def _announce_answer(session: Session, dispute: Dispute, principal: Principal) -> None:
    """``dispute.answered`` in the outbox: who and which statement, never the thread (it may discuss pay)."""
    if not outbox.wanted(session, "dispute.answered"):
        return
    person = session.get(Person, dispute.person_id)
    period = session.get(Period, dispute.period_id)
    data = {
        "dispute": dispute.id,
        "person": person.email if person else None,
        "period": period.key if period else None,
        "by": principal.label,
    }
    outbox.record_event(session, "dispute.answered", data)


def parse_adjustment(text: str | None) -> Decimal | None:
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        amount = Decimal(typed_number(raw))
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError) as exc:
        raise InputProblem("amount", f"{raw!r} is not an amount: write e.g. 250.00 or -120") from exc
    if amount == 0:
        raise InputProblem("amount", "an adjustment cannot be zero: leave the amount empty to resolve without one")
    return amount


def resolve_dispute(
    session: Session, *, principal: Principal, dispute: Dispute, note: str, amount: Decimal | None = None
) -> Dispute:
    """Finance closes the dispute with a note; with ``amount``, a manual adjustment is booked in the same transaction."""
    if principal.role != "finance" or principal.person_id is None:
        raise Forbidden("only finance resolves disputes")
    if dispute.state == "resolved":
        raise Conflict("dispute", "this dispute is already resolved")
    note = _text("note", note, "a resolution note")
    period = session.get(Period, dispute.period_id)
    if amount is not None:
        if period is None:
            raise DisputeNotFound("period", f"period {dispute.period_id} no longer exists")
        deal_id = None
        if dispute.payout_line_id is not None:
            line = session.get(PayoutLine, dispute.payout_line_id)
            if line is None:
                raise DisputeNotFound("line", f"line {dispute.payout_line_id} no longer exists")
            deal_id = line.deal_id
        adjustment = add_manual_adjustment(
            session,
            person_id=dispute.person_id,
            period_key=period.key,
            amount=amount,
            reason=f"Dispute #{dispute.id}: {note}"[:1000],
            actor_id=principal.person_id,
            deal_id=deal_id,
        )
        dispute.adjustment_id = adjustment.id
    now = utcnow()
    session.add(
        DisputeMessage(
            dispute_id=stored_id(dispute), author_id=principal.person_id, kind="resolution", body=note, created_at=now
        )
    )
    dispute.state = "resolved"
    dispute.resolution = note
    dispute.resolved_by_id = principal.person_id
    dispute.resolved_at = now
    dispute.updated_at = now
    session.add(dispute)
    record_event(
        session,
        principal,
        "dispute.resolve",
        "dispute",
        dispute.id,
        {"adjustment": str(amount) if amount is not None else None},
    )
    return dispute


def thread(session: Session, dispute: Dispute) -> list[ThreadMessage]:
    rows = session.exec(
        select(DisputeMessage, Person)
        .join(Person, col(Person.id) == DisputeMessage.author_id)
        .where(DisputeMessage.dispute_id == dispute.id)
        .order_by(col(DisputeMessage.id))
    ).all()
    return [ThreadMessage(m, p.name, m.kind in ("answer", "resolution")) for m, p in rows]


def list_disputes(
    session: Session, principal: Principal, *, unresolved_only: bool = True, period_id: int | None = None
) -> list[DisputeRow]:
    """The disputes the caller may see (finance: all), newest activity first."""
    query = (
        select(Dispute, Person, Period.key)
        .join(Person, col(Person.id) == Dispute.person_id)
        .join(Period, col(Period.id) == Dispute.period_id)
    )
    ids = visible_person_ids(session, principal)
    if principal.role == "admin":
        ids = set()  # admins do not read pay
    if ids is not None:
        query = query.where(col(Dispute.person_id).in_(ids))
    if unresolved_only:
        query = query.where(col(Dispute.state).in_(UNRESOLVED))
    if period_id is not None:
        query = query.where(Dispute.period_id == period_id)
    rows = session.exec(query.order_by(col(Dispute.updated_at).desc(), col(Dispute.id).desc())).all()
    return [DisputeRow(d, p, key) for d, p, key in rows]


def statement_disputes(
    session: Session, person: Person, period: Period
) -> tuple[list[Dispute], dict[int, list[Dispute]]]:
    """A statement's disputes, and those about each payout line (for the per-line markers)."""
    disputes = list(
        session.exec(
            select(Dispute)
            .where(Dispute.person_id == person.id, Dispute.period_id == period.id)
            .order_by(col(Dispute.id))
        ).all()
    )
    by_line: dict[int, list[Dispute]] = defaultdict(list)
    for d in disputes:
        if d.payout_line_id is not None:
            by_line[d.payout_line_id].append(d)
    return disputes, dict(by_line)


def dispute_context(
    session: Session, principal: Principal, person: Person, statement: ShownStatement | None
) -> dict[str, Any]:
    """What the statement page's dispute includes need: the statement's disputes, per-line markers, who may ask."""
    disputes, by_line = statement_disputes(session, person, statement.period) if statement else ([], {})
    return {"disputes": disputes, "disputes_by_line": by_line, "may_dispute": principal.person_id is not None}


# --- the pages' writes, each in its own transaction ---------------------------------------------------------------


def _dispute(session: Session, dispute_id: int) -> Dispute:
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:  # the caller checked it may see it; it can only vanish in between
        raise DisputeNotFound("dispute", "no such dispute")
    return dispute


def create_dispute(
    engine: Engine, *, principal: Principal, person_id: int, period_key: str, line_id: int | None, question: str
) -> Dispute:
    """``open_dispute`` about the person's statement, in its own transaction."""
    with transaction(engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            raise DisputeNotFound("person", "no statement that you may see")
        return open_dispute(
            session,
            principal=principal,
            person=person,
            period_key=period_key,
            line_id=line_id,
            question=question,
        )


def post_message(engine: Engine, *, principal: Principal, dispute_id: int, body: str) -> None:
    """``add_message`` to the dispute, in its own transaction (the caller has checked it may see the dispute)."""
    with transaction(engine) as session:
        add_message(session, principal=principal, dispute=_dispute(session, dispute_id), body=body)


def close_dispute(engine: Engine, *, principal: Principal, dispute_id: int, note: str, amount: Decimal | None) -> None:
    """``resolve_dispute`` in its own transaction (the caller has checked it may see the dispute)."""
    with transaction(engine) as session:
        resolve_dispute(
            session,
            principal=principal,
            dispute=_dispute(session, dispute_id),
            note=note,
            amount=amount,
        )
