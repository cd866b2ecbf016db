"""Contest standings: each participant's figure from won deals in the window, ranked; the live board or the
recorded one. Never earnings: nothing here reads payouts or summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlmodel import Session, col, select

from commissions.calculation.rows import id_col, stored_id
from commissions.core.formatting import format_measure
from commissions.core.money import format_money
from commissions.core.principal import Principal
from commissions.models import Campaign, Deal, DealSplit, Person, Team
from commissions.models.base import utcnow
from leaderboard.contests.rules import contest_team_ids, state, viewer_team_id
from leaderboard.models import Contest, ContestResult
from leaderboard.ranking import competition_rank


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
    return format_measure(value, contest.metric, contest.currency)  # "2.5 deals", "12,500.00 USD"


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
    participant_columns: tuple[Any, ...] = (
        Person.id,
        Person.email,
        Person.name,
        Person.team_id,
        Team.name,
    )
    query = (
        select(*participant_columns)
        .outerjoin(Team, col(Team.id) == Person.team_id)
        .where(Person.active, Person.role == "rep")
    )
    if contest.scope == "teams":
        query = query.where(col(Person.team_id).in_(team_ids or {-1}))
    elif contest.metric == "sourced_revenue":
        query = query.where(Team.kind == "marketing")
    else:
        query = query.where(col(Team.kind).is_(None) | (Team.kind != "marketing"))
    return [(pid, email, name, tid, tname or "") for pid, email, name, tid, tname in session.exec(query)]


def contest_values(session: Session, contest: Contest, person_ids: set[int]) -> dict[int, int]:
    """Each person's figure from the won deals closed in the window (integers: minor units or hundredths)."""
    totals: dict[int, Decimal] = dict.fromkeys(person_ids, Decimal(0))
    if not person_ids:
        return {}
    window: tuple[Any, ...] = (
        col(Deal.status) == "won",
        col(Deal.closed_at) >= contest.starts_on,
        Deal.closed_at <= contest.ends_on,
    )
    money = contest.metric in ("bookings", "sourced_revenue")
    if money:
        window = (*window, Deal.currency == contest.currency)
    if contest.metric == "sourced_revenue":
        owners = dict(session.exec(select(Campaign.code, Campaign.owner_id)).all())
        for code, amount in session.exec(
            select(Deal.source_campaign, Deal.amount_minor).where(*window, col(Deal.source_campaign).is_not(None))
        ):
            owner = owners.get(code) if code is not None else None  # the query leaves out deals without one
            if owner in totals:
                totals[owner] += amount
    else:
        split_deals: set[int] = set()
        for deal_id, person_id, amount, share_bp in session.exec(
            select(DealSplit.deal_id, DealSplit.person_id, Deal.amount_minor, DealSplit.share_bp)
            .join(Deal, col(Deal.id) == DealSplit.deal_id)
            .where(*window)
        ):
            split_deals.add(deal_id)
            if person_id in totals:
                totals[person_id] += Decimal(amount) * share_bp / 10_000 if money else Decimal(share_bp) / 100
        for deal_id, owner_id, amount in session.exec(
            select(id_col(Deal.id), Deal.owner_id, Deal.amount_minor).where(*window, col(Deal.owner_id).in_(person_ids))
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
        team_ids = contest_team_ids(session, stored_id(contest))
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
            for known_id, known_name in session.exec(
                select(id_col(Team.id), Team.name).where(col(Team.id).in_(team_ids or {-1}))
            ):
                teams[known_id] = Row(0, known_name, 0, team_id=known_id, team_name=known_name)
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
            select(ContestResult).where(ContestResult.contest_id == contest.id).order_by(col(ContestResult.position))
        )
    ]


def standings(
    session: Session, contest: Contest, *, now: datetime | None = None, viewer: Principal | None = None
) -> Standings:
    """The stored final standings once recorded, else the live board (empty before the start)."""
    now = now or utcnow()
    current = state(contest, now)
    team_ids = contest_team_ids(session, stored_id(contest))
    if current == "final":
        rows, recorded = recorded_rows(session, contest), True
    elif current in ("scheduled", "cancelled"):
        rows, recorded = [], False
    else:
        rows, recorded = live_rows(session, contest, team_ids), False
        for row in rows:  # leaders, not winners, until the results are recorded
            row.winner = False
    viewer_id = viewer.person_id if viewer else None
    viewer_team = viewer_team_id(session, viewer) if viewer else None
    if recorded:  # emails for the API, looked up now (the names stay as recorded)
        emails = dict(
            session.exec(
                select(Person.id, Person.email).where(
                    col(Person.id).in_({r.person_id for r in rows if r.person_id is not None} or {-1})
                )
            ).all()
        )
        for row in rows:
            row.email = emails.get(row.person_id, "") if row.person_id is not None else ""
    return Standings(contest, current, rows, recorded, viewer_id, viewer_team, team_ids)
