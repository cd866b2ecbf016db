"""Reads of the audit log: the admin page's filtered, newest-first events, the kinds to filter by, and the
names of what a page of events mentions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from commissions.audit.sentences import Names, references
from commissions.models import AuditEvent, Deal, Person, Team


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


def names_for(session: Session, events: Sequence[AuditEvent]) -> Names:
    """The names of the people, deals and teams a page of events mentions: one query per kind, whatever
    the number of rows (never one per row)."""
    wanted = references(events)
    people: dict[int, str] = {}
    emails: dict[str, str] = {}
    if wanted.person_ids or wanted.emails:
        clauses = []
        if wanted.person_ids:
            clauses.append(col(Person.id).in_(sorted(wanted.person_ids)))
        if wanted.emails:
            clauses.append(func.lower(Person.email).in_(sorted(wanted.emails)))
        for pid, email, name in session.exec(select(Person.id, Person.email, Person.name).where(or_(*clauses))).all():
            if pid is not None:
                people[pid] = name
            emails[email.lower()] = name
    deals: dict[str, tuple[int, str]] = {}
    if wanted.deals:
        rows = session.exec(
            select(Deal.external_id, Deal.id, Deal.name).where(col(Deal.external_id).in_(sorted(wanted.deals)))
        ).all()
        deals = {external_id: (deal_id, name) for external_id, deal_id, name in rows if deal_id is not None}
    teams: dict[int, str] = {}
    if wanted.team_ids:
        rows_t = session.exec(select(Team.id, Team.name).where(col(Team.id).in_(sorted(wanted.team_ids)))).all()
        teams = {team_id: name for team_id, name in rows_t if team_id is not None}
    return Names(people=people, emails=emails, deals=deals, teams=teams)
