"""Reads for the campaign pages that the service's own reads do not cover."""

from __future__ import annotations

from sqlmodel import Session, col, select

from commissions.models import Campaign, Person


def email_of(session: Session, person_id: int) -> str:
    """The person's email, empty if there is no such person."""
    person = session.get(Person, person_id)
    return person.email if person else ""


def campaign_page(session: Session, *, after_id: int | None, limit: int) -> list[tuple[Campaign, str]]:
    """Campaigns by id with their owner's email, after ``after_id``, at most ``limit``."""
    query = select(Campaign, Person.email).join(Person, col(Person.id) == Campaign.owner_id).order_by(col(Campaign.id))
    if after_id is not None:
        query = query.where(col(Campaign.id) > after_id)
    return [(campaign, email) for campaign, email in session.exec(query.limit(limit)).all()]
