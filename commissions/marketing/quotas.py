"""Marketing team quotas (``quota.team_id`` on a team of kind marketing): MQLs, SQLs, sourced pipeline
and sourced revenue per period, set by the team's manager or an admin from the marketing dashboard.

Per-marketer quotas on the same metrics live in the quota grid, CSV and API (commissions/quotas).
Same rules as person quotas: exact targets, optimistic locking on ``version``, open periods only,
clearing deletes, every change audited. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.periods import PeriodKey, ensure_period, period_row
from commissions.core.principal import Principal
from commissions.marketing.dashboard import MARKETING_QUOTA_METRICS
from commissions.models import Person, Quota, Team
from commissions.models.base import utcnow
from commissions.quotas.targets import (
    METRIC_LABELS,
    QuotaConflict,
    check_open,
    display_target,
    input_target,
    parse_target,
    plain_target,
    target_value,
)

TEAM_CURRENCY = "USD"  # a team has no plan: its money targets are in USD, like a person without a plan


@dataclass(frozen=True, slots=True)
class TeamQuotaCell:
    team: Team
    metric: str
    minor: int | None
    version: int

    @property
    def label(self) -> str:
        return METRIC_LABELS[self.metric]

    @property
    def input_value(self) -> str:
        return (
            ""
            if self.minor is None
            else input_target(target_value(self.minor, self.metric, TEAM_CURRENCY), self.metric, TEAM_CURRENCY)
        )

    @property
    def display(self) -> str:
        return (
            ""
            if self.minor is None
            else display_target(target_value(self.minor, self.metric, TEAM_CURRENCY), self.metric, TEAM_CURRENCY)
        )


def editable_teams(session: Session, principal: Principal) -> list[Team]:
    """Marketing teams whose quotas the caller sets: all for an admin, their own for a marketing team's manager."""
    query = select(Team).where(Team.kind == "marketing").order_by(Team.name)
    if principal.role == "admin":
        return list(session.exec(query).all())
    if principal.role != "manager" or principal.person_id is None:
        return []
    me = session.get(Person, principal.person_id)
    if me is None or me.team_id is None:
        return []
    return list(session.exec(query.where(Team.id == me.team_id)).all())


def team_cells(session: Session, principal: Principal, key: PeriodKey) -> list[tuple[Team, list[TeamQuotaCell]]]:
    period = period_row(session, key)
    out = []
    for team in editable_teams(session, principal):
        stored = (
            {}
            if period is None
            else {
                q.metric: q
                for q in session.exec(select(Quota).where(Quota.team_id == team.id, Quota.period_id == period.id)).all()
            }
        )
        out.append(
            (
                team,
                [
                    TeamQuotaCell(
                        team,
                        m,
                        stored[m].target_minor if m in stored else None,
                        stored[m].version if m in stored else 0,
                    )
                    for m in MARKETING_QUOTA_METRICS
                ],
            )
        )
    return out


def set_team_quota(
    session: Session,
    principal: Principal,
    *,
    team_id: int,
    metric: str,
    key: PeriodKey,
    target: str,
    version: int | None,
) -> str:
    """Set or clear one team target; returns created | updated | deleted | unchanged."""
    team = next((t for t in editable_teams(session, principal) if t.id == team_id), None)
    if team is None:
        raise Forbidden("You set the quotas of your own marketing team only.")
    if metric not in MARKETING_QUOTA_METRICS:
        raise InputProblem("metric", f"{metric!r} is not one of {', '.join(MARKETING_QUOTA_METRICS)}")
    minor = parse_target(target, metric, TEAM_CURRENCY)
    period = ensure_period(session, key) if minor is not None else period_row(session, key)
    if period is None:
        return "unchanged"
    check_open(period)
    quota = session.exec(
        select(Quota).where(Quota.team_id == team.id, Quota.metric == metric, Quota.period_id == period.id)
    ).first()
    old = quota.target_minor if quota else None
    if old == minor:
        return "unchanged"
    if version is not None and version != (quota.version if quota else 0):
        now = (
            "empty" if old is None else display_target(target_value(old, metric, TEAM_CURRENCY), metric, TEAM_CURRENCY)
        )
        raise QuotaConflict(
            f"changed by someone else since you loaded it: it is now {now}",
            current_minor=old,
            current_version=quota.version if quota else 0,
        )
    if quota is None:
        if minor is None:  # cannot happen: no quota and no target returned "unchanged" above
            return "unchanged"
        quota = Quota(team_id=team.id, metric=metric, period_id=stored_id(period), target_minor=minor, version=1)
        session.add(quota)
        session.flush()
        action, new_version = "created", 1
    elif minor is None:
        deleted = cast(
            "CursorResult[Any]",
            session.execute(delete(Quota).where(col(Quota.id) == quota.id, col(Quota.version) == quota.version)),
        )
        if deleted.rowcount != 1:
            raise QuotaConflict("changed by someone else since you loaded it", current_minor=None, current_version=0)
        action, new_version = "deleted", quota.version
    else:
        seen = quota.version
        done = cast(
            "CursorResult[Any]",
            session.execute(
                update(Quota)
                .where(col(Quota.id) == quota.id, col(Quota.version) == seen)
                .values(target_minor=minor, version=seen + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            ),
        )
        if done.rowcount != 1:
            raise QuotaConflict("changed by someone else since you loaded it", current_minor=None, current_version=seen)
        action, new_version = "updated", seen + 1

    def fmt(value: int | None) -> str | None:
        return (
            None if value is None else plain_target(target_value(value, metric, TEAM_CURRENCY), metric, TEAM_CURRENCY)
        )

    record_event(
        session,
        principal,
        "quota.delete" if action == "deleted" else "quota.set",
        "quota",
        quota.id,
        {
            "team": team.name,
            "metric": metric,
            "period": key.key,
            "old": fmt(old),
            "new": fmt(minor),
            "unit": TEAM_CURRENCY if metric in ("pipeline", "sourced_revenue") else "count",
            "version": new_version,
            "source": "marketing",
        },
    )
    return action
