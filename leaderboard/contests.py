"""Contests: time-boxed competitions on bookings, deals or sourced revenue, with their own board.

A contest runs over whole UTC days, ``starts_on`` to ``ends_on`` (both included): it starts
at 00:00 UTC of ``starts_on`` and ends at 00:00 UTC of the day after ``ends_on``. Deals carry
a close *date*, so a deal counts when ``starts_on <= closed_at <= ends_on``.

State is derived, never stored: cancelled (``status``), final (``closed_at``: the standings
were recorded), scheduled (before the start), running, ended (after the end, not yet
recorded).

Rules lock at the start: metric, mode, participants (scope and teams), window, currency and
prize can no longer change; name and description (typo fixes) stay editable until the end.
After the end nothing changes: the record is final. Only a scheduled contest can be cancelled.

Figures come from won deals in the window (cancelled ones drop out), credited as the rest of
the app credits deals: split holders by their share, else the owner; sourced revenue to the
owner of the deal's campaign. Never earnings: nothing here reads payouts or summaries.

Keyword-only service functions; the caller owns the transaction (``commissions.core.db.transaction``),
except ``ensure_recorded``, which opens its own short one (the lazy trigger of a read).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from commissions.core.audit import record_event
from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.money import format_money
from commissions.core.principal import Principal
from commissions.models import Campaign, Deal, DealSplit, Person, Team
from commissions.models.base import utcnow
from commissions.people.service import report_ids
from leaderboard.models import (
    CONTEST_METRICS,
    CONTEST_MODES,
    CONTEST_SCOPES,
    Contest,
    ContestResult,
    ContestTeam,
)
from leaderboard.ranking import competition_rank

METRIC_LABELS = {"bookings": "Bookings", "deals": "Deals", "sourced_revenue": "Sourced revenue"}
MODE_LABELS = {"individual": "Individuals", "team": "Teams"}
SCOPE_LABELS = {"everyone": "Everyone", "teams": "Chosen teams"}
STATE_LABELS = {
    "scheduled": "Upcoming",
    "running": "Running",
    "ended": "Ended",
    "final": "Ended",
    "cancelled": "Cancelled",
}
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


# --- time -------------------------------------------------------------------------------------------------


def starts_at(contest: Contest) -> datetime:
    return datetime.combine(contest.starts_on, time(), UTC)


def ends_at(contest: Contest) -> datetime:
    """The end instant: 00:00 UTC of the day after ``ends_on``."""
    return datetime.combine(contest.ends_on + timedelta(days=1), time(), UTC)


def state(contest: Contest, now: datetime) -> str:
    if contest.status == "cancelled":
        return "cancelled"
    if contest.closed_at is not None:
        return "final"
    if now < starts_at(contest):
        return "scheduled"
    if now < ends_at(contest):
        return "running"
    return "ended"


def is_locked(contest: Contest, now: datetime) -> bool:
    """The rules are fixed from the start instant on."""
    return now >= starts_at(contest)


def time_left(contest: Contest, now: datetime) -> str:
    """ "3 days 4 h", "2 h 5 min" or "4 min 9 s" until the start (scheduled) or the end (running);
    empty otherwise. leaderboard/static/countdown.js ticks the same text in the browser."""
    current = state(contest, now)
    if current not in ("scheduled", "running"):
        return ""
    delta = (starts_at(contest) if current == "scheduled" else ends_at(contest)) - now
    days, seconds = delta.days, delta.seconds
    hours, minutes, seconds = seconds // 3600, seconds % 3600 // 60, seconds % 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s"


# --- who ----------------------------------------------------------------------------------------------------


def can_create(principal: Principal) -> bool:
    return principal.role in ("admin", "manager")


def manager_team_ids(session: Session, principal: Principal) -> set[int]:
    """A manager's teams: their own and the teams of everyone in their reporting tree."""
    if principal.role != "manager" or principal.person_id is None:
        return set()
    people = {principal.person_id, *report_ids(session, principal.person_id)}
    return {t for t in session.exec(select(Person.team_id).where(Person.id.in_(people))) if t is not None}


def contest_team_ids(session: Session, contest_id: int) -> set[int]:
    return set(session.exec(select(ContestTeam.team_id).where(ContestTeam.contest_id == contest_id)))


def can_edit(session: Session, principal: Principal, contest: Contest) -> bool:
    """Admins edit every contest; a manager only a contest of chosen teams that are all theirs."""
    if principal.role == "admin":
        return True
    if principal.role != "manager" or contest.scope != "teams":
        return False
    teams = contest_team_ids(session, contest.id)
    return bool(teams) and teams <= manager_team_ids(session, principal)


def _viewer_team(session: Session, principal: Principal) -> int | None:
    if principal.person_id is None:
        return None
    return session.exec(select(Person.team_id).where(Person.id == principal.person_id)).first()


def can_see(session: Session, principal: Principal, contest: Contest) -> bool:
    """Company-wide contests: everyone; team contests: their teams, their managers, admins and finance."""
    if principal.role in ("admin", "finance") or contest.scope == "everyone":
        return True
    teams = contest_team_ids(session, contest.id)
    if _viewer_team(session, principal) in teams:
        return True
    return principal.role == "manager" and bool(teams & manager_team_ids(session, principal))


def visible_contests(session: Session, principal: Principal) -> list[Contest]:
    """Every contest the caller may see, newest start first."""
    contests = session.exec(select(Contest).order_by(Contest.starts_on.desc(), Contest.id.desc())).all()
    if principal.role in ("admin", "finance"):
        return list(contests)
    by_contest: dict[int, set[int]] = defaultdict(set)
    for cid, tid in session.exec(select(ContestTeam.contest_id, ContestTeam.team_id)):
        by_contest[cid].add(tid)
    mine = {_viewer_team(session, principal)} - {None}
    if principal.role == "manager":
        mine |= manager_team_ids(session, principal)
    return [c for c in contests if c.scope == "everyone" or by_contest.get(c.id, set()) & mine]


def visible_contest(session: Session, principal: Principal, contest_id: int) -> Contest | None:
    """The contest, or None if it does not exist or the caller may not see it (the same answer: 404)."""
    contest = session.get(Contest, contest_id)
    if contest is None or not can_see(session, principal, contest):
        return None
    return contest


def editable_contest(session: Session, principal: Principal, contest_id: int) -> Contest | None:
    """None when not visible (404); Forbidden when visible but not the caller's to edit (403)."""
    contest = visible_contest(session, principal, contest_id)
    if contest is None:
        return None
    if not can_edit(session, principal, contest):
        raise Forbidden("Only admins, and managers of every team taking part, edit this contest.")
    return contest


# --- input --------------------------------------------------------------------------------------------------


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
        known = set(session.exec(select(Team.id).where(Team.id.in_(team_ids))))
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
        session.add(ContestTeam(contest_id=contest.id, team_id=team_id))
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
    team_ids = contest_team_ids(session, contest.id)
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
            session.add(ContestTeam(contest_id=contest.id, team_id=team_id))
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


# --- standings ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    """One person (individual mode) or one team (team mode) on a contest board. No earnings."""

    rank: int
    name: str
    value: int  # minor units (bookings, sourced revenue) or hundredths of a deal
    person_id: int | None = None
    team_id: int | None = None
    team_name: str = ""
    email: str = ""
    winner: bool = False


@dataclass(slots=True)
class Standings:
    contest: Contest
    state: str
    rows: list[Row]
    recorded: bool  # read from the stored final standings
    viewer_id: int | None = None
    viewer_team_id: int | None = None
    team_ids: set[int] = field(default_factory=set)

    def is_viewer(self, row: Row) -> bool:
        if self.contest.mode == "team":
            return self.viewer_team_id is not None and row.team_id == self.viewer_team_id
        return self.viewer_id is not None and row.person_id == self.viewer_id

    @property
    def winners(self) -> list[Row]:
        return [r for r in self.rows if r.winner]

    def label(self, row: Row) -> str:
        return value_label(self.contest, row.value)


def value_label(contest: Contest, value: int) -> str:
    if contest.metric == "deals":
        count = (Decimal(value) / 100).normalize()
        return f"{count:f} deal{'' if count == 1 else 's'}"
    return format_money(value, contest.currency)


def value_text(contest: Contest, value: int) -> str:
    """The value as a plain decimal string for the API: "1234.50" (currency units) or "2.5" (deals)."""
    if contest.metric == "deals":
        return f"{(Decimal(value) / 100).quantize(Decimal('0.01'))}"
    return format_money(value, contest.currency).split(" ")[0].replace(",", "")


def _participants(
    session: Session, contest: Contest, team_ids: set[int]
) -> list[tuple[int, str, str, int | None, str]]:
    """(id, email, name, team id, team name) of the active reps taking part.

    Everyone: reps outside marketing teams for bookings and deals, reps in marketing teams for
    sourced revenue (like the main board's company and marketing views). Managers are left out,
    as on the main board.
    """
    query = (
        select(Person.id, Person.email, Person.name, Person.team_id, Team.name)
        .outerjoin(Team, Team.id == Person.team_id)
        .where(Person.active, Person.role == "rep")
    )
    if contest.scope == "teams":
        query = query.where(Person.team_id.in_(team_ids or {-1}))
    elif contest.metric == "sourced_revenue":
        query = query.where(Team.kind == "marketing")
    else:
        query = query.where(Team.kind.is_(None) | (Team.kind != "marketing"))
    return [(pid, email, name, tid, tname or "") for pid, email, name, tid, tname in session.exec(query)]


def contest_values(session: Session, contest: Contest, person_ids: set[int]) -> dict[int, int]:
    """Each person's figure from the won deals closed in the window (integers: minor units or hundredths)."""
    totals: dict[int, Decimal] = dict.fromkeys(person_ids, Decimal(0))
    if not person_ids:
        return {}
    window = (Deal.status == "won", Deal.closed_at >= contest.starts_on, Deal.closed_at <= contest.ends_on)
    money = contest.metric in ("bookings", "sourced_revenue")
    if money:
        window = (*window, Deal.currency == contest.currency)
    if contest.metric == "sourced_revenue":
        owners = dict(session.exec(select(Campaign.code, Campaign.owner_id)).all())
        for code, amount in session.exec(
            select(Deal.source_campaign, Deal.amount_minor).where(*window, Deal.source_campaign.is_not(None))
        ):
            owner = owners.get(code)
            if owner in totals:
                totals[owner] += amount
    else:
        split_deals: set[int] = set()
        for deal_id, person_id, amount, share_bp in session.exec(
            select(DealSplit.deal_id, DealSplit.person_id, Deal.amount_minor, DealSplit.share_bp)
            .join(Deal, Deal.id == DealSplit.deal_id)
            .where(*window)
        ):
            split_deals.add(deal_id)
            if person_id in totals:
                totals[person_id] += Decimal(amount) * share_bp / 10_000 if money else Decimal(share_bp) / 100
        for deal_id, owner_id, amount in session.exec(
            select(Deal.id, Deal.owner_id, Deal.amount_minor).where(*window, Deal.owner_id.in_(person_ids))
        ):
            if deal_id not in split_deals:
                totals[owner_id] += amount if money else 100
    return {pid: int(v.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) for pid, v in totals.items()}


def _mark_winners(rows: list[Row]) -> list[Row]:
    """Rank 1 wins, ties share the win; a top figure of zero wins nothing."""
    for row in rows:
        row.winner = row.rank == 1 and row.value > 0
    return rows


def live_rows(session: Session, contest: Contest, team_ids: set[int] | None = None) -> list[Row]:
    """The board as the deals stand now: competition ranking, the main board's tie rule."""
    if team_ids is None:
        team_ids = contest_team_ids(session, contest.id)
    people = _participants(session, contest, team_ids)
    values = contest_values(session, contest, {p[0] for p in people})
    if contest.mode == "individual":
        rows = [
            Row(0, name, values.get(pid, 0), person_id=pid, team_id=tid, team_name=tname, email=email)
            for pid, email, name, tid, tname in people
        ]
        key = lambda r: r.person_id  # noqa: E731
    else:
        teams: dict[int, Row] = {}
        if contest.scope == "teams":
            for tid, tname in session.exec(select(Team.id, Team.name).where(Team.id.in_(team_ids or {-1}))):
                teams[tid] = Row(0, tname, 0, team_id=tid, team_name=tname)
        for pid, _email, _name, tid, tname in people:
            if tid is None:
                continue
            row = teams.setdefault(tid, Row(0, tname, 0, team_id=tid, team_name=tname))
            row.value += values.get(pid, 0)
        rows = list(teams.values())
        key = lambda r: r.team_id  # noqa: E731
    ranked = competition_rank(rows, value=lambda r: r.value, name=lambda r: r.name, key=key)
    out = []
    for item in ranked:
        item.item.rank = item.rank
        out.append(item.item)
    return _mark_winners(out)


def recorded_rows(session: Session, contest: Contest) -> list[Row]:
    return [
        Row(r.rank, r.name, r.value, person_id=r.person_id, team_id=r.team_id, team_name=r.team_name, winner=r.winner)
        for r in session.exec(
            select(ContestResult).where(ContestResult.contest_id == contest.id).order_by(ContestResult.position)
        )
    ]


def standings(
    session: Session, contest: Contest, *, now: datetime | None = None, viewer: Principal | None = None
) -> Standings:
    """The stored final standings once recorded, else the live board (empty before the start)."""
    now = now or utcnow()
    current = state(contest, now)
    team_ids = contest_team_ids(session, contest.id)
    if current == "final":
        rows, recorded = recorded_rows(session, contest), True
    elif current in ("scheduled", "cancelled"):
        rows, recorded = [], False
    else:
        rows, recorded = live_rows(session, contest, team_ids), False
        for row in rows:  # leaders, not winners, until the results are recorded
            row.winner = False
    viewer_id = viewer.person_id if viewer else None
    viewer_team = _viewer_team(session, viewer) if viewer else None
    if recorded:  # emails for the API, looked up now (the names stay as recorded)
        emails = dict(
            session.exec(
                select(Person.id, Person.email).where(
                    Person.id.in_({r.person_id for r in rows if r.person_id is not None} or {-1})
                )
            ).all()
        )
        for row in rows:
            row.email = emails.get(row.person_id, "") if row.person_id is not None else ""
    return Standings(contest, current, rows, recorded, viewer_id, viewer_team, team_ids)


# --- winners: recorded once ---------------------------------------------------------------------------------


def record_results(session: Session, contest: Contest, *, now: datetime | None = None) -> bool:
    """Store the final standings and winners of an ended contest, once. Returns whether this call stored them.

    Idempotent: a recorded, running, scheduled or cancelled contest is left alone. The claim is
    an ``UPDATE ... WHERE closed_at IS NULL``, so of two racing processes one stores and the
    other finds nothing to claim (or, on SQLite, waits for the write lock and then does).
    Deals recorded later (a late CRM sync, a cancellation) do not change the stored record.
    """
    now = now or utcnow()
    if state(contest, now) != "ended":
        return False
    claimed = session.execute(
        update(Contest)
        .where(Contest.id == contest.id, Contest.closed_at.is_(None), Contest.status == "active")
        .values(closed_at=now)
    )
    if claimed.rowcount != 1:
        session.refresh(contest)
        return False
    rows = live_rows(session, contest)
    for position, row in enumerate(rows, start=1):
        session.add(
            ContestResult(
                contest_id=contest.id,
                position=position,
                rank=row.rank,
                person_id=row.person_id,
                team_id=row.team_id if contest.mode == "team" else None,
                name=row.name[:200],
                team_name=row.team_name[:120],
                value=row.value,
                winner=row.winner,
            )
        )
    session.flush()
    session.refresh(contest)
    record_event(
        session,
        None,
        "contest.results",
        "contest",
        contest.id,
        {"winners": [r.name for r in rows if r.winner], "entries": len(rows)},
    )
    return True


def record_ended(session: Session, *, now: datetime | None = None) -> list[Contest]:
    """Record every contest that has ended and is not recorded yet (``commissions contests close``)."""
    now = now or utcnow()
    due = session.exec(
        select(Contest)
        .where(Contest.status == "active", Contest.closed_at.is_(None), Contest.ends_on < now.date())
        .order_by(Contest.id)
    ).all()
    return [c for c in due if record_results(session, c, now=now)]


def ensure_recorded(engine: Any, contest: Contest, *, now: datetime | None = None) -> bool:
    """The lazy trigger: the first read after the end records the results, in its own short transaction."""
    from sqlalchemy import Engine

    from commissions.core.db import transaction

    now = now or utcnow()
    if state(contest, now) != "ended" or not isinstance(engine, Engine):
        return False
    try:
        with transaction(engine) as session:
            fresh = session.get(Contest, contest.id)
            return fresh is not None and record_results(session, fresh, now=now)
    except (IntegrityError, OperationalError):  # another process recorded it at the same moment
        return False
