"""``GET /api/v1/periods/{p}`` and ``POST /api/v1/periods/{p}/approve|lock|pay``: finance's bearer token."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import finance_only
from commissions.core.periods import get_period
from commissions.periods.queries import period_out
from commissions.periods.schemas import PeriodOut
from commissions.periods.service import take_step
from commissions.periods.workflow import period_totals


class PeriodsApiController(Controller):
    """``POST /api/v1/periods/{period}/approve|lock|pay``: finance's bearer token; wrong order is 409."""

    path = "/api/v1/periods"
    guards = [finance_only]
    tags = ["periods"]

    @get("/{period:str}", sync_to_thread=True, summary="A period's state and totals per person and component (finance)")
    def show(self, db: DbSession, period: FromPath[str]) -> PeriodOut:
        row = get_period(db, period)
        return period_out(db, row, period_totals(db, row))

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
    )
    def lock(self, request: Request[Any, Any, Any], principal: CurrentPrincipal, period: FromPath[str]) -> PeriodOut:
        return take_step(request.app.state["engine"], key=period, action="lock", actor=principal)

    @post(
        "/{period:str}/pay",
        sync_to_thread=True,
        status_code=200,
        summary="Mark the period paid by payroll (locked → paid)",
    )
    def pay(self, request: Request[Any, Any, Any], principal: CurrentPrincipal, period: FromPath[str]) -> PeriodOut:
        return take_step(request.app.state["engine"], key=period, action="pay", actor=principal)
