"""Finding people: the one place that looks a person up by email.

Emails are stored in lower case without surrounding spaces (``normalise_email``), so a
look-up is an exact match on the normalised text. Active or not: whoever needs only
active people checks ``person.active`` and says so in its own message.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from commissions.models import Person

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
