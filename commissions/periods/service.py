"""The period workflow's steps as the pages and the API take them, each write in its own transaction."""

from __future__ import annotations

from sqlalchemy import Engine

from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.periods.queries import period_out
from commissions.periods.schemas import PeriodOut
from commissions.periods.workflow import period_totals, refresh_queued, transition


def take_step(
    engine: Engine, *, key: str, action: str, actor: Principal, override_reason: str | None = None
) -> PeriodOut:
    """Approve, lock or pay the period and answer its new state and totals.

    Before approve and lock, the period's queued statements are recomputed in a transaction of their
    own, committed even if the step is then refused (so what is approved is what the data says). A lock with
    open items on the close checklist needs ``override_reason`` (``workflow.transition``)."""
    if action in ("approve", "lock"):
        with transaction(engine) as session:
            refresh_queued(session, key)
    with transaction(engine) as session:
        period, _ = transition(session, key=key, action=action, actor=actor, override_reason=override_reason)
        return period_out(session, period, period_totals(session, period))
