"""Reads of the audit log: the admin page's filtered, newest-first events and the kinds to filter by."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from commissions.models import AuditEvent


def _filtered(action: str, person: str, first: date | None, last: date | None) -> SelectOfScalar[AuditEvent]:
    query = select(AuditEvent)
    if action:
        query = query.where(
            or_(col(AuditEvent.action) == action, col(AuditEvent.action).startswith(action.rstrip(".") + "."))
        )
    if person:
        query = query.where(func.lower(AuditEvent.actor_label).contains(person.strip().lower()))
    if first is not None:
        query = query.where(AuditEvent.at >= datetime.combine(first, time(0), UTC))
    if last is not None:
        query = query.where(AuditEvent.at < datetime.combine(last + timedelta(days=1), time(0), UTC))
    return query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())


def audit_events(
    session: Session,
    *,
    action: str,
    person: str,
    first: date | None,
    last: date | None,
    offset: int = 0,
    limit: int,
) -> list[AuditEvent]:
    """Events newest first: ``action`` matches the action or a family of them (``deal`` matches ``deal.*``),
    ``person`` a part of the actor's label, ``first``/``last`` whole UTC days."""
    query = _filtered(action, person, first, last)
    if offset:
        query = query.offset(offset)
    return list(session.exec(query.limit(limit)).all())


def action_kinds(session: Session) -> list[str]:
    """Every recorded action and every family of them (the part before the first dot), sorted."""
    actions = session.exec(select(AuditEvent.action).distinct()).all()
    return sorted({a.split(".")[0] for a in actions} | set(actions))
