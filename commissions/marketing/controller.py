"""The revenue-marketing dashboard page and the lead events API (one delivery, or a CSV file)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromQuery, JSONBody
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError, OperationalError

from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import any_role, managers, requires_role
from commissions.core.periods import parse_or_current
from commissions.core.rendering import page, page_or_partial
from commissions.deals.import_controller import BODY_LIMIT, _uploaded_bytes, report_json
from commissions.marketing.charts import bar_chart
from commissions.marketing.csv_import import import_lead_events
from commissions.marketing.dashboard import DISPLAY, MARKETING_QUOTA_METRICS, Dashboard, dashboard
from commissions.marketing.ingest import event_out, queue_recompute, record_lead_event
from commissions.marketing.quotas import set_team_quota, team_cells
from commissions.marketing.schemas import LeadEventIn, LeadEventOut

# Lead events come from integrations (the CRM, the marketing automation tool): tokens of
# finance or admin, like the deal import. See docs/metrics.md.
lead_writers = requires_role("finance", "admin")
ATTEMPTS = 3


def charts(board: Dashboard) -> dict[str, Any]:
    f, cur = board.figures, board.currency
    funnel = bar_chart(
        "Funnel",
        [
            ("MQLs", f.mqls, str(f.mqls), "bar-mql"),
            ("SQLs", f.sqls, str(f.sqls), "bar-sql"),
            ("Opportunities", f.opportunities, str(f.opportunities), "bar-opp"),
            ("Won", f.won_customers, str(f.won_customers), "bar-won"),
        ],
    )
    quota = board.quotas.get("sourced_revenue")
    forecast = bar_chart(
        "Forecast against quota",
        [
            ("Closed so far", f.revenue, f"{f.revenue:,.2f} {cur}", "bar-won"),
            ("Forecast", f.forecast, f"{f.forecast:,.2f} {cur}", "bar-forecast"),
        ],
        marker=quota,
        marker_label=f"quota {quota:,.2f}" if quota is not None else "",
    )
    return {"funnel": funnel, "forecast_chart": forecast}


class MarketingController(Controller):
    tags = ["marketing"]

    @get("/marketing", guards=[any_role], include_in_schema=False, sync_to_thread=True)
    def dashboard_page(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        campaign: FromQuery[str | None] = None,
        currency: FromQuery[str | None] = None,
    ) -> Template:
        key = parse_or_current(period)
        cur = (currency or "USD").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", cur):
            raise InputProblem("currency", "write a three-letter currency code, e.g. USD")
        settings = request.app.state["settings"]
        board = dashboard(
            db,
            key,
            campaign_code=(campaign or "").strip() or None,
            currency=cur,
            churn_percent=settings.marketing_monthly_churn_percent,
        )
        context = {
            "board": board,
            "f": board.figures,
            "fmt": DISPLAY,
            **charts(board),
            "team_quotas": team_cells(db, principal, key),
            "quota_error": None,
        }
        return page_or_partial(request, "pages/marketing/dashboard.html", "partials/marketing/figures.html", context)

    @post("/marketing/team-quotas", guards=[managers], include_in_schema=False, sync_to_thread=True, status_code=200)
    def set_team_quotas(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """The team quota form: the four targets of one team in one period, all or nothing."""
        key = parse_or_current(data.get("period"))
        try:
            team_id = int(data.get("team_id", ""))
        except ValueError:
            raise InputProblem("team_id", "choose a marketing team") from None
        try:
            with transaction(request.app.state["engine"]) as session:
                for metric in MARKETING_QUOTA_METRICS:
                    version = data.get(f"version_{metric}")
                    set_team_quota(
                        session,
                        principal,
                        team_id=team_id,
                        metric=metric,
                        key=key,
                        target=data.get(f"target_{metric}", ""),
                        version=int(version) if version and version.isdigit() else None,
                    )
        except InputProblem as exc:  # includes a conflict (409) and a locked period (409)
            settings = request.app.state["settings"]
            board = dashboard(db, key, churn_percent=settings.marketing_monthly_churn_percent)
            context = {
                "board": board,
                "f": board.figures,
                "fmt": DISPLAY,
                **charts(board),
                "team_quotas": team_cells(db, principal, key),
                "quota_error": {"team_id": team_id, "field": exc.field, "message": exc.message},
            }
            return page("pages/marketing/dashboard.html", context, status_code=exc.status_code)
        return Redirect(f"/marketing?period={key.key}#team-quotas", status_code=303)

    @post(
        "/api/v1/leads/events",
        guards=[lead_writers],
        sync_to_thread=True,
        summary="Record a lead lifecycle event (idempotent on lead and stage)",
        responses={200: ResponseSpec(LeadEventOut, description="the same event again, or an update of it")},
    )
    def post_event(
        self, request: Request, principal: CurrentPrincipal, data: JSONBody[LeadEventIn]
    ) -> Response[LeadEventOut]:
        for attempt in range(ATTEMPTS):
            try:
                with transaction(request.app.state["engine"]) as session:
                    result = record_lead_event(session, data, by=principal)
                    if result.outcome != "unchanged":
                        queue_recompute(session, result.people, result.days)
                    out = event_out(session, result)
                return Response(out, status_code=201 if result.outcome == "created" else 200)
            except (IntegrityError, OperationalError):  # a concurrent identical delivery won the race: retry
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    @post(
        "/api/v1/leads/events/import",
        guards=[lead_writers],
        request_max_body_size=BODY_LIMIT,
        status_code=200,
        summary="Import lead events from CSV: all rows or none",
    )
    async def import_events(
        self, request: Request, principal: CurrentPrincipal, dry_run: FromQuery[bool] = False
    ) -> dict[str, Any]:
        """CSV columns lead,stage,occurred_at,owner,campaign,name,account,amount,currency; ``dry_run=true`` previews."""
        content = await _uploaded_bytes(request)
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
