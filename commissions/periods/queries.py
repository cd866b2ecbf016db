"""Reads for finance's period pages and the periods API: the periods, their deal counts, who did each
step, whose calculation failed, and a period's state and totals as the API answers them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from commissions.calculation import state
from commissions.calculation.check import LastCheck, last_check
from commissions.calculation.rows import id_col
from commissions.core.errors import InputProblem
from commissions.core.money import from_minor
from commissions.core.paging import BadCursor, cursor_parts, make_cursor
from commissions.models import AuditEvent, Deal, Period, Person
from commissions.periods.schemas import FailedOut, LastCheckOut, PeriodOut, PersonTotalsOut
from commissions.periods.workflow import PeriodTotals


def periods_newest_first(session: Session, *, limit: int | None = None) -> list[Period]:
    query = select(Period).order_by(col(Period.starts_on).desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def deal_counts_by_period(session: Session) -> dict[int, int]:
    """How many deals closed in each period, by the period's id (one query for every period)."""
    return dict(
        session.exec(
            select(id_col(Period.id), func.count(col(Deal.id)))
            .join(
                Deal,
                and_(col(Deal.closed_at) >= Period.starts_on, col(Deal.closed_at) <= Period.ends_on),
                isouter=True,
            )
            .group_by(col(Period.id))
        ).all()
    )


def period_by_key(session: Session, key: str) -> Period | None:
    return session.exec(select(Period).where(Period.key == key)).first()


def email_of(session: Session, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    return person.email if person else None


def failed_people(session: Session, key: str) -> list[tuple[str, str, str]]:
    """(email, name, error) of everyone whose last calculation in the period failed."""
    errors = state.failed_people(session, key)
    if not errors:
        return []
    people = session.exec(
        select(id_col(Person.id), Person.email, Person.name).where(col(Person.id).in_(sorted(errors)))
    ).all()
    return sorted((email, name, errors[pid]) for pid, email, name in people)


def _last_check_out(check: LastCheck | None) -> LastCheckOut | None:
    if check is None:
        return None
    return LastCheckOut(
        at=check.at,
        checked=check.checked,
        differences=check.differences,
        statements=check.statements,
        pending=check.pending,
        note=check.note,
    )


PEOPLE_CURSOR = "period-people"  # the tag of the period API's people cursors (commissions.core.paging)


def people_cursor(name: str, person_id: int) -> str:
    """The opaque cursor of the page of people after this one (by name, then id)."""
    return make_cursor(PEOPLE_CURSOR, str(person_id), name)


def read_people_cursor(text: str) -> tuple[str, int]:
    """(name, person id) in a ``people_cursor``; a 400 naming ``cursor`` for anything else."""
    try:
        tag, person_id, name = cursor_parts(text, 3)
        if tag != PEOPLE_CURSOR or not person_id.isdigit() or len(person_id) > 18:
            raise BadCursor
    except BadCursor as exc:
        raise InputProblem("cursor", "not one this period's people list handed out; start again without it") from exc
    return name, int(person_id)


def period_out(session: Session, period: Period, totals: PeriodTotals) -> PeriodOut:
    currency = next(iter(totals.grand_totals), "USD")
    return PeriodOut(
        period=period.key,
        state=period.state,
        approved_at=period.approved_at,
        approved_by=email_of(session, period.approved_by_id),
        locked_at=period.locked_at,
        locked_by=email_of(session, period.locked_by_id),
        paid_at=period.paid_at,
        paid_by=email_of(session, period.paid_by_id),
        totals={cur: str(from_minor(v, cur)) for cur, v in totals.grand_totals.items()},
        components={name: str(from_minor(v, currency)) for name, v in totals.component_totals.items()},
        people=[
            PersonTotalsOut(
                person=p.email,
                name=p.name,
                currency=p.currency,
                total=str(from_minor(p.total_minor, p.currency)),
                components={c: str(from_minor(v, p.currency)) for c, v in p.components.items()},
            )
            for p in totals.people
        ],
        pending=state.pending_count(session, period.key),
        failed=[FailedOut(person=email, error=error) for email, _, error in failed_people(session, period.key)],
        last_check=_last_check_out(last_check(session, period.key)),
    )


def lock_override(session: Session, key: str) -> dict[str, Any] | None:
    """Why the period was locked with open checklist items, and which (the latest ``period.lock_overridden``
    event's detail: ``reason``, ``open_items``), or None when it was locked clear or not at all."""
    detail = session.exec(
        select(AuditEvent.detail)
        .where(
            AuditEvent.object_type == "period",
            AuditEvent.object_id == key,
            AuditEvent.action == "period.lock_overridden",
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    return dict(detail) if detail else None
