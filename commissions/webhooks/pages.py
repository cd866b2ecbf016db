"""Admin page for CRM webhook integrations: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import admins
from commissions.core.rendering import page
from commissions.webhooks.service import add_integration, integrations, revoke_by_id


class NewWebhookForm(BaseModel):
    name: str = ""
    format: str = "standard"  # standard, hubspot or salesforce (docs/integrations-crm.md)
    mapping: str = ""  # JSON over the format's default mapping


def _context(db: Session, **extra: object) -> dict[str, object]:
    return {"integrations": integrations(db), "form": NewWebhookForm(), "error": None, "created": None, **extra}


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
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[NewWebhookForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        try:
            name, secret = add_integration(
                request.app.state["engine"],
                name=data.name,
                secret_key=request.app.state["settings"].secret_key,
                by=principal,
                fmt=data.format,
                mapping=data.mapping,
            )
        except InputProblem as exc:
            return page("pages/admin/webhooks.html", _context(db, form=data, error=exc.message), status_code=400)
        return page("pages/admin/webhooks.html", _context(db, created={"name": name, "secret": secret}))

    @post("/{integration_id:int}/revoke", sync_to_thread=True)
    def revoke(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, integration_id: FromPath[int]
    ) -> Redirect:
        if not revoke_by_id(request.app.state["engine"], integration_id, by=principal):
            raise NotFoundException("No such webhook.")
        return Redirect("/admin/webhooks")
