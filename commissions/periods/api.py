"""``GET /api/v1/periods/{p}`` and ``POST /api/v1/periods/{p}/approve|lock|pay``: finance's bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, Parameter
from litestar.response import Response

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import finance_only
from commissions.core.paging import MAX_PAGE, next_link, paging_headers
from commissions.core.periods import get_period
from commissions.periods.queries import people_cursor, period_out, read_people_cursor
from commissions.periods.schemas import PeriodOut
from commissions.periods.service import take_step
from commissions.periods.workflow import period_totals, period_totals_page


class PeriodsApiController(Controller):
    """``POST /api/v1/periods/{period}/approve|lock|pay``: finance's bearer token; wrong order is 409."""

    path = "/api/v1/periods"
    guards = [finance_only]
    tags = ["periods"]

    @get(
        "/{period:str}",
        sync_to_thread=True,
        summary="A period's state and totals per person and component (finance)",
        description=(
            "Without `limit` and `cursor` every person comes at once, as it always did. With either, `totals` and "
            "`components` are still the whole period's, `people` one page of them by name, and `next_cursor` "
            '(also in a `Link: <...>; rel="next"` header and `X-Next-Cursor`) gives the next page until it is null.'
        ),
        response_headers=paging_headers("people"),
    )
    def show(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        period: FromPath[str],
        limit: Annotated[
            int | None,
            Parameter(ge=1, le=MAX_PAGE, description=f"people per page (1-{MAX_PAGE}); without it and `cursor`, all"),
        ] = None,
        cursor: Annotated[
            str | None, Parameter(description="`next_cursor` of the previous page (opaque; keyset on name and id)")
        ] = None,
    ) -> Response[PeriodOut]:
        row = get_period(db, period)
        if limit is None and cursor is None:
            return Response(period_out(db, row, period_totals(db, row)))
        totals, last = period_totals_page(
            db, row, limit=limit or MAX_PAGE, after=read_people_cursor(cursor) if cursor else None
        )
        out = period_out(db, row, totals)
        headers: dict[str, str] = {}
        if last is not None:
            out.next_cursor = people_cursor(*last)
            query = {"limit": str(limit) if limit else None}
            headers = {"Link": next_link(request.url.path, query, out.next_cursor), "X-Next-Cursor": out.next_cursor}
        return Response(out, headers=headers)

    @post(
        "/{period:str}/approve",
        sync_to_thread=True,
        status_code=200,
        summary="Approve the computed payouts (open → approved)",
    )
    def approve(self, request: Request[Any, Any, Any], principal: CurrentPrincipal, period: FromPath[str]) -> PeriodOut:
        return take_step(request.app.state["engine"], key=period, action="approve", actor=principal)

    @post(
        "/{period:str}/lock",
        sync_to_thread=True,
        status_code=200,
        summary="Lock: nothing in the period changes any more (approved → locked)",
        description=(
            "With the close checklist clear (no open disputes, no statements pending recompute, nobody with "
            "calculation errors, no holds) it locks as always. With open items it answers 409 naming them, "
            "unless `override_reason` is given: then it locks and the audit event `period.lock_overridden` "
            "records the items and the reason."
        ),
    )
    def lock(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        period: FromPath[str],
        override_reason: Annotated[
            str | None,
            Parameter(max_length=1000, description="why the period is locked with open items on its close checklist"),
        ] = None,
    ) -> PeriodOut:
        return take_step(
            request.app.state["engine"], key=period, action="lock", actor=principal, override_reason=override_reason
        )

    @post(
        "/{period:str}/pay",
        sync_to_thread=True,
        status_code=200,
        summary="Mark the period paid by payroll (locked → paid)",
    )
    def pay(self, request: Request[Any, Any, Any], principal: CurrentPrincipal, period: FromPath[str]) -> PeriodOut:
        return take_step(request.app.state["engine"], key=period, action="pay", actor=principal)
