"""Held commission per person: the hook through which holds reach accruals and the close checklist.

Holds (finance holding one deal's or one person's commission with a reason) arrive with the holds
feature (the ``commission_hold`` table, branch ``holds``). Until then nothing is held and this
answers ``{}``. The holds branch plugs in here: replace the body of ``held_by_person`` with the
sum of the period's active holds per person (a query of the ``commission_hold`` model, which lives
in ``commissions.models`` and so may be read from this layer); accruals
(``commissions.accounting.queries``) and the close checklist (``commissions.periods.checklist``)
then show and count them without any other change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from sqlmodel import Session


class HeldByPerson(Protocol):
    def __call__(self, session: Session, period_key: str) -> dict[int, Decimal]: ...


def held_by_person(session: Session, period_key: str) -> dict[int, Decimal]:
    """The amount held per person id in the period (in the person's statement currency): none yet."""
    return {}
