"""The revenue-marketing dashboard page and its team quota form."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import any_role, managers
from commissions.core.periods import parse_or_current
from commissions.core.rendering import page, page_or_partial
from commissions.marketing.charts import bar_chart
from commissions.marketing.dashboard import (
    DISPLAY,
    MARKETING_QUOTA_METRICS,
    Dashboard,
    dashboard,
)
from commissions.marketing.quotas import team_cells
from commissions.marketing.service import save_team_quotas


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
    include_in_schema = False

    @get("/marketing", guards=[any_role], sync_to_thread=True)
    def dashboard_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        campaign: FromQuery[str | None] = None,
        currency: FromQuery[str | None] = None,
        saved: FromQuery[int | None] = None,
    ) -> Template:
        key = parse_or_current(period)
        cur = (currency or "").strip().upper() or None
        if cur is not None and not re.fullmatch(r"[A-Z]{3}", cur):
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
            "quota_saved": saved,  # the team whose targets were just saved
        }
        return page_or_partial(request, "pages/marketing/dashboard.html", "partials/marketing/figures.html", context)

    @post("/marketing/team-quotas", guards=[managers], sync_to_thread=True, status_code=200)
    def set_team_quotas(
        self,
        request: Request[Any, Any, Any],
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
        targets = {}
        for metric in MARKETING_QUOTA_METRICS:
            version = data.get(f"version_{metric}")
            targets[metric] = (
                data.get(f"target_{metric}", ""),
                int(version) if version and version.isdigit() else None,
            )
        try:
            save_team_quotas(request.app.state["engine"], principal, team_id=team_id, key=key, targets=targets)
        except InputProblem as exc:  # includes a conflict (409) and a locked period (409)
            settings = request.app.state["settings"]
            board = dashboard(db, key, churn_percent=settings.marketing_monthly_churn_percent)
            context = {
                "board": board,
                "f": board.figures,
                "fmt": DISPLAY,
                **charts(board),
                "team_quotas": team_cells(db, principal, key),
                "quota_error": {"team_id": team_id, "field": exc.field, "message": exc.message, "typed": data},
            }
            return page("pages/marketing/dashboard.html", context, status_code=exc.status_code)
        return Redirect(f"/marketing?period={key.key}&saved={team_id}#team-quotas", status_code=303)
