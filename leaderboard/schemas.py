"""The leaderboard's JSON API shapes (docs/api.md): never earnings."""

from __future__ import annotations

from pydantic import BaseModel


class EntryOut(BaseModel):
    person: str  # email
    name: str
    team: str
    rank: int
    attainment: str | None  # ratio, four places: "1.0500" is 105 %
    credited: str  # plan-credited bookings / sourced revenue (currency units) or deals
    badges: list[str]
    movement: int | None  # places climbed since yesterday (company and marketing views by attainment)
    # the figure the board ranks by (``metric``): the attainment ratio, the credited amount, deals with two places
    # (split shares pro rata), MQLs or SQLs, pipeline in currency units; None when it does not apply to the person
    value: str | None = None


class LeaderboardOut(BaseModel):
    period: str
    view: str
    metric: str
    team: int | None
    entries: list[EntryOut]
    next_cursor: str | None = None  # paged (``limit``/``cursor``): the next entries, None on the last page


class ContestEntryOut(BaseModel):
    rank: int
    name: str  # a person's or a team's name
    person: str | None  # email (individual mode)
    team: str  # the person's team, or the team itself
    value: str  # currency units ("1234.50") or deals ("2.50"); never earnings
    winner: bool


class ContestSummaryOut(BaseModel):
    id: int
    name: str
    prize: str
    metric: str
    mode: str
    participants: str  # everyone | teams
    teams: list[str]
    currency: str
    starts_on: str
    ends_on: str
    starts_at: str  # ISO 8601, UTC
    ends_at: str
    state: str  # scheduled | running | ended | cancelled
    results_recorded: bool
    winners: list[str]


class ContestOut(ContestSummaryOut):
    description: str
    entries: list[ContestEntryOut]


class ContestListOut(BaseModel):
    contests: list[ContestSummaryOut]
