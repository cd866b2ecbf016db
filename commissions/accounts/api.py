"""``GET /api/v1/me``: who the caller is (session or token)."""

from __future__ import annotations

from litestar import Controller, get
from pydantic import BaseModel

from commissions.core.dependencies import CurrentPrincipal
from commissions.core.guards import any_role


class Me(BaseModel):
    email: str | None
    name: str
    role: str
    via_token: bool


class MeController(Controller):
    tags = ["auth"]

    @get("/api/v1/me", guards=[any_role], sync_to_thread=False, summary="The caller: person and role")
    def me(self, principal: CurrentPrincipal) -> Me:
        return Me(email=principal.email, name=principal.name, role=principal.role, via_token=principal.via_token)
