"""The admin's people pages (the manager's team page is commissions.app.team: it shows pulse results too)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import select

from commissions.auth.passwords import WeakPasswordError
from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins
from commissions.core.rendering import page, page_or_partial
from commissions.models import Person, Team
from commissions.models.base import ROLES
from commissions.people.service import (
    PersonError,
    create_person,
    move_person,
    set_active,
)


class NewPersonForm(BaseModel):
    email: str = ""
    name: str = ""
    role: str = "rep"
    manager: str = ""
    team: str = ""
    employee_id: str = ""
    password: str = ""


def _people_context(db: DbSession, **extra: object) -> dict:
    people = db.exec(select(Person).order_by(Person.active.desc(), Person.name)).all()
    by_id = {p.id: p for p in people}
    teams = {t.id: t.name for t in db.exec(select(Team)).all()}
    return {"people": people, "by_id": by_id, "teams": teams, "roles": ROLES, **extra}


class AdminPeopleController(Controller):
    path = "/admin/people"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def people_page(self, db: DbSession, moved: FromQuery[str] = "") -> Template:
        return page(
            "pages/people/admin_list.html",
            _people_context(
                db, form=NewPersonForm(), error=None, moved=int(moved) if moved.isdigit() and len(moved) < 12 else None
            ),
        )

    @post("/", sync_to_thread=True, status_code=200)
    def add_person(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[NewPersonForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        engine = request.app.state["engine"]
        try:
            with transaction(engine) as session:
                create_person(
                    session,
                    email=data.email,
                    role=data.role,
                    name=data.name,
                    manager_email=data.manager or None,
                    team_name=data.team or None,
                    employee_id=data.employee_id or None,
                    password=data.password or None,
                    by=principal,
                )
        except (PersonError, WeakPasswordError) as exc:
            error = {"field": getattr(exc, "field", "password"), "message": getattr(exc, "message", str(exc))}
            context = _people_context(db, form=data.model_copy(update={"password": ""}), error=error)
            return page_or_partial(
                request,
                "pages/people/admin_list.html",
                "partials/people/new_person_form.html",
                context,
                status_code=200,
            )
        if getattr(request, "htmx", False):
            from litestar.plugins.htmx import ClientRedirect

            return ClientRedirect("/admin/people")  # type: ignore[return-value]
        return Redirect("/admin/people")

    @post("/{person_id:int}/active", sync_to_thread=True)
    def toggle_active(
        self,
        request: Request,
        principal: CurrentPrincipal,
        person_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        with transaction(request.app.state["engine"]) as session:
            person = session.get(Person, person_id)
            if person is None:
                raise NotFoundException("No such person.")
            if person.id == principal.person_id:
                raise ClientException("You cannot deactivate yourself.")
            set_active(session, person, data.get("active") == "1", by=principal)
        return Redirect("/admin/people")

    @post("/{person_id:int}/placement", sync_to_thread=True, status_code=200)
    def move(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        person_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Another manager or team: everyone above the person, before and after, is recomputed."""
        try:
            with transaction(request.app.state["engine"]) as session:
                person = session.get(Person, person_id)
                if person is None:
                    raise NotFoundException("No such person.")
                changed = move_person(
                    session, person, manager_email=data.get("manager", ""), team_name=data.get("team", ""), by=principal
                )
        except PersonError as exc:
            context = _people_context(
                db, form=NewPersonForm(), error=None, move_error={"person_id": person_id, "message": exc.message}
            )
            return page("pages/people/admin_list.html", context, status_code=200)
        return Redirect(f"/admin/people?moved={person_id if changed else ''}")
