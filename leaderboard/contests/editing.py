"""Editing contests: the form as typed, its validation, and create, update and cancel (audited).

The rules lock at the start: metric, mode, participants, window, currency and prize can no longer
change; name and description stay editable until the end; after the end nothing changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.principal import Principal
from commissions.models import Team
from commissions.models.base import utcnow
from leaderboard.contests.rules import (
    STATE_LABELS,
    can_create,
    can_edit,
    contest_team_ids,
    is_locked,
    manager_team_ids,
    state,
)
from leaderboard.models import CONTEST_METRICS, CONTEST_MODES, CONTEST_SCOPES, Contest, ContestTeam

NAME_MAX, DESCRIPTION_MAX, PRIZE_MAX = 120, 2000, 300
MAX_DAYS = 366
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# what may not change once the contest has started, with the words the error uses
LOCKED = {
    "metric": "metric",
    "mode": "mode",
    "scope": "participants",
    "teams": "participants",
    "currency": "currency",
    "start": "start",
    "end": "end",
    "prize": "prize",
}


class ContestInput(BaseModel):
    """The contest form as typed (dates as 2026-12-01, teams as ids)."""

    name: str = ""
    description: str = ""
    prize: str = ""
    metric: str = "bookings"
    mode: str = "individual"
    scope: str = "everyone"
    teams: list[str] = []
    currency: str = "USD"
    start: str = ""
    end: str = ""

    @classmethod
    def from_contest(cls, contest: Contest, team_ids: set[int]) -> ContestInput:
        return cls(
            name=contest.name,
            description=contest.description,
            prize=contest.prize,
            metric=contest.metric,
            mode=contest.mode,
            scope=contest.scope,
            teams=[str(t) for t in sorted(team_ids)],
            currency=contest.currency,
            start=contest.starts_on.isoformat(),
            end=contest.ends_on.isoformat(),
        )

    @classmethod
    def from_form(cls, form: dict[str, Any], *, defaults: ContestInput | None = None) -> ContestInput:
        """URL-encoded fields (a repeated ``teams`` arrives as a list); fields not sent keep ``defaults``."""
        values: dict[str, Any] = defaults.model_dump() if defaults else {}
        for name in cls.model_fields:
            if name not in form:
                continue
            raw = form[name]
            if name == "teams":
                values[name] = [str(v) for v in (raw if isinstance(raw, list) else [raw]) if str(v).strip()]
            else:
                values[name] = str(raw[-1] if isinstance(raw, list) else raw)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class _Valid:
    name: str
    description: str
    prize: str
    metric: str
    mode: str
    scope: str
    team_ids: frozenset[int]
    currency: str
    starts_on: date
    ends_on: date


def _date(text: str, field_name: str) -> date:
    text = text.strip()
    if not text:
        raise InputProblem(field_name, "is required: write it like 2026-12-01")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputProblem(field_name, f"{text!r} is not a date: write it like 2026-12-01") from exc


def _validate(
    session: Session, principal: Principal, data: ContestInput, *, now: datetime, existing: Contest | None
) -> _Valid:
    name = " ".join(data.name.split())
    if not name:
        raise InputProblem("name", "is required")
    if len(name) > NAME_MAX:
        raise InputProblem("name", f"is longer than {NAME_MAX} characters")
    description = data.description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise InputProblem("description", f"is longer than {DESCRIPTION_MAX} characters")
    prize = " ".join(data.prize.split())
    if len(prize) > PRIZE_MAX:
        raise InputProblem("prize", f"is longer than {PRIZE_MAX} characters")
    if data.metric not in CONTEST_METRICS:
        raise InputProblem("metric", f"choose one of {', '.join(CONTEST_METRICS)}")
    if data.mode not in CONTEST_MODES:
        raise InputProblem("mode", f"choose one of {', '.join(CONTEST_MODES)}")
    if data.scope not in CONTEST_SCOPES:
        raise InputProblem("scope", f"choose one of {', '.join(CONTEST_SCOPES)}")
    currency = (data.currency.strip() or "USD").upper()
    if not CURRENCY_RE.match(currency):
        raise InputProblem("currency", "write a three-letter currency code, e.g. USD")
    team_ids: set[int] = set()
    if data.scope == "teams":
        for text in data.teams:
            try:
                team_ids.add(int(text))
            except ValueError as exc:
                raise InputProblem("teams", f"{text!r} is not a team") from exc
        if not team_ids:
            raise InputProblem("teams", "choose at least one team (or everyone)")
        known = set(session.exec(select(Team.id).where(col(Team.id).in_(team_ids))))
        if known != team_ids:
            raise InputProblem("teams", "no such team")
    if principal.role == "manager":
        allowed = manager_team_ids(session, principal)
        if data.scope != "teams":
            raise InputProblem("scope", "a manager runs contests for their own teams: choose them")
        if not team_ids <= allowed:
            raise InputProblem("teams", "a manager runs contests only for their own team and their reports' teams")
    starts_on, ends_on = _date(data.start, "start"), _date(data.end, "end")
    if ends_on < starts_on:
        raise InputProblem("end", "is before the start")
    if (ends_on - starts_on).days >= MAX_DAYS:
        raise InputProblem("end", f"a contest lasts at most {MAX_DAYS} days")
    # a started contest's dates are refused by the lock (a clearer error than "in the past")
    settled = existing is not None and (existing.starts_on == starts_on or is_locked(existing, now))
    if not settled and starts_on < now.date():
        raise InputProblem("start", f"is in the past: a contest starts today ({now.date().isoformat()}, UTC) or later")
    return _Valid(
        name, description, prize, data.metric, data.mode, data.scope, frozenset(team_ids), currency, starts_on, ends_on
    )


def _snapshot(contest: Contest, team_ids: set[int] | frozenset[int]) -> dict[str, Any]:
    return {
        "name": contest.name,
        "description": contest.description,
        "prize": contest.prize,
        "metric": contest.metric,
        "mode": contest.mode,
        "scope": contest.scope,
        "teams": sorted(team_ids),
        "currency": contest.currency,
        "start": contest.starts_on.isoformat(),
        "end": contest.ends_on.isoformat(),
    }


def create_contest(
    session: Session, principal: Principal, data: ContestInput, *, now: datetime | None = None
) -> Contest:
    if not can_create(principal):
        raise Forbidden("Only admins and managers create contests.")
    v = _validate(session, principal, data, now=now or utcnow(), existing=None)
    contest = Contest(
        name=v.name,
        description=v.description,
        prize=v.prize,
        metric=v.metric,
        mode=v.mode,
        scope=v.scope,
        currency=v.currency,
        starts_on=v.starts_on,
        ends_on=v.ends_on,
        created_by_id=principal.person_id,
    )
    session.add(contest)
    session.flush()
    for team_id in sorted(v.team_ids):
        session.add(ContestTeam(contest_id=stored_id(contest), team_id=team_id))
    session.flush()
    record_event(session, principal, "contest.create", "contest", contest.id, _snapshot(contest, v.team_ids))
    return contest


def update_contest(
    session: Session, principal: Principal, contest: Contest, data: ContestInput, *, now: datetime | None = None
) -> Contest:
    """Everything before the start; after it only name and description; after the end nothing."""
    now = now or utcnow()
    current = state(contest, now)
    if current == "cancelled":
        raise Conflict("status", "the contest was cancelled: it can no longer be changed")
    if current in ("ended", "final"):
        raise Conflict("status", f"the contest ended on {contest.ends_on.isoformat()}: its record is final")
    if not can_edit(session, principal, contest):
        raise Forbidden("Only admins, and managers of every team taking part, edit this contest.")
    team_ids = contest_team_ids(session, stored_id(contest))
    v = _validate(session, principal, data, now=now, existing=contest)
    before = _snapshot(contest, team_ids)
    if is_locked(contest, now):
        proposed = {
            "metric": v.metric,
            "mode": v.mode,
            "scope": v.scope,
            "teams": sorted(v.team_ids),
            "currency": v.currency,
            "start": v.starts_on.isoformat(),
            "end": v.ends_on.isoformat(),
            "prize": v.prize,
        }
        for key, words in LOCKED.items():
            if proposed[key] != before[key]:
                raise Conflict(
                    key,
                    f"the contest started on {contest.starts_on.isoformat()}: its {words} can no "
                    "longer be changed (only the name and description can)",
                )
    contest.name, contest.description, contest.prize = v.name, v.description, v.prize
    contest.metric, contest.mode, contest.scope, contest.currency = v.metric, v.mode, v.scope, v.currency
    contest.starts_on, contest.ends_on = v.starts_on, v.ends_on
    if set(v.team_ids) != team_ids:
        for row in session.exec(select(ContestTeam).where(ContestTeam.contest_id == contest.id)):
            session.delete(row)
        session.flush()
        for team_id in sorted(v.team_ids):
            session.add(ContestTeam(contest_id=stored_id(contest), team_id=team_id))
    after = _snapshot(contest, v.team_ids)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        contest.updated_at = utcnow()
        session.add(contest)
        record_event(session, principal, "contest.update", "contest", contest.id, {"changes": changes})
    session.flush()
    return contest


def cancel_contest(session: Session, principal: Principal, contest: Contest, *, now: datetime | None = None) -> Contest:
    """Only before the start: once people compete for a prize, it is not taken away."""
    now = now or utcnow()
    if not can_edit(session, principal, contest):
        raise Forbidden("Only admins, and managers of every team taking part, cancel this contest.")
    current = state(contest, now)
    if current != "scheduled":
        raise Conflict(
            "status", f"only an upcoming contest can be cancelled; this one is {STATE_LABELS[current].lower()}"
        )
    contest.status = "cancelled"
    contest.updated_at = utcnow()
    session.add(contest)
    session.flush()
    record_event(session, principal, "contest.cancel", "contest", contest.id, {"name": contest.name})
    return contest
