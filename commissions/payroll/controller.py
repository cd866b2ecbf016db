"""The payroll export API (CSV, XLSX) and finance's dashboard page."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlmodel import select

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import finance_only
from commissions.core.rendering import page_or_partial
from commissions.disputes.service import list_disputes
from commissions.models import Period
from commissions.payroll.dashboard import default_period, period_dashboard
from commissions.payroll.service import export_filename, find_period, payout_rows, to_csv, to_xlsx

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class PayrollController(Controller):
    guards = [finance_only]

    @get(
        "/api/v1/payouts/{filename:str}",
        tags=["payouts"],
        sync_to_thread=True,
        summary="Payroll export of a period: /api/v1/payouts/2026-Q1.csv or .xlsx (finance)",
        description="Columns employee_id,email,name,period,currency,earned,adjustments,clawbacks,draw,net_payable,"
        "plan,status; one row per person and currency; byte-identical while the period's data is unchanged.",
    )
    def export(self, db: DbSession, filename: FromPath[str]) -> Response[bytes]:
        key, dot, extension = filename.rpartition(".")
        if not dot or extension not in MEDIA_TYPES:
            raise NotFoundException("Exports are /api/v1/payouts/{period}.csv or .xlsx.")
        period = find_period(db, key)
        rows = payout_rows(db, period)
        content = to_csv(rows) if extension == "csv" else to_xlsx(period, rows)
        return Response(
            content=content,
            media_type=MEDIA_TYPES[extension],
            headers={
                "Content-Disposition": f'attachment; filename="{export_filename(period, extension)}"',
                "Cache-Control": "no-store",
            },
        )

    @get("/finance", include_in_schema=False, sync_to_thread=True)
    def dashboard(
        self, request: Request, db: DbSession, principal: CurrentPrincipal, period: FromQuery[str | None] = None
    ) -> Template:
        chosen = find_period(db, period) if period else default_period(db)
        context = {
            "periods": db.exec(select(Period).order_by(Period.ends_on.desc())).all(),
            "period": chosen,
            "board": period_dashboard(db, chosen) if chosen else None,
            "disputes": list_disputes(db, principal, unresolved_only=True),
        }
        return page_or_partial(request, "pages/finance/dashboard.html", "partials/finance/figures.html", context)
