"""Admin pages for API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import select

from commissions.auth.middleware import forget_tokens
from commissions.auth.tokens import ADMIN_GRANTABLE, TokenError, create_token, revoke_token
from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins
from commissions.core.rendering import page
from commissions.models import ApiToken, Person
from commissions.people.queries import person_by_email


class NewTokenForm(BaseModel):
    name: str = ""
    role: str = ""  # empty: the role of the person it acts as
    as_email: str = ""


def _context(db: DbSession, **extra: object) -> dict:
    rows = db.exec(
        select(ApiToken, Person.email)
        .join(Person, ApiToken.person_id == Person.id, isouter=True)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
    ).all()
    return {"tokens": rows, "roles": ADMIN_GRANTABLE, "form": NewTokenForm(), "error": None, "new_token": None, **extra}


class TokensController(Controller):
    path = "/admin/tokens"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def tokens_page(self, db: DbSession) -> Template:
        return page("pages/admin/tokens.html", _context(db))

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[NewTokenForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        try:
            with transaction(request.app.state["engine"]) as session:
                person = None
                if data.as_email.strip():
                    person = person_by_email(session, data.as_email)
                    if person is None:
                        raise TokenError(f"no person with email {data.as_email.strip().lower()}")
                token, clear = create_token(
                    session, name=data.name, role=data.role, person=person, created_by=principal
                )
        except TokenError as exc:
            return page("pages/admin/tokens.html", _context(db, form=data, error=str(exc)))
        return page("pages/admin/tokens.html", _context(db, new_token={"name": token.name, "value": clear}))

    @post("/{token_id:int}/revoke", sync_to_thread=True)
    def revoke(self, request: Request, principal: CurrentPrincipal, token_id: FromPath[int]) -> Redirect:
        with transaction(request.app.state["engine"]) as session:
            token = session.get(ApiToken, token_id)
            if token is None:
                raise NotFoundException("No such token.")
            revoke_token(session, token, by=principal)
        forget_tokens()  # this process stops honouring it at once (others within principal_cache_seconds)
        return Redirect("/admin/tokens")
