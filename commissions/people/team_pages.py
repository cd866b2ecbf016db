"""The admin's team pages: every team with its manager and members, a page per team, and a form to add one.

``PUT /api/v1/teams`` is the same for machines (an HR system); the pages add renaming, which the API cannot do
(the name is its key). Neither moves pay: team credit and overrides follow people's manager chains.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins
from commissions.core.rendering import page
from commissions.models.base import TEAM_KINDS
from commissions.people.queries import deleted_team_name, team_facts, team_summaries
from commissions.people.service import PersonError, create_team, delete_team, edit_team

#: Members listed on a team's page; the people list (filtered by the team) shows everyone.
MEMBERS_SHOWN = 100


def _form(data: dict[str, str]) -> dict[str, str]:
    return {key: data.get(key, "").strip() for key in ("name", "kind", "manager")}


def _list_page(db: DbSession, *, q: str = "", status_code: int = 200, **extra: Any) -> Template:
    teams = team_summaries(db)
    words = q.casefold().split()
    shown = [t for t in teams if all(w in f"{t.name} {t.manager_name or ''}".casefold() for w in words)]
    context = {"teams": shown, "total": len(teams), "q": q, "kinds": TEAM_KINDS, **extra}
    context.setdefault("form", {"name": "", "kind": "sales", "manager": ""})
    return page("pages/people/admin_teams.html", context, status_code=status_code)


def _team_page(db: DbSession, team_id: int, *, status_code: int = 200, **extra: Any) -> Template:
    facts = team_facts(db, team_id, limit=MEMBERS_SHOWN)
    if facts is None:
        raise NotFoundException("No such team.")
    context = {"facts": facts, "t": facts.team, "kinds": TEAM_KINDS, **extra}
    return page("pages/people/admin_team.html", context, status_code=status_code)


class AdminTeamsController(Controller):
    path = "/admin/teams"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def teams_page(self, db: DbSession, q: FromQuery[str] = "", deleted: FromQuery[str] = "") -> Template:
        name = deleted_team_name(db, int(deleted)) if deleted.isascii() and deleted.isdigit() else None
        return _list_page(db, q=q.strip()[:200], deleted=name)

    @get("/{team_id:int}", sync_to_thread=True)
    def team_page(self, db: DbSession, team_id: FromPath[int], saved: FromQuery[str] = "") -> Template:
        return _team_page(db, team_id, saved=saved in ("1", "0") and saved)

    @post("/", sync_to_thread=True, status_code=200)
    def add_team(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        form = _form(data)
        try:
            team_id = create_team(
                request.app.state["engine"],
                name=form["name"],
                kind=form["kind"],
                manager_email=form["manager"],
                by=principal,
            )
        except PersonError as exc:
            error = {"field": exc.field, "message": exc.message}
            return _list_page(db, status_code=400, form=form, error=error)
        return Redirect(f"/admin/teams/{team_id}?saved=1", status_code=303)

    @post("/{team_id:int}", sync_to_thread=True, status_code=200)
    def save_team(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        team_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Name, kind and manager at once (the form shows all three as they stand)."""
        form = _form(data)
        try:
            changed = edit_team(
                request.app.state["engine"],
                team_id,
                name=form["name"],
                kind=form["kind"],
                manager_email=form["manager"],
                by=principal,
            )
        except PersonError as exc:
            return _team_page(
                db, team_id, status_code=400, form=form, error={"field": exc.field, "message": exc.message}
            )
        if changed is None:
            raise NotFoundException("No such team.")
        return Redirect(f"/admin/teams/{team_id}?saved={'1' if changed else '0'}", status_code=303)

    @post("/{team_id:int}/delete", sync_to_thread=True, status_code=200)
    def remove_team(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        team_id: FromPath[int],
    ) -> Template | Redirect:
        """A team nobody is on, without targets or teams under it (a typo in a Move form makes one)."""
        try:
            name = delete_team(request.app.state["engine"], team_id, by=principal)
        except PersonError as exc:
            return _team_page(db, team_id, status_code=400, delete_error=exc.message)
        if name is None:
            raise NotFoundException("No such team.")
        return Redirect(f"/admin/teams?deleted={team_id}", status_code=303)
