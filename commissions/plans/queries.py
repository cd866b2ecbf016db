"""Reads for the plan pages and the home page: a plan, its versions' start days and authors, one version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.periods import CLOSED_STATES
from commissions.models import Period, Person, Plan, PlanAssignment, PlanVersion


def plan_by_id(session: Session, plan_id: int) -> Plan | None:
    return session.get(Plan, plan_id)


def closed_through(session: Session, kind: str) -> date | None:
    """The last day of the latest locked or paid period of this kind: no version may take effect by then."""
    ends: date | None = session.exec(
        select(func.max(Period.ends_on)).where(Period.kind == kind, col(Period.state).in_(CLOSED_STATES))
    ).one()
    return ends


def version_starts(session: Session, plan_id: int) -> set[date]:
    """The ``effective_from`` of every version of the plan."""
    return set(session.exec(select(col(PlanVersion.effective_from)).where(PlanVersion.plan_id == plan_id)).all())


def version_by_number(session: Session, plan_id: int, number: int) -> PlanVersion | None:
    return session.exec(
        select(PlanVersion).where(PlanVersion.plan_id == plan_id, PlanVersion.version == number)
    ).first()


def author_emails(session: Session, versions: Iterable[PlanVersion]) -> dict[int, str]:
    """The email of each version's author, by person id."""
    ids = {v.created_by_id for v in versions}
    return {stored_id(p): p.email for p in session.exec(select(Person).where(col(Person.id).in_(ids)))}


def plan_version_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(PlanVersion)).one()


@dataclass(frozen=True, slots=True)
class PlanListRow:
    """A plan with the version in force on a day (None before its first version) and its assignment count."""

    plan: Plan
    in_force: PlanVersion | None
    latest: int
    assignments: int


def plan_page(session: Session, *, after_id: int | None, limit: int, today: date) -> list[PlanListRow]:
    """Plans by id after ``after_id``, at most ``limit``, each with the version in force on ``today``."""
    query = select(Plan).order_by(col(Plan.id)).limit(limit)
    if after_id is not None:
        query = query.where(col(Plan.id) > after_id)
    plans = list(session.exec(query).all())
    ids = [stored_id(p) for p in plans]
    versions: dict[int, list[PlanVersion]] = {}
    for v in session.exec(
        select(PlanVersion)
        .where(col(PlanVersion.plan_id).in_(ids))
        .order_by(col(PlanVersion.effective_from), col(PlanVersion.version))
    ).all():
        versions.setdefault(v.plan_id, []).append(v)
    counts = dict(
        session.exec(
            select(PlanAssignment.plan_id, func.count())
            .where(col(PlanAssignment.plan_id).in_(ids))
            .group_by(col(PlanAssignment.plan_id))
        ).all()
    )
    rows = []
    for plan in plans:
        mine = versions.get(stored_id(plan), [])
        started = [v for v in mine if v.effective_from <= today]
        rows.append(
            PlanListRow(
                plan,
                started[-1] if started else None,
                max((v.version for v in mine), default=0),
                counts.get(stored_id(plan), 0),
            )
        )
    return rows


def plan_named(session: Session, name: str) -> Plan | None:
    return session.exec(select(Plan).where(Plan.name == name)).first()


def versions_by_number(session: Session, plan_id: int) -> list[PlanVersion]:
    return list(
        session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id).order_by(col(PlanVersion.version)))
    )


def assignments_with_emails(session: Session, plan_id: int) -> list[tuple[PlanAssignment, str]]:
    """The plan's assignments with each person's email, by email and start."""
    return [
        (assignment, email)
        for assignment, email in session.exec(
            select(PlanAssignment, Person.email)
            .join(Person, col(Person.id) == PlanAssignment.person_id)
            .where(PlanAssignment.plan_id == plan_id)
            .order_by(Person.email, col(PlanAssignment.starts_on))
        ).all()
    ]
