"""Reads about people: the one place that looks a person up by email, and the lists pages show.

Emails are stored in lower case without surrounding spaces (``normalise_email``), so a
look-up is an exact match on the normalised text. Active or not: whoever needs only
active people checks ``person.active`` and says so in its own message.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.models import Person, Team

_CHUNK = 500  # emails per IN (...) query: well under every database's parameter limit


def normalise_email(email: str) -> str:
    return email.strip().lower()


def person_by_email(session: Session, email: str) -> Person | None:
    return session.exec(select(Person).where(Person.email == normalise_email(email))).first()


def people_by_email(session: Session, emails: Iterable[str]) -> dict[str, Person]:
    """The people of ``emails`` (normalised) who exist, by their email; unknown ones are left out."""
    wanted = sorted({normalise_email(email) for email in emails})
    found: dict[str, Person] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update((p.email, p) for p in session.exec(select(Person).where(col(Person.email).in_(chunk))).all())
    return found


def people_and_teams(session: Session) -> tuple[list[Person], dict[int, str]]:
    """Everyone, active first then by name, and every team's name by id."""
    people = list(session.exec(select(Person).order_by(col(Person.active).desc(), Person.name)).all())
    teams = {stored_id(t): t.name for t in session.exec(select(Team)).all()}
    return people, teams


def active_people_by_role(session: Session) -> dict[str, int]:
    """How many active people hold each role."""
    return dict(session.exec(select(Person.role, func.count()).where(Person.active).group_by(Person.role)).all())
