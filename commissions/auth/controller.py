"""Sign-in, sign-out and "who am I" for the API."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import Engine

from commissions.audit import record_event
from commissions.auth.guards import any_role
from commissions.auth.passwords import verify_password
from commissions.auth.principal import Principal
from commissions.auth.sessions import rotate_session
from commissions.db import transaction
from commissions.people.service import person_by_email
from commissions.web.dependencies import CurrentPrincipal
from commissions.web.rendering import page


class SignInForm(BaseModel):
    email: str = ""
    password: str = ""
    next: str = "/"


class Me(BaseModel):
    email: str | None
    name: str
    role: str
    via_token: bool


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _check_credentials(engine: Engine, email: str, password: str, ip: str) -> dict | None:
    with transaction(engine) as session:
        person = person_by_email(session, email)
        ok, new_hash = verify_password(password, person.password_hash if person else None)
        if person is None or not ok or not person.active:
            record_event(session, None, "auth.sign_in_failed", "person", person.id if person else "", {"email": email[:254]}, ip=ip)
            return None
        if new_hash:
            person.password_hash = new_hash
            session.add(person)
        actor = Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)
        record_event(session, actor, "auth.sign_in", "person", person.id, {}, ip=ip)
        return {"pid": person.id, "sv": person.session_version}


class AuthController(Controller):
    tags = ["auth"]

    @get("/login", include_in_schema=False)
    async def login_form(self, request: Request, next: FromQuery[str] = "/") -> Template | Redirect:
        if request.scope.get("user") is not None:
            return Redirect(safe_next(next))
        return page("pages/auth/login.html", {"next": safe_next(next), "email": "", "error": None})

    @post("/login", include_in_schema=False)
    async def login(
        self, request: Request, data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> Template | Redirect:
        from anyio import to_thread

        ip = request.client.host if request.client else ""
        session_data = await to_thread.run_sync(
            _check_credentials, request.app.state["engine"], data.email.strip().lower(), data.password, ip
        )
        if session_data is None:
            context = {"next": safe_next(data.next), "email": data.email, "error": "Email or password is wrong."}
            return page("pages/auth/login.html", context, status_code=401)
        await rotate_session(request, session_data)
        return Redirect(safe_next(data.next))

    @post("/logout", include_in_schema=False)
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect("/login")

    @get("/api/v1/me", guards=[any_role], sync_to_thread=False, summary="The caller: person and role")
    def me(self, principal: CurrentPrincipal) -> Me:
        return Me(email=principal.email, name=principal.name, role=principal.role, via_token=principal.via_token)
