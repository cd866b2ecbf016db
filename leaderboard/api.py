"""The leaderboard's JSON API: the ranked board and the contests (``/api/v1/...``; docs/api.md). Never earnings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Response

from commissions.calculation.rows import stored_id
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.formatting import format_ratio
from commissions.core.guards import any_role
from commissions.core.paging import MAX_PAGE, BadCursor, cursor_parts, make_cursor, next_link, paging_headers
from commissions.models.base import utcnow
from leaderboard.boards import read_board, team_given
from leaderboard.contests.results import visible_contest_recorded, visible_contests_recorded
from leaderboard.contests.rules import contest_team_ids, ends_at, starts_at, state
from leaderboard.contests.standings import Standings, standings, value_text
from leaderboard.models import Contest
from leaderboard.queries import team_names
from leaderboard.ranking import DEFAULT_METRIC
from leaderboard.schemas import (
    ContestEntryOut,
    ContestListOut,
    ContestOut,
    ContestSummaryOut,
    EntryOut,
    LeaderboardOut,
)
from leaderboard.service import LEAD_METRICS, Entry


class LeaderboardApiController(Controller):
    guards = [any_role]
    tags = ["leaderboard"]

    @get(
        "/api/v1/leaderboard",
        sync_to_thread=True,
        summary="Ranked entries of a period (any signed-in role)",
        description=(
            "Without `limit` and `cursor` every entry comes at once. With either, the entries come a page at "
            'a time in rank order, and `next_cursor` (also in a `Link: <...>; rel="next"` header and '
            "`X-Next-Cursor`) gives the next page until it is null."
        ),
        response_headers=paging_headers("entries"),
    )
    def leaderboard_api(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        metric: FromQuery[str] = DEFAULT_METRIC,
        team: FromQuery[str | None] = None,
        view: FromQuery[str | None] = None,
        limit: Annotated[
            int | None,
            Parameter(ge=1, le=MAX_PAGE, description=f"entries per page (1-{MAX_PAGE}); without it and `cursor`, all"),
        ] = None,
        cursor: Annotated[
            str | None, Parameter(description="`next_cursor` of the previous page (opaque; keyset on rank and person)")
        ] = None,
    ) -> Response[LeaderboardOut]:
        chosen = view or ("team" if team_given(team) else "company")
        after = _read_entry_cursor(cursor) if cursor else None
        result = read_board(
            request.app.state["engine"], db, principal, period=period, view=chosen, metric=metric, team_text=team
        )
        rows = list(result.rows)
        following: str | None = None
        if limit is not None or cursor is not None:
            rows.sort(key=lambda e: (e.rank, e.email))  # ties in one order, so a page never repeats an entry
            if after is not None:  # the entries after the cursor's (rank, person), in the board's order
                rows = [e for e in rows if (e.rank, e.email) > after]
            size = limit or MAX_PAGE
            if len(rows) > size:
                rows = rows[:size]
                following = make_cursor(ENTRY_CURSOR, str(rows[-1].rank), rows[-1].email)
        out = LeaderboardOut(
            period=result.period.key,
            view=result.view,
            metric=result.metric,
            team=result.team.id if result.team else None,
            entries=[
                EntryOut(
                    person=e.email,
                    name=e.name,
                    team=e.team_name,
                    rank=e.rank,
                    attainment=format_ratio(e.attainment_ppm),  # half-up, as every page shows it
                    credited=str(e.credited),
                    badges=list(e.badges),
                    movement=e.movement,
                    value=ranked_value(e, result.metric),
                )
                for e in rows
            ],
            next_cursor=following,
        )
        headers: dict[str, str] = {}
        if following is not None:
            query = {
                "period": period,
                "metric": metric,
                "team": team,
                "view": view,
                "limit": str(limit) if limit else None,
            }
            headers = {"Link": next_link(request.url.path, query, following), "X-Next-Cursor": following}
        return Response(out, headers=headers)


ENTRY_CURSOR = "board"  # the tag of the leaderboard's cursors (commissions.core.paging)


def ranked_value(entry: Entry, metric: str) -> str | None:
    """What ``entry`` is ranked by on a board of ``metric``, as text (``EntryOut.value``)."""
    if metric == "attainment":
        return format_ratio(entry.attainment_ppm)
    value = entry.value(metric)
    if value is None:
        return None
    if metric == "deals" or metric in LEAD_METRICS:  # won deals (pro rata), MQLs, SQLs, pipeline: in units
        return str(Decimal(value).quantize(Decimal("0.01")))
    return str(entry.credited)  # bookings or sourced revenue as the plan credits them (``value`` is in minor units)


def _read_entry_cursor(text: str) -> tuple[int, str]:
    """(rank, person email) in a leaderboard cursor; a 400 naming ``cursor`` for anything else."""
    try:
        tag, rank, email = cursor_parts(text, 3)
        if tag != ENTRY_CURSOR or not rank.isdigit() or len(rank) > 9:
            raise BadCursor
    except BadCursor as exc:
        raise ValidationException(
            "cursor: not one this leaderboard handed out; start again without it", extra={"cursor": text[:100]}
        ) from exc
    return int(rank), email


def _summary(contest: Contest, now: datetime, winners: list[str], team_names: list[str]) -> dict[str, Any]:
    current = state(contest, now)
    return {
        "id": contest.id,
        "name": contest.name,
        "prize": contest.prize,
        "metric": contest.metric,
        "mode": contest.mode,
        "participants": contest.scope,
        "teams": team_names,
        "currency": contest.currency,
        "starts_on": contest.starts_on.isoformat(),
        "ends_on": contest.ends_on.isoformat(),
        "starts_at": starts_at(contest).isoformat(),
        "ends_at": ends_at(contest).isoformat(),
        "state": "ended" if current == "final" else current,
        "results_recorded": current == "final",
        "winners": winners,
    }


def _entries(result: Standings) -> list[ContestEntryOut]:
    return [
        ContestEntryOut(
            rank=r.rank,
            name=r.name,
            person=r.email or None,
            team=r.team_name,
            value=value_text(result.contest, r.value),
            winner=r.winner,
        )
        for r in result.rows
    ]


class ContestsApiController(Controller):
    path = "/api/v1/contests"
    guards = [any_role]
    tags = ["leaderboard"]

    @get("/", sync_to_thread=True, summary="Contests the caller may see (any signed-in role)")
    def contests_api(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal
    ) -> ContestListOut:
        now = utcnow()
        contests = visible_contests_recorded(request.app.state["engine"], db, principal, now=now)
        out = []
        for contest in contests:
            winners = (
                [r.name for r in standings(db, contest, now=now).winners] if state(contest, now) == "final" else []
            )
            out.append(
                ContestSummaryOut(
                    **_summary(contest, now, winners, team_names(db, contest_team_ids(db, stored_id(contest))))
                )
            )
        return ContestListOut(contests=out)

    @get("/{contest_id:int}", sync_to_thread=True, summary="One contest with its standings (no earnings)")
    def contest_api(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, contest_id: FromPath[int]
    ) -> ContestOut:
        now = utcnow()
        contest = visible_contest_recorded(request.app.state["engine"], db, principal, contest_id, now=now)
        if contest is None:
            raise NotFoundException("No such contest.")
        result = standings(db, contest, now=now, viewer=principal)
        return ContestOut(
            **_summary(contest, now, [r.name for r in result.winners], team_names(db, result.team_ids)),
            description=contest.description,
            entries=_entries(result),
        )
