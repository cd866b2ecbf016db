"""The lead events API: one delivery, or a CSV file."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Controller, Request, Response, post
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody

from commissions.core.dependencies import CurrentPrincipal
from commissions.core.guards import requires_role
from commissions.deals.uploads import BODY_LIMIT, report_json, uploaded_bytes
from commissions.marketing.csv_import import import_lead_events
from commissions.marketing.schemas import LeadEventIn, LeadEventOut
from commissions.marketing.service import record_one_event

# Lead events come from integrations (the CRM, the marketing automation tool): tokens of
# finance or admin, like the deal import. See docs/metrics.md.
lead_writers = requires_role("finance", "admin")


class MarketingApiController(Controller):
    tags = ["marketing"]

    @post(
        "/api/v1/leads/events",
        guards=[lead_writers],
        sync_to_thread=True,
        summary="Record a lead lifecycle event (idempotent on lead and stage)",
        responses={200: ResponseSpec(LeadEventOut, description="the same event again, or an update of it")},
    )
    def post_event(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: JSONBody[LeadEventIn]
    ) -> Response[LeadEventOut]:
        result, out = record_one_event(request.app.state["engine"], data, by=principal)
        return Response(out, status_code=201 if result.outcome == "created" else 200)

    @post(
        "/api/v1/leads/events/import",
        guards=[lead_writers],
        request_max_body_size=BODY_LIMIT,
        status_code=200,
        summary="Import lead events from CSV: all rows or none",
    )
    async def import_events(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, dry_run: FromQuery[bool] = False
    ) -> dict[str, Any]:
        """CSV columns lead,stage,occurred_at,owner,campaign,name,account,amount,currency; ``dry_run=true`` previews."""
        content = await uploaded_bytes(request)
        engine = request.app.state["engine"]
        report = await to_thread.run_sync(lambda: import_lead_events(engine, content, by=principal, commit=not dry_run))
        body = report_json(report)
        if report.errors:
            raise HTTPException(
                status_code=400,
                detail=f"{len({e.line for e in report.errors})} row(s) have errors: nothing was imported",
                extra=body,
            )
        return body
