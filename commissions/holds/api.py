"""``/api/v1/holds`` (finance) and ``POST /api/v1/payments`` (finance, admin)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import finance_only, requires_role
from commissions.core.upserts import UpsertRefused, UpsertReport, check_size
from commissions.holds.queries import STATUSES, HoldRow, find_hold, list_holds
from commissions.holds.schemas import HeldAmountOut, HoldIn, HoldOut, PaymentIn, ReleaseIn
from commissions.holds.service import (
    PaymentItem,
    hold_in_transaction,
    payments_in_transaction,
    release_in_transaction,
)


def hold_out(row: HoldRow) -> HoldOut:
    return HoldOut(
        id=row.id,
        period=row.period,
        deal=row.deal,
        person=row.person,
        reason=row.reason,
        state=row.state,
        created_at=row.created_at,
        release_note=row.release_note,
        released_at=row.released_at,
        payable_period=row.payable_period,
        amounts=[HeldAmountOut(person=a.person, currency=a.currency, amount=a.amount) for a in row.amounts],
    )


class HoldsApiController(Controller):
    path = "/api/v1/holds"
    guards = [finance_only]
    tags = ["holds"]

    @get("/", sync_to_thread=True, summary="Holds, filtered by period and status (held | released)")
    def list_(self, db: DbSession, period: FromQuery[str] = "", status: FromQuery[str] = "") -> list[HoldOut]:
        if status and status not in STATUSES:
            raise InputProblem("status", f"status is one of {', '.join(STATUSES)}, not {status!r}")
        return [hold_out(row) for row in list_holds(db, period=period, status=status)]

    @post("/", sync_to_thread=True, status_code=201, summary="Hold a deal's or a person's commission of an open period")
    def create(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, data: JSONBody[HoldIn]
    ) -> HoldOut:
        hold_id = hold_in_transaction(
            request.app.state["engine"],
            principal,
            period=data.period,
            reason=data.reason,
            deal=data.deal,
            person=data.person,
        )
        return hold_out(find_hold(db, hold_id))

    @post("/{hold_id:int}/release", sync_to_thread=True, status_code=200, summary="Release a hold (with a note)")
    def release(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        hold_id: FromPath[int],
        data: JSONBody[ReleaseIn],
    ) -> HoldOut:
        release_in_transaction(request.app.state["engine"], principal, hold_id=hold_id, note=data.note)
        return hold_out(find_hold(db, hold_id))


class PaymentsApiController(Controller):
    path = "/api/v1/payments"
    guards = [requires_role("finance", "admin")]
    tags = ["payments"]

    @post(
        "/",
        sync_to_thread=True,
        status_code=200,
        summary="Record invoice payments (idempotent by invoice, all or nothing)",
    )
    def record(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: JSONBody[list[PaymentIn]]
    ) -> UpsertReport:
        check_size(list(data))
        items = [PaymentItem(p.invoice, p.deal, p.amount, p.paid_at, p.currency) for p in data]
        try:
            return payments_in_transaction(request.app.state["engine"], principal, items)
        except UpsertRefused as exc:
            raise exc.as_http() from None
