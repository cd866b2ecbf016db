"""The deals API: record a deal, list the deals the caller may see, import a CSV file, and the approval queue
for machines and scripts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from pydantic import BaseModel, Field

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import any_role, requires_person, requires_role
from commissions.core.money import from_minor
from commissions.core.paging import MAX_PAGE, BadCursor, next_link
from commissions.deals.approvals import ApprovalNotFound, approve, held_for, reject
from commissions.deals.events import after_deal_recorded
from commissions.deals.queries import deal_cursor, period_filter, read_deal_cursor, visible_deals
from commissions.deals.schemas import DealIn, DealOut, DealSummary
from commissions.deals.service import record_one
from commissions.deals.uploads import BODY_LIMIT, importers, report_json, run_deal_import, uploaded_bytes


class DealsApiController(Controller):
    guards = [any_role]
    tags = ["deals"]

    @post(
        "/api/v1/deals",
        sync_to_thread=True,
        summary="Record a closed deal (idempotent on external_id)",
        responses={
            200: ResponseSpec(DealOut, description="the same deal again, or an update of it"),
            202: ResponseSpec(
                DealOut,
                description="held: the change credits other people and waits for "
                "approval (see /deals/approvals); it pays nobody until then",
            ),
        },
    )
    def post_deal(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: JSONBody[DealIn]
    ) -> Response[DealOut]:
        result, out = record_one(request.app.state["engine"], data, by=principal)
        after_deal_recorded(request.app, result, door="api")
        return Response(out, status_code={"created": 201, "held": 202}.get(result.outcome, 200))

    @get(
        "/api/v1/deals",
        sync_to_thread=True,
        summary="Deals the caller may see (own / team / all by role), newest close first, a page at a time",
        response_headers=[
            ResponseHeader(
                name="Link",
                description='`<...?cursor=...>; rel="next"` while more deals follow (RFC 8288); absent on the last page',
                documentation_only=True,
            ),
            ResponseHeader(
                name="X-Next-Cursor",
                description="the same cursor alone, for ?cursor=; absent on the last page",
                documentation_only=True,
            ),
        ],
    )
    def list_deals(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"deals per page (at most {MAX_PAGE})")] = (
            MAX_PAGE
        ),
        cursor: Annotated[str | None, Parameter(description="from the previous page's Link or X-Next-Cursor")] = None,
    ) -> Response[list[DealSummary]]:
        key = period_filter(period, default_today=False)
        try:
            after = read_deal_cursor(cursor) if cursor else None
        except BadCursor as exc:
            raise ValidationException(str(exc), extra={"cursor": cursor}) from exc
        rows = visible_deals(db, principal, key, limit=limit + 1, after=after)
        page = rows[:limit]
        headers = {}
        if len(rows) > limit:
            following = deal_cursor(page[-1])
            link = next_link(request.url.path, {"period": period, "limit": str(limit)}, following)
            headers = {"Link": link, "X-Next-Cursor": following}
        summaries = [
            DealSummary(
                external_id=row.external_id,
                name=row.name,
                account=row.account,
                owner=row.owner_email,
                amount=str(from_minor(row.amount_minor, row.currency)),
                currency=row.currency,
                closed_at=row.closed_at,
                type=row.type,
                product=row.product,
                status=row.status,
                term_months=row.term_months,
                source_campaign=row.source_campaign,
                cancelled_at=row.cancelled_at,
                splits=[{"person": email, "share": share} for email, share in row.splits],
            )
            for row in page
        ]
        return Response(summaries, headers=headers)


class DealImportApiController(Controller):
    guards = [importers]

    @post(
        "/api/v1/deals/import",
        tags=["deals"],
        request_max_body_size=BODY_LIMIT,
        status_code=200,
        summary="Import deals from CSV (cli.md format): all rows or none",
    )
    async def import_api(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, dry_run: FromQuery[bool] = False
    ) -> dict[str, Any]:
        """Send the CSV as the body (text/csv) or as the multipart field ``file``. ``dry_run=true`` previews."""
        report = await run_deal_import(request, await uploaded_bytes(request), principal, commit=not dry_run)
        if report.errors:
            raise HTTPException(
                status_code=400,
                detail=f"{len({e.line for e in report.errors})} row(s) have errors: nothing was imported",
                extra=report_json(report),
            )
        return report_json(report)


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
    source_campaign: str | None = Field(
        default=None, description="its source campaign: the campaign's owner (a marketer) is credited in full"
    )
    sourced_by: str | None = Field(default=None, description="the email of that campaign's owner")
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
    """The approval queue for machines and scripts: a manager's or finance's token decides, a rep's lists its own."""

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
                source_campaign=h.source_campaign,
                sourced_by=h.sourced_by,
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
    def approve(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, approval_id: FromPath[int]
    ) -> DecisionOut:
        try:
            result = approve(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        after_deal_recorded(request.app, result, door="approval")
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
    def reject(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, approval_id: FromPath[int]
    ) -> DecisionOut:
        try:
            external_id = reject(request.app.state["engine"], approval_id, by=principal)
        except ApprovalNotFound as exc:
            raise NotFoundException() from exc
        return DecisionOut(id=approval_id, external_id=external_id, decision="rejected")
