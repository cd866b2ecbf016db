"""The payroll export API (CSV, XLSX)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from commissions.core.dependencies import DbSession
from commissions.core.guards import finance_only
from commissions.payroll.service import export_filename, find_period, payout_rows, to_csv, to_xlsx

MEDIA_TYPES = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to every text/ type
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class PayrollApiController(Controller):
    guards = [finance_only]

    @get(
        "/api/v1/payouts/{filename:str}",
        tags=["payouts"],
        sync_to_thread=True,
        summary="Payroll export of a period: /api/v1/payouts/2026-Q1.csv or .xlsx (finance)",
        description="Columns employee_id,email,name,period,currency,earned,adjustments,clawbacks,draw,net_payable,"
        "plan,status; one row per person and currency; byte-identical while the period's data is unchanged. "
        "When someone is paid in another currency than their plan's (their payment currency), four columns follow: "
        "payment_currency,net_payable_in_payment_currency,exchange_rate,rate_date (the rate in force on the "
        "period's last day); 409 naming the person and the pair when no rate converts it.",
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
