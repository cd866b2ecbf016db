"""Reads about people for pages that list them (the admin's people page, the home page's counts)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from commissions.models import Person, Team


def people_and_teams(session: Session) -> tuple[list[Person], dict[int, str]]:
    """Everyone, active first then by name, and every team's name by id."""
    people = list(session.exec(select(Person).order_by(Person.active.desc(), Person.name)).all())
    teams = {t.id: t.name for t in session.exec(select(Team)).all()}
    return people, teams


def active_people_by_role(session: Session) -> dict[str, int]:
    """How many active people hold each role."""
    return dict(session.exec(select(Person.role, func.count()).where(Person.active).group_by(Person.role)).all())
