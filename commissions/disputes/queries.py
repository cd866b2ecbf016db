"""What the dispute pages show: one dispute with its thread, and the form that opens one."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from commissions.calculation.ledger import current_lines_query
from commissions.calculation.rows import stored_id
from commissions.core.periods import period_row
from commissions.core.principal import Principal
from commissions.disputes.service import DisputeNotFound, thread
from commissions.models import Adjustment, Dispute, PayoutLine, Period, Person


def dispute_page(
    session: Session, principal: Principal, dispute_id: int, *, fresh: bool = False, **extra: Any
) -> dict[str, Any]:
    """One dispute (the caller's right to see it checked already) with its person, period, thread and adjustment.
    ``fresh``: end the session's read transaction first, so a write committed since shows."""
    if fresh:
        session.rollback()
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:  # the callers checked it exists; it can only vanish in between
        raise DisputeNotFound("dispute", "no such dispute")
    person = session.get(Person, dispute.person_id)
    period = session.get(Period, dispute.period_id)
    adjustment = session.get(Adjustment, dispute.adjustment_id) if dispute.adjustment_id else None
    return {
        "dispute": dispute,
        "person": person,
        "period": period,
        "thread": thread(session, dispute),
        "adjustment": adjustment,
        "may_resolve": principal.role == "finance",
        "error": None,
        "form": {},
        **extra,
    }


def new_dispute_page(
    session: Session, person: Person, period_key: str, line_id: int | None, error: Any, question: str
) -> dict[str, Any]:
    """The form that opens a dispute about a statement, or one of its lines (shown with it)."""
    line = None
    period = period_row(session, period_key)
    if line_id is not None and period is not None:
        lines: SelectOfScalar[PayoutLine] = current_lines_query(stored_id(person), stored_id(period))
        line = session.exec(lines.where(PayoutLine.id == line_id)).first()
    return {
        "person": person,
        "period": period_key,
        "line_id": line_id,
        "line": line,
        "error": error,
        "question": question,
    }
