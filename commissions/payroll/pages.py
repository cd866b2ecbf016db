"""Finance's dashboard page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import finance_only
from commissions.core.rendering import page, page_or_partial
from commissions.disputes.service import list_disputes
from commissions.payroll.dashboard import default_period, period_dashboard, periods_newest_first
from commissions.payroll.service import find_period


class PayrollController(Controller):
    guards = [finance_only]

    @get("/finance", include_in_schema=False, sync_to_thread=True)
    def dashboard(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
    ) -> Template:
        chosen = find_period(db, period) if period else default_period(db)
        context = {
            "periods": periods_newest_first(db),
            "period": chosen,
            "board": period_dashboard(db, chosen) if chosen else None,
            "disputes": list_disputes(db, principal, unresolved_only=True),
        }
        return page_or_partial(request, "pages/finance/dashboard.html", "partials/finance/figures.html", context)

    @get("/finance/periods/{key:str}/payroll", include_in_schema=False, sync_to_thread=True)
    def period_payroll(self, request: Request[Any, Any, Any], db: DbSession, key: FromPath[str]) -> Template | Redirect:
        """What payroll pays for the period beside what its statements add up to, for the period's approval page
        (loaded into it: the periods area sits below payroll and holds, which decide what is paid). A page
        without JavaScript follows its link to the dashboard instead."""
        if not getattr(request, "htmx", False):
            return Redirect(f"/finance?period={quote(key)}", status_code=303)
        return page("partials/finance/period_payroll.html", {"board": period_dashboard(db, find_period(db, key))})
