"""Contest pages (list, board, create/edit forms, cancel) and the contests JSON API.

Everyone signed in reads the contests they take part in and the company-wide ones; admins and
managers create and edit (a manager only for their own teams). Rules: ``leaderboard.contests``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session, select

from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import any_role, managers
from commissions.core.principal import Principal
from commissions.core.rendering import page, page_or_partial
from commissions.models import Team
from commissions.models.base import utcnow
from leaderboard.contests import (
    METRIC_LABELS,
    MODE_LABELS,
    SCOPE_LABELS,
    STATE_LABELS,
    ContestInput,
    Standings,
    can_create,
    can_edit,
    cancel_contest,
    contest_team_ids,
    create_contest,
    editable_contest,
    ends_at,
    ensure_recorded,
    is_locked,
    manager_team_ids,
    standings,
    starts_at,
    state,
    time_left,
    update_contest,
    value_text,
    visible_contest,
    visible_contests,
)
from leaderboard.models import Contest, ContestResult

BASE = "/leaderboard/contests"
LABELS = {"metrics": METRIC_LABELS, "modes": MODE_LABELS, "scopes": SCOPE_LABELS, "states": STATE_LABELS}


def _is_htmx(request: Request) -> bool:
    return bool(getattr(request, "htmx", False))


def _record_due(request: Request, db: Session, contests: list[Contest], now: datetime) -> bool:
    """The lazy trigger: record the results of contests that ended; True if the caller must re-read."""
    due = [c for c in contests if state(c, now) == "ended"]
    for contest in due:
        ensure_recorded(request.app.state["engine"], contest, now=now)
    if due:
        db.rollback()  # a fresh read: see the results just stored
    return bool(due)


def _team_choices(db: Session, principal: Principal) -> list[Team]:
    query = select(Team).order_by(Team.name)
    if principal.role != "admin":
        query = query.where(Team.id.in_(manager_team_ids(db, principal) or {-1}))
    return list(db.exec(query))


def _form_context(
    db: Session,
    principal: Principal,
    form: ContestInput,
    error: dict[str, str] | None,
    *,
    contest: Contest | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "contest": contest,
        "form": form,
        "error": error,
        "teams": _team_choices(db, principal),
        "locked": contest is not None and is_locked(contest, now),
        "state": state(contest, now) if contest else None,
        **LABELS,
    }


def _form_answer(request: Request, context: dict[str, Any], status_code: int) -> Template:
    if _is_htmx(request):  # htmx 2 swaps only 2xx: the form comes back with its error
        return page("partials/leaderboard/contests/form.html", context)
    return page("pages/leaderboard/contests/form.html", context, status_code=status_code)


def _error(exc: InputProblem) -> dict[str, str]:
    return {"field": exc.field, "message": exc.message}


def _done(request: Request, url: str) -> Redirect | ClientRedirect:
    return ClientRedirect(url) if _is_htmx(request) else Redirect(url, status_code=303)


def _contest_and_standings(request: Request, db: Session, principal: Principal, contest_id: int, now: datetime):  # type: ignore[no-untyped-def]
    """A contest the caller may see (404 otherwise), its results recorded first if it just ended."""
    contest = visible_contest(db, principal, contest_id)
    if contest is None:
        raise NotFoundException("No such contest.")
    if _record_due(request, db, [contest], now):
        contest = visible_contest(db, principal, contest_id)
        assert contest is not None
    return contest, standings(db, contest, now=now, viewer=principal)


class ContestsController(Controller):
    path = BASE
    guards = [any_role]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def list_page(self, request: Request, db: DbSession, principal: CurrentPrincipal) -> Template:
        now = utcnow()
        contests = visible_contests(db, principal)
        if _record_due(request, db, contests, now):
            contests = visible_contests(db, principal)
        winners: dict[int, list[ContestResult]] = {}
        ended_ids = [c.id for c in contests if state(c, now) == "final"]
        if ended_ids:
            for row in db.exec(
                select(ContestResult)
                .where(ContestResult.contest_id.in_(ended_ids), ContestResult.winner)
                .order_by(ContestResult.contest_id, ContestResult.position)
            ):
                winners.setdefault(row.contest_id, []).append(row)
        groups: dict[str, list[Contest]] = {"running": [], "scheduled": [], "final": [], "cancelled": []}
        for contest in contests:  # an ended contest whose results another process is storing shows as ended
            current = state(contest, now)
            groups["final" if current == "ended" else current].append(contest)
        groups["scheduled"].sort(key=lambda c: (c.starts_on, c.id))
        return page(
            "pages/leaderboard/contests/list.html",
            {
                "groups": groups,
                "winners": winners,
                "now": now,
                "time_left": time_left,
                "can_create": can_create(principal),
                "starts_at": starts_at,
                "ends_at": ends_at,
                "value_text": value_text,
                **LABELS,
            },
        )

    @get("/{contest_id:int}", sync_to_thread=True)
    def board_page(
        self, request: Request, db: DbSession, principal: CurrentPrincipal, contest_id: FromPath[int]
    ) -> Template:
        now = utcnow()
        contest, result = _contest_and_standings(request, db, principal, contest_id, now)
        context = {
            "s": result,
            "contest": contest,
            "now": now,
            "time_left": time_left(contest, now),
            "starts_at": starts_at(contest),
            "ends_at": ends_at(contest),
            "can_edit": can_edit(db, principal, contest),
            "team_names": _team_names(db, result.team_ids),
            **LABELS,
        }
        return page_or_partial(
            request, "pages/leaderboard/contests/board.html", "partials/leaderboard/contests/board.html", context
        )

    @get("/new", sync_to_thread=True, guards=[managers])
    def new_page(self, db: DbSession, principal: CurrentPrincipal) -> Template:
        now = utcnow()
        form = ContestInput(
            start=now.date().isoformat(),
            end=now.date().isoformat(),
            scope="teams" if principal.role == "manager" else "everyone",
        )
        return page(
            "pages/leaderboard/contests/form.html", _form_context(db, principal, form, None, contest=None, now=now)
        )

    @post("/", sync_to_thread=True, status_code=200, guards=[managers])
    def create(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect | ClientRedirect:
        now = utcnow()
        form = ContestInput.from_form(data)
        try:
            with transaction(request.app.state["engine"]) as session:
                contest_id = create_contest(session, principal, form, now=now).id
        except InputProblem as exc:
            return _form_answer(
                request, _form_context(db, principal, form, _error(exc), contest=None, now=now), exc.status_code
            )
        return _done(request, f"{BASE}/{contest_id}")

    @get("/{contest_id:int}/edit", sync_to_thread=True, guards=[managers])
    def edit_page(self, db: DbSession, principal: CurrentPrincipal, contest_id: FromPath[int]) -> Template:
        now = utcnow()
        contest = editable_contest(db, principal, contest_id)
        if contest is None:
            raise NotFoundException("No such contest.")
        form = ContestInput.from_contest(contest, contest_team_ids(db, contest.id))
        return page(
            "pages/leaderboard/contests/form.html", _form_context(db, principal, form, None, contest=contest, now=now)
        )

    @post("/{contest_id:int}", sync_to_thread=True, status_code=200, guards=[managers])
    def update(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        contest_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect | ClientRedirect:
        now = utcnow()
        contest = editable_contest(db, principal, contest_id)
        if contest is None:
            raise NotFoundException("No such contest.")
        # a locked form sends only name and description: the other fields keep their stored values
        # (an open form sends every field; no ticked team there means none)
        stored = ContestInput.from_contest(contest, contest_team_ids(db, contest.id))
        form = ContestInput.from_form(data, defaults=stored if is_locked(contest, now) else None)
        try:
            with transaction(request.app.state["engine"]) as session:
                fresh = editable_contest(session, principal, contest_id)
                if fresh is None:
                    raise NotFoundException("No such contest.")
                update_contest(session, principal, fresh, form, now=now)
        except InputProblem as exc:
            return _form_answer(
                request, _form_context(db, principal, form, _error(exc), contest=contest, now=now), exc.status_code
            )
        return _done(request, f"{BASE}/{contest_id}")

    @post("/{contest_id:int}/cancel", sync_to_thread=True, status_code=200, guards=[managers])
    def cancel(
        self, request: Request, db: DbSession, principal: CurrentPrincipal, contest_id: FromPath[int]
    ) -> Template | Redirect | ClientRedirect:
        now = utcnow()
        contest = editable_contest(db, principal, contest_id)
        if contest is None:
            raise NotFoundException("No such contest.")
        try:
            with transaction(request.app.state["engine"]) as session:
                fresh = editable_contest(session, principal, contest_id)
                if fresh is None:
                    raise NotFoundException("No such contest.")
                cancel_contest(session, principal, fresh, now=now)
        except InputProblem as exc:
            form = ContestInput.from_contest(contest, contest_team_ids(db, contest.id))
            return _form_answer(
                request, _form_context(db, principal, form, _error(exc), contest=contest, now=now), exc.status_code
            )
        return _done(request, BASE)


def _team_names(db: Session, team_ids: set[int]) -> list[str]:
    if not team_ids:
        return []
    return list(db.exec(select(Team.name).where(Team.id.in_(team_ids)).order_by(Team.name)))


# --- API --------------------------------------------------------------------------------------------------


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
    def contests_api(self, request: Request, db: DbSession, principal: CurrentPrincipal) -> ContestListOut:
        now = utcnow()
        contests = visible_contests(db, principal)
        if _record_due(request, db, contests, now):
            contests = visible_contests(db, principal)
        out = []
        for contest in contests:
            winners = (
                [r.name for r in standings(db, contest, now=now).winners] if state(contest, now) == "final" else []
            )
            out.append(
                ContestSummaryOut(**_summary(contest, now, winners, _team_names(db, contest_team_ids(db, contest.id))))
            )
        return ContestListOut(contests=out)

    @get("/{contest_id:int}", sync_to_thread=True, summary="One contest with its standings (no earnings)")
    def contest_api(
        self, request: Request, db: DbSession, principal: CurrentPrincipal, contest_id: FromPath[int]
    ) -> ContestOut:
        now = utcnow()
        contest, result = _contest_and_standings(request, db, principal, contest_id, now)
        return ContestOut(
            **_summary(contest, now, [r.name for r in result.winners], _team_names(db, result.team_ids)),
            description=contest.description,
            entries=_entries(result),
        )
