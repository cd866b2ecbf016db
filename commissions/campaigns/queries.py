"""Reads for the campaign pages that the service's own reads do not cover."""

from __future__ import annotations

from sqlmodel import Session

from commissions.models import Person


def email_of(session: Session, person_id: int) -> str:
    """The person's email, empty if there is no such person."""
    person = session.get(Person, person_id)
    return person.email if person else ""
