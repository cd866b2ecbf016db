"""What the quota pages read besides the grid itself (quotas/service.py builds the grid and its cells)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from commissions.core.periods import PeriodKey, period_window
from commissions.core.principal import Principal
from commissions.quotas.grid import Cell, build_grid, load_cell


def grid_context(session: Session, principal: Principal, key: PeriodKey, **extra: Any) -> dict[str, Any]:
    """The grid page's context; links to the periods before and after only where a period may exist (the period
    window)."""
    return {"grid": build_grid(session, principal, key), "notice": None, "window": period_window(), **extra}


def fresh_cell(session: Session, principal: Principal, person_id: int, metric: str, key: PeriodKey) -> Cell | None:
    """The cell as stored now: the session's read transaction ends first, so a write committed since shows."""
    session.rollback()
    return load_cell(session, principal, person_id, metric, key)
