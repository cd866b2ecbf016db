"""The approval queue: held deal changes, approved or rejected by managers and finance (page and API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import requires_person, requires_role
from commissions.core.money import from_minor
from commissions.core.rendering import page
from commissions.deals.approvals import ApprovalNotFound, approve, held_for, reject
from commissions.deals.events import after_deal_recorded

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
    def queue(
        self,
        db: DbSession,
        principal: CurrentPrincipal,
        approved: FromQuery[str | None] = None,
        rejected: FromQuery[str | None] = None,
        held: FromQuery[str | None] = None,
    ) -> Template:
        return page(
            "pages/deals/approvals.html",
            {"held": held_for(db, principal), "approved": approved, "rejected": rejected, "held_new": held},
        )

    @post("/{approval_id:int}/approve", guards=[requires_role("manager", "finance")], sync_to_thread=True)
    def approve(
        self, request: Request, principal: CurrentPrincipal, approval_id: FromPath[int], data: FormData
    ) -> Redirect:
        try:
            result = approve(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        after_deal_recorded(request.app, result)
        return _back(data, f"approved={result.deal.external_id if result.deal else ''}")

    @post("/{approval_id:int}/reject", guards=[requires_role("manager", "finance")], sync_to_thread=True)
    def reject(
        self, request: Request, principal: CurrentPrincipal, approval_id: FromPath[int], data: FormData
    ) -> Redirect:
        try:
            external_id = reject(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        return _back(data, f"rejected={external_id}")


class HeldOut(BaseModel):
    """A held deal change as the approvals API shows it (amounts as strings in the deal's currency)."""

    id: int
    external_id: str
    name: str
    owner: str
    amount: str
    currency: str
    closed_at: date
    status: str
    splits: list[dict[str, str]]
    requested_by: str
    requested_at: datetime
    change_of_existing_deal: bool
    may_decide: bool


class DecisionOut(BaseModel):
    id: int
    external_id: str
    decision: str  # approved | rejected
    outcome: str | None = None  # of the deal write, for an approval: created | updated | unchanged


class DealApprovalsApiController(Controller):
    """The same queue for machines and scripts: a manager's or finance's token decides, a rep's lists its own."""

    path = "/api/v1/deals/approvals"
    guards = [requires_role("rep", "manager", "finance"), requires_person]
    tags = ["deals"]

    @get("/", sync_to_thread=True, summary="Held deal changes the caller may decide, and their own requests")
    def list_held(self, db: DbSession, principal: CurrentPrincipal) -> list[HeldOut]:
        return [
            HeldOut(
                id=h.id,
                external_id=h.external_id,
                name=h.name,
                owner=h.owner,
                amount=str(from_minor(h.amount_minor, h.currency)),
                currency=h.currency,
                closed_at=h.closed_at,
                status=h.status,
                splits=[{"person": person, "share": str(share)} for person, share in h.splits],
                requested_by=h.requested_by,
                requested_at=h.requested_at,
                change_of_existing_deal=h.is_change,
                may_decide=h.may_decide,
            )
            for h in held_for(db, principal)
        ]

    @post(
        "/{approval_id:int}/approve",
        guards=[requires_role("manager", "finance")],
        sync_to_thread=True,
        status_code=200,
        summary="Apply a held change as its requester entered it (404 if not yours to decide)",
    )
    def approve(self, request: Request, principal: CurrentPrincipal, approval_id: FromPath[int]) -> DecisionOut:
        try:
            result = approve(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        after_deal_recorded(request.app, result)
        return DecisionOut(
            id=approval_id,
            external_id=result.deal.external_id if result.deal else "",
            decision="approved",
            outcome=result.outcome,
        )

    @post(
        "/{approval_id:int}/reject",
        guards=[requires_role("manager", "finance")],
        sync_to_thread=True,
        status_code=200,
        summary="Drop a held change (it never paid anyone; 404 if not yours to decide)",
    )
    def reject(self, request: Request, principal: CurrentPrincipal, approval_id: FromPath[int]) -> DecisionOut:
        try:
            external_id = reject(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        return DecisionOut(id=approval_id, external_id=external_id, decision="rejected")
