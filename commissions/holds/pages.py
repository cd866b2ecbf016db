"""``/finance/holds``: finance's list of holds (search, filter), the hold form, release buttons, and the
payments CSV import. Full page, or the list alone for an htmx request."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import finance_only
from commissions.core.i18n import N_
from commissions.core.i18n import gettext as _
from commissions.core.rendering import page, page_or_partial
from commissions.core.upserts import UpsertRefused
from commissions.holds.queries import STATUSES, list_holds, recent_payments
from commissions.holds.service import (
    hold_in_transaction,
    payments_from_csv,
    payments_in_transaction,
    release_in_transaction,
)

PAGE = "pages/holds/index.html"
PARTIAL = "partials/holds/list.html"
MAX_UPLOAD = 5 * 1024 * 1024
NOTICES = {
    "held": N_("The hold is in place: the amount is kept out of payroll until released."),
    "released": N_("The hold is released: the amount is payable."),
}


def _context(
    db: Session,
    filters: dict[str, str],
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    try:
        rows = list_holds(db, period=filters["period"], status=filters["status"], search=filters["q"])
    except InputProblem as exc:
        rows, error = [], error or f"{exc.field}: {exc.message}"
    return {
        "rows": rows,
        "filters": filters,
        "statuses": STATUSES,
        "values": {"deal": "", "person": "", "period": "", "reason": "", **(values or {})},
        "payments": recent_payments(db),
        "error": error,
        "notice": notice,
    }


class HoldsController(Controller):
    path = "/finance"
    guards = [finance_only]
    include_in_schema = False

    @get("/holds", sync_to_thread=True)
    def holds_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        period: FromQuery[str] = "",
        status: FromQuery[str] = "",
        q: FromQuery[str] = "",
        done: FromQuery[str] = "",
    ) -> Template:
        filters = {"period": period, "status": status if status in STATUSES else "", "q": q}
        return page_or_partial(
            request, PAGE, PARTIAL, _context(db, filters, notice=_(NOTICES[done]) if done in NOTICES else None)
        )

    @post("/holds", sync_to_thread=True, status_code=200)
    def create_form(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        values = {k: str(data.get(k) or "").strip() for k in ("deal", "person", "period", "reason")}
        try:
            hold_in_transaction(request.app.state["engine"], principal, **values)
        except InputProblem as exc:
            filters = {"period": "", "status": "", "q": ""}
            context = _context(db, filters, values=values, error=_("Not saved: %(message)s") % {"message": exc.message})
            return page(PAGE, context, status_code=exc.status_code)
        return Redirect("/finance/holds?" + urlencode({"done": "held"}), status_code=303)

    @post("/holds/{hold_id:int}/release", sync_to_thread=True, status_code=200)
    def release_form(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        hold_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            release_in_transaction(
                request.app.state["engine"], principal, hold_id=hold_id, note=str(data.get("note") or "")
            )
        except InputProblem as exc:
            context = _context(db, {"period": "", "status": "", "q": ""}, error=f"{exc.field}: {exc.message}")
            return page(PAGE, context, status_code=exc.status_code)
        return Redirect("/finance/holds?" + urlencode({"done": "released"}), status_code=303)

    @post("/payments/import", request_max_body_size=MAX_UPLOAD + 64 * 1024, status_code=200)
    async def import_payments(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal
    ) -> Template:
        """A CSV of ``invoice,deal,amount,currency,paid_at``: all rows or none, errors by line."""
        form = await request.form()
        upload = form.get("file")
        content = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
        engine = request.app.state["engine"]
        error, notice = None, None
        if not content:
            error = _("Choose a CSV file to upload.")
        else:
            try:
                items = payments_from_csv(content.decode("utf-8"))
                report = payments_in_transaction(engine, principal, items)
                notice = _("%(created)s payments recorded, %(unchanged)s already known.") % {
                    "created": report.created,
                    "unchanged": report.unchanged,
                }
            except UnicodeDecodeError:
                error = _("The file is not UTF-8 text.")
            except InputProblem as exc:
                error = f"{exc.field}: {exc.message}"
            except UpsertRefused as exc:
                error = _("Nothing was recorded: %(problems)s") % {
                    "problems": "; ".join(
                        _("line %(line)s, %(field)s: %(message)s")
                        % {"line": p.index + 2, "field": p.field, "message": p.message}
                        for p in exc.problems
                    )
                }
        context = _context(db, {"period": "", "status": "", "q": ""}, error=error, notice=notice)
        return page(PAGE, context, status_code=400 if error else 200)
