"""Manual adjustments: finance's page and form, and the reverse action (the API is in api.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from commissions.adjustments.queries import active_people, adjustable_periods
from commissions.adjustments.schemas import AdjustmentIn
from commissions.adjustments.service import (
    AdjustmentNotFound,
    book_from_form,
    checked_request_key,
    new_request_key,
    recent_manual_lines,
    reverse_line,
)
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import finance_only
from commissions.core.i18n import gettext as _
from commissions.core.periods import quarter_of
from commissions.core.rendering import page


class AdjustmentsController(Controller):
    path = "/finance/adjustments"
    guards = [finance_only]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def adjustments_page(
        self,
        db: DbSession,
        person: FromQuery[str | None] = None,
        period: FromQuery[str | None] = None,
        saved: FromQuery[str | None] = None,
    ) -> Template:
        context = _context(db, {"person": person or "", "period": period or ""})
        if saved == "reversal":
            context["notice"] = _("Reversed: a reversing line takes the adjustment back; both stay on the statement.")
        return page("pages/adjustments/index.html", context)

    @post("/", sync_to_thread=True, status_code=200)
    def create_form(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        values = {k: str(data.get(k) or "").strip() for k in ("person", "period", "amount", "reason", "deal")}
        request_key = str(data.get("request_key") or "")
        try:
            key = book_from_form(
                request.app.state["engine"],
                principal,
                AdjustmentIn(**values),
                request_key=checked_request_key(request_key, "request_key"),
            )
        except InputProblem as exc:  # Conflict too: a locked period, this form already used for other values
            context = _context(db, values, error=exc, request_key=request_key if exc.field != "request_key" else None)
            return page("pages/adjustments/index.html", context, status_code=exc.status_code)
        # the statement says it was saved (``saved=adjustment``): the new line is there, in its total
        return Redirect(f"/statements/{quote(values['person'].lower())}?period={key}&saved=adjustment", status_code=303)

    @post("/{line_id:int}/reverse", sync_to_thread=True, status_code=200)
    def reverse_form(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        line_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            reverse_line(
                request.app.state["engine"],
                line_id=line_id,
                reason=str(data.get("reason") or ""),
                actor_id=principal.person_id,  # type: ignore[arg-type]
            )
        except AdjustmentNotFound:
            raise
        except InputProblem as exc:
            return page("pages/adjustments/index.html", _context(db, {}, error=exc), status_code=exc.status_code)
        back = str(data.get("back") or "")
        back = back if back.startswith("/") and not back.startswith("//") else "/finance/adjustments"
        back, _hash, fragment = back.partition("#")
        back += ("&" if "?" in back else "?") + "saved=reversal" + (f"#{fragment}" if fragment else "")
        return Redirect(back, status_code=303)


def _context(
    db: Session, values: dict[str, str], *, error: InputProblem | None = None, request_key: str | None = None
) -> dict[str, Any]:
    """The page; ``request_key``: the form's key (a new one unless a refused submission is shown again)."""
    people = active_people(db)
    periods = adjustable_periods(db)
    return {
        "values": {"person": "", "period": "", "amount": "", "reason": "", "deal": "", **values},
        "people": people,
        "periods": periods,
        "default_period": quarter_of(date.today()).key,
        "rows": recent_manual_lines(db),
        "error": error,
        "notice": None,
        "request_key": request_key or new_request_key(),
    }
