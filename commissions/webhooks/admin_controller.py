"""Admin page for CRM webhook integrations: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import col, select

from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import admins
from commissions.core.rendering import page
from commissions.models import WebhookIntegration
from commissions.webhooks.service import create_integration, revoke_integration


class NewWebhookForm(BaseModel):
    name: str = ""


def _context(db: DbSession, **extra: object) -> dict:
    rows = db.exec(
        select(WebhookIntegration).order_by(
            col(WebhookIntegration.revoked_at).is_not(None), col(WebhookIntegration.name)
        )
    ).all()
    return {"integrations": rows, "form": NewWebhookForm(), "error": None, "created": None, **extra}


class WebhooksAdminController(Controller):
    path = "/admin/webhooks"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def webhooks_page(self, db: DbSession) -> Template:
        return page("pages/admin/webhooks.html", _context(db))

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[NewWebhookForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        try:
            with transaction(request.app.state["engine"]) as session:
                row, secret = create_integration(
                    session, name=data.name, secret_key=request.app.state["settings"].secret_key, by=principal
                )
                created = {"name": row.name, "secret": secret}
        except InputProblem as exc:
            return page("pages/admin/webhooks.html", _context(db, form=data, error=exc.message), status_code=400)
        return page("pages/admin/webhooks.html", _context(db, created=created))

    @post("/{integration_id:int}/revoke", sync_to_thread=True)
    def revoke(self, request: Request, principal: CurrentPrincipal, integration_id: FromPath[int]) -> Redirect:
        with transaction(request.app.state["engine"]) as session:
            row = session.get(WebhookIntegration, integration_id)
            if row is None:
                raise NotFoundException("No such webhook.")
            revoke_integration(session, row.name, by=principal)
        return Redirect("/admin/webhooks")
