"""The approval queue's page: held deal changes, approved or rejected by managers and finance."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from commissions.auth.guards import requires_person, requires_role
from commissions.deals.approvals import ApprovalNotFound, approve, held_for, reject
from commissions.deals.events import after_deal_recorded
from commissions.web.dependencies import CurrentPrincipal, DbSession
from commissions.web.rendering import page

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
RETURN_TO = {"/", "/deals/approvals"}


def _back(data: dict[str, Any], done: str) -> Redirect:
    target = str(data.get("next") or "/deals/approvals")
    target = target if target in RETURN_TO else "/deals/approvals"
    return Redirect(f"{target}?{done}", status_code=303)


class DealApprovalsController(Controller):
    path = "/deals/approvals"
    guards = [requires_role("rep", "manager", "finance"), requires_person]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def queue(self, db: DbSession, principal: CurrentPrincipal, approved: FromQuery[str | None] = None,
              rejected: FromQuery[str | None] = None, held: FromQuery[str | None] = None) -> Template:
        return page("pages/deals/approvals.html", {"held": held_for(db, principal), "approved": approved,
                                                   "rejected": rejected, "held_new": held})

    @post("/{approval_id:int}/approve", guards=[requires_role("manager", "finance")], sync_to_thread=True)
    def approve(self, request: Request, principal: CurrentPrincipal, approval_id: FromPath[int],
                data: FormData) -> Redirect:
        try:
            result = approve(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        after_deal_recorded(request.app, result)
        return _back(data, f"approved={result.deal.external_id if result.deal else ''}")

    @post("/{approval_id:int}/reject", guards=[requires_role("manager", "finance")], sync_to_thread=True)
    def reject(self, request: Request, principal: CurrentPrincipal, approval_id: FromPath[int],
               data: FormData) -> Redirect:
        try:
            external_id = reject(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        return _back(data, f"rejected={external_id}")
