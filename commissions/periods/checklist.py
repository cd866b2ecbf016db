"""The close checklist: what should be cleared before a period is locked, each item linking to its fix.

Open disputes, statements pending recompute, people with calculation errors and held commission.
Locking with open items needs a reason (``override_reason``), recorded in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.calculation import state
from commissions.core.i18n import N_
from commissions.core.periods import LIVE_STATES
from commissions.models import Dispute, Period
from commissions.periods.holds import holds_in_force


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    name: str
    label: str
    count: int
    link: str

    @property
    def clear(self) -> bool:
        return self.count == 0


def close_checklist(session: Session, period: Period) -> list[ChecklistItem]:
    """The items in a fixed order; each is clear when its count is 0."""
    key = period.key
    disputes = session.exec(
        select(func.count()).select_from(Dispute).where(Dispute.period_id == period.id, Dispute.state != "resolved")
    ).one()
    failed = state.failed_people(session, key)  # whose calculation failed (the lock refuses these anyway)
    held = holds_in_force(session, period)
    # once locked, a pending or failed statement there changes nothing (late changes are adjustments elsewhere):
    # no link to fix it; a dispute can still be answered and a hold released (it pays in a later period)
    closed = period.state not in LIVE_STATES
    return [
        ChecklistItem("disputes", N_("Disputes open"), int(disputes), "/disputes"),
        ChecklistItem(
            "pending",
            N_("Statements pending recompute"),
            state.pending_count(session, key),
            "" if closed else f"/finance/periods/{key}#freshness",
        ),
        ChecklistItem(
            "errors", N_("People with errors"), len(failed), "" if closed else f"/finance/periods/{key}#freshness"
        ),
        ChecklistItem("holds", N_("Holds"), held, f"/finance/holds?period={key}"),
    ]


def open_items(items: list[ChecklistItem]) -> list[ChecklistItem]:
    return [item for item in items if not item.clear]


def describe(items: list[ChecklistItem]) -> str:
    """``2 disputes open, 1 people with errors``: the open items, named."""
    return ", ".join(f"{item.label.lower()}: {item.count}" for item in items)


def period_to_close(session: Session, today: date) -> Period | None:
    """The period finance closes next: the oldest still open (or approved) one that has ended; else the
    open period that holds today; else the newest open one (None when every period is locked or paid)."""
    live = list(
        session.exec(select(Period).where(col(Period.state).in_(LIVE_STATES)).order_by(col(Period.starts_on))).all()
    )
    ended = [p for p in live if p.ends_on < today]
    if ended:
        return ended[0]
    current = [p for p in live if p.starts_on <= today <= p.ends_on]
    if current:
        return current[0]
    return live[-1] if live else None


__all__ = ["ChecklistItem", "close_checklist", "describe", "open_items", "period_to_close"]
