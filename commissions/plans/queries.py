"""Reads for the plan pages and the home page: a plan, its versions' start days and authors, one version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.models import Person, Plan, PlanVersion


def plan_by_id(session: Session, plan_id: int) -> Plan | None:
    return session.get(Plan, plan_id)


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


def person_by_id(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def plan_version_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(PlanVersion)).one()
