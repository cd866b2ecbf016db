"""Reads for finance's adjustments page and the adjustments API."""

from __future__ import annotations

from sqlmodel import Session, col, select

from commissions.models import Period, Person


def active_people(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(col(Person.active).is_(True)).order_by(Person.name)).all())


def adjustable_periods(session: Session) -> list[Period]:
    """The periods an adjustment may be booked in (open or approved), oldest first."""
    return list(
        session.exec(
            select(Period).where(col(Period.state).in_(("open", "approved"))).order_by(col(Period.starts_on))
        ).all()
    )
