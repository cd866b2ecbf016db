"""The marketing writes that own their transaction: one lead event from the API, a team's quota targets."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from commissions.core.db import transaction, write
from commissions.core.errors import InputProblem
from commissions.core.periods import PeriodKey
from commissions.core.principal import Principal
from commissions.marketing.ingest import LeadEventResult, event_out, queue_recompute, record_lead_event
from commissions.marketing.quotas import set_team_quota
from commissions.marketing.schemas import LeadEventIn, LeadEventOut


def record_one_event(
    engine: Engine, data: LeadEventIn, *, by: Principal | None
) -> tuple[LeadEventResult, LeadEventOut]:
    """Record one delivered lead event and mark its owners' statements pending, in one transaction; tried again
    (three times in all) when a concurrent identical delivery won the race."""

    def work(session: Session) -> tuple[LeadEventResult, LeadEventOut]:
        result = record_lead_event(session, data, by=by)
        if result.outcome != "unchanged":
            queue_recompute(session, result.people, result.days)
        return result, event_out(session, result)

    return write(engine, work, attempts=3)


def save_team_quotas(
    engine: Engine,
    principal: Principal,
    *,
    team_id: int,
    key: PeriodKey,
    targets: dict[str, tuple[str, int | None]],
) -> None:
    """One team's targets in one period (metric → target text and the version it was edited from): all or
    nothing."""
    with transaction(engine) as session:
        for metric, (target, version) in targets.items():
            try:
                set_team_quota(
                    session, principal, team_id=team_id, metric=metric, key=key, target=target, version=version
                )
            except InputProblem as exc:
                if exc.field == "target":  # the form has a box per metric: name the one that is wrong
                    exc.field = f"target_{metric}"
                raise
