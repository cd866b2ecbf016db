"""Holds in force in a period, as the close checklist counts them.

The amounts held (what accruals and payroll leave out) are computed by the holds area
(``commissions.holds.cash.held_by_person``, above this layer); the checklist only needs to know
how many holds finance still has to release or confirm, which the ``commission_hold`` rows say.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.models import CommissionHold, Period


def holds_in_force(session: Session, period: Period) -> int:
    """Holds placed in ``period`` and not released."""
    return int(
        session.exec(
            select(func.count())
            .select_from(CommissionHold)
            .where(col(CommissionHold.period_id) == period.id, col(CommissionHold.state) == "held")
        ).one()
    )
