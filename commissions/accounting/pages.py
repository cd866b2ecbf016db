"""Finance's accounting page of a period (accruals, amortisation, journal downloads) and the settings page."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from commissions.accounting.entries import ACCOUNT_NAMES
from commissions.accounting.queries import accounting_settings
from commissions.accounting.service import period_accounting, update_settings
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import finance_only, requires_role
from commissions.core.rendering import page, page_or_partial
from commissions.payroll.service import find_period
from commissions.periods.checklist import close_checklist

finance_or_admin = requires_role("finance", "admin")


class AccountingController(Controller):
    include_in_schema = False

    @get("/finance/periods/{key:str}/accounting", guards=[finance_only], sync_to_thread=True)
    def period_page(self, request: Request[Any, Any, Any], db: DbSession, key: FromPath[str]) -> Template:
        """The full page, or (htmx) just its figures."""
        period = find_period(db, key)
        context = {
            "figures": period_accounting(db, period),
            "period": period,
            "checklist": close_checklist(db, period),
        }
        return page_or_partial(request, "pages/accounting/period.html", "partials/accounting/period.html", context)

    @get("/finance/accounting/settings", guards=[finance_or_admin], sync_to_thread=True)
    def settings_page(self, db: DbSession) -> Template:
        return page(
            "pages/accounting/settings.html",
            {"settings": accounting_settings(db), "names": ACCOUNT_NAMES, "error": None},
        )

    @post("/finance/accounting/settings", guards=[finance_or_admin], sync_to_thread=True, status_code=200)
    def save(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Save the account codes and benefit periods (CSRF form); an invalid value re-renders the form with why."""
        try:
            update_settings(request.app.state["engine"], values=data, actor=principal)
        except InputProblem as exc:
            context = {"settings": accounting_settings(db), "names": ACCOUNT_NAMES, "error": str(exc)}
            return page("pages/accounting/settings.html", context, status_code=400)
        return Redirect("/finance/accounting/settings?done=1", status_code=303)
