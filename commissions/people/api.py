"""``GET``/``PUT /api/v1/people`` and ``GET``/``PUT /api/v1/teams``: an HR system or identity provider keeps
people and teams in sync (api.md, "Integration resources"; docs/integrations.md). Admins only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter
from litestar.response import Response
from pydantic import BaseModel

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins
from commissions.core.integration_api import after_id, validate_items
from commissions.core.paging import MAX_PAGE, id_cursor, next_link, paging_headers
from commissions.core.upserts import ItemProblem, UpsertRefused, check_size
from commissions.people.queries import PERSON_CURSOR, TEAM_CURSOR, people_page, teams_page
from commissions.people.schemas import (
    ANA,
    ERIN,
    REFUSAL_EXAMPLE,
    REPORT_EXAMPLE,
    SALES_EAST,
    TEAMS_REPORT_EXAMPLE,
    PeopleReport,
    PersonIn,
    PersonList,
    PersonOut,
    Refusal,
    TeamIn,
    TeamList,
    TeamOut,
    TeamsReport,
)
from commissions.people.sync import put_people, put_teams

Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"rows per page (1-{MAX_PAGE})")]
Cursor = Annotated[str | None, Parameter(description="`next_cursor` of the previous page (opaque)")]

REFUSED = {
    400: ResponseSpec(
        Refusal,
        description="a bad item refuses them all: nothing was written; `extra.errors` names each problem "
        "(index, field, message)",
        examples=[Example(summary="an unknown manager", value=REFUSAL_EXAMPLE)],
    )
}


def _answer(model: type[Any], description: str, value: Any) -> dict[int, ResponseSpec]:
    """The 200 answer of a PUT described with an example (Litestar leaves a model's own examples out; a GET's
    items carry theirs per field, and an own 200 would drop its paging headers)."""
    return {200: ResponseSpec(model, description=description, examples=[Example(summary="an example", value=value)])}


def _paged(request: Request[Any, Any, Any], out: Any, following: str | None, query: dict[str, str | None]) -> Any:
    headers = {}
    if following:
        headers = {"Link": next_link(request.url.path, query, following), "X-Next-Cursor": following}
    return Response(out, headers=headers)


def given_fields(model: type[BaseModel], raw: Sequence[Any]) -> tuple[list[dict[str, Any] | None], list[ItemProblem]]:
    """Each item's fields as given (left-out ones absent, nulls kept: a PATCH-like upsert), and the problems."""
    items, problems = validate_items(model, raw)
    return [item.model_dump(exclude_unset=True) if item is not None else None for item in items], problems


class PeopleApiController(Controller):
    path = "/api/v1/people"
    guards = [admins]
    tags = ["people"]

    @get(
        "/",
        sync_to_thread=True,
        summary="People, by id (paged; admin)",
        description="Each person with exactly the fields `PUT /api/v1/people` takes, so a page sent back changes "
        'nothing. `next_cursor` (also in a `Link: <...>; rel="next"` header and `X-Next-Cursor`) gives the next '
        "page until it is null. `team`, `active` and `q` narrow the list.",
        response_headers=paging_headers("people"),
    )
    def list_people(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        limit: Limit = 100,
        cursor: Cursor = None,
        team: Annotated[str | None, Parameter(description="only this team's members (its name)")] = None,
        active: Annotated[
            bool | None, Parameter(description="only active (true) or deactivated (false) people")
        ] = None,
        q: Annotated[str | None, Parameter(description="part of the name or email, any case", max_length=200)] = None,
    ) -> Response[PersonList]:
        after = after_id(PERSON_CURSOR, cursor)
        rows = people_page(db, after=after, limit=limit + 1, team=team, active=active, q=q)
        following = id_cursor(PERSON_CURSOR, rows[limit - 1].id) if len(rows) > limit else None
        out = PersonList(items=[PersonOut.of(row) for row in rows[:limit]], next_cursor=following)
        query = {"limit": str(limit), "team": team, "active": None if active is None else str(active).lower(), "q": q}
        return _paged(request, out, following, query)  # type: ignore[no-any-return]

    @put(
        "/",
        sync_to_thread=True,
        status_code=200,
        summary="Create or update people by email (all or nothing; admin)",
        description="An idempotent upsert: each item is created, updated or left unchanged, and the same list "
        "twice changes nothing (`changed: false`). A field left out keeps its stored value; `null` clears "
        "team, manager, employee_id or locale. A manager may come later in the list than their reports. "
        "`active: false` deactivates (every session ends, tokens are revoked, pay history stays). A change of "
        "manager, team or active state marks the statements it moves for recalculation. New people have no "
        "password: send them a reset link from the people page. Teams must exist (`PUT /api/v1/teams`).",
        responses=_answer(PeopleReport, "what happened to each person", REPORT_EXAMPLE) | REFUSED,
    )
    def put_people_api(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: Annotated[
            list[Any],
            Body(
                description="people to create or update, at most 5,000",
                examples=[
                    Example(summary="a manager after their report", value=[ANA, ERIN]),
                    Example(summary="deactivate someone", value=[{"email": "bo@example.com", "active": False}]),
                ],
                schema_extra={"items": PersonIn.model_json_schema()},
            ),
        ],
    ) -> PeopleReport:
        check_size(data)
        try:
            items, problems = given_fields(PersonIn, data)
            report = put_people(request.app.state["engine"], items, by=principal, refused=problems)
        except UpsertRefused as exc:
            raise exc.as_http() from None
        return PeopleReport.model_validate(report.model_dump())


class TeamsApiController(Controller):
    path = "/api/v1/teams"
    guards = [admins]
    tags = ["teams"]

    @get(
        "/",
        sync_to_thread=True,
        summary="Teams, by id (paged; admin)",
        description="Each team with exactly the fields `PUT /api/v1/teams` takes. `next_cursor` (also in a "
        '`Link: <...>; rel="next"` header and `X-Next-Cursor`) gives the next page until it is null.',
        response_headers=paging_headers("teams"),
    )
    def list_teams(
        self, request: Request[Any, Any, Any], db: DbSession, limit: Limit = 100, cursor: Cursor = None
    ) -> Response[TeamList]:
        after = after_id(TEAM_CURSOR, cursor)
        rows = teams_page(db, after=after, limit=limit + 1)
        following = id_cursor(TEAM_CURSOR, rows[limit - 1].id) if len(rows) > limit else None
        out = TeamList(items=[TeamOut.of(row) for row in rows[:limit]], next_cursor=following)
        return _paged(request, out, following, {"limit": str(limit)})  # type: ignore[no-any-return]

    @put(
        "/",
        sync_to_thread=True,
        status_code=200,
        summary="Create or update teams by name (all or nothing; admin)",
        description="An idempotent upsert: the same list twice changes nothing (`changed: false`). A field left "
        "out keeps its stored value (a new team: kind sales, no manager); `manager: null` clears it. The "
        "manager must be a stored person: create teams first, then people (`PUT /api/v1/people`), then send "
        "the teams again with their managers. A team's kind or manager moves no pay, so no statement is "
        "recalculated. Teams are never deleted or renamed here (a new name is a new team).",
        responses=_answer(TeamsReport, "what happened to each team", TEAMS_REPORT_EXAMPLE) | REFUSED,
    )
    def put_teams_api(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: Annotated[
            list[Any],
            Body(
                description="teams to create or update, at most 5,000",
                examples=[Example(summary="a sales team and its manager", value=[SALES_EAST])],
                schema_extra={"items": TeamIn.model_json_schema()},
            ),
        ],
    ) -> TeamsReport:
        check_size(data)
        try:
            items, problems = given_fields(TeamIn, data)
            report = put_teams(request.app.state["engine"], items, by=principal, refused=problems)
        except UpsertRefused as exc:
            raise exc.as_http() from None
        return TeamsReport.model_validate(report.model_dump())
